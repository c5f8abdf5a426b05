"""Coverage of the provenance engine on the hand-labelled corpus in tests/corpus.

For every script or notebook in the corpus, runs ``flock_nbext.analysis.lineage_of(path)``
and compares what it finds with the hand-written ``<name>.expected.json`` beside the case
(format and labelling rules: tests/corpus/README.md). Prints one row per category with the
share of expected items the engine got right, and writes everything to
``benchmarks/results/provenance_eval.json``.

    python benchmarks/provenance_eval.py [--verbose] [--quick] [--category NAME] [--corpus DIR]

Dimensions (each counted as hits / expected items):

- models: expected models matched to a found model by (class, fit_line), else by (var, fit_line);
- hyperparameters: matched model with an equal hyperparameter dict (numbers normalised);
- data_sources: expected source found with the same kind and source text (whitespace-normalised);
- training_sources: matched model whose training sources (ids resolved through the engine's
  data_sources) are the expected set of source strings;
- features: matched model whose feature set has the same form and the same set of columns
  (engine columns read back through its ``derived_from``; a column list and an all_except agree
  when the training sources' columns are known);
- label: matched model with the expected label;
- metrics: expected metric found at the same function and line, evaluating the same models;
- sql_columns (informational): expected SQL source found with the same tables and columns.

A case whose analysis raises counts as all-missed; the error is printed. The exit status is 0.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO_ROOT / "tests" / "corpus"
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "provenance_eval.json"
CASE_SUFFIXES = (".py", ".ipynb")
DIMENSIONS = (
    "models",
    "hyperparameters",
    "data_sources",
    "training_sources",
    "features",
    "label",
    "metrics",
    "sql_columns",
)
_POSITIONAL_SUFFIXES = (".values", ".to_numpy()")


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------


def norm_text(text: object) -> str:
    """Collapse every run of whitespace to one space, so reformatted query text compares equal."""
    return re.sub(r"\s+", " ", str(text)).strip()


def norm_code(text: str) -> str:
    """Source text of an expression as ast.unparse writes it (quotes, spacing, 1e-3 -> 0.001)."""
    try:
        return ast.unparse(ast.parse(text.strip(), mode="eval"))
    except (SyntaxError, ValueError):
        return norm_text(text)


def norm_value(value: object) -> object:
    """A hyperparameter value in a comparable form.

    Numbers become floats rounded to 12 significant digits (so 8 == 8.0 and 0.1 * 3 == 0.3),
    bools stay bools, tuples become lists, strings are compared as normalised code text.
    """
    if isinstance(value, bool):
        return ("bool", value)  # True == 1 in Python; a flag is not a count
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(f"{value:.12g}")
    if isinstance(value, str):
        return norm_code(value)
    if isinstance(value, (list, tuple)):
        return [norm_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): norm_value(v) for k, v in value.items()}
    return norm_text(value)


def norm_positional(text: object) -> str:
    """A positional selection as code: re-unparsed when it parses, without .values, no whitespace."""
    code = str(text).strip()
    for suffix in _POSITIONAL_SUFFIXES:
        if code.endswith(suffix):
            code = code[: -len(suffix)]
    try:
        code = ast.unparse(ast.parse(code, mode="eval"))
    except SyntaxError:
        pass
    return re.sub(r"\s+", "", code)


FEATURE_FORMS = ("columns", "all_except", "positional", "unknown")


def norm_features(features: object) -> tuple | None:
    """A feature description as (form, comparable value); None when it is missing or malformed.

    Keys other than the form are ignored, except ``derived_from`` ({column: [source columns]}):
    the expected files name source columns, so derived columns are replaced by their origins.
    """
    if not isinstance(features, dict):
        return None
    forms = [f for f in FEATURE_FORMS if f in features]
    if len(forms) != 1:
        return None
    form, value = forms[0], features[forms[0]]
    if form in ("columns", "all_except"):
        if not isinstance(value, (list, tuple)):
            return None
        derived = features.get("derived_from") if form == "columns" else None
        names: set[str] = set()
        for col in value:
            origins = derived.get(col) if isinstance(derived, dict) else None
            if isinstance(origins, (list, tuple)) and origins:
                names.update(str(o) for o in origins)
            else:
                names.add(str(col))
        return (form, frozenset(names))
    if form == "positional":
        return (form, norm_positional(value))
    return (form, None)


def same_features(want: tuple | None, got: tuple | None, universe: frozenset | None) -> bool:
    """Equal feature sets; an all_except and a column list agree when the source columns are known."""
    if want is None or got is None:
        return False
    if want == got:
        return True
    if universe and {want[0], got[0]} == {"columns", "all_except"}:
        as_cols = [v if f == "columns" else universe - v for f, v in (want, got)]
        return as_cols[0] == as_cols[1]
    return False


def known_columns(expected: dict, model: dict) -> frozenset | None:
    """Union of the expected columns of a model's training sources, or None if any is unknown."""
    by_source = {norm_text(ds["source"]): ds.get("columns") or [] for ds in expected.get("data_sources", [])}
    universe: set[str] = set()
    for src in model.get("training_data", {}).get("sources", []):
        cols = by_source.get(norm_text(src))
        if not cols:
            return None
        universe.update(cols)
    return frozenset(universe) or None


def norm_label(label: object) -> object:
    """A label as a column name, ('positional', code) or None."""
    if label is None or isinstance(label, str):
        return label
    if isinstance(label, dict) and "positional" in label:
        return ("positional", norm_positional(label["positional"]))
    if isinstance(label, dict) and "column" in label:
        return label["column"]
    return ("malformed", json.dumps(label, sort_keys=True, default=str))


def _lower_set(items: Iterable[object] | None) -> frozenset:
    return frozenset(norm_text(i).lower() for i in (items or ()))


# ---------------------------------------------------------------------------
# Matching one case
# ---------------------------------------------------------------------------


def match_models(expected: list[dict], found: list[dict]) -> dict[int, int]:
    """Expected model index -> found model index, by (class, fit_line), then by (var, fit_line).

    Each found model is used at most once; expected models are matched in order, all
    class matches before any var match, so a loop that fits two classes at one line pairs up.
    """
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for key in (("class", "fit_line"), ("var", "fit_line")):
        for ei, em in enumerate(expected):
            if ei in pairs:
                continue
            for fi, fm in enumerate(found):
                if fi in used:
                    continue
                if all(em.get(k) is not None and em.get(k) == fm.get(k) for k in key):
                    pairs[ei] = fi
                    used.add(fi)
                    break
    return pairs


def _source_strings(found: dict) -> dict[str, str]:
    """Engine source id -> normalised source text."""
    return {
        str(ds.get("id")): norm_text(ds.get("source", ""))
        for ds in found.get("data_sources", []) or []
        if isinstance(ds, dict) and ds.get("id") is not None
    }


def _found_training_sources(model: dict, ids: dict[str, str]) -> frozenset:
    sources = ((model.get("training_data") or {}).get("sources")) or []
    return frozenset(ids.get(str(s), norm_text(s)) for s in sources)


def _metric_model_ids(metric: dict) -> list[str]:
    ids = []
    if metric.get("model") is not None:
        ids.append(str(metric["model"]))
    for m in metric.get("models") or []:
        if m is not None:
            ids.append(str(m))
    return ids


def expected_model_refs(expected_models: list[dict], metric: dict) -> frozenset:
    """Indices of the expected models a metric names by (var, fit_line)."""
    refs = set()
    for var, line in zip(metric.get("model_vars", []), metric.get("model_fit_lines", []), strict=False):
        refs.update(
            i for i, m in enumerate(expected_models) if m.get("var") == var and m.get("fit_line") == line
        )
    return frozenset(refs)


def compare_case(expected: dict, found: dict) -> dict:
    """Score one case: {dimension: [hits, total]} plus a list of human-readable misses."""
    exp_models = expected.get("models", [])
    exp_sources = expected.get("data_sources", [])
    exp_metrics = expected.get("metrics", [])
    found_models = [m for m in found.get("models", []) or [] if isinstance(m, dict)]
    found_sources = [s for s in found.get("data_sources", []) or [] if isinstance(s, dict)]
    found_metrics = [m for m in found.get("metrics", []) or [] if isinstance(m, dict)]

    counts = {d: [0, 0] for d in DIMENSIONS}
    misses: list[str] = []

    def tally(dim: str, ok: bool, what: str) -> None:
        counts[dim][1] += 1
        if ok:
            counts[dim][0] += 1
        else:
            misses.append(f"{dim}: {what}")

    # data sources
    found_keys = {(s.get("kind"), norm_text(s.get("source", ""))): s for s in found_sources}
    for es in exp_sources:
        key = (es["kind"], norm_text(es["source"]))
        hit = found_keys.get(key)
        tally("data_sources", hit is not None, f"{es['kind']} {key[1]!r} not found")
        if es["kind"] == "sql":
            ok = (
                hit is not None
                and _lower_set(hit.get("tables")) == _lower_set(es.get("tables"))
                and _lower_set(hit.get("columns")) == _lower_set(es.get("columns"))
            )
            got = None if hit is None else (hit.get("tables"), hit.get("columns"))
            tally(
                "sql_columns", ok, f"{key[1][:60]!r}: want {es.get('tables')}/{es.get('columns')}, got {got}"
            )

    # models and what hangs off them
    pairs = match_models(exp_models, found_models)
    ids = _source_strings(found)
    for ei, em in enumerate(exp_models):
        name = f"{em['var']} {em['class']} @{em['fit_line']}"
        fm = found_models[pairs[ei]] if ei in pairs else None
        tally("models", fm is not None, f"{name} not found")
        if fm is None:
            for dim in ("hyperparameters", "training_sources", "features", "label"):
                tally(dim, False, f"{name}: model not found")
            continue
        want_hp = norm_value(em.get("hyperparameters", {}))
        got_hp = norm_value(fm.get("hyperparameters") or {})
        tally("hyperparameters", want_hp == got_hp, f"{name}: want {want_hp}, got {got_hp}")
        etd = em.get("training_data", {})
        ftd = fm.get("training_data") or {}
        want_src = frozenset(norm_text(s) for s in etd.get("sources", []))
        got_src = _found_training_sources(fm, ids)
        tally(
            "training_sources", want_src == got_src, f"{name}: want {sorted(want_src)}, got {sorted(got_src)}"
        )
        want_f, got_f = norm_features(etd.get("features")), norm_features(ftd.get("features"))
        tally(
            "features",
            same_features(want_f, got_f, known_columns(expected, em)),
            f"{name}: want {etd.get('features')}, got {ftd.get('features')}",
        )
        want_l, got_l = norm_label(etd.get("label")), norm_label(ftd.get("label"))
        tally("label", want_l == got_l, f"{name}: want {etd.get('label')!r}, got {ftd.get('label')!r}")

    # metrics: all found metrics at the same function and line, their models mapped to expected ones
    found_to_exp = {fi: ei for ei, fi in pairs.items()}
    found_index = {str(m.get("id")): i for i, m in enumerate(found_models) if m.get("id") is not None}
    for em in exp_metrics:
        same = [
            m for m in found_metrics if m.get("function") == em["function"] and m.get("line") == em["line"]
        ]
        want = expected_model_refs(exp_models, em)
        got: set = set()
        for m in same:
            for mid in _metric_model_ids(m):
                fi = found_index.get(mid)
                got.add(found_to_exp.get(fi, f"unmatched:{mid}") if fi is not None else f"unknown:{mid}")
        ok = bool(same) and got == set(want)
        what = f"{em['function']} @{em['line']}"
        if not same:
            tally("metrics", False, f"{what} not found")
        else:
            tally(
                "metrics",
                ok,
                f"{what}: want models {em.get('model_vars')}@{em.get('model_fit_lines')}, "
                f"got {[_describe(found_models, found_index, i) for m in same for i in _metric_model_ids(m)]}",
            )
    return {"counts": counts, "misses": misses}


def _describe(found_models: list[dict], index: dict[str, int], mid: str) -> str:
    fi = index.get(mid)
    if fi is None:
        return f"?{mid}"
    m = found_models[fi]
    return f"{m.get('var')}@{m.get('fit_line')}"


def all_missed(expected: dict) -> dict:
    """The score of a case whose analysis failed: every expected item missed."""
    return compare_case(expected, {})


# ---------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------


def find_cases(corpus: Path = DEFAULT_CORPUS) -> list[tuple[str, Path, Path]]:
    """(category, case path, expected path) for every case with an expected file, sorted."""
    cases = []
    for path in sorted(corpus.rglob("*")):
        if (
            path.suffix not in CASE_SUFFIXES
            or path.name.startswith("_")
            or ".ipynb_checkpoints" in path.parts
        ):
            continue
        expected = path.with_name(path.stem + ".expected.json")
        if expected.exists():
            cases.append((path.parent.relative_to(corpus).as_posix(), path, expected))
    return cases


def _default_analyzer() -> Callable[[str], dict]:
    from flock_nbext.analysis import lineage_of

    return lineage_of


def evaluate_corpus(
    corpus: Path = DEFAULT_CORPUS,
    analyze: Callable[[str], dict] | None = None,
    categories: Iterable[str] | None = None,
    quick: bool = False,
) -> dict:
    """Run the engine over every case and aggregate coverage per category and overall."""
    wanted = set(categories) if categories else None
    cases = [c for c in find_cases(corpus) if wanted is None or c[0] in wanted]
    if quick:
        kept: dict[str, int] = {}
        quick_cases = []
        for case in cases:
            if kept.get(case[0], 0) < 2:
                kept[case[0]] = kept.get(case[0], 0) + 1
                quick_cases.append(case)
        cases = quick_cases
    analyzer_error = None
    if analyze is None:
        try:
            analyze = _default_analyzer()
        except Exception as exc:  # the engine may not exist yet: every case is then all-missed
            analyzer_error = f"cannot import flock_nbext.analysis.lineage_of: {exc!r}"
    per_case = []
    for category, path, expected_path in cases:
        expected = json.loads(expected_path.read_text(encoding="utf-8"))
        error = analyzer_error
        found: dict = {}
        if error is None:
            try:
                found = analyze(str(path))
                if not isinstance(found, dict):
                    raise TypeError(f"lineage_of returned {type(found).__name__}, not dict")
            except Exception as exc:  # one failing case must not stop the evaluation
                error = f"{type(exc).__name__}: {exc}"
                found = {}
                traceback.print_exc(limit=3, file=sys.stderr)
        result = all_missed(expected) if error else compare_case(expected, found)
        per_case.append(
            {"case": path.relative_to(corpus).as_posix(), "category": category, "error": error, **result}
        )
    return {"corpus": str(corpus), "cases": len(per_case), **aggregate(per_case), "per_case": per_case}


def aggregate(per_case: list[dict]) -> dict:
    """Sum per-case counts into per-category and total tables of {dim: {hit, total, rate}}."""
    cats: dict[str, dict[str, list[int]]] = {}
    ncases: dict[str, int] = {}
    for case in per_case:
        table = cats.setdefault(case["category"], {d: [0, 0] for d in DIMENSIONS})
        ncases[case["category"]] = ncases.get(case["category"], 0) + 1
        for dim, (hit, total) in case["counts"].items():
            table[dim][0] += hit
            table[dim][1] += total
    total = {
        d: [sum(c[d][0] for c in cats.values()), sum(c[d][1] for c in cats.values())] for d in DIMENSIONS
    }

    def shape(table: dict[str, list[int]]) -> dict:
        return {d: {"hit": h, "total": t, "rate": (h / t) if t else None} for d, (h, t) in table.items()}

    return {
        "categories": {c: {"cases": ncases[c], **shape(t)} for c, t in sorted(cats.items())},
        "total": {"cases": len(per_case), **shape(total)},
    }


def format_table(report: dict) -> str:
    """The per-category table as text: rate and n/N in every cell."""
    short = {"hyperparameters": "hyperparams", "training_sources": "train_src", "data_sources": "data_src"}
    heads = ["category", "cases"] + [short.get(d, d) for d in DIMENSIONS]
    rows = []
    for name, table in list(report["categories"].items()) + [("TOTAL", report["total"])]:
        row = [name, str(table["cases"])]
        for d in DIMENSIONS:
            cell = table[d]
            rate = "  -  " if cell["rate"] is None else f"{100 * cell['rate']:5.1f}%"
            row.append(f"{rate} {cell['hit']}/{cell['total']}")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows + [heads]) for i in range(len(heads))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*heads), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*r) for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--category", action="append", help="only this category (repeatable)")
    parser.add_argument("--quick", action="store_true", help="two cases per category")
    parser.add_argument("--verbose", "-v", action="store_true", help="print every miss per case")
    args = parser.parse_args(argv)
    report = evaluate_corpus(args.corpus, categories=args.category, quick=args.quick)
    if args.verbose:
        for case in report["per_case"]:
            if case["error"] or case["misses"]:
                print(f"== {case['case']}" + (f"  ERROR {case['error']}" if case["error"] else ""))
                for miss in case["misses"]:
                    print(f"   {miss}")
        print()
    print(format_table(report))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""flock convert benchmark: native predict vs onnxmltools -> ORT vs every flock candidate vs flock's choice.

For each model (M1: the seed's LightGBM, 100 features, 8 leaves, 100 trees, binary; M2: 28
features, 64 leaves, 500 trees; M3: 5 classes, 50 features, 31 leaves, 200 rounds; an XGBoost
and a RandomForest model) and each thread count (1, 2), every way of predicting is timed in the
same interleaved rounds (flock_nbext.conversion.timing: rotated order, medians) at batch 1
(latency p50/p99) and batch 10,000 (throughput). Ratios are against the model's native predict
from the same run (LightGBM: Booster.predict). lleaves (compiled native code) is measured where
it is installed, as a reference only. flock's choice is what `convert(model, batch_size, threads)`
returns; every candidate's exactness on flock's synthesised sample (boundary and NaN rows) is
recorded. Writes benchmarks/results/convert_bench.json.

    python benchmarks/convert_bench.py            # all models, 7 rounds
    python benchmarks/convert_bench.py --quick    # M1, XGBoost, RandomForest; 3 rounds (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flock_nbext.conversion import candidates as candidates_mod  # noqa: E402
from flock_nbext.conversion.api import convert  # noqa: E402
from flock_nbext.conversion.optimize import optimize_offline  # noqa: E402
from flock_nbext.conversion.reference import describe  # noqa: E402
from flock_nbext.conversion.runtime import make_session  # noqa: E402
from flock_nbext.conversion.timing import interleaved  # noqa: E402

BIG = 10_000
TRAIN_ROWS = 10_000  # training runs single-threaded: the machine is shared, training is not measured
OUT = Path(__file__).resolve().parent / "results" / "convert_bench.json"


# --- models ---------------------------------------------------------------------------------------

def _data(n_rows: int, n_features: int, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features))
    X[rng.uniform(size=X.shape) < 0.02] = np.nan  # some missing values, as real data has
    w = rng.standard_normal((n_features, max(n_classes, 2)))
    score = np.nan_to_num(X) @ w + 0.5 * np.sin(3 * np.nan_to_num(X[:, :1]))
    y = score.argmax(axis=1) if n_classes > 2 else (score[:, 0] > 0).astype(int)
    return X, y


def lightgbm_model(n_features: int, leaves: int, trees: int, n_classes: int, seed: int):
    import lightgbm as lgb

    X, y = _data(TRAIN_ROWS, n_features, n_classes, seed)
    model = lgb.LGBMClassifier(n_estimators=trees, num_leaves=leaves, learning_rate=0.05, min_child_samples=5,
                               verbose=-1, random_state=seed, n_jobs=1).fit(X, y)
    return model, X


def xgboost_model():
    import xgboost

    X, y = _data(TRAIN_ROWS, 28, 2, 4)
    model = xgboost.XGBClassifier(n_estimators=300, max_depth=6, learning_rate=0.1, random_state=4, n_jobs=1)
    return model.fit(X, y), X


def forest_model():
    from sklearn.ensemble import RandomForestClassifier

    X, y = _data(TRAIN_ROWS, 28, 2, 5)
    X = np.nan_to_num(X)
    return RandomForestClassifier(n_estimators=100, max_depth=10, random_state=5, n_jobs=1).fit(X, y), X


MODELS = {
    "M1": ("LightGBM binary, 100 features, 8 leaves, 100 trees (the seed's model)",
           lambda: lightgbm_model(100, 8, 100, 2, 1)),
    "M2": ("LightGBM binary, 28 features, 64 leaves, 500 trees", lambda: lightgbm_model(28, 64, 500, 2, 2)),
    "M3": ("LightGBM 5 classes, 50 features, 31 leaves, 200 rounds (1,000 trees)",
           lambda: lightgbm_model(50, 31, 200, 5, 3)),
    "XGB": ("XGBoost binary, 28 features, depth 6, 300 trees", xgboost_model),
    "RF": ("scikit-learn RandomForest, 28 features, depth 10, 100 trees", forest_model),
}
QUICK = ["M1", "XGB", "RF"]


# --- ways of predicting ---------------------------------------------------------------------------

def native_runners(model: Any, threads: int) -> dict[str, Any]:
    """The model library's own prediction calls, limited to `threads` threads; the first is the baseline."""
    module = type(model).__module__
    if module.startswith("lightgbm"):
        booster = model.booster_
        return {"native Booster.predict": lambda X: booster.predict(X, num_threads=threads),
                "native LGBMClassifier.predict_proba": lambda X: model.predict_proba(X, num_threads=threads)}
    if module.startswith("xgboost"):
        model.set_params(n_jobs=threads)
        booster = model.get_booster()
        booster.set_param({"nthread": threads})
        return {"native Booster.inplace_predict": lambda X: booster.inplace_predict(X),
                "native XGBClassifier.predict_proba": lambda X: model.predict_proba(X)}
    model.set_params(n_jobs=threads)
    return {"native RandomForestClassifier.predict_proba": lambda X: model.predict_proba(X)}


def onnx_runner(proto: Any, threads: int):
    session = make_session(proto, threads=threads)
    name = session.get_inputs()[0].name
    return lambda X: session.run(None, {name: X})


def flock_graphs(model: Any) -> tuple[dict[str, Any], dict[str, dict]]:
    """Every flock candidate graph (optimised offline, as convert() keeps them) and each one's exactness.

    Exactness comes from one convert() call's report (synthesised sample with boundary and NaN rows).
    """
    original = describe(model)
    plan = candidates_mod.plan(original, sample=None)
    result = convert(model, rounds=1, progress=False)
    status = {r["candidate"]: {k: r[k] for k in ("status", "max_abs_diff", "label_mismatches", "size_bytes", "reason")}
              for r in result.report if r["kind"] != "original"}
    graphs = {}
    for cand in plan.candidates:
        if cand.build is None:
            continue
        try:
            graphs[cand.name] = optimize_offline(cand.build())
        except Exception as exc:  # recorded; a candidate that cannot build is not timed
            status.setdefault(cand.name, {})["bench_error"] = str(exc).splitlines()[0]
    return graphs, status


def lleaves_model(model: Any, cache_dir: str) -> Any | None:
    """lleaves' compiled model for a LightGBM model, or None when lleaves is not installed."""
    try:
        import lleaves
    except ImportError:
        return None
    path = os.path.join(cache_dir, "model.txt")
    model.booster_.save_model(path)
    compiled = lleaves.Model(model_file=path)
    compiled.compile(cache=os.path.join(cache_dir, "model.so"))
    return compiled


# --- one model --------------------------------------------------------------------------------------

def bench_model(key: str, threads_list: list[int], rounds: int, use_lleaves: bool) -> dict:
    description, make = MODELS[key]
    t0 = time.perf_counter()
    model, X = make()
    out: dict[str, Any] = {"description": description, "train_s": round(time.perf_counter() - t0, 1)}
    X_eval = np.ascontiguousarray(X[:2000], dtype=np.float32)

    graphs, status = flock_graphs(model)
    out["flock_candidates"] = status
    baseline_name = "onnxmltools (baseline)" if key != "RF" else "skl2onnx (baseline)"

    compiled = None
    if use_lleaves and key.startswith("M"):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            try:
                compiled = lleaves_model(model, tmp)
                out["lleaves_compile_s"] = round(time.perf_counter() - t0, 1)
            except Exception as exc:
                out["lleaves_error"] = str(exc).splitlines()[0]
        # the compiled function stays loaded after its cache file is gone

    out["runs"] = {}
    out["choice"] = {}
    for threads in threads_list:
        choice = {}
        for batch in (1, BIG):
            result = convert(model, batch_size=batch, threads=threads, rounds=3, progress=False)
            choice[batch] = result.candidate
        out["choice"][f"threads={threads}"] = {f"batch{b}": c for b, c in choice.items()}

        runners = native_runners(model, threads)
        native = next(iter(runners))
        dtypes = {}
        for name, proto in graphs.items():
            runners[runner_label(name, baseline_name)] = onnx_runner(proto, threads)
        if compiled is not None:
            runners["lleaves (compiled, reference)"] = lambda Xb, c=compiled, t=threads: c.predict(Xb, n_jobs=t)
            dtypes["lleaves (compiled, reference)"] = np.float64
        # Batch 1 in full rounds for everyone; batch 10,000 with graphs over 4x slower than the best
        # graph in warm-up timed in one round (they cost seconds per call and cannot matter).
        lat = interleaved(runners, X_eval, batch_n=BIG, rounds=rounds, dtypes=dtypes, round_budget_s=0.05,
                          batchN=False)
        thr = interleaved(runners, X_eval, batch_n=BIG, rounds=rounds, dtypes=dtypes, round_budget_s=0.05,
                          batch1=False, prunable={n for n in runners if not n.startswith(("native", "lleaves"))},
                          prune_on="batchN", pruned_batchN="once")
        t1 = {n: {**lat[n], **{k: v for k, v in thr[n].items() if k != "rounds"}, "batchN_rounds": thr[n]["rounds"]}
              for n in runners}
        base = t1[native]
        run = {}
        for name, row in t1.items():
            run[name] = {**row, "batch1_latency_vs_native": round(row["batch1_p50_us"] / base["batch1_p50_us"], 3),
                         "batchN_throughput_vs_native": round(row["batchN_rows_per_s"] / base["batchN_rows_per_s"], 3),
                         "batch1_min_latency_vs_native": round(row["batch1_min_us"] / base["batch1_min_us"], 3),
                         "batchN_best_throughput_vs_native":
                             round(row["batchN_best_rows_per_s"] / base["batchN_best_rows_per_s"], 3)}
        out["runs"][f"threads={threads}"] = run
        out.setdefault("targets", {})[f"threads={threads}"] = targets(run, native, choice, baseline_name, compiled)
        # On a loaded machine a call that loses its CPU takes tens of ms: the fastest call / best
        # round is closer to what the code costs; both views are recorded.
        out.setdefault("targets_on_fastest", {})[f"threads={threads}"] = targets(
            {n: {**r, "batch1_p50_us": r["batch1_min_us"], "batchN_rows_per_s": r["batchN_best_rows_per_s"],
                 "batch1_latency_vs_native": r["batch1_min_latency_vs_native"],
                 "batchN_throughput_vs_native": r["batchN_best_throughput_vs_native"]} for n, r in run.items()},
            native, choice, baseline_name, compiled)
    return out


def runner_label(candidate: str, baseline_name: str) -> str:
    """"flock <candidate>" for flock's graphs, "<converter> -> ORT" for the baseline route."""
    return baseline_name.replace(" (baseline)", " -> ORT") if candidate == baseline_name else f"flock {candidate}"


def targets(run: dict, native: str, choice: dict, baseline_name: str, compiled: Any) -> dict:
    """The issue's targets for flock's choice, checked on this run's numbers."""
    pick1, pickN = run.get(runner_label(choice[1], baseline_name)), run.get(runner_label(choice[BIG], baseline_name))
    onnxml = run.get(runner_label(baseline_name, baseline_name))
    res: dict[str, Any] = {"choice_batch1": choice[1], "choice_batch10000": choice[BIG]}
    if pick1 is None or pickN is None:
        res["note"] = "flock's choice was not among the timed graphs"
        return res
    res["batch1_latency_ratio"] = pick1["batch1_latency_vs_native"]
    res["batch1_target_le_0.4x"] = pick1["batch1_latency_vs_native"] <= 0.4
    res["batchN_throughput_ratio"] = pickN["batchN_throughput_vs_native"]
    res["batchN_target_ge_2x"] = pickN["batchN_throughput_vs_native"] >= 2.0
    if onnxml is not None:
        res["vs_onnxmltools_batch1"] = round(onnxml["batch1_p50_us"] / pick1["batch1_p50_us"], 3)
        res["vs_onnxmltools_batchN"] = round(pickN["batchN_rows_per_s"] / onnxml["batchN_rows_per_s"], 3)
        res["never_slower_than_onnxmltools"] = res["vs_onnxmltools_batch1"] >= 1.0 and res["vs_onnxmltools_batchN"] >= 1.0
    ll = run.get("lleaves (compiled, reference)")
    if ll is not None:
        res["distance_to_compiled_batch1"] = round(pick1["batch1_p50_us"] / ll["batch1_p50_us"], 3)
        res["distance_to_compiled_batchN"] = round(ll["batchN_rows_per_s"] / pickN["batchN_rows_per_s"], 3)
    return res


def versions() -> dict:
    out = {"python": platform.python_version()}
    for mod in ("numpy", "onnx", "onnxruntime", "lightgbm", "xgboost", "sklearn", "onnxmltools", "skl2onnx", "lleaves"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception:
            out[mod] = None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="M1, XGBoost and RandomForest, 3 rounds")
    parser.add_argument("--models", default=None, help="comma-separated subset of " + ",".join(MODELS))
    parser.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 7, quick 3)")
    parser.add_argument("--no-lleaves", action="store_true", help="skip the lleaves reference")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    keys = args.models.split(",") if args.models else (QUICK if args.quick else list(MODELS))
    rounds = args.rounds or (3 if args.quick else 7)
    threads = [int(t) for t in args.threads.split(",")]
    report: dict[str, Any] = {
        "schema": "flock.convert_bench/1", "quick": args.quick, "rounds": rounds, "batch_n": BIG,
        "machine": {"cpus": os.cpu_count(), "loadavg_start": list(os.getloadavg()), "platform": platform.platform()},
        "versions": versions(), "models": {},
    }
    started = time.perf_counter()
    for key in keys:
        print(f"[convert_bench] {key}: {MODELS[key][0]}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        report["models"][key] = bench_model(key, threads, rounds, not args.no_lleaves)
        report["models"][key]["bench_s"] = round(time.perf_counter() - t0, 1)
        report["models"][key]["loadavg_after"] = list(os.getloadavg())
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2))  # partial results survive an interruption
    report["machine"]["loadavg_end"] = list(os.getloadavg())
    report["wall_s"] = round(time.perf_counter() - started, 1)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(summary(report))
    return 0


def summary(report: dict) -> str:
    """A short human-readable table of the run (batch-1 p50 µs, batch-10k rows/s, ratios vs native)."""
    lines = []
    for key, m in report["models"].items():
        for tkey, run in m["runs"].items():
            lines.append(f"\n{key} {tkey}: {m['description']}  (choice: {m['choice'][tkey]})")
            for name, row in run.items():
                lines.append(f"  {name:<48} b1 p50 {row['batch1_p50_us']:>9.1f} µs ({row['batch1_latency_vs_native']:>6.2f}x)"
                             f"  b10k {row['batchN_rows_per_s']:>13,.0f} rows/s ({row['batchN_throughput_vs_native']:>6.2f}x)")
            lines.append(f"  targets: {json.dumps(m['targets'][tkey])}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

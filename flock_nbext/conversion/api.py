"""`convert()`: any trained model to the fastest ONNX graph that answers exactly like it."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ConversionError, UnsupportedModelError
from . import candidates as candidates_mod
from . import sample as sample_mod
from .autotune import autotune
from .reference import describe
from .result import ConversionReport, ConversionResult


def convert(model: Any, sample: Any = None, batch_size: int = 1, threads: int | None = None, *,
            tolerance: float = 1e-5, candidates: Sequence[Any] | None = None, progress: bool | None = None,
            quantize: bool = False, optimization: str | None = "extended", rounds: int = 5) -> ConversionResult:
    """Convert a trained model to ONNX, keep only graphs that match it, return the fastest.

    model: LightGBM / XGBoost (Booster or sklearn API), a scikit-learn estimator or pipeline, or a
        torch.nn.Module. sample: rows to validate and time on (array or DataFrame, [N, n_features],
        numeric; compared as float32, the graph's input type). For tree ensembles flock adds rows
        synthesised from the split thresholds (on and one float32 step beside every threshold,
        NaN and categorical rows), and uses those alone when no sample is given. batch_size / threads: the batch size and intra-op thread count the winner is
        timed and chosen at. tolerance: the largest absolute difference allowed against the
        original (on probabilities for classifiers). candidates: restrict to these candidate
        names, and/or add Candidate objects. progress: None shows a bar only after ~1 s; True
        always; False never. quantize: add an int8 dynamically quantised candidate (neural models
        only; it must still meet the tolerance). optimization: ONNX Runtime level applied offline
        ("basic", "extended", "all") or None.
    """
    _check_options(batch_size, threads, tolerance, rounds)
    n_hint = None
    if sample is not None and np.ndim(sample) == 2:
        n_hint = int(np.shape(sample)[1])
    original = describe(model, n_features_hint=n_hint)
    given = sample_mod.from_user(sample, original.n_features, original.name) if sample is not None else None
    plan = candidates_mod.plan(original, sample=None if given is None else given.X, quantize=quantize)
    chosen = _select(plan.candidates, candidates)
    if original.n_features is None and given is None:
        raise ConversionError(f"{original.name} does not say how many features it takes: pass a sample")
    n_features = original.n_features if original.n_features is not None else given.X.shape[1]
    rows = _validation_rows(original, given, plan.ensemble, n_features)

    optimize = None
    if optimization is not None:
        from .optimize import optimize_offline

        def optimize(m: Any) -> Any:
            return optimize_offline(m, optimization)

    outcome = autotune(chosen, original, rows, batch_size=batch_size, threads=threads, tolerance=tolerance,
                       progress=progress, rounds=rounds, optimize=optimize)
    orig_row = {"candidate": f"original ({original.native_name})", "kind": "original", "status": "reference",
                "max_abs_diff": 0.0, "chosen": False, "reason": "", **outcome.original_timing}
    report = ConversionReport([*outcome.rows, orig_row], outcome.batch_n)
    if outcome.best is None:
        built_none = all(r["status"] in ("build failed", "not applicable") for r in outcome.rows)
        error = UnsupportedModelError if built_none and candidates is None else ConversionError
        head = f"no converter could build {original.name}: " if built_none else "no candidate passed validation: "
        err = error(head + "; ".join(
            f"{r['candidate']}: {r['status']}" + (f" ({r['reason']})" if r["reason"] else "") for r in outcome.rows))
        err.report = report
        raise err
    best = outcome.best.row
    speedup = {
        "batch1": round(orig_row["batch1_p50_us"] / best["batch1_p50_us"], 3),
        "batchN": (round(orig_row["batchN_median_us"] / best["batchN_median_us"], 3)
                   if best.get("batchN_median_us") else None),
        "batch_n": outcome.batch_n,
    }
    return ConversionResult(onnx_model=outcome.best.model, candidate=outcome.best.name, report=report,
                            speedup=speedup, n_features=n_features, original=original,
                            example_rows=rows.X[:64].copy(), threads=threads, _session=outcome.best.session)


def _check_options(batch_size: Any, threads: Any, tolerance: Any, rounds: Any) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ConversionError(f"batch_size must be a positive integer, got {batch_size!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, numbers.Integral)
                                or threads < 1):
        raise ConversionError(f"threads must be a positive integer or None, got {threads!r}")
    if not isinstance(tolerance, numbers.Real) or not tolerance > 0:
        raise ConversionError(f"tolerance must be a positive number, got {tolerance!r}")
    if not isinstance(rounds, numbers.Integral) or rounds < 1:
        raise ConversionError(f"rounds must be a positive integer, got {rounds!r}")


def _select(available: list[candidates_mod.Candidate], wanted: Sequence[Any] | None) -> list:
    """All candidates, or those named in `wanted` plus any Candidate objects it holds."""
    if wanted is None:
        return available
    if isinstance(wanted, (str, candidates_mod.Candidate)):
        wanted = [wanted]
    names = {w for w in wanted if isinstance(w, str)}
    extra = [w for w in wanted if isinstance(w, candidates_mod.Candidate)]
    unknown = names - {c.name for c in available}
    if unknown:
        raise ConversionError(f"unknown candidate {sorted(unknown)[0]!r}; this model has: "
                              + ", ".join(c.name for c in available))
    picked = [c for c in available if c.name in names] if names else ([] if extra else available)
    return picked + extra


def _validation_rows(original: Any, given: sample_mod.Sample | None, ensemble: Any,
                     n_features: int) -> sample_mod.Sample:
    """The caller's rows, plus (for tree ensembles) rows synthesised on and beside every threshold.

    A caller's sample rarely holds a value exactly on a split threshold, so for trees it is always
    topped up with the synthetic boundary, NaN and categorical rows; timing uses the caller's rows.
    """
    if given is not None:
        given = _rows_the_model_accepts(original, given, synthetic=False)
        if ensemble is None:
            return given
    synthetic = _rows_the_model_accepts(original, _synthetic(ensemble, n_features), synthetic=True)
    if given is None:
        return synthetic
    return sample_mod.Sample(np.vstack([given.X, synthetic.X]), np.concatenate([given.kinds, synthetic.kinds]))


def _synthetic(ensemble: Any, n_features: int) -> sample_mod.Sample:
    if ensemble is None:
        return sample_mod.synthesize(n_features, None, nan_rows=False)
    return sample_mod.synthesize(n_features, sample_mod.split_points(ensemble))


def _rows_the_model_accepts(original: Any, rows: sample_mod.Sample, *, synthetic: bool) -> sample_mod.Sample:
    """The sample, less NaN rows when the original model itself refuses NaN (synthetic samples only)."""
    try:
        original.outputs(rows.X[:1])
        original.outputs(rows.X)
        return rows
    except Exception as exc:
        has_nan = np.isnan(rows.X).any(axis=1)
        if synthetic and has_nan.any():
            clean = rows.select(~has_nan)
            try:
                original.outputs(clean.X)
                return clean
            except Exception:
                pass
        raise ConversionError(f"{original.name} failed to predict on the validation sample: "
                              f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc

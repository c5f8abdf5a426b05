"""Shared helpers for the tree compiler's tests: hard rows, ONNX Runtime runs, parity checks.

"Hard rows" are what breaks naive converters: values exactly on a split threshold and one
float32 step either side of it, NaN, zeros (LightGBM's zero-as-missing), infinities, and
category codes (named, unseen, negative, fractional, NaN).
"""

from __future__ import annotations

import numpy as np
import pytest

ATOL = 1e-5


def hard_rows(ensemble, base: np.ndarray, rng: np.random.Generator, *, max_per_feature: int = 40,
              finite: bool = False, nan: bool = True) -> np.ndarray:
    """`base` plus boundary, NaN, zero and category rows for this ensemble (float32).

    finite=False adds +-inf rows; nan=False leaves NaN out (for models that reject both).
    """
    base = np.asarray(base, dtype=np.float32)
    n, f = base.shape
    rows = [base]
    up, down = np.float32(np.inf), np.float32(-np.inf)
    for feature, thresholds in ensemble.thresholds_by_feature().items():
        if len(thresholds) > max_per_feature:
            thresholds = rng.choice(thresholds, max_per_feature, replace=False)
        values = np.concatenate([thresholds, np.nextafter(thresholds, up), np.nextafter(thresholds, down)])
        block = base[rng.integers(0, n, len(values))].copy()
        block[:, feature] = values
        rows.append(block)
    for feature, cats in ensemble.categories_by_feature().items():
        values = np.concatenate([cats, cats + 0.5, [-1, -0.5, -0.0, cats.max() + 1, cats.max() + 7, np.nan]])
        block = base[rng.integers(0, n, len(values))].copy()
        block[:, feature] = values
        rows.append(block)
    k = min(n, 40)
    nan_rows = base[:k].copy()
    nan_rows[rng.random(nan_rows.shape) < 0.3] = np.nan
    zero_rows = base[:k].copy()
    zero_rows[rng.random(zero_rows.shape) < 0.3] = 0.0
    tiny = base[:4].copy()
    tiny[:, :] = np.float32(1e-36)  # LightGBM reads |x| <= 1e-35 as zero
    rows += [nan_rows, zero_rows, np.full((1, f), np.nan, np.float32), np.zeros((1, f), np.float32), tiny]
    if not finite:
        rows.append(np.where(rng.random((4, f)) < 0.5, np.inf, -np.inf).astype(np.float32))
    out = np.vstack(rows).astype(np.float32)
    if finite:
        out = out[~np.isinf(out).any(axis=1)]
    if not nan:
        out = out[~np.isnan(out).any(axis=1)]
    return out


def run_onnx(model, X: np.ndarray) -> dict[str, np.ndarray]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": np.asarray(X, dtype=np.float32)}), strict=True))


def original_outputs(model, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(probabilities or predictions [N, k], labels or None) from the model's own API."""
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(X), dtype=np.float64), np.asarray(model.predict(X))
    return np.asarray(model.predict(X), dtype=np.float64).reshape(len(X), -1), None


def assert_parity(model, ensemble, onnx_model, X: np.ndarray, *, rtol: float = 1e-6) -> None:
    """ONNX Runtime's answers equal the original model's: values to 1e-5, labels exactly."""
    expected, labels = original_outputs(model, X)
    got = run_onnx(onnx_model, X)
    if labels is None:
        np.testing.assert_allclose(got["variable"], expected, atol=ATOL, rtol=rtol)
        return
    np.testing.assert_allclose(got["probabilities"], expected, atol=ATOL, rtol=0)
    np.testing.assert_array_equal(np.asarray(ensemble.classes)[got["label"]], labels)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261126)

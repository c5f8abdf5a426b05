"""Validation rows: the caller's sample checked for shape and dtype, or one synthesised from the model.

For tree ensembles the synthetic sample is drawn from the split points of the trees, because that
is where converters go wrong: rows whose values lie exactly on a threshold and one float32 step
either side of it (a float64 threshold rounded to float32 can flip a branch), rows with NaN
(default-left / missing-type routing), and categorical values inside and outside the split sets.
Random rows take values between consecutive thresholds so that they reach many leaves.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..errors import ConversionError

RANDOM, BOUNDARY, NAN, CATEGORICAL = "random", "boundary", "nan", "categorical"


@dataclasses.dataclass
class SplitPoints:
    """Where the trees split: thresholds per numeric feature, category values per categorical feature."""

    thresholds: dict[int, np.ndarray] = dataclasses.field(default_factory=dict)
    categories: dict[int, np.ndarray] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Sample:
    """Validation rows (float32) and what each row is for (random, boundary, nan, categorical, given)."""

    X: np.ndarray
    kinds: np.ndarray

    def __len__(self) -> int:
        return len(self.X)

    def select(self, mask: np.ndarray) -> Sample:
        return Sample(self.X[mask], self.kinds[mask])


def split_points(ensemble: Any) -> SplitPoints:
    """The split points of a TreeEnsemble IR (float32 decision boundaries, category values)."""
    return SplitPoints(ensemble.thresholds_by_feature(), ensemble.categories_by_feature())


def from_user(sample: Any, n_features: int | None, model_name: str) -> Sample:
    """The caller's rows as float32 [N, n_features]; ConversionError naming what is wrong with them."""
    if hasattr(sample, "to_numpy") and hasattr(sample, "dtypes"):
        bad = [str(c) for c, d in getattr(sample, "dtypes", {}).items() if getattr(d, "kind", "f") not in "biuf"]
        if bad:
            raise ConversionError(f"sample columns {', '.join(bad[:5])} are not numeric: pass numeric features "
                                  "(encode categories as numbers)")
        sample = sample.to_numpy()
    arr = np.asarray(sample)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise ConversionError(f"sample has dtype {arr.dtype}: pass numeric rows (float32 or float64)")
    if arr.ndim != 2:
        raise ConversionError(f"sample must be 2-D [rows, features], got shape {arr.shape}")
    if len(arr) == 0:
        raise ConversionError("sample has no rows")
    if n_features is not None and arr.shape[1] != n_features:
        raise ConversionError(f"sample has {arr.shape[1]} features but {model_name} takes {n_features}")
    return Sample(np.ascontiguousarray(arr, dtype=np.float32), np.full(len(arr), "given", dtype=object))


def synthesize(n_features: int, points: SplitPoints | None = None, *, nan_rows: bool = True,
               n_random: int = 256, max_boundary_rows: int = 4000, seed: int = 0) -> Sample:
    """Rows that exercise every split: random, on and beside thresholds, NaN and categorical rows."""
    rng = np.random.default_rng(seed)
    points = points or SplitPoints()
    parts: list[tuple[np.ndarray, str]] = [(_random_rows(rng, n_features, points, n_random), RANDOM)]
    if points.thresholds:
        parts.append((_boundary_rows(rng, n_features, points, max_boundary_rows), BOUNDARY))
    if points.categories:
        parts.append((_categorical_rows(rng, n_features, points), CATEGORICAL))
    if nan_rows:
        parts.append((_nan_rows(rng, n_features, points), NAN))
    X = np.vstack([p for p, _ in parts]).astype(np.float32)
    kinds = np.concatenate([np.full(len(p), k, dtype=object) for p, k in parts])
    return Sample(np.ascontiguousarray(X), kinds)


def _values_between(rng: np.random.Generator, thresholds: np.ndarray, n: int) -> np.ndarray:
    """Values drawn between consecutive thresholds and beyond both ends (one region per leaf side)."""
    t = np.unique(thresholds.astype(np.float64))
    t = t[np.isfinite(t)]
    if len(t) == 0:
        return rng.standard_normal(n)
    span = max(float(t[-1] - t[0]), 1.0)
    edges = np.concatenate([[t[0] - 0.5 * span], t, [t[-1] + 0.5 * span]])
    region = rng.integers(0, len(edges) - 1, size=n)
    lo, hi = edges[region], edges[region + 1]
    return lo + (hi - lo) * rng.uniform(0.05, 0.95, size=n)


def _category_values(rng: np.random.Generator, cats: np.ndarray, n: int) -> np.ndarray:
    cats = np.unique(np.asarray(cats, dtype=np.float64))
    top = float(cats.max()) if len(cats) else 3.0
    pool = np.concatenate([cats, np.arange(0.0, top + 3.0)])
    return rng.choice(pool, size=n)


def _random_rows(rng: np.random.Generator, n_features: int, points: SplitPoints, n: int) -> np.ndarray:
    X = rng.standard_normal((n, n_features))
    for f, t in points.thresholds.items():
        X[:, f] = _values_between(rng, t, n)
    for f, c in points.categories.items():
        X[:, f] = _category_values(rng, c, n)
    return X


def _boundary_values(t: float) -> list[float]:
    """The float32 nearest to a threshold and the float32 values one step below and above it."""
    on = np.float32(t)
    return [float(on), float(np.nextafter(on, np.float32(-np.inf))), float(np.nextafter(on, np.float32(np.inf)))]


def _boundary_rows(rng: np.random.Generator, n_features: int, points: SplitPoints, budget: int) -> np.ndarray:
    pairs = [(f, float(t)) for f, ts in points.thresholds.items() for t in np.unique(ts) if np.isfinite(t)]
    # Rows that put one feature on a threshold and leave the rest random: that split is reached often.
    n_single = min(len(pairs), max(1, (2 * budget // 3) // 3))
    chosen = rng.choice(len(pairs), size=n_single, replace=False) if n_single < len(pairs) else np.arange(len(pairs))
    single = _random_rows(rng, n_features, points, 3 * len(chosen))
    for i, k in enumerate(chosen):
        f, t = pairs[k]
        single[3 * i:3 * i + 3, f] = _boundary_values(t)
    # Rows with every used feature on (or beside) one of its thresholds at once.
    longest = max(len(np.unique(ts)) for ts in points.thresholds.values())
    n_all = min(3 * longest, max(3, budget - len(single)))
    every = _random_rows(rng, n_features, points, n_all)
    for f, ts in points.thresholds.items():
        ts = np.unique(ts)
        for i in range(n_all):
            every[i, f] = _boundary_values(ts[(i // 3) % len(ts)])[i % 3]
    # Zero and LightGBM's "treat |x| <= 1e-35 as zero" band, on every used feature.
    tiny = np.float32(1e-35)
    zeros = _random_rows(rng, n_features, points, 6)
    for i, v in enumerate([0.0, -0.0, tiny, -tiny, np.nextafter(tiny, np.float32(1)), 1e-30]):
        zeros[i, list(points.thresholds)] = v
    return np.vstack([single, every, zeros])


def _categorical_rows(rng: np.random.Generator, n_features: int, points: SplitPoints) -> np.ndarray:
    rows = []
    for f, cats in points.categories.items():
        values = np.concatenate([np.unique(np.asarray(cats, dtype=np.float64)), [-1.0, float(np.max(cats)) + 1.0]])
        block = _random_rows(rng, n_features, points, len(values))
        block[:, f] = values
        rows.append(block)
    return np.vstack(rows)


def _nan_rows(rng: np.random.Generator, n_features: int, points: SplitPoints, n: int = 128) -> np.ndarray:
    X = _random_rows(rng, n_features, points, n)
    X[rng.uniform(size=X.shape) < 0.3] = np.nan
    used = sorted(set(points.thresholds) | set(points.categories)) or list(range(min(n_features, 64)))
    single = _random_rows(rng, n_features, points, len(used))
    for i, f in enumerate(used[:256]):
        single[i, f] = np.nan
    return np.vstack([X, single[:256], np.full((1, n_features), np.nan)])

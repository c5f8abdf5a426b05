"""Parity under hypothesis: random small models, random hard inputs, every strategy.

Hypothesis draws the data shape, the model's size and options, then rows whose values sit on a
split threshold of the trained model or one float32 step beside it, NaN, zero, or a category
code. Every applicable strategy must answer like the original (values 1e-5, labels exactly).
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from flock_nbext.conversion.backends import REGISTRY
from flock_nbext.conversion.frontends import to_ir
from tests.conversion.conftest import assert_parity

# derandomized (reproducible in CI) and without shrinking, which can take minutes on a busy machine
SETTINGS = settings(max_examples=25, deadline=None, database=None, derandomize=True,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _training_data(n_rows, n_features, task, nan_fraction, zero_fraction, categorical, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_features)).astype(np.float32)
    if categorical:
        X[:, -1] = rng.integers(0, 6, n_rows)
    mask = rng.random(X.shape)
    X[mask < zero_fraction] = 0.0
    X[(mask >= zero_fraction) & (mask < zero_fraction + nan_fraction)] = np.nan
    signal = np.nan_to_num(X).sum(axis=1) + rng.normal(scale=0.5, size=n_rows)
    if task == "regression":
        return X, signal
    k = 2 if task == "binary" else 3
    y = np.digitize(signal, np.quantile(signal, np.linspace(0, 1, k + 1)[1:-1]))
    y[:k] = np.arange(k)  # every class present
    return X, y


def _hard_inputs(data, ensemble, X, *, nan=True, finite=False, n_rows=40):
    """Training rows whose cells hypothesis replaces by thresholds (+-1 ulp), NaN, 0 or categories."""
    thresholds = ensemble.thresholds_by_feature()
    categories = {f: np.concatenate([c, [-1.0, 2.5, 99.0]]) for f, c in ensemble.categories_by_feature().items()}
    rows = X[np.arange(n_rows) % len(X)].copy()
    cell = st.tuples(st.integers(0, n_rows - 1), st.integers(0, ensemble.n_features - 1),
                     st.sampled_from(["threshold", "threshold", "category", "zero"] + (["nan"] if nan else [])),
                     st.integers(0, 10_000), st.sampled_from([-1, 0, 1]))
    for i, f, kind, pick, step in data.draw(st.lists(cell, min_size=1, max_size=3 * n_rows)):
        if kind == "threshold" and f in thresholds:
            t = thresholds[f][pick % len(thresholds[f])]
            rows[i, f] = t if step == 0 else np.nextafter(t, np.float32(step * np.inf))
        elif kind == "category" and f in categories:
            rows[i, f] = categories[f][pick % len(categories[f])]
        elif kind == "zero":
            rows[i, f] = 0.0
        elif kind == "nan":
            rows[i, f] = np.nan
    return rows[~np.isinf(rows).any(axis=1)] if finite else rows


def _check_every_backend(model, ensemble, rows):
    built = 0
    for strategy in REGISTRY:
        if strategy.applicable(ensemble) is None:
            assert_parity(model, ensemble, strategy.build(ensemble), rows)
            built += 1
    assert built >= 2  # the operator and tree traversal always apply to models this small


shapes = dict(n_rows=st.integers(30, 120), n_features=st.integers(1, 5),
              task=st.sampled_from(["binary", "multiclass", "regression"]), seed=st.integers(0, 2**16))


@SETTINGS
@given(data=st.data(), n_estimators=st.integers(1, 25), num_leaves=st.integers(2, 12),
       nan_fraction=st.sampled_from([0.0, 0.15]), zero_as_missing=st.booleans(), categorical=st.booleans(),
       **shapes)
def test_lightgbm(data, n_rows, n_features, task, seed, n_estimators, num_leaves, nan_fraction,
                  zero_as_missing, categorical):
    import lightgbm as lgb

    categorical = categorical and n_features >= 2
    X, y = _training_data(n_rows, n_features, task, nan_fraction, 0.2 if zero_as_missing else 0.0,
                          categorical, seed)
    cls = lgb.LGBMRegressor if task == "regression" else lgb.LGBMClassifier
    model = cls(n_estimators=n_estimators, num_leaves=num_leaves, min_child_samples=3, min_data_per_group=3,
                cat_smooth=1.0, zero_as_missing=zero_as_missing, verbose=-1, n_jobs=1)
    model.fit(X, y, categorical_feature=[n_features - 1] if categorical else "auto")
    ensemble = to_ir(model)
    _check_every_backend(model, ensemble, _hard_inputs(data, ensemble, X))


SKLEARN_MODELS = ["DecisionTree", "ExtraTree", "RandomForest", "ExtraTrees", "GradientBoosting",
                  "HistGradientBoosting"]


@SETTINGS
@given(data=st.data(), kind=st.sampled_from(SKLEARN_MODELS), n_estimators=st.integers(1, 8),
       max_depth=st.integers(1, 8), nan_fraction=st.sampled_from([0.0, 0.15]), categorical=st.booleans(),
       **shapes)
def test_sklearn(data, n_rows, n_features, task, seed, kind, n_estimators, max_depth, nan_fraction, categorical):
    import sklearn.ensemble
    import sklearn.tree

    nan_ok = kind != "GradientBoosting"
    categorical = categorical and kind == "HistGradientBoosting" and n_features >= 2
    X, y = _training_data(n_rows, n_features, task, nan_fraction if nan_ok else 0.0, 0.0, categorical, seed)
    suffix = "Regressor" if task == "regression" else "Classifier"
    cls = getattr(sklearn.tree, kind + suffix, None) or getattr(sklearn.ensemble, kind + suffix)
    params = {"random_state": 0}
    if kind in ("RandomForest", "ExtraTrees", "GradientBoosting"):
        params["n_estimators"] = n_estimators
    if kind == "HistGradientBoosting":
        params.update(max_iter=n_estimators, max_depth=max_depth + 1, min_samples_leaf=3,
                      categorical_features=[n_features - 1] if categorical else None)
    else:
        params["max_depth"] = max_depth
    model = cls(**params).fit(X, y)
    ensemble = to_ir(model)
    _check_every_backend(model, ensemble, _hard_inputs(data, ensemble, X, nan=nan_ok, finite=True))


@settings(SETTINGS, max_examples=10)
@given(data=st.data(), n_estimators=st.integers(1, 15), max_depth=st.integers(1, 6),
       nan_fraction=st.sampled_from([0.0, 0.15]), **shapes)
def test_xgboost(data, n_rows, n_features, task, seed, n_estimators, max_depth, nan_fraction):
    import xgboost as xgb

    X, y = _training_data(n_rows, n_features, task, nan_fraction, 0.0, False, seed)
    cls = xgb.XGBRegressor if task == "regression" else xgb.XGBClassifier
    model = cls(n_estimators=n_estimators, max_depth=max_depth, n_jobs=1).fit(X, y)
    ensemble = to_ir(model)
    _check_every_backend(model, ensemble, _hard_inputs(data, ensemble, X))

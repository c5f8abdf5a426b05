"""Parity: every frontend x backend x model shape answers like the original model.

Each case trains a small model on synthetic data, compiles it with every strategy and compares
ONNX Runtime's answers with the library's own on ordinary rows and on hard rows (on and beside
split thresholds, NaN, zeros, infinities, category codes): values to 1e-5, labels exactly.
Models are trained once per session; the 1,000-tree and 500-feature cases stay small otherwise.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from flock_nbext.conversion.backends import REGISTRY
from flock_nbext.conversion.frontends import to_ir
from flock_nbext.errors import ConversionError
from tests.conversion.conftest import assert_parity, hard_rows

BACKENDS = REGISTRY.names()


def _data(n=300, f=6, *, seed=0, nan=0.1, zeros=0.0, cat_feature=None, n_cats=8):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f)).astype(np.float32)
    if cat_feature is not None:
        X[:, cat_feature] = rng.integers(0, n_cats, n)
    mask = rng.random(X.shape)
    if cat_feature is not None:
        mask[:, cat_feature] = 1.0
    X[mask < zeros] = 0.0
    X[(mask >= zeros) & (mask < zeros + nan)] = np.nan
    signal = np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, min(1, f - 1)])
    if cat_feature is not None:
        signal = signal + np.isin(X[:, cat_feature], [1, 3, 4])
    return X, signal, rng


def _labels(signal, k):
    return np.digitize(signal, np.quantile(signal, np.linspace(0, 1, k + 1)[1:-1])) if k > 2 else (signal > 0).astype(int)


# --- LightGBM -----------------------------------------------------------------------------------

def _lgbm(kind, *, k=2, n_estimators=20, leaves=8, data=None, fit=None, **params):
    import lightgbm as lgb

    X, signal, _ = data or _data(cat_feature=5)
    y = _labels(signal, k) if kind == "classifier" else signal
    cls = lgb.LGBMClassifier if kind == "classifier" else lgb.LGBMRegressor
    model = cls(n_estimators=n_estimators, num_leaves=leaves, min_child_samples=5, verbose=-1, **params)
    return model.fit(X, y, **(fit or {})), X


CASES = {
    "lightgbm-binary-nan-categorical": lambda: _lgbm("classifier", fit={"categorical_feature": [5]}),
    "lightgbm-multiclass": lambda: _lgbm("classifier", k=3, fit={"categorical_feature": [5]}),
    "lightgbm-multiclassova": lambda: _lgbm("classifier", k=3, objective="multiclassova"),
    "lightgbm-regression-zero-as-missing": lambda: _lgbm(
        "regressor", data=_data(zeros=0.2, nan=0.0), zero_as_missing=True),
    "lightgbm-poisson": lambda: (lambda m: m)(_lgbm("regressor", objective="poisson", data=_poisson_data())),
    "lightgbm-one-tree": lambda: _lgbm("classifier", n_estimators=1),
    "lightgbm-1000-trees": lambda: _lgbm("classifier", n_estimators=1000, leaves=4, learning_rate=0.01,
                                         data=_data(n=120, f=4)),
    "lightgbm-one-feature": lambda: _lgbm("regressor", data=_data(f=1)),
    "lightgbm-500-features": lambda: _lgbm("classifier", n_estimators=10, data=_data(n=200, f=500)),
}


def _poisson_data():
    X, signal, rng = _data()
    return X, rng.poisson(np.exp(np.clip(signal, -2, 2))).astype(float), rng


# --- XGBoost ------------------------------------------------------------------------------------

def _xgb(kind, *, k=2, n_estimators=15, data=None, **params):
    import xgboost as xgb

    X, signal, _ = data or _data()
    y = _labels(signal, k) if kind == "classifier" else signal
    cls = xgb.XGBClassifier if kind == "classifier" else xgb.XGBRegressor
    return cls(n_estimators=n_estimators, max_depth=4, n_jobs=1, **params).fit(X, y), X


CASES.update({
    "xgboost-binary-nan": lambda: _xgb("classifier"),
    "xgboost-multiclass": lambda: _xgb("classifier", k=3),
    "xgboost-regression": lambda: _xgb("regressor"),
    "xgboost-missing-zero": lambda: _xgb("classifier", data=_data(zeros=0.2, nan=0.0), missing=0.0),
    "xgboost-one-tree": lambda: _xgb("regressor", n_estimators=1),
    "xgboost-1000-trees": lambda: _xgb("regressor", n_estimators=1000, max_leaves=4, data=_data(n=100, f=3)),
})


# --- scikit-learn -------------------------------------------------------------------------------

def _sk(name, *, k=2, nan=0.1, data=None, **params):
    import sklearn.ensemble as ens
    import sklearn.tree as tree

    cls = getattr(ens, name, None) or getattr(tree, name)
    X, signal, _ = data or _data(nan=nan)
    y = _labels(signal, k) if name.endswith("Classifier") else signal
    return cls(random_state=0, **params).fit(X, y), X


CASES.update({
    "sklearn-decision-tree-classifier": lambda: _sk("DecisionTreeClassifier", max_depth=6),
    "sklearn-decision-tree-regressor-one-feature": lambda: _sk("DecisionTreeRegressor", data=_data(f=1)),
    "sklearn-extra-tree-classifier": lambda: _sk("ExtraTreeClassifier", k=3, max_depth=8),
    "sklearn-random-forest-multiclass": lambda: _sk("RandomForestClassifier", k=3, n_estimators=10, max_depth=6),
    "sklearn-random-forest-regressor": lambda: _sk("RandomForestRegressor", n_estimators=10, max_depth=5),
    "sklearn-extra-trees-binary": lambda: _sk("ExtraTreesClassifier", n_estimators=10, max_depth=6),
    "sklearn-extra-trees-two-outputs": lambda: _two_output_extra_trees(),
    "sklearn-gradient-boosting-binary": lambda: _sk("GradientBoostingClassifier", nan=0.0, n_estimators=20),
    "sklearn-gradient-boosting-multiclass": lambda: _sk("GradientBoostingClassifier", k=3, nan=0.0, n_estimators=10),
    "sklearn-gradient-boosting-exponential": lambda: _sk("GradientBoostingClassifier", nan=0.0, loss="exponential",
                                                          n_estimators=10),
    "sklearn-gradient-boosting-1000-trees": lambda: _sk("GradientBoostingRegressor", nan=0.0, n_estimators=1000,
                                                         max_depth=2, data=_data(n=100, f=3, nan=0.0)),
    "sklearn-hist-gradient-boosting-categorical": lambda: _sk(
        "HistGradientBoostingClassifier", max_iter=15, categorical_features=[5], data=_data(cat_feature=5)),
    "sklearn-hist-gradient-boosting-multiclass": lambda: _sk("HistGradientBoostingClassifier", k=3, max_iter=10),
    "sklearn-hist-gradient-boosting-poisson": lambda: _sk("HistGradientBoostingRegressor", loss="poisson",
                                                          max_iter=10, data=_poisson_data()),
})


def _two_output_extra_trees():
    from sklearn.ensemble import ExtraTreesRegressor

    X, signal, _ = _data()
    return ExtraTreesRegressor(n_estimators=5, max_depth=6, random_state=0).fit(X, np.c_[signal, signal ** 2]), X


@cache
def compiled_case(name):
    """(model, IR, hard rows) of a case, trained once per session."""
    model, X = CASES[name]()
    ensemble = to_ir(model)
    library = type(model).__module__.split(".")[0]
    finite = library == "sklearn"  # scikit-learn refuses infinities
    nan = not type(model).__name__.startswith("GradientBoosting")  # and GradientBoosting NaN
    rows = hard_rows(ensemble, X[:200], np.random.default_rng(1), finite=finite, nan=nan)
    return model, ensemble, rows


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_parity(case, backend):
    model, ensemble, rows = compiled_case(case)
    strategy = REGISTRY.get(backend)
    reason = strategy.applicable(ensemble)
    if reason is not None:  # the only acceptable outcome besides parity: a clear refusal
        with pytest.raises(ConversionError, match=backend):
            strategy.build(ensemble)
        return
    assert_parity(model, ensemble, strategy.build(ensemble), rows)


def test_cases_cover_the_shapes_the_issue_names():
    shapes = {compiled_case(name)[1].task for name in CASES if "1000" not in name}
    assert shapes == {"binary", "multiclass", "regression"}
    assert compiled_case("lightgbm-1000-trees")[1].n_trees == 1000
    assert compiled_case("sklearn-gradient-boosting-1000-trees")[1].n_trees == 1000
    assert compiled_case("xgboost-1000-trees")[1].n_trees == 1000
    assert compiled_case("lightgbm-500-features")[1].n_features == 500
    assert compiled_case("lightgbm-one-tree")[1].n_trees == 1
    assert compiled_case("lightgbm-one-feature")[1].n_features == 1
    assert compiled_case("lightgbm-binary-nan-categorical")[1].categorical_features == {5}
    assert compiled_case("sklearn-hist-gradient-boosting-categorical")[1].categorical_features == {5}
    assert compiled_case("lightgbm-regression-zero-as-missing")[1].zero_as_missing

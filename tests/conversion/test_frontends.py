"""Frontends: each library's models become an IR that predicts exactly like the library.

Checked with the NumPy reference evaluator (no ONNX involved), so a failure here is the
frontend's; `test_parity.py` then checks the compiled graphs.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flock_nbext.conversion.backends import numpy_reference as reference
from flock_nbext.conversion.frontends import Frontend, FrontendRegistry, supports, to_ir
from flock_nbext.conversion.ir import make_tree
from flock_nbext.errors import ConversionError, UnsupportedModelError
from tests.conversion.conftest import hard_rows, original_outputs
from tests.conversion.test_parity import CASES, compiled_case

# --- exactness of the float32 thresholds ------------------------------------------------------

def _one_split(threshold: float, op: str):
    return make_tree([0, -1, -1], [threshold, np.nan, np.nan], [1, -1, -1], [2, -1, -1],
                     [False, False, False], [0.0, 1.0, 2.0], op=op)


@settings(max_examples=300, deadline=None, database=None)
@given(t=st.floats(allow_nan=False, allow_infinity=False, width=64),
       steps=st.integers(-3, 3), op=st.sampled_from(["<=", "<"]), exact32=st.booleans())
def test_float32_threshold_decides_like_the_library(t, steps, op, exact32):
    """For float32 x: x <= t32 iff double(x) <= t (LightGBM, sklearn) / x < t (XGBoost)."""
    with np.errstate(over="ignore"):
        if exact32:  # XGBoost stores float32 thresholds
            t = float(np.float32(t)) if np.isfinite(np.float32(t)) else 1.0
        t32 = _one_split(t, op).float32_thresholds()[0]
        x = np.float32(t)
        for _ in range(abs(steps)):
            x = np.nextafter(x, np.float32(np.inf if steps > 0 else -np.inf))
    expected = float(x) <= t if op == "<=" else float(x) < t
    assert bool(x <= t32) == expected


def test_rounding_to_nearest_would_flip_a_branch():
    t = 0.1  # float32(0.1) = 0.10000000149 > 0.1: the row at float32(0.1) must go right
    t32 = _one_split(t, "<=").float32_thresholds()[0]
    assert t32 < np.float32(t) and not (np.float32(0.1) <= t32)
    assert _one_split(0.5, "<").float32_thresholds()[0] == np.nextafter(np.float32(0.5), np.float32(0))


# --- every case: the IR answers like the library ------------------------------------------------

@pytest.mark.parametrize("case", sorted(CASES))
def test_reference_evaluation_of_the_ir_matches_the_library(case):
    model, ensemble, rows = compiled_case(case)
    expected, _ = original_outputs(model, rows)
    got = reference.predict(ensemble, rows)
    tol = 1e-5 if case.startswith("xgboost") else 1e-9  # XGBoost itself sums in float32
    np.testing.assert_allclose(got, expected, atol=tol, rtol=tol)


def test_ir_describes_the_model():
    model, ensemble, _ = compiled_case("lightgbm-multiclass")
    assert ensemble.source == "lightgbm.LGBMClassifier"
    assert ensemble.task == "multiclass" and ensemble.n_classes == 3 and ensemble.post_transform == "softmax"
    assert list(ensemble.classes) == list(model.classes_)
    assert ensemble.n_trees == 3 * 20 and ensemble.n_features == 6
    assert [t.outputs for t in ensemble.trees[:4]] == [(0,), (1,), (2,), (0,)]
    by_feature = ensemble.thresholds_by_feature()
    assert set(by_feature) <= set(range(6)) - {5}
    assert all(v.dtype == np.float32 and np.all(np.diff(v) > 0) for v in by_feature.values())
    assert ensemble.max_depth >= 1 and ensemble.n_nodes > ensemble.n_trees


def test_lightgbm_booster_and_link_objectives(rng):
    import lightgbm as lgb

    X = rng.normal(size=(300, 4)).astype(np.float32)
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) > 0).astype(int)
    params = {"objective": "binary", "num_leaves": 6, "verbose": -1, "sigmoid": 0.7}
    booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=10)
    ensemble = to_ir(booster)
    assert ensemble.source == "lightgbm.Booster" and ensemble.post_scale == 0.7
    rows = hard_rows(ensemble, X, rng)
    np.testing.assert_allclose(reference.predict(ensemble, rows)[:, 1], booster.predict(rows), atol=1e-12)
    for objective in ("cross_entropy", "cross_entropy_lambda", "tweedie", "gamma"):
        target = y if objective.startswith("cross") else np.abs(np.nan_to_num(X[:, 1])) + 0.1
        booster = lgb.train({"objective": objective, "num_leaves": 4, "verbose": -1}, lgb.Dataset(X, target),
                            num_boost_round=5)
        got = reference.predict(to_ir(booster), rows)[:, 0]
        np.testing.assert_allclose(got, booster.predict(rows), rtol=1e-12, err_msg=objective)


def test_lightgbm_random_forest_mode_averages(rng):
    import lightgbm as lgb

    X = rng.normal(size=(200, 3)).astype(np.float32)
    model = lgb.LGBMRegressor(boosting_type="rf", n_estimators=8, subsample=0.7, subsample_freq=1,
                              num_leaves=5, verbose=-1).fit(X, X[:, 0] * 2)
    rows = hard_rows(to_ir(model), X, rng)
    np.testing.assert_allclose(reference.predict(to_ir(model), rows)[:, 0], model.predict(rows), rtol=1e-12)


def test_lightgbm_linear_trees_are_refused(rng):
    import lightgbm as lgb

    X = rng.normal(size=(200, 2))
    model = lgb.LGBMRegressor(n_estimators=2, linear_tree=True, verbose=-1).fit(X, X[:, 0])
    with pytest.raises(ConversionError, match="linear trees"):
        to_ir(model)


def test_xgboost_booster_dart_and_early_stopping(rng):
    import xgboost as xgb

    X = rng.normal(size=(300, 4)).astype(np.float32)
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) + rng.normal(size=300) > 0).astype(int)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "nthread": 1}, xgb.DMatrix(X, y), 8)
    ensemble = to_ir(booster)
    rows = hard_rows(ensemble, X, rng, finite=True)  # a DMatrix refuses infinities
    np.testing.assert_allclose(reference.predict(ensemble, rows)[:, 1], booster.predict(xgb.DMatrix(rows)),
                               atol=1e-6)
    dart = xgb.XGBRegressor(booster="dart", n_estimators=6, rate_drop=0.3, max_depth=3).fit(X, np.nan_to_num(X[:, 1]))
    np.testing.assert_allclose(reference.predict(to_ir(dart), rows)[:, 0], dart.predict(rows), atol=1e-5)
    stopped = xgb.XGBClassifier(n_estimators=200, max_depth=3, early_stopping_rounds=3, learning_rate=0.5)
    stopped.fit(X[:200], y[:200], eval_set=[(X[200:], y[200:])], verbose=False)
    ensemble = to_ir(stopped)
    assert ensemble.n_trees == stopped.best_iteration + 1 < 200
    np.testing.assert_allclose(reference.predict(ensemble, rows), stopped.predict_proba(rows), atol=1e-6)


def test_xgboost_refuses_what_it_cannot_compile_exactly(rng):
    import xgboost as xgb

    X = rng.normal(size=(100, 2)).astype(np.float32)
    with pytest.raises(ConversionError, match="missing=-999"):
        to_ir(xgb.XGBRegressor(n_estimators=2, missing=-999.0).fit(X, X[:, 0]))
    with pytest.raises(ConversionError, match="gblinear"):
        to_ir(xgb.XGBRegressor(n_estimators=2, booster="gblinear").fit(X, X[:, 0]))


def test_hist_gradient_boosting_maps_encoded_categories_back(rng):
    from sklearn.ensemble import HistGradientBoostingRegressor

    X = rng.normal(size=(400, 3)).astype(np.float32)
    X[:, 0] = rng.choice([0, 3, 5, 9], 400)  # sparse codes, moved to the front by the encoder
    X[rng.random(400) < 0.1, 0] = np.nan
    y = np.isin(X[:, 0], [3, 9]) * 2.0 + X[:, 2]
    model = HistGradientBoostingRegressor(max_iter=10, categorical_features=[0]).fit(X, y)
    ensemble = to_ir(model)
    assert ensemble.categorical_features == {0} and ensemble.categorical_rule == "exact"
    assert set(np.concatenate(list(ensemble.categories_by_feature().values()))) <= {0, 3, 5, 9}
    rows = hard_rows(ensemble, X, rng, finite=True)
    np.testing.assert_allclose(reference.predict(ensemble, rows)[:, 0], model.predict(rows), rtol=1e-12)


# --- what is not a tree ensemble, or not trained ------------------------------------------------

def test_unsupported_models_name_the_model_and_list_what_is_supported():
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(UnsupportedModelError) as info:
        to_ir(LogisticRegression())
    message = str(info.value)
    assert "sklearn.linear_model" in message and "LogisticRegression" in message
    for name in ("lightgbm.LGBMClassifier", "xgboost.Booster", "sklearn.HistGradientBoostingRegressor"):
        assert name in message
    assert not supports(LogisticRegression()) and not supports(object())
    with pytest.raises(UnsupportedModelError, match="builtins.dict"):
        to_ir({})


@pytest.mark.parametrize("make", [
    lambda: __import__("lightgbm").LGBMClassifier(),
    lambda: __import__("xgboost").XGBRegressor(),
    lambda: __import__("sklearn.ensemble", fromlist=["x"]).RandomForestClassifier(),
    lambda: __import__("sklearn.ensemble", fromlist=["x"]).HistGradientBoostingRegressor(),
    lambda: __import__("sklearn.tree", fromlist=["x"]).DecisionTreeRegressor(),
], ids=["lightgbm", "xgboost", "random-forest", "hist-gradient-boosting", "decision-tree"])
def test_untrained_models_are_a_clear_error(make):
    model = make()
    assert supports(model)
    with pytest.raises(ConversionError, match="not fitted"):
        to_ir(model)


def test_registry_refuses_duplicates():
    registry = FrontendRegistry()
    frontend = Frontend("x", "x", ("X",), lambda m: m)
    registry.register(frontend)
    with pytest.raises(ValueError, match="already registered"):
        registry.register(frontend)


def test_importing_the_compiler_loads_no_ml_library():
    code = ("import sys, flock_nbext.conversion, flock_nbext.conversion.frontends, "
            "flock_nbext.conversion.backends, flock_nbext.conversion.backends.lowering; "
            "heavy = {'onnx', 'onnxruntime', 'lightgbm', 'xgboost', 'sklearn', 'torch', 'IPython', 'mlflow'}; "
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_early_stopped_lightgbm_and_multi_target_xgboost(rng):
    import lightgbm as lgb
    import xgboost as xgb

    X = rng.normal(size=(400, 4)).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=400) > 0).astype(int)
    model = lgb.LGBMClassifier(n_estimators=300, learning_rate=0.3, verbose=-1)
    model.fit(X[:300], y[:300], eval_set=[(X[300:], y[300:])], callbacks=[lgb.early_stopping(5, verbose=False)])
    ensemble = to_ir(model)
    assert ensemble.n_trees == model.best_iteration_ < 300
    np.testing.assert_allclose(reference.predict(ensemble, X), model.predict_proba(X), atol=1e-12)
    targets = np.c_[X[:, 0] * 2, X[:, 1] - X[:, 2]]
    two = xgb.XGBRegressor(n_estimators=5, max_depth=3).fit(X, targets)
    ensemble = to_ir(two)
    assert ensemble.n_outputs == 2
    np.testing.assert_allclose(reference.predict(ensemble, X), two.predict(X), atol=1e-5)
    vector_leaves = xgb.XGBRegressor(n_estimators=2, max_depth=2, multi_strategy="multi_output_tree").fit(X, targets)
    with pytest.raises(ConversionError, match="vector leaves"):
        to_ir(vector_leaves)

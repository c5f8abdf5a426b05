"""Backends: the graph contract, exact decisions on hand-made trees, applicability and options."""

from __future__ import annotations

import numpy as np
import pytest

from flock_nbext.conversion.backends import REGISTRY, Backend, BackendRegistry
from flock_nbext.conversion.backends.numpy_reference import predict as reference_predict
from flock_nbext.conversion.ir import LIGHTGBM_ZERO_THRESHOLD, TreeEnsemble, make_tree
from flock_nbext.errors import ConversionError
from tests.conversion.conftest import run_onnx
from tests.conversion.test_parity import compiled_case

BACKENDS = REGISTRY.names()


def _stump_ensemble(threshold, op="<=", *, missing_left=False, task="regression", **kw):
    """One split on feature 0: left leaf 1.0, right leaf 2.0 (classifier: raw -1 / +1)."""
    values = [0.0, 1.0, 2.0] if task == "regression" else [0.0, -1.0, 1.0]
    tree = make_tree([0, -1, -1], [threshold, np.nan, np.nan], [1, -1, -1], [2, -1, -1],
                     [missing_left, False, False], values, op=op)
    extra = {"post_transform": "sigmoid", "classes": np.array(["no", "yes"])} if task == "binary" else {}
    return TreeEnsemble(n_features=2, task=task, n_outputs=1, base_score=np.zeros(1), trees=(tree,),
                        **extra, **kw)


def test_registry_lists_the_four_strategies_and_refuses_duplicates():
    assert BACKENDS == ["tree_ensemble", "tree_ensemble_f32", "gemm", "tree_traversal", "perfect_tree_traversal",
                        "gemm_blocked", "perfect_tree_traversal_blocked"]
    registry = BackendRegistry()
    registry.register(Backend("x", "x", ".gemm"))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(Backend("x", "y", ".gemm"))
    with pytest.raises(ConversionError, match="no strategy named 'nope'; known: tree_ensemble"):
        REGISTRY.get("nope")


@pytest.mark.parametrize("backend", BACKENDS)
def test_decisions_are_exact_beside_float64_and_float32_thresholds(backend):
    strategy = REGISTRY.get(backend)
    lo, on, hi = np.nextafter(np.float32(0.1), np.float32(0)), np.float32(0.1), np.nextafter(np.float32(0.1), 1)
    X = np.array([[lo, 0], [on, 0], [hi, 0], [np.nan, 0], [np.inf, 0], [-np.inf, 0]], dtype=np.float32)
    # double(x) <= 0.1: float32(0.1) is above 0.1, so only `lo` goes left; NaN goes right
    got = run_onnx(strategy.build(_stump_ensemble(0.1)), X)["variable"][:, 0]
    np.testing.assert_array_equal(got, [1, 2, 2, 2, 2, 1])
    # x < float32(0.1) (XGBoost): `on` goes right; NaN follows the default direction (left)
    got = run_onnx(strategy.build(_stump_ensemble(float(on), "<", missing_left=True)), X)["variable"][:, 0]
    np.testing.assert_array_equal(got, [1, 2, 2, 1, 2, 1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_lightgbm_input_rules_tiny_values_are_zero_and_zero_can_be_missing(backend):
    strategy = REGISTRY.get(backend)
    ensemble = _stump_ensemble(-LIGHTGBM_ZERO_THRESHOLD, zero_threshold=LIGHTGBM_ZERO_THRESHOLD)
    X = np.array([[-1e-35, 0], [-2e-35, 0], [1e-36, 0]], dtype=np.float32)  # -1e-35f is read as 0 > t
    np.testing.assert_array_equal(run_onnx(strategy.build(ensemble), X)["variable"][:, 0], [2, 1, 2])
    zero_missing = _stump_ensemble(1.0, missing_left=False, zero_threshold=LIGHTGBM_ZERO_THRESHOLD,
                                   zero_as_missing=frozenset({0}))
    X = np.array([[0, 0], [-0.0, 0], [1e-36, 0], [0.5, 0], [np.nan, 0]], dtype=np.float32)
    np.testing.assert_array_equal(run_onnx(strategy.build(zero_missing), X)["variable"][:, 0], [2, 2, 2, 1, 2])


_Z = np.float32(LIGHTGBM_ZERO_THRESHOLD)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("threshold", [-2 * _Z, -_Z, -_Z / 2, -0.0, 0.0, _Z / 2, _Z, 2 * _Z])
def test_tiny_value_rule_folded_into_thresholds_decides_like_the_rule(backend, threshold):
    """LightGBM reads |x| <= 1e-35 as 0; flock folds that into thresholds instead of a graph step."""
    ensemble = _stump_ensemble(float(threshold), zero_threshold=LIGHTGBM_ZERO_THRESHOLD)
    around = [-3 * _Z, -2 * _Z, -_Z, -_Z / 2, np.float32(-1e-45), -0.0, 0.0, np.float32(1e-45), _Z / 2, _Z,
              2 * _Z, 3 * _Z]
    column = sorted({float(v) for v in around} | {float(np.nextafter(np.float32(v), np.float32(s)))
                                                  for v in around for s in (-1, 1)})
    X = np.array([[v, 0.0] for v in column] + [[np.nan, 0.0]], dtype=np.float32)
    model = REGISTRY.get(backend).build(ensemble)
    assert not {"Abs", "Where"} & {n.op_type for n in model.graph.node}  # no input step left in the graph
    np.testing.assert_array_equal(run_onnx(model, X)["variable"][:, 0], reference_predict(ensemble, X)[:, 0])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", ["lightgbm-multiclass", "sklearn-random-forest-regressor",
                                  "sklearn-extra-trees-two-outputs"])
def test_graph_contract(case, backend):
    import onnx

    _, ensemble, rows = compiled_case(case)
    if REGISTRY.get(backend).applicable(ensemble) is not None:
        with pytest.raises(ConversionError, match=f"strategy {backend} does not apply"):
            REGISTRY.get(backend).build(ensemble)
        return
    model = REGISTRY.get(backend).build(ensemble)
    onnx.checker.check_model(model, full_check=True)
    (x,) = model.graph.input
    assert x.name == "X" and x.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    dims = x.type.tensor_type.shape.dim
    assert dims[0].dim_param == "N" and dims[1].dim_value == ensemble.n_features
    assert "ZipMap" not in {n.op_type for n in model.graph.node}
    for n in (1, 7):
        out = run_onnx(model, rows[:n])
        if ensemble.task == "regression":
            assert list(out) == ["variable"] and out["variable"].shape == (n, ensemble.n_outputs)
            assert out["variable"].dtype == np.float32
        else:
            assert list(out) == ["label", "probabilities"]
            assert out["label"].shape == (n,) and out["label"].dtype == np.int64
            assert out["probabilities"].shape == (n, ensemble.n_classes)
            assert out["probabilities"].dtype == np.float32


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("opset", [13, 15, 17, 21])
def test_older_and_newer_opsets_build_the_same_answers(backend, opset):
    import onnx

    _, ensemble, rows = compiled_case("lightgbm-binary-nan-categorical")
    model = REGISTRY.get(backend).build(ensemble, opset=opset)
    onnx.checker.check_model(model)
    assert model.opset_import[0].version == opset
    reference = run_onnx(REGISTRY.get(backend).build(ensemble), rows)
    np.testing.assert_array_equal(run_onnx(model, rows)["probabilities"], reference["probabilities"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_binary_classifier_gives_two_probability_columns_and_label_indices(backend):
    model = REGISTRY.get(backend).build(_stump_ensemble(0.0, task="binary"))
    out = run_onnx(model, np.array([[-1, 0], [1, 0]], dtype=np.float32))
    np.testing.assert_allclose(out["probabilities"], [[1 - 1 / (1 + np.e), 1 / (1 + np.e)],
                                                      [1 / (1 + np.e), 1 - 1 / (1 + np.e)]], rtol=1e-6)
    np.testing.assert_array_equal(out["label"], [0, 1])


def test_applicability_gives_reasons_and_build_refuses():
    _, deep, _ = compiled_case("sklearn-extra-tree-classifier")
    assert REGISTRY.get("tree_traversal").applicable(deep) is None
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 3)).astype(np.float32)
    from flock_nbext.conversion.frontends import to_ir

    big = to_ir(DecisionTreeRegressor(random_state=0).fit(X, rng.normal(size=3000)))  # ~3000 leaves, deep
    reason = REGISTRY.get("perfect_tree_traversal").applicable(big)
    assert reason is not None and reason.startswith(f"depth {big.max_depth} > ")
    with pytest.raises(ConversionError, match="perfect_tree_traversal does not apply: depth"):
        REGISTRY.get("perfect_tree_traversal").build(big)
    reason = REGISTRY.get("gemm").applicable(big)
    assert reason is not None and "too large for GEMM" in reason
    assert REGISTRY.get("tree_ensemble").applicable(big) is None


@pytest.mark.parametrize("backend", ["tree_ensemble", "gemm", "tree_traversal", "perfect_tree_traversal"])
def test_float64_accumulation_keeps_a_thousand_trees_within_tolerance(backend):
    import importlib

    model, ensemble, rows = compiled_case("sklearn-gradient-boosting-1000-trees")
    strategy = importlib.import_module(REGISTRY.get(backend).module, "flock_nbext.conversion.backends")
    expected = model.predict(rows)
    exact = run_onnx(strategy.build(ensemble, accumulate="float64"), rows)["variable"][:, 0]
    fast = run_onnx(strategy.build(ensemble, accumulate="float32"), rows)["variable"][:, 0]  # unchecked
    assert np.abs(exact - expected).max() <= np.abs(fast - expected).max() + 1e-7
    np.testing.assert_allclose(exact, expected, atol=1e-5, rtol=1e-6)
    with pytest.raises(ValueError, match="accumulate"):
        strategy.build(ensemble, accumulate="float16")


def test_float32_sums_are_offered_only_where_they_stay_within_tolerance():
    f32 = REGISTRY.get("tree_ensemble_f32")
    assert f32.applicable(compiled_case("lightgbm-binary-nan-categorical")[1]) is None
    reason = f32.applicable(compiled_case("sklearn-gradient-boosting-1000-trees")[1])
    assert reason is not None and reason.startswith("float32 sums of 1000 trees may drift by")
    with pytest.raises(ConversionError, match="tree_ensemble_f32 does not apply: float32 sums"):
        f32.build(compiled_case("sklearn-gradient-boosting-1000-trees")[1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_binary_label_margin_follows_a_float32_sigmoid(backend):
    """XGBoost says class 1 only once its float32 sigmoid exceeds 0.5: not for margins below 1.2e-7."""
    tree = make_tree([0, -1, -1], [0.0, np.nan, np.nan], [1, -1, -1], [2, -1, -1], [False] * 3,
                     [0.0, 1e-7, 2e-7])
    margin = float(np.nextafter(np.float32(1.2318974e-07), np.float32(0)))
    ensemble = TreeEnsemble(n_features=1, task="binary", n_outputs=1, base_score=np.zeros(1), trees=(tree,),
                            post_transform="sigmoid", classes=np.array([0, 1]), label_margin=margin)
    out = run_onnx(REGISTRY.get(backend).build(ensemble), np.array([[-1], [1]], dtype=np.float32))
    np.testing.assert_array_equal(out["label"], [0, 1])


def test_xgboost_intercept_is_read_exactly():
    import xgboost as xgb

    from flock_nbext.conversion.frontends import to_ir

    X = np.random.default_rng(0).normal(size=(100, 2)).astype(np.float32)
    model = xgb.XGBClassifier(n_estimators=2, max_depth=2, base_score=0.5).fit(X, (X[:, 0] > 0).astype(int))
    ensemble = to_ir(model)
    assert ensemble.base_score.tolist() == [0.0] and ensemble.label_margin > 0


def test_classifiers_compile_to_one_operator_node():
    """At batch 1 every node costs about a microsecond: the classifier operator emits both outputs."""
    for case in ("lightgbm-one-tree", "xgboost-binary-nan", "xgboost-multiclass", "sklearn-gradient-boosting-binary"):
        _, ensemble, _ = compiled_case(case)
        ops = [n.op_type for n in REGISTRY.get("tree_ensemble_f32").build(ensemble).graph.node]
        assert ops == ["TreeEnsembleClassifier"], (case, ops)
        ops = [n.op_type for n in REGISTRY.get("tree_ensemble").build(ensemble).graph.node]
        assert ops == ["Cast", "TreeEnsembleClassifier"], (case, ops)


@pytest.mark.parametrize("backend", BACKENDS)
def test_forest_labels_break_ties_like_scikit_learn(backend):
    """Averaged class probabilities often tie (small leaves, few trees): the first class must win."""
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

    from flock_nbext.conversion.frontends import to_ir

    for seed, cls in enumerate([RandomForestClassifier, ExtraTreesClassifier] * 2):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(60, 3)).astype(np.float32)
        model = cls(n_estimators=3 + seed, max_depth=4, min_samples_leaf=1 + seed, random_state=seed)
        model.fit(X, rng.integers(0, 3, 60))
        ensemble = to_ir(model)
        strategy = REGISTRY.get(backend)
        if strategy.applicable(ensemble) is not None:
            continue
        rows = rng.normal(size=(2000, 3)).astype(np.float32)
        labels = np.asarray(ensemble.classes)[run_onnx(strategy.build(ensemble), rows)["label"]]
        np.testing.assert_array_equal(labels, model.predict(rows))

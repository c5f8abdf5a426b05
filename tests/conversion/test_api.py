"""convert() end to end on tree ensembles: answers equal the original's, labels kept, report, save/reload."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from flock_nbext import convert as public_convert
from flock_nbext.conversion.api import convert
from flock_nbext.errors import ConversionError, UnsupportedModelError

FAST = {"rounds": 1, "progress": False}
ONE = {**FAST, "candidates": ["tree_ensemble"]}  # tests about the result, not the choice: one strategy


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((600, 12))
    X[rng.uniform(size=X.shape) < 0.05] = np.nan
    y = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) * np.nan_to_num(X[:, 2]) > 0).astype(int)
    y3 = np.digitize(np.nan_to_num(X[:, 3]), [-0.5, 0.5])
    return X, y, y3


@pytest.fixture(scope="module")
def lgbm_binary(data):
    import lightgbm as lgb

    X, y, _ = data
    return lgb.LGBMClassifier(n_estimators=40, num_leaves=8, verbose=-1).fit(X, y)


def test_lightgbm_classifier_matches_the_original_on_a_synthesised_sample(lgbm_binary, data):
    X, _, _ = data
    result = convert(lgbm_binary, **FAST)
    np.testing.assert_allclose(result.predict_proba(X), lgbm_binary.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(result.predict(X), lgbm_binary.predict(X))
    rows = {r["candidate"]: r for r in result.report}
    chosen = [r for r in result.report if r["chosen"]]
    assert [r["candidate"] for r in chosen] == [result.candidate]
    assert chosen[0]["status"] == "passed" and chosen[0]["max_abs_diff"] <= 1e-5
    assert chosen[0]["batch1_p50_us"] > 0 and chosen[0]["batchN_rows_per_s"] > 0 and chosen[0]["size_bytes"] > 0
    assert rows["original (LGBMClassifier.predict_proba)"]["status"] == "reference"
    assert set(result.speedup) == {"batch1", "batchN", "batch_n"} and result.speedup["batch_n"] == 1000
    assert result.n_features == 12 and result.input_name == "X"
    assert isinstance(result.onnx_model, onnx.ModelProto)


def test_compiled_candidates_are_exact_on_boundary_rows_where_the_baseline_is_not(data):
    """On thresholds and one float32 step beside them, the onnxmltools route flips branches."""
    import lightgbm as lgb

    X, y, _ = data
    model = lgb.LGBMClassifier(n_estimators=100, num_leaves=8, verbose=-1).fit(X, y)
    result = convert(model, **FAST)
    rows = {r["candidate"]: r for r in result.report}
    baseline = rows["onnxmltools (baseline)"]
    assert baseline["status"] == "failed validation"
    assert "boundary" in baseline["reason"]
    assert result.candidate != "onnxmltools (baseline)"
    assert rows[result.candidate]["kind"] == "compiled"


def test_string_class_labels_survive_predict_and_save(tmp_path, data):
    import lightgbm as lgb

    X, _, y3 = data
    labels = np.array(["low", "mid", "high"])[y3]
    model = lgb.LGBMClassifier(n_estimators=15, num_leaves=6, verbose=-1).fit(X, labels)
    result = convert(model, **FAST)
    assert result.predict(X).dtype.kind in "UO"
    np.testing.assert_array_equal(result.predict(X), model.predict(X))
    np.testing.assert_allclose(result.predict_proba(X), model.predict_proba(X), atol=1e-5)

    path = result.save(tmp_path / "model.onnx")
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    label, proba = session.run(["label", "probabilities"], {"X": X.astype(np.float32)})
    np.testing.assert_array_equal(label.astype(str), model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-5)


def test_booster_answers_keep_the_boosters_shapes(data):
    import lightgbm as lgb

    X, y, y3 = data
    binary = lgb.train({"objective": "binary", "num_leaves": 8, "verbose": -1}, lgb.Dataset(X, y), 20)
    result = convert(binary, X[:200], **ONE)
    assert result.predict(X).shape == (len(X),)
    np.testing.assert_allclose(result.predict(X), binary.predict(X), atol=1e-5)
    assert result.predict_proba(X).shape == (len(X), 2)

    multi = lgb.train({"objective": "multiclass", "num_class": 3, "verbose": -1}, lgb.Dataset(X, y3), 10)
    result = convert(multi, X[:200], **ONE)
    np.testing.assert_allclose(result.predict(X), multi.predict(X), atol=1e-5)

    target = np.nan_to_num(X[:, 0]) * 100 + 3
    reg = lgb.train({"objective": "regression", "verbose": -1}, lgb.Dataset(X, target), 20)
    result = convert(reg, X[:200], **ONE)
    assert result.predict(X).shape == (len(X),)
    np.testing.assert_allclose(result.predict(X), reg.predict(X), rtol=1e-5, atol=1e-4)
    with pytest.raises(ConversionError, match="not a classifier"):
        result.predict_proba(X)


def test_save_then_reload_gives_the_same_answers(tmp_path, lgbm_binary, data):
    X, _, _ = data
    result = convert(lgbm_binary, X[:100], **ONE)
    path = result.save(tmp_path / "m.onnx", class_labels=False)
    reloaded = onnx.load(path)
    session = ort.InferenceSession(reloaded.SerializeToString(), providers=["CPUExecutionProvider"])
    (proba,) = session.run(["probabilities"], {"X": X.astype(np.float32)})
    np.testing.assert_allclose(proba, result.predict_proba(X), atol=0)
    with pytest.raises(ConversionError, match="does not exist"):
        result.save(tmp_path / "missing" / "m.onnx")


def test_the_public_api_and_the_report_table(lgbm_binary, data):
    X, _, _ = data
    result = public_convert(lgbm_binary, X[:50], batch_size=64, threads=1, **ONE)
    text = result.report_table()
    assert f"{result.candidate} *" in text and "batch-64 rows/s" in text
    md = result.report_table("markdown")
    assert md.startswith("| candidate | status |") and "original (LGBMClassifier.predict_proba)" in md
    assert result.speedup["batch_n"] == 64


def test_mlflow_parts_are_plain_and_complete(lgbm_binary, data):
    X, _, _ = data
    parts = convert(lgbm_binary, X[:50], **ONE).to_mlflow_parts()
    assert parts.input_example.dtype == np.float32 and parts.input_example.shape == (5, 12)
    np.testing.assert_array_equal(parts.output_example["label"], lgbm_binary.predict(parts.input_example))
    assert set(parts.metrics) >= {"flock.onnx.speedup_batch1", "flock.onnx.speedup_batchN"}
    assert parts.tags["flock.onnx.candidate"] and parts.report_markdown.startswith("|")
    assert any(r["chosen"] for r in parts.report_rows)


def test_untrained_model_is_refused_with_its_name():
    import lightgbm as lgb

    with pytest.raises(ConversionError, match="LGBMClassifier is not fitted"):
        convert(lgb.LGBMClassifier())


@pytest.mark.parametrize("bad, message", [
    (np.zeros((5, 3)), "sample has 3 features but LGBMClassifier takes 12"),
    (np.array([["a"] * 12] * 4), "sample has dtype <U1"),
    (np.zeros(12), "sample must be 2-D"),
    (np.zeros((0, 12)), "sample has no rows"),
])
def test_bad_samples_are_named(lgbm_binary, bad, message):
    with pytest.raises(ConversionError, match=message):
        convert(lgbm_binary, bad, **FAST)


def test_predict_checks_its_rows_too(lgbm_binary, data):
    X, _, _ = data
    result = convert(lgbm_binary, X[:50], **ONE)
    with pytest.raises(ConversionError, match="sample has 2 features"):
        result.predict(X[:, :2])


def test_unsupported_model_lists_what_is_supported():
    with pytest.raises(UnsupportedModelError, match="flock converts LightGBM and XGBoost"):
        convert(object())


def test_quantisation_is_refused_for_trees(lgbm_binary):
    with pytest.raises(ConversionError, match="neural models only; LGBMClassifier is a tree ensemble"):
        convert(lgbm_binary, quantize=True)


@pytest.mark.parametrize("option, message", [
    ({"batch_size": 0}, "batch_size must be a positive integer"),
    ({"threads": 0}, "threads must be a positive integer"),
    ({"tolerance": -1.0}, "tolerance must be a positive number"),
    ({"candidates": ["no-such-strategy"]}, "unknown candidate 'no-such-strategy'"),
])
def test_bad_options_are_named(lgbm_binary, option, message):
    with pytest.raises(ConversionError, match=message):
        convert(lgbm_binary, **option)


def test_a_model_too_large_for_a_strategy_is_named_in_the_report_and_the_error():
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(2)
    X = rng.standard_normal((3000, 4))
    deep = DecisionTreeRegressor(random_state=0).fit(X, rng.standard_normal(3000))
    assert deep.get_depth() > 14
    result = convert(deep, X[:100], **FAST)
    rows = {r["candidate"]: r for r in result.report}
    assert rows["perfect_tree_traversal"]["status"] == "not applicable"
    assert "too deep for perfect tree traversal" in rows["perfect_tree_traversal"]["reason"]
    np.testing.assert_allclose(result.predict(X), deep.predict(X.astype(np.float32)), rtol=1e-5, atol=1e-5)
    with pytest.raises(ConversionError, match=r"no converter could build DecisionTreeRegressor: "
                                              r"perfect_tree_traversal: not applicable \(depth \d+ > 14"):
        convert(deep, X[:100], candidates=["perfect_tree_traversal"], **FAST)


def test_lightgbm_categorical_splits_are_exact_inside_and_outside_the_category_sets():
    import lightgbm as lgb

    rng = np.random.default_rng(1)
    X = rng.standard_normal((800, 4))
    X[:, 0] = rng.integers(0, 12, 800)
    y = ((X[:, 0] % 3 == 0) ^ (X[:, 1] > 0)).astype(int)
    model = lgb.LGBMClassifier(n_estimators=20, num_leaves=8, verbose=-1, min_data_per_group=5,
                               cat_smooth=1).fit(X, y, categorical_feature=[0])
    result = convert(model, **FAST)
    unseen = X.copy()
    unseen[:50, 0] = rng.integers(-2, 15, 50)  # negative and never-seen categories
    unseen[50:60, 0] = np.nan
    np.testing.assert_allclose(result.predict_proba(unseen), model.predict_proba(unseen.astype(np.float32)),
                               atol=1e-5)

"""convert() on XGBoost, scikit-learn forests and pipelines, and torch modules."""

from __future__ import annotations

import numpy as np
import pytest

from flock_nbext.conversion.api import convert
from flock_nbext.errors import ConversionError, UnsupportedModelError

FAST = {"rounds": 1, "progress": False}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((500, 7))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    return X, y


def test_xgboost_classifier_and_booster(data):
    import xgboost

    X, y = data
    Xn = X.copy()
    Xn[::7, 2] = np.nan
    clf = xgboost.XGBClassifier(n_estimators=20, max_depth=3).fit(Xn, y)
    result = convert(clf, **FAST)
    np.testing.assert_allclose(result.predict_proba(Xn), clf.predict_proba(Xn), atol=1e-5)
    np.testing.assert_array_equal(result.predict(Xn), clf.predict(Xn))

    booster = clf.get_booster()
    result = convert(booster, Xn[:100], **FAST)
    expected = booster.predict(xgboost.DMatrix(Xn, missing=np.nan))
    assert result.predict(Xn).shape == expected.shape
    np.testing.assert_allclose(result.predict(Xn), expected, atol=1e-5)


def test_xgboost_regressor(data):
    import xgboost

    X, _ = data
    target = 10 * X[:, 0] + X[:, 1] ** 2
    reg = xgboost.XGBRegressor(n_estimators=30, max_depth=4).fit(X, target)
    result = convert(reg, X[:200], candidates=["tree_ensemble"], **FAST)
    np.testing.assert_allclose(result.predict(X), reg.predict(X), rtol=1e-5, atol=1e-4)


def test_random_forest_with_string_classes(data):
    from sklearn.ensemble import RandomForestClassifier

    X, y = data
    labels = np.array(["no", "yes"])[y]
    forest = RandomForestClassifier(n_estimators=15, max_depth=6, random_state=0).fit(X, labels)
    result = convert(forest, X[:200], **FAST)
    np.testing.assert_array_equal(result.predict(X), forest.predict(X))
    np.testing.assert_allclose(result.predict_proba(X), forest.predict_proba(X), atol=1e-5)


def test_hist_gradient_boosting(data):
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, _ = data
    y3 = np.digitize(X[:, 0], [-0.5, 0.5])
    hgb = HistGradientBoostingClassifier(max_iter=15, random_state=0).fit(X, y3)
    result = convert(hgb, X[:200], **FAST)
    # ONNX takes float32: the original is exact on the same float32 rows. (On float64 rows HGB itself
    # answers differently for a few values that float32 rounding moves across a threshold.)
    X32 = X.astype(np.float32)
    np.testing.assert_allclose(result.predict_proba(X32), hgb.predict_proba(X32), atol=1e-5)
    np.testing.assert_array_equal(result.predict(X32), hgb.predict(X32))


def test_pipeline_with_a_linear_model_goes_through_skl2onnx(data):
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = data
    labels = np.array(["cat", "dog"])[y]
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, labels)
    result = convert(pipe, **FAST)  # no sample: synthesised rows (no NaN: linear models refuse them)
    assert result.candidate == "skl2onnx"
    np.testing.assert_array_equal(result.predict(X), pipe.predict(X))
    np.testing.assert_allclose(result.predict_proba(X), pipe.predict_proba(X), atol=1e-5)

    reg = make_pipeline(StandardScaler(), Ridge()).fit(X, X[:, 0] * 3)
    result = convert(reg, X, **FAST)
    assert result.predict(X).shape == (len(X),)
    np.testing.assert_allclose(result.predict(X), reg.predict(X), rtol=1e-5, atol=1e-5)


def test_torch_mlp_and_its_quantised_variant(data):
    import torch

    X, _ = data
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(7, 128), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(128, 128),
                              torch.nn.ReLU(), torch.nn.Linear(128, 3))
    net.train()
    result = convert(net, **FAST)
    assert net.training, "convert() must leave the module's training mode as it found it"
    net.eval()
    with torch.no_grad():
        expected = net(torch.from_numpy(X.astype(np.float32))).numpy()
    np.testing.assert_allclose(result.predict(X), expected, atol=1e-5)
    with pytest.raises(ConversionError, match="not a classifier"):
        result.predict_proba(X)

    result = convert(net, X.astype(np.float32), quantize=True, tolerance=0.1, **FAST)
    rows = {r["candidate"]: r for r in result.report}
    quantised = rows["torch.onnx + int8 dynamic quantisation"]
    assert quantised["status"] == "passed" and 0 < quantised["max_abs_diff"] <= 0.1
    assert quantised["size_bytes"] < rows["torch.onnx"]["size_bytes"]

    result = convert(net, X.astype(np.float32), quantize=True, **FAST)  # default tolerance: int8 is too coarse
    rows = {r["candidate"]: r for r in result.report}
    assert result.candidate == "torch.onnx"
    assert rows["torch.onnx + int8 dynamic quantisation"]["status"] == "failed validation"


def test_torch_sample_width_must_match_the_first_layer():
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(4, 2))
    with pytest.raises(ConversionError, match="sample has 3 features but Sequential takes 4"):
        convert(net, np.zeros((5, 3), dtype=np.float32), **FAST)


def test_a_model_no_converter_handles_is_named():
    from sklearn.semi_supervised import LabelSpreading

    X = np.random.default_rng(0).standard_normal((30, 3))
    model = LabelSpreading().fit(X, np.arange(30) % 2)
    with pytest.raises(UnsupportedModelError, match="no converter could build LabelSpreading: skl2onnx: build failed"):
        convert(model, **FAST)


def test_an_untrained_sklearn_model_is_named():
    from sklearn.ensemble import RandomForestClassifier

    with pytest.raises(ConversionError, match="RandomForestClassifier is not fitted"):
        convert(RandomForestClassifier())


def test_multi_output_regressor_keeps_its_columns(data):
    from sklearn.ensemble import RandomForestRegressor

    X, _ = data
    targets = np.column_stack([X[:, 0] * 2, X[:, 1] - X[:, 2]])
    forest = RandomForestRegressor(n_estimators=5, max_depth=5, random_state=0).fit(X, targets)
    result = convert(forest, X[:100], **FAST)
    assert result.predict(X).shape == (len(X), 2)
    np.testing.assert_allclose(result.predict(X), forest.predict(X.astype(np.float32)), rtol=1e-5, atol=1e-5)


def test_torch_output_shape_per_row_is_kept():
    import torch

    class Score(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(5, 1)

        def forward(self, x):
            return torch.sigmoid(self.linear(x)).squeeze(-1)  # one score per row: shape (N,)

    torch.manual_seed(0)
    net = Score()
    X = np.random.default_rng(0).standard_normal((20, 5)).astype(np.float32)
    result = convert(net, **FAST)
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).numpy()
    assert result.predict(X).shape == (20,)
    np.testing.assert_allclose(result.predict(X), expected, atol=1e-6)

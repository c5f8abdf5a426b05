"""The original model seen through one interface: what it predicts, in the graph contract's terms.

Every candidate graph is checked against `OriginalModel.outputs(X)`; `ConversionResult` uses the
same object's `shape_predict` / `shape_proba` so that its answers have the original's shapes and
class labels (a LightGBM Booster answers positive-class probabilities of shape (N,), an sklearn
classifier answers labels, a torch module answers its own output shape).
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ConversionError, UnsupportedModelError

CLASSIFIER, REGRESSOR, TENSOR = "classifier", "regressor", "tensor"


@dataclasses.dataclass
class OriginalModel:
    """How to ask the original model for reference answers and how to shape ONNX answers like them."""

    model: Any
    name: str
    task: str  # CLASSIFIER, REGRESSOR or TENSOR (a neural module's raw output)
    n_features: int | None
    classes: np.ndarray | None = None
    predict_style: str = "labels"  # labels | proba | positive_proba | ravel | column | raw
    family: str = "sklearn"  # lightgbm | xgboost | sklearn | torch
    native_name: str = ""
    _native: Callable[[np.ndarray], Any] | None = None
    output_shape: tuple[int, ...] | None = None  # a neural module's output shape per row, once seen

    def native(self, X: np.ndarray) -> Any:
        """The original's own prediction call, as a user would time it."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self._native(X)

    def outputs(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Reference answers in the graph contract: probabilities (N, K) or variable (N, k)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = np.asarray(self._reference(X))
        if self.task == CLASSIFIER:
            proba = raw.reshape(len(X), -1).astype(np.float64)
            if proba.shape[1] == 1:
                proba = np.hstack([1.0 - proba, proba])
            return {"probabilities": proba}
        if self.task == TENSOR:
            self.output_shape = tuple(raw.shape[1:])
        return {"variable": raw.reshape(len(X), -1).astype(np.float64)}

    def _reference(self, X: np.ndarray) -> Any:
        m = self.model
        if self.family == "torch":
            return _torch_forward(m, X).detach().cpu().numpy()
        if self.family == "xgboost" and type(m).__name__ == "Booster":
            import xgboost

            return m.predict(xgboost.DMatrix(X, missing=np.nan))
        if self.task == CLASSIFIER and hasattr(m, "predict_proba"):
            return m.predict_proba(X)
        return m.predict(X)

    # shaping ONNX answers like the original's -------------------------------------------------

    def shape_predict(self, outs: dict[str, np.ndarray]) -> np.ndarray:
        """What the original's predict(X) returns, computed from the graph's outputs."""
        if self.task == CLASSIFIER:
            proba = outs["probabilities"]
            if self.predict_style == "positive_proba":
                return proba[:, 1]
            if self.predict_style == "proba":
                return proba
            return self.classes[np.asarray(outs["label"], dtype=np.int64).ravel()]
        var = outs["variable"]
        if self.predict_style == "ravel":
            return var.reshape(-1) if var.shape[1] == 1 else var  # multi-output regressors keep (N, k)
        if self.predict_style == "raw" and self.output_shape is not None:
            return var.reshape((var.shape[0], *self.output_shape))
        return var

    def shape_proba(self, outs: dict[str, np.ndarray]) -> np.ndarray:
        """What predict_proba(X) returns: class probabilities (N, n_classes)."""
        if self.task != CLASSIFIER:
            raise ConversionError(f"{self.name} is not a classifier: it has no predict_proba")
        return outs["probabilities"]


def describe(model: Any, n_features_hint: int | None = None) -> OriginalModel:
    """Wrap a trained model as an OriginalModel; ConversionError if untrained, Unsupported if unknown."""
    name = type(model).__name__
    module = type(model).__module__
    if _is_torch_module(model):
        return _describe_torch(model, n_features_hint)
    if module.startswith("lightgbm") and name == "Booster":
        return _describe_lgb_booster(model)
    if module.startswith("xgboost") and name == "Booster":
        return _describe_xgb_booster(model)
    if hasattr(model, "fit") and hasattr(model, "predict"):
        return _describe_sklearn_api(model)
    raise UnsupportedModelError(
        f"cannot convert a {module}.{name}: flock converts LightGBM and XGBoost models (Booster or "
        "sklearn API), scikit-learn estimators and pipelines, and torch.nn.Module networks")


def _is_torch_module(model: Any) -> bool:
    return any(c.__module__ == "torch.nn.modules.module" and c.__name__ == "Module"
               for c in type(model).__mro__)


def _describe_torch(model: Any, n_features_hint: int | None) -> OriginalModel:
    n_features = n_features_hint  # no Linear layer to read it from: trust the sample's width
    for layer in model.modules():
        if hasattr(layer, "in_features"):
            n_features = int(layer.in_features)
            break
    return OriginalModel(model=model, name=type(model).__name__, task=TENSOR, n_features=n_features,
                         predict_style="raw", family="torch", native_name=f"{type(model).__name__}.forward",
                         _native=lambda X: _torch_forward(model, X))


def _torch_forward(model: Any, X: np.ndarray) -> Any:
    """The module's answer in eval mode (dropout off, batch-norm statistics fixed), as exported."""
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
    finally:
        model.train(was_training)


def _describe_lgb_booster(booster: Any) -> OriginalModel:
    try:
        if booster.num_trees() == 0:
            raise ConversionError("the LightGBM Booster has no trees: train it before convert()")
        head = booster.dump_model(num_iteration=1)
    except ConversionError:
        raise
    except Exception as exc:
        raise ConversionError(f"the LightGBM Booster cannot be read ({exc}); is it trained?") from exc
    objective = str(head.get("objective", "")).split()[0] if head.get("objective") else ""
    n_classes = int(head.get("num_class", 1))
    n_features = int(head.get("max_feature_idx", booster.num_feature() - 1)) + 1
    common = dict(model=booster, name="lightgbm.Booster", n_features=n_features, family="lightgbm",
                  native_name="Booster.predict", _native=booster.predict)
    if objective in ("binary",):
        return OriginalModel(task=CLASSIFIER, classes=np.array([0, 1]), predict_style="positive_proba", **common)
    if objective in ("multiclass", "softmax", "multiclassova", "ova", "ovr", "multiclass_ova"):
        return OriginalModel(task=CLASSIFIER, classes=np.arange(n_classes), predict_style="proba", **common)
    return OriginalModel(task=REGRESSOR, predict_style="ravel", **common)


def _describe_xgb_booster(booster: Any) -> OriginalModel:
    try:
        config = json.loads(booster.save_config())
        n_features = int(booster.num_features())
        trained = n_features > 0 and len(booster.get_dump()) > 0
    except Exception as exc:
        raise ConversionError(f"the XGBoost Booster cannot be read ({exc}); is it trained?") from exc
    if not trained:
        raise ConversionError("the XGBoost Booster has no trees: train it before convert()")
    objective = config["learner"]["objective"]["name"]
    n_classes = int(config["learner"]["learner_model_param"].get("num_class", "0") or 0)

    def native(X: np.ndarray) -> Any:
        import xgboost

        return booster.predict(xgboost.DMatrix(X, missing=np.nan))

    common = dict(model=booster, name="xgboost.Booster", n_features=n_features, family="xgboost",
                  native_name="Booster.predict(DMatrix)", _native=native)
    if objective == "binary:logistic":
        return OriginalModel(task=CLASSIFIER, classes=np.array([0, 1]), predict_style="positive_proba", **common)
    if objective == "multi:softprob":
        return OriginalModel(task=CLASSIFIER, classes=np.arange(n_classes), predict_style="proba", **common)
    if objective.startswith(("multi:", "binary:")):
        raise UnsupportedModelError(f"XGBoost objective {objective!r} is not supported: use binary:logistic, "
                                    "multi:softprob or a regression objective")
    return OriginalModel(task=REGRESSOR, predict_style="ravel", **common)


def _describe_sklearn_api(model: Any) -> OriginalModel:
    name = type(model).__name__
    _check_fitted(model)
    module = type(model).__module__
    family = "lightgbm" if module.startswith("lightgbm") else "xgboost" if module.startswith("xgboost") else "sklearn"
    n_features = getattr(model, "n_features_in_", None)
    if n_features is None and hasattr(model, "n_features_"):
        n_features = model.n_features_
    n_features = int(n_features) if n_features is not None else None
    classes = getattr(model, "classes_", None)
    if classes is not None and getattr(model, "_estimator_type", None) != "regressor":
        if not hasattr(model, "predict_proba"):
            raise UnsupportedModelError(f"{name} has no predict_proba: flock converts classifiers that give "
                                        "class probabilities")
        return OriginalModel(model=model, name=name, task=CLASSIFIER, n_features=n_features,
                             classes=np.asarray(classes), predict_style="labels", family=family,
                             native_name=f"{name}.predict_proba", _native=model.predict_proba)
    return OriginalModel(model=model, name=name, task=REGRESSOR, n_features=n_features, predict_style="ravel",
                         family=family, native_name=f"{name}.predict", _native=model.predict)


def _check_fitted(model: Any) -> None:
    try:
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted
    except ImportError:  # pragma: no cover - sklearn is a dev dependency of every supported library here
        return
    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise ConversionError(f"{type(model).__name__} is not fitted: call fit() before convert()") from exc
    except TypeError:
        pass  # not an sklearn estimator; its frontend checks further

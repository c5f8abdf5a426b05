"""XGBoost (Booster and the scikit-learn API) -> tree-ensemble IR.

XGBoost compares `x < split_condition` in float32 and sends missing values (NaN, or the
estimator's `missing` value) the node's default direction. Leaf values live in the leaves'
`split_conditions` of the JSON model. The intercept (base_score) is stored in probability space
for some objectives and as a per-target vector in recent versions, so it is measured instead:
the booster's margin on one row minus the IR's sum of leaves on that row.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np

from ...errors import ConversionError
from ..ir import TreeEnsemble, make_tree

_IDENTITY = {"reg:squarederror", "reg:squaredlogerror", "reg:pseudohubererror", "reg:absoluteerror",
             "reg:quantileerror", "reg:linear", "binary:logitraw", "rank:pairwise", "rank:ndcg", "rank:map"}
_EXP = {"count:poisson", "reg:gamma", "reg:tweedie", "survival:cox", "survival:aft"}


def convert(model: Any) -> TreeEnsemble:
    import xgboost

    booster, classes, missing, is_classifier = _booster_of(model, xgboost)
    doc = json.loads(bytes(booster.save_raw(raw_format="json")))
    learner = doc["learner"]
    gb = learner["gradient_booster"]
    weights = None
    if gb["name"] == "dart":
        weights = gb.get("weight_drop")
        gb = gb["gbtree"]
    elif gb["name"] != "gbtree":
        raise ConversionError(f"XGBoost booster {gb['name']!r} has no trees to compile (gbtree and dart do)")
    params = learner["learner_model_param"]
    n_features = int(params["num_feature"])
    n_outputs = max(int(params.get("num_class", 0)), int(params.get("num_target", 1)), 1)
    objective = learner["objective"]["name"]
    task, post = _objective(objective, n_outputs, is_classifier)

    trees_json = gb["model"]["trees"]
    tree_info = gb["model"]["tree_info"]
    end = _last_tree(model, gb["model"], len(trees_json))
    trees = []
    for i in range(end):
        scale = 1.0 if weights is None else float(weights[i])
        trees.append(_tree(trees_json[i], output=int(tree_info[i]), scale=scale))
    if task != "regression" and classes is None:
        classes = np.arange(2 if task == "binary" else n_outputs)

    zero_missing: frozenset[int] = frozenset()
    if missing is not None and not math.isnan(missing):
        if missing != 0:
            raise ConversionError(f"XGBoost missing={missing!r}: only NaN and 0 can be compiled as missing values")
        zero_missing = frozenset(range(n_features))
    draft = TreeEnsemble(
        n_features=n_features, task=task, n_outputs=n_outputs, base_score=np.zeros(n_outputs),
        trees=tuple(trees), post_transform=post, classes=None if task == "regression" else np.asarray(classes),
        zero_as_missing=zero_missing, source=f"xgboost.{type(model).__name__}")
    measured = _measured_base(booster, draft, xgboost, end, gb["model"])
    stated = _stated_base(params.get("base_score", ""), objective, n_outputs)
    # the stated intercept is exact; the measured one carries float32 rounding of the leaf sum
    base = stated if stated is not None and np.allclose(stated, measured, rtol=0, atol=1e-5) else measured
    margin = _FLOAT32_SIGMOID_HALF if task == "binary" else 0.0
    return dataclasses.replace(draft, base_score=base, label_margin=margin, sums_in_float32=True)


# XGBoost predicts class 1 when its float32 sigmoid exceeds 0.5; at margins up to this value the
# float32 sigmoid is exactly 0.5 (1 / (1 + expf(-x)) rounds to 0.5 below 1.2318974e-07).
_FLOAT32_SIGMOID_HALF = float(np.nextafter(np.float32(1.2318974e-07), np.float32(0)))


def _stated_base(text: str, objective: str, n_outputs: int) -> np.ndarray | None:
    """The intercept in margin space from the JSON's base_score, for objectives whose link is known."""
    try:
        values = np.array([float(v) for v in text.strip("[]").split(",") if v.strip()], dtype=np.float32)
    except ValueError:
        return None
    values = values.astype(np.float64)
    if values.size == 1 and n_outputs > 1:
        values = np.repeat(values, n_outputs)
    if values.size != n_outputs:
        return None
    if objective in ("binary:logistic", "reg:logistic"):
        if np.any((values <= 0) | (values >= 1)):
            return None
        return np.log(values / (1 - values))
    if objective in _EXP:
        return np.log(values) if np.all(values > 0) else None
    return values


def _booster_of(model: Any, xgboost):
    """(Booster, class labels or None, missing value or None, is a classifier)."""
    if isinstance(model, xgboost.Booster):
        if model.num_boosted_rounds() == 0:
            raise ConversionError("the XGBoost Booster has no trees: train it before converting")
        return model, None, None, False
    try:
        booster = model.get_booster()
    except Exception:  # xgboost raises NotFittedError
        raise ConversionError(f"{type(model).__name__} is not fitted: call fit() before converting") from None
    is_classifier = isinstance(model, xgboost.XGBClassifier)
    classes = np.asarray(model.classes_) if is_classifier else None
    return booster, classes, float(model.missing), is_classifier


def _objective(name: str, n_outputs: int, is_classifier: bool) -> tuple[str, str]:
    if name == "binary:logistic":
        return "binary", "sigmoid"
    if name in ("multi:softprob", "multi:softmax"):
        return "multiclass", "softmax"
    if is_classifier:
        raise ConversionError(f"XGBClassifier with objective {name!r} has no probability output to compile")
    if name == "reg:logistic":
        return "regression", "sigmoid"
    if name in _EXP:
        return "regression", "exp"
    if name in _IDENTITY or name.startswith("rank:"):
        return "regression", "none"
    raise ConversionError(f"XGBoost objective {name!r} is not supported for compilation")


def _last_tree(model: Any, gbtree: dict, n_trees: int) -> int:
    """Trees the scikit-learn API predicts with: up to best_iteration after early stopping."""
    best = getattr(model, "best_iteration", None) if not hasattr(model, "save_raw") else None
    indptr = gbtree.get("iteration_indptr")
    if best is None or indptr is None or best + 1 >= len(indptr):
        return n_trees
    return int(indptr[best + 1])


def _tree(t: dict, *, output: int, scale: float):
    if int(t["tree_param"].get("size_leaf_vector", "1")) > 1:
        raise ConversionError("XGBoost multi-target trees (vector leaves) cannot be compiled")
    if any(int(s) != 0 for s in t.get("split_type", [])):
        raise ConversionError("XGBoost categorical splits (enable_categorical=True) cannot be compiled yet")
    left = np.asarray(t["left_children"], dtype=np.int64)
    right = np.asarray(t["right_children"], dtype=np.int64)
    cond = np.asarray(t["split_conditions"], dtype=np.float32).astype(np.float64)
    leaf = left < 0
    # node ids as stored; deleted (pruned) nodes are unreachable and harmless
    return make_tree(
        feature=np.where(leaf, -1, np.asarray(t["split_indices"], dtype=np.int64)),
        threshold=np.where(leaf, np.nan, cond),
        left=np.where(leaf, -1, left), right=np.where(leaf, -1, right),
        missing_left=np.asarray(t["default_left"], dtype=bool) & ~leaf,
        leaf_values=np.where(leaf, cond * scale, 0.0), outputs=(output,), op="<")


def _measured_base(booster, draft: TreeEnsemble, xgboost, end: int, gbtree: dict) -> np.ndarray:
    from ..backends.numpy_reference import raw_scores

    row = np.ones((1, draft.n_features), dtype=np.float32)  # no value is missing under any rule
    indptr = gbtree.get("iteration_indptr")
    n_iter = len(indptr) - 1 if indptr else 0
    last = next((i for i in range(n_iter + 1) if indptr and indptr[i] == end), None)
    kwargs = {"iteration_range": (0, last)} if last else {}
    margin = booster.predict(xgboost.DMatrix(row, missing=np.nan), output_margin=True, **kwargs)
    margin = np.asarray(margin, dtype=np.float64).reshape(1, -1)
    if margin.shape[1] != draft.n_outputs:
        raise ConversionError(f"XGBoost margin has {margin.shape[1]} columns, expected {draft.n_outputs}")
    return (margin - raw_scores(draft, row))[0]

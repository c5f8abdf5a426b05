"""LightGBM (Booster and the scikit-learn API) -> tree-ensemble IR.

LightGBM evaluates `double(x) <= threshold` with float64 thresholds; values with |x| <= 1e-35f
count as exactly zero; per feature, NaN either is its own missing value (missing_type NaN), is
read as zero (None), or zeros and NaN both count as missing (Zero). Categorical splits send the
categories of a bitset left and everything else (NaN, negatives, unseen categories) right.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import ConversionError
from ..ir import LIGHTGBM_ZERO_THRESHOLD, TreeEnsemble, make_tree

_IDENTITY = {"regression", "regression_l2", "l2", "mean_squared_error", "mse", "l2_root", "rmse",
             "root_mean_squared_error", "regression_l1", "l1", "mean_absolute_error", "mae", "huber",
             "fair", "quantile", "mape", "mean_absolute_percentage_error", "lambdarank", "rank_xendcg",
             "xendcg", "xe_ndcg", "xe_ndcg_mart", "xendcg_mart", "custom", "none", "null", "na"}
_EXP = {"poisson", "gamma", "tweedie"}


def convert(model: Any) -> TreeEnsemble:
    booster, classes, kind = _booster_of(model)
    dump = booster.dump_model()
    if any(_is_linear(t["tree_structure"]) for t in dump["tree_info"]):
        raise ConversionError("LightGBM models with linear trees (linear_tree=True) cannot be compiled")
    per_iter = int(dump["num_tree_per_iteration"])
    n_outputs = per_iter
    task, post, scale = _objective(dump.get("objective", "regression"), n_outputs, kind)
    if task != "regression" and classes is None:
        classes = np.arange(2 if task == "binary" else n_outputs)
    n_iters = max(len(dump["tree_info"]) // per_iter, 1)
    average = n_iters if dump.get("average_output") else 1

    trees, zero_missing, other_missing = [], set(), set()
    for i, info in enumerate(dump["tree_info"]):
        tree, zeros, others = _tree(info["tree_structure"], output=i % per_iter, divide=average)
        trees.append(tree)
        zero_missing |= zeros
        other_missing |= others
    mixed = zero_missing & other_missing
    if mixed:
        raise ConversionError(f"LightGBM feature {min(mixed)} mixes missing_type Zero with other missing types")
    return TreeEnsemble(
        n_features=int(booster.num_feature()), task=task, n_outputs=n_outputs,
        base_score=np.zeros(n_outputs), trees=tuple(trees), post_transform=post, post_scale=scale,
        classes=None if task == "regression" else np.asarray(classes),
        zero_threshold=LIGHTGBM_ZERO_THRESHOLD, zero_as_missing=frozenset(zero_missing),
        categorical_rule="truncate", source=f"lightgbm.{type(model).__name__}")


def _booster_of(model: Any):
    """(Booster, class labels or None, 'classifier' | 'regressor' | 'booster')."""
    import lightgbm

    if isinstance(model, lightgbm.Booster):
        if model.num_trees() == 0 and model.num_feature() == 0:
            raise ConversionError("the LightGBM Booster has no trees: train it before converting")
        return model, None, "booster"
    name = type(model).__name__
    if not model.__sklearn_is_fitted__():
        raise ConversionError(f"{name} is not fitted: call fit() before converting")
    if isinstance(model, lightgbm.LGBMClassifier):
        return model.booster_, np.asarray(model.classes_), "classifier"
    return model.booster_, None, "regressor"


def _objective(text: str, n_outputs: int, kind: str) -> tuple[str, str, float]:
    """(task, post_transform, post_scale) from LightGBM's objective string, e.g. 'binary sigmoid:1'."""
    parts = text.split()
    name = parts[0] if parts else "regression"
    params = dict(p.split(":", 1) for p in parts[1:] if ":" in p)
    sigmoid = float(params.get("sigmoid", 1.0))
    if name == "binary":
        return "binary", "sigmoid", sigmoid
    if name in ("multiclass", "softmax"):
        return "multiclass", "softmax", 1.0
    if name in ("multiclassova", "multiclass_ova", "ova", "ovr"):
        return "multiclass", "logistic_ova", sigmoid
    if name in ("cross_entropy", "xentropy"):
        return "regression", "sigmoid", 1.0
    if name in ("cross_entropy_lambda", "xentlambda"):
        return "regression", "softplus", 1.0
    if name in _EXP:
        return "regression", "exp", 1.0
    if name in _IDENTITY:
        if kind == "classifier":  # a custom objective: predict_proba applies nothing we can know
            raise ConversionError(f"LGBMClassifier with objective {name!r} has no known probability link")
        return "regression", "none", 1.0
    raise ConversionError(f"LightGBM objective {name!r} is not supported for compilation")


def _is_linear(node: dict) -> bool:
    while "leaf_value" not in node:
        node = node["left_child"]
    return "leaf_coeff" in node


def _tree(root: dict, *, output: int, divide: int):
    """Flatten one dumped tree (preorder). Returns (Tree, zero-missing features, other features)."""
    feature, threshold, left, right, missing_left, values = [], [], [], [], [], []
    is_cat, cat_left = [], []
    zero_missing, other_missing = set(), set()
    stack = [(root, -1, False)]
    while stack:
        node, parent, is_right = stack.pop()
        idx = len(feature)
        if parent >= 0:
            (right if is_right else left)[parent] = idx
        for arr in (left, right):
            arr.append(-1)
        if "leaf_value" in node:
            feature.append(-1)
            threshold.append(np.nan)
            missing_left.append(False)
            values.append(float(node["leaf_value"]) / divide)
            is_cat.append(False)
            cat_left.append(None)
            continue
        f = int(node["split_feature"])
        feature.append(f)
        values.append(0.0)
        if node["decision_type"] == "==":
            cats = np.array(sorted(int(c) for c in str(node["threshold"]).split("||")), dtype=np.int64)
            threshold.append(np.nan)
            missing_left.append(False)  # NaN and negatives go right; so do unlisted categories
            is_cat.append(True)
            cat_left.append(cats)
        else:
            t = float(node["threshold"])
            kind = node.get("missing_type", "None")
            threshold.append(t)
            if kind == "None":  # NaN is read as 0.0
                missing_left.append(bool(0.0 <= t))
                other_missing.add(f)
            else:  # "NaN", or "Zero" where zeros become NaN before the trees
                missing_left.append(bool(node["default_left"]))
                (zero_missing if kind == "Zero" else other_missing).add(f)
            is_cat.append(False)
            cat_left.append(None)
        stack.append((node["right_child"], idx, True))
        stack.append((node["left_child"], idx, False))
    tree = make_tree(feature, threshold, left, right, missing_left, values, outputs=(output,), op="<=",
                     is_categorical=is_cat, category_left=cat_left, category_right=[None] * len(feature))
    return tree, zero_missing, other_missing

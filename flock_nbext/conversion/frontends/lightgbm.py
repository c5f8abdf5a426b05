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
    header, blocks = _parse(booster.model_to_string())  # the best iteration's trees, if early-stopped
    if any(b.get("is_linear", "0") == "1" for b in blocks):
        raise ConversionError("LightGBM models with linear trees (linear_tree=True) cannot be compiled")
    per_iter = int(header.get("num_tree_per_iteration", "1"))
    n_outputs = per_iter
    task, post, scale = _objective(header.get("objective", "regression"), n_outputs, kind)
    if task != "regression" and classes is None:
        classes = np.arange(2 if task == "binary" else n_outputs)
    n_iters = max(len(blocks) // per_iter, 1)
    average = n_iters if "average_output" in header else 1

    trees, zero_missing, other_missing = [], set(), set()
    for i, block in enumerate(blocks):
        tree, zeros, others = _tree(block, output=i % per_iter, divide=average)
        trees.append(tree)
        zero_missing |= zeros
        other_missing |= others
    mixed = zero_missing & other_missing
    if mixed:
        raise ConversionError(f"LightGBM feature {min(mixed)} mixes missing_type Zero with other missing types")
    return TreeEnsemble(
        n_features=int(header.get("max_feature_idx", booster.num_feature() - 1)) + 1, task=task,
        n_outputs=n_outputs, base_score=np.zeros(n_outputs), trees=tuple(trees), post_transform=post,
        post_scale=scale, classes=None if task == "regression" else np.asarray(classes),
        zero_threshold=LIGHTGBM_ZERO_THRESHOLD, zero_as_missing=frozenset(zero_missing),
        categorical_rule="truncate", source=f"lightgbm.{type(model).__name__}")


def _parse(text: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """LightGBM's text model: header `key=value` lines, then one block per `Tree=i`.

    The text format (not `dump_model`'s JSON) is read because it is several times faster to
    produce and parse, and it prints thresholds with 17 significant digits: exact doubles.
    """
    header: dict[str, str] = {}
    blocks: list[dict[str, str]] = []
    current = header
    for line in text.splitlines():
        if line.startswith("end of trees"):
            break
        if line.startswith("Tree="):
            current = {}
            blocks.append(current)
            continue
        key, sep, value = line.partition("=")
        if key:
            current[key] = value if sep else ""
    return header, blocks
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


_DEFAULT_LEFT, _CATEGORICAL = 2, 1
_MISSING_NONE, _MISSING_ZERO = 0, 1


def _ints(block: dict[str, str], key: str) -> np.ndarray:
    return np.array(block.get(key, "").split(), dtype=np.int64)


def _tree(block: dict[str, str], *, output: int, divide: int):
    """One text tree -> IR (internal nodes first, then leaves). Returns (Tree, zero-missing, other)."""
    leaf_value = np.array(block["leaf_value"].split(), dtype=np.float64) / divide
    n_leaves = len(leaf_value)
    n_inner = n_leaves - 1
    n = n_inner + n_leaves
    if n_inner == 0:
        return make_tree([-1], [np.nan], [-1], [-1], [False], leaf_value, outputs=(output,)), set(), set()
    split = _ints(block, "split_feature")
    decision = _ints(block, "decision_type")
    threshold = np.array(block["threshold"].split(), dtype=np.float64)  # strtod: exact
    children = [np.where(c >= 0, c, n_inner + ~c) for c in (_ints(block, "left_child"), _ints(block, "right_child"))]
    categorical = (decision & _CATEGORICAL) != 0
    missing_type = (decision >> 2) & 3
    # missing_type None reads NaN as 0.0; Zero and NaN send missing values the default way
    # (zeros of a Zero feature become NaN before the trees)
    missing_left = np.where(missing_type == _MISSING_NONE, 0.0 <= threshold, (decision & _DEFAULT_LEFT) != 0)
    missing_left &= ~categorical  # categorical: NaN, negatives and unlisted categories go right
    cat_left: list = [None] * n
    if categorical.any():
        bounds, words = _ints(block, "cat_boundaries"), _ints(block, "cat_threshold").astype("<u4")
        for node in np.flatnonzero(categorical):
            k = int(threshold[node])
            bits = np.unpackbits(words[bounds[k]:bounds[k + 1]].view(np.uint8), bitorder="little")
            cat_left[node] = np.flatnonzero(bits).astype(np.int64)
    numeric = ~categorical
    zero_missing = {int(f) for f in split[numeric & (missing_type == _MISSING_ZERO)]}
    other_missing = {int(f) for f in split[numeric & (missing_type != _MISSING_ZERO)]}
    pad = np.full(n_leaves, -1, dtype=np.int64)
    tree = make_tree(
        feature=np.concatenate([split, pad]),
        threshold=np.concatenate([np.where(categorical, np.nan, threshold), np.full(n_leaves, np.nan)]),
        left=np.concatenate([children[0], pad]), right=np.concatenate([children[1], pad]),
        missing_left=np.concatenate([missing_left, np.zeros(n_leaves, bool)]),
        leaf_values=np.concatenate([np.zeros(n_inner), leaf_value]), outputs=(output,), op="<=",
        is_categorical=np.concatenate([categorical, np.zeros(n_leaves, bool)]),
        category_left=cat_left, category_right=[None] * n)
    return tree, zero_missing, other_missing

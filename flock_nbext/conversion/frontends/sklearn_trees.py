"""scikit-learn trees, forests, extra trees, GradientBoosting and HistGradientBoosting -> IR.

scikit-learn compares `double(x) <= threshold` (float32 input cast up; float64 thresholds) and
sends NaN the node's `missing_go_to_left` way. Forests average their trees (leaf values divided
by the number of trees); gradient boosting adds `learning_rate * tree` to a constant intercept.
HistGradientBoosting's categorical features pass an OrdinalEncoder that moves them to the front:
flock maps its columns back and states its category sets in raw values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import ConversionError
from ..ir import TreeEnsemble, make_tree

_SINGLE = ("DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier", "ExtraTreeRegressor")
_FORESTS = ("RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor")
_LINKS = {"IdentityLink": ("none", 1.0), "LogLink": ("exp", 1.0), "LogitLink": ("sigmoid", 1.0),
          "HalfLogitLink": ("sigmoid", 2.0), "MultinomialLogit": ("softmax", 1.0)}


def convert(model: Any) -> TreeEnsemble:
    from sklearn.utils.validation import check_is_fitted

    name = type(model).__name__
    try:
        check_is_fitted(model)
    except Exception:
        raise ConversionError(f"{name} is not fitted: call fit() before converting") from None
    kinds = {cls.__name__ for cls in type(model).__mro__}
    if kinds & set(_SINGLE):
        return _forest(model, [model], name)
    if kinds & set(_FORESTS):
        return _forest(model, list(model.estimators_), name)
    if kinds & {"GradientBoostingClassifier", "GradientBoostingRegressor"}:
        return _gradient_boosting(model, name)
    return _hist_gradient_boosting(model, name)


def _is_classifier(model: Any) -> bool:
    return hasattr(model, "classes_")


def _tree_arrays(tree_, values: np.ndarray, outputs) -> Any:
    """IR tree from a fitted `sklearn.tree._tree.Tree` and per-node leaf values [n_nodes, k]."""
    left = tree_.children_left.astype(np.int64)
    leaf = left < 0
    missing = getattr(tree_, "missing_go_to_left", None)
    missing = np.zeros(len(left), dtype=bool) if missing is None else np.asarray(missing, dtype=bool)
    return make_tree(
        feature=np.where(leaf, -1, tree_.feature), threshold=np.where(leaf, np.nan, tree_.threshold),
        left=np.where(leaf, -1, left), right=np.where(leaf, -1, tree_.children_right),
        missing_left=missing & ~leaf, leaf_values=np.where(leaf[:, None], values, 0.0), outputs=outputs, op="<=")


def _forest(model: Any, estimators: list, name: str) -> TreeEnsemble:
    n = len(estimators)
    n_features = int(model.n_features_in_)
    if _is_classifier(model):
        if getattr(model, "n_outputs_", 1) != 1:
            raise ConversionError(f"multi-output {name} cannot be compiled")
        classes = np.asarray(model.classes_)
        if len(classes) < 2:
            raise ConversionError(f"{name} was fitted on a single class; nothing to compile")
        trees = []
        for est in estimators:
            value = est.tree_.value[:, 0, :]
            proba = value / np.maximum(value.sum(axis=1, keepdims=True), np.finfo(float).tiny)
            trees.append(_tree_arrays(est.tree_, proba / n, tuple(range(len(classes)))))
        task = "binary" if len(classes) == 2 else "multiclass"
        return TreeEnsemble(n_features=n_features, task=task, n_outputs=len(classes),
                            base_score=np.zeros(len(classes)), trees=tuple(trees), classes=classes,
                            source=f"sklearn.{name}")
    k = int(getattr(model, "n_outputs_", 1))
    trees = [_tree_arrays(est.tree_, est.tree_.value[:, :, 0] / n, tuple(range(k))) for est in estimators]
    return TreeEnsemble(n_features=n_features, task="regression", n_outputs=k, base_score=np.zeros(k),
                        trees=tuple(trees), source=f"sklearn.{name}")


def _link(model: Any, name: str) -> tuple[str, float]:
    link = type(model._loss.link).__name__
    if link not in _LINKS:
        raise ConversionError(f"{name} with loss link {link} is not supported for compilation")
    return _LINKS[link]


def _gradient_boosting(model: Any, name: str) -> TreeEnsemble:
    init = model.init_
    if not (isinstance(init, str) and init == "zero") and type(init).__name__ not in ("DummyClassifier",
                                                                                          "DummyRegressor"):
        raise ConversionError(f"{name} with init={type(init).__name__}: only constant initial models compile")
    n_features = int(model.n_features_in_)
    base = np.asarray(model._raw_predict_init(np.zeros((1, n_features), dtype=np.float32)), dtype=np.float64)[0]
    post, scale = _link(model, name)
    lr = float(model.learning_rate)
    trees = []
    for stage in model.estimators_:
        for k, est in enumerate(stage):
            trees.append(_tree_arrays(est.tree_, est.tree_.value[:, :, 0] * lr, (k,)))
    k_out = model.estimators_.shape[1]
    classes = np.asarray(model.classes_) if _is_classifier(model) else None
    task = "regression" if classes is None else ("binary" if len(classes) == 2 else "multiclass")
    return TreeEnsemble(n_features=n_features, task=task, n_outputs=k_out, base_score=base, trees=tuple(trees),
                        post_transform=post, post_scale=scale, classes=classes, source=f"sklearn.{name}")


def _column_map(model: Any, n_features: int):
    """(original column of each predictor column, {original column: raw categories} for encoded ones)."""
    pre = getattr(model, "_preprocessor", None)
    if pre is None:
        return np.arange(n_features), {}
    columns = np.zeros(n_features, dtype=np.int64)
    encoded: dict[int, np.ndarray] = {}
    for label, transformer, cols in pre.transformers_:
        if label == "remainder" and isinstance(transformer, str):
            continue
        cols = np.asarray(cols)
        original = np.flatnonzero(cols) if cols.dtype == bool else cols.astype(np.int64)
        where = pre.output_indices_[label]
        columns[where] = original
        if label == "encoder":
            for col, cats in zip(original, transformer.categories_, strict=True):
                cats = np.asarray(cats)
                if cats.dtype.kind == "f":  # NaN, sorted last, is encoded as NaN: a missing value
                    cats = cats[~np.isnan(cats)]
                if cats.dtype.kind not in "iuf" or np.any(cats < 0) or np.any(cats != np.floor(cats)):
                    raise ConversionError(f"{type(model).__name__}: categorical feature {col} has categories "
                                          "that are not non-negative integers; encode them as such first")
                encoded[int(col)] = cats.astype(np.int64)
    return columns, encoded


def _hist_gradient_boosting(model: Any, name: str) -> TreeEnsemble:
    n_features = int(model.n_features_in_)
    columns, encoded = _column_map(model, n_features)
    known, f_idx_map = model._bin_mapper.make_known_categories_bitsets()
    post, scale = _link(model, name)
    trees = []
    for iteration in model._predictors:
        for k, predictor in enumerate(iteration):
            trees.append(_hgb_tree(predictor, k, columns, encoded, known, f_idx_map))
    base = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1)
    classes = np.asarray(model.classes_) if _is_classifier(model) else None
    task = "regression" if classes is None else ("binary" if len(classes) == 2 else "multiclass")
    rule = "exact" if encoded else "negative_invalid"
    return TreeEnsemble(n_features=n_features, task=task, n_outputs=len(base), base_score=base, trees=tuple(trees),
                        post_transform=post, post_scale=scale, classes=classes, categorical_rule=rule,
                        source=f"sklearn.{name}")


def _bits(bitset: np.ndarray) -> np.ndarray:
    """Members of a scikit-learn bitset (uint32 words)."""
    flags = np.unpackbits(np.asarray(bitset, dtype="<u4").view(np.uint8), bitorder="little")
    return np.flatnonzero(flags).astype(np.int64)


def _hgb_tree(predictor, output: int, columns, encoded, known, f_idx_map):
    nodes = predictor.nodes
    leaf = nodes["is_leaf"].astype(bool)
    cat = nodes["is_categorical"].astype(bool) & ~leaf
    feature = np.where(leaf, -1, columns[nodes["feature_idx"]])
    cat_left, cat_right = [None] * len(nodes), [None] * len(nodes)
    for node in np.flatnonzero(cat):
        col = int(nodes["feature_idx"][node])
        left_codes = _bits(predictor.raw_left_cat_bitsets[nodes["bitset_idx"][node]])
        known_codes = _bits(known[f_idx_map[col]])
        right_codes = np.setdiff1d(known_codes, left_codes)
        raw = encoded.get(int(columns[col]))
        if raw is not None:  # codes index the encoder's categories
            left_codes, right_codes = raw[left_codes[left_codes < len(raw)]], raw[right_codes[right_codes < len(raw)]]
        cat_left[node], cat_right[node] = np.sort(left_codes), np.sort(right_codes)
    return make_tree(
        feature=feature, threshold=np.where(leaf | cat, np.nan, nodes["num_threshold"]),
        left=np.where(leaf, -1, nodes["left"].astype(np.int64)), right=np.where(leaf, -1, nodes["right"].astype(np.int64)),
        missing_left=nodes["missing_go_to_left"].astype(bool) & ~leaf,
        leaf_values=np.where(leaf, nodes["value"], 0.0), outputs=(output,), op="<=",
        is_categorical=cat, category_left=cat_left, category_right=cat_right)

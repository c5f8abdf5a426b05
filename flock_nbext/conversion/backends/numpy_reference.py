"""A slow, obviously-correct NumPy evaluator of the IR (not an ONNX backend; not registered).

It follows the IR's documented semantics with the original float64 thresholds and comparison
operators, so tests can check a frontend against its library and a backend against the IR
separately, and tell which of the two is wrong.
"""

from __future__ import annotations

import numpy as np

from ..ir import TreeEnsemble


def prepare_input(ensemble: TreeEnsemble, X) -> np.ndarray:
    """float32 rows -> the float64 values trees compare, after the ensemble's input rules."""
    x = np.asarray(X, dtype=np.float32).astype(np.float64)
    if ensemble.zero_threshold > 0:
        x = np.where(np.abs(x) <= ensemble.zero_threshold, 0.0, x)
    if ensemble.zero_as_missing:
        cols = sorted(ensemble.zero_as_missing)
        sub = x[:, cols]
        x[:, cols] = np.where(sub == 0.0, np.nan, sub)
    return x


def category_codes(ensemble: TreeEnsemble, values: np.ndarray) -> np.ndarray:
    """Float category codes: an integer, -1 for an invalid value, NaN for NaN."""
    with np.errstate(invalid="ignore"):
        if ensemble.categorical_rule == "truncate":
            codes = np.trunc(values)
        elif ensemble.categorical_rule == "negative_invalid":
            codes = np.where(values < 0, -1.0, np.floor(values))
        else:  # exact
            codes = np.where(np.floor(values) == values, values, -1.0)
        return np.where(codes < 0, -1.0, codes)


def leaf_indices(ensemble: TreeEnsemble, tree_index: int, x: np.ndarray) -> np.ndarray:
    """The leaf each prepared row reaches in one tree."""
    tree = ensemble.trees[tree_index]
    n = x.shape[0]
    node = np.zeros(n, dtype=np.int64)
    rows = np.arange(n)
    for _ in range(tree.depth):
        active = tree.left[node] >= 0
        f = np.where(active, tree.feature[node], 0)
        v = x[rows, f]
        nan = np.isnan(v)
        with np.errstate(invalid="ignore"):
            t = tree.threshold[node]
            go_left = v <= t if tree.op == "<=" else v < t
        go_left = np.where(nan, tree.missing_left[node], go_left)
        cat = tree.categorical[node] & active
        for i in np.flatnonzero(cat):
            go_left[i] = _categorical_left(ensemble, tree, int(node[i]), v[i])
        node = np.where(active, np.where(go_left, tree.left[node], tree.right[node]), node)
    return node


def _categorical_left(ensemble: TreeEnsemble, tree, node: int, value: float) -> bool:
    code = category_codes(ensemble, np.array([value]))[0]
    if np.isnan(code) or code < 0:
        return bool(tree.missing_left[node])
    if np.isin(code, tree.category_left[node]):
        return True
    right = tree.category_right[node]
    if right is None or np.isin(code, right):
        return False
    return bool(tree.missing_left[node])


def raw_scores(ensemble: TreeEnsemble, X) -> np.ndarray:
    """base_score + sum of leaf values, float64 [N, n_outputs]."""
    x = prepare_input(ensemble, X)
    raw = np.tile(np.asarray(ensemble.base_score, dtype=np.float64), (x.shape[0], 1))
    for i, tree in enumerate(ensemble.trees):
        leaves = leaf_indices(ensemble, i, x)
        raw[:, list(tree.outputs)] += tree.leaf_values[leaves]
    return raw


def predict(ensemble: TreeEnsemble, X) -> np.ndarray:
    """Probabilities [N, n_classes] for classifiers, values [N, n_outputs] for regression."""
    return transform(ensemble, raw_scores(ensemble, X))


def transform(ensemble: TreeEnsemble, raw: np.ndarray) -> np.ndarray:
    z = raw * ensemble.post_scale
    post = ensemble.post_transform
    if post == "none":
        out = z
    elif post == "sigmoid" or post == "logistic_ova":
        out = 1.0 / (1.0 + np.exp(-z))
    elif post == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        out = e / e.sum(axis=1, keepdims=True)
    elif post == "exp":
        out = np.exp(z)
    else:  # softplus
        out = np.logaddexp(0.0, z)
    if ensemble.task == "binary" and out.shape[1] == 1:
        out = np.hstack([1.0 - out, out])
    return out

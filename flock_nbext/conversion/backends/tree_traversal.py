"""Backend: tree traversal (Hummingbird, OSDI 2020), one round of gathers per depth level.

All trees' nodes sit in one table. A [N, T] tensor holds each row's current node in every tree;
each level gathers the nodes' feature, threshold and children, gathers the row's value with
GatherElements and steps left or right. Leaves point to themselves, so trees shallower than the
deepest one simply stay put. Cost grows with depth, not with the number of nodes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import TreeEnsemble
from .graph import DEFAULT_OPSET, GraphBuilder, decide, finish, preprocess, stack_trees, sum_leaves
from .lowering import lower

NAME = "tree_traversal"
MAX_DEPTH = 64


def applicable(ensemble: TreeEnsemble) -> str | None:
    if ensemble.max_depth > MAX_DEPTH:
        return f"depth {ensemble.max_depth} > {MAX_DEPTH}: too many levels for tree traversal"
    return None


def build(ensemble: TreeEnsemble, *, opset: int = DEFAULT_OPSET, accumulate: str = "float64", **_: Any):
    lowered = lower(ensemble)
    b = GraphBuilder(opset)
    x = preprocess(b, lowered)
    offsets, feature, threshold, left, right, missing_left, values = stack_trees(lowered)
    nodes = np.arange(len(feature), dtype=np.int64)
    leaf = left < 0
    left = np.where(leaf, nodes, left)
    right = np.where(leaf, nodes, right)
    tree_of_row = np.repeat(np.arange(len(offsets)), [len(t.feature) for t in lowered.trees])
    uniform = lowered.all_missing_left

    # level 0: the roots are known (a root that is a leaf points to itself either way), so their features and thresholds are constants
    v = b.op("Gather", x, b.const(feature[offsets], "root_features"), axis=1)
    go_left = decide(b, v, b.const(threshold[offsets], "root_thresholds"),
                     None if uniform is not None else b.const(missing_left[offsets], "root_missing"), uniform)
    idx = b.op("Where", go_left, b.const(left[offsets], "root_left"), b.const(right[offsets], "root_right"),
               hint="node")
    if lowered.max_depth > 1:
        features = b.const(feature, "features")
        thresholds = b.const(threshold, "thresholds")
        lefts, rights = b.const(left, "left"), b.const(right, "right")
        missing = None if uniform is not None else b.const(missing_left, "missing_left")
        for _level in range(1, lowered.max_depth):
            f = b.op("Gather", features, idx, axis=0)
            v = b.op("GatherElements", x, f, axis=1)
            t = b.op("Gather", thresholds, idx, axis=0)
            m = None if missing is None else b.op("Gather", missing, idx, axis=0)
            go_left = decide(b, v, t, m, uniform)
            idx = b.op("Where", go_left, b.op("Gather", lefts, idx, axis=0), b.op("Gather", rights, idx, axis=0),
                       hint="node")
    raw = sum_leaves(b, lowered, idx, values, tree_of_row, accumulate)
    return finish(b, lowered, raw, "flock_tree_traversal", doc=ensemble.describe())

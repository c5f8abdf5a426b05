"""Backend: perfect tree traversal (Hummingbird, OSDI 2020): trees padded to full binary trees.

Every tree is padded to the ensemble's maximum depth D, so the node reached at each level is pure
index arithmetic, `2 * i + (went right)`, with one small table per level and no child lookups.
A leaf above depth D copies its value to all the leaves below it, so padded nodes may test
anything. Each level does one Gather of (feature, threshold) records and one GatherElements of
the rows' values. Memory grows as T * 2^D: deep trees make this strategy inapplicable.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import TreeEnsemble
from .graph import DEFAULT_OPSET, GraphBuilder, decide, finish, preprocess, sum_leaves, zero_index
from .lowering import NumericTree, lower

NAME = "perfect_tree_traversal"
MAX_DEPTH = 14
MAX_PADDED_NODES = 1 << 24


def applicable(ensemble: TreeEnsemble, **_: Any) -> str | None:
    depth = ensemble.max_depth
    if depth > MAX_DEPTH:
        return f"depth {depth} > {MAX_DEPTH}: too deep for perfect tree traversal"
    padded = ensemble.n_trees * (2 ** (depth + 1))
    if padded > MAX_PADDED_NODES:
        return f"{padded:,} padded nodes > {MAX_PADDED_NODES:,}: too large for perfect tree traversal"
    return None


def _perfect(tree: NumericTree, depth: int):
    """Heap-ordered (feature, threshold, missing_left) of the 2^D - 1 inner slots, values of 2^D leaves."""
    n_inner = 2 ** depth - 1
    feature = np.zeros(n_inner, dtype=np.int64)
    threshold = np.full(n_inner, np.inf, dtype=np.float32)
    missing = np.ones(n_inner, dtype=bool)
    values = np.zeros((2 ** depth, tree.values.shape[1]), dtype=np.float64)
    stack = [(0, 0, 0)]  # (node, heap position, level)
    while stack:
        node, pos, level = stack.pop()
        if tree.left[node] < 0:
            span = 2 ** (depth - level)  # leaves under this slot at the last level
            first = (pos - (2 ** level - 1)) * span
            values[first:first + span] = tree.values[node]
            continue
        feature[pos], threshold[pos], missing[pos] = tree.feature[node], tree.threshold[node], tree.missing_left[node]
        stack.append((int(tree.left[node]), 2 * pos + 1, level + 1))
        stack.append((int(tree.right[node]), 2 * pos + 2, level + 1))
    return feature, threshold, missing, values


def build(ensemble: TreeEnsemble, *, opset: int = DEFAULT_OPSET, accumulate: str = "float64", **_: Any):
    lowered = lower(ensemble)
    b = GraphBuilder(opset)
    x = preprocess(b, lowered)
    depth = lowered.max_depth
    n_trees = len(lowered.trees)
    padded = [_perfect(t, depth) for t in lowered.trees]
    uniform = lowered.all_missing_left

    def level_table(k: int, level: int) -> np.ndarray:  # [T * 2^level], tree-major
        lo, hi = 2 ** level - 1, 2 ** (level + 1) - 1
        return np.concatenate([p[k][lo:hi] for p in padded])

    idx = None  # position within the current level, [N, T]
    for level in range(depth):
        f, t, m = (level_table(k, level) for k in range(3))
        if level == 0:
            v = b.op("Gather", x, b.const(f, "root_features"), axis=1)
            go_left = decide(b, v, b.const(t, "root_thresholds"),
                             None if uniform is not None else b.const(m, "root_missing"), uniform)
            idx = b.op("Cast", b.op("Not", go_left), to=7, hint="pos")
            continue
        # one Gather of (feature, threshold[, NaN direction]) records: ONNX Runtime pays per index
        record = [f.astype(np.float32), t] + ([] if uniform is not None else [m.astype(np.float32)])
        table = b.const(np.stack(record, axis=1), f"level_{level}")
        slot = b.op("Add", idx, b.const(np.arange(n_trees, dtype=np.int64) * 2 ** level, f"base_{level}"))
        rec = b.op("Gather", table, slot, axis=0)  # [N, T, k]
        parts = b.split_last(rec, len(record))
        v = b.op("GatherElements", x, b.op("Cast", parts[0], to=7), axis=1)
        miss = None if uniform is not None else b.op("Cast", parts[2], to=9)
        went_right = b.op("Cast", b.op("Not", decide(b, v, parts[1], miss, uniform)), to=7)
        idx = b.op("Add", b.op("Mul", idx, b.const(np.int64(2), "two")), went_right, hint="pos")
    values = np.concatenate([p[3] for p in padded])
    tree_of_row = np.repeat(np.arange(n_trees), 2 ** depth)
    if idx is None:  # every tree is a single leaf
        idx = zero_index(b, n_trees)
    leaf = b.op("Add", idx, b.const(np.arange(n_trees, dtype=np.int64) * 2 ** depth, "leaf_base"))
    raw = sum_leaves(b, lowered, leaf, values, tree_of_row, accumulate)
    return finish(b, lowered, raw, "flock_perfect_tree_traversal", doc=ensemble.describe())

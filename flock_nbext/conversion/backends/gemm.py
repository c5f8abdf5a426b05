"""Backend: GEMM (Hummingbird, OSDI 2020): every tree evaluated by dense products, all trees at once.

For T trees padded to I internal nodes and L leaves (rows of the batch last, N):
1. one Gather picks each internal node's feature row of X^T, [T, I, N] (instead of a one-hot
   product, which would turn a single NaN or infinity in a row into NaN everywhere);
2. the comparisons give 0/1 decisions D [T, I, N];
3. a batched MatMul with C [T, L, I] (+1 where the leaf lies left of the node, -1 right) counts,
   per leaf, the left turns taken; a leaf is reached iff the count equals its number of left
   ancestors E [T, L, 1] (small integers: exact in float32);
4. a batched MatMul with the leaf values [T, n_outputs, L] and a sum over trees give the scores.
Work is dense in T * I * L, so large or deep trees make this strategy inapplicable.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import TreeEnsemble
from .graph import DEFAULT_OPSET, GraphBuilder, decide, finish, preprocess
from .lowering import NumericTree, lower

NAME = "gemm"
MAX_PATH_ENTRIES = 1 << 22  # T * I * L: entries of C (16 MiB) and multiply-adds per row


def applicable(ensemble: TreeEnsemble, **_: Any) -> str | None:
    leaves = ensemble.max_leaves
    entries = ensemble.n_trees * max(leaves - 1, 1) * leaves
    if entries > MAX_PATH_ENTRIES:
        return (f"path matrices need {entries:,} entries ({ensemble.n_trees} trees x {leaves} leaves) "
                f"> {MAX_PATH_ENTRIES:,}: too large for GEMM")
    return None


def _matrices(tree: NumericTree, n_inner: int, n_leaves: int):
    """(internal node ids, C [I, L], E [L], leaf values [L, O]) of one tree, zero-padded."""
    inner = np.flatnonzero(~tree.is_leaf)
    leaves = np.flatnonzero(tree.is_leaf)
    inner_rank = {int(n): i for i, n in enumerate(inner)}
    leaf_rank = {int(n): i for i, n in enumerate(leaves)}
    paths = np.zeros((n_inner, n_leaves), dtype=np.float32)
    lefts = np.full(n_leaves, -1.0, dtype=np.float32)  # padded leaves are never reached
    values = np.zeros((n_leaves, tree.values.shape[1]), dtype=np.float64)
    stack: list[tuple[int, list[tuple[int, float]]]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        if tree.left[node] < 0:
            col = leaf_rank[node]
            for row, sign in path:
                paths[row, col] = sign
            lefts[col] = sum(1 for _, sign in path if sign > 0)
            values[col] = tree.values[node]
            continue
        row = inner_rank[node]
        stack.append((int(tree.left[node]), path + [(row, 1.0)]))
        stack.append((int(tree.right[node]), path + [(row, -1.0)]))
    return inner, paths, lefts, values


def build(ensemble: TreeEnsemble, *, opset: int = DEFAULT_OPSET, accumulate: str = "float64", **_: Any):
    lowered = lower(ensemble)
    b = GraphBuilder(opset)
    x = preprocess(b, lowered)
    trees = lowered.trees
    n_trees = len(trees)
    n_leaves = max(int(t.is_leaf.sum()) for t in trees)
    n_inner = max(n_leaves - 1, 1)
    features = np.zeros((n_trees, n_inner), dtype=np.int64)
    thresholds = np.full((n_trees, n_inner), np.inf, dtype=np.float32)
    missing = np.ones((n_trees, n_inner), dtype=bool)
    paths = np.zeros((n_trees, n_inner, n_leaves), dtype=np.float32)
    lefts = np.zeros((n_trees, 1, n_leaves), dtype=np.float32)
    values = np.zeros((n_trees, n_leaves, lowered.n_outputs), dtype=np.float32)
    for i, tree in enumerate(trees):
        inner, paths[i], lefts[i, 0], v = _matrices(tree, n_inner, n_leaves)
        features[i, :len(inner)] = tree.feature[inner]
        thresholds[i, :len(inner)] = tree.threshold[inner]
        missing[i, :len(inner)] = tree.missing_left[inner]
        values[i] = v
    uniform = lowered.all_missing_left

    # Work on X transposed: gathering whole feature rows of X^T copies N contiguous floats per
    # node, where gathering columns of X would copy one float at a time.
    xt = b.op("Transpose", x, perm=[1, 0])  # [C, N]
    v = b.op("Gather", xt, b.const(features, "features"), axis=0)  # [T, I, N]
    go_left = decide(b, v, b.const(thresholds[:, :, None], "thresholds"),
                     None if uniform is not None else b.const(missing[:, :, None], "missing_left"), uniform)
    d = b.op("Cast", go_left, to=1)
    turns = b.op("MatMul", b.const(paths.transpose(0, 2, 1).copy(), "paths"), d)  # [T, L, N]
    reached = b.op("Cast", b.op("Equal", turns, b.const(lefts.transpose(0, 2, 1).copy(), "left_turns")), to=1)
    per_tree = b.op("MatMul", b.const(values.transpose(0, 2, 1).copy(), "leaf_values"), reached)  # [T, O, N]
    if accumulate == "float64":  # each tree's term is one leaf value; only the sum needs float64
        per_tree = b.op("Cast", per_tree, to=11)
    elif accumulate != "float32":
        raise ValueError(f"accumulate={accumulate!r}: use 'float32' or 'float64'")
    raw = b.op("ReduceSum", per_tree, b.const(np.array([0]), "axis0"), keepdims=0)  # [O, N]
    if accumulate == "float64":
        raw = b.op("Cast", raw, to=1)
    raw = b.op("Transpose", raw, perm=[1, 0], hint="raw")
    return finish(b, lowered, raw, "flock_gemm", doc=ensemble.describe())

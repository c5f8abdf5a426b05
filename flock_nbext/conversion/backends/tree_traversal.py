"""Backend: tree traversal (Hummingbird, OSDI 2020), one round of lookups per depth level.

All trees' nodes sit in one table, numbered so that a node's right child follows its left
child. A [N, T] tensor holds each row's current node in every tree. Each level does one Gather
of the nodes' records (feature, threshold, left child, step, NaN direction) - ONNX Runtime's
Gather pays per index, so one wide record beats five narrow lookups - then one GatherElements
of the rows' values, and moves to `left + step * went_right`. Leaves have step 0, so trees
shallower than the deepest one stay put. Cost grows with depth, not with the number of nodes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import TreeEnsemble
from .graph import DEFAULT_OPSET, GraphBuilder, decide, finish, preprocess, sum_leaves
from .lowering import NumericTree, lower

NAME = "tree_traversal"
MAX_DEPTH = 64
MAX_NODES = 1 << 24  # node ids travel as float32 inside the records: exact below 2^24


def applicable(ensemble: TreeEnsemble, **_: Any) -> str | None:
    if ensemble.max_depth > MAX_DEPTH:
        return f"depth {ensemble.max_depth} > {MAX_DEPTH}: too many levels for tree traversal"
    if ensemble.n_nodes >= MAX_NODES:
        return f"{ensemble.n_nodes:,} nodes >= {MAX_NODES:,}: too many for tree traversal"
    return None


def _sibling_order(tree: NumericTree) -> tuple[np.ndarray, np.ndarray]:
    """(old node id of each new position, new left child of each position; leaves: themselves)."""
    order, left = [0], []
    for node in order:  # grows while iterated: breadth first, siblings adjacent
        if tree.left[node] >= 0:
            left.append(len(order))
            order += [int(tree.left[node]), int(tree.right[node])]
        else:
            left.append(len(left))
    return np.asarray(order), np.asarray(left, dtype=np.int64)


def build(ensemble: TreeEnsemble, *, opset: int = DEFAULT_OPSET, accumulate: str = "float64", **_: Any):
    lowered = lower(ensemble)
    b = GraphBuilder(opset)
    x = preprocess(b, lowered)
    columns, values, tree_of_row, roots = [], [], [], []
    offset = 0
    for t, tree in enumerate(lowered.trees):
        order, left = _sibling_order(tree)
        step = (~tree.is_leaf[order]).astype(np.float32)
        columns.append(np.stack([tree.feature[order], tree.threshold[order], left + offset, step,
                                 tree.missing_left[order]], axis=1).astype(np.float32))
        values.append(tree.values[order])
        tree_of_row.append(np.full(len(order), t))
        roots.append(offset)
        offset += len(order)
    table = np.concatenate(columns)
    uniform = lowered.all_missing_left
    if uniform is not None:
        table = table[:, :4]
    roots = np.asarray(roots, dtype=np.int64)

    # level 0: the roots are known, so their records are constants (a leaf root stays put)
    root = table[roots]
    v = b.op("Gather", x, b.const(root[:, 0].astype(np.int64), "root_features"), axis=1)
    go_left = decide(b, v, b.const(root[:, 1], "root_thresholds"),
                     None if uniform is not None else b.const(root[:, 4].astype(bool), "root_missing"), uniform)
    went_right = b.op("Cast", b.op("Not", go_left), to=1)
    pos = b.op("Add", b.const(root[:, 2], "root_left"), b.op("Mul", went_right, b.const(root[:, 3], "root_step")))
    records = b.const(table, "nodes")
    for _level in range(1, lowered.max_depth):
        rec = b.op("Gather", records, b.op("Cast", pos, to=7), axis=0)  # [N, T, k]
        parts = b.split_last(rec, table.shape[1])
        v = b.op("GatherElements", x, b.op("Cast", parts[0], to=7), axis=1)
        missing = None if uniform is not None else b.op("Cast", parts[4], to=9)
        went_right = b.op("Cast", b.op("Not", decide(b, v, parts[1], missing, uniform)), to=1)
        pos = b.op("Add", parts[2], b.op("Mul", parts[3], went_right), hint="node")
    leaf = b.op("Cast", pos, to=7, hint="leaf")
    raw = sum_leaves(b, lowered, leaf, np.concatenate(values), np.concatenate(tree_of_row), accumulate)
    return finish(b, lowered, raw, "flock_tree_traversal", doc=ensemble.describe())

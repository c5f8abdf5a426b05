"""Backend: ONNX-ML `TreeEnsembleRegressor` (ai.onnx.ml opset 3), ONNX Runtime's native tree kernel.

Every split is `BRANCH_LEQ` on the float32 threshold that makes the test exact for float32 input;
NaN follows `nodes_missing_value_tracks_true`. The kernel only sums leaves (post_transform NONE):
base scores, the link function and the classifier outputs are standard ops around it, so the
outputs follow the graph contract (no ZipMap, no sequence of maps).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import TreeEnsemble
from .graph import DEFAULT_OPSET, ML_OPSET, GraphBuilder, finish, preprocess
from .lowering import float32_sums_unsafe, lower

NAME = "tree_ensemble"
MAX_NODES = 50_000_000


def applicable(ensemble: TreeEnsemble, *, accumulate: str = "float64", **_: Any) -> str | None:
    if ensemble.n_nodes > MAX_NODES:
        return f"{ensemble.n_nodes:,} nodes > {MAX_NODES:,}: too large for the TreeEnsemble operator"
    if accumulate == "float32":
        return float32_sums_unsafe(ensemble)
    return None


def build(ensemble: TreeEnsemble, *, opset: int = DEFAULT_OPSET, accumulate: str = "float64", **_: Any):
    lowered = lower(ensemble)
    b = GraphBuilder(opset)
    b.use_domain("ai.onnx.ml", ML_OPSET)
    x = preprocess(b, lowered)

    tree_ids, node_ids, features, thresholds, modes, true_ids, false_ids, tracks = ([] for _ in range(8))
    t_tree, t_node, t_target, t_weight = [], [], [], []
    for t, (tree, source) in enumerate(zip(lowered.trees, ensemble.trees, strict=True)):
        n = len(tree.feature)
        leaf = tree.is_leaf
        tree_ids.append(np.full(n, t, dtype=np.int64))
        node_ids.append(np.arange(n, dtype=np.int64))
        features.append(tree.feature)
        thresholds.append(np.where(leaf, 0.0, tree.threshold).astype(np.float32))
        modes.append(np.where(leaf, "LEAF", "BRANCH_LEQ"))
        true_ids.append(np.where(leaf, 0, tree.left))
        false_ids.append(np.where(leaf, 0, tree.right))
        tracks.append(np.where(leaf, 0, tree.missing_left).astype(np.int64))
        leaves = np.flatnonzero(leaf)
        for k in source.outputs:
            t_tree.append(np.full(len(leaves), t, dtype=np.int64))
            t_node.append(leaves)
            t_target.append(np.full(len(leaves), k, dtype=np.int64))
            t_weight.append(tree.values[leaves, k])

    cat = np.concatenate
    if accumulate == "float64":
        # ONNX Runtime sums in the threshold type, which follows the input type: feed it float64.
        # The float32 thresholds are exact in float64, so every decision stays the same.
        x = b.op("Cast", x, to=11, hint="x_double")
        typed = {"nodes_values_as_tensor": _tensor(cat(thresholds), np.float64),
                 "target_weights_as_tensor": _tensor(cat(t_weight), np.float64)}
    elif accumulate == "float32":
        typed = {"nodes_values": cat(thresholds).tolist(), "target_weights": cat(t_weight).tolist()}
    else:
        raise ValueError(f"accumulate={accumulate!r}: use 'float32' or 'float64'")
    raw = b.op(
        "TreeEnsembleRegressor", x, domain="ai.onnx.ml", hint="raw",
        n_targets=ensemble.n_outputs, aggregate_function="SUM", post_transform="NONE",
        nodes_treeids=cat(tree_ids).tolist(), nodes_nodeids=cat(node_ids).tolist(),
        nodes_featureids=cat(features).tolist(), **typed,
        nodes_modes=cat(modes).tolist(), nodes_truenodeids=cat(true_ids).tolist(),
        nodes_falsenodeids=cat(false_ids).tolist(), nodes_missing_value_tracks_true=cat(tracks).tolist(),
        target_treeids=cat(t_tree).tolist(), target_nodeids=cat(t_node).tolist(),
        target_ids=cat(t_target).tolist(),
    )
    return finish(b, lowered, raw, "flock_tree_ensemble", doc=ensemble.describe())


def _tensor(values: np.ndarray, dtype):
    from onnx import numpy_helper

    return numpy_helper.from_array(np.asarray(values, dtype=dtype))

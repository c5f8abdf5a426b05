"""Backend: the ONNX-ML tree operators (ai.onnx.ml opset 3), ONNX Runtime's native tree kernel.

Every split is `BRANCH_LEQ` on the float32 threshold that makes the test exact for float32 input;
NaN follows `nodes_missing_value_tracks_true`. Classifiers use one `TreeEnsembleClassifier` node
that emits "label" and "probabilities" itself (at batch 1 each extra node costs about as much as
a hundred small trees); regressors, and classifiers whose label rule it cannot express, use
`TreeEnsembleRegressor` for the sums with the link and outputs as standard ops. Outputs follow
the graph contract either way (no ZipMap, no sequence of maps).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import TreeEnsemble
from .graph import DEFAULT_OPSET, ML_OPSET, GraphBuilder, finish, preprocess
from .lowering import NumericEnsemble, float32_sums_unsafe, lower

NAME = "tree_ensemble"
MAX_NODES = 50_000_000


def applicable(ensemble: TreeEnsemble, *, accumulate: str = "float64", **_: Any) -> str | None:
    if ensemble.n_nodes > MAX_NODES:
        return f"{ensemble.n_nodes:,} nodes > {MAX_NODES:,}: too large for the TreeEnsemble operator"
    if accumulate == "float32":
        return float32_sums_unsafe(ensemble)
    return None


def build(ensemble: TreeEnsemble, *, opset: int = DEFAULT_OPSET, accumulate: str = "float64", **_: Any):
    if accumulate not in ("float32", "float64"):
        raise ValueError(f"accumulate={accumulate!r}: use 'float32' or 'float64'")
    lowered = lower(ensemble)
    b = GraphBuilder(opset)
    b.use_domain("ai.onnx.ml", ML_OPSET)
    x = preprocess(b, lowered)
    nodes, targets = _tables(lowered)
    if accumulate == "float64":
        # ONNX Runtime sums in the threshold type, which follows the input type: feed it float64.
        # The float32 thresholds are exact in float64, so every decision stays the same.
        x = b.op("Cast", x, to=11, hint="x_double")
    if _classifier_op_fits(lowered):
        return _classifier(b, lowered, x, nodes, targets, accumulate)
    total = _complementary_total(lowered)
    if total is not None:
        return _complementary(b, lowered, x, nodes, targets, accumulate, total)
    weights = _typed("nodes_values", nodes.pop("nodes_values"), accumulate)
    weights.update(_typed("target_weights", targets.pop("weights"), accumulate))
    raw = b.op("TreeEnsembleRegressor", x, domain="ai.onnx.ml", hint="raw", n_targets=ensemble.n_outputs,
               aggregate_function="SUM", post_transform="NONE", **nodes, **weights,
               **{f"target_{k}": v for k, v in targets.items()})
    return finish(b, lowered, raw, "flock_tree_ensemble", doc=ensemble.describe())


def _complementary_total(lowered: NumericEnsemble) -> float | None:
    """For a two-output model whose every leaf's two values add up to the same per-tree constant
    (a binary forest's averaged class probabilities), the sum of those constants; else None."""
    if lowered.n_outputs != 2 or np.any(lowered.base_left != 0):
        return None
    total = 0.0
    for tree in lowered.trees:
        sums = tree.values[tree.is_leaf].sum(axis=1)
        if sums.size == 0 or np.ptp(sums) > 1e-12 * max(1.0, abs(float(sums[0]))):
            return None
        total += float(sums[0])
    return total


def _complementary(b, lowered: NumericEnsemble, x: str, nodes: dict, targets: dict, accumulate: str, total: float):
    """Sum the second output only; the first is `total` minus it (half the operator's leaf work)."""
    keep = np.asarray(targets["ids"]) == 1
    weights = _typed("nodes_values", nodes.pop("nodes_values"), accumulate)
    weights.update(_typed("target_weights", np.asarray(targets.pop("weights"))[keep], accumulate))
    second = b.op("TreeEnsembleRegressor", x, domain="ai.onnx.ml", hint="raw_second", n_targets=1,
                  aggregate_function="SUM", post_transform="NONE", **nodes, **weights,
                  target_treeids=np.asarray(targets["treeids"])[keep].tolist(),
                  target_nodeids=np.asarray(targets["nodeids"])[keep].tolist(),
                  target_ids=[0] * int(keep.sum()))
    first = b.op("Sub", b.const(np.float32(total).reshape(1, 1), "total"), second)
    raw = b.op("Concat", first, second, axis=1, hint="raw")
    return finish(b, lowered, raw, "flock_tree_ensemble", doc=lowered.ensemble.describe())


def _tables(lowered: NumericEnsemble) -> tuple[dict[str, list], dict[str, Any]]:
    """Node attributes (nodes_*) and leaf targets (treeids, nodeids, ids, weights) of all trees."""
    cols: dict[str, list] = {k: [] for k in ("treeids", "nodeids", "featureids", "values", "modes",
                                             "truenodeids", "falsenodeids", "missing_value_tracks_true")}
    t_tree, t_node, t_target, t_weight = [], [], [], []
    for t, (tree, source) in enumerate(zip(lowered.trees, lowered.ensemble.trees, strict=True)):
        n = len(tree.feature)
        leaf = tree.is_leaf
        cols["treeids"].append(np.full(n, t, dtype=np.int64))
        cols["nodeids"].append(np.arange(n, dtype=np.int64))
        cols["featureids"].append(tree.feature)
        cols["values"].append(np.where(leaf, 0.0, tree.threshold).astype(np.float32))
        cols["modes"].append(np.where(leaf, "LEAF", "BRANCH_LEQ"))
        cols["truenodeids"].append(np.where(leaf, 0, tree.left))
        cols["falsenodeids"].append(np.where(leaf, 0, tree.right))
        cols["missing_value_tracks_true"].append(np.where(leaf, 0, tree.missing_left).astype(np.int64))
        leaves = np.flatnonzero(leaf)
        for k in source.outputs:
            t_tree.append(np.full(len(leaves), t, dtype=np.int64))
            t_node.append(leaves)
            t_target.append(np.full(len(leaves), k, dtype=np.int64))
            t_weight.append(tree.values[leaves, k])
    nodes = {f"nodes_{k}": np.concatenate(v).tolist() for k, v in cols.items()}
    nodes["nodes_values"] = np.concatenate(cols["values"])
    targets = {"treeids": np.concatenate(t_tree).tolist(), "nodeids": np.concatenate(t_node).tolist(),
               "ids": np.concatenate(t_target).tolist(), "weights": np.concatenate(t_weight)}
    return nodes, targets


def _typed(name: str, values: np.ndarray, accumulate: str) -> dict[str, Any]:
    if accumulate == "float64":
        from onnx import numpy_helper

        return {f"{name}_as_tensor": numpy_helper.from_array(np.asarray(values, dtype=np.float64))}
    return {name: np.asarray(values, dtype=np.float32).tolist()}


_CLASSIFIER_POST = {"sigmoid": "LOGISTIC", "softmax": "SOFTMAX", "logistic_ova": "LOGISTIC", "none": "NONE"}


def _classifier_op_fits(lowered: NumericEnsemble) -> bool:
    """Whether TreeEnsembleClassifier can give both outputs itself (one node instead of five)."""
    ens = lowered.ensemble
    if np.any(lowered.base_left) or ens.post_transform not in _CLASSIFIER_POST:
        return False
    if ens.post_transform == "none":
        # forests: the operator's label rule breaks ties between equal averaged probabilities
        # unlike scikit-learn (first class wins); ArgMax over the sums does what it does
        return False
    return (ens.task == "binary" and ens.n_outputs == 1) or ens.n_classes >= 3


def _classifier(b, lowered: NumericEnsemble, x: str, nodes: dict, targets: dict, accumulate: str):
    """TreeEnsembleClassifier emitting "label" and "probabilities" directly.

    Binary models put every weight on class 0, which turns on ONNX Runtime's binary mode:
    probabilities [1 - v, v] from the one score v, and the label v > 0 if some weight is negative,
    else v > 0.5. They get two single-leaf trees weighing -(m + 1e-30) and +1e-30: a
    negative weight, and a shift by the label margin m (0, or XGBoost's 1.2e-7) so that the label
    is z > m exactly; the probabilities move by at most m / 4.
    """
    from onnx import TensorProto, helper

    ens = lowered.ensemble
    ids, weights = np.asarray(targets["ids"]), np.asarray(targets["weights"], dtype=np.float64)
    tree_ids, node_ids = np.asarray(targets["treeids"]), np.asarray(targets["nodeids"])
    if ens.task == "binary":
        n_trees = len(lowered.trees)
        for name, value in (("treeids", [n_trees, n_trees + 1]), ("nodeids", [0, 0]), ("featureids", [0, 0]),
                            ("modes", ["LEAF", "LEAF"]), ("truenodeids", [0, 0]), ("falsenodeids", [0, 0]),
                            ("missing_value_tracks_true", [0, 0])):
            nodes[f"nodes_{name}"] = nodes[f"nodes_{name}"] + value
        nodes["nodes_values"] = np.concatenate([nodes["nodes_values"], [0.0, 0.0]])
        tree_ids = np.concatenate([tree_ids, [n_trees, n_trees + 1]])
        node_ids, ids = np.concatenate([node_ids, [0, 0]]), np.concatenate([ids, [0, 0]])
        margin = float(np.float32(ens.label_margin))
        weights = np.concatenate([weights, [-(margin + 1e-30), 1e-30]])
    typed = _typed("nodes_values", nodes.pop("nodes_values"), accumulate)
    typed.update(_typed("class_weights", weights, accumulate))
    b.nodes.append(helper.make_node(
        "TreeEnsembleClassifier", [x], ["label", "probabilities"], domain="ai.onnx.ml",
        classlabels_int64s=list(range(ens.n_classes)), post_transform=_CLASSIFIER_POST[ens.post_transform],
        class_treeids=tree_ids.tolist(), class_nodeids=node_ids.tolist(), class_ids=ids.tolist(), **nodes, **typed))
    inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", ens.n_features])]
    outputs = [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
               helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", ens.n_classes])]
    return b.model(inputs, outputs, "flock_tree_ensemble", doc=ens.describe())

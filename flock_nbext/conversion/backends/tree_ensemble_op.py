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
    if ensemble.task == "binary" and ensemble.n_outputs == 1 and not np.any(lowered.base_left):
        return _binary_with_margin(b, lowered, x, nodes, targets, accumulate)
    weights = _typed("nodes_values", nodes.pop("nodes_values"), accumulate)
    weights.update(_typed("target_weights", targets.pop("weights"), accumulate))
    raw = b.op("TreeEnsembleRegressor", x, domain="ai.onnx.ml", hint="raw", n_targets=ensemble.n_outputs,
               aggregate_function="SUM", post_transform="NONE", **nodes, **weights,
               **{f"target_{k}": v for k, v in targets.items()})
    return finish(b, lowered, raw, "flock_tree_ensemble", doc=ensemble.describe())


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
    binary = ens.task == "binary" and ens.n_outputs == 1  # ONNX Runtime's binary mode, see below
    # two raw outputs for two classes trip ONNX Runtime's label rule for two classes: avoided
    return ((binary or ens.n_classes >= 3) and ens.label_margin == 0 and not np.any(lowered.base_left)
            and ens.post_transform in _CLASSIFIER_POST)


def _classifier(b, lowered: NumericEnsemble, x: str, nodes: dict, targets: dict, accumulate: str):
    """TreeEnsembleClassifier emitting "label" and "probabilities" directly.

    Binary (one raw output): all leaves weigh on class 0 and ONNX Runtime's binary mode returns
    [1 - sigmoid(z), sigmoid(z)] with label z > 0 - but only if some weight is negative (with all
    weights positive it compares z with 0.5). Two single-leaf trees weighing -1e-30 and +1e-30
    guarantee that and add nothing a float32 or float64 sum can see.
    """
    from onnx import TensorProto, helper

    ens = lowered.ensemble
    ids, weights = list(targets["ids"]), np.asarray(targets["weights"], dtype=np.float64)
    tree_ids, node_ids = list(targets["treeids"]), list(targets["nodeids"])
    if ens.task == "binary" and ens.n_outputs == 1:
        n_trees = len(lowered.trees)
        for name, value in (("treeids", [n_trees, n_trees + 1]), ("nodeids", [0, 0]), ("featureids", [0, 0]),
                            ("modes", ["LEAF", "LEAF"]), ("truenodeids", [0, 0]), ("falsenodeids", [0, 0]),
                            ("missing_value_tracks_true", [0, 0])):
            nodes[f"nodes_{name}"] = nodes[f"nodes_{name}"] + value
        nodes["nodes_values"] = np.concatenate([nodes["nodes_values"], [0.0, 0.0]])
        tree_ids, node_ids, ids = tree_ids + [n_trees, n_trees + 1], node_ids + [0, 0], ids + [0, 0]
        weights = np.concatenate([weights, [-1e-30, 1e-30]])
    typed = _typed("nodes_values", nodes.pop("nodes_values"), accumulate)
    typed.update(_typed("class_weights", weights, accumulate))
    b.nodes.append(helper.make_node(
        "TreeEnsembleClassifier", [x], ["label", "probabilities"], domain="ai.onnx.ml",
        classlabels_int64s=list(range(ens.n_classes)), post_transform=_CLASSIFIER_POST[ens.post_transform],
        class_treeids=tree_ids, class_nodeids=node_ids, class_ids=ids, **nodes, **typed))
    inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", ens.n_features])]
    outputs = [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
               helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", ens.n_classes])]
    return b.model(inputs, outputs, "flock_tree_ensemble", doc=ens.describe())


def _binary_with_margin(b, lowered: NumericEnsemble, x: str, nodes: dict, targets: dict, accumulate: str):
    """Binary classifier whose label is z > label_margin (XGBoost): four nodes instead of eight.

    The regressor sums two targets, [m - z, z - m]: ArgMax of that pair is 1 exactly when
    z > m (the two sums round symmetrically), and Sigmoid of the pair plus [-m, m] gives the
    probabilities [1 - p, p].
    """
    from onnx import TensorProto, helper

    ens = lowered.ensemble
    margin = ens.label_margin
    weights = np.asarray(targets["weights"], dtype=np.float64)
    typed = _typed("nodes_values", nodes.pop("nodes_values"), accumulate)
    typed.update(_typed("target_weights", np.concatenate([-weights, weights]), accumulate))
    pair = b.op("TreeEnsembleRegressor", x, domain="ai.onnx.ml", hint="pair", n_targets=2,
                aggregate_function="SUM", post_transform="NONE", base_values=[margin, -margin], **nodes, **typed,
                target_treeids=targets["treeids"] * 2, target_nodeids=targets["nodeids"] * 2,
                target_ids=[0] * len(weights) + [1] * len(weights))
    label = b.op("ArgMax", pair, axis=1, keepdims=0)
    proba = b.op("Sigmoid", b.op("Add", pair, b.const(np.array([[-margin, margin]], dtype=np.float32), "margin")))
    b.rename(label, "label")
    b.rename(proba, "probabilities")
    inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", ens.n_features])]
    outputs = [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
               helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2])]
    return b.model(inputs, outputs, "flock_tree_ensemble", doc=ens.describe())

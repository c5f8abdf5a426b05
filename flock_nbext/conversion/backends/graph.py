"""What every tree backend's ONNX graph shares: input rules up front, outputs at the end.

The graph contract: one input "X" float32 [N, n_features]; classifiers output "label" (int64 [N],
an index into the ensemble's classes) and "probabilities" (float32 [N, n_classes]); regressors
output "variable" (float32 [N, n_outputs]). No ZipMap; one row per input row.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .lowering import NumericEnsemble, tiny_bound

DEFAULT_OPSET = 18
ML_OPSET = 3
INPUT = "X"


class GraphBuilder:
    """Collects nodes and constants under unique names, then makes the ModelProto."""

    def __init__(self, opset: int = DEFAULT_OPSET) -> None:
        if opset < 13:
            raise ValueError(f"opset {opset} is too old: flock's tree graphs need opset 13 or newer")
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.domains: dict[str, int] = {"": opset}
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, value, hint: str = "c", dtype=None) -> str:
        from onnx import numpy_helper

        array = np.asarray(value, dtype=dtype)
        name = self._name(hint)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, *inputs: str, hint: str | None = None, domain: str = "",
           outputs: int = 1, **attrs: Any) -> Any:
        from onnx import helper

        names = [self._name(hint or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, domain=domain or None, **attrs))
        return names[0] if outputs == 1 else names

    def split_last(self, x: str, parts: int) -> list[str]:
        """Split [..., parts] along its last axis (axis 2 of a [N, T, parts] tensor) into [N, T] pieces."""
        attrs = {"num_outputs": parts} if self.opset >= 18 else {}  # before 18: equal parts implied
        pieces = self.op("Split", x, axis=2, outputs=parts, **attrs)
        axis = self.const(np.array([2]), "axis2")
        return [self.op("Squeeze", p, axis) for p in (pieces if parts > 1 else [pieces])]

    def use_domain(self, domain: str, version: int) -> None:
        self.domains[domain] = version

    def rename(self, name: str, new: str) -> None:
        """Give a node's output its public name."""
        for node in self.nodes:
            for i, out in enumerate(node.output):
                if out == name:
                    node.output[i] = new
            for i, inp in enumerate(node.input):
                if inp == name:
                    node.input[i] = new

    def model(self, inputs, outputs, graph_name: str, doc: str = "") -> Any:
        from onnx import helper

        graph = helper.make_graph(self.nodes, graph_name, inputs, outputs, self.initializers)
        opsets = [helper.make_opsetid(d, v) for d, v in self.domains.items()]
        model = helper.make_model(graph, opset_imports=opsets, producer_name="flock-nbext")
        model.ir_version = min(model.ir_version, 10)
        model.doc_string = doc
        return model


def preprocess(b: GraphBuilder, lowered: NumericEnsemble) -> str:
    """Apply the ensemble's input rules to "X" and append virtual categorical columns."""
    ens = lowered.ensemble
    x = INPUT
    if lowered.flush_features:
        tiny = b.op("LessOrEqual", b.op("Abs", x), b.const(tiny_bound(ens.zero_threshold), "zero_thr"))
        if len(lowered.flush_features) < ens.n_features:
            mask = np.zeros(ens.n_features, dtype=bool)
            mask[sorted(lowered.flush_features)] = True
            tiny = b.op("And", tiny, b.const(mask, "flush_features"))
        x = b.op("Where", tiny, b.const(np.float32(0.0), "zero"), x, hint="x_flushed")
    if ens.zero_as_missing:
        mask = np.zeros(ens.n_features, dtype=bool)
        mask[sorted(ens.zero_as_missing)] = True
        is_zero = b.op("And", b.op("Equal", x, b.const(np.float32(0.0), "zero")), b.const(mask, "zero_missing"))
        x = b.op("Where", is_zero, b.const(np.float32(np.nan), "nan"), x, hint="x_missing")
    table = lowered.categorical
    if table is None:
        return x
    g = b.op("Gather", x, b.const(table.features, "cat_features"), axis=1)
    if ens.categorical_rule == "truncate":
        negative = b.op("Less", g, b.const(np.float32(0.0), "zero"))
        codes = b.op("Where", negative, b.op("Ceil", g), b.op("Floor", g))
    elif ens.categorical_rule == "negative_invalid":
        codes = b.op("Floor", g)
    else:  # exact: only integral values name a category
        floor = b.op("Floor", g)
        codes = b.op("Where", b.op("Equal", floor, g), floor, b.const(np.float32(-1.0), "minus_one"))
    sizes = b.const(table.sizes.astype(np.float32), "cat_sizes")
    valid = b.op("And", b.op("GreaterOrEqual", codes, b.const(np.float32(0.0), "zero")),
                 b.op("Less", codes, sizes))  # False for NaN
    idx = b.op("Cast", b.op("Where", valid, codes, sizes), to=7)  # int64
    idx = b.op("Add", idx, b.const(table.offsets, "cat_offsets"))
    virtual = b.op("Gather", b.const(table.table, "cat_table"), idx, axis=0, hint="cat_columns")
    return b.op("Concat", x, virtual, axis=1, hint="x_columns")


def decide(b: GraphBuilder, values: str, thresholds: str, missing_left: str | None,
           all_missing_left: bool | None) -> str:
    """Bool 'go left' of `values <= thresholds`, NaN going the `missing_left` way.

    When every node sends NaN the same way one comparison suffices: `x <= t` is False for NaN,
    `not (x > t)` is True for NaN.
    """
    if all_missing_left is False:
        return b.op("LessOrEqual", values, thresholds)
    if all_missing_left is True:
        return b.op("Not", b.op("Greater", values, thresholds))
    le = b.op("LessOrEqual", values, thresholds)  # False for NaN
    return b.op("Or", le, b.op("And", b.op("IsNaN", values), missing_left), hint="go_left")


def finish(b: GraphBuilder, lowered: NumericEnsemble, raw: str, graph_name: str, doc: str = "") -> Any:
    """Add the post transform to float32 `raw` [N, n_outputs] (scaled, base included); make the model.

    Few nodes on purpose. A binary classifier's probabilities are Sigmoid([-z, z]) and its label
    ArgMax([-z, z]): class 1 iff z > 0, as LightGBM's p > 0.5, with no rounding of p in between.
    """
    from onnx import TensorProto, helper

    ens = lowered.ensemble
    z = raw
    if np.any(lowered.base_left != 0):
        z = b.op("Add", raw, b.const(lowered.base_left.astype(np.float32).reshape(1, -1), "base_score"))
    post = ens.post_transform
    x_info = helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", ens.n_features])
    label = None
    if ens.task == "binary" and ens.n_outputs == 1:
        if post != "sigmoid":
            raise ValueError(f"a one-output binary classifier needs a sigmoid, not {post!r}")
        if ens.label_margin != 0:
            flat = b.op("Reshape", z, b.const(np.array([-1]), "flat"))
            label = b.op("Cast", b.op("Greater", flat, b.const(np.float32(ens.label_margin), "label_margin")), to=7)
        z = b.op("Concat", b.op("Neg", z), z, axis=1)
    out = {"none": lambda: z, "sigmoid": lambda: b.op("Sigmoid", z), "logistic_ova": lambda: b.op("Sigmoid", z),
           "softmax": lambda: b.op("Softmax", z, axis=1), "exp": lambda: b.op("Exp", z),
           "softplus": lambda: b.op("Softplus", z)}[post]()
    if ens.task == "regression":
        b.rename(out, "variable")
        outputs = [helper.make_tensor_value_info("variable", TensorProto.FLOAT, ["N", ens.n_outputs])]
        return b.model([x_info], outputs, graph_name, doc)
    if label is None:
        label = b.op("ArgMax", z, axis=1, keepdims=0)  # every transform here keeps the order of z
    b.rename(out, "probabilities")
    b.rename(label, "label")
    outputs = [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
               helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", ens.n_classes])]
    return b.model([x_info], outputs, graph_name, doc)


def stack_trees(lowered: NumericEnsemble):
    """All trees' nodes in one table: child and node indices become global (`offsets[t]` + local)."""
    offsets = np.cumsum([0] + [len(t.feature) for t in lowered.trees[:-1]]).astype(np.int64)
    cat = lambda name: np.concatenate([getattr(t, name) for t in lowered.trees])  # noqa: E731
    left = np.concatenate([np.where(t.left >= 0, t.left + o, -1) for t, o in zip(lowered.trees, offsets, strict=True)])
    right = np.concatenate([np.where(t.right >= 0, t.right + o, -1) for t, o in zip(lowered.trees, offsets, strict=True)])
    return offsets, cat("feature"), cat("threshold"), left, right, cat("missing_left"), cat("values")


def sum_leaves(b: GraphBuilder, lowered: NumericEnsemble, leaf: str, values: np.ndarray,
               tree_of_row: np.ndarray, accumulate: str = "float64") -> str:
    """float32 [N, n_outputs]: the sum over trees of the values of the leaves in `leaf` [N, T].

    `values` [G, n_outputs] is indexed by `leaf`; `tree_of_row` [G] names the tree of each row.
    When every tree adds to one output (boosting), one Gather gives [N, T] and a [T, n_outputs]
    0/1 matrix routes each tree to its output; otherwise (forests with multi-output leaves)
    [N, T, n_outputs] is gathered and summed over the trees. With accumulate="float64" the leaf
    values and the sum are float64 (the libraries sum in float64; a thousand float32 additions
    can drift past 1e-5), and only the result is float32.
    """
    dtype = _accumulator(accumulate)
    trees = lowered.ensemble.trees
    n_out = lowered.n_outputs
    if all(len(t.outputs) == 1 for t in trees):
        column = np.array([t.outputs[0] for t in trees], dtype=np.int64)
        scalar = values[np.arange(len(values)), column[tree_of_row]]
        gathered = b.op("Gather", b.const(scalar.astype(dtype), "leaf_values"), leaf, axis=0)
        if n_out == 1:
            raw = b.op("ReduceSum", gathered, b.const(np.array([1]), "axis1"), keepdims=1)
        else:
            route = np.zeros((len(trees), n_out), dtype=dtype)
            route[np.arange(len(trees)), column] = 1.0
            raw = b.op("MatMul", gathered, b.const(route, "tree_outputs"))
    else:
        gathered = b.op("Gather", b.const(values.astype(dtype), "leaf_values"), leaf, axis=0)
        raw = b.op("ReduceSum", gathered, b.const(np.array([1]), "axis1"), keepdims=0)
    return raw if dtype == np.float32 else b.op("Cast", raw, to=1, hint="raw")


def _accumulator(accumulate: str):
    if accumulate not in ("float32", "float64"):
        raise ValueError(f"accumulate={accumulate!r}: use 'float32' or 'float64'")
    return np.float32 if accumulate == "float32" else np.float64


def zero_index(b: GraphBuilder, width: int) -> str:
    """int64 zeros [N, width], N taken from the input "X"."""
    from onnx import TensorProto, helper

    n = b.op("Slice", b.op("Shape", INPUT), b.const(np.array([0]), "start"), b.const(np.array([1]), "stop"))
    shape = b.op("Concat", n, b.const(np.array([width], dtype=np.int64), "width"), axis=0)
    return b.op("ConstantOfShape", shape, value=helper.make_tensor("zero", TensorProto.INT64, [1], [0]))

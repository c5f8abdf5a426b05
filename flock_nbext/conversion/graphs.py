"""Small edits of ONNX graphs: bring third-party graphs to flock's output contract, add class labels.

The contract: input "X"; classifiers output "label" int64 [N] (index into the classes) and
"probabilities" float32 [N, n_classes]; other models output "variable" float32 [N, k].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConversionError

_FLOAT = 1  # onnx.TensorProto.FLOAT


def conform(model: Any, task: str) -> Any:
    """Rename and reshape the outputs of a converter's graph to the contract (returns a new model)."""
    import onnx
    from onnx import helper

    model = _copy(model)
    graph = model.graph
    if len(graph.input) != 1:
        raise ConversionError(f"expected one graph input, the converter produced {len(graph.input)}")
    _rename(graph, graph.input[0].name, "X")
    source = _float_output(graph, prefer="probabilities" if task == "classifier" else "variable")
    taken = {"label", "probabilities", "variable", "shape_0_minus1"}
    for out in list(graph.output):
        if out.name in taken:
            _rename(graph, out.name, f"{out.name}__original")
    source = f"{source}__original" if source in taken else source
    del graph.output[:]
    if task == "classifier":
        graph.node.append(helper.make_node("Identity", [source], ["probabilities"], name="flock_probabilities"))
        graph.node.append(helper.make_node("ArgMax", [source], ["label"], axis=1, keepdims=0,
                                           name="flock_label"))
        graph.output.extend([
            helper.make_tensor_value_info("label", onnx.TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info("probabilities", _FLOAT, ["N", None]),
        ])
    else:
        graph.initializer.append(onnx.numpy_helper.from_array(np.array([0, -1], dtype=np.int64), "shape_0_minus1"))
        graph.node.append(helper.make_node("Reshape", [source, "shape_0_minus1"], ["variable"],
                                           name="flock_variable"))
        graph.output.append(helper.make_tensor_value_info("variable", _FLOAT, ["N", None]))
    _prune(graph)
    _ensure_opset(model, "", 5)  # Reshape with a shape input
    return model


def with_class_labels(model: Any, classes: np.ndarray) -> Any:
    """A copy whose "label" output carries the original class labels instead of indices (for serving)."""
    import onnx
    from onnx import helper

    model = _copy(model)
    graph = model.graph
    labels = np.asarray(classes)
    if labels.dtype.kind in "iub":
        tensor, elem = onnx.numpy_helper.from_array(labels.astype(np.int64), "flock_classes"), onnx.TensorProto.INT64
    elif labels.dtype.kind == "f":
        tensor, elem = onnx.numpy_helper.from_array(labels.astype(np.float32), "flock_classes"), _FLOAT
    else:
        tensor = helper.make_tensor("flock_classes", onnx.TensorProto.STRING, [len(labels)],
                                    [str(v).encode() for v in labels])
        elem = onnx.TensorProto.STRING
    _rename(graph, "label", "label_index")
    graph.initializer.append(tensor)
    graph.node.append(helper.make_node("Gather", ["flock_classes", "label_index"], ["label"], axis=0,
                                       name="flock_class_labels"))
    outputs = [o for o in graph.output if o.name != "label_index"]
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("label", elem, ["N"]))
    graph.output.extend(outputs)
    return model


def bytes_per_row(model: Any) -> int | None:
    """A rough memory need per input row: 8 x the largest intermediate tensor of one row.

    From ONNX shape inference, for tensors whose first dimension is the input's batch dimension;
    None when the graph's shapes do not say. ONNX Runtime reuses buffers, so the sum of all
    intermediates overstates the peak; eight of the largest matched the peak measured for GEMM
    graphs (1,000 trees of 31 leaves: ~840 KB per row, largest tensor 124 KB).
    """
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:
        return None
    batch = inferred.graph.input[0].type.tensor_type.shape.dim[0].dim_param
    if not batch:
        return None
    largest = 0
    for vi in [*inferred.graph.value_info, *inferred.graph.output]:
        dims = vi.type.tensor_type.shape.dim
        if not any(d.dim_param == batch for d in dims):
            continue
        size = 1
        for d in dims:
            if d.dim_param == batch:
                continue
            if not d.HasField("dim_value"):
                size = 0
                break
            size *= d.dim_value
        try:
            itemsize = onnx.helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type).itemsize
        except Exception:
            itemsize = 8
        largest = max(largest, size * itemsize)
    return 8 * largest


def _copy(model: Any) -> Any:
    import onnx

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    return copy


def _float_output(graph: Any, prefer: str) -> str:
    outs = [o for o in graph.output if o.type.tensor_type.elem_type == _FLOAT]
    if not outs:
        raise ConversionError("the converter's graph has no float output to check against the model")
    for o in outs:
        if o.name == prefer:
            return o.name
    return outs[-1].name


def _rename(graph: Any, old: str, new: str) -> None:
    if old == new:
        return
    for node in graph.node:
        node.input[:] = [new if n == old else n for n in node.input]
        node.output[:] = [new if n == old else n for n in node.output]
    for coll in (graph.input, graph.output, graph.value_info):
        for vi in coll:
            if vi.name == old:
                vi.name = new


def _prune(graph: Any) -> None:
    """Drop nodes and initializers that no graph output depends on."""
    needed = {o.name for o in graph.output}
    keep = []
    for node in reversed(list(graph.node)):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(i for i in node.input if i)
    keep.reverse()
    del graph.node[:]
    graph.node.extend(keep)
    inits = [t for t in graph.initializer if t.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(inits)


def _ensure_opset(model: Any, domain: str, version: int) -> None:
    seen = False
    for op in model.opset_import:
        if op.domain == domain:
            op.version = max(op.version, version) if not seen else op.version
            seen = True
    if not seen:
        model.opset_import.add(domain=domain, version=version)

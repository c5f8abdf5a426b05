"""Row blocks: evaluate a compiled graph over the batch a block of rows at a time (one ONNX Scan).

The dense strategies (GEMM, perfect tree traversal) make intermediates of rows x trees x nodes
values. Over a 10,000-row batch these leave the CPU caches, and for large ensembles need
gigabytes; the same graph run on blocks of a few hundred rows keeps them in cache and bounds the
memory (GEMM on the seed's model: 436k -> 791k rows/s at batch 10,000 on one thread). Every tree
graph computes each row on its own, so the answers are identical to the unblocked graph's; the
Scan costs a few microseconds per call, so batch 1 prefers the plain graph (autotune decides).

The batch is split into balanced blocks of at most B rows (at least one block, so an empty batch
works too), padded by less than one row per block, reshaped to [blocks, rows, features],
scanned, reshaped back and cut to the batch's rows.
"""

from __future__ import annotations

from typing import Any

TARGET_BLOCK_BYTES = 2 << 20
"""The largest intermediate of one block should stay within about a CPU's L2 cache."""
MIN_BLOCK_ROWS, MAX_BLOCK_ROWS = 16, 4096


def block_rows_for(model: Any) -> int:
    """A power-of-two block size whose largest intermediate fills about TARGET_BLOCK_BYTES."""
    from ..graphs import bytes_per_row

    per_row = bytes_per_row(model)  # 8 x the largest intermediate tensor of one row
    if not per_row:
        return 256
    rows = max(1, TARGET_BLOCK_BYTES * 8 // per_row)
    rows = 1 << (rows.bit_length() - 1)
    return max(MIN_BLOCK_ROWS, min(MAX_BLOCK_ROWS, rows))


def in_row_blocks(model: Any, block_rows: int | str = "auto") -> Any:
    """`model` (graph contract: input "X" [N, F], outputs [N] or [N, k]) evaluated block by block."""
    import onnx
    from onnx import TensorProto, helper

    rows = block_rows_for(model) if block_rows == "auto" else int(block_rows)
    if rows < 1:
        raise ValueError(f"block_rows={block_rows!r}: a block needs at least one row")
    body = onnx.GraphProto()
    body.CopyFrom(model.graph)
    (x,) = body.input
    n_features = x.type.tensor_type.shape.dim[1].dim_value
    x.name = "block_X"
    x.type.tensor_type.shape.dim[0].dim_param = "B"
    outputs = [(o.name, o.type.tensor_type.elem_type, len(o.type.tensor_type.shape.dim)) for o in body.output]
    renames = {"X": "block_X", **{name: f"block_{name}" for name, _, _ in outputs}}
    for node in body.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
    for out in body.output:
        out.name = renames[out.name]
        out.type.tensor_type.shape.dim[0].dim_param = "B"
    body.name = f"{body.name}_block"

    def ints(name: str, values: list[int]) -> Any:
        return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64,
                                                                              [len(values)], values))

    nodes = [
        ints("scan_zero", [0]), ints("scan_two", [2]),  # Shape's start/end need opset 15: Gather instead
        helper.make_node("Shape", ["X"], ["scan_x_shape"]),
        helper.make_node("Gather", ["scan_x_shape", "scan_zero"], ["scan_rows_n"], axis=0),
        ints("scan_rows_b", [rows]), ints("scan_one", [1]), ints("scan_zeros3", [0, 0, 0]),
        ints("scan_minus1", [-1]), ints("scan_features", [n_features]),
        # blocks = max(ceil(n / rows), 1); block = max(ceil(n / blocks), 1): balanced blocks, so a
        # small batch is one block of its own size and padding stays below one row per block
        *_ceil_div("scan_rows_n", "scan_rows_b", "scan_blocks_ceil"),
        helper.make_node("Max", ["scan_blocks_ceil", "scan_one"], ["scan_blocks"]),
        *_ceil_div("scan_rows_n", "scan_blocks", "scan_block_ceil"),
        helper.make_node("Max", ["scan_block_ceil", "scan_one"], ["scan_block"]),
        helper.make_node("Mul", ["scan_blocks", "scan_block"], ["scan_rows_padded"]),
        helper.make_node("Sub", ["scan_rows_padded", "scan_rows_n"], ["scan_rows_extra"]),
        # Pad's pads are [rows_begin, features_begin, rows_end, features_end]
        helper.make_node("Concat", ["scan_zeros3", "scan_rows_extra"], ["scan_pads_tail"], axis=0),
        ints("scan_pads_order", [0, 1, 3, 2]),
        helper.make_node("Gather", ["scan_pads_tail", "scan_pads_order"], ["scan_pads"], axis=0),
        helper.make_node("Pad", ["X", "scan_pads"], ["scan_X_padded"]),
        helper.make_node("Concat", ["scan_blocks", "scan_block", "scan_features"], ["scan_blocked_shape"], axis=0),
        helper.make_node("Reshape", ["scan_X_padded", "scan_blocked_shape"], ["scan_X_blocks"]),
        helper.make_node("Scan", ["scan_X_blocks"], [f"{name}_blocks" for name, _, _ in outputs], num_scan_inputs=1,
                         body=body),
    ]
    graph_outputs = []
    for name, elem_type, rank in outputs:
        if rank == 1:
            nodes.append(helper.make_node("Reshape", [f"{name}_blocks", "scan_minus1"], [f"{name}_rows"]))
        else:
            nodes += [helper.make_node("Shape", [f"{name}_blocks"], [f"{name}_blocks_shape"]),
                      helper.make_node("Gather", [f"{name}_blocks_shape", "scan_two"], [f"{name}_width"], axis=0),
                      helper.make_node("Concat", ["scan_minus1", f"{name}_width"], [f"{name}_shape"], axis=0),
                      helper.make_node("Reshape", [f"{name}_blocks", f"{name}_shape"], [f"{name}_rows"])]
        nodes.append(helper.make_node("Slice", [f"{name}_rows", "scan_zero", "scan_rows_n"], [name]))
        original = next(o for o in model.graph.output if o.name == name)
        graph_outputs.append(helper.make_tensor_value_info(
            name, elem_type, [d.dim_param or d.dim_value or None for d in original.type.tensor_type.shape.dim]))
    graph = helper.make_graph(nodes, model.graph.name, [helper.make_tensor_value_info(
        "X", TensorProto.FLOAT, [model.graph.input[0].type.tensor_type.shape.dim[0].dim_param or "N", n_features])],
        graph_outputs)
    blocked = helper.make_model(graph, opset_imports=list(model.opset_import), producer_name=model.producer_name)
    blocked.ir_version = model.ir_version
    blocked.doc_string = f"{model.doc_string} (in blocks of {rows} rows)".strip()
    return blocked


def _ceil_div(a: str, b: str, out: str) -> list[Any]:
    """Nodes computing out = (a + b - 1) / b for positive int64 tensors."""
    from onnx import helper

    return [helper.make_node("Add", [a, b], [f"{out}_sum"]),
            helper.make_node("Sub", [f"{out}_sum", "scan_one"], [f"{out}_num"]),
            helper.make_node("Div", [f"{out}_num", b], [out])]


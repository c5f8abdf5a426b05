"""ONNX Runtime sessions for converted models: one place that sets threads and optimisation level.

`serving.onnx_session` re-exports these two functions for the serving layer; they live here so
that conversion/ (which serving builds on) never imports upward.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import ConversionError


def session_options(threads: int | None = None, *, optimize: bool = True) -> Any:
    """SessionOptions with `threads` intra-op threads (None: ORT's default) and sequential execution."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads is not None:
        if int(threads) < 1:
            raise ConversionError(f"threads must be a positive integer, got {threads!r}")
        opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    opts.log_severity_level = 3
    return opts


def make_session(model: Any, threads: int | None = None) -> Any:
    """An onnxruntime InferenceSession on CPU for a ModelProto, serialized bytes or a file path."""
    import onnxruntime as ort

    if isinstance(model, (bytes, bytearray)):
        payload: Any = bytes(model)
    elif isinstance(model, (str, os.PathLike)):
        payload = os.fspath(model)
    elif hasattr(model, "SerializeToString"):
        payload = model.SerializeToString()
    else:
        raise ConversionError(f"cannot open an ONNX Runtime session on a {type(model).__name__}; "
                              "pass an onnx.ModelProto, its bytes or a file path")
    try:
        return ort.InferenceSession(payload, sess_options=session_options(threads),
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own Fail/InvalidGraph types
        raise ConversionError(f"ONNX Runtime refused the model: {str(exc).splitlines()[0]}") from exc


def run(session: Any, X: Any) -> dict[str, np.ndarray]:
    """Run `session` on the rows of X (cast to float32) and return every output by name."""
    name = session.get_inputs()[0].name
    arr = np.ascontiguousarray(np.asarray(X, dtype=np.float32))
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, {name: arr}), strict=True))

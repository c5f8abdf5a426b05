"""ONNX Runtime's graph optimisations applied once, offline, and int8 dynamic quantisation.

Offline optimisation runs ORT's optimiser when the model is converted and keeps the optimised
graph (SessionOptions.optimized_model_filepath), so that the saved/logged model is the one that
was validated and timed. The default level is "extended": "all" adds layout transformations
that bind the saved file to the CPU it was optimised on.

Dynamic quantisation (weights to int8) is offered for neural models only: tree ensembles have no
weight matrices to quantise, and rounding their thresholds would break exactness.
"""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

from ..errors import ConversionError

LEVELS = ("basic", "extended", "all")


def optimize_offline(model: Any, level: str = "extended") -> Any:
    """The model as ONNX Runtime optimises it at `level` (basic | extended | all), as a new ModelProto."""
    import onnx
    import onnxruntime as ort

    if level not in LEVELS:
        raise ConversionError(f"unknown optimisation level {level!r}; choose one of {', '.join(LEVELS)}")
    opts = ort.SessionOptions()
    opts.graph_optimization_level = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    opts.log_severity_level = 3
    with tempfile.TemporaryDirectory(prefix="flock-ort-") as tmp:
        path = os.path.join(tmp, "optimized.onnx")
        opts.optimized_model_filepath = path
        try:
            ort.InferenceSession(model.SerializeToString(), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ConversionError(f"ONNX Runtime refused the graph: {str(exc).splitlines()[0]}") from exc
        optimized = onnx.load(path)
    optimized.producer_name = model.producer_name or "flock"
    _keep_used_opsets(optimized)
    return optimized


def _keep_used_opsets(model: Any) -> None:
    """Drop the opset imports ORT adds for every domain it knows, keeping one per domain in use."""
    used = {node.domain for node in model.graph.node} | {""}
    kept: dict[str, int] = {}
    for op in model.opset_import:
        if op.domain in used:
            kept[op.domain] = max(kept.get(op.domain, 0), op.version)
    del model.opset_import[:]
    for domain, version in kept.items():
        model.opset_import.add(domain=domain, version=version)


def quantize_dynamic(model: Any) -> Any:
    """Weights of MatMul/Gemm quantised to int8, activations quantised on the fly (neural models only)."""
    import onnx
    from onnxruntime.quantization import QuantType
    from onnxruntime.quantization import quantize_dynamic as _quantize

    if any(node.domain == "ai.onnx.ml" and node.op_type.startswith("TreeEnsemble") for node in model.graph.node):
        raise ConversionError("dynamic quantisation is offered for neural models only; this graph is a tree ensemble")
    with tempfile.TemporaryDirectory(prefix="flock-quant-") as tmp:
        src, dst = os.path.join(tmp, "float.onnx"), os.path.join(tmp, "int8.onnx")
        onnx.save(model, src)
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # the quantiser logs a pre-processing hint on the root logger
        try:
            _quantize(src, dst, weight_type=QuantType.QInt8)
        except Exception as exc:
            raise ConversionError(f"dynamic quantisation failed: {str(exc).splitlines()[0]}") from exc
        finally:
            root.setLevel(level)
        return onnx.load(dst)

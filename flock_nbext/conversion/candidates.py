"""Every way flock knows to turn one model into an ONNX graph, as a list of named candidates.

Tree ensembles get one candidate per compiler backend (through the tree IR) plus the usual
onnxmltools / skl2onnx route as a baseline; other scikit-learn models get skl2onnx; torch modules
get torch.onnx.export. Every graph leaves here in the graph contract: input "X" float32
[N, n_features]; classifiers output "label" int64 [N] (an index into the classes) and
"probabilities" float32 [N, n_classes]; other models output "variable" float32 [N, k]; no ZipMap.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ConversionError, UnsupportedModelError
from . import graphs
from .reference import CLASSIFIER, TENSOR, OriginalModel

BASELINE_OPSET = 15  # onnxmltools 1.16 converts LightGBM up to opset 15


@dataclasses.dataclass
class Candidate:
    """One named way to build the graph; `skip_reason` set means it does not apply to this model."""

    name: str
    build: Callable[[], Any] | None
    kind: str  # "compiled" (flock's tree backends), "baseline", "sklearn", "neural"
    skip_reason: str | None = None


@dataclasses.dataclass
class Plan:
    """What autotune needs: the candidates and, for tree ensembles, the IR the sample is drawn from."""

    candidates: list[Candidate]
    ensemble: Any = None


def plan(original: OriginalModel, *, sample: np.ndarray | None, quantize: bool = False) -> Plan:
    """The candidates for `original`; UnsupportedModelError naming the model if there are none."""
    if original.family == "torch":
        return Plan(_torch_candidates(original, sample, quantize))
    tree = _is_tree_model(original.model)
    if quantize:
        raise ConversionError(f"dynamic quantisation is offered for neural models only; {original.name} is "
                              f"{'a tree ensemble' if tree else 'not a neural model'}")
    if tree:
        return _tree_plan(original)
    if original.family == "sklearn":
        return Plan([_skl2onnx_candidate(original, "skl2onnx", "sklearn")])
    if original.family in ("lightgbm", "xgboost"):
        return Plan([_baseline_candidate(original)])
    raise UnsupportedModelError(f"cannot convert {original.name}: no converter applies")


def _is_tree_model(model: Any) -> bool:
    from . import frontends

    return frontends.supports(model)


def _backends() -> list[Any]:
    from .backends import REGISTRY

    return list(REGISTRY.values()) if hasattr(REGISTRY, "values") else list(REGISTRY)


def _tree_plan(original: OriginalModel) -> Plan:
    """One candidate per compiler backend, plus the baseline converter.

    If the tree frontend cannot read the model (a feature it cannot compile exactly), the
    compiled candidates are reported with that reason and the baseline still gets its chance.
    """
    from . import frontends

    backends = _backends()
    try:
        ensemble = frontends.to_ir(original.model)
    except Exception as exc:  # reported per candidate; the baseline may still convert the model
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        out = [Candidate(b.name, None, "compiled", skip_reason=f"the tree compiler cannot read this model: {why}")
               for b in backends]
        return Plan([*out, _baseline_candidate(original)])
    out = []
    for backend in backends:
        try:
            why_not = backend.applicable(ensemble)
        except Exception as exc:  # a broken strategy is reported, the others still compete
            why_not = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        build = None if why_not else (lambda b=backend: b.build(ensemble))
        out.append(Candidate(backend.name, build, "compiled", skip_reason=why_not))
    return Plan([*out, _baseline_candidate(original)], ensemble=ensemble)


def _baseline_candidate(original: OriginalModel) -> Candidate:
    if original.family == "sklearn":
        return _skl2onnx_candidate(original, "skl2onnx (baseline)", "baseline")
    name = "onnxmltools (baseline)"
    if original.n_features is None:
        return Candidate(name, None, "baseline", skip_reason="the model does not say how many features it takes")

    def build() -> Any:
        import onnxmltools
        from onnxmltools.convert.common.data_types import FloatTensorType

        types = [("X", FloatTensorType([None, original.n_features]))]
        if original.family == "lightgbm":
            proto = onnxmltools.convert_lightgbm(original.model, initial_types=types, target_opset=BASELINE_OPSET,
                                                 zipmap=False)
        else:
            proto = onnxmltools.convert_xgboost(original.model, initial_types=types, target_opset=BASELINE_OPSET)
        return graphs.conform(proto, original.task)

    return Candidate(name, build, "baseline")


def _skl2onnx_candidate(original: OriginalModel, name: str, kind: str) -> Candidate:
    if original.n_features is None:
        return Candidate(name, None, kind, skip_reason="the model does not say how many features it takes")

    def build() -> Any:
        import skl2onnx
        from skl2onnx.common.data_types import FloatTensorType

        types = [("X", FloatTensorType([None, original.n_features]))]
        options = {"zipmap": False} if original.task == CLASSIFIER else None
        try:
            proto = skl2onnx.convert_sklearn(original.model, initial_types=types, options=options)
        except Exception as exc:  # skl2onnx raises RuntimeError/MissingShapeCalculator etc.
            raise ConversionError(f"skl2onnx cannot convert {original.name}: {str(exc).splitlines()[0]}") from exc
        return graphs.conform(proto, original.task)

    return Candidate(name, build, kind)


def _torch_candidates(original: OriginalModel, sample: np.ndarray | None, quantize: bool) -> list[Candidate]:
    if original.n_features is None and sample is None:
        raise ConversionError(f"{original.name} has no Linear first layer to read its input width from: pass a "
                              "sample of inputs to convert()")

    def build() -> Any:
        return _export_torch(original, sample)

    out = [Candidate("torch.onnx", build, "neural")]
    if quantize:
        def build_int8() -> Any:
            from .optimize import quantize_dynamic

            return quantize_dynamic(build())

        out.append(Candidate("torch.onnx + int8 dynamic quantisation", build_int8, "neural"))
    return out


def _export_torch(original: OriginalModel, sample: np.ndarray | None) -> Any:
    import io

    import onnx
    import torch

    module = original.model
    rows = sample[:2] if sample is not None else np.zeros((2, original.n_features), dtype=np.float32)
    example = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32))
    buffer = io.BytesIO()
    was_training = module.training
    module.eval()
    try:
        torch.onnx.export(module, (example,), buffer, input_names=["X"], output_names=["variable"],
                          dynamic_axes={"X": {0: "N"}, "variable": {0: "N"}}, dynamo=False)
    except Exception as exc:
        raise ConversionError(f"torch.onnx.export failed on {original.name}: {str(exc).splitlines()[0]}") from exc
    finally:
        module.train(was_training)
    return graphs.conform(onnx.load_from_string(buffer.getvalue()), TENSOR)

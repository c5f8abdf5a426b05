"""A model ready to score table rows: one ONNX Runtime session and the columns its outputs become.

`load_scoring_model` accepts what `score_sql` takes: a flock `ConversionResult`, an `onnx.ModelProto`
or its bytes, a path to an .onnx file, an MLflow model URI (`models:/...`, `runs:/...`; resolved in
tracking/, imported only then), or a trained model object (converted with `flock_nbext.convert`).

Output columns: classifiers give `prediction` (the class label) and `proba_<class>` per class;
regressors give `prediction` (or `prediction_<i>` for several targets). A ZipMap at the end of a
graph (skl2onnx's default) is cut off so probabilities stay one float tensor.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Any

import numpy as np

from ..errors import ConversionError, FlockError

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:/")


@dataclasses.dataclass
class ScoringModel:
    """An ORT session plus the plan that turns its outputs into named output columns."""

    session: Any
    input_name: str
    n_features: int | None
    label_output: str | None
    proba_output: str | None
    value_output: str | None
    classes: list[Any] | None
    source: str

    def columns(self, prediction: str = "prediction", proba_prefix: str = "proba_") -> list[tuple[str, str]]:
        """(column name, kind) for every output column; kind is 'label', 'int', 'str' or 'float'."""
        cols: list[tuple[str, str]] = []
        if self.label_output is not None:
            cols.append((prediction, self._label_kind()))
        if self.proba_output is not None:
            names = self.classes if self.classes is not None else list(range(self._proba_width()))
            cols += [(f"{proba_prefix}{_safe(c)}", "float") for c in names]
        if self.value_output is not None:
            width = self._value_width()
            cols += [(prediction, "float")] if width == 1 else [(f"{prediction}_{i}", "float") for i in range(width)]
        return cols

    def score(self, X: np.ndarray) -> list[np.ndarray]:
        """Output columns for a float32 batch, in the order of `columns()`."""
        names = [n for n in (self.label_output, self.proba_output, self.value_output) if n]
        outs = dict(zip(names, self.session.run(names, {self.input_name: X}), strict=True))
        cols: list[np.ndarray] = []
        if self.label_output:
            cols.append(np.asarray(outs[self.label_output]).reshape(len(X), -1)[:, 0])
        if self.proba_output:
            proba = np.asarray(outs[self.proba_output]).reshape(len(X), -1)
            cols += [proba[:, i] for i in range(proba.shape[1])]
        if self.value_output:
            values = np.asarray(outs[self.value_output]).reshape(len(X), -1)
            cols += [values[:, i] for i in range(values.shape[1])]
        return cols

    def _label_kind(self) -> str:
        out = next(o for o in self.session.get_outputs() if o.name == self.label_output)
        return "str" if "string" in out.type else "int" if "int" in out.type else "float"

    def _proba_width(self) -> int:
        out = next(o for o in self.session.get_outputs() if o.name == self.proba_output)
        width = out.shape[-1] if out.shape else None
        if not isinstance(width, int):
            raise ConversionError(f"cannot tell how many classes {self.source} has; give it as a flock "
                                  "ConversionResult or a graph with a fixed probability width")
        return width

    def _value_width(self) -> int:
        out = next(o for o in self.session.get_outputs() if o.name == self.value_output)
        width = out.shape[-1] if out.shape and len(out.shape) > 1 else 1
        return width if isinstance(width, int) else 1


def load_scoring_model(model: Any, *, threads: int | None = None) -> ScoringModel:
    """Resolve what the user gave into an ONNX graph and open a session on it."""
    onnx_model, classes, source = _to_onnx(model)
    onnx_model, zipmap_classes = _cut_zipmap(onnx_model)
    classes = classes if classes is not None else zipmap_classes
    from .onnx_session import make_session

    session = make_session(onnx_model, threads=threads)
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise ConversionError(f"{source} has {len(inputs)} inputs; score_sql needs one [N, n_features] input")
    width = inputs[0].shape[-1] if inputs[0].shape else None
    label, proba, value = _plan_outputs(session)
    if proba is not None and classes is None:
        classes = _classes_from_graph(onnx_model)
    return ScoringModel(session=session, input_name=inputs[0].name,
                        n_features=width if isinstance(width, int) else None, label_output=label,
                        proba_output=proba, value_output=value if label is None else None,
                        classes=None if classes is None else list(classes), source=source)


def _to_onnx(model: Any) -> tuple[Any, Any, str]:
    import onnx

    if hasattr(model, "serving_model") and hasattr(model, "onnx_model"):  # flock ConversionResult
        return model.serving_model(), model.classes, "the converted model"
    if isinstance(model, onnx.ModelProto):
        return model, None, "the ONNX model"
    if isinstance(model, (bytes, bytearray)):
        return onnx.load_from_string(bytes(model)), None, "the ONNX model"
    if isinstance(model, (str, os.PathLike)):
        text = os.fspath(model)
        if os.path.exists(text):
            try:
                return onnx.load(text), None, text
            except Exception as exc:
                raise ConversionError(f"{text} is not a readable ONNX file: {str(exc).splitlines()[0]}") from None
        if _URI.match(text):
            from ..tracking.db_model_uri import load_model_for_scoring

            loaded = load_model_for_scoring(text)
            if isinstance(loaded, onnx.ModelProto):
                return loaded, None, text
            return _converted(loaded, text)
        raise FlockError(f"no ONNX file or MLflow model URI at {text!r}")
    return _converted(model, type(model).__name__)


def _converted(model: Any, source: str) -> tuple[Any, Any, str]:
    from ..conversion.api import convert

    result = convert(model, progress=False)
    return result.serving_model(), result.classes, source


def _cut_zipmap(model: Any) -> tuple[Any, list[Any] | None]:
    """Drop a trailing ZipMap so its input (a float tensor of probabilities) becomes the output."""
    zipmaps = [n for n in model.graph.node if n.op_type == "ZipMap"]
    if not zipmaps:
        return model, None
    import onnx
    from onnx import helper

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    graph = copy.graph
    classes = None
    for node in [n for n in graph.node if n.op_type == "ZipMap"]:
        for attr in node.attribute:
            if attr.name == "classlabels_int64s":
                classes = list(attr.ints)
            elif attr.name == "classlabels_strings":
                classes = [s.decode() for s in attr.strings]
        kept = [o for o in graph.output if o.name != node.output[0]]
        del graph.output[:]
        graph.output.extend(kept)
        graph.output.append(helper.make_tensor_value_info(node.input[0], onnx.TensorProto.FLOAT,
                                                          [None, len(classes) if classes else None]))
        graph.node.remove(node)
    return copy, classes


def _plan_outputs(session: Any) -> tuple[str | None, str | None, str | None]:
    label = proba = value = None
    for out in session.get_outputs():
        if "sequence" in out.type or "map" in out.type:
            continue
        is_float = "float" in out.type or "double" in out.type
        if not is_float and label is None:
            label = out.name
        elif is_float and "prob" in out.name.lower() and proba is None:
            proba = out.name
        elif is_float and value is None:
            value = out.name
    if label is None and value is None:
        raise ConversionError("the model has no output score_sql can write (a label or float values)")
    return label, proba, value


def _classes_from_graph(model: Any) -> list[Any] | None:
    for node in model.graph.node:
        for attr in node.attribute:
            if attr.name == "classlabels_int64s" and attr.ints:
                return list(attr.ints)
            if attr.name == "classlabels_strings" and attr.strings:
                return [s.decode() for s in attr.strings]
    return None


def _safe(label: Any) -> str:
    return re.sub(r"\W+", "_", str(label)).strip("_") or "class"

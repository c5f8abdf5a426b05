"""Resolve an MLflow model URI into something `score_sql` can run: the ONNX graph, else the native model.

Lives in tracking/ because it is the only package that imports mlflow; serving/ imports it lazily,
only when a model is given as a URI (`models:/...`, `runs:/.../model`, a database artifact URI).
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import ConversionError
from ..redaction import redact_uri


def load_model_for_scoring(model_uri: str) -> Any:
    """An `onnx.ModelProto` when the model has the onnx flavor, else the native model object."""
    import mlflow
    import onnx
    from mlflow.models import Model

    try:
        local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri)
        flavors = Model.load(local).flavors
    except Exception as exc:
        raise ConversionError(f"cannot read the MLflow model at {redact_uri(model_uri)}: "
                              f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    if "onnx" in flavors:
        return onnx.load(os.path.join(local, flavors["onnx"].get("data", "model.onnx")))
    from .model_loading import load_native_model

    return load_native_model(local)

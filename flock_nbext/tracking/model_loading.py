"""Load the native model object (LGBMClassifier, Booster, Pipeline, nn.Module...) behind an MLflow model URI.

`flock convert runs:/<run>/model` needs the original object, not MLflow's pyfunc wrapper: the
converter reads its trees and checks the ONNX graph against its own predict. The flavor is read
from the MLmodel file and loaded with that flavor's `load_model`.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConversionError

#: MLmodel flavor -> module whose load_model returns the native object, in order of preference.
NATIVE_FLAVORS = ("lightgbm", "xgboost", "sklearn", "pytorch")


def load_native_model(model_uri: str) -> Any:
    """The native model logged at `model_uri` (runs:/, models:/, a path...); ConversionError if none."""
    import importlib

    import mlflow
    from mlflow.models import Model

    try:
        local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri)
        flavors = Model.load(local).flavors
    except Exception as exc:
        raise ConversionError(f"cannot read the MLflow model at {model_uri}: {str(exc).splitlines()[0]}") from exc
    for flavor in NATIVE_FLAVORS:
        if flavor in flavors:
            loader = importlib.import_module(f"mlflow.{flavor}")
            try:
                return loader.load_model(local)
            except Exception as exc:
                raise ConversionError(f"cannot load the {flavor} model at {model_uri}: "
                                      f"{str(exc).splitlines()[0]}") from exc
    raise ConversionError(f"the MLflow model at {model_uri} has flavors {', '.join(sorted(flavors))}; flock converts "
                          f"models logged with one of: {', '.join(NATIVE_FLAVORS)}")

"""Models to MLflow: the native flavor (saved locally first, so a spooled model survives an outage) and ONNX.

Two steps, because the tracking store may be down when a model is trained:
1. `save_native` / `save_onnx` (recorder thread, no store needed): write an MLflow model directory
   with signature, input example and explicit pip requirements (inference costs ~2 s per model).
2. `publish` (when the store answers): create the MLflow 3 logged model with the run as its source,
   stamp its ids into MLmodel, upload the files, link it to the run as an output, mark it READY. The
   logged model is named like the artifact path (`model`, `onnx_model`), so `runs:/<run_id>/<name>`
   resolves to it (MLflow 3's RunsArtifactRepository looks logged models up by name and source run).

Everything goes through an explicit MlflowClient: nothing touches the fluent active-run stack or the
global tracking URI the user's own code may be using on the main thread.
"""

from __future__ import annotations

import os
from typing import Any

_FLAVOR_BY_PACKAGE = (
    ("lightgbm", "lightgbm"),
    ("xgboost", "xgboost"),
    ("torch", "pytorch"),
    ("keras", "keras"),
    ("tensorflow", "keras"),
    ("sklearn", "sklearn"),
)


def flavor_of(model: Any) -> str | None:
    """The MLflow flavor that logs this model natively, or None when flock cannot log it."""
    for klass in type(model).__mro__:
        package = (klass.__module__ or "").split(".", 1)[0]
        for prefix, flavor in _FLAVOR_BY_PACKAGE:
            if package == prefix:
                return flavor
    if callable(getattr(model, "get_params", None)) and callable(getattr(model, "predict", None)):
        return "sklearn"  # a scikit-learn compatible estimator from another package: pickled
    return None


def head(X: Any, rows: int) -> Any:
    """The first `rows` rows of a frame/array/list, or None when X has no row-wise slicing we trust."""
    if X is None:
        return None
    try:
        if hasattr(X, "iloc"):
            return X.iloc[:rows].copy()
        if hasattr(X, "shape") and hasattr(X, "__getitem__") and hasattr(X, "dtype"):
            return X[:rows].copy()
        if isinstance(X, list):
            return X[:rows]
    except Exception:
        return None
    return None


def _signature(model: Any, example: Any) -> Any:
    from mlflow.models import infer_signature

    output = None
    predict = getattr(model, "predict", None)
    if callable(predict):
        try:
            output = predict(example)
        except Exception:
            output = None
    return infer_signature(example, output)


def _torch_example(example: Any) -> Any:
    import numpy as np

    return np.asarray(example, dtype=np.float32)


def _torch_signature(model: Any, example: Any) -> Any:
    import torch
    from mlflow.models import infer_signature

    with torch.no_grad():
        output = model(torch.from_numpy(example))
    return infer_signature(example, output.detach().cpu().numpy() if hasattr(output, "detach") else None)


def save_native(model: Any, path: str, flavor: str, example: Any) -> None:
    """Write `model` as an MLflow model directory in its native flavor (signature/example when given)."""
    import importlib

    module = importlib.import_module(f"mlflow.{flavor}")
    kwargs: dict[str, Any] = {}
    if flavor in ("sklearn", "lightgbm"):
        kwargs["serialization_format"] = "cloudpickle"
        kwargs["pip_requirements"] = module.get_default_pip_requirements(include_cloudpickle=True)
    else:
        kwargs["pip_requirements"] = module.get_default_pip_requirements()
    if flavor == "pytorch":
        kwargs["serialization_format"] = "pickle"  # pt2 would trace the model: slow, and needs an example
    if example is not None and flavor in ("sklearn", "lightgbm", "xgboost", "pytorch"):
        try:
            if flavor == "pytorch":
                example = _torch_example(example)
                kwargs["signature"] = _torch_signature(model, example)
            else:
                kwargs["signature"] = _signature(model, example)
            kwargs["input_example"] = example
        except Exception:
            kwargs.pop("signature", None)  # a model we cannot describe is still logged, without a signature
    module.save_model(model, path, **kwargs)


def save_onnx(onnx_model: Any, path: str, example: Any = None) -> None:
    """Write an ONNX graph as an MLflow `onnx` flavor directory that `mlflow models serve` can answer with.

    The onnx flavor returns one column per graph output and flattens each; a [N, k] output (class
    probabilities) would not line up with N rows, so it is split into k outputs `<name>_<i>` first.
    `example` (a float DataFrame whose columns are the features) gives the signature and input example.
    """
    import mlflow.onnx

    served = one_column_per_output(onnx_model)
    kwargs: dict[str, Any] = {"pip_requirements": mlflow.onnx.get_default_pip_requirements(),
                              "onnx_execution_providers": ["CPUExecutionProvider"]}
    if example is not None:
        try:
            kwargs["signature"] = _onnx_signature(served, example)
            kwargs["input_example"] = example
        except Exception:
            pass  # served without a signature rather than not at all
    mlflow.onnx.save_model(served, path, save_as_external_data=False, **kwargs)


def one_column_per_output(onnx_model: Any) -> Any:
    """A copy of the graph whose 2-D outputs of known width k become k 1-D outputs (Gather on axis 1)."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.ModelProto()
    model.CopyFrom(onnx_model)
    graph = model.graph
    kept, added = [], []
    for output in graph.output:
        dims = output.type.tensor_type.shape.dim
        width = dims[1].dim_value if len(dims) == 2 and dims[1].HasField("dim_value") else 0
        if width <= 1:
            kept.append(output)
            continue
        elem = output.type.tensor_type.elem_type
        for i in range(width):
            index = f"flock_serve_{output.name}_{i}_index"
            graph.initializer.append(numpy_helper.from_array(np.array(i, dtype=np.int64), index))
            name = f"{output.name}_{i}"
            graph.node.append(helper.make_node("Gather", [output.name, index], [name], axis=1,
                                               name=f"flock_serve_{output.name}_{i}"))
            added.append(helper.make_tensor_value_info(name, elem, [dims[0].dim_param or None]))
    if not added:
        return onnx_model
    del graph.output[:]
    graph.output.extend(kept + added)
    onnx.checker.check_model(model)
    return model


def _onnx_signature(onnx_model: Any, example: Any) -> Any:
    """Signature from running the served graph on the example (what `mlflow models serve` returns)."""
    import numpy as np
    import onnxruntime as ort
    import pandas as pd
    from mlflow.models import infer_signature

    session = ort.InferenceSession(onnx_model.SerializeToString(), providers=["CPUExecutionProvider"])
    (first, *rest) = session.get_inputs()
    if rest:
        feed = {i.name: example[[i.name]].to_numpy(np.float32) for i in session.get_inputs()}
    else:
        feed = {first.name: np.asarray(example, dtype=np.float32)}
    outputs = session.run(None, feed)
    columns = {meta.name: np.asarray(value).reshape(-1) for meta, value in zip(session.get_outputs(), outputs,
                                                                                 strict=True)}
    return infer_signature(example, pd.DataFrame(columns))


def publish(client: Any, local_path: str, *, run_id: str, name: str, params: dict[str, str] | None = None,
            tags: dict[str, str] | None = None, model_type: str | None = None,
            experiment_id: str | None = None) -> str:
    """Upload a saved model directory as the run's logged model `name`; returns the model id.

    `experiment_id` is the run's, when the caller knows it (saves a get_run round trip).
    """
    from mlflow.entities import LoggedModelOutput, LoggedModelStatus
    from mlflow.models import Model

    if experiment_id is None:
        experiment_id = client.get_run(run_id).info.experiment_id
    logged = client.create_logged_model(
        experiment_id=experiment_id,
        name=name,
        source_run_id=run_id,
        tags=tags or None,
        params=params or None,
        model_type=model_type,
    )
    try:
        mlmodel_path = os.path.join(local_path, "MLmodel")
        mlmodel = Model.load(mlmodel_path)
        mlmodel.run_id = run_id
        mlmodel.model_uuid = logged.model_id
        mlmodel.model_id = logged.model_id
        mlmodel.artifact_path = logged.artifact_location
        mlmodel.save(mlmodel_path)
        client.log_model_artifacts(logged.model_id, local_path)
        client.log_outputs(run_id=run_id, models=[LoggedModelOutput(logged.model_id, step=0)])
    except Exception:
        client.finalize_logged_model(logged.model_id, LoggedModelStatus.FAILED)
        raise
    client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
    return logged.model_id

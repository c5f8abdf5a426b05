"""The run model: records -> ordered, JSON-able store operations (one parent run, one child per fit).

- One parent run per kernel session, created lazily at the first fit, in the experiment named
  `settings.experiment`, else the notebook's path, else `settings.default_experiment`
  (tags flock.notebook, flock.session, flock.kind=session).
- One nested child run per FitRecord (a re-fit makes a new child): params, flock tags, inputs,
  lineage.json, code/, the model. The child is ended right away; later metrics still land on it.
- Metrics go to the latest child run of every model they evaluate; one that names a model not
  trained yet waits for it (and lands on the session run if it never comes).
- The user's own MLflow: when their code has an active run (FitRecord.parent_run_id), it becomes the
  parent. When `mlflow.autolog()` logged the fit, flock adds only what autolog does not log (tags,
  inputs, lineage, code) to autolog's run, or to a child of its own if that run is unknown.

Operations reference runs by local keys (the store may be down: run ids come later); `recorder`
applies them through an explicit MlflowClient, or spools them. Runs on the recorder thread.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import uuid
from typing import Any, NamedTuple

from ..config import Settings
from ..redaction import redact
from . import limits
from .datasets import dataset_entity, digest_of, merge_sql_read
from .records import DatasetRecord, FitRecord, MetricRecord, SqlReadRecord

Op = dict[str, Any]


# -- the user's own MLflow, read on the main thread (cheap: only when mlflow is already imported) ----


class UserMlflow(NamedTuple):
    """What the user's code has done with MLflow in this thread: active run, last run, autolog."""

    active_run_id: str | None
    last_run_id: str | None
    autolog: frozenset[str]


NO_MLFLOW = UserMlflow(None, None, frozenset())


def user_mlflow_state() -> UserMlflow:
    """The calling thread's MLflow state (call it on the main thread, before and after a fit).

    Costs microseconds and never imports mlflow: if the user's code has not imported it, they have
    no run and no autolog.
    """
    fluent = sys.modules.get("mlflow.tracking.fluent")
    if fluent is None:
        return NO_MLFLOW
    try:
        stack = fluent._active_run_stack.get()
        active = stack[-1].info.run_id if stack else None
        last = fluent._last_active_run_id.get()
    except Exception:
        active = last = None
    return UserMlflow(active, last, autolog_flavors())


def autolog_flavors() -> frozenset[str]:
    """Autologging integrations currently enabled (a global dict; safe to read from any thread)."""
    utils = sys.modules.get("mlflow.utils.autologging_utils")
    if utils is None:
        return frozenset()
    try:
        integrations = dict(utils.AUTOLOGGING_INTEGRATIONS)
    except Exception:
        return frozenset()
    return frozenset(name for name, conf in integrations.items() if conf and conf.get("disable", True) is False)


def autolog_config(flavor: str) -> dict[str, Any]:
    utils = sys.modules.get("mlflow.utils.autologging_utils")
    if utils is None:
        return {}
    return dict(utils.AUTOLOGGING_INTEGRATIONS.get(flavor) or {})


def autolog_run_for(before: UserMlflow, after: UserMlflow, flavor: str | None) -> str | None:
    """The run autolog logged a fit into: the active run, or the run it opened and closed for the fit."""
    if flavor is None or flavor not in after.autolog:
        return None
    if after.active_run_id:
        return after.active_run_id
    if after.last_run_id and after.last_run_id != before.last_run_id:
        return after.last_run_id
    return None


# -- the planner ---------------------------------------------------------------------------------


def experiment_name(settings: Settings, notebook_path: str | None) -> str:
    return settings.experiment or notebook_path or settings.default_experiment


class RunPlanner:
    """Turns records into operations and remembers which local run belongs to which model."""

    def __init__(self, settings: Settings, session_id: str, notebook_path: str | None, model_dir: str) -> None:
        self.settings = settings
        self.session_id = session_id
        self.notebook_path = notebook_path
        self.model_dir = model_dir
        self.parent_key: str | None = None
        self.latest: dict[str, str] = {}
        """model_id -> local key of its latest child run."""
        self.autologged: set[str] = set()
        """local keys whose params/metrics/model autolog logs."""
        self.examples: dict[str, Any] = {}
        self.features: dict[str, list[str]] = {}
        self.pending_metrics: dict[str, list[tuple[float, MetricRecord]]] = {}
        self.sql_reads: dict[str, DatasetRecord] = {}
        self._steps: dict[tuple[str, str], int] = {}
        self._logged_inputs: set[tuple[str, str, str, str]] = set()
        self._open: list[str] = []
        self.digests: dict[int, str | None] | None = None
        """While set (the kernel's exit path plans everything at one instant): digests by data object,
        so a frame several records share is hashed once. Never kept across time: data may change."""

    # -- public --------------------------------------------------------------------------------
    def plan(self, stamp: float, record: Any) -> list[Op]:
        if isinstance(record, FitRecord):
            return self._fit(stamp, record)
        if isinstance(record, MetricRecord):
            return self._metric(stamp, record)
        if isinstance(record, SqlReadRecord):
            if record.dataset.source_id:
                self.sql_reads[record.dataset.source_id] = record.dataset
            return []
        raise TypeError(f"not a flock record: {type(record).__name__}")

    def finish(self, stamp: float) -> list[Op]:
        """End of session: unattributed metrics to the session run, then end it."""
        ops: list[Op] = []
        for _model_id, waiting in list(self.pending_metrics.items()):
            for when, metric in waiting:
                ops += self._ensure_parent(when)
                ops += self._metric_ops(self.parent_key, when, metric, extra_tags={
                    f"flock.metric.{limits.clean_key(metric.name)}.models": json.dumps(metric.model_ids)})
        self.pending_metrics.clear()
        if self.parent_key is not None:
            ops.append({"op": "end_run", "key": self.parent_key, "time_ms": _ms(stamp), "status": "FINISHED"})
        return ops

    # -- fits ----------------------------------------------------------------------------------
    def _common_tags(self) -> dict[str, str]:
        tags = {"flock.session": self.session_id}
        if self.notebook_path:
            tags.update({"flock.notebook": self.notebook_path, "mlflow.source.name": self.notebook_path,
                         "mlflow.source.type": "NOTEBOOK"})
        return tags

    def _ensure_parent(self, stamp: float) -> list[Op]:
        if self.parent_key is not None:
            return []
        self.parent_key = f"{self.session_id}:session"
        name = os.path.basename(self.notebook_path) if self.notebook_path else "notebook"
        return [{
            "op": "start_run", "key": self.parent_key, "time_ms": _ms(stamp),
            "experiment": experiment_name(self.settings, self.notebook_path),
            "run_name": f"{name} session {self.session_id[:8]}",
            "tags": {**self._common_tags(), "flock.kind": "session"},
        }]

    def _fit(self, stamp: float, fit: FitRecord) -> list[Op]:
        from .models import flavor_of, head

        ops: list[Op] = []
        key = f"{self.session_id}:fit:{uuid.uuid4().hex[:12]}"
        flavor = flavor_of(fit.model)
        autolog = flavor is not None and (fit.autolog_run_id is not None or flavor in autolog_flavors())
        conf = autolog_config(flavor) if autolog and flavor else {}
        tags = {
            **self._common_tags(),
            "flock.kind": "fit",
            "flock.model.var": fit.var,
            "flock.model.class": fit.cls,
            "flock.model.id": fit.model_id,
            "flock.model.flavor": flavor or "none",
            "flock.params.explicit": json.dumps(sorted(map(str, fit.explicit_params))),
        }
        if fit.cell is not None:
            tags["flock.cell"] = str(fit.cell)
        if fit.execution_count is not None:
            tags["flock.execution_count"] = str(fit.execution_count)
        if fit.label is not None:
            tags["flock.label"] = str(fit.label)
        artifacts: dict[str, str] = {}
        if fit.features is not None:
            tags["flock.features"], full = limits.fit_tag("flock.features", json.dumps(list(map(str, fit.features))))
            if full is not None:
                artifacts["features.json"] = full

        if fit.autolog_run_id is not None:
            tags["flock.autolog"] = "true"
            tags = {k: v for k, v in tags.items() if not k.startswith("mlflow.")}  # autolog's run: leave its own
            ops.append({"op": "attach_run", "key": key, "run_id": fit.autolog_run_id})
        else:
            if fit.parent_run_id:
                tags["flock.parent"] = "user"
                start: Op = {"op": "start_run", "key": key, "parent_run_id": fit.parent_run_id}
            else:
                ops += self._ensure_parent(stamp)
                tags["flock.parent"] = "session"
                start = {"op": "start_run", "key": key, "parent_key": self.parent_key}
            if autolog:
                tags["flock.autolog"] = "true (autolog run not seen; params/model left to autolog)"
            start.update({"time_ms": _ms(stamp), "run_name": fit.var, "tags": {}})
            ops.append(start)
        if autolog:
            self.autologged.add(key)

        example = head(fit.X, self.settings.input_example_rows) if self.settings.input_example else None
        if example is not None:
            self.examples[fit.model_id] = example
        log_model = self.settings.log_models and flavor is not None and not (autolog and conf.get("log_models", True))
        tags["flock.model.logged"] = "true" if log_model else ("autolog" if autolog else "false")

        params: dict[str, str] = {}
        if not autolog:
            merged = {**fit.params, **{k: v for k, v in fit.explicit_params.items() if k not in fit.params}}
            params, overflow = limits.split_params(merged)
            artifacts.update(overflow)
        ops.append({"op": "log_batch", "key": key, "params": params, "tags": tags, "metrics": []})

        inputs = [self._entity(ds) for ds in fit.inputs]
        self._logged_inputs.update((key, e["name"], e["digest"], e["context"]) for e in inputs)
        if inputs:
            ops.append({"op": "log_inputs", "key": key, "datasets": inputs})
        if fit.lineage is not None:
            artifacts["lineage.json"] = json.dumps(limits.scrub(fit.lineage), indent=2, default=str)
        if fit.cell_sources:
            for label, source in fit.cell_sources.items():
                artifacts[f"code/{limits.clean_key(label).replace('/', '_')}.py"] = redact(source)
        elif fit.code:
            artifacts["code/cells.py"] = redact(fit.code)
        for path, text in artifacts.items():
            ops.append({"op": "log_text", "key": key, "path": path, "text": text})

        if log_model:
            ops += self._model_ops(key, fit, flavor, example, stamp)
        if fit.autolog_run_id is None:
            ops.append({"op": "end_run", "key": key, "time_ms": _ms(time.time()), "status": "FINISHED"})

        self.latest[fit.model_id] = key
        if fit.features:
            self.features[fit.model_id] = [str(f) for f in fit.features]
        for when, metric in self.pending_metrics.pop(fit.model_id, []):
            ops += self._metric_ops(key, when, metric)
        return ops

    def _model_ops(self, key: str, fit: FitRecord, flavor: str, example: Any, stamp: float) -> list[Op]:
        """A `log_model` that still holds the live model: the recorder saves it (`save_model`) right
        before sending or spooling it, or the kernel's exit path pickles it (`pickle_model`)."""
        path = os.path.join(self.model_dir, key.rsplit(":", 1)[-1], "model")
        op: Op = {"op": "log_model", "key": key, "name": "model", "path": path, "flavor": flavor,
                  "tags": {"flock.model.var": fit.var, "flock.model.class": fit.cls},
                  "live_model": fit.model, "live_example": example}
        if fit.parent_run_id:
            # the user's own run: if their code logged a model there since this fit, that is this model
            op["unless_user_logged"] = {"run_id": fit.parent_run_id, "since_ms": _ms(stamp) - 1000}
        return [op]

    def onnx_ops(self, stamp: float, model_id: str, onnx_model: Any, *, example: Any = None, report: Any = None,
                 report_text: str | None = None, metrics: dict[str, float] | None = None,
                 tags: dict[str, str] | None = None) -> list[Op]:
        """Operations that log a converted model as the `onnx_model` of the model's latest run."""
        from .models import save_onnx

        key = self.latest.get(model_id)
        if key is None:
            raise LookupError(f"no tracked run for model {model_id!r}: train it with flock loaded first")
        path = os.path.join(self.model_dir, f"{key.rsplit(':', 1)[-1]}-onnx-{uuid.uuid4().hex[:6]}", "onnx_model")
        save_onnx(onnx_model, path, self._serving_example(model_id, example))
        ops: list[Op] = [{"op": "log_model", "key": key, "name": "onnx_model", "path": path, "flavor": "onnx",
                          "tags": {"flock.model.id": model_id}}]
        if report is not None:
            rows = [dict(r) for r in report] if isinstance(report, list | tuple) else limits.jsonable(report)
            if isinstance(rows, list) and rows and isinstance(rows[0], dict):
                columns = list(dict.fromkeys(k for r in rows for k in r))
                table = {"columns": columns, "data": [[limits.jsonable(r.get(c)) for c in columns] for r in rows]}
            else:
                table = rows
            ops.append({"op": "log_text", "key": key, "path": "onnx/report.json",
                        "text": json.dumps(table, indent=2, default=str)})
        if report_text:
            ops.append({"op": "log_text", "key": key, "path": "onnx/report.md", "text": report_text})
        values = [[limits.clean_key(k if k.startswith("flock.") else f"flock.onnx.{k}"), float(v), _ms(stamp), 0]
                  for k, v in (metrics or {}).items() if limits.scalar(v) is not None]
        all_tags = {"flock.onnx": "true", **{k: limits.safe_text(k, v) for k, v in (tags or {}).items()}}
        ops.append({"op": "log_batch", "key": key, "params": {}, "metrics": values, "tags": all_tags})
        return ops

    def _serving_example(self, model_id: str, example: Any) -> Any:
        """A float64 DataFrame named by the model's features (the JSON a client sends parses as float64)."""
        import numpy as np
        import pandas as pd

        features = self.features.get(model_id)
        if example is None:
            example = self.examples.get(model_id)
        if example is None:
            return None
        if hasattr(example, "columns"):
            return example.astype(np.float64)
        array = np.asarray(example, dtype=np.float64)
        if array.ndim != 2:
            return None
        names = features if features and len(features) == array.shape[1] else [f"x{i}" for i in range(array.shape[1])]
        return pd.DataFrame(array[: self.settings.input_example_rows], columns=names)

    # -- metrics -------------------------------------------------------------------------------
    def _metric(self, stamp: float, metric: MetricRecord) -> list[Op]:
        ops: list[Op] = []
        for model_id in dict.fromkeys(metric.model_ids):
            key = self.latest.get(model_id)
            if key is None:
                self.pending_metrics.setdefault(model_id, []).append((stamp, metric))
                continue
            if key in self.autologged and autolog_config("sklearn").get("log_post_training_metrics", True):
                continue  # autolog logs post-training metrics of the models it logged
            ops += self._metric_ops(key, stamp, metric)
        return ops

    def _metric_ops(self, key: str, stamp: float, metric: MetricRecord,
                    extra_tags: dict[str, str] | None = None) -> list[Op]:
        name = limits.clean_key(metric.name)
        tags = dict(extra_tags or {})
        if metric.function:
            tags[f"flock.metric.{name}.function"] = metric.function
        if metric.params:
            tags[f"flock.metric.{name}.params"] = json.dumps(
                {k: limits.safe_text(k, v) for k, v in metric.params.items()}, sort_keys=True)
        ops = self._evaluation_inputs(key, metric)
        value = limits.scalar(metric.value)
        if value is None:
            path, text = limits.metric_artifact(metric.name, metric.value)
            return ops + [{"op": "log_batch", "key": key, "params": {}, "metrics": [], "tags": tags},
                          {"op": "log_text", "key": key, "path": path, "text": text}]
        step = self._steps.get((key, name), 0)
        self._steps[(key, name)] = step + 1
        return ops + [{"op": "log_batch", "key": key, "params": {}, "tags": tags,
                       "metrics": [[name, value, _ms(stamp), step]]}]

    def _entity(self, ds: DatasetRecord) -> dict[str, Any]:
        import dataclasses

        ds = merge_sql_read(ds, self.sql_reads)
        if self.digests is not None and ds.digest is None and ds.data is not None:
            if id(ds.data) not in self.digests:
                self.digests[id(ds.data)] = digest_of(ds)
            ds = dataclasses.replace(ds, digest=self.digests[id(ds.data)])
        return dataset_entity(ds)

    def _evaluation_inputs(self, key: str, metric: MetricRecord) -> list[Op]:
        """The metric's datasets as `evaluation` inputs of the run, each (name, digest) once per run."""
        import dataclasses

        entities = []
        for ds in metric.inputs:
            if ds.role == "training":
                ds = dataclasses.replace(ds, role="evaluation")
            entity = self._entity(ds)
            seen = (key, entity["name"], entity["digest"], entity["context"])
            if seen not in self._logged_inputs:
                self._logged_inputs.add(seen)
                entities.append(entity)
        return [{"op": "log_inputs", "key": key, "datasets": entities}] if entities else []


# -- models: live in a planned operation, saved before it is sent or spooled -----------------------

LIVE_KEYS = ("live_model", "live_example")


def is_live(op: Op) -> bool:
    """Whether the operation still holds a live model (never spooled as is: not JSON)."""
    return "live_model" in op


def save_model(op: Op) -> Op:
    """Recorder thread: save the live model as an MLflow model directory in its flavor (signature,
    input example); the operation then names that directory. A model that cannot be saved becomes
    tags saying so."""
    from .models import save_native

    try:
        save_native(op["live_model"], op["path"], op["flavor"], op["live_example"])
    except Exception as exc:
        shutil.rmtree(op["path"], ignore_errors=True)
        return _model_not_logged(op, exc)
    return {k: v for k, v in op.items() if k not in LIVE_KEYS}


def pickle_model(op: Op, dumps: Any) -> Op:
    """Kernel exit path (main thread, mlflow perhaps not even imported): pickle the live model and its
    input example next to where its MLflow model goes; the writer saves it in its flavor when the
    spool is replayed (`writer.StoreWriter._log_model`). Milliseconds for a typical model."""
    folder = os.path.dirname(op["path"])
    pickled = os.path.join(folder, "model.pkl")
    try:
        data = dumps({"model": op["live_model"], "example": op["live_example"]})
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd = os.open(pickled, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # loaded again: never others'
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except Exception as exc:
        return _model_not_logged(op, exc)
    return {**{k: v for k, v in op.items() if k not in LIVE_KEYS}, "pickle": pickled}


def _model_not_logged(op: Op, exc: Exception) -> Op:
    out: Op = {"op": "log_batch", "key": op["key"], "params": {}, "metrics": [],
               "tags": {"flock.model.logged": "false", "flock.model.error": redact(str(exc))[:500]}}
    if "id" in op:
        out["id"] = op["id"]
    return out


def merge_batches(ops: list[Op]) -> list[Op]:
    """Fold adjacent log_batch operations of the same run into one (fewer round trips, same order)."""
    out: list[Op] = []
    for op in ops:
        prev = out[-1] if out else None
        if (op["op"] == "log_batch" and prev is not None and prev["op"] == "log_batch"
                and prev["key"] == op["key"] and not (set(prev["params"]) & set(op["params"]))):
            prev["params"] = {**prev["params"], **op["params"]}
            prev["tags"] = {**prev["tags"], **op["tags"]}
            prev["metrics"] = prev["metrics"] + op["metrics"]
        else:
            out.append({**op, **({"params": dict(op["params"]), "tags": dict(op["tags"]),
                                  "metrics": list(op["metrics"])} if op["op"] == "log_batch" else {})})
    return out


def _ms(stamp: float) -> int:
    return int(stamp * 1000)

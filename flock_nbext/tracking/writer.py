"""Applying planned operations to one MLflow tracking store, through an explicit MlflowClient.

Local run keys become MLflow run ids here. Nothing uses MLflow's fluent API (its active-run stack,
its global tracking URI): the user's own MLflow calls on the main thread are never disturbed.
Errors are sorted into transient (store down, timeouts, locks: spool and retry) and refusals.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
import warnings
from typing import Any
from urllib.parse import urlsplit

from ..redaction import redact

Op = dict[str, Any]

HOLD_ENV = "FLOCK_FAULT_STORE_HOLD_S"
HOLD_MARK_ENV = "FLOCK_FAULT_STORE_HOLD_MARK"
"""Fault injection for tests, never set in real use: with FLOCK_FAULT_STORE_HOLD_S=<seconds>, every
store call first sleeps that long (after creating the file FLOCK_FAULT_STORE_HOLD_MARK names, if
set), so a test can hold the recorder inside one long store call (a schema migration, a slow
log_model) while the kernel shuts down."""


class TransientStoreError(Exception):
    """The store could not be reached or failed in a way worth retrying later."""


class StoreWriter:
    """Applies planned operations to one tracking store; remembers local run keys -> MLflow run ids."""

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        self.run_ids: dict[str, str] = {}
        self._experiment_ids: dict[str, str] = {}
        self._run_experiments: dict[str, str] = {}
        self._client: Any = None
        self._hold_s = float(os.environ.get(HOLD_ENV) or 0)
        self._hold_mark = os.environ.get(HOLD_MARK_ENV)

    @property
    def client(self) -> Any:
        if self._client is None:
            from mlflow import MlflowClient

            try:
                self._client = MlflowClient(self.tracking_uri)
            except Exception as exc:
                raise TransientStoreError(str(exc)) from exc
        return self._client

    @property
    def opened(self) -> bool:
        """Whether this writer has talked to its store (created its MlflowClient) yet."""
        return self._client is not None

    def reachable(self) -> bool:
        """For an HTTP store, whether its port accepts a connection (avoids MLflow's long retry loops)."""
        parts = urlsplit(self.tracking_uri)
        if parts.scheme not in ("http", "https"):
            return True
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=0.5):
                return True
        except (OSError, ValueError):
            return False

    def annotate(self, op: Op) -> Op:
        """The op with the run ids already known, so a spool replayed by another session still resolves."""
        extra = {}
        if op.get("key") in self.run_ids:
            extra["run_id"] = self.run_ids[op["key"]]
        if op.get("parent_key") in self.run_ids:
            extra["parent_run_id"] = self.run_ids[op["parent_key"]]
        return {**op, **extra} if extra else op

    def apply(self, op: Op) -> None:
        if self._hold_s:
            self._hold()
        try:
            getattr(self, f"_{op['op']}")(op)
        except TransientStoreError:
            raise
        except Exception as exc:
            if _is_transient(exc):
                raise TransientStoreError(redact(str(exc))) from exc
            raise

    def _hold(self) -> None:
        """The test-only fault injection (see HOLD_ENV): a store call that takes a long time."""
        if self._hold_mark:
            with open(self._hold_mark, "a", encoding="utf-8"):
                pass
        time.sleep(self._hold_s)

    def _run_id(self, op: Op) -> str:
        run_id = self.run_ids.get(op["key"]) or op.get("run_id")
        if run_id is None:
            raise LookupError(f"run {op['key']} was never created")
        self.run_ids[op["key"]] = run_id
        return run_id

    def _experiment_id(self, name: str) -> str:
        if name not in self._experiment_ids:
            experiment = self.client.get_experiment_by_name(name)
            if experiment is None:
                from mlflow.exceptions import MlflowException

                try:
                    self._experiment_ids[name] = self.client.create_experiment(name)
                except MlflowException:
                    experiment = self.client.get_experiment_by_name(name)  # created meanwhile
                    if experiment is None:
                        raise
                    self._experiment_ids[name] = experiment.experiment_id
            else:
                self._experiment_ids[name] = experiment.experiment_id
        return self._experiment_ids[name]

    def _start_run(self, op: Op) -> None:
        if op["key"] in self.run_ids or op.get("run_id"):
            self.run_ids[op["key"]] = self.run_ids.get(op["key"]) or op["run_id"]
            return
        tags = dict(op.get("tags") or {})
        parent = op.get("parent_run_id") or (self.run_ids.get(op["parent_key"]) if op.get("parent_key") else None)
        if op.get("parent_key") and parent is None:
            raise LookupError(f"parent run {op['parent_key']} was never created")
        if parent:
            if parent not in self._run_experiments:
                self._run_experiments[parent] = self.client.get_run(parent).info.experiment_id
            experiment_id = self._run_experiments[parent]
            tags["mlflow.parentRunId"] = parent
        else:
            experiment_id = self._experiment_id(op["experiment"])
        run = self.client.create_run(experiment_id, start_time=op.get("time_ms"), tags=tags,
                                     run_name=op.get("run_name"))
        self.run_ids[op["key"]] = run.info.run_id
        self._run_experiments[run.info.run_id] = experiment_id

    def _attach_run(self, op: Op) -> None:
        self.run_ids[op["key"]] = op["run_id"]

    def _log_batch(self, op: Op) -> None:
        from mlflow.entities import Metric, Param, RunTag

        from .limits import (
            MAX_KEY,
            MAX_METRICS_PER_BATCH,
            MAX_PARAM_VALUE,
            MAX_PARAMS_TAGS_PER_BATCH,
            MAX_TAG_VALUE,
            chunks,
        )

        run_id = self._run_id(op)
        # a last guard on MLflow's limits: one over-long value must not cost the whole batch
        params = [Param(k[:MAX_KEY], _cut(str(v), MAX_PARAM_VALUE)) for k, v in op["params"].items()]
        tags = [RunTag(k[:MAX_KEY], _cut(str(v), MAX_TAG_VALUE)) for k, v in op["tags"].items()]
        metrics = [Metric(k[:MAX_KEY], float(v), int(ts), int(step)) for k, v, ts, step in op["metrics"]]
        # one call (one transaction) per 100 params + 100 tags + 800 metrics: MLflow's per-batch limits
        param_parts = chunks(params, MAX_PARAMS_TAGS_PER_BATCH)
        tag_parts = chunks(tags, MAX_PARAMS_TAGS_PER_BATCH)
        metric_parts = chunks(metrics, MAX_METRICS_PER_BATCH - 2 * MAX_PARAMS_TAGS_PER_BATCH)
        for i in range(max(len(param_parts), len(tag_parts), len(metric_parts))):
            batch = {name: parts[i] for name, parts in (("params", param_parts), ("tags", tag_parts),
                                                        ("metrics", metric_parts)) if i < len(parts) and parts[i]}
            if batch:
                self.client.log_batch(run_id, synchronous=True, **batch)

    def _log_text(self, op: Op) -> None:
        self.client.log_text(self._run_id(op), op["text"], op["path"])

    def _log_inputs(self, op: Op) -> None:
        from mlflow.entities import Dataset, DatasetInput, InputTag

        inputs = [
            DatasetInput(
                Dataset(d["name"], d["digest"], d["source_type"], d["source"], d["schema"], d["profile"]),
                tags=[InputTag("mlflow.data.context", d["context"])],
            )
            for d in op["datasets"]
        ]
        self.client.log_inputs(self._run_id(op), datasets=inputs)

    def _log_model(self, op: Op) -> None:
        from mlflow.entities import RunTag

        from .models import publish

        if op.get("pickle") and os.path.isfile(op["pickle"]):
            try:
                self._save_pickled(op)
            except Exception as exc:  # not private, or no longer loadable: the run says why
                self.client.log_batch(self._run_id(op), tags=[
                    RunTag("flock.model.logged", "false"),
                    RunTag("flock.model.error", _cut(redact(f"{type(exc).__name__}: {exc}"), 500))], synchronous=True)
                return
        if not os.path.isdir(op["path"]):
            raise LookupError(f"saved model {op['path']} is gone")
        run_id = self._run_id(op)
        users = self._users_model(**op["unless_user_logged"]) if op.get("unless_user_logged") else None
        if users is not None:
            self.client.log_batch(run_id, tags=[RunTag("flock.model.logged", "user"),
                                                RunTag("flock.model.user_model_id", users)], synchronous=True)
        else:
            publish(self.client, op["path"], run_id=run_id, name=op["name"], tags=op.get("tags"),
                    experiment_id=self._run_experiments.get(run_id))
        shutil.rmtree(os.path.dirname(op["path"]), ignore_errors=True)

    @staticmethod
    def _save_pickled(op: Op) -> None:
        """A model the kernel's exit path pickled (`runs.pickle_model`): saved in its flavor now."""
        import cloudpickle

        from .models import save_native

        with open(op["pickle"], "rb") as fh:
            info = os.fstat(fh.fileno())
            if info.st_uid != os.getuid() or info.st_mode & 0o022:
                raise PermissionError(f"{op['pickle']} is not private to this user: a model pickle that others "
                                      "could have written is never loaded")
            data = cloudpickle.load(fh)  # written by flock itself, in the user's own spool folder
        shutil.rmtree(op["path"], ignore_errors=True)  # a save the recorder thread had begun
        save_native(data["model"], op["path"], op["flavor"], data.get("example"))
        os.remove(op["pickle"])

    def _users_model(self, run_id: str, since_ms: int) -> str | None:
        """The id of a model the user's code logged to its own run `run_id` since `since_ms`, if any."""
        experiment_id = self._run_experiments.get(run_id) or self.client.get_run(run_id).info.experiment_id
        models = self.client.search_logged_models(experiment_ids=[experiment_id], max_results=100,
                                                  order_by=[{"field_name": "creation_timestamp", "ascending": False}])
        for model in models:
            if model.source_run_id == run_id and model.creation_timestamp >= since_ms:
                return model.model_id
        return None

    def _end_run(self, op: Op) -> None:
        self.client.set_terminated(self._run_id(op), status=op.get("status", "FINISHED"), end_time=op.get("time_ms"))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 20] + "... (truncated)"


_PERMANENT_CODES = {
    "INVALID_PARAMETER_VALUE", "RESOURCE_ALREADY_EXISTS", "RESOURCE_DOES_NOT_EXIST", "INVALID_STATE",
    "BAD_REQUEST", "PERMISSION_DENIED", "UNAUTHENTICATED", "ENDPOINT_NOT_FOUND", "NOT_FOUND",
}


def _is_transient(exc: BaseException) -> bool:
    """Worth retrying later (store down, timeouts, locks); False for requests the store refuses."""
    from mlflow.exceptions import MlflowException

    if isinstance(exc, MlflowException):
        return exc.error_code not in _PERMANENT_CODES
    if isinstance(exc, OSError):  # connection refused/reset, timeouts (requests' errors are OSErrors)
        return True
    return type(exc).__name__ in ("OperationalError", "DisconnectionError", "TimeoutError")


class _RecorderThreadFilter(logging.Filter):
    """Drops MLflow's INFO/WARNING lines raised on flock's recorder thread (they would land in the cell)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or not record.threadName.startswith("flock-recorder")


_QUIET = _RecorderThreadFilter()
_NOISY_LOGGERS = (
    "mlflow", "mlflow.sklearn", "mlflow.lightgbm", "mlflow.xgboost", "mlflow.pytorch", "mlflow.onnx",
    "mlflow.keras", "mlflow.models.model", "mlflow.models.signature", "mlflow.models.utils",
    "mlflow.utils.environment", "mlflow.utils.requirements_utils", "mlflow.store.db.utils",
    "mlflow.tracking.fluent", "mlflow.tracking._tracking_service.client", "alembic.runtime.migration",
)


def detach_thread_output() -> None:
    """Let nothing the calling (background) thread prints reach a notebook cell.

    ipykernel sends a thread's output to the cell that is running when it writes (its parent header
    falls back to the global one). Giving this thread an empty parent of its own makes its stray
    prints invisible to every frontend; flock's own warnings still reach the running cell
    (`kernel.extension` logs them with the kernel's parent). Outside a kernel this does nothing.
    """
    import sys

    for stream in (sys.stdout, sys.stderr):
        set_parent = getattr(stream, "set_thread_parent", None)
        if callable(set_parent):
            try:
                set_parent({})
            except Exception:  # an OutStream of another version: output stays as it was
                pass


def quiet_mlflow_on_recorder_threads() -> None:
    """Install the filter on MLflow's handlers and its chatty loggers; other threads are untouched."""
    for name in _NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if _QUIET not in logger.filters:
            logger.addFilter(_QUIET)
    for handler in logging.getLogger("mlflow").handlers:
        if _QUIET not in handler.filters:
            handler.addFilter(_QUIET)
    if not isinstance(warnings.showwarning, _RecorderThreadWarnings):
        warnings.showwarning = _RecorderThreadWarnings(warnings.showwarning)


class _RecorderThreadWarnings:
    """`warnings.showwarning` that sends warnings raised on a recorder thread (MLflow's hints about
    signatures, pickling...) to flock's debug log instead of the cell's output; others pass through."""

    def __init__(self, show: Any) -> None:
        self.show = show

    def __call__(self, message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                 line: Any = None) -> None:
        if threading.current_thread().name.startswith(("flock-recorder", "flock-warm-up", "flock-close")):
            logging.getLogger("flock").debug("flock recorder: %s: %s", category.__name__, message)
            return
        self.show(message, category, filename, lineno, file, line)

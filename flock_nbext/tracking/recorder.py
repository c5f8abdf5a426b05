"""The recorder thread: gathers records for a flush interval, plans them, writes them in batches.

The user's thread only puts (timestamp, record) on a queue. This thread imports mlflow (on the first
record, never at `%load_ext`), turns records into operations (`runs.RunPlanner`), folds adjacent
writes into `log_batch` calls and applies them through one MlflowClient with explicit run ids. When
the store is unreachable or fails, the operation and every later one go to the spool (`spool.Spool`)
and are replayed, in order, at each flush interval until the store answers again.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..config import Settings
from ..redaction import redact
from .runs import Op, RunPlanner, merge_batches
from .spool import Spool, store_fingerprint

log = logging.getLogger("flock")
REPLAY_CHUNK = 50
MAX_DEFER_S = 10.0
"""How long records may wait for a running cell to finish before the recorder works anyway."""


class TransientStoreError(Exception):
    """The store could not be reached or failed in a way worth retrying later."""


# -- control items that travel the queue with the records -------------------------------------------


@dataclass
class Flush:
    done: threading.Event = field(default_factory=threading.Event)
    delivered: bool = False


@dataclass
class Close(Flush):
    pass


@dataclass
class OnnxRequest(Flush):
    model_id: str = ""
    onnx_model: Any = None
    example: Any = None
    report: Any = None
    report_text: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    error: str | None = None


# -- applying operations to the store ------------------------------------------------------------


class StoreWriter:
    """Applies planned operations to one tracking store; remembers local run keys -> MLflow run ids."""

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        self.run_ids: dict[str, str] = {}
        self._experiment_ids: dict[str, str] = {}
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            from mlflow import MlflowClient

            try:
                self._client = MlflowClient(self.tracking_uri)
            except Exception as exc:
                raise TransientStoreError(str(exc)) from exc
        return self._client

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
        try:
            getattr(self, f"_{op['op']}")(op)
        except TransientStoreError:
            raise
        except Exception as exc:
            if _is_transient(exc):
                raise TransientStoreError(redact(str(exc))) from exc
            raise

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
            experiment_id = self.client.get_run(parent).info.experiment_id
            tags["mlflow.parentRunId"] = parent
        else:
            experiment_id = self._experiment_id(op["experiment"])
        run = self.client.create_run(experiment_id, start_time=op.get("time_ms"), tags=tags,
                                     run_name=op.get("run_name"))
        self.run_ids[op["key"]] = run.info.run_id

    def _attach_run(self, op: Op) -> None:
        self.run_ids[op["key"]] = op["run_id"]

    def _log_batch(self, op: Op) -> None:
        from mlflow.entities import Metric, Param, RunTag

        from .limits import MAX_METRICS_PER_BATCH, MAX_PARAMS_TAGS_PER_BATCH, chunks

        run_id = self._run_id(op)
        params = [Param(k, v) for k, v in op["params"].items()]
        tags = [RunTag(k, v) for k, v in op["tags"].items()]
        metrics = [Metric(k, v, ts, step) for k, v, ts, step in op["metrics"]]
        for part in chunks(params, MAX_PARAMS_TAGS_PER_BATCH):
            if part:
                self.client.log_batch(run_id, params=part, synchronous=True)
        for part in chunks(tags, MAX_PARAMS_TAGS_PER_BATCH):
            if part:
                self.client.log_batch(run_id, tags=part, synchronous=True)
        for part in chunks(metrics, MAX_METRICS_PER_BATCH):
            if part:
                self.client.log_batch(run_id, metrics=part, synchronous=True)

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
        from .models import publish

        if not os.path.isdir(op["path"]):
            raise LookupError(f"saved model {op['path']} is gone")
        publish(self.client, op["path"], run_id=self._run_id(op), name=op["name"], tags=op.get("tags"))
        shutil.rmtree(os.path.dirname(op["path"]), ignore_errors=True)

    def _end_run(self, op: Op) -> None:
        self.client.set_terminated(self._run_id(op), status=op.get("status", "FINISHED"), end_time=op.get("time_ms"))


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


def quiet_mlflow_on_recorder_threads() -> None:
    """Install the filter on MLflow's handlers and its chatty loggers; other threads are untouched."""
    for name in _NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if _QUIET not in logger.filters:
            logger.addFilter(_QUIET)
    for handler in logging.getLogger("mlflow").handlers:
        if _QUIET not in handler.filters:
            handler.addFilter(_QUIET)


# -- the thread --------------------------------------------------------------------------------


class Recorder:
    """Owns the queue, the thread, the planner, the writer and the spool of one tracking session."""

    def __init__(self, settings: Settings, session_id: str, notebook_path: str | None) -> None:
        self.settings = settings
        self.session_id = session_id
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.planner = RunPlanner(settings, session_id, notebook_path,
                                  os.path.join(settings.spool_dir, "models", session_id))
        self.writer: StoreWriter | None = None
        self.spool: Spool | None = None
        self._orphans: list[Spool] = []
        self._warned: set[str] = set()
        self._mlflow_ready = False
        self.idle = threading.Event()
        """Set while no cell runs (kernel hooks clear it): heavy work waits for it, up to MAX_DEFER_S."""
        self.idle.set()
        self._urgent = 0
        self._urgent_lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name=f"flock-recorder-{session_id[:8]}", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None) -> None:
        self._thread.join(timeout)

    # -- loop ----------------------------------------------------------------------------------
    def _loop(self) -> None:
        interval = self.settings.flush_interval_ms / 1000.0
        while True:
            try:
                wait = max(interval, 0.05) if self._pending_spool() else None
                first = self.queue.get(timeout=wait)
            except queue.Empty:
                self._guard("replay", self._replay)
                continue
            batch = [first]
            deadline = time.monotonic() + interval
            while not isinstance(batch[-1], Flush):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch.append(self.queue.get(timeout=remaining))
                except queue.Empty:
                    break
            if self._process(batch):
                return

    def _process(self, batch: list[Any]) -> bool:
        """Plan and write one batch; answer control items in order. True when the session closed."""
        if not any(isinstance(item, Flush) for item in batch):
            self._wait_for_idle()
        if not self._mlflow_ready:
            self._guard("import", self._import_mlflow)
        ops: list[Op] = []
        for item in batch:
            if isinstance(item, Flush):
                self._guard("write", self._write, ops)
                ops = []
                if self._pending_spool():
                    self._guard("replay", self._replay)
                if isinstance(item, OnnxRequest):
                    self._onnx(item)
                if isinstance(item, Close):
                    self._guard("plan", lambda: self._write(self.planner.finish(time.time())))
                item.delivered = not self._pending_spool()
                if isinstance(item, Close):
                    self._release()
                    self._answered(item)
                    return True
                self._answered(item)
            else:
                stamp, record = item
                try:
                    ops += self.planner.plan(stamp, record)
                except Exception as exc:
                    self._warn(f"plan-{type(record).__name__}",
                               f"could not record a {type(record).__name__}: {redact(str(exc))}")
        self._guard("write", self._write, ops)
        return False

    def request(self, item: Flush) -> None:
        """Queue a control item; the recorder stops deferring work until it is answered."""
        with self._urgent_lock:
            self._urgent += 1
        self.queue.put(item)

    def _answered(self, item: Flush) -> None:
        with self._urgent_lock:
            self._urgent -= 1
        item.done.set()

    def _wait_for_idle(self) -> None:
        """Let a running cell finish before taking the GIL for long (bounded; a flush cuts it short)."""
        deadline = time.monotonic() + MAX_DEFER_S
        while not self.idle.is_set() and not self._urgent and time.monotonic() < deadline:
            self.idle.wait(0.05)

    def _import_mlflow(self) -> None:
        import mlflow  # noqa: F401  (about a second; here, never at %load_ext)

        quiet_mlflow_on_recorder_threads()
        self._mlflow_ready = True

    def _onnx(self, item: OnnxRequest) -> None:
        try:
            ops = self.planner.onnx_ops(time.time(), item.model_id, item.onnx_model, example=item.example,
                                        report=item.report, report_text=item.report_text, metrics=item.metrics,
                                        tags=item.tags)
            self._write(ops)
            key = self.planner.latest.get(item.model_id)
            item.run_id = self.writer.run_ids.get(key) if self.writer and key else None
        except Exception as exc:
            item.error = redact(str(exc))

    # -- writing -------------------------------------------------------------------------------
    def _connect(self) -> None:
        if self.writer is not None:
            return
        import mlflow

        uri = self.settings.tracking_uri or mlflow.get_tracking_uri()
        self.writer = StoreWriter(str(uri))
        fingerprint = store_fingerprint(str(uri))
        self.spool = Spool(self.settings.spool_dir, self.session_id, fingerprint)
        try:
            self._orphans = Spool.orphans(self.settings.spool_dir, fingerprint, self.session_id)
        except OSError:
            self._orphans = []

    def _pending_spool(self) -> bool:
        return bool(self._orphans) or bool(self.spool)

    def _write(self, ops: list[Op]) -> None:
        if not ops:
            return
        self._connect()
        ops = merge_batches(ops)
        if self._pending_spool() and not self._replay():
            self.spool.append([self.writer.annotate(op) for op in ops])
            return
        if not self.writer.reachable():
            self._spool_from(ops, 0, "the tracking store is unreachable")
            return
        for i, op in enumerate(ops):
            try:
                self.writer.apply(op)
            except TransientStoreError as exc:
                self._spool_from(ops, i, str(exc))
                return
            except Exception as exc:
                self._warn(f"refused-{op['op']}", f"the tracking store refused {op['op']}: {redact(str(exc))}")

    def _spool_from(self, ops: list[Op], start: int, reason: str) -> None:
        self.spool.append([self.writer.annotate(op) for op in ops[start:]])
        self._warn("spooling", f"{reason.splitlines()[0][:200] if reason else 'store error'}; "
                               f"events are kept in {self.settings.spool_dir} and sent when it is back")

    def _replay(self) -> bool:
        """Send spooled operations in order (adopted spools first). True when nothing is left waiting."""
        if self.writer is None:
            return not self._pending_spool()
        if not self.writer.reachable():
            return False
        for spool in [*self._orphans, self.spool]:
            while spool:
                chunk = spool.peek(REPLAY_CHUNK)
                sent = 0
                try:
                    for op in chunk:
                        try:
                            self.writer.apply(op)
                        except TransientStoreError:
                            raise
                        except Exception as exc:
                            self._warn(f"refused-{op['op']}",
                                       f"the tracking store refused {op['op']}: {redact(str(exc))}")
                        sent += 1
                except TransientStoreError:
                    spool.drop(sent)
                    return False
                spool.drop(sent)
        for spool in self._orphans:
            spool.release()
        self._orphans = []
        self._warned.discard("spooling")
        return True

    def _release(self) -> None:
        if self.spool is not None:
            self.spool.release()
        for spool in self._orphans:
            spool.release()
        models = self.planner.model_dir
        if os.path.isdir(models) and not os.listdir(models):
            os.rmdir(models)

    # -- never raise ---------------------------------------------------------------------------
    def _guard(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:
            self._warn(what, f"tracking {what} failed: {redact(str(exc))}")
            return None

    def _warn(self, key: str, message: str) -> None:
        if key in self._warned:
            return
        self._warned.add(key)
        log.warning("flock: %s", message)

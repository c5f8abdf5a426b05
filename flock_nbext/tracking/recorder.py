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
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..config import Settings
from ..redaction import redact
from .runs import Op, RunPlanner, merge_batches
from .spool import Spool, store_fingerprint
from .writer import StoreWriter, TransientStoreError, detach_thread_output, quiet_mlflow_on_recorder_threads

log = logging.getLogger("flock")
REPLAY_CHUNK = 50
MAX_RETRY_S = 5.0
"""Longest pause between two attempts to replay the spool while the store is down."""
MAX_DEFER_S = 30.0
"""How long one piece of work may wait for the kernel to be idle before the recorder works anyway (a
bound on memory and delay in long Run-All sessions; a flush or the kernel's shutdown never waits)."""
OPEN_STORE_S = 10.0
"""Time a first connection to a store may need (creating a SQLite store's schema takes seconds)."""
IDLE_SETTLE_S = 0.3
"""The kernel counts as idle once no cell has run for this long: the gap between two cells of a
Run All lasts milliseconds, and work started in it (one MLflow call, importing mlflow) would run
into the next cell, competing with it for the CPU and the GIL."""


# -- control items that travel the queue with the records -------------------------------------------


@dataclass
class Flush:
    done: threading.Event = field(default_factory=threading.Event)
    delivered: bool = False


@dataclass
class Close(Flush):
    deadline: float | None = None
    """time.monotonic() after which nothing more is sent: the rest goes to the spool for the next session."""


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
        self._idle_since = time.monotonic() - IDLE_SETTLE_S  # noqa
        self._wake = threading.Event()
        self._urgent = 0
        self._urgent_lock = threading.Lock()
        self._deadline: float | None = None
        self._thread = threading.Thread(target=self._loop, name=f"flock-recorder-{session_id[:8]}", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None) -> None:
        self._thread.join(timeout)

    # -- loop ----------------------------------------------------------------------------------
    def _loop(self) -> None:
        # what this thread prints or warns (importing mlflow, MLflow's hints) never lands in a cell
        detach_thread_output()
        quiet_mlflow_on_recorder_threads()
        interval = self.settings.flush_interval_ms / 1000.0
        retry = max(interval, 0.05)
        while True:
            try:
                first = self.queue.get(timeout=retry if self._pending_spool() else None)
            except queue.Empty:
                # the store is down: try again at the flush interval, backing off to MAX_RETRY_S
                retry = max(interval, 0.05) if self._guard("replay", self._replay) else min(retry * 2, MAX_RETRY_S)
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
            try:
                if self._process(batch):
                    return
            except Exception as exc:  # a bug of ours must not end the thread: later records still count
                self._warn("recorder", f"the recorder hit an internal error: {redact(str(exc))}")
                for item in batch:
                    if isinstance(item, Flush) and not item.done.is_set():
                        self._answered(item)
                        if isinstance(item, Close):
                            return

    def _process(self, batch: list[Any]) -> bool:
        """Plan and write one batch; answer control items in order. True when the session closed."""
        if not self._mlflow_ready:
            self._wait_for_idle()  # importing mlflow holds the GIL for about a second
            self._guard("import", self._import_mlflow)
        ops: list[Op] = []
        for item in batch:
            if isinstance(item, Flush):
                self._guard("write", self._write, ops)
                ops = []
                self._guard("connect", self._connect)  # a flush also sends spools left by ended sessions
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
                self._wait_for_idle()
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
        if isinstance(item, Close) and item.deadline is not None:
            self._deadline = item.deadline
        self.queue.put(item)
        self._wake.set()

    def _answered(self, item: Flush) -> None:
        with self._urgent_lock:
            self._urgent -= 1
        item.done.set()

    def _wait_for_idle(self) -> None:
        """Before each record and each write: wait until no cell has run for IDLE_SETTLE_S.

        A waiting thread costs the cell nothing; a working one takes the GIL and a core from it. The
        wait is bounded (MAX_DEFER_S) and a flush or close request cuts it short.
        """
        deadline = time.monotonic() + MAX_DEFER_S
        while not self._urgent:
            self._wake.clear()  # before reading the state: a change after this wakes the wait below
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                return
            if self.idle.is_set():
                settled = now - self._idle_since
                if settled >= IDLE_SETTLE_S:
                    return
                self._wake.wait(min(IDLE_SETTLE_S - settled, remaining))  # a new cell or a flush wakes it
            else:
                self._wake.wait(remaining)  # set by cell_finished() and by every flush request

    def set_idle(self, idle: bool) -> None:
        """Kernel hooks: a cell started (False) or ended (True)."""
        if idle:
            self._idle_since = time.monotonic()
            self.idle.set()
        else:
            self.idle.clear()
        self._wake.set()

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
        if self._too_late_to_open():
            self._spool_from(ops, 0, "the kernel is shutting down")
            return
        for i, op in enumerate(ops):
            self._wait_for_idle()
            if self._past_deadline():
                self._spool_from(ops, i, "the kernel is shutting down")
                return
            try:
                self.writer.apply(op)
            except TransientStoreError as exc:
                self._spool_from(ops, i, str(exc))
                return
            except Exception as exc:
                self._warn(f"refused-{op['op']}", f"the tracking store refused {op['op']}: {redact(str(exc))}")

    def _too_late_to_open(self) -> bool:
        """Shutting down soon with a store this session never opened: opening it may create its schema
        (seconds of migrations) and a kernel killed in the middle leaves the store unusable; the
        spool is quick, and the next session on this store sends it all."""
        return (self._deadline is not None and not self.writer.opened
                and self._deadline - time.monotonic() < OPEN_STORE_S)

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() > self._deadline

    def _spool_from(self, ops: list[Op], start: int, reason: str) -> None:
        self.spool.append([self.writer.annotate(op) for op in ops[start:]])
        self._warn("spooling", f"{reason.splitlines()[0][:200] if reason else 'store error'}; "
                               f"events are kept in {self.settings.spool_dir} and sent when it is back")

    def _replay(self) -> bool:
        """Send spooled operations in order (adopted spools first). True when nothing is left waiting."""
        if self.writer is None:
            return not self._pending_spool()
        if not self.writer.reachable() or self._too_late_to_open():
            return False
        for spool in [*self._orphans, self.spool]:
            while spool:
                if self._past_deadline():
                    return False
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
            _remove_if_empty(os.path.join(self.settings.spool_dir, "models", spool.session_id))
        self._orphans = []
        self._warned.discard("spooling")
        return True

    def _release(self) -> None:
        if self.spool is not None:
            self.spool.release()
        for spool in self._orphans:
            spool.release()
        _remove_if_empty(self.planner.model_dir)

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


def _remove_if_empty(folder: str) -> None:
    try:
        if os.path.isdir(folder) and not os.listdir(folder):
            os.rmdir(folder)
    except OSError:
        pass

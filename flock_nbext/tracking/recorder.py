"""The recorder thread: gathers records for a flush interval, plans them, writes them in batches.

The user's thread only puts (timestamp, record) on a queue. This thread imports mlflow (on the first
record, never at `%load_ext`), turns records into operations (`runs.RunPlanner`), folds adjacent
writes into `log_batch` calls and applies them through one MlflowClient with explicit run ids. When
the store is unreachable or fails, the operation and every later one go to the spool (`spool.Spool`)
and are replayed, in order, at each flush interval until the store answers again.

What the thread holds is visible to the kernel's exit path: records taken off the queue but not
planned yet (`_taken`) and operations planned but not acknowledged by the store (`_unsent`), both
changed only under `_lock`, never held across a store call, an import or a model save. At exit,
if the thread has not finished in time (it may be inside one long MLflow call: the first
`import mlflow`, a new store's schema migration, a slow upload), `hand_over()` writes all of it to
the spool from the main thread in milliseconds and the thread stops touching anything; an operation
it was sending when the spool was written is acknowledged in the spool when the store takes it, so
the next session replays every record exactly once.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..config import Settings
from ..redaction import redact
from .runs import Op, RunPlanner, is_live, merge_batches, pickle_model, save_model
from .spool import Spool, early_fingerprint, store_fingerprint, store_names
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
HAND_OVER_GRACE_S = 0.25
"""After the exit path spooled everything, how long it lets the thread acknowledge a store call that
ended meanwhile (otherwise the next session would send that one operation again)."""
IDLE_SETTLE_S = 0.3
"""The kernel counts as idle once no cell has run for this long: the gap between two cells of a
Run All lasts milliseconds, and work started in it (one MLflow call, importing mlflow) would run
into the next cell, competing with it for the CPU and the GIL."""


class _HandedOver(BaseException):
    """Raised on the recorder thread once the exit path took its work over: unwinds past every
    `except Exception` so the thread stops without touching the spool again."""


class _Closed(BaseException):
    """The session is closed: the recorder thread ends."""


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
        self._lock = threading.Lock()
        """Guards what the exit path takes over: _taken, _unsent, the planner, the spools."""
        self._taken: list[tuple[float, Any]] = []
        """(stamp, record) off the queue, not planned yet."""
        self._unsent: list[Op] = []
        """Planned operations not yet acknowledged by the store nor spooled, in order."""
        self._ids = itertools.count()
        self._finished = False
        """The session's closing operations are planned (planner.finish)."""
        self._closed = False
        """The thread answered Close: everything is sent or spooled."""
        self._handed_over = False
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
        self._retry = max(interval, 0.05)
        while True:
            try:
                self._turn(interval)
            except _HandedOver:
                self._stop_after_hand_over()
                return
            except _Closed:
                return

    def _turn(self, interval: float) -> None:
        """Wait for records, gather a flush interval's worth, plan and write them (or retry the spool)."""
        try:
            first = self.queue.get(timeout=self._retry if self._pending_spool() else None)
        except queue.Empty:
            # the store is down: try again at the flush interval, backing off to MAX_RETRY_S
            replayed = self._guard("replay", self._replay)
            self._retry = max(interval, 0.05) if replayed else min(self._retry * 2, MAX_RETRY_S)
            return
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
            self._take(batch)
            if self._process(batch):
                raise _Closed
        except Exception as exc:  # a bug of ours must not end the thread: later records still count
            self._warn("recorder", f"the recorder hit an internal error: {redact(str(exc))}")
            for item in batch:
                if isinstance(item, Flush) and not item.done.is_set():
                    self._answered(item)
                    if isinstance(item, Close):
                        raise _Closed from None

    def _process(self, batch: list[Any]) -> bool:
        """Plan and write one batch; answer control items in order. True when the session closed."""
        if not self._mlflow_ready:
            self._wait_for_idle()  # importing mlflow holds the GIL for about a second
            self._guard("import", self._import_mlflow)
        for item in batch:
            if isinstance(item, Flush):
                self._guard("write", self._write)
                self._guard("connect", self._connect)  # a flush also sends spools left by ended sessions
                if self._pending_spool():
                    self._guard("replay", self._replay)
                if isinstance(item, OnnxRequest):
                    self._onnx(item)
                if isinstance(item, Close):
                    self._guard("plan", self._finish)
                    self._guard("write", self._write)
                item.delivered = not self._pending_spool()
                if isinstance(item, Close):
                    with self._lock:
                        self._check()
                        self._closed = True
                    self._release()
                    self._answered(item)
                    return True
                self._answered(item)
            elif isinstance(item, tuple):
                self._wait_for_idle()
                self._plan(item)
        self._guard("write", self._write)
        return False

    # -- what the exit path may take over (all under _lock) -----------------------------------------
    def _check(self) -> None:
        """Under _lock: stop here if the exit path has taken the work over."""
        if self._handed_over:
            raise _HandedOver

    def _take(self, batch: list[Any]) -> None:
        with self._lock:
            self._check()
            self._taken += [item for item in batch if isinstance(item, tuple)]

    def _plan(self, item: tuple[float, Any]) -> None:
        """Plan one record taken off the queue (fast: no MLflow, no model saved here)."""
        stamp, record = item
        with self._lock:
            self._check()
            self._taken = [taken for taken in self._taken if taken is not item]
            try:
                self._unsent += self.planner.plan(stamp, record)
            except Exception as exc:
                self._warn(f"plan-{type(record).__name__}",
                           f"could not record a {type(record).__name__}: {redact(str(exc))}")

    def _finish(self) -> None:
        with self._lock:
            self._check()
            if not self._finished:
                self._finished = True
                self._unsent += self.planner.finish(time.time())

    def _number(self, ops: list[Op]) -> list[Op]:
        """Under _lock: fold adjacent batches and give each operation the id its acknowledgement names.

        Operations already numbered stay as they are (the thread may be sending one): only runs of
        new ones are folded together."""
        out: list[Op] = []
        fresh: list[Op] = []
        for op in [*ops, None]:
            if op is None or "id" in op:
                for new in merge_batches(fresh):
                    new["id"] = f"{self.session_id[:12]}-{next(self._ids)}"
                    out.append(new)
                fresh = []
                if op is not None:
                    out.append(op)
            else:
                fresh.append(op)
        return out

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
            with self._lock:
                self._check()
                self._unsent += ops
            self._write()
            key = self.planner.latest.get(item.model_id)
            item.run_id = self.writer.run_ids.get(key) if self.writer and key else None
        except Exception as exc:
            item.error = redact(str(exc))

    # -- writing -------------------------------------------------------------------------------
    def _connect(self) -> None:
        if self.writer is not None:
            return
        import mlflow

        uri = str(self.settings.tracking_uri or mlflow.get_tracking_uri())
        writer = StoreWriter(uri)
        fingerprint = store_fingerprint(uri)
        with self._lock:
            self._check()
            self.writer = writer
            self.spool = Spool(self.settings.spool_dir, self.session_id, fingerprint)
            try:
                self._orphans = Spool.orphans(self.settings.spool_dir, store_names(uri, self.settings.tracking_uri),
                                              self.session_id)
            except OSError:
                self._orphans = []

    def _pending_spool(self) -> bool:
        return bool(self._orphans) or bool(self.spool)

    def _write(self) -> None:
        """Send the planned operations in order; from the first one the store cannot take, spool them."""
        with self._lock:
            self._check()
            if not self._unsent:
                return
            self._unsent = self._number(self._unsent)
        self._connect()
        if self._pending_spool() and not self._replay():
            self._spool_unsent(None)
            return
        if not self.writer.reachable():
            self._spool_unsent("the tracking store is unreachable")
            return
        if self._too_late_to_open():
            self._spool_unsent("the kernel is shutting down")
            return
        while True:
            with self._lock:
                self._check()
                if not self._unsent:
                    return
                op = self._unsent[0]
            self._wait_for_idle()
            if self._past_deadline():
                self._spool_unsent("the kernel is shutting down")
                return
            if is_live(op):
                saved = save_model(op)  # seconds, perhaps: outside the lock
                with self._lock:
                    self._check()
                    self._unsent[0] = op = saved
            try:
                self.writer.apply(op)
            except TransientStoreError as exc:
                self._spool_unsent(str(exc))
                return
            except Exception as exc:
                self._warn(f"refused-{op['op']}", f"the tracking store refused {op['op']}: {redact(str(exc))}")
            with self._lock:
                if self._handed_over:
                    self._ack_handed_over(op)
                self._unsent.pop(0)

    def _ack_handed_over(self, op: Op) -> None:
        """Under _lock: the exit path spooled `op` while the store was taking it: note that it arrived."""
        try:
            self.spool.ack(op, self.writer.run_ids.get(op.get("key")))
        finally:
            raise _HandedOver

    def _too_late_to_open(self) -> bool:
        """Shutting down soon with a store this session never opened: opening it may create its schema
        (seconds of migrations) and a kernel killed in the middle leaves the store unusable; the
        spool is quick, and the next session on this store sends it all."""
        return (self._deadline is not None and not self.writer.opened
                and self._deadline - time.monotonic() < OPEN_STORE_S)

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() > self._deadline

    def _spool_unsent(self, reason: str | None) -> None:
        """Save the models, then move every unsent operation to the spool, in order."""
        with self._lock:
            self._check()
            ops = list(self._unsent)
        ops = [save_model(op) if is_live(op) else op for op in ops]  # outside the lock
        with self._lock:
            self._check()
            self.spool.append([self.writer.annotate(op) for op in ops])
            self._unsent = self._unsent[len(ops):]
        if reason is not None:
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
                with self._lock:
                    self._check()
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
                        with self._lock:
                            spool.ack(op, self.writer.run_ids.get(op.get("key")))
                            self._check()
                        sent += 1
                except TransientStoreError:
                    with self._lock:
                        self._check()
                        spool.drop(sent)
                    return False
                with self._lock:
                    self._check()
                    spool.drop(sent)
        with self._lock:
            self._check()
            for spool in self._orphans:
                spool.release()
                _remove_if_empty(os.path.join(self.settings.spool_dir, "models", spool.session_id))
            self._orphans = []
        self._warned.discard("spooling")
        return True

    # -- the kernel's exit path (main thread) -----------------------------------------------------
    def hand_over(self, budget: float = 1.0) -> bool:
        """Write every record and operation the store has not acknowledged to the spool, now.

        Called on the main thread at exit when the thread did not finish in time. Bounded by what is
        left, not by the store: planning is fast, live models are pickled (`runs.pickle_model`,
        saved in their flavor at replay), and one fsynced append writes it all. From then on the
        recorder thread only acknowledges the store call it may be inside, then stops. True when
        nothing was left behind (or the thread had already finished).
        """
        end = time.monotonic() + budget
        dumps = _pickler()  # imported outside the lock: the thread may be importing it
        if not self._lock.acquire(timeout=max(budget, 0.01)):
            self._warn("hand-over", "the recorder did not let go in time at shutdown; some records may be lost")
            return False
        try:
            if self._closed or self._handed_over:
                return self._closed
            self._handed_over = True
            records = list(self._taken)
            while True:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, tuple):
                    records.append(item)
            ops = list(self._unsent)
            self.planner.digests = {}  # one instant: a frame several records share is hashed once
            for stamp, record in records:
                try:
                    ops += self.planner.plan(stamp, record)
                except Exception as exc:
                    self._warn(f"plan-{type(record).__name__}",
                               f"could not record a {type(record).__name__}: {redact(str(exc))}")
            self.planner.digests = None
            if not self._finished:
                self._finished = True
                ops += self.planner.finish(time.time())
            ops = [pickle_model(op, dumps) if is_live(op) else op for op in self._number(ops)]
            if self.writer is not None:
                ops = [self.writer.annotate(op) for op in ops]
            if self.spool is None:
                self.spool = Spool(self.settings.spool_dir, self.session_id,
                                   early_fingerprint(self.settings.tracking_uri))
            self.spool.append(ops)
            self._unsent, self._taken = [], []
            return True
        except Exception as exc:
            self._warn("hand-over", f"could not spool the records left at shutdown: {redact(str(exc))}")
            return False
        finally:
            self._lock.release()
            self.queue.put(None)  # wakes a waiting thread, which then stops
            self._wake.set()
            if threading.current_thread() is not self._thread:
                # a store call that ended meanwhile is acknowledged now, before the process ends
                self._thread.join(max(0.0, min(HAND_OVER_GRACE_S, end - time.monotonic())))

    def _stop_after_hand_over(self) -> None:
        """The thread's last act: give up the spools' locks (the next session adopts them)."""
        with self._lock:
            if self.spool is not None:
                self.spool.release()
            for spool in self._orphans:
                spool.release()

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


def _pickler() -> Any:
    """cloudpickle's dumps (pickles classes defined in the notebook by value), else pickle's."""
    try:
        import cloudpickle

        return cloudpickle.dumps
    except ImportError:  # pragma: no cover - mlflow depends on cloudpickle
        import pickle

        return pickle.dumps


def _remove_if_empty(folder: str) -> None:
    try:
        if os.path.isdir(folder) and not os.listdir(folder):
            os.rmdir(folder)
    except OSError:
        pass

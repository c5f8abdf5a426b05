"""TrackingSession: what the kernel holds for one kernel session — record(), flush(), close(), log_onnx().

`record()` is all the user's cell ever pays: a timestamp and a queue put (about a microsecond); it
never raises and never waits for MLflow. Everything else happens on the recorder thread
(`recorder.Recorder`). `close()` — called at kernel shutdown and `%unload_ext`, and registered with
`atexit` so a script that exits normally loses nothing — flushes, ends the session's run and waits
(bounded) for the store; what cannot be sent stays in the spool for the next session. If the recorder
thread is still busy when the wait ends (inside one long MLflow call), the calling thread writes what
is left to the spool itself (`Recorder.hand_over`), so nothing is lost wherever the thread is.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from ..config import Settings
from ..errors import TrackingError
from .recorder import Close, Flush, OnnxRequest, Recorder

log = logging.getLogger("flock")

HAND_OVER_S = 1.0
"""At most this much of close()'s timeout is kept for writing what the recorder left to the spool."""


class TrackingSession:
    """flock's MLflow presence for one kernel session (one parent run, one child run per fit)."""

    def __init__(self, settings: Settings, *, notebook_path: str | None = None, session_id: str | None = None) -> None:
        self.settings = settings
        self.session_id = session_id or uuid.uuid4().hex
        self.notebook_path = notebook_path
        self._recorder = Recorder(settings, self.session_id, notebook_path)
        self._closed = False
        atexit.register(self.close)

    # -- the user's thread -----------------------------------------------------------------------
    def record(self, record: Any) -> None:
        """Hand a record to the recorder thread; never raises, never waits."""
        try:
            if not self._closed:
                self._recorder.queue.put((time.time(), record))
        except Exception:  # pragma: no cover - a queue put does not fail, but the cell is sacred
            pass

    def cell_started(self) -> None:
        """A cell began (pre_run_cell): the recorder holds heavy work until it ends (max 10 s)."""
        self._recorder.set_idle(False)

    def cell_finished(self) -> None:
        """The cell ended (post_run_cell): the recorder may use the CPU now."""
        self._recorder.set_idle(True)

    # -- waiting on the recorder -----------------------------------------------------------------
    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until everything recorded so far has been written or spooled.

        Returns True when it all reached the tracking store (nothing left in the spool).
        """
        if self._closed or not self._recorder.alive:
            return False
        item = Flush()
        self._recorder.request(item)
        return item.done.wait(timeout) and item.delivered

    def close(self, timeout: float | None = 30.0) -> bool:
        """Flush, end the session's run and stop the recorder. Idempotent; True when all was delivered.

        With a timeout, nothing outlives it: the recorder spools what it has not sent by about 60%
        of it, and if it is still busy at the end (inside one long MLflow call: the first import, a
        new store's migrations, a slow upload) this thread writes every record and operation the
        store has not acknowledged to the spool, within the last quarter (at most HAND_OVER_S). The
        next session on the same store sends it all, each once. At kernel shutdown Jupyter sends the
        kernel SIGTERM 2.5 s after its shutdown request and SIGKILL at 5 s, and the kernel calls
        `close(timeout=4)`: a SIGTERM that comes while close() waits hands over at once, then
        terminates the process as asked (`_hand_over_on_sigterm`).
        """
        if self._closed:
            return False
        self._closed = True
        try:
            atexit.unregister(self.close)
        except Exception:  # pragma: no cover
            pass
        if not self._recorder.alive:
            return False
        if timeout is None:
            item = Close()
            self._recorder.request(item)
            item.done.wait()
            self._recorder.join(1.0)
            return item.delivered
        reserve = min(HAND_OVER_S, 0.25 * timeout)
        wait = timeout - reserve
        item = Close(deadline=time.monotonic() + 0.8 * wait)
        self._recorder.request(item)
        with _hand_over_on_sigterm(self._recorder, reserve):
            if item.done.wait(wait):
                self._recorder.join(1.0)
                return item.delivered
            self._recorder.hand_over(reserve)
        return item.done.is_set() and item.delivered

    @property
    def closed(self) -> bool:
        return self._closed

    # -- answers for the kernel and the magics -------------------------------------------------------
    def run_id_for(self, model_id: str, timeout: float = 2.0) -> str | None:
        """The MLflow run of the latest fit of `model_id`; None if it has none (yet).

        Waits up to `timeout` seconds for the recorder to write what is queued; `timeout=0` answers at
        once from what is already written (for UI code on the kernel's main thread).
        """
        if timeout > 0:
            self.flush(timeout)
        key = self._recorder.planner.latest.get(model_id)
        writer = self._recorder.writer
        if key is None or writer is None:
            return None
        return writer.run_ids.get(key)

    def log_onnx(self, model_id: str, conversion_result: Any, *, metrics: dict[str, float] | None = None,
                 timeout: float = 120.0) -> str:
        """Log a converted model as the `onnx_model` of `model_id`'s latest run; returns `runs:/<run>/onnx_model`.

        `conversion_result` is what `flock_nbext.convert` returns (its `to_mlflow_parts()` gives the
        serving graph, example rows, report and speedup metrics) or a bare ONNX ModelProto (the
        model's training head is then the example). The URI is served by
        `mlflow models serve -m runs:/<run_id>/onnx_model --env-manager local`.
        """
        if self._closed:
            raise TrackingError("flock tracking is closed; reload the extension to log models")
        item = OnnxRequest(model_id=model_id)
        to_parts = getattr(conversion_result, "to_mlflow_parts", None)
        if callable(to_parts):
            parts = to_parts(n_examples=self.settings.input_example_rows)
            item.onnx_model, item.example = parts.onnx_model, parts.input_example
            item.report, item.report_text = parts.report_rows, parts.report_markdown
            item.metrics, item.tags = dict(parts.metrics), dict(parts.tags)
        else:
            item.onnx_model = getattr(conversion_result, "onnx_model", conversion_result)
            item.report = getattr(conversion_result, "report", None)
        if not self.settings.input_example:
            item.example = None
        item.metrics.update(metrics or {})
        self._recorder.request(item)
        if not item.done.wait(timeout):
            raise TrackingError(f"logging the ONNX model of {model_id} took longer than {timeout:.0f} s")
        if item.error:
            raise TrackingError(f"could not log the ONNX model of {model_id}: {item.error}")
        if item.run_id is None or not item.delivered:
            raise TrackingError(f"the ONNX model of {model_id} is spooled: the tracking store is unreachable")
        return f"runs:/{item.run_id}/onnx_model"


@contextlib.contextmanager
def _hand_over_on_sigterm(recorder: Recorder, budget: float) -> Iterator[None]:
    """While close() waits on the main thread: a SIGTERM (Jupyter sends one 2.5 s into a kernel
    shutdown; the default action ends the process at once, atexit handlers and all) first spools what
    the recorder holds (`Recorder.hand_over`), then terminates the process as it would have."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.getsignal(signal.SIGTERM)
    except (AttributeError, ValueError):  # no SIGTERM on this platform
        yield
        return
    previous = signal.SIG_DFL if previous is None else previous

    def on_sigterm(signum: int, frame: Any) -> None:
        recorder.hand_over(budget)
        signal.signal(signal.SIGTERM, previous)
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            os.kill(os.getpid(), signal.SIGTERM)

    try:
        signal.signal(signal.SIGTERM, on_sigterm)
    except (ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(ValueError, OSError):
            if signal.getsignal(signal.SIGTERM) is on_sigterm:
                signal.signal(signal.SIGTERM, previous)

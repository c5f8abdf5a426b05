"""The flock extension object: everything `%load_ext flock` adds to a shell, and how it is removed.

One FlockExtension per shell owns all state; loading twice is a no-op and `%unload_ext` undoes
every hook (ast transformer, event callbacks, magics, comm target).
"""

from __future__ import annotations

import ast
import atexit
import logging
import os
import threading
import time
import uuid
import weakref
from typing import Any

from ..config import Settings, load_settings
from ..errors import FlockError

log = logging.getLogger("flock")

EXIT_FLUSH_S = 4.0
"""At kernel shutdown: Jupyter sends SIGTERM 2.5 s after asking a kernel to stop and SIGKILL at 5 s;
what the recorder has not sent by then (a Run All's records wait for the kernel to be idle) goes to
the spool instead of being lost (`Recorder.hand_over`, also on SIGTERM)."""
WARM_UP_SETTLE_S = 0.3
"""The warm-up starts only after the kernel has been idle this long (a Run All's first cell comes at once)."""

_LOADED: weakref.WeakKeyDictionary[Any, FlockExtension] = weakref.WeakKeyDictionary()


class FlockExtension:
    """flock's presence in one IPython shell."""

    def __init__(self, shell: Any, settings: Settings) -> None:
        self.shell = shell
        self.settings = settings
        self._warned: set[str] = set()
        self._undo: list[Any] = []
        self.session_id = uuid.uuid4().hex
        self._last_source: str | None = None
        self.tracker: Any = None
        self.hooks: Any = None
        self.idle = threading.Event()
        """Set while no cell of the user runs (background work waits for it)."""
        self.idle.set()
        self._enclosing: list[Any] = []
        """The tracker's cell context at each execution start: a cell magic's own run_cell (`%%capture`)
        nests inside its cell, which is restored when the inner run ends."""

    # -- lifecycle -------------------------------------------------------------------------
    def install(self) -> None:
        from .comm import PanelComm
        from .magics import ConvertMagics, FlockMagics
        from .transformer import CellTransformer, attach

        self._undo.append(attach(self.shell, CellTransformer(self)))

        magics = FlockMagics(self.shell, self)
        self.shell.register_magics(magics)
        self._undo.append(lambda: _unregister_magics(self.shell, magics))
        convert_magics = ConvertMagics(self.shell, self)
        self.shell.register_magics(convert_magics)
        self._undo.append(lambda: _unregister_magics(self.shell, convert_magics))

        self.comm = PanelComm(self)
        if self.comm.register():
            self._undo.append(self.comm.unregister)
        self._install_tracking()

    def _install_tracking(self) -> None:
        """The cell loop: remember each cell's text, plant hooks, tell the panel, flush at exit."""
        from .hooks import RuntimeHooks
        from .instrument import HOOKS_NAME
        from .panel import register_panel_handlers
        from .tracker import NotebookTracker

        shell = self.shell
        self.tracker = NotebookTracker(self)
        self.hooks = RuntimeHooks(self.tracker)
        shell.user_ns[HOOKS_NAME] = self.hooks
        shell.user_ns_hidden[HOOKS_NAME] = self.hooks
        self._undo.append(self._remove_hooks_object)

        shell.input_transformers_post.append(self._capture_source)
        self._undo.append(lambda: _remove(shell.input_transformers_post, self._capture_source))
        for event, callback in (("pre_execute", self._pre_execute), ("pre_run_cell", self._pre_run_cell),
                                ("post_execute", self._post_execute), ("post_run_cell", self._post_run_cell)):
            shell.events.register(event, callback)
            self._undo.append(lambda e=event, c=callback: shell.events.unregister(e, c))

        register_panel_handlers(self)
        _warm_up_in_background(self.idle)
        atexit.register(self._close_at_exit)
        self._undo.append(lambda: atexit.unregister(self._close_at_exit))
        self._undo.append(self.close)  # runs first at unload: flush and end the runs

    def _remove_hooks_object(self) -> None:
        """Swap the live hooks for inert ones: functions a cell defined while flock was loaded
        still call `__flock__`, and must keep working (untracked) after `%unload_ext`."""
        from .hooks import DetachedHooks
        from .instrument import HOOKS_NAME

        inert = DetachedHooks()
        for namespace in (self.shell.user_ns, self.shell.user_ns_hidden):
            if namespace.get(HOOKS_NAME) is self.hooks:
                namespace[HOOKS_NAME] = inert

    def _close_at_exit(self) -> None:
        self.close(timeout=EXIT_FLUSH_S)

    def close(self, timeout: float = 30.0) -> None:
        """Flush what is queued and end the session's runs (kernel shutdown, %unload_ext).

        What cannot be sent within about 80% of `timeout` is spooled to disk for the next session.
        """
        if self.tracker is not None:
            try:
                self.tracker.close_session(timeout)
            except Exception as exc:
                self.warn_once("close", f"could not flush the tracking session: {exc}")

    # -- the cell loop ------------------------------------------------------------------------
    def _capture_source(self, lines: list[str]) -> list[str]:
        """Last of IPython's input transformers: the text the cell's tree is parsed from."""
        self._last_source = "".join(lines)
        return lines

    def _pre_execute(self) -> None:
        self.idle.clear()
        self._enclosing.append(self.tracker.cell)
        self.tracker.start_cell("", None, None, None)

    def _pre_run_cell(self, info: Any) -> None:
        try:
            count = self.shell.execution_count - (1 if info.store_history else 0)
            cell_id = getattr(info, "cell_id", None)
            if cell_id is None and len(self._enclosing) > 1:  # run by a cell magic: part of its cell
                enclosing = self._enclosing[-1]
                cell_id, count = enclosing.cell_id, enclosing.execution_count
            self.tracker.start_cell(info.raw_cell, getattr(info, "transformed_cell", None), cell_id, count)
        except Exception as exc:
            self.warn_once("pre-run", f"could not follow a cell ({type(exc).__name__}: {exc})")

    def _post_execute(self) -> None:
        enclosing = self._enclosing.pop() if self._enclosing else None
        try:
            self.hooks.forget_operands()
            self.tracker.end_cell()
            if self._enclosing and enclosing is not None:  # back in the cell whose magic ran this one
                self.tracker.cell = enclosing
        except Exception as exc:
            self.warn_once("post-run", f"could not finish a cell ({type(exc).__name__}: {exc})")
        finally:
            if not self._enclosing:
                self.idle.set()

    def _post_run_cell(self, result: Any) -> None:
        try:
            self.comm.push({"type": "lineage_updated"})
        except Exception as exc:
            self.warn_once("post-run", f"could not finish a cell ({type(exc).__name__}: {exc})")

    def instrument_cell(self, tree: ast.Module) -> ast.Module:
        """Analyse the cell and plant hooks at its sites (CellTransformer keeps the original on error)."""
        from .instrument import HOOKS_NAME

        source, self._last_source = self._last_source, None
        new_tree = self.tracker.instrument_cell(tree, source)
        if self.shell.user_ns.get(HOOKS_NAME) is not self.hooks:  # %reset, or the user rebound it
            self.shell.user_ns[HOOKS_NAME] = self.hooks
        return new_tree

    def notebook_path(self) -> str | None:
        """The notebook's path when the frontend told the kernel (JupyterLab, VS Code)."""
        ns = self.shell.user_ns
        for name in ("__session__", "__vsc_ipynb_file__"):
            value = ns.get(name)
            if isinstance(value, str) and value:
                return value
        return os.environ.get("JPY_SESSION_NAME") or None

    def uninstall(self) -> None:
        while self._undo:
            undo = self._undo.pop()
            try:
                undo()
            except Exception as exc:  # never let one failed undo keep the others in place
                log.warning("flock: could not remove a hook while unloading: %s", exc)

    # -- state shown to users ---------------------------------------------------------------
    @property
    def has_kernel(self) -> bool:
        return getattr(self.shell, "kernel", None) is not None

    def status(self) -> dict[str, Any]:
        from .._version import __version__
        from ..redaction import redact_uri

        uri = self.settings.tracking_uri
        return {
            "loaded": True,
            "version": __version__,
            "enabled": self.settings.enabled,
            "experiment": self.settings.experiment,
            "tracking_uri": redact_uri(uri) if uri else None,
            "panel": self.has_kernel,
        }

    def update_settings(self, **changes: Any) -> None:
        self.settings = self.settings.replace(**changes)

    def warn_once(self, key: str, message: str) -> None:
        """Tell the user about an internal problem once per kind, on stderr, never raising."""
        if key in self._warned:
            return
        self._warned.add(key)
        log.warning("flock: %s", message)


def _warm_up_in_background(idle: Any) -> None:
    """Import the analysis and the tracking session off the user's thread, once the kernel is idle.

    `idle` is a threading.Event set while no cell runs: an import holds the GIL, so doing it while a
    cell runs would slow that cell; if a cell needs the analysis first, it imports it itself.
    """
    import threading

    def warm() -> None:
        from ..tracking.writer import detach_thread_output

        detach_thread_output()
        while True:  # idle now, and still idle a moment later
            idle.wait()
            time.sleep(WARM_UP_SETTLE_S)
            if idle.is_set():
                break
        try:
            import flock_nbext.analysis  # noqa: F401  (networkx, sqlglot, the knowledge base)
            import flock_nbext.tracking.session  # noqa: F401
        except Exception:  # the cell path imports them again and reports any real problem
            pass

    threading.Thread(target=warm, name="flock-warm-up", daemon=True).start()


def _remove(items: list, item: Any) -> None:
    if item in items:
        items.remove(item)


def _unregister_magics(shell: Any, magics: Any) -> None:
    manager = shell.magics_manager
    for kind, names in magics.magics.items():
        table = manager.magics[kind]
        for name in names:
            if getattr(table.get(name), "__self__", None) is magics:
                del table[name]
    manager.registry.pop(type(magics).__name__, None)


def extension_of(shell: Any) -> FlockExtension | None:
    """The loaded extension of this shell, if any."""
    return _LOADED.get(shell)


def load(shell: Any) -> FlockExtension:
    if shell is None:
        raise FlockError("flock needs an IPython shell: use `%load_ext flock` in IPython or Jupyter")
    existing = _LOADED.get(shell)
    if existing is not None:
        return existing
    _ensure_log_handler()
    try:
        settings = load_settings()
    except FlockError as exc:
        log.warning("flock: %s; using defaults", exc)
        settings = Settings()
    ext = FlockExtension(shell, settings)
    ext.install()
    _LOADED[shell] = ext
    return ext


def unload(shell: Any) -> None:
    ext = _LOADED.pop(shell, None)
    if ext is not None:
        ext.uninstall()


def _ensure_log_handler() -> None:
    """flock's warnings go to stderr as one line each, never as tracebacks."""
    if not log.handlers:
        handler = _CurrentStderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.propagate = False
        log.setLevel(logging.INFO)


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (ipykernel and test captures replace it).

    flock's background threads write with no kernel parent (their stray output must reach no cell,
    see `tracking.writer.detach_thread_output`); flock's own one-line warnings from them are meant
    for the user, so they are written with the kernel's current parent: the running cell.
    """

    def emit(self, record: logging.LogRecord) -> None:
        import sys
        import threading

        self.stream = stream = sys.stderr
        set_parent = getattr(stream, "set_thread_parent", None)
        if threading.current_thread() is threading.main_thread() or not callable(set_parent):
            super().emit(record)
            return
        token = set_parent(getattr(stream, "_parent_header_global", None) or {})
        try:
            super().emit(record)
        finally:
            stream.reset_thread_parent(token)

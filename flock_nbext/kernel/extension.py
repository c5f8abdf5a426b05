"""The flock extension object: everything `%load_ext flock` adds to a shell, and how it is removed.

One FlockExtension per shell owns all state; loading twice is a no-op and `%unload_ext` undoes
every hook (ast transformer, event callbacks, magics, comm target).
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

from ..config import Settings, load_settings
from ..errors import FlockError

log = logging.getLogger("flock")

_LOADED: weakref.WeakKeyDictionary[Any, FlockExtension] = weakref.WeakKeyDictionary()


class FlockExtension:
    """flock's presence in one IPython shell."""

    def __init__(self, shell: Any, settings: Settings) -> None:
        self.shell = shell
        self.settings = settings
        self._warned: set[str] = set()
        self._undo: list[Any] = []

    # -- lifecycle -------------------------------------------------------------------------
    def install(self) -> None:
        from .comm import PanelComm
        from .magics import FlockMagics
        from .transformer import CellTransformer

        transformer = CellTransformer(self)
        self.shell.ast_transformers.append(transformer)
        self._undo.append(lambda: _remove(self.shell.ast_transformers, transformer))

        magics = FlockMagics(self.shell, self)
        self.shell.register_magics(magics)
        self._undo.append(lambda: _unregister_magics(self.shell, magics))

        self.comm = PanelComm(self)
        if self.comm.register():
            self._undo.append(self.comm.unregister)

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
    """Writes to whatever sys.stderr is at the time (ipykernel and test captures replace it)."""

    def emit(self, record: logging.LogRecord) -> None:
        import sys

        self.stream = sys.stderr
        super().emit(record)

"""`%flock status | on | off | experiment NAME | tracking-uri URI`."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from IPython.core.magic import Magics, line_magic, magics_class

from ..errors import FlockError

if TYPE_CHECKING:  # pragma: no cover
    from .extension import FlockExtension

USAGE = "usage: %flock status | on | off | experiment NAME | tracking-uri URI"


@magics_class
class FlockMagics(Magics):
    def __init__(self, shell, extension: FlockExtension) -> None:
        super().__init__(shell)
        self.extension = extension

    @line_magic
    def flock(self, line: str) -> None:
        """Show or change what flock does in this kernel."""
        try:
            self._flock(line)
        except FlockError as exc:
            print(f"flock: {exc}")

    def _flock(self, line: str) -> None:
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise FlockError(f"cannot parse {line!r}: {exc}; {USAGE}") from None
        ext = self.extension
        command, args = (words[0].lower(), words[1:]) if words else ("status", [])
        if command == "status" and not args:
            status = ext.status()
            state = "on" if status["enabled"] else "off"
            print(f"flock {status['version']}: {state}; experiment: {status['experiment'] or '(notebook path)'}; "
                  f"tracking: {status['tracking_uri'] or '(MLflow default)'}; "
                  f"panel: {'connected kernel' if status['panel'] else 'inactive (no kernel)'}")
        elif command in ("on", "off") and not args:
            ext.update_settings(enabled=command == "on")
            print(f"flock: tracking {command}")
        elif command == "experiment" and len(args) == 1:
            ext.update_settings(experiment=args[0])
            print(f"flock: experiment set to {args[0]!r}")
        elif command in ("tracking-uri", "tracking_uri") and len(args) == 1:
            from ..redaction import redact_uri

            ext.update_settings(tracking_uri=args[0])
            print(f"flock: tracking URI set to {redact_uri(args[0])}")
        else:
            raise FlockError(f"unknown or incomplete command {line.strip()!r}; {USAGE}")

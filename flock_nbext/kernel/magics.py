"""`%flock status | on | off | flush | experiment NAME | tracking-uri URI`, and `%flock_convert`."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from ..errors import FlockError

if TYPE_CHECKING:  # pragma: no cover
    from .extension import FlockExtension

USAGE = "usage: %flock status | on | off | flush | experiment NAME | tracking-uri URI"


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
        elif command == "flush" and not args:
            session = ext.tracker.session(create=False) if ext.tracker is not None else None
            if session is None or session.flush(timeout=120):
                print("flock: everything is logged")
            else:
                print("flock: the tracking store did not take everything yet; the rest waits in the spool")
        elif command == "experiment" and len(args) == 1:
            ext.update_settings(experiment=args[0])
            print(f"flock: experiment set to {args[0]!r}")
        elif command in ("tracking-uri", "tracking_uri") and len(args) == 1:
            from ..redaction import redact_uri

            ext.update_settings(tracking_uri=args[0])
            print(f"flock: tracking URI set to {redact_uri(args[0])}")
        else:
            raise FlockError(f"unknown or incomplete command {line.strip()!r}; {USAGE}")


CONVERT_USAGE = "usage: %flock_convert VAR [--batch-size N] [--threads T] [--tolerance X]"


def parse_convert_options(words: list[str]) -> dict:
    """--batch-size N --threads T --tolerance X, as keyword arguments of convert_tracked()."""
    options: dict = {}
    names = {"--batch-size": ("batch_size", int), "--threads": ("threads", int), "--tolerance": ("tolerance", float)}
    i = 0
    while i < len(words):
        word = words[i]
        key, _, inline = word.partition("=")
        if key not in names:
            raise FlockError(f"unknown option {word!r}; {CONVERT_USAGE}")
        if inline:
            raw = inline
            i += 1
        elif i + 1 < len(words):
            raw = words[i + 1]
            i += 2
        else:
            raise FlockError(f"{key} needs a value; {CONVERT_USAGE}")
        name, kind = names[key]
        try:
            options[name] = kind(raw)
        except ValueError:
            raise FlockError(f"{key} expects a number, got {raw!r}") from None
    return options


@magics_class
class ConvertMagics(Magics):
    """`%flock_convert VAR [options]` and `%%flock_convert [options]` (converts what the cell trains)."""

    def __init__(self, shell, extension: FlockExtension) -> None:
        super().__init__(shell)
        self.extension = extension

    @line_magic
    def flock_convert(self, line: str) -> None:
        """Convert a trained model to ONNX, log it to the model's run and print the report."""
        try:
            words = shlex.split(line)
            if not words or words[0].startswith("--"):
                raise FlockError(CONVERT_USAGE)
            self._convert(words[0], parse_convert_options(words[1:]))
        except ValueError as exc:
            print(f"flock: cannot parse {line!r}: {exc}; {CONVERT_USAGE}")
        except FlockError as exc:
            print(f"flock: {exc}")

    @cell_magic("flock_convert")
    def flock_convert_cell(self, line: str, cell: str) -> None:
        """Run the cell, then convert every model it trained."""
        try:
            options = parse_convert_options(shlex.split(line))
        except (ValueError, FlockError) as exc:
            print(f"flock: {exc}")
            return
        tracker = self.extension.tracker
        before = {model_id: id(record) for model_id, record in tracker.fits.items()}
        result = self.shell.run_cell(cell, store_history=False)
        if not result.success:
            return
        trained = [m for m, record in tracker.fits.items() if before.get(m) != id(record)]
        if not trained:
            print("flock: the cell trained no model that flock recognised; nothing to convert")
            return
        for model_id in trained:
            try:
                self._convert(model_id, options)
            except FlockError as exc:
                print(f"flock: {tracker.fits[model_id].var}: {exc}")

    def _convert(self, name: str, options: dict) -> None:
        from .converting import convert_tracked

        done = convert_tracked(self.extension, name, **options)
        label = done.var or done.model_id or name
        print(f"flock: {label} -> ONNX ({done.result.candidate}), "
              f"speedup batch-1 x{done.result.speedup.get('batch1')}, "
              f"batch-{done.result.speedup.get('batch_n')} x{done.result.speedup.get('batchN')}")
        print(done.result.report_table("text"))
        if done.logged:
            print(f"flock: logged as onnx_model to run {done.run_id or '(pending)'}")
        else:
            print("flock: not logged: flock did not see this model trained (run its training cell with flock on)")

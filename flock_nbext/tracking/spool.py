"""The on-disk spool: operations that could not reach the tracking store wait here, in order.

One JSON-lines file per session (`<spool_dir>/<session>.jsonl`): a header line naming the store by a
fingerprint (a hash: the URI itself may hold a password), then one operation per line. Operations are
already redacted when they are planned; model files they name live under `<spool_dir>/models/`.

A live session holds an exclusive lock on `<session>.lock`. A spool file whose lock nobody holds was
left by a session that ended while its store was down (or was killed at shutdown); the next session on
the same store adopts it and replays it before its own events.

Replay is in order and exactly once: every operation carries an id, and once the store has taken one
an acknowledgement line `{"ack": id}` is appended (with the run id a `start_run` created). A file
read back skips acknowledged operations and turns an acknowledged `start_run` into an `attach_run`,
so an operation that was both sent and spooled (the kernel's exit path spools what the recorder
thread is still sending: `recorder.Recorder.hand_over`) reaches the store once. An acknowledgement
is a small unsynced append: a killed process keeps it (the OS still writes it out); only a crash of
the machine between a store call and its acknowledgement can repeat that one operation.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so no adoption of other sessions' spools
    fcntl = None

Op = dict[str, Any]
VERSION = 2
READABLE = (1, 2)
"""Version 1 files (no ids, no acknowledgements) are still replayed."""
UNKNOWN_STORE = "mlflow-default"
"""Fingerprint of a spool written before the session resolved its store (MLflow's default store:
no URI set anywhere); sessions whose URI comes from MLflow's default adopt it."""


def store_fingerprint(tracking_uri: str) -> str:
    return hashlib.sha256(tracking_uri.encode()).hexdigest()[:16]


def store_names(uri: str, configured: str | None) -> set[str]:
    """Every fingerprint this store may have in a spool header: its resolved URI, the URI as
    configured (flock's setting, else MLFLOW_TRACKING_URI), and MLflow's default store when nothing
    names one (a spool the kernel's exit path wrote before the store was resolved)."""
    names = {store_fingerprint(uri)}
    configured = configured or os.environ.get("MLFLOW_TRACKING_URI")
    if configured:
        names.add(store_fingerprint(str(configured)))
        return names
    try:
        from mlflow.tracking._tracking_service.utils import is_tracking_uri_set

        if not is_tracking_uri_set():
            names.add(UNKNOWN_STORE)
    except Exception:  # another MLflow version: such early spools are then not adopted
        pass
    return names


def early_fingerprint(configured: str | None) -> str:
    """The store's fingerprint before the recorder resolved it, without importing mlflow (at exit
    the recorder thread may be in the middle of importing it)."""
    uri = configured
    mlflow = sys.modules.get("mlflow")
    if not uri and mlflow is not None and not getattr(getattr(mlflow, "__spec__", None), "_initializing", True):
        try:
            uri = mlflow.get_tracking_uri()  # mlflow is the user's, imported: they may have set one
        except Exception:
            uri = None
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI")
    return store_fingerprint(str(uri)) if uri else UNKNOWN_STORE


def ack_line(op: Op, run_id: str | None = None) -> dict[str, Any] | None:
    """The acknowledgement of a delivered operation (None for one without an id: nothing to skip)."""
    if "id" not in op:
        return None
    line: dict[str, Any] = {"ack": op["id"]}
    if run_id is not None and op.get("op") == "start_run":
        line["run_id"] = run_id
    return line


class Spool:
    """Pending operations of one session, mirrored to a JSON-lines file."""

    def __init__(self, directory: str | os.PathLike, session_id: str, fingerprint: str, *, lock: bool = True) -> None:
        self.directory = Path(directory)
        self.session_id = session_id
        self.fingerprint = fingerprint
        self.path = self.directory / f"{session_id}.jsonl"
        self._ops: list[Op] = []
        self._lock_fd: int | None = None
        if lock:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._lock_fd = _try_lock(self.directory / f"{session_id}.lock")

    def __len__(self) -> int:
        return len(self._ops)

    def __bool__(self) -> bool:
        return bool(self._ops)

    def peek(self, n: int) -> list[Op]:
        return self._ops[:n]

    def append(self, ops: list[Op]) -> None:
        """Queue operations behind the ones already waiting, and write them down."""
        if not ops:
            return
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        new_file = not self.path.exists()
        with open(self.path, "a", encoding="utf-8") as fh:
            if new_file:
                fh.write(json.dumps(self._header()) + "\n")
            for op in ops:
                fh.write(json.dumps(op, default=str) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self._ops.extend(ops)

    def ack(self, op: Op, run_id: str | None = None) -> None:
        """Note on disk that the store took `op` (a `start_run` with the run it created): replaying
        this file again skips it. Cheap: an append without fsync, done right after each store call."""
        line = ack_line(op, run_id)
        if line is None or not self.path.exists():
            return
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")

    def drop(self, n: int) -> None:
        """Forget the first n operations (they reached the store); rewrite or remove the file."""
        del self._ops[:n]
        if not self._ops:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            return
        tmp = self.path.with_suffix(".jsonl.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(self._header()) + "\n")
            for op in self._ops:
                fh.write(json.dumps(op, default=str) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def release(self) -> None:
        """Give up the session's lock (its file, if any, becomes adoptable by the next session)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
            if not self._ops:
                with contextlib.suppress(FileNotFoundError):
                    (self.directory / f"{self.session_id}.lock").unlink()

    def _header(self) -> dict[str, Any]:
        return {"flock_spool": VERSION, "store": self.fingerprint, "session": self.session_id}

    # -- adoption ------------------------------------------------------------------------------
    @classmethod
    def orphans(cls, directory: str | os.PathLike, fingerprint: str | Iterable[str], own_session: str) -> list[Spool]:
        """Spools left by ended sessions on the same store, locked for us, oldest first.

        `fingerprint`: the store's fingerprint, or several (the same store under the names it was
        configured by: the resolved URI, the configured text, MLflow's default).
        """
        fingerprints = {fingerprint} if isinstance(fingerprint, str) else set(fingerprint)
        directory = Path(directory)
        if not directory.is_dir() or fcntl is None:  # without locks we cannot tell a dead session
            return []
        found: list[Spool] = []
        for path in sorted(directory.glob("*.jsonl"), key=lambda p: p.stat().st_mtime):
            session = path.stem
            if session == own_session:
                continue
            fd = _try_lock(directory / f"{session}.lock")
            if fd is None:
                continue  # a live session owns it
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
                header = json.loads(lines[0]) if lines else {}
            except (OSError, ValueError):
                os.close(fd)
                continue
            if header.get("flock_spool") not in READABLE or header.get("store") not in fingerprints:
                os.close(fd)
                continue
            spool = cls(directory, session, header["store"], lock=False)
            spool._lock_fd = fd
            spool._ops = pending(lines[1:])
            found.append(spool)
        return found


def pending(lines: Iterable[str]) -> list[Op]:
    """The operations of a spool file's lines that the store has not acknowledged, in order.

    An acknowledged `start_run` becomes an `attach_run` to the run it created (later operations
    name that run by its local key); other acknowledged operations are left out.
    """
    ops: list[Op] = []
    acks: dict[str, dict[str, Any]] = {}
    for item in map(_parse, lines):
        if item is None:
            continue
        if "ack" in item:
            acks[str(item["ack"])] = item
        else:
            ops.append(item)
    out: list[Op] = []
    for op in ops:
        ack = acks.get(str(op.get("id"))) if "id" in op else None
        if ack is None:
            out.append(op)
        elif op["op"] == "start_run" and ack.get("run_id"):
            out.append({"op": "attach_run", "key": op["key"], "run_id": ack["run_id"], "id": op["id"]})
    return out


def _parse(line: str) -> dict[str, Any] | None:
    """One spooled operation or acknowledgement; a torn last line (crash while writing) is skipped."""
    try:
        item = json.loads(line)
    except ValueError:
        return None
    return item if isinstance(item, dict) and ("op" in item or "ack" in item) else None


def _try_lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    if fcntl is None:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd

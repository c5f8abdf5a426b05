"""The on-disk spool: operations that could not reach the tracking store wait here, in order.

One JSON-lines file per session (`<spool_dir>/<session>.jsonl`): a header line naming the store by a
fingerprint (a hash: the URI itself may hold a password), then one operation per line. Operations are
already redacted when they are planned; model files they name live under `<spool_dir>/models/`.

A live session holds an exclusive lock on `<session>.lock`. A spool file whose lock nobody holds was
left by a session that ended while its store was down; the next session on the same store adopts it
and replays it before its own events. Replay is in order and at-least-once: the file is rewritten
after every replayed chunk, so a crash in between repeats at most one chunk.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so no adoption of other sessions' spools
    fcntl = None

Op = dict[str, Any]
VERSION = 1


def store_fingerprint(tracking_uri: str) -> str:
    return hashlib.sha256(tracking_uri.encode()).hexdigest()[:16]


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
            self.directory.mkdir(parents=True, exist_ok=True)
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
        self.directory.mkdir(parents=True, exist_ok=True)
        new_file = not self.path.exists()
        with open(self.path, "a", encoding="utf-8") as fh:
            if new_file:
                fh.write(json.dumps(self._header()) + "\n")
            for op in ops:
                fh.write(json.dumps(op, default=str) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self._ops.extend(ops)

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
    def orphans(cls, directory: str | os.PathLike, fingerprint: str, own_session: str) -> list[Spool]:
        """Spools left by ended sessions on the same store, locked for us, oldest first."""
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
            if header.get("flock_spool") != VERSION or header.get("store") != fingerprint:
                os.close(fd)
                continue
            spool = cls(directory, session, fingerprint, lock=False)
            spool._lock_fd = fd
            spool._ops = [op for op in map(_parse, lines[1:]) if op is not None]
            found.append(spool)
        return found


def _parse(line: str) -> Op | None:
    """One spooled operation; a torn last line (crash while writing) is skipped."""
    try:
        op = json.loads(line)
    except ValueError:
        return None
    return op if isinstance(op, dict) and "op" in op else None


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

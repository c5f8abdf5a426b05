"""Files in a relational database: chunked, streamed both ways, atomic, safe under concurrent writers.

An upload writes its bytes as `pending` chunks of one blob (each chunk its own short transaction, so
a 500 MB file never sits whole in memory and other writers are not blocked), then one transaction
marks the blob `ready` and points the file's path at it, replacing any previous version. A crash
before that leaves only a pending blob, invisible to readers and removed by `cleanup_stale_uploads`.
A download streams the chunks of one blob in a single statement to a temporary file, checks size
and sha256, then renames it into place.

Every database failure is a DatabaseError naming the database with its password redacted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import itertools
import os
import stat
import time
import uuid
from collections.abc import Iterator
from typing import Any

from ..errors import DatabaseError
from ..redaction import driver_error_reason
from . import db_schema
from .db_engines import ENGINES
from .db_urls import DatabaseLocation, normalize_path, parse_location

CHUNK_SIZE = 4 * 1024 * 1024
CHUNKS_PER_COMMIT = 8  # one short write transaction per 32 MB: other writers get their turn
STALE_AFTER_S = float(os.environ.get("FLOCK_DB_STALE_UPLOAD_S", 3600))


@dataclasses.dataclass(frozen=True)
class StoredFile:
    path: str
    size: int
    sha256: str


@dataclasses.dataclass(frozen=True)
class Listing:
    """Direct children of a folder: files (with sizes) and sub-folder names."""

    files: list[StoredFile]
    folders: list[str]


def connect(uri: str, *, check_schema: bool = True) -> ArtifactStore:
    """The store behind an artifact location URI; checks (once per process) that its schema is current."""
    location = parse_location(uri)
    store = ArtifactStore(location)
    if check_schema:
        store.check_schema()
    return store


class ArtifactStore:
    """Read and write files under one database; paths here are full keys inside the database."""

    def __init__(self, location: DatabaseLocation) -> None:
        self.location = location
        self.display = location.display
        with self.errors("connect to"):
            self.engine, self._engine_state = ENGINES.get(location)
        self._tables = db_schema.build_metadata(db_schema.LATEST)
        self.blobs = self._tables.tables[db_schema.BLOBS]
        self.chunks = self._tables.tables[db_schema.CHUNKS]
        self.files = self._tables.tables[db_schema.FILES]
        self.sql = _statements(self._tables)
        # SQLite has one writer at a time whatever we do, so a file goes in one transaction there:
        # splitting it would only add commits, each one a WAL checkpoint that copies (and syncs)
        # the pages again. Readers are not blocked (WAL); other writers wait (busy_timeout 60 s).
        self.whole_file_per_transaction = location.dialect == "sqlite"

    # ---------------------------------------------------------------- errors and transactions
    @contextlib.contextmanager
    def errors(self, action: str) -> Iterator[None]:
        """Turn driver errors into one-line DatabaseErrors that name the database, never a password."""
        try:
            yield
        except DatabaseError:
            raise
        except ModuleNotFoundError as exc:
            raise DatabaseError(f"cannot {action} {self.display}: the driver module {exc.name!r} is not "
                                f"installed (pip install flock-nbext[db])") from None
        except Exception as exc:
            # OSError: a local database file that cannot be opened or written
            reason = driver_error_reason(exc, password=self.location.url.password, also=(OSError,))
            if reason is None:
                raise
            raise DatabaseError(f"cannot {action} {self.display}: {reason}") from None

    @contextlib.contextmanager
    def write(self) -> Iterator[Any]:
        """A short write transaction (BEGIN IMMEDIATE on SQLite)."""
        with self.engine.connect().execution_options(flock_write=True) as conn, conn.begin():
            yield conn

    def check_schema(self) -> None:
        if self._engine_state[0]:
            return
        with self.errors("open flock's artifact schema in"):
            db_schema.ensure_schema(self.engine, self.display)
        self._engine_state[0] = True

    # ---------------------------------------------------------------- writing
    def put(self, local_file: str, key: str, *, run_id: str | None = None, model_id: str | None = None,
            chunk_size: int = CHUNK_SIZE) -> StoredFile:
        """Upload `local_file` to `key`, atomically replacing any file there.

        A file of at most CHUNKS_PER_COMMIT chunks (any file on SQLite) goes in one transaction; a
        larger one is written as a pending blob over several transactions and published by a last one.
        """
        key = normalize_path(key)
        self.check_schema()
        self._maybe_cleanup()
        owners = {"run_id": run_id, "model_id": model_id}
        with open(local_file, "rb") as fh:  # a missing local file fails here, before any row exists
            info = os.fstat(fh.fileno())
            if self.whole_file_per_transaction or (
                    stat.S_ISREG(info.st_mode) and info.st_size <= chunk_size * CHUNKS_PER_COMMIT):
                with self.errors(f"write {key!r} to"):
                    attempts = itertools.count()
                    return self._retry_on_conflict(
                        lambda conn: self._put_small(conn, fh, key, chunk_size, owners, next(attempts)))
            blob_id = self._new_blob(key)
            try:
                stored = self._write_chunks(fh, blob_id, key, chunk_size)
                with self.errors(f"write {key!r} to"):
                    self._retry_on_conflict(lambda conn: self._publish_in(conn, blob_id, stored, owners))
                return stored
            except BaseException:
                with contextlib.suppress(Exception), self.write() as conn:
                    self._delete_blobs(conn, [blob_id])
                raise

    def _put_small(self, conn: Any, fh: Any, key: str, chunk_size: int, owners: dict, attempt: int) -> StoredFile:
        """The whole file in the caller's transaction (read again from the start after a conflict)."""
        if attempt:
            if not fh.seekable():
                raise DatabaseError(f"cannot retry the upload of {key!r} to {self.display}: its source is a stream")
            fh.seek(0)
        now = _now()
        blob_id = conn.execute(self.sql.insert_blob, {
            "state": "pending", "path": key, "created_at": now, "updated_at": now}).inserted_primary_key[0]
        digest, seq = _Digest(_size_of(fh)), 0
        while data := fh.read(chunk_size):
            digest.update(data)
            conn.execute(self.sql.insert_chunk, {"blob_id": blob_id, "seq": seq, "data": data})
            seq += 1
        stored = StoredFile(key, digest.size, digest.hexdigest())
        self._publish_in(conn, blob_id, stored, owners)
        return stored

    def _retry_on_conflict(self, body: Any) -> Any:
        """Run `body(conn)` in a write transaction; again when a concurrent writer published the same path."""
        import sqlalchemy.exc as sa_exc

        for attempt in range(8):
            try:
                with self.write() as conn:
                    return body(conn)
            except sa_exc.IntegrityError:
                if attempt == 7:
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    def _new_blob(self, key: str) -> int:
        now = _now()
        with self.errors(f"write {key!r} to"), self.write() as conn:
            return conn.execute(self.sql.insert_blob, {
                "state": "pending", "path": key, "created_at": now, "updated_at": now}).inserted_primary_key[0]

    def _write_chunks(self, fh: Any, blob_id: int, key: str, chunk_size: int) -> StoredFile:
        """Copy the file into chunk rows, one short transaction per CHUNKS_PER_COMMIT, one chunk in memory."""
        digest, seq, done = _Digest(), 0, False
        with self.errors(f"write {key!r} to"):
            while not done:
                with self.write() as conn:
                    if self.location.dialect == "postgresql":
                        # These commits need not wait for their WAL flush: PostgreSQL's WAL is one
                        # ordered stream, and the publishing transaction (see _publish_in) commits
                        # with the server's setting (synchronous by default), which flushes the WAL
                        # up to its own commit record and so every chunk written before it. A
                        # visible file is therefore as durable as before; a crash before the
                        # publish loses at most chunks of a pending blob, which no reader sees.
                        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                    for _ in range(CHUNKS_PER_COMMIT):
                        data = fh.read(chunk_size)
                        if not data:
                            done = True
                            break
                        digest.update(data)
                        conn.execute(self.sql.insert_chunk, {"blob_id": blob_id, "seq": seq, "data": data})
                        seq += 1
                        digest.wait()
                        del data
                    if not done:  # heartbeat: a long upload is not mistaken for a crashed one
                        conn.execute(self.blobs.update().where(self.blobs.c.id == blob_id).values(updated_at=_now()))
        return StoredFile(key, digest.size, digest.hexdigest())

    def _publish_in(self, conn: Any, blob_id: int, stored: StoredFile, owners: dict) -> None:
        """Make an upload visible, replacing the previous version of its path (inside the caller's transaction)."""
        key = path_key(stored.path)
        conn.execute(self.sql.update_blob, {
            "blob": blob_id, "state": "ready", "size": stored.size, "sha256": stored.sha256, "updated_at": _now()})
        old = [r[0] for r in conn.execute(self.sql.current_blob, {"key": key})]
        if old:
            # By blob id too: a version another writer published meanwhile is not ours to drop;
            # our insert below then collides with it and the transaction is retried.
            conn.execute(self.files.delete().where(self.files.c.path_key == key, self.files.c.blob_id.in_(old)))
            self._delete_blobs(conn, old)
        conn.execute(self.sql.insert_file, {
            "path_key": key, "parent_key": path_key(_parent(stored.path)), "path": stored.path, "blob_id": blob_id,
            "size": stored.size, "sha256": stored.sha256, "created_at": _now(), **owners})

    def _delete_blobs(self, conn: Any, blob_ids: list[int]) -> None:
        if blob_ids:
            conn.execute(self.chunks.delete().where(self.chunks.c.blob_id.in_(blob_ids)))
            conn.execute(self.blobs.delete().where(self.blobs.c.id.in_(blob_ids)))

    def _maybe_cleanup(self) -> None:
        """At most every 10 minutes per process and database: drop uploads a crash left pending."""
        if time.monotonic() - self._engine_state[1] > 600:
            self._engine_state[1] = time.monotonic()
            with contextlib.suppress(DatabaseError):
                self.cleanup_stale_uploads()

    def cleanup_stale_uploads(self, older_than_s: float = STALE_AFTER_S) -> int:
        """Delete uploads left pending (by a crash) for longer than `older_than_s`; returns how many."""
        import sqlalchemy as sa

        cutoff = _now() - dt.timedelta(seconds=older_than_s)
        with self.errors("clean stale uploads in"), self.write() as conn:
            stale = [r[0] for r in conn.execute(sa.select(self.blobs.c.id).where(
                self.blobs.c.state == "pending", self.blobs.c.updated_at <= cutoff))]
            self._delete_blobs(conn, stale)
        return len(stale)

    def delete(self, key: str) -> int:
        """Delete the file `key` or every file under the folder `key` ("" = everything); returns count."""
        import sqlalchemy as sa

        key = normalize_path(key, allow_empty=True)
        self.check_schema()
        with self.errors(f"delete {key!r} in"), self.write() as conn:
            rows = [(r.path_key, r.blob_id) for r in conn.execute(
                sa.select(self.files.c.path_key, self.files.c.blob_id, self.files.c.path)
                .where(self._under(key) | (self.files.c.path_key == path_key(key))))
                if r.path == key or _is_under(r.path, key)]
            for start in range(0, len(rows), 500):
                part = rows[start:start + 500]
                conn.execute(self.files.delete().where(self.files.c.path_key.in_([p for p, _ in part])))
                self._delete_blobs(conn, [b for _, b in part])
        return len(rows)

    # ---------------------------------------------------------------- reading
    def stat(self, key: str) -> StoredFile | None:
        import sqlalchemy as sa

        key = normalize_path(key, allow_empty=True)
        self.check_schema()
        with self.errors(f"read {key!r} from"), self.engine.connect() as conn:
            row = conn.execute(sa.select(self.files.c.size, self.files.c.sha256)
                               .where(self.files.c.path_key == path_key(key))).first()
        return None if row is None else StoredFile(key, int(row.size), row.sha256)

    def list(self, folder: str) -> Listing:
        """Direct children of `folder` ("" for the top of the database)."""
        import sqlalchemy as sa

        folder = normalize_path(folder, allow_empty=True)
        self.check_schema()
        direct_key = path_key(folder)
        with self.errors(f"list {folder!r} in"), self.engine.connect() as conn:
            rows = conn.execute(sa.select(self.files.c.path, self.files.c.size, self.files.c.sha256,
                                          self.files.c.parent_key)
                                .where((self.files.c.parent_key == direct_key) | self._under(folder))).all()
        prefix = f"{folder}/" if folder else ""
        files = [StoredFile(r.path, int(r.size), r.sha256) for r in rows
                 if r.parent_key == direct_key and _parent(r.path) == folder]
        folders = sorted({r.path[len(prefix):].split("/", 1)[0] for r in rows
                          if _is_under(r.path, folder) and "/" in r.path[len(prefix):]})
        return Listing(files=sorted(files, key=lambda f: f.path), folders=folders)

    def _under(self, folder: str) -> Any:
        if not folder:
            return self.files.c.path_key.isnot(None)
        escaped = folder.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("[", "\\[")
        return self.files.c.path.like(f"{escaped}/%", escape="\\")

    def get(self, key: str, local_path: str) -> StoredFile | None:
        """Stream the file `key` into `local_path` (a temporary file renamed into place); None if absent."""
        import sqlalchemy as sa

        key = normalize_path(key)
        self.check_schema()
        for attempt in range(3):
            tmp = f"{local_path}.part-{uuid.uuid4().hex[:8]}"
            try:
                with self.errors(f"read {key!r} from"), self.engine.connect() as conn:
                    row = conn.execute(sa.select(self.files.c.blob_id, self.files.c.size, self.files.c.sha256)
                                       .where(self.files.c.path_key == path_key(key))).first()
                    if row is None:
                        return None
                    stored = StoredFile(key, int(row.size), row.sha256)
                    ok = self._stream_to(conn, row.blob_id, stored, tmp)
                if ok:
                    os.replace(tmp, local_path)
                    return stored
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(tmp)
            if attempt < 2:  # replaced by another writer while we read: read the new version
                time.sleep(0.05)
        raise DatabaseError(f"artifact {key!r} in {self.display} kept changing while it was read")

    def _stream_to(self, conn: Any, blob_id: int, stored: StoredFile, tmp: str) -> bool:
        digest = _Digest(stored.size)
        with open(tmp, "wb") as out:  # chunks of megabytes bypass the write buffer
            for data in self._chunks_of(conn, blob_id):
                digest.update(data)
                out.write(data)
        return digest.size == stored.size and digest.hexdigest() == stored.sha256

    def _chunks_of(self, conn: Any, blob_id: int) -> Iterator[bytes]:
        """The chunks of a blob in order, one at a time, from one statement (one consistent snapshot)."""
        import sqlalchemy as sa

        if self.location.url.drivername == "postgresql+psycopg":
            # COPY ... TO STDOUT in binary streams the rows without a round trip per chunk (a named
            # cursor FETCHes each) and without the hex text encoding of bytea; psycopg holds one row
            # at a time. The blob id is an integer from our own table, never user text.
            raw = conn.connection.dbapi_connection
            with raw.cursor() as cur, cur.copy(
                    f"COPY (SELECT data FROM {db_schema.CHUNKS} WHERE blob_id = {int(blob_id)} "
                    "ORDER BY seq) TO STDOUT (FORMAT BINARY)") as copy:
                copy.set_types(["bytea"])
                for (data,) in copy.rows():
                    yield data
            return
        result = conn.execution_options(stream_results=True, yield_per=1).execute(
            sa.select(self.chunks.c.data).where(self.chunks.c.blob_id == blob_id).order_by(self.chunks.c.seq))
        for (data,) in result:
            yield data


@dataclasses.dataclass(frozen=True)
class _Statements:
    """The statements of the upload path, built once: building and cache-keying a statement per
    execute costs more Python time than the SQLite INSERT of a small file itself."""

    insert_blob: Any
    insert_chunk: Any
    update_blob: Any
    current_blob: Any
    insert_file: Any


@functools.cache
def _statements(tables: Any) -> _Statements:
    import sqlalchemy as sa

    blobs, chunks, files = (tables.tables[name] for name in (db_schema.BLOBS, db_schema.CHUNKS, db_schema.FILES))
    return _Statements(
        insert_blob=blobs.insert(),
        insert_chunk=chunks.insert(),
        update_blob=blobs.update().where(blobs.c.id == sa.bindparam("blob")),
        current_blob=sa.select(files.c.blob_id).where(files.c.path_key == sa.bindparam("key")).with_for_update(),
        insert_file=files.insert(),
    )


class _Digest:
    """sha256 of a stream of chunks, each chunk hashed on a worker thread while the caller moves it.

    hashlib releases the GIL for large buffers, as do the database drivers while they wait on the
    server and file writes; hashing chunk N alongside its INSERT (or its write to disk) takes the
    hash (about 1.7 ms per MB here) off the critical path. At most one chunk is in flight, so
    memory stays bounded by the chunk size.
    """

    def __init__(self, expected_size: int | None = None) -> None:
        self._hash = hashlib.sha256()
        self._pending: Any = None
        self.size = 0
        # One chunk has nothing to overlap with but a single write: measured, the thread hop then
        # costs more than it saves (SQLite 1 MB load 2.5 -> 5.7 ms), so small files hash inline.
        self._threaded = expected_size is None or expected_size > CHUNK_SIZE

    def update(self, data: bytes) -> None:
        """Start hashing `data` (after the previous chunk); the caller may then use `data` freely."""
        self.wait()
        self.size += len(data)
        if not self._threaded or len(data) < 256 * 1024:  # not worth a thread hop
            self._hash.update(data)
        else:
            self._pending = _hash_pool().submit(self._hash.update, data)

    def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def hexdigest(self) -> str:
        self.wait()
        return self._hash.hexdigest()


_POOL: list[Any] = []


def _hash_pool() -> Any:
    if not _POOL or _POOL[0][0] != os.getpid():  # a forked child gets its own threads
        from concurrent.futures import ThreadPoolExecutor

        _POOL[:] = [(os.getpid(), ThreadPoolExecutor(max_workers=4, thread_name_prefix="flock-sha256"))]
    return _POOL[0][1]


def _size_of(fh: Any) -> int | None:
    info = os.fstat(fh.fileno())
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def path_key(path: str) -> str:
    """Fixed-width key of a path: exact (case-sensitive under any collation) and indexable anywhere."""
    return hashlib.sha256(path.encode("utf-8")).hexdigest()


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _is_under(path: str, folder: str) -> bool:
    return not folder or path.startswith(folder + "/")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)

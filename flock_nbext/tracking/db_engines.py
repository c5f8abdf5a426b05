"""SQLAlchemy engines for the artifact store: one per database and process, tuned per dialect.

SQLite: WAL, 64 KiB pages for new files, busy timeout, and `BEGIN IMMEDIATE` for writers (two
deferred writers would deadlock on lock upgrade). psycopg: bytea parameters sent in binary.
`postgresql+pyodbc` URLs get flock's ODBC dialect registered first.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from .db_urls import DatabaseLocation


class _Engines:
    """One SQLAlchemy engine per database URL and process (MLflow makes many repository objects)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engines: dict[tuple[int, str], tuple[Any, list[Any]]] = {}

    def get(self, location: DatabaseLocation) -> tuple[Any, list[Any]]:
        """(engine, [schema checked?, monotonic time of the last stale-upload cleanup])."""
        key = (os.getpid(), location.url.render_as_string(hide_password=False))
        with self._lock:
            if key not in self._engines:
                self._engines[key] = (_create_engine(location), [False, -1e9])
            return self._engines[key]


ENGINES = _Engines()


def _create_engine(location: DatabaseLocation) -> Any:
    import sqlalchemy as sa

    if location.dialect == "sqlite":
        engine = sa.create_engine(location.url, connect_args={"timeout": 60, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_con: Any, _record: Any) -> None:
            dbapi_con.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            dbapi_con.execute("PRAGMA page_size=65536")  # only takes effect on a new, empty file: fewer overflow pages
            dbapi_con.execute("PRAGMA journal_mode=WAL")
            dbapi_con.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; fsync at checkpoints
            # A file is one transaction (db_store), so the WAL file grows to the largest upload and
            # stays that size for reuse. journal_size_limit would give the space back but, measured,
            # makes the next uploads pay for shrinking and regrowing it (100 MB: 256 -> 458 ms).
            dbapi_con.execute("PRAGMA busy_timeout=60000")

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers take the write lock up front: two deferred writers would deadlock on upgrade.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("flock_write")
                                 else "BEGIN")

        return engine
    if location.url.drivername == "postgresql+pyodbc":
        from . import db_odbc

        db_odbc.register()
    engine = sa.create_engine(location.url, pool_size=2, max_overflow=8, pool_pre_ping=False)
    if location.url.drivername == "postgresql+psycopg":

        @sa.event.listens_for(engine, "connect")
        def _binary_bytea(dbapi_con: Any, _record: Any) -> None:
            # Send chunks as binary bytea, not hex text twice their size.
            from psycopg.types.string import BytesBinaryDumper

            for kind in (bytes, bytearray, memoryview):
                dbapi_con.adapters.register_dumper(kind, BytesBinaryDumper)

    return engine

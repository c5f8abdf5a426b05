"""Describe a live SQL read: the query actually executed and the server/database it ran on.

Called by the hooks on the user's thread right after `cursor.execute(q)`, `conn.execute(text(q))` or
`pd.read_sql*(q, con)` returned. Works from the objects' public attributes (pyodbc `getinfo`,
sqlite3 `PRAGMA database_list`, psycopg `info`, SQLAlchemy `engine.url`); passwords are never read
into what it returns. Libraries are never imported here: an object is recognised by its type's module.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from ..redaction import redact


@dataclass(frozen=True)
class Connection:
    """Where a query ran: dialect, `server` (host[:port] or file) and database, all password-free."""

    dialect: str | None = None
    server: str | None = None
    database: str | None = None

    @property
    def label(self) -> str | None:
        """`server/database` as DatasetRecord.database wants it."""
        if self.server and self.database and self.database != self.server:
            return f"{self.server}/{self.database}"
        return self.server or self.database


_UNKNOWN = Connection()
_cache: weakref.WeakKeyDictionary[Any, Connection] = weakref.WeakKeyDictionary()


def _module(obj: Any) -> str:
    return type(obj).__module__ or ""


def query_text(query: Any) -> str | None:
    """The SQL text of a string, a SQLAlchemy TextClause/Select, or None."""
    if isinstance(query, str):
        return query
    if isinstance(query, bytes):
        return query.decode("utf-8", "replace")
    if _module(query).startswith("sqlalchemy"):
        try:
            return str(query)
        except Exception:  # a statement that cannot compile without a dialect
            return None
    return None


def describe(con: Any) -> Connection:
    """Connection details of a DB-API connection/cursor, SQLAlchemy engine/connection/session, or URL."""
    if con is None:
        return _UNKNOWN
    try:
        cached = _cache.get(con)
    except TypeError:  # not weak-referenceable (pyodbc objects): describe every time, it is cheap
        cached = None
    if cached is not None:
        return cached
    found = _describe(con)
    try:
        _cache[con] = found
    except TypeError:
        pass
    return found


def _describe(con: Any) -> Connection:
    module = _module(con)
    if isinstance(con, str):
        return _from_url(con)
    if module.startswith("sqlalchemy"):
        return _from_sqlalchemy(con)
    if module == "sqlite3":
        return _from_sqlite(con.connection if hasattr(con, "fetchone") else con)
    if module == "pyodbc":
        return _from_pyodbc(con.connection if hasattr(con, "fetchone") else con)
    if module.startswith(("psycopg", "psycopg2")):
        conn = con.connection if hasattr(con, "fetchone") else con
        info = getattr(conn, "info", None)
        if info is not None:
            host = getattr(info, "host", None)
            port = getattr(info, "port", None)
            server = f"{host}:{port}" if host and port else host
            return Connection("postgresql", server, getattr(info, "dbname", None))
    return _UNKNOWN


def _from_url(url: str) -> Connection:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return _UNKNOWN
    dialect = parts.scheme.split("+")[0] or None
    if dialect == "sqlite":
        path = url.split(":///", 1)[-1] if ":///" in url else None
        return Connection("sqlite", path or ":memory:", None)
    server = parts.hostname
    if server and parts.port:
        server = f"{server}:{parts.port}"
    return Connection(dialect, server, parts.path.lstrip("/") or None)


def _from_sqlalchemy(con: Any) -> Connection:
    bind = con
    if hasattr(con, "get_bind") and not hasattr(con, "url"):  # Session
        bind = con.get_bind()
    engine = getattr(bind, "engine", bind)
    url = getattr(engine, "url", None)
    if url is None:
        return _UNKNOWN
    dialect = url.get_backend_name()
    if dialect == "sqlite":
        return Connection("sqlite", url.database or ":memory:", None)
    server = url.host
    if server and url.port:
        server = f"{server}:{url.port}"
    if not server and url.query.get("odbc_connect"):  # mssql+pyodbc:///?odbc_connect=...
        return Connection(dialect, _odbc_value(url.query["odbc_connect"], "server"),
                          _odbc_value(url.query["odbc_connect"], "database"))
    return Connection(dialect, server, url.database)


def _odbc_value(conn_str: Any, key: str) -> str | None:
    text = conn_str[0] if isinstance(conn_str, tuple) else str(conn_str)
    for part in text.split(";"):
        name, _, value = part.partition("=")
        if name.strip().lower() == key:
            return value.strip().strip("{}") or None
    return None


def _from_sqlite(conn: Any) -> Connection:
    try:
        rows = conn.execute("PRAGMA database_list").fetchall()
    except Exception:  # closed connection, or another thread's
        return Connection("sqlite", None, None)
    main = next((row[2] for row in rows if row[1] == "main"), None)
    return Connection("sqlite", main or ":memory:", None)


def _from_pyodbc(conn: Any) -> Connection:
    import pyodbc  # the object is a pyodbc one, so pyodbc is already imported

    def info(code: int) -> str | None:
        try:
            value = conn.getinfo(code)
        except Exception:
            return None
        return str(value) if value else None

    dbms = (info(pyodbc.SQL_DBMS_NAME) or "").lower()
    dialect = {"postgresql": "postgresql", "microsoft sql server": "mssql", "sqlite": "sqlite",
               "mysql": "mysql"}.get(dbms, dbms or None)
    server = info(pyodbc.SQL_SERVER_NAME)
    database = info(pyodbc.SQL_DATABASE_NAME)
    return Connection(dialect, redact(server) if server else None, database)


def result_columns(result: Any) -> tuple[list[str], list[tuple[str, str]] | None, int | None]:
    """Columns, (column, dtype) schema and row count of what a read returned, as far as known cheaply."""
    columns = getattr(result, "columns", None)
    if columns is not None and hasattr(result, "dtypes"):  # a DataFrame
        names = [str(c) for c in columns]
        schema = [(str(c), str(t)) for c, t in zip(columns, result.dtypes, strict=False)]
        return names, schema, len(result)
    description = getattr(result, "description", None)  # a DB-API cursor after execute
    if description is None and hasattr(result, "cursor"):  # SQLAlchemy CursorResult
        try:
            return [str(k) for k in result.keys()], None, None
        except Exception:
            return [], None, None
    if description:
        return [str(d[0]) for d in description], None, None
    return [], None, None

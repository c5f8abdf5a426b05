"""Reading a query in batches and writing rows back, over SQLAlchemy or a plain DBAPI connection.

`open_sql(con)` takes a SQLAlchemy Engine, Connection or URL string, or a DBAPI connection from
sqlite3, psycopg, pyodbc or pymysql. Reads stream: server-side cursors for PostgreSQL
(`stream_results` / a named cursor) and MySQL, `fetchmany` for sqlite3 and pyodbc. Writes go in one
transaction committed at the end (so a failure leaves nothing half-written), through COPY on
psycopg and executemany elsewhere. With a plain pyodbc connection to SQL Server, enable MARS
(`MARS_Connection=yes`) or pass an Engine/URL, since reading and writing then share a connection;
with psqlODBC add `UseDeclareFetch=1` so the driver fetches in batches instead of the whole result.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from ..errors import DatabaseError
from ..redaction import driver_error_reason, redact, redact_uri


class SqlSession:
    """A reader and a writer on one database, with one write transaction."""

    dialect: Any
    display: str

    def stream(self, query: str, batch_size: int) -> tuple[list[str], Iterator[Sequence[Sequence[Any]]]]:
        raise NotImplementedError

    def table_columns(self, name: str) -> list[str] | None:
        raise NotImplementedError

    def execute_ddl(self, ddl: Any) -> None:
        raise NotImplementedError

    def insert(self, table: Any, columns: list[Any]) -> None:
        """Append rows given column by column (lists or numpy arrays of equal length)."""
        raise NotImplementedError

    def finish(self, ok: bool) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def errors(self, action: str) -> Iterator[None]:
        """Driver errors become one-line DatabaseErrors naming the database (password redacted)."""
        try:
            yield
        except DatabaseError:
            raise
        except Exception as exc:
            reason = driver_error_reason(exc, limit=400)
            if reason is None:
                raise
            raise DatabaseError(f"{action} failed on {self.display}: {reason}") from None


def open_sql(con: Any) -> SqlSession:
    """Wrap what the user passed as `con`."""
    import sqlalchemy as sa

    if isinstance(con, str):
        try:
            url = sa.engine.make_url(con)
        except Exception:
            raise DatabaseError(f"not a database URL: {redact_uri(con)!r}") from None
        if url.drivername == "postgresql+pyodbc":
            from ..tracking import db_odbc  # noqa: F401  (registers the dialect)

            db_odbc.register()
        return AlchemySession(sa.create_engine(url), owns_engine=True)
    if isinstance(con, sa.engine.Engine):
        return AlchemySession(con, owns_engine=False)
    if isinstance(con, sa.engine.Connection):
        return AlchemySession(con.engine, connection=con)
    return DbapiSession(con)


class AlchemySession(SqlSession):
    def __init__(self, engine: Any, *, owns_engine: bool = False, connection: Any = None) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.display = _display_url(engine.url)
        self._owns_engine = owns_engine
        self._given = connection
        with self.errors("connecting"):
            if connection is not None:
                self.reader = self.writer = connection
            else:
                self.reader = engine.connect()
                # SQLite locks the file for a second writer connection; one connection reads and writes.
                self.writer = self.reader if self.dialect.name == "sqlite" else engine.connect()
        self._tx = None if self.writer.in_transaction() and connection is not None else "begin"
        self._copy = _is_psycopg(self.dialect.driver)

    def stream(self, query: str, batch_size: int):
        import sqlalchemy as sa

        self._begin()
        if self._copy:  # psycopg: a binary server-side cursor gives plain tuples, no Row objects
            return _stream_cursor(self, self.reader.connection.dbapi_connection, query, batch_size, binary=True)
        with self.errors("running the query"):
            result = self.reader.execution_options(stream_results=True, yield_per=batch_size).execute(sa.text(query))
            columns = list(result.keys())

        def batches() -> Iterator[Sequence[Sequence[Any]]]:
            with self.errors("reading the query result"):
                yield from result.partitions(batch_size)

        return columns, batches()

    def _begin(self) -> None:
        if self._tx == "begin":
            self._tx = self.writer.begin() if not self.writer.in_transaction() else self.writer.get_transaction()

    def table_columns(self, name: str) -> list[str] | None:
        import sqlalchemy as sa

        self._begin()
        with self.errors(f"looking up table {name}"):
            inspector = sa.inspect(self.writer)
            if not inspector.has_table(name):
                return None
            return [c["name"] for c in inspector.get_columns(name)]

    def execute_ddl(self, ddl: Any) -> None:
        self._begin()
        with self.errors("creating the output table"):
            self.writer.execute(ddl)

    def insert(self, table: Any, columns: list[Any]) -> None:
        with self.errors(f"writing to {table.name}"):
            if self._copy:
                _copy_columns(self.writer.connection.dbapi_connection, table, columns, self.dialect)
            else:
                names = [c.name for c in table.columns]
                self.writer.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in _rows(columns)])

    def finish(self, ok: bool) -> None:
        try:
            if self._tx not in (None, "begin"):
                with self.errors("committing"):
                    (self._tx.commit if ok else self._tx.rollback)()
        finally:
            if self._given is None:
                for conn in {id(self.reader): self.reader, id(self.writer): self.writer}.values():
                    with contextlib.suppress(Exception):
                        conn.close()
            if self._owns_engine:
                self.engine.dispose()


class DbapiSession(SqlSession):
    """A plain DBAPI connection: one connection reads (a second cursor) and writes."""

    def __init__(self, con: Any) -> None:
        module = type(con).__module__.split(".")[0]
        if module not in ("sqlite3", "psycopg", "pyodbc", "pymysql"):
            raise DatabaseError(f"score_sql cannot use a {type(con).__module__}.{type(con).__name__}; pass a "
                                "SQLAlchemy Engine/URL or a sqlite3, psycopg, pyodbc or pymysql connection")
        self.con, self.module = con, module
        self.dialect = _dialect_of(con, module)
        self.display = _describe(con, module)
        self._cursor: Any = None
        if module == "sqlite3" and not con.in_transaction:
            con.execute("BEGIN")  # DDL included in the one transaction

    def stream(self, query: str, batch_size: int):
        return _stream_cursor(self, self.con, query, batch_size, binary=self.module == "psycopg")

    def table_columns(self, name: str) -> list[str] | None:
        with self.errors(f"looking up table {name}"):
            cur = self.con.cursor()
            if self.module == "sqlite3":
                cols = [r[1] for r in cur.execute(f"PRAGMA table_info({_quote(self.dialect, name)})")]
            elif self.module == "pyodbc":
                cols = [r.column_name for r in cur.columns(table=name)]
            elif self.module == "psycopg":
                cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                            "AND table_schema = ANY(current_schemas(false)) ORDER BY ordinal_position", (name,))
                cols = [r[0] for r in cur.fetchall()]
            else:
                cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                            "AND table_schema = DATABASE() ORDER BY ordinal_position", (name,))
                cols = [r[0] for r in cur.fetchall()]
            cur.close()
        return cols or None

    def execute_ddl(self, ddl: Any) -> None:
        with self.errors("creating the output table"):
            cur = self.con.cursor()
            cur.execute(str(ddl.compile(dialect=self.dialect)))
            cur.close()

    def insert(self, table: Any, columns: list[Any]) -> None:
        with self.errors(f"writing to {table.name}"):
            if self.module == "psycopg":
                _copy_columns(self.con, table, columns, self.dialect)
                return
            rows = _rows(columns)
            mark = "?" if self.module in ("sqlite3", "pyodbc") else "%s"
            cols = ", ".join(_quote(self.dialect, c.name) for c in table.columns)
            sql = (f"INSERT INTO {_quote(self.dialect, table.name)} ({cols}) "
                   f"VALUES ({', '.join([mark] * len(table.columns))})")
            cur = self.con.cursor()
            if self.module == "pyodbc" and self.dialect.name == "mssql":
                cur.fast_executemany = True
            cur.executemany(sql, rows)
            cur.close()

    def finish(self, ok: bool) -> None:
        if self._cursor is not None:
            with contextlib.suppress(Exception):
                self._cursor.close()
        with self.errors("committing"):
            (self.con.commit if ok else self.con.rollback)()


def _stream_cursor(session: SqlSession, con: Any, query: str, batch_size: int, *, binary: bool):
    """Run `query` on a DBAPI connection with a streaming cursor; (column names, batches of tuples)."""
    module = type(con).__module__.split(".")[0]
    with session.errors("running the query"):
        if module == "psycopg":
            import uuid

            cursor = con.cursor(name=f"flock_score_sql_{uuid.uuid4().hex[:8]}", binary=binary)
            cursor.itersize = batch_size
        elif module == "pymysql":
            import pymysql.cursors

            cursor = con.cursor(pymysql.cursors.SSCursor)
        else:
            cursor = con.cursor()
        cursor.execute(query)
        columns = [d[0] for d in cursor.description]
    session._cursor = cursor

    def batches() -> Iterator[Sequence[Sequence[Any]]]:
        with session.errors("reading the query result"):
            while rows := cursor.fetchmany(batch_size):
                yield rows

    return columns, batches()


def _rows(columns: list[Any]) -> list[tuple]:
    return list(zip(*[c.tolist() if hasattr(c, "tolist") else c for c in columns], strict=True))


_PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
_PGCOPY_TRAILER = b"\xff\xff"


def _copy_columns(dbapi_con: Any, table: Any, columns: list[Any], dialect: Any) -> None:
    """PostgreSQL COPY FROM STDIN through psycopg 3: far faster than INSERTs for many rows.

    Into a table score_sql created (BIGINT and DOUBLE PRECISION columns), numeric batches are packed
    whole into COPY's binary format with numpy; anything else goes row by row through write_row.
    """
    cols = ", ".join(_quote(dialect, c.name) for c in table.columns)
    target = f"COPY {_quote(dialect, table.name)} ({cols}) FROM STDIN"
    packed = _pack_binary(columns) if table.info.get("flock_created") else None
    with dbapi_con.cursor() as cur:
        if packed is not None:
            with cur.copy(f"{target} (FORMAT BINARY)") as copy:
                copy.write(packed)
            return
        with cur.copy(target) as copy:
            for row in _rows(columns):
                copy.write_row(row)


def _pack_binary(columns: list[Any]) -> bytes | None:
    import numpy as np

    arrays = []
    for col in columns:
        arr = col if isinstance(col, np.ndarray) else np.asarray(col)
        if arr.dtype.kind in "iu":
            arrays.append(arr.astype(">i8"))
        elif arr.dtype.kind == "f":
            arrays.append(arr.astype(">f8"))
        else:  # strings, booleans, None: the row-by-row path
            return None
    fields = [("n", ">i2")]
    for i in range(len(arrays)):
        fields += [(f"l{i}", ">i4"), (f"v{i}", arrays[i].dtype.str)]
    packed = np.empty(len(arrays[0]) if arrays else 0, dtype=np.dtype(fields))
    packed["n"] = len(arrays)
    for i, arr in enumerate(arrays):
        packed[f"l{i}"] = 8
        packed[f"v{i}"] = arr
    return _PGCOPY_HEADER + packed.tobytes() + _PGCOPY_TRAILER


def _is_psycopg(driver: str) -> bool:
    return driver == "psycopg"


def _quote(dialect: Any, name: str) -> str:
    return dialect.identifier_preparer.quote(name)


def _dialect_of(con: Any, module: str) -> Any:
    from sqlalchemy.dialects import mssql, mysql, postgresql, sqlite

    if module == "sqlite3":
        return sqlite.dialect()
    if module == "psycopg":
        return postgresql.dialect()
    if module == "pymysql":
        return mysql.dialect()
    import pyodbc

    name = str(con.getinfo(pyodbc.SQL_DBMS_NAME)).lower()
    if "postgres" in name:
        return postgresql.dialect()
    if "sqlite" in name:
        return sqlite.dialect()
    if "mysql" in name or "maria" in name:
        return mysql.dialect()
    return mssql.dialect()


def _display_url(url: Any) -> str:
    """driver://user@host:port/database?query with every password masked (ODBC strings decoded first)."""
    from ..redaction import MASK, is_secret_name

    auth = f"{url.username}{':***' if url.password else ''}@" if url.username else ""
    text = f"{url.drivername}://{auth}{url.host or ''}{f':{url.port}' if url.port else ''}/{url.database or ''}"
    if url.query:
        text += "?" + "&".join(f"{k}={MASK if is_secret_name(k) else redact(str(v))}" for k, v in url.query.items())
    return text


def _describe(con: Any, module: str) -> str:
    """Server and database of a DBAPI connection, never its password."""
    try:
        if module == "sqlite3":
            row = con.execute("PRAGMA database_list").fetchone()
            return f"sqlite:///{row[2] or ':memory:'}"
        if module == "psycopg":
            info = con.info
            return f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"
        if module == "pyodbc":
            import pyodbc

            return (f"{con.getinfo(pyodbc.SQL_DBMS_NAME)} {con.getinfo(pyodbc.SQL_SERVER_NAME)}/"
                    f"{con.getinfo(pyodbc.SQL_DATABASE_NAME)}")
        return f"mysql://{con.host}:{con.port}/{con.db.decode() if isinstance(con.db, bytes) else con.db}"
    except Exception:
        return f"a {module} connection"

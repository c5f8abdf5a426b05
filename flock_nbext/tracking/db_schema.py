"""The explicit, versioned schema of flock's database artifact store (SQLAlchemy Core, any dialect).

Tables (prefix `flock_`):
  schema_version   one row per component: its schema version and when it was last upgraded
  artifact_blobs   one row per upload: state `pending` until complete, then `ready`; size, sha256
  artifact_chunks  the bytes, `CHUNK_SIZE` per row, keyed by (blob_id, seq)
  artifact_files   the visible files: path -> blob, with size, sha256, run id, model id and time

`upgrade(engine)` applies the ordered `MIGRATIONS` up to `LATEST`; nothing calls `create_all` on
every connection. A store whose version is older than this flock's is refused with a DatabaseError
(run `python -m flock_nbext.tracking.db_schema upgrade URL`, or set FLOCK_DB_AUTO_UPGRADE=1); one
that is newer is refused too (upgrade flock). A fresh, empty database is created at `LATEST`.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from collections.abc import Callable
from typing import Any

from ..errors import DatabaseError

COMPONENT = "artifacts"
LATEST = 2
PATH_LENGTH = 1024
AUTO_UPGRADE_ENV = "FLOCK_DB_AUTO_UPGRADE"

VERSION_TABLE = "flock_schema_version"
BLOBS = "flock_artifact_blobs"
CHUNKS = "flock_artifact_chunks"
FILES = "flock_artifact_files"
TABLE_NAMES = (VERSION_TABLE, BLOBS, CHUNKS, FILES)


@functools.cache
def build_metadata(version: int = LATEST) -> Any:
    """The tables as they stand at schema `version` (each migration creates what it adds).

    Cached: the same Table objects every time, so SQLAlchemy's compiled-statement cache hits.
    """
    import sqlalchemy as sa
    from sqlalchemy.dialects import mssql, mysql

    md = sa.MetaData()
    blob = (sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
            .with_variant(mssql.VARBINARY("max"), "mssql"))
    sa.Table(
        VERSION_TABLE, md,
        sa.Column("component", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("upgraded_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        BLOBS, md,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("path", sa.Unicode(PATH_LENGTH), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        CHUNKS, md,
        sa.Column("blob_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("data", blob, nullable=False),
    )
    files_columns = [
        sa.Column("path_key", sa.String(64), primary_key=True),
        sa.Column("parent_key", sa.String(64), nullable=False, index=True),
        sa.Column("path", sa.Unicode(PATH_LENGTH), nullable=False),
        sa.Column("blob_id", sa.BigInteger, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    ]
    if version >= 2:
        files_columns.append(sa.Column("model_id", sa.String(64), nullable=True))
    sa.Table(FILES, md, *files_columns)
    if version >= 2:
        sa.Index("ix_flock_artifact_blobs_state", md.tables[BLOBS].c.state, md.tables[BLOBS].c.updated_at)
    return md


def _v1(conn: Any) -> None:
    md = build_metadata(1)
    for name in (BLOBS, CHUNKS, FILES):
        md.tables[name].create(conn)


def _v2(conn: Any) -> None:
    """Version 2: files know the MLflow logged model they belong to; stale uploads are found by index."""
    latest = build_metadata(2)
    add_column(conn, latest.tables[FILES].c.model_id)
    for index in latest.tables[BLOBS].indexes:
        index.create(conn)


MIGRATIONS: list[tuple[int, Callable[[Any], None]]] = [(1, _v1), (2, _v2)]


def add_column(conn: Any, column: Any) -> None:
    """ALTER TABLE ... ADD <column>: the spelling every supported dialect accepts (T-SQL has no COLUMN)."""
    conn.exec_driver_sql(add_column_ddl(column, conn.dialect))


def add_column_ddl(column: Any, dialect: Any) -> str:
    prep = dialect.identifier_preparer
    return (f"ALTER TABLE {prep.format_table(column.table)} ADD {prep.format_column(column)} "
            f"{column.type.compile(dialect=dialect)}{'' if column.nullable else ' NOT NULL'}")


def version_table() -> Any:
    return build_metadata().tables[VERSION_TABLE]


def read_version(conn: Any) -> int | None:
    """The stored schema version, or None when the database has no flock schema yet."""
    import sqlalchemy as sa

    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    table = version_table()
    row = conn.execute(sa.select(table.c.version).where(table.c.component == COMPONENT)).first()
    return None if row is None else int(row[0])


def upgrade(engine: Any, target: int = LATEST, *, display: str | None = None) -> int:
    """Bring the schema to `target` by applying each missing migration in order; returns the version.

    Safe to call from several processes at once: a loser of a creation race re-reads and carries on.
    """
    display = display or _display(engine)
    if target > LATEST or target < 1:
        raise DatabaseError(f"schema version {target} is unknown to this flock (latest {LATEST})")
    last_error: Exception | None = None
    for _attempt in range(3):
        try:
            with engine.begin() as conn:
                return _upgrade_in(conn, target, display)
        except DatabaseError:
            raise
        except Exception as exc:  # a concurrent creator won the race; look again
            last_error = exc
    raise DatabaseError(f"could not create or upgrade flock's artifact schema in {display}: "
                        f"{_one_line(last_error)}")


def _upgrade_in(conn: Any, target: int, display: str) -> int:
    import sqlalchemy as sa

    table = version_table()
    current = read_version(conn)
    if current is None:
        if not sa.inspect(conn).has_table(VERSION_TABLE):
            table.create(conn)
        conn.execute(table.insert().values(component=COMPONENT, version=0, upgraded_at=_now()))
        current = 0
    if current > LATEST:
        raise newer_error(display, current)
    for version, migrate in MIGRATIONS:
        if current < version <= target:
            migrate(conn)
            conn.execute(table.update().where(table.c.component == COMPONENT)
                         .values(version=version, upgraded_at=_now()))
            current = version
    return current


def ensure_schema(engine: Any, display: str) -> int:
    """Check (once per engine, by the caller) that the store is at `LATEST`; create a fresh one."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        version = read_version(conn)
        present = set(sa.inspect(conn).get_table_names()) & set(TABLE_NAMES)
    if version is None and present - {VERSION_TABLE}:
        raise DatabaseError(f"{display} has flock artifact tables but no {VERSION_TABLE} row; "
                            "the schema was damaged or made by hand")
    if version is None or (version < LATEST and os.environ.get(AUTO_UPGRADE_ENV, "") in ("1", "true", "yes")):
        version = upgrade(engine, display=display)
        present = set(TABLE_NAMES)
    if version > LATEST:
        raise newer_error(display, version)
    if version < LATEST:
        raise DatabaseError(
            f"flock artifact schema in {display} is version {version}, this flock needs {LATEST}; "
            f"upgrade it with `python -m flock_nbext.tracking.db_schema upgrade <url>` "
            f"or set {AUTO_UPGRADE_ENV}=1")
    missing = [name for name in TABLE_NAMES if name not in present]
    if missing:
        raise DatabaseError(f"{display} is missing flock table(s) {', '.join(missing)} "
                            f"although its schema says version {version}")
    return version


def newer_error(display: str, version: int) -> DatabaseError:
    return DatabaseError(f"flock artifact schema in {display} is version {version}, newer than this "
                         f"flock understands ({LATEST}); upgrade flock-nbext")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _display(engine: Any) -> str:
    return engine.url.render_as_string(hide_password=True)


def _one_line(exc: BaseException | None) -> str:
    from ..redaction import redact

    text = str(getattr(exc, "orig", None) or exc or "").strip().splitlines()
    return redact(text[0]) if text else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    """`python -m flock_nbext.tracking.db_schema upgrade URL`: create or upgrade the schema."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "upgrade":
        print("usage: python -m flock_nbext.tracking.db_schema upgrade <database artifact location>",
              file=sys.stderr)
        return 2
    from .db_store import connect

    store = connect(args[1], check_schema=False)
    version = upgrade(store.engine, display=store.location.display)
    print(f"{store.location.display}: flock artifact schema at version {version}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

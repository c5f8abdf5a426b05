"""Artifact locations in a database: `<sqlalchemy url>/<artifact root>` split, normalised and redacted.

A location names a database and a folder inside it, e.g. `postgresql://ml@db:5432/models/1/<run>/artifacts`
is database `models` on `db:5432` and the root `1/<run>/artifacts`. MLflow builds such URIs by joining
paths onto the experiment's location, which also turns `sqlite:////abs/file.db` into
`sqlite://abs/file.db/...` and `sqlite:///rel.db` into `sqlite:/rel.db/...`; `parse_location` reads all
of these forms back. For SQLite the database file is the first path prefix that is an existing file or
ends in `.db`, `.sqlite` or `.sqlite3`. For an ODBC DSN that names its own database, write `-` as the
database: `mssql+pyodbc://ml@MyDsn/-/experiments`.

Passwords should not be written into the location (MLflow stores it in the experiment): when the URL
has none, it comes from `FLOCK_DB_PASSWORD`, else from the driver's own mechanisms (`PGPASSWORD` and
`~/.pgpass` for libpq, the DSN's saved credentials or integrated security for ODBC, `MYSQL_PWD`).
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from ..errors import DatabaseError
from ..redaction import MASK, is_secret_name, redact, redact_uri

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import URL

# scheme as written -> SQLAlchemy driver name used to connect
DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg2": "postgresql+psycopg2",
    "postgresql+pyodbc": "postgresql+pyodbc",
    "mssql": "mssql+pyodbc",
    "mssql+pyodbc": "mssql+pyodbc",
    "mysql": "mysql+pymysql",
    "mysql+pymysql": "mysql+pymysql",
    "sqlite": "sqlite",
}
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
DSN_DATABASE = "-"
PASSWORD_ENV = "FLOCK_DB_PASSWORD"


@dataclasses.dataclass(frozen=True)
class DatabaseLocation:
    """Where artifacts live: a database (SQLAlchemy URL) and a root folder inside it."""

    url: URL
    """Connectable URL; may carry a password taken from the URI or the environment."""
    root: str
    """Folder inside the database, POSIX style, no leading or trailing slash ("" for the top)."""

    @property
    def display(self) -> str:
        """The database for messages and logs: driver, user, host, port, database; never a password."""
        url = self.url
        auth = f"{url.username}{':***' if url.password else ''}@" if url.username else ""
        host = f"{url.host or ''}{f':{url.port}' if url.port else ''}"
        text = f"{url.drivername}://{auth}{host}/{url.database or ''}"
        if url.query:  # values decoded first: an ODBC string's PWD=... is masked, not percent-hidden
            parts = [f"{k}={MASK if is_secret_name(k) else redact(str(v))}" for k, v in url.query.items()]
            text += "?" + "&".join(parts)
        return text

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    def child(self, path: str) -> str:
        """The full key of `path` (relative to the root) inside the database."""
        return join(self.root, path)


def scheme_of(uri: str) -> str:
    return uri.split(":", 1)[0].lower() if ":" in uri else ""


def parse_location(uri: str) -> DatabaseLocation:
    """Split an artifact URI into a connectable SQLAlchemy URL and the root folder inside it."""
    from sqlalchemy.engine import URL

    scheme = scheme_of(uri)
    if scheme not in DRIVERS:
        known = ", ".join(sorted(DRIVERS))
        raise DatabaseError(f"unsupported database artifact location {redact_uri(uri)!r}; schemes: {known}")
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        raise DatabaseError(f"malformed database artifact location {redact_uri(uri)!r}: {exc}") from None
    query = _query_dict(parts.query)
    if scheme == "sqlite":
        database, root = _split_sqlite(uri, parts.netloc, unquote(parts.path))
        url = URL.create("sqlite", database=database, query=query)
        return DatabaseLocation(url=url, root=root)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if not segments:
        raise DatabaseError(f"database artifact location {redact_uri(uri)!r} names no database "
                            f"(write {DSN_DATABASE!r} for the database of an ODBC DSN)")
    database = None if segments[0] == DSN_DATABASE else segments[0]
    root = normalize_path("/".join(segments[1:]), allow_empty=True)
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is None:
        password = _password_from_environment(DRIVERS[scheme])
    url = URL.create(_available_driver(DRIVERS[scheme]), username=username, password=password, host=_host(parts),
                     port=port, database=database, query=query)
    return DatabaseLocation(url=url, root=root)


def location_uri(url: str | URL, root: str = "") -> str:
    """An artifact location for `url` + `root` without its password (what to give MLflow)."""
    from sqlalchemy.engine import URL, make_url

    url = make_url(url)
    text = URL.create(url.drivername, username=url.username, host=url.host, port=url.port,
                      database=url.database or DSN_DATABASE).render_as_string(hide_password=False)
    root = normalize_path(root, allow_empty=True)
    text = f"{text}/{root}" if root else text
    query = "&".join(f"{k}={v}" for k, v in url.query.items() if isinstance(v, str))
    return f"{text}?{query}" if query else text


def _host(parts) -> str | None:
    """The host as written (urlsplit lower-cases it, but ODBC DSN names keep their case)."""
    hostport = parts.netloc.rpartition("@")[2]
    if hostport.startswith("["):
        return parts.hostname
    return unquote(hostport.split(":", 1)[0]) or None


def _query_dict(query: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(query, keep_blank_values=True))


def _split_sqlite(uri: str, netloc: str, path: str) -> tuple[str, str]:
    """(database file, root) for the SQLite forms written by people and produced by MLflow's joins."""
    body = uri.split(":", 1)[1].split("?", 1)[0]
    if netloc:  # sqlite://tmp/x.db/... : MLflow ate one slash of sqlite:////tmp/x.db
        full, absolute = f"/{netloc}{path}", True
    elif body.startswith("////"):
        full, absolute = path, True  # urlsplit kept the double slash of the absolute path
    elif body.startswith("///"):
        full, absolute = path[1:], False  # sqlite:///rel.db -> rel.db (relative, SQLAlchemy's rule)
    elif body.startswith("/"):
        full, absolute = path[1:], False  # sqlite:/rel.db/... : MLflow's join of sqlite:///rel.db
    else:
        raise DatabaseError(f"malformed SQLite artifact location {uri!r}")
    segments = [s for s in full.split("/") if s]
    if not segments or full in (":memory:",):
        raise DatabaseError(f"SQLite artifact location {uri!r} names no database file")
    prefix = "/" if absolute else ""
    for i in range(1, len(segments) + 1):
        candidate = prefix + "/".join(segments[:i])
        if os.path.isfile(candidate) or segments[i - 1].lower().endswith(SQLITE_SUFFIXES):
            return candidate, normalize_path("/".join(segments[i:]), allow_empty=True)
    return prefix + "/".join(segments), ""


def _available_driver(driver: str) -> str:
    """psycopg2 locations run on psycopg 3 when only that is installed (same server, same SQL)."""
    from importlib.util import find_spec

    if driver == "postgresql+psycopg2" and find_spec("psycopg2") is None and find_spec("psycopg"):
        return "postgresql+psycopg"
    return driver


def _password_from_environment(driver: str) -> str | None:
    """FLOCK_DB_PASSWORD first; for ODBC to PostgreSQL also PGPASSWORD (libpq drivers read it alone)."""
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password
    if driver == "postgresql+pyodbc":
        return os.environ.get("PGPASSWORD") or None
    if driver.startswith("mysql"):
        return os.environ.get("MYSQL_PWD") or None
    return None


def normalize_path(path: str | None, *, allow_empty: bool = False) -> str:
    """A safe relative POSIX path: `..`, absolute paths, NUL and empty names are refused."""
    if path is None or path in ("", "."):
        if allow_empty:
            return ""
        raise DatabaseError("an artifact path is empty")
    if "\x00" in path:
        raise DatabaseError(f"artifact path {path!r} contains a NUL character")
    text = path.replace("\\", "/") if os.sep == "\\" else path
    if text.startswith("/") or (len(text) > 1 and text[1] == ":" and text[0].isalpha() and os.sep == "\\"):
        raise DatabaseError(f"artifact path {path!r} is absolute; give a path relative to the artifact root")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise DatabaseError(f"artifact path {path!r} contains '..'; paths must stay inside the artifact root")
    if not parts and not allow_empty:
        raise DatabaseError(f"artifact path {path!r} names no file")
    return "/".join(parts)


def join(*paths: str) -> str:
    """Join normalised relative paths, skipping empty ones."""
    return posixpath.join(*[p for p in paths if p]) if any(paths) else ""


def parent_of(path: str) -> str:
    return posixpath.dirname(path)

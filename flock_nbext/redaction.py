"""Remove secrets (passwords, tokens, keys) from anything before it is logged, spooled or shown.

Pure and cheap: used on connection strings, URIs, SQL text, params and error messages.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

# user:password@ in any URI-like string (sqlalchemy URLs, http basic auth, ...)
_URI_PASSWORD = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@")
# key=value pairs of ODBC/libpq/JDBC strings and query strings: PWD=..., password=..., token=...
_SECRET_KEYS = (
    r"pwd|password|passwd|pass|secret|token|access[_-]?token|api[_-]?key|apikey|key|"
    r"sig|signature|client[_-]?secret|sas[_-]?token|accountkey|sharedaccesskey|auth"
)
_KV_SECRET = re.compile(
    rf"(?P<key>\b(?:{_SECRET_KEYS}))(?P<sep>\s*=\s*)(?P<val>\{{[^}}]*\}}|'[^']*'|\"[^\"]*\"|[^;&\s,)]+)",
    re.IGNORECASE,
)
_SECRET_NAME = re.compile(rf"(?:^|[_\-.])(?:{_SECRET_KEYS})(?:$|[_\-.])", re.IGNORECASE)
# Bearer tokens and well-known token shapes
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/\-]+=*")


def redact(text: str) -> str:
    """Return `text` with every password, token or key value replaced by ***."""
    if not text:
        return text
    out = _URI_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    out = _KV_SECRET.sub(lambda m: f"{m['key']}{m['sep']}{MASK}", out)
    return _BEARER.sub(lambda m: f"{m.group(1)}{MASK}", out)


def redact_uri(uri: str) -> str:
    """A URI with its password (and secret query parameters) masked; other parts kept exact."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return redact(uri)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        if ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:{MASK}@{host}"
    query = _KV_SECRET.sub(lambda m: f"{m['key']}{m['sep']}{MASK}", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def is_secret_name(name: str) -> bool:
    """True for names such as `password`, `db_pwd`, `api_key`, `AUTH_TOKEN`."""
    return bool(_SECRET_NAME.search(name))


def redact_value(name: str, value: Any) -> Any:
    """Mask a named value (param, env var, kwarg) when its name says it is a secret."""
    if is_secret_name(name):
        return MASK
    if isinstance(value, str):
        return redact(value)
    return value


DRIVER_MODULES = frozenset({"sqlalchemy", "sqlite3", "psycopg", "psycopg2", "pyodbc", "pymysql"})
"""Top-level modules whose exceptions are a database's answer (not a bug of ours)."""


def driver_error_reason(exc: BaseException, *, password: str | None = None, limit: int = 500,
                        also: tuple[type[BaseException], ...] = ()) -> str | None:
    """The first line of a database driver's error (or of one of the `also` types), redacted; None
    when `exc` is neither.

    SQLAlchemy wraps the driver's exception (`.orig`): its message is the useful one. A password
    the caller knows is masked even where it does not look like one (inside an ODBC message).
    """
    if type(exc).__module__.split(".")[0] not in DRIVER_MODULES and not isinstance(exc, also):
        return None
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    text = lines[0] if lines else type(orig).__name__
    if password:
        text = text.replace(str(password), "***")
    return redact(text)[:limit]


"""`postgresql+pyodbc`: PostgreSQL through ODBC, so the pyodbc route that SQL Server takes runs for real here.

SQL Server cannot run on these machines, but Debian's PostgreSQL ODBC driver ("PostgreSQL Unicode")
can: this dialect pairs SQLAlchemy's PostgreSQL SQL with its pyodbc connector (the same connection-
string building as `mssql+pyodbc`: `?driver=`, `?odbc_connect=`, or a DSN as the host), so the store's
ODBC path (driver names, DSNs, binary chunks through pyodbc) is exercised against a real server.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.connectors.pyodbc import PyODBCConnector
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.base import PGDialect


class PGDialect_pyodbc(PyODBCConnector, PGDialect):
    """PostgreSQL SQL over pyodbc (imported only when a `postgresql+pyodbc` URL is used)."""

    supports_statement_cache = True
    pyodbc_driver_name = "PostgreSQL Unicode"

    def create_connect_args(self, url: Any) -> Any:
        (conn_str,), kwargs = super().create_connect_args(url)
        # The connector writes SQL Server's "Server=host,port"; psqlODBC wants Port= apart.
        conn_str = re.sub(r"Server=([^;,]*),(\d+)", r"Server=\1;Port=\2", conn_str)
        conn_str = conn_str.replace(";Trusted_Connection=Yes", "")
        return (conn_str,), kwargs

    def _get_server_version_info(self, connection: Any) -> Any:
        return PGDialect._get_server_version_info(self, connection)


def register() -> None:
    """Make `postgresql+pyodbc://` URLs resolve to this dialect (idempotent)."""
    registry.register("postgresql.pyodbc", __name__, "PGDialect_pyodbc")

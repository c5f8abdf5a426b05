"""Artifact locations: the URI forms people write and the ones MLflow's path joins produce."""

from __future__ import annotations

import pytest
from mlflow.utils.uri import append_to_uri_path

from flock_nbext.errors import DatabaseError
from flock_nbext.tracking.db_urls import location_uri, normalize_path, parse_location


@pytest.mark.parametrize("written", ["sqlite:////data/ml/art.db", "sqlite:////data/ml/art.sqlite3"])
def test_absolute_sqlite_survives_mlflow_joins(written):
    joined = append_to_uri_path(written, "1", "0123456789abcdef0123456789abcdef", "artifacts")
    assert joined.startswith("sqlite://data/")  # MLflow's join eats a slash
    twice = append_to_uri_path(joined, "model")
    for uri, root in [(written, ""), (joined, "1/0123456789abcdef0123456789abcdef/artifacts"),
                      (twice, "1/0123456789abcdef0123456789abcdef/artifacts/model")]:
        loc = parse_location(uri)
        assert loc.url.database == written.split("sqlite:///", 1)[1]
        assert loc.root == root


def test_relative_sqlite_survives_mlflow_joins():
    joined = append_to_uri_path("sqlite:///art.db", "exp", "artifacts")
    assert joined == "sqlite:/art.db/exp/artifacts"
    loc = parse_location(joined)
    assert (loc.url.database, loc.root) == ("art.db", "exp/artifacts")


def test_sqlite_existing_file_without_suffix(tmp_path):
    store = tmp_path / "store"
    store.write_bytes(b"")
    loc = parse_location(f"sqlite:///{store}/1/r/artifacts")
    assert (loc.url.database, loc.root) == (str(store), "1/r/artifacts")


def test_server_location_database_root_and_query():
    uri = "postgresql://ml@db.example:5433/models?sslmode=require"
    joined = append_to_uri_path(uri, "7", "models", "m-" + "a" * 32, "artifacts")
    loc = parse_location(joined)
    assert loc.url.drivername == "postgresql+psycopg"
    assert (loc.url.host, loc.url.port, loc.url.database, loc.url.username) == ("db.example", 5433, "models", "ml")
    assert loc.url.query == {"sslmode": "require"}
    assert loc.root == f"7/models/m-{'a' * 32}/artifacts"


def test_dsn_placeholder_and_mssql_driver():
    loc = parse_location("mssql+pyodbc://ml@ProdDsn/-/experiments")
    assert (loc.url.drivername, loc.url.host, loc.url.database, loc.root) == ("mssql+pyodbc", "ProdDsn", None,
                                                                             "experiments")
    assert parse_location("mssql://ml@h/db").url.drivername == "mssql+pyodbc"


def test_password_from_environment_never_displayed(monkeypatch):
    monkeypatch.setenv("FLOCK_DB_PASSWORD", "hunter2")
    loc = parse_location("postgresql://ml@db/models/x")
    assert loc.url.password == "hunter2"
    assert "hunter2" not in loc.display and "ml" in loc.display and "db" in loc.display


def test_password_in_uri_is_redacted_in_display_and_dropped_by_location_uri():
    loc = parse_location("postgresql+psycopg://ml:hunter2@db:5432/models/x?password=hunter2")
    assert "hunter2" not in loc.display
    assert location_uri("postgresql+psycopg://ml:hunter2@db:5432/models", "exp") == \
        "postgresql+psycopg://ml@db:5432/models/exp"


@pytest.mark.parametrize("bad", ["../x", "a/../../b", "/etc/passwd", "a\x00b"])
def test_escaping_paths_are_refused(bad):
    with pytest.raises(DatabaseError, match="artifact path"):
        normalize_path(bad)


def test_paths_with_quotes_spaces_unicode_are_kept():
    assert normalize_path("dir x/it's \"q\" — ü.txt") == "dir x/it's \"q\" — ü.txt"
    assert normalize_path("./a//b/") == "a/b"


@pytest.mark.parametrize("bad", ["oracle://u@h/db", "postgresql://u@h", "sqlite://"])
def test_unsupported_or_incomplete_locations(bad):
    with pytest.raises(DatabaseError):
        parse_location(bad)


def test_odbc_connect_password_is_masked_in_display():
    from urllib.parse import quote_plus

    odbc = "DRIVER={ODBC Driver 18 for SQL Server};SERVER=sql.corp;UID=ml;PWD=Sup3rSecret;"
    loc = parse_location(f"mssql+pyodbc://@odbc/-/runs?odbc_connect={quote_plus(odbc)}&password=x2")
    assert "Sup3rSecret" not in loc.display and "x2" not in loc.display
    assert "SERVER=sql.corp" in loc.display and "PWD=***" in loc.display

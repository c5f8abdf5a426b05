"""No SQL Server or MySQL runs here: every statement the store executes is compiled for their dialects."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql, postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

from flock_nbext.tracking import db_schema
from flock_nbext.tracking.db_artifacts import DatabaseArtifactRepository

ROOT = "1/0123456789abcdef0123456789abcdef/artifacts"


def _ddl(dialect) -> str:
    md = db_schema.build_metadata()
    parts = [str(CreateTable(t).compile(dialect=dialect)) for t in md.sorted_tables]
    parts += [str(CreateIndex(i).compile(dialect=dialect)) for t in md.sorted_tables for i in t.indexes]
    return "\n".join(parts)


def test_mssql_ddl_uses_varbinary_max_and_nvarchar():
    ddl = _ddl(mssql.dialect())
    assert "data VARBINARY(max) NOT NULL" in ddl
    assert "path NVARCHAR(1024) NOT NULL" in ddl
    assert "id BIGINT NOT NULL IDENTITY" in ddl
    assert "PRIMARY KEY (blob_id, seq)" in ddl


def test_mysql_and_postgresql_blob_types():
    assert "data LONGBLOB NOT NULL" in _ddl(mysql.dialect())
    assert "data BYTEA NOT NULL" in _ddl(postgresql.dialect())


def test_migration_to_version_2_spells_add_for_every_dialect():
    column = db_schema.build_metadata().tables["flock_artifact_files"].c.model_id
    assert db_schema.add_column_ddl(column, mssql.dialect()) == \
        "ALTER TABLE flock_artifact_files ADD model_id VARCHAR(64)"
    assert db_schema.add_column_ddl(column, mysql.dialect()) == \
        "ALTER TABLE flock_artifact_files ADD model_id VARCHAR(64)"


@pytest.fixture
def executed_statements(tmp_path):
    """Every Core statement and DDL element a full store workflow runs (on SQLite, for real)."""
    captured: list = []
    location = f"sqlite:///{tmp_path / 'cap.db'}/{ROOT}"
    repo = DatabaseArtifactRepository(location)

    @sa.event.listens_for(repo.store.engine, "before_execute")
    def _capture(conn, clause, multiparams, params, execution_options):
        captured.append(clause)

    db_schema.upgrade(repo.store.engine, target=1)
    db_schema.upgrade(repo.store.engine)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a file.txt").write_bytes(b"x" * 10)
    repo.log_artifacts(str(tmp_path / "d"), "sub")
    repo.log_artifact(str(tmp_path / "d" / "a file.txt"), "sub")
    repo.store.whole_file_per_transaction = False  # the pending-blob path PostgreSQL and others take
    (tmp_path / "big.bin").write_bytes(b"y" * 1000)
    repo.store.put(str(tmp_path / "big.bin"), repo.store.location.child("sub/big.bin"), chunk_size=10)
    repo.list_artifacts()
    repo.list_artifacts("sub")
    repo.download_artifacts("sub", str(tmp_path))
    repo.store.cleanup_stale_uploads(older_than_s=0)
    repo.delete_artifacts("sub")
    sa.event.remove(repo.store.engine, "before_execute", _capture)
    return captured


@pytest.mark.parametrize("dialect", [mssql.dialect(), mysql.dialect()], ids=["mssql", "mysql"])
def test_every_executed_statement_compiles(executed_statements, dialect):
    kinds = set()
    for clause in executed_statements:
        compiled = str(clause.compile(dialect=dialect))
        assert compiled.strip()
        kinds.add(compiled.split()[0].upper())
    assert {"CREATE", "INSERT", "SELECT", "UPDATE", "DELETE"} <= kinds
    assert len(executed_statements) > 20

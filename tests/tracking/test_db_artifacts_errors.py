"""Bad input for the database artifact store: each a one-line DatabaseError naming the database, no password."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from flock_nbext.errors import DatabaseError
from flock_nbext.tracking import db_schema
from flock_nbext.tracking.db_artifacts import DatabaseArtifactRepository
from flock_nbext.tracking.db_store import connect
from tests.fixtures.postgres import free_port

ROOT = "exp/0123456789abcdef0123456789abcdef/artifacts"


def _assert_clear(err: pytest.ExceptionInfo, *must: str, secret: str | None = None) -> None:
    text = str(err.value)
    assert "\n" not in text.strip()
    for part in must:
        assert part in text, text
    if secret:
        assert secret not in text and secret not in repr(err.value.__cause__ or "")


def _pw_location(server, database: str, user: str = "flock_pw", password: str | None = None) -> str:
    auth = f"{user}:{password}" if password else user
    return f"postgresql://{auth}@127.0.0.1:{server.port}/{database}/{ROOT}"


@pytest.fixture
def pg_store_owned_by_password_role(postgres_server, postgres_database):
    postgres_server.execute(f'ALTER DATABASE "{postgres_database}" OWNER TO flock_pw')
    postgres_server.execute("GRANT ALL ON SCHEMA public TO flock_pw", database=postgres_database)
    return postgres_database


def test_wrong_password_from_environment(postgres_server, pg_store_owned_by_password_role, monkeypatch, tmp_path):
    monkeypatch.setenv("FLOCK_DB_PASSWORD", "not-the-password")
    repo = DatabaseArtifactRepository(_pw_location(postgres_server, pg_store_owned_by_password_role))
    with pytest.raises(DatabaseError) as err:
        repo.list_artifacts()
    _assert_clear(err, "flock_pw", f"127.0.0.1:{postgres_server.port}", pg_store_owned_by_password_role,
                  "password authentication failed", secret="not-the-password")


def test_wrong_password_in_uri_is_redacted(postgres_server, pg_store_owned_by_password_role):
    with pytest.warns(UserWarning, match="carries a password"):
        repo = DatabaseArtifactRepository(_pw_location(postgres_server, pg_store_owned_by_password_role,
                                                       password="Wr0ngSecret"))
    assert "Wr0ngSecret" not in repr(repo)
    with pytest.raises(DatabaseError) as err:
        repo.list_artifacts()
    _assert_clear(err, "flock_pw", pg_store_owned_by_password_role, secret="Wr0ngSecret")


@pytest.mark.parametrize("variable", ["FLOCK_DB_PASSWORD", "PGPASSWORD"])
def test_password_from_environment_works(postgres_server, pg_store_owned_by_password_role, monkeypatch, tmp_path,
                                         variable):
    monkeypatch.setenv(variable, postgres_server.password)
    repo = DatabaseArtifactRepository(_pw_location(postgres_server, pg_store_owned_by_password_role))
    (tmp_path / "f.txt").write_text("ok")
    repo.log_artifact(str(tmp_path / "f.txt"))
    assert [f.path for f in repo.list_artifacts()] == ["f.txt"]


def test_unreachable_database():
    port = free_port()
    repo = DatabaseArtifactRepository(f"postgresql://ml@127.0.0.1:{port}/nowhere/{ROOT}")
    with pytest.raises(DatabaseError) as err:
        repo.list_artifacts()
    _assert_clear(err, f"127.0.0.1:{port}/nowhere", "cannot")


def test_sqlite_in_missing_folder(tmp_path):
    repo = DatabaseArtifactRepository(f"sqlite:///{tmp_path}/no/such/dir/a.db/{ROOT}")
    with pytest.raises(DatabaseError) as err:
        repo.list_artifacts()
    _assert_clear(err, f"{tmp_path}/no/such/dir/a.db", "unable to open database file")


def test_read_only_user_reads_but_cannot_write(postgres_server, postgres_database, monkeypatch, tmp_path):
    owner = f"{postgres_server.url(postgres_database)}/{ROOT}"
    (tmp_path / "f.txt").write_text("v1")
    DatabaseArtifactRepository(owner).log_artifact(str(tmp_path / "f.txt"))
    postgres_server.execute("DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'flock_pw_ro') THEN "
                            "CREATE ROLE flock_pw_ro LOGIN PASSWORD 's3cret-pw'; END IF; END$$")
    postgres_server.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO flock_pw_ro", database=postgres_database)
    monkeypatch.setenv("FLOCK_DB_PASSWORD", postgres_server.password)
    reader = DatabaseArtifactRepository(_pw_location(postgres_server, postgres_database, user="flock_pw_ro"))
    assert [f.path for f in reader.list_artifacts()] == ["f.txt"]
    (tmp_path / "f.txt").write_text("v2 from the reader")
    with pytest.raises(DatabaseError) as err:
        reader.log_artifact(str(tmp_path / "f.txt"))
    _assert_clear(err, "flock_pw_ro", postgres_database, "permission denied", secret=postgres_server.password)
    with pytest.raises(DatabaseError, match="permission denied"):
        reader.delete_artifacts("f.txt")
    out = reader.download_artifacts("f.txt")
    assert open(out).read() == "v1"  # nothing half-written
    with connect(owner).engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM flock_artifact_blobs")).scalar() == 1


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_location(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}/{ROOT}"
    return f"{request.getfixturevalue('postgres_url')}/{ROOT}"


def _engine(location: str):
    from flock_nbext.tracking.db_urls import parse_location

    return sa.create_engine(parse_location(location).url)


def test_older_schema_is_refused_then_upgraded(fresh_location, tmp_path, monkeypatch):
    engine = _engine(fresh_location)
    assert db_schema.upgrade(engine, target=1) == 1
    with pytest.raises(DatabaseError) as err:
        DatabaseArtifactRepository(fresh_location).list_artifacts()
    _assert_clear(err, "version 1", f"needs {db_schema.LATEST}", "upgrade")
    assert db_schema.upgrade(engine) == db_schema.LATEST
    with engine.connect() as conn:
        assert "model_id" in {c["name"] for c in sa.inspect(conn).get_columns("flock_artifact_files")}
    engine.dispose()


def test_auto_upgrade_keeps_version_1_files(tmp_path, monkeypatch):
    location = f"sqlite:///{tmp_path / 'old.db'}/{ROOT}"
    engine = _engine(location)
    db_schema.upgrade(engine, target=1)
    with engine.begin() as conn:  # a file written by a version-1 flock
        md = db_schema.build_metadata(1)
        conn.execute(md.tables["flock_artifact_blobs"].insert().values(
            id=1, state="ready", path=f"{ROOT}/a.txt", size=2, sha256="x", created_at=db_schema._now(),
            updated_at=db_schema._now()))
        conn.execute(md.tables["flock_artifact_chunks"].insert().values(blob_id=1, seq=0, data=b"hi"))
        from flock_nbext.tracking.db_store import path_key

        conn.execute(md.tables["flock_artifact_files"].insert().values(
            path_key=path_key(f"{ROOT}/a.txt"), parent_key=path_key(ROOT), path=f"{ROOT}/a.txt", blob_id=1, size=2,
            sha256="8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4", created_at=db_schema._now()))
    monkeypatch.setenv("FLOCK_DB_AUTO_UPGRADE", "1")
    repo = DatabaseArtifactRepository(location)
    assert [(f.path, f.file_size) for f in repo.list_artifacts()] == [("a.txt", 2)]
    assert open(repo.download_artifacts("a.txt")).read() == "hi"


def test_newer_schema_is_refused(fresh_location):
    engine = _engine(fresh_location)
    db_schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE flock_schema_version SET version = 99"))
    with pytest.raises(DatabaseError) as err:
        DatabaseArtifactRepository(fresh_location).list_artifacts()
    _assert_clear(err, "version 99", "newer")
    engine.dispose()


def test_missing_table_is_named(fresh_location):
    engine = _engine(fresh_location)
    db_schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE flock_artifact_chunks"))
    with pytest.raises(DatabaseError) as err:
        DatabaseArtifactRepository(fresh_location).list_artifacts()
    _assert_clear(err, "flock_artifact_chunks", "missing")
    engine.dispose()


def test_upgrade_command_brings_an_old_store_up_to_date(tmp_path):
    import subprocess
    import sys

    location = f"sqlite:///{tmp_path / 'cli.db'}/{ROOT}"
    engine = _engine(location)
    db_schema.upgrade(engine, target=1)
    proc = subprocess.run([sys.executable, "-m", "flock_nbext.tracking.db_schema", "upgrade", location],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"version {db_schema.LATEST}" in proc.stdout
    with engine.connect() as conn:
        assert db_schema.read_version(conn) == db_schema.LATEST
    engine.dispose()

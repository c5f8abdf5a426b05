"""The database artifact repository on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from flock_nbext.errors import DatabaseError
from flock_nbext.tracking import db_schema
from flock_nbext.tracking.db_artifacts import DatabaseArtifactRepository
from flock_nbext.tracking.db_store import connect

ROOT = "1/0123456789abcdef0123456789abcdef/artifacts"


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path) -> str:
    """An artifact location (database + root folder) on each real backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'artifacts.db'}/{ROOT}"
    return f"{request.getfixturevalue('postgres_url')}/{ROOT}"


def _tree(base: Path) -> dict[str, bytes]:
    files = {
        "model/MLmodel": b"flavors: {}\n",
        "model/it's a \"quoted\" name.txt": b"quotes",
        "model/sub dir/ünïcödé ✓.bin": os.urandom(1000),
        "top.txt": b"",
    }
    for rel, data in files.items():
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_bytes(data)
    return files


def _count(store, table: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar()


def test_log_list_download_delete(location, tmp_path):
    src = tmp_path / "src"
    files = _tree(src)
    repo = DatabaseArtifactRepository(location)
    repo.log_artifacts(str(src))
    repo.log_artifact(str(src / "top.txt"), "extra/deeper")

    top = {(f.path, f.is_dir, f.file_size) for f in repo.list_artifacts()}
    assert top == {("extra", True, None), ("model", True, None), ("top.txt", False, 0)}
    model = {(f.path, f.is_dir, f.file_size) for f in repo.list_artifacts("model")}
    assert model == {("model/MLmodel", False, 12), ("model/it's a \"quoted\" name.txt", False, 6),
                     ("model/sub dir", True, None)}
    assert repo.list_artifacts("model/MLmodel") == []  # a file lists as empty, like MLflow's repos

    out = Path(repo.download_artifacts("", str(tmp_path / "out")) if (tmp_path / "out").mkdir() is None else "")
    for rel, data in files.items():
        assert (out / rel).read_bytes() == data
    one = repo.download_artifacts("model/sub dir/ünïcödé ✓.bin")
    assert Path(one).read_bytes() == files["model/sub dir/ünïcödé ✓.bin"]

    repo.delete_artifacts("model/sub dir")
    assert [f.path for f in repo.list_artifacts("model")] == ["model/MLmodel", "model/it's a \"quoted\" name.txt"]
    repo.delete_artifacts()
    assert repo.list_artifacts() == []
    assert _count(repo.store, "flock_artifact_chunks") == 0 and _count(repo.store, "flock_artifact_blobs") == 0


def test_sibling_roots_and_like_wildcards_do_not_leak(location, tmp_path):
    base = location.rsplit("/", 1)[0]
    (tmp_path / "f.txt").write_text("x")
    a = DatabaseArtifactRepository(f"{base}/a_%")
    b = DatabaseArtifactRepository(f"{base}/ab%")
    a.log_artifact(str(tmp_path / "f.txt"), "d")
    b.log_artifact(str(tmp_path / "f.txt"), "D")
    assert [f.path for f in a.list_artifacts()] == ["d"]
    assert [f.path for f in b.list_artifacts()] == ["D"]
    a.delete_artifacts()
    assert [f.path for f in b.list_artifacts("D")] == ["D/f.txt"]


def test_large_file_is_chunked_and_replaced_atomically(location, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024 + 7))
    repo = DatabaseArtifactRepository(location)
    repo.log_artifact(str(big))
    assert _count(repo.store, "flock_artifact_chunks") == 3  # 4 MB chunks
    got = Path(repo.download_artifacts("big.bin", str(tmp_path / "dl" if (tmp_path / "dl").mkdir() is None else "")))
    assert hashlib.sha256(got.read_bytes()).digest() == hashlib.sha256(big.read_bytes()).digest()
    big.write_bytes(b"small now")
    repo.log_artifact(str(big))
    assert [(f.path, f.file_size) for f in repo.list_artifacts()] == [("big.bin", 9)]
    assert _count(repo.store, "flock_artifact_chunks") == 1 and _count(repo.store, "flock_artifact_blobs") == 1


@pytest.mark.parametrize("bad", ["../escape", "a/../../b", "/abs/path"])
def test_escaping_artifact_paths_are_rejected(location, tmp_path, bad):
    (tmp_path / "f.txt").write_text("x")
    repo = DatabaseArtifactRepository(location)
    with pytest.raises(DatabaseError, match="artifact path"):
        repo.log_artifact(str(tmp_path / "f.txt"), bad)
    with pytest.raises(DatabaseError, match="artifact path"):
        repo.list_artifacts(bad)
    with pytest.raises(DatabaseError, match="artifact path"):
        repo.delete_artifacts(bad)


_WRITER = textwrap.dedent("""
    import sys
    from flock_nbext.tracking.db_store import connect
    store = connect(sys.argv[1])
    mode, path, folder = sys.argv[2], sys.argv[3], store.location.child(sys.argv[5])
    if mode == "loop":
        for i in range(int(sys.argv[4])):
            store.put(path, folder + "/shared.bin", chunk_size=16384)
            store.put(path, folder + f"/own-{sys.argv[6]}-{i}.bin", chunk_size=16384)
    else:
        store.put(path, folder + "/crash.bin", chunk_size=65536)
""")


def test_two_processes_writing_at_once(location, tmp_path):
    store = connect(location)  # creates the schema before the race
    procs = []
    contents = {}
    for name in ("p", "q"):
        data = os.urandom(100_000) + name.encode()
        contents[hashlib.sha256(data).hexdigest()] = data
        (tmp_path / f"{name}.bin").write_bytes(data)
        procs.append(subprocess.Popen([sys.executable, "-c", _WRITER, location, "loop", str(tmp_path / f"{name}.bin"),
                                       "6", "conc", name], stderr=subprocess.PIPE, text=True))
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
    listing = store.list(store.location.child("conc"))
    assert len(listing.files) == 13
    for f in listing.files:
        assert f.sha256 in contents
        out = tmp_path / "check.bin"
        store.get(f.path, str(out))
        assert hashlib.sha256(out.read_bytes()).hexdigest() == f.sha256
    assert _count(store, "flock_artifact_blobs") == 13  # every replaced version was removed
    assert _count(store, "flock_artifact_blobs WHERE state = 'pending'") == 0


def test_crash_mid_upload_leaves_nothing_visible(location, tmp_path):
    store = connect(location)
    sqlite = store.location.dialect == "sqlite"
    fifo = tmp_path / "slow.pipe"
    os.mkfifo(fifo)
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, location, "once", str(fifo), "0", "c"])
    with open(fifo, "wb") as pipe:
        pipe.write(os.urandom(1_200_000))  # PostgreSQL: two commits of 8 chunks; SQLite: one open transaction
        pipe.flush()
        deadline = time.monotonic() + 60
        while not (_writer_holds_lock(store) if sqlite else _count(store, "flock_artifact_chunks") >= 16):
            assert time.monotonic() < deadline, "the writer never got going"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)  # ...and dies mid-upload, waiting for more bytes
        proc.wait(timeout=30)
    assert store.stat(store.location.child("c/crash.bin")) is None
    assert store.list(store.location.child("c")).files == []
    if sqlite:  # the whole file was one transaction: rolled back, nothing left to clean
        assert _count(store, "flock_artifact_chunks") == 0 and _count(store, "flock_artifact_blobs") == 0
        (tmp_path / "after.bin").write_bytes(b"after")
        store.put(str(tmp_path / "after.bin"), store.location.child("c/after.bin"))  # the lock is free again
        return
    assert _count(store, "flock_artifact_chunks") >= 16
    assert store.cleanup_stale_uploads(older_than_s=3600) == 0  # a live-looking upload is kept
    assert store.cleanup_stale_uploads(older_than_s=0) == 1
    assert _count(store, "flock_artifact_chunks") == 0 and _count(store, "flock_artifact_blobs") == 0


def _writer_holds_lock(store) -> bool:
    """Whether another connection holds SQLite's write lock (an upload in progress)."""
    import sqlite3

    con = sqlite3.connect(store.location.url.database, timeout=0.05, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        con.close()


@pytest.mark.parametrize("sizes", [[0], [10], [300_000, 5], [1 << 20, 1 << 20, 777]])
def test_digest_of_chunks_matches_sha256(sizes):
    from flock_nbext.tracking.db_store import _Digest

    pieces = [os.urandom(n) for n in sizes]
    digest = _Digest()
    for piece in pieces:
        digest.update(piece)
    assert digest.size == sum(sizes)
    assert digest.hexdigest() == hashlib.sha256(b"".join(pieces)).hexdigest()


def test_missing_local_file_writes_nothing(location, tmp_path):
    repo = DatabaseArtifactRepository(location)
    with pytest.raises(FileNotFoundError):
        repo.log_artifact(str(tmp_path / "missing.bin"))
    assert _count(repo.store, "flock_artifact_blobs") == 0


def test_schema_is_created_once_and_versioned(location):
    store = connect(location)
    with store.engine.connect() as conn:
        assert db_schema.read_version(conn) == db_schema.LATEST
    assert db_schema.upgrade(store.engine) == db_schema.LATEST  # idempotent


def test_runs_and_models_are_recorded_with_files(location, tmp_path):
    (tmp_path / "MLmodel").write_text("x")
    base = location.rsplit("/", 3)[0]
    DatabaseArtifactRepository(f"{base}/5/models/m-{'b' * 32}/artifacts").log_artifact(str(tmp_path / "MLmodel"))
    repo = DatabaseArtifactRepository(location)
    repo.log_artifact(str(tmp_path / "MLmodel"))
    with repo.store.engine.connect() as conn:
        rows = set(conn.execute(sa.text("SELECT run_id, model_id, size, sha256 FROM flock_artifact_files")))
    sha = hashlib.sha256(b"x").hexdigest()
    assert rows == {(None, f"m-{'b' * 32}", 1, sha), ("0123456789abcdef0123456789abcdef", None, 1, sha)}


def test_odbc_connect_string_route(postgres_server, postgres_database, tmp_path):
    """`?odbc_connect=` hands a raw ODBC connection string to pyodbc, as mssql+pyodbc users often do."""
    from urllib.parse import quote_plus

    odbc = (f"DRIVER={{PostgreSQL Unicode}};SERVER=127.0.0.1;PORT={postgres_server.port};"
            f"DATABASE={postgres_database};UID={postgres_server.superuser}")
    repo = DatabaseArtifactRepository(f"postgresql+pyodbc://@odbc/-/{ROOT}?odbc_connect={quote_plus(odbc)}")
    (tmp_path / "m.bin").write_bytes(b"\x00\xff" * 3000)
    repo.log_artifact(str(tmp_path / "m.bin"), "model")
    assert [(f.path, f.file_size) for f in repo.list_artifacts("model")] == [("model/m.bin", 6000)]
    assert Path(repo.download_artifacts("model/m.bin")).read_bytes() == b"\x00\xff" * 3000
    assert "odbc_connect" in repo.store.display and "PWD" not in repo.store.display

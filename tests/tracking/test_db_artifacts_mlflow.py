"""Database artifact locations through MLflow's own code paths: log_model, load_model, the CLI, serve, server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from mlflow import MlflowClient

from tests.fixtures.postgres import free_port

FEATURES = ["f0", "f1", "f2"]


@pytest.fixture(scope="module")
def onnx_regressor():
    """A small ONNX model (skl2onnx) and the sklearn predictions it must reproduce."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    X = rng.random((40, 3)).astype(np.float32)
    model = LinearRegression().fit(X, X @ np.array([1.0, -2.0, 0.5]) + 3)
    onx = convert_sklearn(model, initial_types=[("input", FloatTensorType([None, 3]))], target_opset=17)
    return onx, X, model.predict(X)


def _location(kind: str, request, tmp_path, monkeypatch) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'artifacts.db'}"
    if kind == "sqlite-relative":
        monkeypatch.chdir(tmp_path)
        return "sqlite:///relative-artifacts.db"
    server = request.getfixturevalue("postgres_server")
    database = request.getfixturevalue("postgres_database")
    if kind == "odbc-dsn":
        ini = tmp_path / "odbc.ini"
        ini.write_text(f"[flockdsn]\nDriver = PostgreSQL Unicode\nServername = 127.0.0.1\nPort = {server.port}\n"
                       f"Database = {database}\nUsername = {server.superuser}\n")
        monkeypatch.setenv("ODBCINI", str(ini))
        return f"postgresql+pyodbc://{server.superuser}@flockdsn/-"
    if kind == "postgresql+pyodbc":
        return f"postgresql+pyodbc://{server.superuser}@127.0.0.1:{server.port}/{database}?driver=PostgreSQL+Unicode"
    return f"{kind}://{server.superuser}@127.0.0.1:{server.port}/{database}"


def _log_model(location: str, onnx_model, X):
    experiment = mlflow.create_experiment(f"db-{time.monotonic_ns()}", artifact_location=location)
    with mlflow.start_run(experiment_id=experiment) as run:
        info = mlflow.onnx.log_model(onnx_model, name="model", pip_requirements=["onnxruntime"],
                                     input_example=pd.DataFrame(X[:2], columns=FEATURES))
    return run, info


@pytest.mark.parametrize("kind", ["sqlite", "sqlite-relative", "postgresql", "postgresql+psycopg",
                                  "postgresql+psycopg2", "postgresql+pyodbc", "odbc-dsn"])
def test_log_model_and_load_it_back(kind, request, tmp_path, monkeypatch, onnx_regressor):
    onnx_model, X, expected = onnx_regressor
    location = _location(kind, request, tmp_path, monkeypatch)
    run, info = _log_model(location, onnx_model, X)
    (tmp_path / "notes 'v1' ü.txt").write_text("hello")
    with mlflow.start_run(run_id=run.info.run_id):
        mlflow.log_artifact(str(tmp_path / "notes 'v1' ü.txt"), "docs")

    loaded = mlflow.pyfunc.load_model(info.model_uri)
    got = loaded.predict(pd.DataFrame(X, columns=FEATURES).astype(np.float32))
    np.testing.assert_allclose(np.asarray(got).ravel(), expected, rtol=1e-5)

    client = MlflowClient()
    assert [(f.path, f.is_dir) for f in client.list_artifacts(run.info.run_id)] == [("docs", True)]
    assert [f.path for f in client.list_artifacts(run.info.run_id, "docs")] == ["docs/notes 'v1' ü.txt"]
    model_files = {f.path for f in mlflow.artifacts.list_artifacts(artifact_uri=info.model_uri)}
    assert {"MLmodel", "model.onnx", "requirements.txt"} <= model_files
    assert not (tmp_path / "mlruns").exists()  # nothing went to the local file store


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_cli_download(kind, request, tmp_path, monkeypatch, onnx_regressor):
    onnx_model, X, _ = onnx_regressor
    run, info = _log_model(_location(kind, request, tmp_path, monkeypatch), onnx_model, X)
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run([sys.executable, "-m", "mlflow", "artifacts", "download", "-u", info.model_uri,
                           "-d", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = {p.name for p in out.rglob("*") if p.is_file()}
    assert {"MLmodel", "model.onnx", "requirements.txt"} <= names


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited early"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer in {timeout} s")


def _venv_env() -> dict[str, str]:
    """The environment with this interpreter's bin folder first (MLflow execs `uvicorn` by name)."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)


@pytest.mark.slow
def test_models_serve_from_postgresql(request, tmp_path, monkeypatch, onnx_regressor):
    onnx_model, X, expected = onnx_regressor
    _, info = _log_model(_location("postgresql", request, tmp_path, monkeypatch), onnx_model, X)
    port = free_port()
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m", info.model_uri,
                             "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=_venv_env())
    try:
        _wait_http(f"http://127.0.0.1:{port}/ping", proc)
        body = json.dumps({"dataframe_split": {"columns": FEATURES, "data": X.tolist()}}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            predictions = json.load(resp)["predictions"]
    finally:
        _stop(proc)
    got = [np.ravel(row["variable"] if isinstance(row, dict) else row)[0] for row in predictions]
    np.testing.assert_allclose(np.asarray(got, dtype=float).ravel(), expected, rtol=1e-5)


@pytest.mark.slow
def test_tracking_server_proxies_artifacts_from_postgresql(request, tmp_path, monkeypatch, onnx_regressor,
                                                           postgres_url):
    onnx_model, X, expected = onnx_regressor
    port = free_port()
    log = open(tmp_path / "server.log", "w")
    destination = postgres_url.replace("postgresql+psycopg", "postgresql")
    proc = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
                             "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
                             "--artifacts-destination", destination, "--workers", "1"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=_venv_env())
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}/health", proc)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", base)
        mlflow.set_tracking_uri(base)
        experiment = mlflow.create_experiment("served")
        (tmp_path / "report 1.txt").write_text("proxied")
        with mlflow.start_run(experiment_id=experiment) as run:
            mlflow.log_artifact(str(tmp_path / "report 1.txt"), "reports")
            info = mlflow.onnx.log_model(onnx_model, name="model", pip_requirements=["onnxruntime"])
        listed = json.load(urllib.request.urlopen(
            f"{base}/ajax-api/2.0/mlflow/artifacts/list?run_id={run.info.run_id}&path=reports", timeout=30))
        assert [f["path"] for f in listed["files"]] == ["reports/report 1.txt"]
        got = urllib.request.urlopen(f"{base}/get-artifact?path=reports/report%201.txt&run_uuid={run.info.run_id}",
                                     timeout=30).read()
        assert got == b"proxied"
        assert [f.path for f in MlflowClient().list_artifacts(run.info.run_id)] == ["reports"]
        loaded = mlflow.pyfunc.load_model(info.model_uri)
        np.testing.assert_allclose(np.asarray(loaded.predict(pd.DataFrame(X, columns=FEATURES))).ravel(),
                                   expected, rtol=1e-5)
    finally:
        mlflow.set_tracking_uri(None)
        _stop(proc)
    with sa.create_engine(postgres_url).connect() as conn:  # the bytes really are in PostgreSQL
        paths = set(conn.execute(sa.text("SELECT path FROM flock_artifact_files")).scalars())
    assert any(p.endswith("reports/report 1.txt") for p in paths)
    assert any(p.endswith("/MLmodel") for p in paths)


def test_password_never_reaches_the_tracking_store(postgres_server, postgres_database, tmp_path, monkeypatch,
                                                   onnx_regressor):
    onnx_model, X, _ = onnx_regressor
    postgres_server.execute(f'ALTER DATABASE "{postgres_database}" OWNER TO flock_pw')
    postgres_server.execute("GRANT ALL ON SCHEMA public TO flock_pw", database=postgres_database)
    monkeypatch.setenv("FLOCK_DB_PASSWORD", postgres_server.password)
    location = f"postgresql://flock_pw@127.0.0.1:{postgres_server.port}/{postgres_database}"
    run, info = _log_model(location, onnx_model, X)
    assert mlflow.pyfunc.load_model(info.model_uri) is not None
    store_file = Path(os.environ["MLFLOW_TRACKING_URI"].removeprefix("sqlite:///"))
    assert postgres_server.password.encode() not in store_file.read_bytes()
    with sa.create_engine(os.environ["MLFLOW_TRACKING_URI"]).connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                assert postgres_server.password not in repr(row)


@pytest.mark.parametrize("first", ["flock_nbext.tracking.db_artifacts", "mlflow"])
def test_schemes_registered_whatever_is_imported_first(first):
    code = (f"import warnings; warnings.simplefilter('error'); import {first}; "
            "from mlflow.store.artifact.artifact_repository_registry import get_registered_artifact_repositories as g; "
            "print(sorted(k for k, v in g().items() if v.__name__ == 'DatabaseArtifactRepository'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert {"postgresql", "sqlite", "mssql"} <= set(eval(out.stdout))

"""Suite-wide isolation: every test gets its own MLflow store, flock config and spool folder."""

from __future__ import annotations

import sys

import pytest

pytest_plugins = ["tests.fixtures.postgres", "tests.fixtures.mlflow_server"]


@pytest.fixture(autouse=True)
def _isolated_flock_env(tmp_path, monkeypatch):
    """A temporary SQLite tracking store and flock dirs, so tests never see each other's runs."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("FLOCK_CONFIG", str(tmp_path / "flock-config.toml"))
    monkeypatch.setenv("FLOCK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("FLOCK_EXPERIMENT", raising=False)
    monkeypatch.delenv("FLOCK_ENABLED", raising=False)
    _reset_mlflow_process_state(uri)
    yield
    _reset_mlflow_process_state(None)


def _reset_mlflow_process_state(uri):
    """MLflow keeps the tracking URI and the active-run stack per process: a test that calls
    mlflow.set_tracking_uri or leaves a run open must not leak them into the next test (whose
    subprocesses read the URI from the environment)."""
    mlflow = sys.modules.get("mlflow")
    if mlflow is None:
        return
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(uri)

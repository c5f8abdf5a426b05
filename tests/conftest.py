"""Suite-wide isolation: every test gets its own MLflow store, flock config and spool folder."""

from __future__ import annotations

import sys

import pytest

pytest_plugins = ["tests.fixtures.postgres", "tests.fixtures.mlflow_server"]


@pytest.fixture(autouse=True)
def _isolated_flock_env(tmp_path, monkeypatch):
    """A temporary SQLite tracking store and flock dirs, so tests never see each other's runs."""
    _reset_mlflow_process_state()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("FLOCK_CONFIG", str(tmp_path / "flock-config.toml"))
    monkeypatch.setenv("FLOCK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("FLOCK_EXPERIMENT", raising=False)
    monkeypatch.delenv("FLOCK_ENABLED", raising=False)
    yield
    _reset_mlflow_process_state()


def _reset_mlflow_process_state():
    """MLflow keeps a tracking URI set by mlflow.set_tracking_uri and the active-run stack per
    process: neither may leak into the next test, whose MLflow calls (in-process and in its
    subprocesses alike) must follow the MLFLOW_TRACKING_URI this fixture sets."""
    mlflow = sys.modules.get("mlflow")
    if mlflow is None:
        return
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)  # back to the environment variable

"""Suite-wide isolation: every test gets its own MLflow store, flock config and spool folder."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.fixtures.postgres", "tests.fixtures.mlflow_server"]


@pytest.fixture(autouse=True)
def _isolated_flock_env(tmp_path, monkeypatch):
    """A temporary SQLite tracking store and flock dirs, so tests never see each other's runs."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("FLOCK_CONFIG", str(tmp_path / "flock-config.toml"))
    monkeypatch.setenv("FLOCK_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("FLOCK_EXPERIMENT", raising=False)
    monkeypatch.delenv("FLOCK_ENABLED", raising=False)
    yield

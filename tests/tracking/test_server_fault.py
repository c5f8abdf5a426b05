"""Tracking over HTTP to a real `mlflow server`, and the fault test: the server stops mid-stream and comes back."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

from flock_nbext.config import Settings
from flock_nbext.tracking.records import DatasetRecord, FitRecord, MetricRecord
from flock_nbext.tracking.session import TrackingSession


@pytest.fixture
def data():
    X = pd.DataFrame(np.random.default_rng(3).random((60, 3)), columns=["a", "b", "c"])
    return X, (X.a + X.c > 1).astype(int)


def fit(model, X, model_id, var):
    return FitRecord(model=model, model_id=model_id, var=var, cls="sklearn.linear_model.LogisticRegression",
                     explicit_params={"C": model.C}, params=model.get_params(), features=list(X.columns), X=X,
                     inputs=[DatasetRecord(name="train", kind="file", source="/data/train.csv",
                                           columns=list(X.columns), n_rows=len(X), data=X)],
                     lineage={"schema": "flock.lineage/1", "model": model_id}, code=f"{var}.fit(X, y)\n")


def loss(model_id, value):
    return MetricRecord(model_ids=[model_id], name="loss", value=float(value))


def test_runs_models_and_inputs_over_http(mlflow_server, data, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    X, y = data
    session = TrackingSession(Settings(tracking_uri=mlflow_server.uri, spool_dir=str(tmp_path / "spool"),
                                       flush_interval_ms=50), notebook_path="http.ipynb")
    clf = LogisticRegression(C=0.7).fit(X, y)
    session.record(fit(clf, X, "m-http", "clf"))
    session.record(loss("m-http", 0.25))
    assert session.flush(120)
    run_id = session.run_id_for("m-http")
    assert session.close(60)
    client = MlflowClient(mlflow_server.uri)
    run = client.get_run(run_id)
    assert run.data.params["C"] == "0.7" and run.data.metrics["loss"] == 0.25
    assert run.data.tags["mlflow.parentRunId"]
    assert run.inputs.dataset_inputs[0].dataset.name == "train"
    assert "lineage.json" in [a.path for a in client.list_artifacts(run_id)]
    loaded = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def test_server_stops_mid_stream_and_every_event_arrives_in_order(mlflow_server, data, tmp_path,  # noqa: F811
                                                                   monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    X, y = data
    spool_dir = tmp_path / "spool"
    session = TrackingSession(Settings(tracking_uri=mlflow_server.uri, spool_dir=str(spool_dir),
                                       flush_interval_ms=50), notebook_path="fault.ipynb")
    first = LogisticRegression(C=1.0).fit(X, y)
    session.record(fit(first, X, "m-first", "first"))
    for step in range(3):
        session.record(loss("m-first", step))
    assert session.flush(120) is True
    first_run = session.run_id_for("m-first")

    mlflow_server.stop()
    for step in range(3, 6):
        session.record(loss("m-first", step))
    second = LogisticRegression(C=3.0).fit(X, y)
    session.record(fit(second, X, "m-second", "second"))  # a new run while the store is down
    session.record(loss("m-second", 100))
    session.record(MetricRecord(model_ids=["m-first", "m-second"], name="agreement", value=0.9))
    assert session.flush(60) is False
    assert list(spool_dir.glob("*.jsonl")), "events went to the spool"
    assert session.run_id_for("m-second", timeout=1) is None

    mlflow_server.start()  # same port, same backend store and artifacts
    for step in range(6, 9):
        session.record(loss("m-first", step))
    assert session.flush(180) is True
    assert not list(spool_dir.glob("*.jsonl"))
    second_run = session.run_id_for("m-second")
    assert session.close(60) is True

    client = MlflowClient(mlflow_server.uri)
    history = sorted(client.get_metric_history(first_run, "loss"), key=lambda m: m.step)
    assert [m.value for m in history] == [float(v) for v in range(9)]
    assert [m.step for m in history] == list(range(9))
    stamps = [m.timestamp for m in history]
    assert stamps == sorted(stamps)
    one, two = client.get_run(first_run), client.get_run(second_run)
    assert one.data.metrics["agreement"] == two.data.metrics["agreement"] == 0.9
    assert two.data.metrics["loss"] == 100 and two.data.params["C"] == "3.0"
    assert two.data.tags["mlflow.parentRunId"] == one.data.tags["mlflow.parentRunId"]
    assert client.get_run(one.data.tags["mlflow.parentRunId"]).info.status == "FINISHED"
    loaded = mlflow.pyfunc.load_model(f"runs:/{second_run}/model")
    np.testing.assert_array_equal(loaded.predict(X), second.predict(X))

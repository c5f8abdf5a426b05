"""log_onnx: the converted model is the run's `onnx_model`, and `mlflow models serve` answers like the original."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression

import flock_nbext
from flock_nbext.config import Settings
from flock_nbext.tracking.records import FitRecord
from flock_nbext.tracking.session import TrackingSession
from tests.fixtures.mlflow_server import free_port


@pytest.fixture
def session(tmp_path):
    s = TrackingSession(Settings(spool_dir=str(tmp_path / "spool"), flush_interval_ms=50), notebook_path="onnx.ipynb")
    yield s
    s.close()


def _fit(model, X, model_id):
    return FitRecord(model=model, model_id=model_id, var=model_id, cls=type(model).__name__,
                     params=model.get_params(), features=list(X.columns), X=X)


def _post(url, payload):
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_mlflow_models_serve_answers_like_the_original(session, tmp_path):
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.random((300, 4)), columns=["a", "b", "c", "d"])
    y = np.where(X.a + X.b > 1, "yes", "no")
    clf = RandomForestClassifier(n_estimators=8, max_depth=4, random_state=0).fit(X, y)
    session.record(_fit(clf, X, "m-rf"))
    result = flock_nbext.convert(clf, sample=X.to_numpy(np.float32)[:100], progress=False, rounds=1)

    uri = session.log_onnx("m-rf", result)
    run_id = session.run_id_for("m-rf")
    assert uri == f"runs:/{run_id}/onnx_model"
    run = MlflowClient().get_run(run_id)
    assert run.data.tags["flock.onnx"] == "true" and run.data.tags["flock.onnx.candidate"] == result.candidate
    assert run.data.metrics["flock.onnx.speedup_batch1"] == result.speedup["batch1"]
    report = json.loads(open(MlflowClient().download_artifacts(run_id, "onnx/report.json")).read())
    assert "candidate" in report["columns"] and len(report["data"]) == len(result.report)
    info = mlflow.models.get_model_info(uri)
    assert "onnx" in info.flavors
    assert info.signature.inputs.input_names() == ["a", "b", "c", "d"]
    # the native model is still there beside it
    assert "sklearn" in mlflow.models.get_model_info(f"runs:/{run_id}/model").flavors

    port = free_port()
    env = os.environ.copy()  # `mlflow models serve` execs `uvicorn` from PATH: the venv's bin, as when activated
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", uri, "--env-manager", "local",
         "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
        stdout=open(tmp_path / "serve.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True,
        env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "mlflow models serve did not start"
            time.sleep(0.5)
        rows = X.iloc[:25]
        answer = _post(f"http://127.0.0.1:{port}/invocations",
                       {"dataframe_split": {"columns": list(rows.columns), "data": rows.to_numpy().tolist()}})
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    predictions = pd.DataFrame(answer["predictions"])
    assert list(predictions["label"]) == list(clf.predict(rows))
    proba = clf.predict_proba(rows)
    for i in range(proba.shape[1]):
        np.testing.assert_allclose(predictions[f"probabilities_{i}"], proba[:, i], atol=1e-5)


def test_a_bare_onnx_graph_is_logged_with_the_models_training_head(session):
    from skl2onnx import to_onnx

    X = pd.DataFrame(np.random.default_rng(5).random((50, 3)), columns=["p", "q", "r"])
    reg = LinearRegression().fit(X, X.p * 2 + X.q)
    session.record(_fit(reg, X, "m-reg"))
    onnx_model = to_onnx(reg, X.to_numpy(np.float32)[:1], target_opset=15)
    uri = session.log_onnx("m-reg", onnx_model)
    loaded = mlflow.pyfunc.load_model(uri)
    got = loaded.predict(X.head(5))
    np.testing.assert_allclose(got.iloc[:, 0], reg.predict(X.head(5)), rtol=1e-5)
    assert mlflow.models.get_model_info(uri).signature.inputs.input_names() == ["p", "q", "r"]


def test_log_onnx_for_an_untracked_model_says_so(session):
    from flock_nbext.errors import TrackingError

    with pytest.raises(TrackingError, match="no tracked run for model 'nobody'"):
        session.log_onnx("nobody", object())

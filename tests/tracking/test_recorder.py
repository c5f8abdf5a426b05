"""The recorder: batching, waiting for a running cell, native flavors, and a session that is closed."""

from __future__ import annotations

import time

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
import pytest
import torch
import xgboost as xgb
from mlflow import MlflowClient

from flock_nbext.config import Settings
from flock_nbext.tracking.records import FitRecord, MetricRecord
from flock_nbext.tracking.runs import merge_batches
from flock_nbext.tracking.session import TrackingSession


@pytest.fixture
def session(tmp_path):
    s = TrackingSession(Settings(spool_dir=str(tmp_path / "spool"), flush_interval_ms=50), notebook_path="rec.ipynb")
    yield s
    s.close()


@pytest.fixture
def data():
    X = pd.DataFrame(np.random.default_rng(6).random((120, 5)), columns=[f"f{i}" for i in range(5)])
    return X, (X.f0 + X.f2 > 1).astype(int)


def batch(key, params=None, tags=None, metrics=None):
    return {"op": "log_batch", "key": key, "params": params or {}, "tags": tags or {}, "metrics": metrics or []}


def test_adjacent_writes_of_one_run_fold_into_one_batch():
    ops = [batch("a", {"p": "1"}, {"t": "x"}), batch("a", {}, {}, [["m", 1.0, 1, 0]]), batch("a", {}, {"u": "y"}),
           {"op": "log_text", "key": "a", "path": "x.txt", "text": "x"},
           batch("a", {}, {}, [["m", 2.0, 2, 1]]), batch("b", {"p": "2"}), batch("b", {"p": "3"})]
    merged = merge_batches(ops)
    assert [op["op"] for op in merged] == ["log_batch", "log_text", "log_batch", "log_batch", "log_batch"]
    assert merged[0] == batch("a", {"p": "1"}, {"t": "x", "u": "y"}, [["m", 1.0, 1, 0]])
    assert merged[2]["metrics"] == [["m", 2.0, 2, 1]]
    assert [op["params"] for op in merged[3:]] == [{"p": "2"}, {"p": "3"}]  # same param twice: kept apart
    assert ops[0]["params"] == {"p": "1"} and ops[0]["tags"] == {"t": "x"}  # inputs untouched


@pytest.mark.parametrize("kind", ["lightgbm-sklearn", "lightgbm-booster", "xgboost", "pytorch"])
def test_models_are_logged_in_their_native_flavor(session, data, kind):
    X, y = data
    if kind == "lightgbm-sklearn":
        model = lgb.LGBMClassifier(n_estimators=10, num_leaves=8, verbose=-1).fit(X, y)
        params, expected = model.get_params(), "lightgbm"
    elif kind == "lightgbm-booster":
        params = {"objective": "binary", "num_leaves": 8, "verbose": -1}
        model = lgb.train(params, lgb.Dataset(X, y), num_boost_round=10)
        params, expected = {**params, "num_boost_round": 10}, "lightgbm"
    elif kind == "xgboost":
        model = xgb.XGBClassifier(n_estimators=10, max_depth=3).fit(X, y)
        params, expected = model.get_params(), "xgboost"
    else:
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
        params, expected = {"layers": 3}, "pytorch"
    session.record(FitRecord(model=model, model_id="m", var="model", cls=f"{type(model).__module__}.{type(model).__name__}",
                             params=params, explicit_params={}, features=list(X.columns), X=X))
    assert session.flush(120)
    run_id = session.run_id_for("m")
    run = MlflowClient().get_run(run_id)
    assert run.data.tags["flock.model.flavor"] == expected
    assert run.data.tags["flock.model.logged"] == "true"
    info = mlflow.models.get_model_info(f"runs:/{run_id}/model")
    assert expected in info.flavors
    loaded = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    if kind == "pytorch":
        got = loaded.predict(X.to_numpy(np.float32)[:4])
        with torch.no_grad():
            want = model(torch.from_numpy(X.to_numpy(np.float32)[:4])).numpy()
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5)
    else:
        got = np.asarray(loaded.predict(X.head(4))).reshape(-1)
        want = np.asarray(model.predict(X.head(4))).reshape(-1)
        np.testing.assert_allclose(got, want, rtol=1e-6)
        assert info.signature is not None


def test_work_waits_for_the_running_cell_and_a_flush_cuts_the_wait_short(session, data):
    from sklearn.linear_model import LogisticRegression

    X, y = data
    client = MlflowClient()
    session.cell_started()
    session.record(FitRecord(model=LogisticRegression().fit(X, y), model_id="m", var="clf", cls="LogisticRegression",
                             X=X))
    time.sleep(1.0)  # the recorder holds the record while the cell runs
    assert client.search_experiments(filter_string="name = 'rec.ipynb'") == []
    assert session.run_id_for("m", timeout=60) is not None  # an explicit wait does not wait for the cell
    session.record(MetricRecord(model_ids=["m"], name="acc", value=0.5))
    time.sleep(1.0)
    run_id = session.run_id_for("m")
    session.cell_finished()
    assert session.flush(60)
    assert client.get_run(run_id).data.metrics["acc"] == 0.5


def test_back_to_back_cells_get_the_cpu_the_records_go_out_once_the_kernel_stays_idle(session, data):
    """A Run All leaves only millisecond gaps between cells: the recorder starts nothing in them
    (work started there would run into the next cell); it writes once no cell has run for a moment."""
    from sklearn.linear_model import LogisticRegression

    X, y = data
    client = MlflowClient()
    session.cell_started()
    session.record(FitRecord(model=LogisticRegression().fit(X, y), model_id="m", var="clf", cls="LogisticRegression"))
    for _ in range(10):  # ten short cells, back to back
        session.cell_finished()
        time.sleep(0.01)
        session.cell_started()
        time.sleep(0.1)
    assert client.search_experiments(filter_string="name = 'rec.ipynb'") == []
    assert session._recorder.writer is None  # not even mlflow's store was opened
    session.cell_finished()
    assert session.run_id_for("m", timeout=60) is not None


def test_a_closed_session_ignores_records_and_says_nothing_was_flushed(tmp_path):
    s = TrackingSession(Settings(spool_dir=str(tmp_path / "spool")))
    assert s.close(30) is True  # nothing to send, all delivered
    s.record(MetricRecord(model_ids=["m"], name="x", value=1.0))
    assert s.flush(1) is False
    assert s.close() is False  # idempotent
    assert s.closed


def test_record_is_a_queue_put(session):
    """record() returns at once whatever it is given (no MLflow on the caller's thread)."""
    for thing in (None, 42, object(), MetricRecord(model_ids=[], name="n", value=float("nan"))):
        assert session.record(thing) is None
    assert session.flush(60)


def test_run_id_for_without_waiting_answers_from_what_is_written(session, data):
    from sklearn.linear_model import LogisticRegression

    X, y = data
    session.cell_started()
    session.record(FitRecord(model=LogisticRegression().fit(X, y), model_id="m", var="clf", cls="LogisticRegression"))
    assert session.run_id_for("m", timeout=0) is None  # queued, not written: no wait on the main thread
    session.cell_finished()
    run_id = session.run_id_for("m", timeout=60)  # the first write also creates the store: allow for it
    assert run_id is not None
    assert session.run_id_for("m", timeout=0) == run_id


def test_mlflows_hints_on_the_recorder_thread_stay_out_of_the_output(tmp_path):
    import os
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""
        import numpy as np, pandas as pd, warnings
        from sklearn.linear_model import LogisticRegression
        from flock_nbext.config import Settings
        from flock_nbext.tracking.records import FitRecord
        from flock_nbext.tracking.session import TrackingSession
        X = pd.DataFrame({{"a": np.arange(40), "b": np.linspace(0, 1, 40)}})  # an int column: MLflow warns
        m = LogisticRegression().fit(X, (X.b > .5).astype(int))
        s = TrackingSession(Settings(spool_dir={str(tmp_path / 'spool')!r}))
        s.record(FitRecord(model=m, model_id="m", var="m", cls="LogisticRegression", params=m.get_params(), X=X))
        assert s.flush(120)
        s.close()
        warnings.warn("the user's own warning")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    assert "Inferred schema contains integer" not in out.stderr
    assert "pickle or cloudpickle format" not in out.stderr
    assert "the user's own warning" in out.stderr  # other threads' warnings are untouched

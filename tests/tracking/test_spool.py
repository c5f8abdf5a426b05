"""The spool: JSON lines in order, locked per live session, adopted and replayed by the next session."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

from flock_nbext.config import Settings
from flock_nbext.tracking.records import DatasetRecord, FitRecord, MetricRecord
from flock_nbext.tracking.session import TrackingSession
from flock_nbext.tracking.spool import Spool

PASSWORD = "Hunter2-very-secret"


def ops(n, start=0):
    return [{"op": "log_batch", "key": "k", "params": {}, "tags": {}, "metrics": [["m", i, i, i]]}
            for i in range(start, start + n)]


def test_spool_keeps_order_on_disk_and_drops_what_was_sent(tmp_path):
    spool = Spool(tmp_path, "s1", "fp")
    spool.append(ops(3))
    spool.append(ops(2, start=3))
    lines = spool.path.read_text().splitlines()
    assert json.loads(lines[0]) == {"flock_spool": 2, "store": "fp", "session": "s1"}
    assert [json.loads(line)["metrics"][0][1] for line in lines[1:]] == [0, 1, 2, 3, 4]
    spool.drop(2)
    assert [op["metrics"][0][1] for op in spool.peek(10)] == [2, 3, 4]
    assert len(spool.path.read_text().splitlines()) == 4
    spool.drop(3)
    assert not spool and not spool.path.exists()
    spool.release()


def test_only_unlocked_spools_of_the_same_store_are_adopted(tmp_path):
    live = Spool(tmp_path, "live", "fp")
    live.append(ops(1))
    dead = Spool(tmp_path, "dead", "fp")
    dead.append(ops(2))
    dead.release()
    other = Spool(tmp_path, "other-store", "fp2")
    other.append(ops(1))
    other.release()
    with open(tmp_path / "dead.jsonl", "a") as fh:
        fh.write('{"op": "log_batch", "ke')  # torn line from a crash
    adopted = Spool.orphans(tmp_path, "fp", own_session="me")
    assert [s.session_id for s in adopted] == ["dead"]
    assert len(adopted[0]) == 2
    # while adopted it is locked: nobody else takes it
    assert Spool.orphans(tmp_path, "fp", own_session="someone-else") == []
    adopted[0].release()
    live.release()


def _fit(model, X, i):
    return FitRecord(model=model, model_id=f"m{i}", var=f"model_{i}", cls="sklearn.linear_model.LogisticRegression",
                     params={**model.get_params(), "conn": f"postgresql://u:{PASSWORD}@h/db"},
                     explicit_params={"C": model.C}, X=X,
                     inputs=[DatasetRecord(name="q@db", kind="sql", source="SELECT * FROM t",
                                           database=f"mssql+pyodbc://sa:{PASSWORD}@srv/db", tables=["t"],
                                           columns=list(X.columns), n_rows=len(X), data=X)],
                     lineage={"schema": "flock.lineage/1", "url": f"postgresql://u:{PASSWORD}@h/db"},
                     code=f'PWD = "{PASSWORD}"\nconn = "Server=s;PWD={PASSWORD}"\n')


def test_an_unreachable_store_spools_redacted_events_and_the_next_session_replays_them(tmp_path):
    X = pd.DataFrame(np.random.default_rng(2).random((40, 3)), columns=["a", "b", "c"])
    y = (X.a > 0.5).astype(int)
    blocker = tmp_path / "store"
    blocker.write_text("a file where the store's folder should be")  # SQLite cannot open the store
    uri = f"sqlite:///{blocker / 'mlflow.db'}"
    spool_dir = tmp_path / "spool"
    settings = Settings(tracking_uri=uri, spool_dir=str(spool_dir), flush_interval_ms=50)

    first = TrackingSession(settings, notebook_path="outage.ipynb")
    for i in range(3):
        model = LogisticRegression(C=1.0 + i).fit(X, y)
        first.record(_fit(model, X, i))
        for step in range(2):
            first.record(MetricRecord(model_ids=[f"m{i}"], name="loss", value=float(10 * i + step)))
    assert first.flush(60) is False  # spooled, not delivered
    assert first.close(60) is False
    (spool_file,) = spool_dir.glob("*.jsonl")
    text = spool_file.read_text()
    assert PASSWORD not in text
    assert '"op": "start_run"' in text and '"op": "log_model"' in text
    assert list((spool_dir / "models").rglob("MLmodel"))  # models saved while the store was down

    blocker.unlink()  # the store comes back
    second = TrackingSession(settings, notebook_path="outage.ipynb")
    second.record(MetricRecord(model_ids=["nothing"], name="unrelated", value=1.0))
    assert second.flush(120) is True
    assert second.close(60) is True
    assert not list(spool_dir.glob("*.jsonl"))

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("outage.ipynb")
    fits = client.search_runs([exp.experiment_id], "tags.`flock.kind` = 'fit'", order_by=["attributes.start_time"])
    assert [r.data.tags["flock.model.var"] for r in fits] == ["model_0", "model_1", "model_2"]
    for i, run in enumerate(fits):
        assert run.data.params["C"] == str(1.0 + i)
        history = client.get_metric_history(run.info.run_id, "loss")
        assert [m.value for m in sorted(history, key=lambda m: m.step)] == [10.0 * i, 10.0 * i + 1]
        assert PASSWORD not in json.dumps([run.data.params, run.data.tags])
        assert run.outputs.model_outputs
    sessions = client.search_runs([exp.experiment_id], "tags.`flock.kind` = 'session'")
    assert {r.data.tags["flock.session"] for r in sessions} == {first.session_id, second.session_id}
    assert all(r.info.status == "FINISHED" for r in sessions)
    assert not list((spool_dir / "models").rglob("MLmodel"))  # uploaded, then cleaned


def test_a_short_shutdown_spools_what_it_cannot_send_and_the_next_session_sends_it(tmp_path):
    X = pd.DataFrame(np.random.default_rng(3).random((30, 2)), columns=["a", "b"])
    y = (X.a > 0.5).astype(int)
    settings = Settings(spool_dir=str(tmp_path / "spool"), flush_interval_ms=50)
    first = TrackingSession(settings, notebook_path="shutdown.ipynb")
    model = LogisticRegression().fit(X, y)
    first.record(FitRecord(model=model, model_id="m", var="clf", cls="LogisticRegression", X=X))
    first.record(MetricRecord(model_ids=["m"], name="acc", value=0.75))
    # far less time than importing mlflow and creating the store takes: nothing can be sent in time,
    # so close() itself spools what the recorder holds
    assert first.close(timeout=0.01) is False
    first._recorder.join(120)  # the recorder stops at its next step, touching nothing
    assert not first._recorder.alive
    assert list((tmp_path / "spool").glob("*.jsonl"))

    second = TrackingSession(settings, notebook_path="shutdown.ipynb")
    second.record(MetricRecord(model_ids=["other"], name="x", value=1.0))
    assert second.flush(120) is True
    second.close()
    client = MlflowClient()
    (run,) = client.search_runs([client.get_experiment_by_name("shutdown.ipynb").experiment_id],
                                "tags.`flock.kind` = 'fit'")
    assert run.data.metrics["acc"] == 0.75 and run.data.tags["flock.session"] == first.session_id


def test_acknowledged_operations_are_not_replayed_and_an_acknowledged_run_is_reused(tmp_path):
    dead = Spool(tmp_path, "dead", "fp")
    start = {"op": "start_run", "key": "s:session", "experiment": "e", "tags": {}, "id": "s-0"}
    sent, waiting = ops(2)
    dead.append([start, {**sent, "id": "s-1"}, {**waiting, "id": "s-2"}])
    dead.ack(start, "run-123")  # the store took these two after they were spooled
    dead.ack({**sent, "id": "s-1"})
    dead.release()
    with open(tmp_path / "dead.jsonl", "a") as fh:
        fh.write('{"ack": "s-')  # torn acknowledgement from a kill
    (adopted,) = Spool.orphans(tmp_path, "fp", own_session="me")
    assert adopted.peek(10) == [{"op": "attach_run", "key": "s:session", "run_id": "run-123", "id": "s-0"},
                                {**waiting, "id": "s-2"}]
    adopted.release()


def test_a_version_1_spool_without_ids_is_still_replayed(tmp_path):
    (tmp_path / "old.jsonl").write_text(json.dumps({"flock_spool": 1, "store": "fp", "session": "old"}) + "\n"
                                        + "\n".join(json.dumps(op) for op in ops(2)) + "\n")
    (adopted,) = Spool.orphans(tmp_path, "fp", own_session="me")
    assert adopted.peek(10) == ops(2)
    adopted.release()


def _wait_for(path, timeout=120.0):
    import time

    end = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("tampered", [False, True], ids=["private", "pickle-writable-by-others"])
def test_a_record_both_sent_and_spooled_at_shutdown_reaches_the_store_once(tmp_path, monkeypatch, tampered):
    """Fault injection: FLOCK_FAULT_STORE_HOLD_S makes each store call of the first session take 3 s,
    so its recorder is inside one (creating the session's run) when close() stops waiting and spools
    everything the store has not acknowledged: that call, the planned operations, the records still
    queued. The held call then completes and is acknowledged in the spool; the next session sends
    the rest, and nothing twice."""
    from flock_nbext.tracking.writer import HOLD_ENV, HOLD_MARK_ENV

    X = pd.DataFrame(np.random.default_rng(4).random((40, 3)), columns=["a", "b", "c"])
    y = (X.a > 0.5).astype(int)
    uri = f"sqlite:///{tmp_path / 'held.db'}"
    MlflowClient(uri).search_experiments()  # an existing store
    held = tmp_path / "held"
    monkeypatch.setenv(HOLD_ENV, "3")
    monkeypatch.setenv(HOLD_MARK_ENV, str(held))
    settings = Settings(tracking_uri=uri, spool_dir=str(tmp_path / "spool"), flush_interval_ms=50)

    first = TrackingSession(settings, notebook_path="held.ipynb")

    def train(i):
        model = LogisticRegression(C=1.0 + i).fit(X, y)
        first.record(FitRecord(model=model, model_id=f"m{i}", var=f"model_{i}", cls="LogisticRegression",
                               params=model.get_params(), X=X))
        first.record(MetricRecord(model_ids=[f"m{i}"], name="acc", value=0.5 + i / 10))

    train(0)
    train(1)
    _wait_for(held)  # the recorder is inside its first store call
    train(2)  # still queued
    assert first.close(timeout=1.0) is False
    first._recorder.join(60)  # the held call ends, is acknowledged, and the thread stops
    assert not first._recorder.alive
    (spool_file,) = (tmp_path / "spool").glob("*.jsonl")
    lines = [json.loads(line) for line in spool_file.read_text().splitlines()[1:]]
    assert [line for line in lines if "ack" in line and line.get("run_id")]  # the session's run was created
    # the models, not saved yet (the recorder saves each right before sending it), were pickled
    assert [bool(line.get("pickle")) for line in lines if line.get("op") == "log_model"] == [True] * 3

    pickles = [line["pickle"] for line in lines if line.get("op") == "log_model"]
    assert all(os.stat(p).st_mode & 0o077 == 0 for p in pickles)  # the user's alone
    if tampered:  # another user could have replaced it: it must not be loaded
        os.chmod(pickles[1], 0o666)

    monkeypatch.delenv(HOLD_ENV)
    second = TrackingSession(settings, notebook_path="held.ipynb")
    assert second.flush(120) is True
    second.close(60)
    assert not list((tmp_path / "spool").glob("*.jsonl"))
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("held.ipynb")
    (session_run,) = client.search_runs([exp.experiment_id], "tags.`flock.kind` = 'session'")
    assert session_run.data.tags["flock.session"] == first.session_id and session_run.info.status == "FINISHED"
    fits = client.search_runs([exp.experiment_id], "tags.`flock.kind` = 'fit'", order_by=["attributes.start_time"])
    assert [r.data.tags["flock.model.var"] for r in fits] == ["model_0", "model_1", "model_2"]
    for i, run in enumerate(fits):
        assert run.data.tags["mlflow.parentRunId"] == session_run.info.run_id
        assert run.data.params["C"] == str(1.0 + i)
        assert [m.value for m in client.get_metric_history(run.info.run_id, "acc")] == [0.5 + i / 10]
        refused = tampered and i == 1
        assert len(run.outputs.model_outputs) == (0 if refused else 1)
        if refused:
            assert run.data.tags["flock.model.logged"] == "false"
            assert "not private to this user" in run.data.tags["flock.model.error"]


def test_a_spool_written_before_the_store_was_resolved_is_adopted_on_that_store(tmp_path):
    """At exit the recorder may not have resolved its store yet (mlflow half imported): the exit
    path names it from the configuration, and a session on that store adopts the file."""
    import mlflow

    from flock_nbext.tracking.spool import early_fingerprint, store_names

    early = Spool(tmp_path, "early", early_fingerprint(None))
    early.append(ops(1))
    early.release()
    other = Spool(tmp_path, "elsewhere", early_fingerprint("sqlite:////elsewhere/mlflow.db"))
    other.append(ops(1))
    other.release()
    (adopted,) = Spool.orphans(tmp_path, store_names(mlflow.get_tracking_uri(), None), own_session="me")
    assert adopted.session_id == "early"
    adopted.release()

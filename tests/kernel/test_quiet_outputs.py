"""In a real kernel, a cell's outputs hold only what the user's code prints: never flock's or MLflow's
background chatter (importing mlflow, its INFO lines, its warnings), even when the recorder works
while that very cell runs."""

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_notebook

from tests.kernel.notebook_runner import kernel_env, run_notebook

CELLS = [
    "from sklearn.datasets import load_iris\nfrom sklearn.linear_model import LogisticRegression\n"
    "from sklearn.metrics import accuracy_score\nX, y = load_iris(return_X_y=True, as_frame=True)",
    "clf = LogisticRegression(max_iter=200).fit(X, y)\nacc = accuracy_score(y, clf.predict(X))\nprint('trained')",
    # the recorder imports mlflow, creates the store and writes the run while this cell runs
    "%flock flush\nprint('flushed')",
    "clf2 = LogisticRegression(max_iter=1000).fit(X, y)\n%flock flush\nprint('again')",
]


def test_cell_outputs_never_carry_flock_or_mlflow_noise(tmp_path):
    nb = new_notebook(cells=[new_code_cell(c) for c in CELLS],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    env = kernel_env({"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db", "FLOCK_SPOOL_DIR": str(tmp_path / "s"),
                      "FLOCK_CONFIG": str(tmp_path / "none.toml"), "FLOCK_EXPERIMENT": "quiet"})
    run_notebook(nb, cwd=tmp_path, flock=True, env=env, timeout=300)
    texts = []
    for cell in nb.cells:
        text = "".join(o.get("text", "") for o in cell.outputs if o["output_type"] == "stream")
        assert not [o for o in cell.outputs if o["output_type"] == "error"], cell.outputs
        texts.append(text)
    assert texts[0] == ""
    assert texts[1] == "trained\n"
    assert texts[2] == "flock: everything is logged\nflushed\n"
    assert texts[3] == "flock: everything is logged\nagain\n"

    import mlflow

    client = mlflow.MlflowClient(env["MLFLOW_TRACKING_URI"])
    (experiment,) = client.search_experiments(filter_string="name = 'quiet'")
    fits = client.search_runs([experiment.experiment_id], filter_string="tags.`flock.kind` = 'fit'")
    assert sorted(r.data.tags["flock.model.var"] for r in fits) == ["clf", "clf2"]


def test_records_left_at_kernel_shutdown_reach_mlflow_at_once_or_through_the_spool(tmp_path):
    """A Run All ends and the kernel is shut down at once, as Jupyter does it (kill after 5 s): flock's
    deferred records are flushed in that window, and what did not fit in it is spooled and sent by
    the next session, wherever the recorder thread was (see the fault test below)."""
    import mlflow
    from jupyter_client.manager import start_new_kernel

    from flock_nbext.config import Settings
    from flock_nbext.tracking.session import TrackingSession

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.MlflowClient(uri).search_experiments()  # an existing store (creating one takes seconds of migrations)
    env = kernel_env({"MLFLOW_TRACKING_URI": uri, "FLOCK_SPOOL_DIR": str(tmp_path / "s"),
                      "FLOCK_CONFIG": str(tmp_path / "none.toml"), "FLOCK_EXPERIMENT": "shutdown"})
    km, kc = start_new_kernel(kernel_name="python3", env=env, extra_arguments=["--ext=flock"], cwd=str(tmp_path))
    try:
        for code in [CELLS[0]] + [f"m{i} = LogisticRegression(C={i + 1}, max_iter=500).fit(X, y)" for i in range(3)]:
            reply = kc.execute_interactive(code, timeout=120)
            assert reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)  # Jupyter's own window: the kernel is killed after 5 s

    later = TrackingSession(Settings(tracking_uri=uri, spool_dir=str(tmp_path / "s"), experiment="shutdown"))
    assert later.flush(120)  # replays whatever the first session spooled
    later.close(60)
    client = mlflow.MlflowClient(uri)
    (experiment,) = client.search_experiments(filter_string="name = 'shutdown'")
    fits = client.search_runs([experiment.experiment_id], filter_string="tags.`flock.kind` = 'fit'")
    assert sorted(r.data.tags["flock.model.var"] for r in fits) == ["m0", "m1", "m2"]
    assert all(r.data.tags["flock.model.logged"] == "true" for r in fits)


def test_a_recorder_held_inside_a_store_call_at_shutdown_loses_nothing_and_sends_nothing_twice(tmp_path):
    """Fault injection: FLOCK_FAULT_STORE_HOLD_S makes every store call of the kernel's recorder take a
    minute, so the recorder is inside one (creating the session's run) when the kernel is shut down
    with Jupyter's 5 s window, and the later fits are still queued. The kernel's exit path spools
    every record and operation the store has not acknowledged; the next session sends each once."""
    import time

    import mlflow
    from jupyter_client.manager import start_new_kernel

    from flock_nbext.config import Settings
    from flock_nbext.tracking.session import TrackingSession
    from flock_nbext.tracking.writer import HOLD_ENV, HOLD_MARK_ENV

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.MlflowClient(uri).search_experiments()
    held = tmp_path / "held"
    env = kernel_env({"MLFLOW_TRACKING_URI": uri, "FLOCK_SPOOL_DIR": str(tmp_path / "s"),
                      "FLOCK_CONFIG": str(tmp_path / "none.toml"), "FLOCK_EXPERIMENT": "held",
                      HOLD_ENV: "60", HOLD_MARK_ENV: str(held)})
    km, kc = start_new_kernel(kernel_name="python3", env=env, extra_arguments=["--ext=flock"], cwd=str(tmp_path))

    def run(code):
        reply = kc.execute_interactive(code, timeout=120)
        assert reply["content"]["status"] == "ok"

    try:
        run(CELLS[0])
        run(train(0))
        end = time.monotonic() + 120
        while not held.exists():  # the recorder is inside its first store call
            assert time.monotonic() < end, "the recorder never reached the store"
            time.sleep(0.1)
        run(train(1))
        run(train(2))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)  # Jupyter's own window: the kernel is killed after 5 s
    assert list((tmp_path / "s").glob("*.jsonl"))

    later = TrackingSession(Settings(tracking_uri=uri, spool_dir=str(tmp_path / "s"), experiment="held"))
    assert later.flush(120)
    later.close(60)
    client = mlflow.MlflowClient(uri)
    (experiment,) = client.search_experiments(filter_string="name = 'held'")
    (session_run,) = client.search_runs([experiment.experiment_id], filter_string="tags.`flock.kind` = 'session'")
    fits = client.search_runs([experiment.experiment_id], filter_string="tags.`flock.kind` = 'fit'",
                              order_by=["attributes.start_time"])
    assert [r.data.tags["flock.model.var"] for r in fits] == ["m0", "m1", "m2"]
    for i, run_ in enumerate(fits):
        assert run_.data.tags["mlflow.parentRunId"] == session_run.info.run_id
        assert run_.data.params["C"] == str(i + 1)
        history = client.get_metric_history(run_.info.run_id, "accuracy_score")
        assert len(history) == 1 and 0 < history[0].value <= 1
        assert len(run_.outputs.model_outputs) == 1


def train(i):
    return (f"m{i} = LogisticRegression(C={i + 1}, max_iter=500).fit(X, y)\n"
            f"acc{i} = accuracy_score(y, m{i}.predict(X))")

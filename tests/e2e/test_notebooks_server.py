"""A notebook tracked over HTTP to a real `mlflow server`, which is stopped mid-notebook and comes back.

Cells keep running while the server is down (flock spools); after it returns, `%flock flush` replays
the spool and every run, param and metric is in the store, attributed as without the outage.
"""

from __future__ import annotations

import nbformat
from mlflow.tracking import MlflowClient
from nbformat.v4 import new_code_cell, new_notebook

from tests.fixtures.mlflow_server import mlflow_server  # noqa: F401  (module-scoped real server)
from tests.kernel.notebook_runner import kernel_env, run_notebook

CELLS = [
    "import numpy as np\nfrom sklearn.linear_model import LogisticRegression\nfrom sklearn.metrics import accuracy_score\n"
    "rng = np.random.default_rng(1)\nX = rng.normal(size=(120, 3))\ny = (X[:, 0] + X[:, 2] > 0).astype(int)",
    "first = LogisticRegression(C=0.3).fit(X, y)\nacc_first = accuracy_score(y, first.predict(X))\n%flock flush",
    # the server is stopped after the cell above: these cells run while it is down
    "second = LogisticRegression(C=3.0).fit(X, y)\nacc_second = accuracy_score(y, second.predict(X))",
    "third = LogisticRegression(C=30.0, max_iter=500).fit(X, y)\nacc_third = accuracy_score(y, third.predict(X))\n"
    "print(round(acc_third, 4))",
    # the server is started again after the cell above
    "x = 1",
]


def test_server_outage_mid_notebook_loses_nothing(mlflow_server, tmp_path):  # noqa: F811
    env = kernel_env(
        {
            "MLFLOW_TRACKING_URI": mlflow_server.uri,
            "FLOCK_EXPERIMENT": "outage-notebook",
            "FLOCK_FLUSH_INTERVAL_MS": "50",
        }
    )
    nb = new_notebook(
        cells=[new_code_cell(c) for c in CELLS],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    events = []

    def on_cell(index, _seconds):
        if index == 1:
            mlflow_server.stop()
            events.append("stopped")
        elif index == 3:
            mlflow_server.start()
            events.append("started")

    [flushed] = run_notebook(nb, cwd=tmp_path, flock=True, env=env, on_cell=on_cell, after=["%flock flush"])
    assert events == ["stopped", "started"]
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    assert "flock: everything is logged" in "".join(o.get("text", "") for o in flushed)
    printed = "".join(o.get("text", "") for o in nb.cells[3].outputs if o.get("name") == "stdout")

    client = MlflowClient(mlflow_server.uri)
    experiment = client.get_experiment_by_name("outage-notebook")
    runs = {r.data.tags.get("flock.model.var"): r for r in client.search_runs([experiment.experiment_id])}
    assert {"first", "second", "third"} <= set(runs)
    assert [runs[v].data.params["C"] for v in ("first", "second", "third")] == ["0.3", "3.0", "30.0"]
    assert abs(runs["third"].data.metrics["accuracy_score"] - float(printed)) < 1e-4
    for var in ("first", "second", "third"):
        assert "accuracy_score" in runs[var].data.metrics
        assert runs[var].data.tags["mlflow.parentRunId"] == runs["first"].data.tags["mlflow.parentRunId"]
    nbformat.validate(nb)

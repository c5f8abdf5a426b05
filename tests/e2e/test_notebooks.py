"""Real notebooks in real kernels (nbclient) logging to a real MLflow store, checked with MlflowClient.

The demo notebook (binder/demo.ipynb, the seed talk's slide 8 plus `%load_ext flock`) runs once
per module on freshly generated CSVs; each test reads one aspect of what it logged.
"""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from mlflow.tracking import MlflowClient

from tests.kernel.notebook_runner import ROOT, kernel_env, run_notebook

DEMO = ROOT / "binder" / "demo.ipynb"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Execute the demo once with its own SQLite store; returns (client, experiment, parent, child, nb)."""
    work = tmp_path_factory.mktemp("demo")
    subprocess.run([sys.executable, str(ROOT / "binder" / "make_data.py"), "--out", str(work / "data"),
                    "--train-rows", "3000", "--test-rows", "1000"], check=True, capture_output=True)
    uri = f"sqlite:///{work / 'mlflow.db'}"
    env = kernel_env({"MLFLOW_TRACKING_URI": uri, "JPY_SESSION_NAME": str(DEMO), "FLOCK_SPOOL_DIR": str(work / "spool"),
                      "FLOCK_CONFIG": str(work / "none.toml")})
    nb = nbformat.read(DEMO, as_version=4)
    [flushed] = run_notebook(nb, cwd=work, flock=False, env=env, after=["%flock flush"])
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    assert "flock: everything is logged" in "".join(o.get("text", "") for o in flushed)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(str(DEMO))
    assert experiment is not None, [e.name for e in client.search_experiments()]
    runs = client.search_runs([experiment.experiment_id])
    [child] = [r for r in runs if r.data.tags.get("flock.model.var") == "clf"]
    [parent] = [r for r in runs if r.info.run_id == child.data.tags.get("mlflow.parentRunId")]
    return {"client": client, "uri": uri, "experiment": experiment, "parent": parent, "child": child, "nb": nb,
            "work": work}


def test_one_session_run_with_a_nested_run_for_the_model(demo):
    parent, child = demo["parent"], demo["child"]
    assert parent.data.tags["flock.notebook"] == str(DEMO) and parent.data.tags["flock.session"]
    assert child.data.tags["flock.model.class"].endswith("LGBMClassifier")
    assert child.data.tags["flock.cell"] == "4"  # the fifth code cell (0-based code-cell index)


def test_hyperparameters_written_and_defaults(demo):
    params = demo["child"].data.params
    assert params["num_leaves"] == "8" and params["n_estimators"] == "100"
    assert params["learning_rate"] == "0.1" and params["boosting_type"] == "gbdt"  # defaults too
    assert set(json.loads(demo["child"].data.tags["flock.params.explicit"])) == {"num_leaves", "n_estimators"}


def test_precision_is_attributed_to_the_model(demo):
    metrics = demo["child"].data.metrics
    [name] = [k for k in metrics if "precision" in k]
    printed = next(o["text"] for c in demo["nb"].cells for o in c.get("outputs", []) if "Precision" in o.get("text", ""))
    assert abs(metrics[name] - float(printed.split(":")[1])) < 1e-12
    assert "precision" not in " ".join(demo["parent"].data.metrics)


def test_model_is_logged_and_loads(demo):
    import mlflow
    import pandas as pd

    mlflow.set_tracking_uri(demo["uri"])
    models = mlflow.search_logged_models(experiment_ids=[demo["experiment"].experiment_id], output_format="list")
    [model] = [m for m in models if m.source_run_id == demo["child"].info.run_id]
    loaded = mlflow.pyfunc.load_model(model.model_uri)
    test = pd.read_csv(demo["work"] / "data" / "global_test_x_label_with_mapping.csv")
    predictions = loaded.predict(test.iloc[:5, :-1].to_numpy())
    assert len(predictions) == 5


def test_training_csv_is_an_input_with_its_columns(demo):
    inputs = demo["child"].inputs.dataset_inputs
    sources = {json.dumps(i.dataset.source): i for i in inputs}
    train = [i for s, i in sources.items() if "global_train_x_label_with_mapping.csv" in s]
    assert train, sources.keys()
    schema = json.loads(train[0].dataset.schema)
    names = [c["name"] for c in schema["mlflow_colspec"]]
    assert names[:3] == ["f0", "f1", "f2"] and names[-1] == "label" and len(names) == 101


def test_features_and_label_are_the_real_columns(demo):
    tags = demo["child"].data.tags
    assert json.loads(tags["flock.features"]) == [f"f{i}" for i in range(100)]
    assert tags["flock.label"] == "label"


def test_lineage_and_code_artifacts(demo):
    client, run_id = demo["client"], demo["child"].info.run_id
    names = {a.path for a in client.list_artifacts(run_id)}
    assert "lineage.json" in names
    lineage = json.loads(open(client.download_artifacts(run_id, "lineage.json")).read())
    assert lineage["schema"] == "flock.lineage/1"
    assert any("global_train_x_label_with_mapping.csv" in json.dumps(s) for s in lineage["data_sources"])
    code = {a.path for a in client.list_artifacts(run_id, "code")}
    assert code, names

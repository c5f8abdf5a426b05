"""A model trained inside a function that one cell defines and a later cell calls, in a real kernel.

The notebook runs through nbclient with `--ext=flock` against a SQLite MLflow store; everything is
read back with MlflowClient: the run, its hyperparameters, the model, the input and the metric.
"""

from __future__ import annotations

import json

import nbformat
from mlflow.tracking import MlflowClient
from nbformat.v4 import new_code_cell, new_notebook

from tests.kernel.notebook_runner import kernel_env, run_notebook

CELLS = [
    "import pandas as pd\nfrom lightgbm import LGBMClassifier\nfrom sklearn.metrics import precision_score\n"
    "data = pd.read_csv('points.csv')\nX = data.drop(columns=['label'])\ny = data['label']",
    "def train(X, y):\n    m = LGBMClassifier(num_leaves=8, n_estimators=20, verbose=-1)\n    m.fit(X, y)\n    return m",
    "model = train(X, y)",
    "print(precision_score(y, model.predict(X), average='macro'))",
]


def test_a_fit_inside_a_function_called_in_a_later_cell_gets_a_complete_run(tmp_path):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    frame["label"] = (frame.a + frame.b > 0).astype(int)
    frame.to_csv(tmp_path / "points.csv", index=False)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    notebook_path = str(tmp_path / "functions.ipynb")
    env = kernel_env({"MLFLOW_TRACKING_URI": uri, "JPY_SESSION_NAME": notebook_path,
                      "FLOCK_SPOOL_DIR": str(tmp_path / "spool"), "FLOCK_CONFIG": str(tmp_path / "none.toml")})
    nb = new_notebook(cells=[new_code_cell(c) for c in CELLS],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    nbformat.validator.normalize(nb)  # cell ids, as a notebook saved by JupyterLab has
    [flushed] = run_notebook(nb, cwd=tmp_path, flock=True, env=env, after=["%flock flush"])
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    assert "flock: everything is logged" in "".join(o.get("text", "") for o in flushed)

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(notebook_path)
    [run] = [r for r in client.search_runs([experiment.experiment_id]) if r.data.tags.get("flock.model.var")]
    tags, params = run.data.tags, run.data.params
    assert tags["flock.model.var"] == "model" and tags["flock.model.class"].endswith("LGBMClassifier")
    assert tags["flock.cell"] == "2" and tags.get("mlflow.parentRunId")  # the calling cell, under the session
    assert params["num_leaves"] == "8" and params["n_estimators"] == "20"
    assert params["learning_rate"] == "0.1"  # a default, read from the live model at fit time
    assert set(json.loads(tags["flock.params.explicit"])) == {"num_leaves", "n_estimators", "verbose"}

    printed = "".join(o.get("text", "") for o in nb.cells[3].outputs)
    [name] = [k for k in run.data.metrics if "precision" in k]
    assert abs(run.data.metrics[name] - float(printed)) < 1e-12  # cell 3's metric lands on the model's run

    [dataset] = [d.dataset for d in run.inputs.dataset_inputs]
    assert json.loads(dataset.source)["uri"].endswith("points.csv")
    assert [f["name"] for f in json.loads(dataset.schema)["mlflow_colspec"]] == ["a", "b", "c", "label"]

    local = client.download_artifacts(run.info.run_id, "lineage.json", str(tmp_path))
    lineage = json.loads(open(local).read())
    [model] = lineage["models"]
    assert model["hyperparameters"]["num_leaves"] == 8
    assert model["training_data"]["features"] == {"all_except": ["label"]}
    assert model["training_data"]["label"] == "label" and model["training_data"]["sources"]

    import mlflow

    mlflow.set_tracking_uri(uri)
    [logged] = [m for m in mlflow.search_logged_models(experiment_ids=[experiment.experiment_id],
                                                       output_format="list")
                if m.source_run_id == run.info.run_id]
    loaded = mlflow.pyfunc.load_model(logged.model_uri)
    assert len(loaded.predict(frame.drop(columns=["label"]).iloc[:4])) == 4

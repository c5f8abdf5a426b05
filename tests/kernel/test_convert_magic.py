"""`%flock_convert VAR` and `%%flock_convert`: convert tracked models, log them to their runs, print the report."""

from __future__ import annotations

import mlflow

TRAIN = ("import numpy as np, lightgbm as lgb\nrng = np.random.default_rng(0)\nX = rng.normal(size=(300, 5))\n"
         "y = (X[:, 0] > 0).astype(int)\n")


def onnx_models_of(run_id):
    experiment_ids = [e.experiment_id for e in mlflow.MlflowClient().search_experiments()]
    models = mlflow.search_logged_models(experiment_ids=experiment_ids, output_format="list")
    return [m for m in models if m.source_run_id == run_id and m.name == "onnx_model"]


def test_line_magic_converts_logs_and_prints_the_report(notebook, capsys):
    notebook.run_cell(TRAIN + "clf = lgb.LGBMClassifier(n_estimators=10, num_leaves=7, verbose=-1)\nclf.fit(X, y)")
    capsys.readouterr()
    notebook.run_cell("%flock_convert clf --batch-size 16 --threads 1 --tolerance 1e-4")
    out = capsys.readouterr().out
    assert "clf -> ONNX" in out and "candidate" in out and "* chosen" in out, out
    assert "logged as onnx_model to run" in out
    [record] = notebook.ext.tracker.fits.values()
    run_id = notebook.ext.tracker.run_id_for(record.model_id)
    assert run_id in out and len(onnx_models_of(run_id)) == 1


def test_cell_magic_converts_every_model_the_cell_trains(notebook, capsys):
    notebook.run_cell(TRAIN)
    notebook.run_cell("%%flock_convert --threads 1\n"
                      "a = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y)\n"
                      "b = lgb.LGBMRegressor(n_estimators=5, verbose=-1).fit(X, X[:, 1])")
    out = capsys.readouterr().out
    assert "a -> ONNX" in out and "b -> ONNX" in out and out.count("logged as onnx_model") == 2, out


def test_bad_usage_is_one_clear_line(notebook, capsys):
    notebook.run_cell("%flock_convert")
    notebook.run_cell("%flock_convert nothing_here")
    notebook.run_cell("%flock_convert x --threads many")
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == ["flock: usage: %flock_convert VAR [--batch-size N] [--threads T] [--tolerance X]",
                     "flock: no model named 'nothing_here' in this notebook: give the variable of a trained model",
                     "flock: --threads expects a number, got 'many'"]

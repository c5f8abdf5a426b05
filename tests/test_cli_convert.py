"""`flock convert` through a real subprocess: model files of each kind, MLflow models, samples, errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

ROOT = Path(__file__).resolve().parents[1]


def flock_convert(*args: str, through_flock: bool = False) -> subprocess.CompletedProcess:
    """Run the CLI in a fresh interpreter (one timing round keeps the test short).

    through_flock=True goes through `flock convert` (flock_nbext.cli's subcommand table).
    """
    entry = ["flock_nbext.cli", "convert"] if through_flock else ["flock_nbext.cli_convert"]
    return subprocess.run([sys.executable, "-m", *entry, *args, "--rounds", "1"], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((300, 6))
    return X, (X[:, 0] > 0.2).astype(int)


def onnx_proba(path: Path, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["probabilities"], {"X": X.astype(np.float32)})[0]


def test_lightgbm_text_model_with_a_csv_sample(tmp_path, data):
    import lightgbm as lgb

    X, y = data
    booster = lgb.train({"objective": "binary", "num_leaves": 6, "verbose": -1}, lgb.Dataset(X, y), 10)
    booster.save_model(str(tmp_path / "model.txt"))
    np.savetxt(tmp_path / "rows.csv", X[:50], delimiter=",", header=",".join(f"f{i}" for i in range(6)),
               comments="")
    out = flock_convert(str(tmp_path / "model.txt"), "--out", str(tmp_path / "m.onnx"), "--sample",
                        str(tmp_path / "rows.csv"), "--batch-size", "32", "--threads", "1", through_flock=True)
    assert out.returncode == 0, out.stderr
    assert "wrote" in out.stdout and "batch-32 rows/s" in out.stdout and " *" in out.stdout
    np.testing.assert_allclose(onnx_proba(tmp_path / "m.onnx", X)[:, 1], booster.predict(X), atol=1e-5)


def test_xgboost_json_and_a_pickled_forest(tmp_path, data):
    import joblib
    import xgboost
    from sklearn.ensemble import RandomForestClassifier

    X, y = data
    xgb = xgboost.XGBClassifier(n_estimators=10, max_depth=3).fit(X, y)
    xgb.save_model(str(tmp_path / "xgb.json"))
    np.save(tmp_path / "rows.npy", X[:60])
    out = flock_convert(str(tmp_path / "xgb.json"), "--out", str(tmp_path / "x.onnx"), "--sample",
                        str(tmp_path / "rows.npy"), "--quiet")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(tmp_path / "x.onnx")
    np.testing.assert_allclose(onnx_proba(tmp_path / "x.onnx", X), xgb.predict_proba(X), atol=1e-5)

    forest = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    joblib.dump(forest, tmp_path / "forest.joblib")
    out = flock_convert(str(tmp_path / "forest.joblib"), "--out", str(tmp_path / "f.onnx"), "--sample",
                        str(tmp_path / "rows.npy"), "--report", "markdown")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("| candidate |")
    np.testing.assert_allclose(onnx_proba(tmp_path / "f.onnx", X), forest.predict_proba(X), atol=1e-5)


def test_mlflow_run_uri(tmp_path, data):
    import mlflow
    from sklearn.linear_model import LogisticRegression

    X, y = data
    model = LogisticRegression().fit(X, y)
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(model, name="model", pip_requirements=["scikit-learn"])
    out = flock_convert(f"runs:/{run.info.run_id}/model", "--out", str(tmp_path / "lr.onnx"))
    assert out.returncode == 0, out.stderr
    np.testing.assert_allclose(onnx_proba(tmp_path / "lr.onnx", X), model.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("make_args, message", [
    (lambda p: [str(p / "nope.txt"), "--out", str(p / "m.onnx")], "model file .*nope.txt does not exist"),
    (lambda p: [str(p), "--out", str(p / "m.onnx")], "is a folder without an MLmodel file"),
    (lambda p: [str(p / "garbage.pkl"), "--out", str(p / "m.onnx")], "cannot load .*garbage.pkl"),
    (lambda p: [str(p / "model.txt"), "--out", str(p / "m.onnx"), "--sample", str(p / "bad.csv")],
     "sample has 2 features but lightgbm.Booster takes 6"),
])
def test_errors_are_one_line_and_exit_1(tmp_path, data, make_args, message):
    import lightgbm as lgb

    X, y = data
    lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(X, y), 3).save_model(str(tmp_path / "model.txt"))
    (tmp_path / "garbage.pkl").write_bytes(b"not a pickle")
    np.savetxt(tmp_path / "bad.csv", X[:5, :2], delimiter=",")
    out = flock_convert(*make_args(tmp_path))
    assert out.returncode == 1
    assert out.stderr.startswith("flock convert: error: ") and len(out.stderr.strip().splitlines()) == 1
    assert __import__("re").search(message, out.stderr), out.stderr

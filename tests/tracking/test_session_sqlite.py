"""TrackingSession against a real SQLite MLflow store: the run model, what each run carries, the user's own MLflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import classification_report, confusion_matrix, precision_score
from sklearn.tree import DecisionTreeClassifier

from flock_nbext.config import Settings
from flock_nbext.tracking.records import DatasetRecord, FitRecord, MetricRecord, SqlReadRecord
from flock_nbext.tracking.runs import autolog_run_for, user_mlflow_state
from flock_nbext.tracking.session import TrackingSession

PASSWORD = "s3cr3t-Pa55"


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.random((80, 4)), columns=["f0", "f1", "f2", "f3"])
    y = (X.f0 + X.f1 > 1).astype(int)
    return X, y


@pytest.fixture
def session(tmp_path):
    s = TrackingSession(Settings(spool_dir=str(tmp_path / "spool"), flush_interval_ms=50),
                        notebook_path=str(tmp_path / "demo.ipynb"))
    yield s
    s.close()


def fit_record(model, X, *, model_id="m-clf", var="clf", explicit=None, inputs=(), parent_run_id=None,
               autolog_run_id=None, cell=3, lineage=None, code=None):
    return FitRecord(
        model=model, model_id=model_id, var=var, cls=f"{type(model).__module__}.{type(model).__name__}",
        cell=cell, execution_count=cell + 1 if cell is not None else None,
        explicit_params=dict(explicit or {}), params=model.get_params(deep=False),
        features=list(X.columns), label="y", X=X, inputs=list(inputs),
        lineage=lineage if lineage is not None else {"schema": "flock.lineage/1", "nodes": [{"id": model_id}]},
        code=code if code is not None else f"{var} = {type(model).__name__}().fit(X, y)\n",
        parent_run_id=parent_run_id, autolog_run_id=autolog_run_id,
    )


def train_csv(X, tmp_path, name="train"):
    path = tmp_path / f"{name}.csv"
    X.to_csv(path, index=False)
    return DatasetRecord(name=name, kind="file", source=str(path), columns=list(X.columns),
                         schema=[(c, str(t)) for c, t in X.dtypes.items()], n_rows=len(X), role="training",
                         source_id=f"file:{path}", data=X)


def artifact_text(client, run_id, path):
    local = client.download_artifacts(run_id, path)
    with open(local, encoding="utf-8") as fh:
        return fh.read()


def artifact_paths(client, run_id, path=None):
    out = []
    for info in client.list_artifacts(run_id, path):
        out += artifact_paths(client, run_id, info.path) if info.is_dir else [info.path]
    return out


def test_a_fit_becomes_a_nested_child_run_with_everything(session, data, tmp_path):
    X, y = data
    clf = LogisticRegression(C=0.5, max_iter=200).fit(X, y)
    session.record(fit_record(clf, X, explicit={"C": 0.5, "max_iter": 200}, inputs=[train_csv(X, tmp_path)]))
    assert session.flush(60)
    run_id = session.run_id_for("m-clf")
    client = MlflowClient()
    run = client.get_run(run_id)

    # params: every hyperparameter, defaults included; the explicit ones marked
    assert run.data.params["C"] == "0.5"
    assert run.data.params["max_iter"] == "200"
    assert run.data.params["solver"] == "lbfgs"
    assert json.loads(run.data.tags["flock.params.explicit"]) == ["C", "max_iter"]
    # tags
    tags = run.data.tags
    assert tags["flock.model.var"] == "clf"
    assert tags["flock.model.class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert tags["flock.cell"] == "3"
    assert tags["flock.kind"] == "fit"
    assert tags["flock.session"] == session.session_id
    assert tags["flock.notebook"] == str(tmp_path / "demo.ipynb")
    assert json.loads(tags["flock.features"]) == ["f0", "f1", "f2", "f3"]
    # nested under the session's parent run, in the experiment named after the notebook
    parent = client.get_run(tags["mlflow.parentRunId"])
    assert parent.data.tags["flock.kind"] == "session"
    assert parent.data.tags["flock.session"] == session.session_id
    assert client.get_experiment(run.info.experiment_id).name == str(tmp_path / "demo.ipynb")
    assert run.info.status == "FINISHED"
    # inputs: source, schema, digest, never values
    (dataset_input,) = run.inputs.dataset_inputs
    ds = dataset_input.dataset
    assert json.loads(ds.source) == {"uri": str(tmp_path / "train.csv")}
    assert [c["name"] for c in json.loads(ds.schema)["mlflow_colspec"]] == ["f0", "f1", "f2", "f3"]
    assert {c["type"] for c in json.loads(ds.schema)["mlflow_colspec"]} == {"double"}
    assert len(ds.digest) == 8
    assert json.loads(ds.profile)["num_rows"] == 80
    assert f"{X.iloc[0, 0]:.6f}"[:6] not in ds.source + ds.schema + ds.profile
    assert {t.key: t.value for t in dataset_input.tags}["mlflow.data.context"] == "training"
    # artifacts: lineage and code
    paths = artifact_paths(client, run_id)
    assert "lineage.json" in paths and "code/cells.py" in paths
    assert json.loads(artifact_text(client, run_id, "lineage.json"))["schema"] == "flock.lineage/1"
    assert "LogisticRegression().fit" in artifact_text(client, run_id, "code/cells.py")
    # the model, native flavor with signature and input example, loadable through the run
    loaded = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X.head(10)), clf.predict(X.head(10)))
    info = mlflow.models.get_model_info(f"runs:/{run_id}/model")
    assert info.signature is not None and info.signature.inputs.input_names() == ["f0", "f1", "f2", "f3"]
    assert "sklearn" in info.flavors
    assert any(o.model_id for o in run.outputs.model_outputs)


def test_refit_makes_a_new_child_and_metrics_follow_lineage(session, data):
    X, y = data
    clf = LogisticRegression().fit(X, y)
    tree = DecisionTreeClassifier(max_depth=2).fit(X, y)
    session.record(fit_record(clf, X))
    session.record(fit_record(tree, X, model_id="m-tree", var="tree", explicit={"max_depth": 2}))
    clf2 = LogisticRegression(C=2.0).fit(X, y)
    session.record(fit_record(clf2, X, explicit={"C": 2.0}, cell=5))  # re-run: same model id, new run
    session.record(MetricRecord(model_ids=["m-clf"], name="precision_score", value=precision_score(y, clf2.predict(X)),
                                function="sklearn.metrics.precision_score", params={"average": "macro"}))
    # one metric comparing two models lands on both
    session.record(MetricRecord(model_ids=["m-clf", "m-tree"], name="agreement",
                                value=float((clf2.predict(X) == tree.predict(X)).mean())))
    session.record(MetricRecord(model_ids=["m-tree"], name="confusion_matrix",
                                value=confusion_matrix(y, tree.predict(X))))
    session.record(MetricRecord(model_ids=["m-tree"], name="classification_report",
                                value=classification_report(y, tree.predict(X))))
    session.record(MetricRecord(model_ids=["m-tree"], name="report_dict",
                                value=classification_report(y, tree.predict(X), output_dict=True)))
    assert session.flush(60)
    client = MlflowClient()
    clf_run = client.get_run(session.run_id_for("m-clf"))
    tree_run = client.get_run(session.run_id_for("m-tree"))
    assert clf_run.data.tags["flock.cell"] == "5" and clf_run.data.params["C"] == "2.0"
    runs = client.search_runs([clf_run.info.experiment_id], "tags.`flock.model.var` = 'clf'")
    assert len(runs) == 2  # the first fit keeps its own run
    assert clf_run.data.metrics["precision_score"] == pytest.approx(precision_score(y, clf2.predict(X)))
    assert clf_run.data.tags["flock.metric.precision_score.function"] == "sklearn.metrics.precision_score"
    assert json.loads(clf_run.data.tags["flock.metric.precision_score.params"]) == {"average": "macro"}
    assert "precision_score" not in tree_run.data.metrics
    assert clf_run.data.metrics["agreement"] == tree_run.data.metrics["agreement"]
    first = [r for r in runs if r.info.run_id != clf_run.info.run_id][0]
    assert "agreement" not in first.data.metrics
    # non-scalar results are artifacts, not metrics
    assert "confusion_matrix" not in tree_run.data.metrics
    matrix = json.loads(artifact_text(client, tree_run.info.run_id, "metrics/confusion_matrix.json"))
    assert matrix == confusion_matrix(y, tree.predict(X)).tolist()
    assert "precision" in artifact_text(client, tree_run.info.run_id, "metrics/classification_report.txt")
    report = json.loads(artifact_text(client, tree_run.info.run_id, "metrics/report_dict.json"))
    assert "macro avg" in report


def test_a_metric_before_its_model_waits_for_the_run(session, data):
    X, y = data
    reg = LinearRegression().fit(X, y)
    session.record(MetricRecord(model_ids=["m-reg"], name="r2", value=np.float64(0.75)))
    session.record(fit_record(reg, X, model_id="m-reg", var="reg"))
    assert session.flush(60)
    run = MlflowClient().get_run(session.run_id_for("m-reg"))
    assert run.data.metrics["r2"] == 0.75


def test_sql_inputs_name_query_and_database_without_the_password(session, data, tmp_path):
    X, y = data
    query = "SELECT f0, f1, f2, f3, y FROM sales.train WHERE region = 'EU'"
    sql = DatasetRecord(name="query@warehouse", kind="sql", source=query,
                        database=f"postgresql://analyst:{PASSWORD}@db.example.com:5432/warehouse",
                        tables=["sales.train"], source_id="sql:1")
    session.record(SqlReadRecord(dataset=sql, cell=1))
    clf = LogisticRegression().fit(X, y)
    used = DatasetRecord(name="query@warehouse", kind="sql", columns=list(X.columns),
                         schema=[(c, "float64") for c in X.columns], n_rows=len(X), source_id="sql:1", data=X)
    session.record(fit_record(
        clf, X, inputs=[used],
        explicit={"C": 1.0},
        lineage={"schema": "flock.lineage/1", "sources": [{"url": f"mssql+pyodbc://sa:{PASSWORD}@srv/db",
                                                           "password": PASSWORD}]},
        code=f'engine = create_engine("postgresql://analyst:{PASSWORD}@db/warehouse")\npassword = "{PASSWORD}"\n'))
    assert session.flush(60)
    client = MlflowClient()
    run_id = session.run_id_for("m-clf")
    run = client.get_run(run_id)
    source = json.loads(run.inputs.dataset_inputs[0].dataset.source)
    assert source["query"] == query
    assert source["tables"] == ["sales.train"]
    assert source["database"].startswith("postgresql://analyst:***@db.example.com")
    assert run.inputs.dataset_inputs[0].dataset.source_type == "flock_sql"
    everything = json.dumps([run.data.params, run.data.tags, source]) + "".join(
        artifact_text(client, run_id, p) for p in artifact_paths(client, run_id) if not p.startswith("model"))
    assert PASSWORD not in everything


def test_long_params_and_secret_params_and_odd_names(session, data):
    X, y = data
    clf = LogisticRegression().fit(X, y)
    long_value = "x" * 7000
    record = FitRecord(model=clf, model_id="m-odd", var="clf", cls="sklearn.linear_model.LogisticRegression",
                       params={**clf.get_params(), "notes": long_value, "db_password": PASSWORD,
                               "conn": f"Server=s;Database=d;UID=u;PWD={PASSWORD};", "weird key?*": 1},
                       explicit_params={"notes": long_value}, X=X)
    session.record(record)
    assert session.flush(60)
    client = MlflowClient()
    run_id = session.run_id_for("m-odd")
    params = client.get_run(run_id).data.params
    assert "params/notes.txt" in params["notes"] and len(params["notes"]) < 6000
    assert artifact_text(client, run_id, "params/notes.txt") == long_value
    assert params["db_password"] == "***"
    assert PASSWORD not in params["conn"] and "PWD=***" in params["conn"]
    assert params["weird key__"] == "1"


def test_the_users_active_run_becomes_the_parent(session, data):
    X, y = data
    experiment_id = MlflowClient().create_experiment("users-own")  # no set_experiment: global state
    with mlflow.start_run(run_name="mine", experiment_id=experiment_id) as mine:
        mlflow.log_param("owner", "user")
        before = user_mlflow_state()
        clf = LogisticRegression().fit(X, y)
        assert before.active_run_id == mine.info.run_id
        session.record(fit_record(clf, X, parent_run_id=before.active_run_id))
        assert session.flush(60)
        assert mlflow.active_run().info.run_id == mine.info.run_id  # flock did not touch the user's stack
        mlflow.log_metric("user_metric", 1.0)
    client = MlflowClient()
    child = client.get_run(session.run_id_for("m-clf"))
    assert child.data.tags["mlflow.parentRunId"] == mine.info.run_id
    assert child.data.tags["flock.parent"] == "user"
    assert child.info.experiment_id == mine.info.experiment_id
    users = client.get_run(mine.info.run_id)
    assert users.info.status == "FINISHED" and users.data.params == {"owner": "user"}
    assert users.data.metrics == {"user_metric": 1.0}


def test_autolog_keeps_its_params_and_model_and_flock_adds_lineage(session, data, tmp_path):
    X, y = data
    mlflow.sklearn.autolog(log_input_examples=False, log_model_signatures=False, silent=True)
    try:
        before = user_mlflow_state()
        clf = LogisticRegression(C=0.3).fit(X, y)
        after = user_mlflow_state()
        run_id = autolog_run_for(before, after, "sklearn")
        assert run_id is not None
        session.record(fit_record(clf, X, explicit={"C": 0.3}, inputs=[train_csv(X, tmp_path)],
                                  autolog_run_id=run_id))
        session.record(MetricRecord(model_ids=["m-clf"], name="flock_only_metric", value=0.5))
        assert session.flush(60)
    finally:
        mlflow.sklearn.autolog(disable=True)
    client = MlflowClient()
    assert session.run_id_for("m-clf") == run_id
    run = client.get_run(run_id)
    assert run.data.params["C"] == "0.3"  # autolog's, not duplicated by flock
    assert run.data.tags["flock.autolog"] == "true"
    assert run.data.tags["flock.model.var"] == "clf"
    assert "flock_only_metric" not in run.data.metrics  # autolog owns post-training metrics
    assert "lineage.json" in artifact_paths(client, run_id)
    assert any(json.loads(d.dataset.source).get("uri") == str(tmp_path / "train.csv")
               for d in run.inputs.dataset_inputs)
    models = client.search_logged_models(experiment_ids=[run.info.experiment_id])
    assert len([m for m in models if m.source_run_id == run_id]) == 1  # autolog's model only


def test_records_never_raise_and_bad_records_are_skipped(session, data):
    X, y = data

    class Broken:
        def get_params(self):
            raise RuntimeError("boom")

    session.record("not a record")
    session.record(FitRecord(model=Broken(), model_id="m-b", var="b", cls="x.Broken", X=object()))
    session.record(MetricRecord(model_ids=["m-b"], name="weird", value=object()))
    clf = LogisticRegression().fit(X, y)
    session.record(fit_record(clf, X))
    assert session.flush(60)
    assert session.run_id_for("m-clf") is not None
    broken = MlflowClient().get_run(session.run_id_for("m-b"))
    assert broken.data.tags["flock.model.flavor"] == "none"  # no predict(): nothing MLflow can log natively
    assert broken.data.tags["flock.model.logged"] == "false"
    assert broken.data.params == {}


def test_input_example_off_logs_no_example(tmp_path, data):
    X, y = data
    s = TrackingSession(Settings(spool_dir=str(tmp_path / "spool"), input_example=False, flush_interval_ms=50))
    try:
        clf = LogisticRegression().fit(X, y)
        s.record(fit_record(clf, X))
        assert s.flush(60)
        run_id = s.run_id_for("m-clf")
        info = mlflow.models.get_model_info(f"runs:/{run_id}/model")
        assert info.saved_input_example_info is None and info.signature is None
        exp = MlflowClient().get_experiment(MlflowClient().get_run(run_id).info.experiment_id)
        assert exp.name == "flock"  # no notebook path, no experiment setting: the default
    finally:
        s.close()


def test_creating_a_session_does_not_import_mlflow(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        from flock_nbext.config import Settings
        from flock_nbext.tracking.session import TrackingSession
        s = TrackingSession(Settings(spool_dir={str(tmp_path / 'spool')!r}))
        assert "mlflow" not in sys.modules, "mlflow imported at session creation"
        s.close()
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=os.getcwd(), env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_a_script_that_records_and_exits_loses_nothing(tmp_path):
    """No flush, no close: the atexit handler delivers everything before the interpreter ends."""
    code = textwrap.dedent(f"""
        import numpy as np, pandas as pd
        from sklearn.linear_model import LogisticRegression
        from flock_nbext.config import Settings
        from flock_nbext.tracking.records import FitRecord, MetricRecord
        from flock_nbext.tracking.session import TrackingSession
        s = TrackingSession(Settings(spool_dir={str(tmp_path / 'spool')!r}), notebook_path="exit.ipynb")
        X = pd.DataFrame(np.random.default_rng(1).random((30, 2)), columns=["a", "b"]); y = (X.a > .5).astype(int)
        for i in range(3):
            m = LogisticRegression(C=i + 1.0).fit(X, y)
            s.record(FitRecord(model=m, model_id=f"m{{i}}", var=f"m{{i}}", cls="sklearn.linear_model.LogisticRegression",
                               params=m.get_params(), X=X))
            s.record(MetricRecord(model_ids=[f"m{{i}}"], name="score", value=m.score(X, y)))
        print("recorded")
    """)
    env = os.environ.copy()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    client = MlflowClient()
    exp = client.get_experiment_by_name("exit.ipynb")
    runs = client.search_runs([exp.experiment_id], "tags.`flock.kind` = 'fit'")
    assert sorted(r.data.tags["flock.model.var"] for r in runs) == ["m0", "m1", "m2"]
    assert all("score" in r.data.metrics for r in runs)
    assert sorted(r.data.params["C"] for r in runs) == ["1.0", "2.0", "3.0"]
    (parent,) = client.search_runs([exp.experiment_id], "tags.`flock.kind` = 'session'")
    assert parent.info.status == "FINISHED"
    assert not list((tmp_path / "spool").glob("*.jsonl"))


def test_the_metrics_test_set_is_an_evaluation_input_of_the_model(session, data, tmp_path):
    X, y = data
    clf = LogisticRegression().fit(X, y)
    session.record(fit_record(clf, X, inputs=[train_csv(X, tmp_path)]))
    test_set = train_csv(X.iloc[:20], tmp_path, name="test")
    for _ in range(2):  # the same test set twice: one input
        session.record(MetricRecord(model_ids=["m-clf"], name="precision_score",
                                    value=precision_score(y[:20], clf.predict(X.iloc[:20]), average="macro"),
                                    params={"average": "macro"}, inputs=[test_set]))
    assert session.flush(60)
    run = MlflowClient().get_run(session.run_id_for("m-clf"))
    contexts = {d.dataset.name: {t.key: t.value for t in d.tags}["mlflow.data.context"]
                for d in run.inputs.dataset_inputs}
    assert contexts == {"train": "training", "test": "evaluation"}
    assert len(run.inputs.dataset_inputs) == 2
    history = MlflowClient().get_metric_history(run.info.run_id, "precision_score")
    assert sorted(m.step for m in history) == [0, 1]


def test_an_over_long_metric_option_does_not_cost_the_metric(session, data):
    X, y = data
    clf = LogisticRegression().fit(X, y)
    session.record(fit_record(clf, X))
    session.record(MetricRecord(model_ids=["m-clf"], name="score", value=0.5, params={"labels": list(range(3000))}))
    assert session.flush(60)
    run = MlflowClient().get_run(session.run_id_for("m-clf"))
    assert run.data.metrics["score"] == 0.5
    assert run.data.tags["flock.metric.score.params"].endswith("(truncated)")


def test_a_model_the_user_logs_in_their_own_run_is_not_logged_twice(session, data):
    X, y = data
    experiment_id = MlflowClient().create_experiment("users-models")
    session.cell_started()  # as in a kernel: flock writes after the cell
    with mlflow.start_run(experiment_id=experiment_id) as mine:
        clf = LogisticRegression().fit(X, y)
        session.record(fit_record(clf, X, parent_run_id=mine.info.run_id))
        mlflow.sklearn.log_model(clf, name="my_model", pip_requirements=["scikit-learn"])
    session.cell_finished()
    assert session.flush(60)
    client = MlflowClient()
    child = client.get_run(session.run_id_for("m-clf"))
    assert child.data.tags["flock.model.logged"] == "user"
    (model,) = client.search_logged_models(experiment_ids=[experiment_id])
    assert model.name == "my_model" and model.source_run_id == mine.info.run_id
    assert child.data.tags["flock.model.user_model_id"] == model.model_id

"""The cell loop in an in-process shell: hooks planted, records made, and the user's cell never broken."""

from __future__ import annotations

import logging

import flock_nbext.analysis
from flock_nbext.kernel.transformer import attached_transformer


def test_a_fit_and_its_metric_become_records_with_lineage(notebook, tmp_path):
    csv = tmp_path / "points.csv"
    csv.write_text("a,b,y\n0,1,0\n1,0,0\n2,1,0\n3,0,1\n4,1,1\n5,0,1\n")
    notebook.run_cell("import pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n"
                      "from sklearn.metrics import accuracy_score, f1_score\n"
                      f"df = pd.read_csv({str(csv)!r})\n"
                      "X = df.drop(columns=['y']).values\ny = df['y']")
    notebook.run_cell("clf = LogisticRegression(C=2.0)\nclf.fit(X, y)")
    notebook.run_cell("other = LogisticRegression().fit(X, y)\n"
                      "both = accuracy_score(clf.predict(X), other.predict(X))\n"
                      "f1 = f1_score(y, clf.predict(X), average='macro')")
    tracker = notebook.ext.tracker
    fits = {record.var: record for record in tracker.fits.values()}
    assert set(fits) == {"clf", "other"}
    clf = fits["clf"]
    assert clf.explicit_params == {"C": 2.0} and clf.params["C"] == 2.0 and clf.params["max_iter"] == 100
    assert clf.features == ["a", "b"] and clf.label == "y"  # `.values` dropped the names; lineage + runtime knew
    assert clf.cls == "sklearn.linear_model._logistic.LogisticRegression" and clf.cell == 1
    assert clf.lineage["schema"] == "flock.lineage/1" and "df = pd.read_csv" in clf.code
    assert [d.source for d in clf.inputs] == [str(csv)] and clf.inputs[0].columns == ["a", "b", "y"]
    assert notebook.flush()
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    clf_run = client.get_run(tracker.run_id_for(clf.model_id))
    other_run = client.get_run(tracker.run_id_for(fits["other"].model_id))
    assert "accuracy_score" in clf_run.data.metrics and "accuracy_score" in other_run.data.metrics  # on both
    assert "f1_score" in clf_run.data.metrics and "f1_score" not in other_run.data.metrics


def test_rerunning_a_training_cell_makes_a_new_run(notebook):
    notebook.run_cell("from sklearn.tree import DecisionTreeClassifier\nX = [[0], [1], [2], [3]]\ny = [0, 0, 1, 1]")
    runs = []
    for _ in range(2):
        notebook.shell.run_cell("tree = DecisionTreeClassifier(max_depth=2).fit(X, y)", store_history=True,
                                cell_id="training-cell")
        record = max(notebook.ext.tracker.fits.values(), key=lambda r: r.execution_count)
        assert notebook.flush()
        runs.append(notebook.ext.tracker.run_id_for(record.model_id))
    assert runs[0] and runs[1] and runs[0] != runs[1]
    assert len({r.cell for r in notebook.ext.tracker.fits.values()}) == 1  # the same cell both times


def test_instrumentation_failure_runs_the_cell_unmodified_with_one_warning(notebook, monkeypatch, caplog):
    # Fault injected into the analysis on purpose: add_cell raises for every cell.
    def broken_add_cell(self, source, **kwargs):
        raise RuntimeError("injected analysis fault")

    monkeypatch.setattr(flock_nbext.analysis.NotebookLineage, "add_cell", broken_add_cell)
    flock_log = logging.getLogger("flock")
    flock_log.addHandler(caplog.handler)
    try:
        first = notebook.run_cell("from sklearn.tree import DecisionTreeClassifier\n"
                                  "m = DecisionTreeClassifier().fit([[0], [1]], [0, 1])\nm.predict([[1]])[0]")
        second = notebook.run_cell("1 / 0", expect_error=True)
    finally:
        flock_log.removeHandler(caplog.handler)
    assert first.result == 1 and isinstance(second.error_in_exec, ZeroDivisionError)
    warnings = [r.getMessage() for r in caplog.records if r.name == "flock"]
    assert len(warnings) == 1 and "injected analysis fault" in warnings[0]
    assert notebook.ext.tracker.fits == {}
    assert attached_transformer(notebook.shell) is not None  # still in place


def test_hook_failure_warns_once_and_the_value_flows_on(notebook, monkeypatch, caplog):
    # Fault injected into the record building on the user's thread: every fit hook fails.
    from flock_nbext.kernel import live

    monkeypatch.setattr(live, "model_params", lambda *a, **k: 1 / 0)
    flock_log = logging.getLogger("flock")
    flock_log.addHandler(caplog.handler)
    try:
        result = notebook.run_cell("from sklearn.tree import DecisionTreeClassifier\n"
                                   "for depth in (1, 2):\n    m = DecisionTreeClassifier(max_depth=depth).fit([[0], [1]], [0, 1])\n"
                                   "m.get_depth()")
    finally:
        flock_log.removeHandler(caplog.handler)
    assert result.result == 1
    assert [r.getMessage() for r in caplog.records if r.name == "flock"] == [
        "flock: could not record a fit (ZeroDivisionError: division by zero)"]


def test_flock_off_plants_nothing_and_reset_does_not_break_cells(notebook):
    notebook.run_cell("%flock off")
    notebook.run_cell("from sklearn.tree import DecisionTreeClassifier\nm = DecisionTreeClassifier().fit([[0], [1]], [0, 1])")
    assert notebook.ext.tracker.fits == {}
    notebook.run_cell("%flock on")
    notebook.run_cell("%reset -f")  # clears the namespace, our hooks object included
    notebook.run_cell("from sklearn.tree import DecisionTreeClassifier\nm = DecisionTreeClassifier().fit([[0], [1]], [0, 1])")
    assert [r.var for r in notebook.ext.tracker.fits.values()] == ["m"]


def test_hooks_object_is_hidden_from_who_and_made_inert_at_unload(notebook, capsys):
    from flock_nbext.kernel.hooks import DetachedHooks

    notebook.run_cell("x = 1\n%who")
    assert "__flock__" not in capsys.readouterr().out
    notebook.shell.run_line_magic("unload_ext", "flock")
    # functions defined while loaded still call it: it stays, inert and still hidden
    assert isinstance(notebook.ns["__flock__"], DetachedHooks)
    notebook.run_cell("%who")
    assert "__flock__" not in capsys.readouterr().out
    notebook.shell.run_line_magic("load_ext", "flock")
    assert not isinstance(notebook.ns["__flock__"], DetachedHooks)


def test_a_training_function_called_again_in_a_later_cell_is_tracked_again(notebook):
    # The body's hook was planted when train() was defined; each call's analysis names its own model.
    notebook.run_cell("from sklearn.tree import DecisionTreeClassifier\nX = [[0], [1], [2], [3]]\ny = [0, 0, 1, 1]\n"
                      "def train(depth):\n    model = DecisionTreeClassifier(max_depth=depth)\n"
                      "    model.fit(X, y)\n    return model\nfirst = train(1)")
    notebook.run_cell("second = train(2)")
    assert notebook.flush()
    records = {record.var: record for record in notebook.ext.tracker.fits.values()}
    assert set(records) == {"first", "second"}  # two calls, two models, two runs
    assert records["first"].params["max_depth"] == 1 and records["second"].params["max_depth"] == 2
    assert records["second"].execution_count == notebook.shell.execution_count - 1
    assert records["second"].model_id == notebook.ext.tracker.lineage.model_for_var("second")["id"]
    run_ids = {notebook.ext.tracker.run_id_for(r.model_id) for r in records.values()}
    assert len(run_ids) == 2 and None not in run_ids


def test_a_fit_in_a_function_first_called_in_a_later_cell_is_tracked_with_its_lineage(notebook, tmp_path):
    csv = tmp_path / "points.csv"
    csv.write_text("a,b,label\n0,1,0\n1,0,0\n2,1,0\n3,0,1\n4,1,1\n5,0,1\n")
    notebook.run_cell("import pandas as pd\nfrom sklearn.tree import DecisionTreeClassifier\n"
                      f"data = pd.read_csv({str(csv)!r})\nX = data.drop(columns=['label'])\ny = data['label']")
    notebook.run_cell("def train(X, y, depth=2):\n    m = DecisionTreeClassifier(max_depth=depth)\n"
                      "    m.fit(X, y)\n    return m")
    assert not notebook.ext.tracker.fits  # defined, not called: nothing trained
    notebook.run_cell("model = train(X, y)\nsmall = train(X[['a']], y, depth=1)")
    notebook.run_cell("from sklearn.metrics import accuracy_score\nacc = accuracy_score(y, model.predict(X))")
    tracker = notebook.ext.tracker
    records = {record.var: record for record in tracker.fits.values()}
    assert set(records) == {"model", "small"}  # one function body, two calls, each with its own lineage
    model, small = records["model"], records["small"]
    assert model.explicit_params == {"max_depth": 2} and model.params["criterion"] == "gini"
    assert small.params["max_depth"] == 1 and small.features == ["a"]
    assert model.features == ["a", "b"] and model.label == "label"
    assert model.execution_count == small.execution_count == notebook.shell.execution_count - 2
    assert [d.source for d in model.inputs] == [str(csv)]
    assert model.lineage["models"][0]["training_data"]["sources"] == [model.inputs[0].source_id]
    assert notebook.flush()
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    model_run = client.get_run(tracker.run_id_for(model.model_id))
    small_run = client.get_run(tracker.run_id_for(small.model_id))
    assert model_run.data.params["max_depth"] == "2" and model_run.data.tags["flock.model.var"] == "model"
    assert "accuracy_score" in model_run.data.metrics and "accuracy_score" not in small_run.data.metrics


def test_a_function_that_fits_nothing_the_analysis_follows_records_nothing(notebook):
    # A transformer's fit_transform in a helper gets a hook at definition; the call's analysis names no
    # model there, so the hook stays a no-op (no run for a scaler).
    notebook.run_cell("from sklearn.preprocessing import StandardScaler\n"
                      "def scale(rows):\n    return StandardScaler().fit_transform(rows)")
    notebook.run_cell("scaled = scale([[0.0], [2.0]])")
    assert notebook.ns["scaled"].tolist() == [[-1.0], [1.0]]
    assert not notebook.ext.tracker.fits


def test_functions_sent_to_worker_processes_carry_inert_hooks(notebook):
    # joblib/loky and multiprocessing pickle a cell's functions by value, globals included
    notebook.run_cell("from sklearn.tree import DecisionTreeClassifier\n"
                      "import cloudpickle  # what joblib/loky use\nX = [[0], [1]]\ny = [0, 1]\n"
                      "def train(depth):\n    return DecisionTreeClassifier(max_depth=depth).fit(X, y)\n"
                      "payload = cloudpickle.dumps(train)")
    notebook.run_cell("import pickle\nclone = pickle.loads(payload)\nresult = clone(3).get_depth()")
    assert notebook.ns["result"] == 1


def test_the_users_own_mlflow_run_becomes_the_parent(notebook):
    notebook.run_cell("import mlflow\nfrom sklearn.tree import DecisionTreeClassifier\n"
                      "with mlflow.start_run() as mine:\n    mlflow.log_param('owner', 'me')\n"
                      "    tree = DecisionTreeClassifier(max_depth=2).fit([[0], [1]], [0, 1])")
    [record] = notebook.ext.tracker.fits.values()
    assert record.parent_run_id == notebook.ns["mine"].info.run_id
    assert notebook.flush()
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    child = client.get_run(notebook.ext.tracker.run_id_for(record.model_id))
    assert child.data.tags["mlflow.parentRunId"] == record.parent_run_id
    assert client.get_run(record.parent_run_id).data.params == {"owner": "me"}  # theirs, untouched


def test_with_mlflow_autolog_flock_adds_to_autologs_run(notebook):
    notebook.run_cell("import mlflow\nmlflow.sklearn.autolog(silent=True, log_models=False)\n"
                      "from sklearn.tree import DecisionTreeClassifier\n"
                      "tree = DecisionTreeClassifier(max_depth=2).fit([[0], [1], [2]], [0, 1, 1])")
    [record] = notebook.ext.tracker.fits.values()
    autolog_run = notebook.ns["mlflow"].last_active_run()
    assert record.autolog_run_id == autolog_run.info.run_id
    notebook.run_cell("mlflow.sklearn.autolog(disable=True)")


def test_a_cell_magics_own_run_belongs_to_its_cell_and_survives_the_next_cell(notebook):
    # %%capture runs its body with run_cell (no cell id): the model is the magic's cell's, and the
    # next cell (which has an id) must not be taken for a re-run of it
    notebook.run_cell("from sklearn.tree import DecisionTreeClassifier\nX, y = [[0], [1]], [0, 1]")
    notebook.shell.run_cell("%%capture out\nclf = DecisionTreeClassifier().fit(X, y)", store_history=True,
                            cell_id="magic-cell")
    notebook.shell.run_cell("print(clf.get_depth())", store_history=True, cell_id="next-cell")
    [record] = notebook.ext.tracker.fits.values()
    assert record.var == "clf" and notebook.ext.tracker.lineage.model_for_var("clf") is not None
    assert record.cell == notebook.ext.tracker._cell_index_of["magic-cell"]
    assert notebook.ext.idle.is_set() and notebook.ext.tracker.cell.cell_id == "next-cell"


def test_a_fit_the_analysis_cannot_follow_is_kept_when_the_receiver_is_a_model(notebook):
    # exec() hides the call from the analysis: the live receiver decides, against the knowledge base
    notebook.run_cell("from sklearn.tree import DecisionTreeClassifier\nfrom sklearn.preprocessing import StandardScaler\n"
                      "X, y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]\n"
                      "def train(depth):\n    m = DecisionTreeClassifier(max_depth=depth)\n    m.fit(X, y)\n    return m\n"
                      "def scale():\n    s = StandardScaler()\n    s.fit(X)\n    return s")
    notebook.run_cell("exec('hidden = train(3)')\nexec('scaler = scale()')")
    [record] = notebook.ext.tracker.fits.values()  # the tree, not the scaler
    assert record.var == "m" and record.params["max_depth"] == 3 and record.lineage["models"] == []
    assert notebook.flush()
    assert notebook.ext.tracker.run_id_for(record.model_id)

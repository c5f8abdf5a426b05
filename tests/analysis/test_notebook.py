"""Issue 3, point 4: the graph grows one executed cell at a time; re-running a cell replaces it."""

from __future__ import annotations

import ast
import json

from flock_nbext.analysis import CellFacts, NotebookLineage, Site, lineage_of


def run_cells(*cells):
    nb = NotebookLineage()
    facts = [nb.add_cell(src, execution_count=i + 1, cell_index=i) for i, src in enumerate(cells)]
    return nb, facts


def test_cells_build_one_lineage_across_cells():
    nb, facts = run_cells(
        "import pandas as pd\nfrom sklearn.linear_model import LogisticRegression\nfrom sklearn.metrics import f1_score",
        "df = pd.read_csv('train.csv')\nX, y = df.drop(columns=['y']), df['y']",
        "clf = LogisticRegression(C=0.5)\nclf.fit(X, y)",
        "score = f1_score(y, clf.predict(X))",
    )
    lineage = nb.to_json()
    assert lineage["schema"] == "flock.lineage/1"
    model = lineage["models"][0]
    assert (model["cell"], model["cell_line"], model["line"], model["fit_line"]) == (2, 1, 6, 7)
    assert model["training_data"]["sources"] == [lineage["data_sources"][0]["id"]]
    assert lineage["metrics"][0]["model"] == model["id"]
    assert (lineage["metrics"][0]["cell"], lineage["metrics"][0]["line"]) == (3, 8)
    assert [len(f.data_sources) for f in facts] == [0, 1, 0, 0]
    assert [len(f.models) for f in facts] == [0, 0, 1, 0]
    assert len(facts[3].metrics) == 1


def test_sites_give_the_exact_call_positions():
    nb = NotebookLineage()
    nb.add_cell("import pandas as pd\nimport lightgbm as lgb\nfrom sklearn.metrics import precision_score")
    source = "df = pd.read_csv('t.csv')\nm = lgb.LGBMClassifier()\nm.fit(df[['a']], df['b'])\np = precision_score(df['b'], m.predict(df[['a']]))"
    tree = ast.parse(source)
    facts = nb.add_cell(source, tree=tree)
    assert isinstance(facts, CellFacts) and facts.error is None
    kinds = {s.kind: s for s in facts.sites}
    assert set(kinds) == {"read", "fit", "metric", "predict"}
    fit = kinds["fit"]
    assert isinstance(fit, Site)
    assert (fit.lineno, fit.col_offset, fit.end_lineno, fit.function, fit.receiver) == (
        3, 0, 3, "lightgbm.LGBMClassifier.fit", "m")
    call = tree.body[2].value
    assert (call.col_offset, call.end_col_offset) == (fit.col_offset, fit.end_col_offset)
    metric = kinds["metric"]
    assert metric.function == "sklearn.metrics.precision_score" and metric.var == "p"
    assert metric.models == (fit.ref,)
    assert kinds["read"].function == "pandas.read_csv" and kinds["read"].var == "df"


def test_rerunning_a_cell_replaces_what_it_made_and_keeps_history():
    nb = NotebookLineage()
    nb.add_cell("import pandas as pd\nfrom sklearn.ensemble import RandomForestClassifier as RF", execution_count=1,
                cell_index=0)
    nb.add_cell("df = pd.read_csv('a.csv')", execution_count=2, cell_index=1)
    nb.add_cell("rf = RF(n_estimators=10)\nrf.fit(df[['x']], df['y'])", execution_count=3, cell_index=2)
    nb.add_cell("rf = RF(n_estimators=500)\nrf.fit(df[['x', 'z']], df['y'])", execution_count=4, cell_index=2)
    lineage = nb.to_json()
    assert len(lineage["models"]) == 1
    model = lineage["models"][0]
    assert model["hyperparameters"] == {"n_estimators": 500}
    assert model["training_data"]["features"] == {"columns": ["x", "z"]}
    assert [h["superseded_by_execution"] for h in lineage["history"]] == [4]
    assert nb.model_for_var("rf")["id"] == model["id"]
    assert nb.model_for_var("df") is None


def test_runtime_sql_observation_fills_what_the_code_did_not_say():
    nb = NotebookLineage()
    nb.add_cell("import pandas as pd\nq = open('query.sql').read()\ndf = pd.read_sql(q, con)")
    source_id = nb.to_json()["data_sources"][0]["id"]
    nb.observe_sql(source_id, "SELECT a, b FROM dbo.t", ["dbo.t"], ["a", "b"], "sales")
    source = nb.to_json()["data_sources"][0]
    assert (source["tables"], source["columns"]) == (["dbo.t"], ["a", "b"])
    nb.observe_sql("source:404", "SELECT 1", ["x"], ["y"])  # unknown ids are ignored


def test_ancestry_is_restricted_to_one_model():
    nb, _ = run_cells(
        "import pandas as pd\nfrom sklearn.svm import SVR\nfrom sklearn.metrics import r2_score",
        "a = pd.read_csv('a.csv')\nb = pd.read_csv('b.csv')",
        "m1 = SVR().fit(a[['x']], a['y'])\nm2 = SVR().fit(b[['x']], b['y'])",
        "r2_score(b['y'], m2.predict(b[['x']]))",
    )
    m2 = nb.model_for_var("m2")
    ancestry = nb.ancestry(m2["id"])
    assert [s["source"] for s in ancestry["data_sources"]] == ["b.csv"]
    assert [m["id"] for m in ancestry["models"]] == [m2["id"]]
    assert len(ancestry["metrics"]) == 1
    node_ids = {n["id"] for n in ancestry["graph"]["nodes"]}
    assert m2["id"] in node_ids and not any(n.startswith("m1@") for n in node_ids)


def test_adding_a_cell_costs_time_for_that_cell_only():
    """The state is incremental: a late cell sees earlier variables without re-analysing them."""
    nb = NotebookLineage()
    nb.add_cell("import pandas as pd\nfrom sklearn.linear_model import Lasso")
    for i in range(50):
        nb.add_cell(f"df{i} = pd.read_csv('f{i}.csv')")
    interp = nb._interp
    calls = []
    original = interp.exec_stmt
    interp.exec_stmt = lambda stmt: (calls.append(stmt), original(stmt))[1]
    nb.add_cell("m = Lasso().fit(df3[['a']], df3['b'])")
    assert len(calls) == 1
    assert nb.model_for_var("m")["training_data"]["sources"] == ["source:4"]


def test_notebook_file_lines_count_joined_code_cells(tmp_path):
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# title"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
         "source": ["%matplotlib inline\n", "import pandas as pd\n", "!pip install lightgbm\n",
                    "import lightgbm as lgb"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 2,
         "source": ["df = pd.read_csv('x.csv')\n", "bst = lgb.train({'num_leaves': 7}, lgb.Dataset(df[['a']], df['y']))"]},
    ]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    lineage = lineage_of(str(path))
    model = lineage["models"][0]
    assert (model["class"], model["line"], model["cell"], model["cell_line"]) == ("lightgbm.Booster", 6, 1, 2)
    assert model["hyperparameters"] == {"num_leaves": 7}
    assert model["training_data"]["features"] == {"columns": ["a"]}
    assert lineage["data_sources"][0]["line"] == 5


def test_sql_magics_are_sql_sources(tmp_path):
    cells = ["%load_ext sql\n%sql sqlite:///shop.db\nimport pandas as pd\nfrom sklearn.linear_model import Ridge",
             "%%sql orders << \nSELECT amount, units, region\nFROM sales.orders",
             "df = orders.DataFrame()\nRidge().fit(df[['units']], df['amount'])",
             "top = %sql SELECT region FROM sales.regions"]
    doc = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": c}
                     for c in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "sql.ipynb"
    path.write_text(json.dumps(doc))
    lineage = lineage_of(str(path))
    first, second = lineage["data_sources"]
    assert (first["kind"], first["source"], first["tables"], first["line"]) == (
        "sql", "SELECT amount, units, region\nFROM sales.orders", ["sales.orders"], 5)
    assert (second["source"], second["var"]) == ("SELECT region FROM sales.regions", "top")
    model = lineage["models"][0]
    assert model["training_data"]["sources"] == [first["id"]]
    assert model["training_data"]["label"] == "amount"


def test_constant_comprehensions_unroll_names_but_only_small_data():
    """Building 200 data rows by a comprehension is not unrolled item by item (it costs the user's
    cell milliseconds of analysis); column names built by one still are, however many."""
    from flock_nbext.analysis.values import Const

    nb = NotebookLineage()
    nb.add_cell("import pandas as pd\nfrom sklearn.linear_model import LogisticRegression\ndf = pd.read_csv('d.csv')")
    nb.add_cell("cols = [f'f{i}' for i in range(100)]\nsmall = [(i, i * 0.5) for i in range(10)]\n"
                "rows = [(i, i * 0.5) for i in range(200)]\nclf = LogisticRegression().fit(df[cols], df['y'])")
    scope = nb._interp.scope
    assert scope.lookup("small").value.value == [(i, i * 0.5) for i in range(10)]
    assert not isinstance(scope.lookup("rows").value, Const)
    assert nb.model_for_var("clf")["training_data"]["features"]["columns"] == [f"f{i}" for i in range(100)]


def test_functions_name_their_training_calls_at_definition_and_each_later_call_gives_them_a_model():
    nb, facts = run_cells(
        "import pandas as pd\nfrom lightgbm import LGBMClassifier\n"
        "df = pd.read_csv('t.csv')\nX, y = df.drop(columns=['label']), df['label']",
        "def train(X, y, leaves=8):\n    m = LGBMClassifier(num_leaves=leaves)\n    m.fit(X, y)\n"
        "    print(precision_score(y, m.predict(X)))\n    return m\n"
        "class Trainer:\n    def run(self, X, y):\n        return train(X, y).score(X, y)",
        "model = train(X, y)\nsmall = train(X[['a']], y, leaves=4)",
    )
    # at definition: no model yet, only where the body may train or evaluate (precision_score, not
    # imported yet, is known by its name in the knowledge base), the method body of a class included
    in_functions = {(s.kind, s.lineno): s for s in facts[1].in_functions}
    assert set(in_functions) == {("fit", 3), ("metric", 4), ("metric", 8)}
    assert all(s.ref == "" and s.cell is None for s in in_functions.values()) and facts[1].sites == ()
    # the calling cell: no site of its own text, but the body's fit for each call, with that call's model
    assert facts[2].sites == () and facts[2].in_functions == ()
    fits = [s for s in facts[2].elsewhere if s.kind == "fit"]
    assert [(s.cell, s.lineno, s.col_offset) for s in fits] == [(1, 3, 4), (1, 3, 4)]
    models = {m["var"]: m for m in nb.to_json()["models"]}
    assert [s.ref for s in fits] == [models["model"]["id"], models["small"]["id"]]
    assert models["small"]["hyperparameters"]["num_leaves"] == 4
    assert models["model"]["training_data"]["features"] == {"all_except": ["label"]}


def test_a_function_called_in_its_own_cell_keeps_its_sites_in_that_cell():
    _, facts = run_cells("from sklearn.tree import DecisionTreeClassifier\nX, y = [[0], [1]], [0, 1]\n"
                         "def train():\n    return DecisionTreeClassifier().fit(X, y)\nclf = train()")
    [fit] = [s for s in facts[0].sites if s.kind == "fit"]
    assert fit.cell is None and fit.lineno == 4 and facts[0].elsewhere == ()
    assert [(s.kind, s.lineno) for s in facts[0].in_functions] == [("fit", 4)]  # the kernel plants it once


def test_model_class_names_live_models_of_the_knowledge_base_only():
    nb = NotebookLineage()
    assert nb.model_class("sklearn.tree._classes.DecisionTreeClassifier") == "sklearn.tree.DecisionTreeClassifier"
    assert nb.model_class("lightgbm.sklearn.LGBMClassifier") == "lightgbm.LGBMClassifier"
    assert nb.model_class("sklearn.preprocessing._data.StandardScaler") is None  # a transformer
    assert nb.model_class("__main__.Wrapped") is None and nb.model_class("builtins.super") is None

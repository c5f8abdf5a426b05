"""Issue 3, point 5: the lineage JSON is described by the JSON Schema shipped in the package."""

from __future__ import annotations

import jsonschema
import pytest

from flock_nbext.analysis import NotebookLineage, lineage_of
from flock_nbext.schemas import load_schema

from .helpers import analyse

RICH = """
import pandas as pd, sqlite3, lightgbm as lgb
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
con = sqlite3.connect("x.db")
df = pd.read_sql("SELECT a, b, y FROM t", con)
pipe = make_pipeline(StandardScaler(), LogisticRegression(C=2))
pipe.fit(df[["a", "b"]], df.y)
bst = lgb.train({"num_leaves": 4}, lgb.Dataset(df.iloc[:, :2], df.iloc[:, 2]))
print(accuracy_score(df.y, pipe.predict(df[["a", "b"]])), accuracy_score(df.y, bst.predict(df.iloc[:, :2]) > 0.5))
"""


@pytest.fixture(scope="module")
def validator():
    schema = load_schema("lineage")
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_script_lineage_validates(validator):
    lineage = analyse(RICH)
    validator.validate(lineage)
    assert len(lineage["models"]) == 2 and len(lineage["metrics"]) == 2


def test_notebook_session_lineage_and_ancestry_validate(validator):
    nb = NotebookLineage()
    for i, line in enumerate(RICH.strip().split("\n")):
        nb.add_cell(line, execution_count=i + 1, cell_index=i)
    nb.add_cell("df = pd.read_sql('SELECT a, b, y FROM t2', con)", execution_count=99, cell_index=6)
    nb.add_cell("broken(", cell_index=50)
    validator.validate(nb.to_json())
    validator.validate(nb.ancestry(nb.model_for_var("pipe")["id"]))


def test_schema_rejects_what_breaks_the_contract(validator):
    lineage = analyse(RICH)
    lineage["models"][0]["training_data"]["features"] = {"columns": ["a"], "all_except": ["b"]}
    assert not validator.is_valid(lineage)
    lineage = analyse(RICH)
    lineage["schema"] = "flock.lineage/2"
    assert not validator.is_valid(lineage)


def test_every_corpus_case_validates(validator):
    from pathlib import Path

    corpus = Path(__file__).resolve().parents[1] / "corpus"
    cases = sorted(p for p in corpus.rglob("*") if p.suffix in (".py", ".ipynb") and not p.name.startswith("_"))
    assert cases
    for path in cases:
        validator.validate(lineage_of(str(path)))


def test_no_corpus_statement_trips_the_analyzer():
    """Every statement of every corpus case is analysed without an internal error."""
    from pathlib import Path

    from flock_nbext.analysis import NotebookLineage
    from flock_nbext.analysis.sources import notebook_cells, read_text

    corpus = Path(__file__).resolve().parents[1] / "corpus"
    for path in sorted(p for p in corpus.rglob("*") if p.suffix in (".py", ".ipynb") and not p.name.startswith("_")):
        text = read_text(path)
        nb = NotebookLineage()
        for index, cell in enumerate(notebook_cells(text) if path.suffix == ".ipynb" else [text]):
            assert nb.add_cell(cell, cell_index=index).error is None, path
        assert nb.analysis_errors == [], path

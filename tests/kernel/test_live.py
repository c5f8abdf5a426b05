"""Snapshots of live objects at hooks: hyperparameters, columns, positional selections, connections."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

from flock_nbext.kernel import live, sqlsource


@pytest.mark.parametrize(("text", "expected"), [
    ("data_train.iloc[:,:-1]", ["a", "b", "c"]),
    ("data_train.iloc[:, -1]", ["label"]),
    ("df.values[:, 1:3]", ["b", "c"]),
    ("df.iloc[:, [0, 2]]", ["a", "c"]),
    ("df.iloc[:, ::2]", ["a", "c"]),
    ("df.iloc[5:]", None),  # rows only: not a column selection
    ("df.loc[:, 'a':'c']", None),  # label slices are not resolved positionally
    ("not python (", None),
])
def test_positional_selections_resolve_against_the_real_columns(text, expected):
    assert live.resolve_positional(text, ["a", "b", "c", "label"]) == expected


def test_model_params_include_defaults_and_training_options():
    from sklearn.linear_model import LogisticRegression

    params = live.model_params(LogisticRegression(C=0.5))
    assert params["C"] == 0.5 and params["max_iter"] == 100  # a default
    booster_params = live.model_params(object(), {"num_boost_round": 50}, {"num_leaves": 8})
    assert booster_params == {"num_leaves": 8, "num_boost_round": 50}


def test_model_params_read_like_get_params_whichever_path_they_take():
    """Plain scikit-learn estimators are read from cached parameter names; estimators with their own
    get_params (pipelines, LightGBM, XGBoost) are asked; both give get_params(deep=False)."""
    from lightgbm import LGBMClassifier
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from xgboost import XGBClassifier

    fast = [LogisticRegression(C=0.5), RandomForestClassifier(n_estimators=7, max_depth=3)]
    asked = [make_pipeline(StandardScaler(), LogisticRegression()), LGBMClassifier(num_leaves=8),
             XGBClassifier(max_depth=2)]
    for model in fast + asked:
        expected = {k: v for k, v in model.get_params(deep=False).items()
                    if live._is_plain(v) or live._is_small_repr(v)}
        assert live.model_params(model) == expected, type(model).__name__
        assert (live._plain_param_names(type(model)) is not None) == (model in fast), type(model).__name__
    model = fast[0]
    model.set_params(C=2.0)  # read at each fit, never cached per object
    assert live.model_params(model)["C"] == 2.0


def test_frame_shape_and_head_are_cheap_snapshots():
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5]})
    assert live.frame_shape(frame) == (["a", "b"], [("a", "int64"), ("b", "float64")], 3)
    assert live.frame_shape(np.zeros((4, 2))) == (None, None, 4)
    assert live.label_name(frame["b"]) == "b"
    head = live.head(frame, 2)
    frame.loc[0, "a"] = 99  # the user mutates X after the fit: the snapshot keeps what was trained on
    assert head["a"].tolist() == [1, 2]


def test_sqlite_connection_and_cursor_describe_the_database_file(tmp_path):
    path = tmp_path / "x.db"
    con = sqlite3.connect(path)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    cur.execute("SELECT a, b FROM t")
    assert sqlsource.describe(cur) == sqlsource.Connection("sqlite", str(path), None)
    assert sqlsource.describe(con).label == str(path)
    assert sqlsource.result_columns(cur)[0] == ["a", "b"]
    assert not con.in_transaction  # describing did not start a transaction on the user's connection


def test_urls_and_sqlalchemy_engines_never_carry_the_password():
    import sqlalchemy as sa

    url = "postgresql+psycopg://bob:hunter2@db.corp:5433/risk"
    assert sqlsource.describe(url) == sqlsource.Connection("postgresql", "db.corp:5433", "risk")
    engine = sa.create_engine(url)
    described = sqlsource.describe(engine)
    assert described.label == "db.corp:5433/risk" and "hunter2" not in repr(described)
    odbc = sa.engine.URL.create("mssql+pyodbc", query={
        "odbc_connect": "DRIVER={ODBC Driver 18};SERVER=sql01;DATABASE=loans;UID=u;PWD=pw"})
    assert sqlsource.describe(sa.create_engine(odbc)).label == "sql01/loans"


def test_query_text_of_sqlalchemy_statements():
    import sqlalchemy as sa

    assert sqlsource.query_text(sa.text("SELECT 1")) == "SELECT 1"
    assert sqlsource.query_text(b"SELECT 2") == "SELECT 2"
    assert sqlsource.query_text(42) is None

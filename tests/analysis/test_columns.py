"""Issue 3, point 3: for each model, the feature and label columns as far as the code determines them."""

from __future__ import annotations

from flock_nbext.analysis.columns import ColumnSet

from .helpers import analyse, only_model


def features_and_label(source: str):
    model = only_model(analyse(source))
    return model["training_data"]["features"], model["training_data"]["label"]


HEAD = """
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
df = pd.read_csv("d.csv")
"""


def test_explicit_list_and_a_named_label():
    assert features_and_label(HEAD + """
FEATURES = ["age", "income"] + ["debt"]
LogisticRegression().fit(df[FEATURES], df["default"])
""") == ({"columns": ["age", "income", "debt"]}, "default")


def test_all_columns_except_dropped_and_popped_ones():
    assert features_and_label(HEAD + """
df = df.drop(["id"], axis=1)
y = df.pop("target")
LogisticRegression().fit(df, y)
""") == ({"all_except": ["id", "target"]}, "target")


def test_comprehension_over_columns_is_all_except():
    assert features_and_label(HEAD + """
DROP = ["id", "target"]
cols = [c for c in df.columns if c not in DROP]
LogisticRegression().fit(df[cols].values, df.target.values)
""") == ({"all_except": ["id", "target"]}, "target")


def test_positional_selection_is_recorded_as_written():
    assert features_and_label(HEAD + """
X = df.iloc[:, :-1].values
y = df.iloc[:, -1].values
LogisticRegression().fit(X, y)
""") == ({"positional": "df.iloc[:, :-1]"}, {"positional": "df.iloc[:, -1]"})


def test_loc_with_names_and_masks_keeps_names():
    assert features_and_label(HEAD + """
train = df.loc[df.year < 2020, ["a", "b"]]
LogisticRegression().fit(train, df.loc[df.year < 2020, "y"])
""") == ({"columns": ["a", "b"]}, "y")


def test_columns_made_by_assign_and_arithmetic_trace_back_to_their_sources():
    features, label = features_and_label(HEAD + """
df["ratio"] = df["debt"] / df["income"]
df = df.assign(log_age=np.log1p(df.age))
df["is_rich"] = (df["income"] > 1e5).astype(int)
y = (df.quality >= 7).astype(int)
LogisticRegression().fit(df[["ratio", "log_age", "is_rich"]], y)
""")
    assert sorted(features["columns"]) == ["age", "debt", "income"]
    assert label == "quality"


def test_get_dummies_and_rename_report_source_columns():
    features, _ = features_and_label(HEAD + """
df = df.rename(columns={"PULocationID": "zone"})
df = pd.get_dummies(df, columns=["color"])
X = df[["zone", "color_red", "color_blue", "size"]]
LogisticRegression().fit(X, df["y"])
""")
    assert sorted(features["columns"]) == ["PULocationID", "color", "size"]


def test_dropped_column_that_feeds_a_derived_one_stays_in():
    features, _ = features_and_label(HEAD + """
df["dow"] = pd.to_datetime(df["date"]).dt.dayofweek
X = df.drop(columns=["date", "y"])
LogisticRegression().fit(X, df["y"])
""")
    assert features == {"all_except": ["y"]}


def test_select_dtypes_is_unknown_with_a_reason():
    features, _ = features_and_label(HEAD + """
X = df.select_dtypes(include="number")
LogisticRegression().fit(X, df["y"])
""")
    assert "unknown" in features and "dtype" in features["unknown"]


def test_merge_and_concat_bring_both_sources():
    lineage = analyse(HEAD + """
users = pd.read_parquet("users.parquet")
extra = pd.read_csv("extra.csv")
full = pd.concat([df.merge(users, on="uid"), extra], axis=0)
LogisticRegression().fit(full.drop(columns=["y"]), full["y"])
""")
    model = only_model(lineage)
    names = {s["id"]: s["source"] for s in lineage["data_sources"]}
    assert sorted(names[s] for s in model["training_data"]["sources"]) == ["d.csv", "extra.csv", "users.parquet"]


def test_sql_query_gives_tables_and_columns():
    lineage = analyse("""
import pandas as pd
import pyodbc
from sklearn.ensemble import RandomForestClassifier
con = pyodbc.connect("DSN=loans")
df = pd.read_sql("SELECT a, b, label FROM dbo.loans", con)
RandomForestClassifier().fit(df[["a", "b"]], df["label"])
""")
    source = lineage["data_sources"][0]
    assert (source["kind"], source["tables"], source["columns"]) == ("sql", ["dbo.loans"], ["a", "b", "label"])
    assert only_model(lineage)["training_data"]["features"] == {"columns": ["a", "b"]}


def test_sql_star_keeps_the_table_and_leaves_columns_unknown():
    lineage = analyse("""
import pandas as pd, sqlalchemy as sa
from sklearn.linear_model import Ridge
engine = sa.create_engine("postgresql://h/db")
TABLE = "public.sales"
q = "SELECT * FROM " + TABLE + " WHERE year > 2020"
df = pd.read_sql_query(sa.text(q), engine)
Ridge().fit(df.drop(columns="amount"), df.amount)
""")
    source = lineage["data_sources"][0]
    assert source["source"] == "SELECT * FROM public.sales WHERE year > 2020"
    assert (source["tables"], source["columns"]) == (["public.sales"], None)


def test_cursor_execute_and_fetchall_is_a_sql_source():
    lineage = analyse("""
import sqlite3
import pandas as pd
from sklearn.tree import DecisionTreeClassifier
con = sqlite3.connect("app.db")
cur = con.cursor()
cur.execute("SELECT x1, x2, churned FROM customers c JOIN plans p ON c.plan = p.id")
rows = cur.fetchall()
df = pd.DataFrame(rows, columns=["x1", "x2", "churned"])
DecisionTreeClassifier().fit(df[["x1", "x2"]], df.churned)
""")
    source = lineage["data_sources"][0]
    assert source["tables"] == ["customers", "plans"]
    model = only_model(lineage)
    assert model["training_data"]["sources"] == [source["id"]]
    assert model["training_data"]["label"] == "churned"


def test_sklearn_dataset_loader():
    lineage = analyse("""
from sklearn.datasets import load_iris
from sklearn.neighbors import KNeighborsClassifier
X, y = load_iris(return_X_y=True)
KNeighborsClassifier(n_neighbors=3).fit(X, y)
""")
    assert lineage["data_sources"][0]["source"] == "sklearn.datasets.load_iris"
    model = only_model(lineage)
    assert model["training_data"]["features"] == {"all_except": ["target"]}
    assert model["training_data"]["label"] == "target"


def test_columnset_operations():
    cols = ColumnSet.all().drop(["id"]).add("r", ["a", "b"]).rename({"c": "cc"})
    assert cols.to_features() == {"all_except": ["id"]}
    picked = cols.select(["r", "cc", "d"])
    assert picked.to_features() == {"columns": ["a", "b", "c", "d"]}
    assert ColumnSet.of(["a", "b"]).union(ColumnSet.of(["c"])).to_features() == {"columns": ["a", "b", "c"]}
    assert ColumnSet.of(["y"]).to_label() == "y"
    assert ColumnSet.positional("df.iloc[:, 0]").to_label() == {"positional": "df.iloc[:, 0]"}
    assert ColumnSet.unknown("why").to_label() is None


def test_loc_assignment_and_column_by_column_updates():
    features, _ = features_and_label(HEAD + """
df["FamilySize"] = df["SibSp"] + df["Parch"] + 1
df["IsAlone"] = 0
df.loc[df["FamilySize"] == 1, "IsAlone"] = 1
df[["Age", "Fare"]] = df[["Age", "Fare"]].fillna(0)
LogisticRegression().fit(df[["IsAlone", "Age", "Fare"]], df["Survived"])
""")
    assert features == {"columns": ["SibSp", "Parch", "Age", "Fare"]}

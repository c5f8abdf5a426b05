"""Issue 3, point 2: names and values are resolved the way the code writes them."""

from __future__ import annotations

from .helpers import analyse, metric_models, model_by_var, only_model, source_texts


def test_import_alias_and_propagated_constant():
    lineage = analyse("""
        import lightgbm as lgb
        import pandas as pd
        n_leaves = 8
        df = pd.read_csv("train.csv")
        clf = lgb.LGBMClassifier(num_leaves=n_leaves, learning_rate=0.1)
        clf.fit(df.drop(columns=["y"]), df["y"])
    """)
    model = only_model(lineage)
    assert model["class"] == "lightgbm.LGBMClassifier"
    assert model["hyperparameters"] == {"num_leaves": 8, "learning_rate": 0.1}
    assert (model["line"], model["fit_line"]) == (6, 7)


def test_star_import_and_attribute_chains_give_public_names():
    lineage = analyse("""
        from sklearn.ensemble import *
        import sklearn.metrics
        import pandas
        df = pandas.read_parquet("d.parquet")
        X, y = df.drop("label", axis=1), df.label
        rf = RandomForestClassifier(n_estimators=50)
        rf.fit(X, y)
        print(sklearn.metrics.f1_score(y, rf.predict(X)))
    """)
    model = only_model(lineage)
    assert model["class"] == "sklearn.ensemble.RandomForestClassifier"
    assert lineage["metrics"][0]["function"] == "sklearn.metrics.f1_score"
    assert lineage["metrics"][0]["model"] == model["id"]
    assert model["training_data"]["features"] == {"all_except": ["label"]}
    assert model["training_data"]["label"] == "label"


def test_tuple_unpacking_augmented_assignment_and_computed_values():
    lineage = analyse("""
        import xgboost as xgb
        from sklearn.model_selection import train_test_split
        import pandas as pd
        depth, rate = 4, 0.3
        n_est = 100
        n_est *= 3
        data = pd.read_csv("d.csv")
        X_tr, X_te, y_tr, y_te = train_test_split(data[["a", "b"]], data["t"], test_size=0.2)
        m = xgb.XGBRegressor(max_depth=depth, learning_rate=rate / 3, n_estimators=n_est, n_jobs=X_tr.shape[1])
        m.fit(X_tr, y_tr)
    """)
    hp = only_model(lineage)["hyperparameters"]
    assert hp["max_depth"] == 4 and hp["n_estimators"] == 300
    assert abs(hp["learning_rate"] - 0.1) < 1e-12
    assert hp["n_jobs"] == "X_tr.shape[1]"


def test_fstring_concatenation_and_path_constants_resolve_sources():
    lineage = analyse("""
        import os
        from pathlib import Path
        import pandas as pd
        DATA = "../input"
        a = pd.read_csv(f"{DATA}/train.csv")
        b = pd.read_csv(DATA + "/extra.csv")
        c = pd.read_parquet(os.path.join(DATA, "more.parquet"))
        d = pd.read_csv(Path(DATA) / "last.csv")
        e = pd.read_csv(os.environ["ROOT"] + "/x.csv")
    """)
    assert [s["source"] for s in lineage["data_sources"]][:4] == [
        "../input/train.csv", "../input/extra.csv", "../input/more.parquet", "../input/last.csv"]
    assert lineage["data_sources"][4]["source"].endswith("/x.csv")


def test_method_chains_keep_data_flowing():
    lineage = analyse("""
        import pandas as pd
        from sklearn.linear_model import LinearRegression
        df = (pd.read_csv("sales.csv")
                .dropna()
                .query("amount > 0")
                .assign(ratio=lambda d: d.amount / d.units)
                .reset_index(drop=True))
        reg = LinearRegression().fit(df[["ratio", "units"]], df["amount"])
    """)
    model = only_model(lineage)
    assert model["var"] == "reg"
    assert set(model["training_data"]["features"]["columns"]) == {"amount", "units"}
    assert source_texts(lineage, model) == ["sales.csv"]


def test_loop_over_a_dict_of_models_gives_one_model_per_entry():
    lineage = analyse("""
        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.metrics import accuracy_score
        df = pd.read_csv("d.csv")
        X, y = df.drop(columns="target"), df.target
        models = {"lr": LogisticRegression(C=2.0), "rf": RandomForestClassifier(max_depth=3)}
        scores = {}
        for name, model in models.items():
            model.fit(X, y)
            scores[name] = accuracy_score(y, model.predict(X))
    """)
    classes = sorted(m["class"] for m in lineage["models"])
    assert classes == ["sklearn.ensemble.RandomForestClassifier", "sklearn.linear_model.LogisticRegression"]
    assert {m["fit_line"] for m in lineage["models"]} == {11}
    assert sorted(map(tuple, metric_models(lineage, "accuracy_score"))) == [("model",), ("model",)]
    assert len({m["model"] for m in lineage["metrics"]}) == 2


def test_loop_over_a_list_of_classes_and_comprehension_of_models():
    lineage = analyse("""
        import pandas as pd
        from sklearn.tree import DecisionTreeClassifier
        from sklearn.naive_bayes import GaussianNB
        df = pd.read_csv("d.csv")
        X, y = df[["a", "b"]], df["c"]
        for cls in [DecisionTreeClassifier, GaussianNB]:
            est = cls()
            est.fit(X, y)
        fitted = [m.fit(X, y) for m in [GaussianNB(), DecisionTreeClassifier(max_depth=2)]]
    """)
    assert len(lineage["models"]) == 4
    assert all(m["training_data"]["features"] == {"columns": ["a", "b"]} for m in lineage["models"])


def test_with_block_connection_and_helper_function_attributed_to_call_site():
    lineage = analyse("""
        import sqlite3
        import pandas as pd
        from sklearn.ensemble import GradientBoostingRegressor
        from sklearn.metrics import mean_absolute_error

        def load(con, table):
            return pd.read_sql_query(f"SELECT a, b, y FROM {table}", con)

        def fit_and_score(model, X, y):
            model.fit(X, y)
            return mean_absolute_error(y, model.predict(X))

        with sqlite3.connect("shop.db") as con:
            df = load(con, "sales")
        gbr = GradientBoostingRegressor(n_estimators=10)
        mae = fit_and_score(gbr, df[["a", "b"]], df["y"])
    """)
    source = lineage["data_sources"][0]
    assert (source["kind"], source["source"], source["tables"], source["columns"]) == (
        "sql", "SELECT a, b, y FROM sales", ["sales"], ["a", "b", "y"])
    model = only_model(lineage)
    assert (model["var"], model["fit_line"]) == ("gbr", 17)
    assert lineage["metrics"][0]["line"] == 17
    assert lineage["metrics"][0]["model"] == model["id"]
    assert model["training_data"]["features"] == {"columns": ["a", "b"]}


def test_model_built_in_a_helper_gets_the_call_site_values():
    lineage = analyse("""
        import pandas as pd
        import lightgbm as lgb

        def train(X, y, leaves=31, rounds=100):
            m = lgb.LGBMRegressor(num_leaves=leaves, n_estimators=rounds)
            m.fit(X, y)
            return m

        df = pd.read_csv("d.csv")
        small = train(df[["a"]], df["y"], leaves=7)
        pred = small.predict(df[["a"]])
    """)
    model = only_model(lineage)
    assert model["hyperparameters"] == {"num_leaves": 7, "n_estimators": 100}
    assert model["fit_line"] == 11


def test_unknown_libraries_are_passed_over():
    lineage = analyse("""
        import pandas as pd
        import mystery_lib as ml
        from weird.models import FancyBoostClassifier
        df = pd.read_csv("d.csv")
        df = ml.clean(df)
        ml.plot(df)
        clf = FancyBoostClassifier(depth=3)
        clf.fit(df.drop(columns=["y"]), df["y"])
    """)
    model = only_model(lineage)
    assert model["class"] == "weird.models.FancyBoostClassifier"
    assert model["hyperparameters"] == {"depth": 3}
    assert source_texts(lineage, model) == ["d.csv"]


def test_refit_at_another_site_is_a_new_model_and_predictions_follow_it():
    lineage = analyse("""
        import pandas as pd
        from sklearn.svm import SVC
        from sklearn.metrics import accuracy_score
        df = pd.read_csv("d.csv")
        X, y = df[["a", "b"]], df["c"]
        svc = SVC(C=1.0)
        svc.fit(X[:100], y[:100])
        first = accuracy_score(y, svc.predict(X))
        svc.fit(X, y)
        second = accuracy_score(y, svc.predict(X))
    """)
    fits = [m["fit_line"] for m in lineage["models"]]
    assert fits == [8, 10]
    by_var = {m["var"]: m["model"] for m in lineage["metrics"]}
    ids = {m["fit_line"]: m["id"] for m in lineage["models"]}
    assert by_var == {"first": ids[8], "second": ids[10]}
    assert model_by_var(lineage, "svc")["fit_line"] == 10


def test_import_fallbacks_do_not_hide_the_library():
    lineage = analyse("""
        import pandas as pd
        try:
            import lightgbm as lgb
        except ImportError:
            lgb = None
        df = pd.read_csv("d.csv")
        lgb.LGBMRegressor(n_estimators=10).fit(df[["a"]], df["b"])
    """)
    assert only_model(lineage)["class"] == "lightgbm.LGBMRegressor"

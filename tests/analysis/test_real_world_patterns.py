"""Patterns from public notebooks: computed options in lists, Dataset classes, model outputs as
features, string accessors, curve metrics, index columns, query files, aliases, cv boosters and
models chosen by a condition."""

from __future__ import annotations

from .helpers import analyse, metric_models, model_by_var, only_model, source_texts


def test_a_computed_item_in_a_keras_option_list_is_the_only_text():
    lineage = analyse("""
        import pandas as pd
        import tensorflow as tf
        frame = pd.read_csv("clicks.csv")
        net = tf.keras.Sequential([tf.keras.layers.Dense(8), tf.keras.layers.Dense(1)])
        net.compile(optimizer="adam", loss="binary_crossentropy",
                    metrics=["accuracy", tf.keras.metrics.AUC(name="auc"), "mse"])
        net.fit(frame.drop(columns=["clicked"]).values, frame["clicked"].values, epochs=4)
    """)
    hyper = only_model(lineage)["hyperparameters"]
    assert hyper["metrics"] == ["accuracy", "tf.keras.metrics.AUC(name='auc')", "mse"]
    assert hyper["epochs"] == 4


def test_a_dataset_class_building_several_tensors_gives_their_union_and_the_target_column():
    lineage = analyse("""
        import pandas as pd
        import torch
        from torch import nn
        from torch.utils.data import DataLoader, Dataset

        EMBED = ["shop", "weekday"]
        NUMERIC = ["price", "stock"]
        GOAL = "sold"

        class Sales(Dataset):
            def __init__(self, frame):
                self.embed = torch.tensor(frame[EMBED].values)
                self.numeric = torch.tensor(frame[NUMERIC].values, dtype=torch.float32)
                self.goal = torch.tensor(frame[GOAL].values, dtype=torch.float32)

            def __len__(self):
                return len(self.goal)

            def __getitem__(self, k):
                return self.embed[k], self.numeric[k], self.goal[k]

        class Regressor(nn.Module):
            def __init__(self):
                super().__init__()
                self.out = nn.Linear(4, 1)

            def forward(self, embed, numeric):
                return self.out(numeric)

        loader = DataLoader(Sales(pd.read_csv("sales.csv")), batch_size=128)
        reg = Regressor()
        adam = torch.optim.Adam(reg.parameters(), lr=0.01)
        for epoch in range(2):
            for e, n, target in loader:
                adam.zero_grad()
                nn.MSELoss()(reg(e, n), target).backward()
                adam.step()
    """)
    data = only_model(lineage)["training_data"]
    assert sorted(data["features"]["columns"]) == ["price", "shop", "stock", "weekday"]
    assert data["label"] == "sold"


def test_a_dataset_returning_a_dict_names_its_target_by_key():
    lineage = analyse("""
        import pandas as pd
        import torch
        from torch import nn
        from torch.utils.data import DataLoader, Dataset

        class Rows(Dataset):
            def __init__(self, frame):
                self.x = frame[["u", "v"]].values
                self.t = frame["w"].values

            def __getitem__(self, i):
                return {"inputs": torch.tensor(self.x[i]), "label": torch.tensor(self.t[i])}

        net = nn.Sequential(nn.Linear(2, 1))
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        for batch in DataLoader(Rows(pd.read_csv("rows.csv")), batch_size=8):
            opt.zero_grad()
            nn.MSELoss()(net(batch["inputs"]), batch["label"]).backward()
            opt.step()
    """)
    data = only_model(lineage)["training_data"]
    assert data["features"] == {"columns": ["u", "v"]}
    assert data["label"] == "w"


def test_a_column_made_from_another_models_output_traces_to_that_models_input():
    lineage = analyse("""
        import pandas as pd
        from sklearn.cluster import KMeans
        from sklearn.ensemble import GradientBoostingClassifier, IsolationForest

        tx = pd.read_csv("payments.csv")
        amounts = ["amount", "balance"]
        detector = IsolationForest().fit(tx[amounts])
        tx["anomaly"] = -detector.score_samples(tx[amounts])
        km = KMeans(n_clusters=4).fit(tx[["lat", "lon"]])
        tx["region"] = km.predict(tx[["lat", "lon"]])
        gb = GradientBoostingClassifier()
        gb.fit(tx[["anomaly", "region", "merchant"]], tx["fraud"])
    """)
    gb = model_by_var(lineage, "gb")
    assert sorted(gb["training_data"]["features"]["columns"]) == ["amount", "balance", "lat", "lon", "merchant"]
    assert source_texts(lineage, gb) == ["payments.csv"]


def test_string_and_date_accessor_methods_with_arguments_keep_the_source_column():
    lineage = analyse("""
        import pandas as pd
        from sklearn.tree import DecisionTreeClassifier

        mails = pd.read_csv("mails.csv")
        mails["bangs"] = mails["body"].str.count("!")
        mails["offer"] = mails["subject"].str.contains("offer", case=False).astype(int)
        mails["domain"] = mails["sender"].str.split("@").str[1]
        mails["hour"] = pd.to_datetime(mails["sent"]).dt.strftime("%H").astype(int)
        mails["salutation"] = mails.name.str.extract(r"(Mr|Ms)", expand=False)
        tree = DecisionTreeClassifier().fit(mails[["bangs", "offer", "domain", "hour", "salutation"]],
                                            mails["spam"])
    """)
    features = only_model(lineage)["training_data"]["features"]
    assert sorted(features["columns"]) == ["body", "name", "sender", "sent", "subject"]


def test_metrics_on_curve_arrays_belong_to_the_model_that_scored():
    lineage = analyse("""
        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import auc, precision_recall_curve, roc_curve

        d = pd.read_csv("d.csv")
        lr = LogisticRegression().fit(d[["p", "q"]], d["r"])
        scores = lr.predict_proba(d[["p", "q"]])[:, 1]
        prec, rec, _ = precision_recall_curve(d["r"], scores)
        area_pr = auc(rec, prec)
        fpr, tpr = {}, {}
        for k in range(3):
            fpr[k], tpr[k], _ = roc_curve(d["r"], scores)
            area = auc(fpr[k], tpr[k])
        f1 = 2 * prec * rec / (prec + rec)
        area_f = auc(rec, f1)
    """)
    assert metric_models(lineage, ".auc") == [["lr"], ["lr"], ["lr"]]


def test_an_index_column_is_not_a_feature_afterwards():
    lineage = analyse("""
        import sqlite3
        import pandas as pd
        from sklearn.linear_model import Ridge

        houses = pd.read_csv("houses.csv", index_col="house_id")
        first = Ridge().fit(houses.drop(columns=["value"]), houses["value"])
        con = sqlite3.connect("h.db")
        more = pd.read_sql("SELECT * FROM sales", con, index_col=["region", "sale_id"])
        second = Ridge().fit(more.drop(columns=["value"]), more["value"])
    """)
    assert model_by_var(lineage, "first")["training_data"]["features"] == {"all_except": ["house_id", "value"]}
    assert model_by_var(lineage, "second")["training_data"]["features"] == \
        {"all_except": ["region", "sale_id", "value"]}


def test_a_query_read_from_a_file_is_a_sql_source_named_by_that_file():
    lineage = analyse("""
        import sqlite3
        from pathlib import Path
        import pandas as pd
        from sklearn.linear_model import Lasso

        con = sqlite3.connect("w.db")
        a = pd.read_sql_query(open("queries/train.sql").read(), con)
        b = pd.read_sql(Path("queries/extra.sql").read_text(), con)
        with open("queries/score.sql") as handle:
            text = handle.read()
        c = pd.read_sql_query(text, con)
        cur = con.cursor()
        cur.execute(open("queries/raw.sql").read().format(day="2024-01-01"))
        rows = cur.fetchall()
        model = Lasso().fit(c.drop(columns=["y"]), c["y"])
    """)
    by_source = {s["source"]: s for s in lineage["data_sources"]}
    assert sorted(by_source) == ["queries/extra.sql", "queries/raw.sql", "queries/score.sql", "queries/train.sql"]
    for path, source in by_source.items():
        assert (source["kind"], source["tables"], source["columns"], source["query_file"]) == ("sql", [], None, path)
    assert source_texts(lineage, only_model(lineage)) == ["queries/score.sql"]


def test_mutating_a_frame_through_another_name_changes_the_original():
    lineage = analyse("""
        import pandas as pd
        from sklearn.svm import SVR

        raw = pd.read_csv("raw.csv")
        work = raw
        work["ratio"] = work["num"] / work["den"]
        feats = raw
        feats.drop(columns=["row_id"], inplace=True)
        copy = raw.copy()
        copy.drop(columns=["num"], inplace=True)
        svr = SVR().fit(raw.drop(columns=["target"]), raw["target"])
        ratio_only = SVR().fit(raw[["ratio"]], raw["target"])
    """)
    assert model_by_var(lineage, "svr")["training_data"]["features"] == {"all_except": ["row_id", "target"]}
    assert model_by_var(lineage, "ratio_only")["training_data"]["features"] == {"columns": ["num", "den"]}


def test_lgb_cv_and_xgb_cv_are_cross_validated_boosters_with_their_histories_as_metrics():
    lineage = analyse("""
        import pandas as pd
        import lightgbm as lgb
        import xgboost as xgb

        df = pd.read_csv("d.csv")
        X = df.drop(columns=["label", "key"])
        history = lgb.cv({"objective": "binary", "learning_rate": 0.05}, lgb.Dataset(X, df["label"]),
                         num_boost_round=300, nfold=4)
        best = len(history["valid binary_logloss-mean"])
        results = xgb.cv({"max_depth": 3}, xgb.DMatrix(X, label=df["label"]), 100, nfold=3)
    """)
    boosters = {m["class"]: m for m in lineage["models"]}
    assert sorted(boosters) == ["lightgbm.Booster", "xgboost.Booster"]
    light = boosters["lightgbm.Booster"]
    assert light["cross_validated"] is True and light["fit_line"] == 8
    assert light["hyperparameters"] == {"objective": "binary", "learning_rate": 0.05, "num_boost_round": 300,
                                        "nfold": 4}
    assert light["training_data"]["features"] == {"all_except": ["label", "key"]}
    assert light["training_data"]["label"] == "label"
    assert boosters["xgboost.Booster"]["hyperparameters"]["num_boost_round"] == 100
    metrics = {m["function"]: m for m in lineage["metrics"]}
    assert metrics["lightgbm.cv"]["model"] == light["id"]
    assert metrics["xgboost.cv"]["model"] == boosters["xgboost.Booster"]["id"]


def test_a_model_chosen_by_an_undetermined_condition_trains_every_candidate():
    lineage = analyse("""
        import os
        import pandas as pd
        from sklearn.ensemble import ExtraTreesRegressor
        from sklearn.linear_model import ElasticNet, Ridge
        from sklearn.metrics import r2_score

        df = pd.read_csv("d.csv")
        X, y = df.drop(columns=["y"]), df["y"]
        if os.environ.get("ALGO") == "trees":
            reg = ExtraTreesRegressor(n_estimators=50)
        elif os.environ.get("ALGO") == "enet":
            reg = ElasticNet(alpha=0.1)
        else:
            reg = Ridge()
        reg.fit(X, y)
        r2 = r2_score(y, reg.predict(X))
        other = ExtraTreesRegressor() if os.environ.get("FAST") else Ridge(alpha=2)
        other.fit(X, y)
    """)
    at_16 = sorted(m["class"] for m in lineage["models"] if m["fit_line"] == 16)
    assert at_16 == ["sklearn.ensemble.ExtraTreesRegressor", "sklearn.linear_model.ElasticNet",
                     "sklearn.linear_model.Ridge"]
    assert all(m["training_data"]["label"] == "y" for m in lineage["models"])
    assert metric_models(lineage, "r2_score") == [["reg", "reg", "reg"]]
    assert len([m for m in lineage["models"] if m["fit_line"] == 19]) == 2


def test_loops_over_model_collections_give_one_model_per_element():
    lineage = analyse("""
        import pandas as pd
        from sklearn.naive_bayes import GaussianNB
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.metrics import f1_score

        df = pd.read_csv("d.csv")
        X, y = df[["a", "b"]], df["c"]
        zoo = {"nb": GaussianNB(), "knn": KNeighborsClassifier(n_neighbors=3)}
        for name, est in zoo.items():
            est.fit(X, y)
            f1_score(y, est.predict(X))
        for est in [GaussianNB(var_smoothing=1e-8), KNeighborsClassifier()]:
            est.fit(X, y)
    """)
    at_11 = sorted(m["class"] for m in lineage["models"] if m["fit_line"] == 11)
    at_14 = sorted(m["class"] for m in lineage["models"] if m["fit_line"] == 14)
    expected = ["sklearn.naive_bayes.GaussianNB", "sklearn.neighbors.KNeighborsClassifier"]
    assert at_11 == expected and at_14 == expected
    assert [len(m["models"]) for m in lineage["metrics"]] == [1, 1]


def test_a_model_picked_from_a_collection_by_a_computed_key_is_any_of_them():
    lineage = analyse("""
        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        from sklearn.naive_bayes import GaussianNB
        from sklearn.metrics import recall_score

        df = pd.read_csv("d.csv")
        X, y = df[["a", "b"]], df["c"]
        candidates = [("lr", LogisticRegression()), ("nb", GaussianNB())]
        scores = {}
        for label, est in candidates:
            scores[label] = est.fit(X, y).score(X, y)
        winner = dict(candidates)[max(scores, key=scores.get)]
        winner.fit(X, y)
        recall_score(y, winner.predict(X))
    """)
    final = sorted(m["class"] for m in lineage["models"] if m["fit_line"] == 14)
    assert final == ["sklearn.linear_model.LogisticRegression", "sklearn.naive_bayes.GaussianNB"]
    assert metric_models(lineage, "recall_score") == [["winner", "winner"]]


def test_cluster_labels_used_as_features_trace_to_the_clustered_columns():
    lineage = analyse("""
        import pandas as pd
        from sklearn.cluster import KMeans
        from sklearn.linear_model import LogisticRegression

        shops = pd.read_csv("shops.csv")
        shops["zone"] = KMeans(n_clusters=5).fit_predict(shops[["lat", "lng"]])
        tiers = KMeans(3).fit(shops[["spend"]])
        shops["tier"] = tiers.labels_
        clf = LogisticRegression().fit(shops[["zone", "tier", "age"]], shops["closed"])
    """)
    clf = model_by_var(lineage, "clf")
    assert sorted(clf["training_data"]["features"]["columns"]) == ["age", "lat", "lng", "spend"]


def test_a_stacker_trained_on_other_models_outputs_reports_the_columns_those_models_saw():
    lineage = analyse("""
        import numpy as np
        import pandas as pd
        from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
        from sklearn.linear_model import LogisticRegression

        df = pd.read_csv("d.csv")
        X, y = df[["a", "b", "c"]], df["y"]
        rf = RandomForestClassifier().fit(X, y)
        et = ExtraTreesClassifier().fit(X[["a", "b"]], y)
        level_two = np.column_stack([rf.predict_proba(X)[:, 1], et.predict_proba(X[["a", "b"]])[:, 1]])
        stacker = LogisticRegression().fit(level_two, y)
    """)
    stacker = model_by_var(lineage, "stacker")
    assert stacker["training_data"]["features"] == {"columns": ["a", "b", "c"]}
    assert source_texts(lineage, stacker) == ["d.csv"]


def test_a_frame_read_from_either_of_two_files_trains_on_both_sources():
    lineage = analyse("""
        import os
        import pandas as pd
        from sklearn.linear_model import LinearRegression

        if os.path.exists("cache.parquet"):
            df = pd.read_parquet("cache.parquet")
        else:
            df = pd.read_csv("raw.csv")
        reg = LinearRegression().fit(df.drop(columns=["y"]), df["y"])
    """)
    assert source_texts(lineage, only_model(lineage)) == ["cache.parquet", "raw.csv"]


def test_the_best_of_a_list_of_fitted_models_is_any_of_them():
    lineage = analyse("""
        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import SVC
        from sklearn.metrics import accuracy_score

        df = pd.read_csv("d.csv")
        X, y = df[["a"]], df["y"]
        candidates = [LogisticRegression(), SVC()]
        for cand in candidates:
            cand.fit(X, y)
        best = max(candidates, key=lambda m: m.score(X, y))
        accuracy_score(y, best.predict(X))
    """)
    assert metric_models(lineage, "accuracy_score") == [["cand", "cand"]]


def test_query_files_and_cross_validated_boosters_fit_the_schema():
    import jsonschema

    from flock_nbext.schemas import load_schema

    lineage = analyse("""
        import sqlite3
        import pandas as pd
        import lightgbm as lgb

        con = sqlite3.connect("w.db")
        df = pd.read_sql_query(open("train.sql").read(), con)
        history = lgb.cv({"num_leaves": 7}, lgb.Dataset(df.drop(columns=["y"]), df["y"]), nfold=3)
    """)
    jsonschema.Draft202012Validator(load_schema("lineage")).validate(lineage)
    assert lineage["data_sources"][0]["query_file"] == "train.sql"
    assert lineage["models"][0]["cross_validated"] is True

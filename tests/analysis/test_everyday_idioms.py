"""Everyday notebook idioms beyond the basics: eval/query strings, filter, side-by-side arrays,
column transformers, eval sets, clones, saved and reloaded models, helpers that mutate a frame."""

from __future__ import annotations

from .helpers import analyse, metric_models, model_by_var, only_model, source_texts


def test_eval_strings_make_columns_from_the_names_they_use_and_query_keeps_columns():
    lineage = analyse("""
        import pandas as pd
        from sklearn.linear_model import LinearRegression

        cars = pd.read_csv("cars.csv")
        fast = cars.query("hp > @cutoff and weight < 2000")
        cars.eval("power_to_weight = hp / weight", inplace=True)
        more = cars.eval("age = 2024 - year")
        first = LinearRegression().fit(fast[["hp", "weight"]], fast["mpg"])
        second = LinearRegression().fit(more[["power_to_weight", "age"]], more["mpg"])
    """)
    assert model_by_var(lineage, "first")["training_data"]["features"] == {"columns": ["hp", "weight"]}
    assert sorted(model_by_var(lineage, "second")["training_data"]["features"]["columns"]) == \
        ["hp", "weight", "year"]


def test_filter_by_pattern_is_recorded_as_written():
    lineage = analyse("""
        import pandas as pd
        from sklearn.neighbors import KNeighborsClassifier

        digits = pd.read_csv("digits.csv")
        knn = KNeighborsClassifier().fit(digits.filter(like="pixel"), digits["label"])
    """)
    features = only_model(lineage)["training_data"]["features"]
    assert "like='pixel'" in features["unknown"]


def test_arrays_put_side_by_side_keep_every_frames_columns_and_sources():
    lineage = analyse("""
        import numpy as np
        import pandas as pd
        from sklearn.linear_model import LogisticRegression

        people = pd.read_csv("people.csv")
        visits = pd.read_csv("visits.csv")
        both = np.hstack([people[["age"]].values, visits[["n_visits", "last_gap"]].values])
        stacked = np.c_[people[["age"]], visits[["n_visits"]]]
        a = LogisticRegression().fit(both, people["churned"])
        b = LogisticRegression().fit(stacked, people["churned"])
    """)
    a, b = model_by_var(lineage, "a"), model_by_var(lineage, "b")
    assert a["training_data"]["features"] == {"columns": ["age", "n_visits", "last_gap"]}
    assert b["training_data"]["features"] == {"columns": ["age", "n_visits"]}
    assert source_texts(lineage, a) == ["people.csv", "visits.csv"]


def test_column_transformer_and_function_transformer_inside_a_pipeline():
    lineage = analyse("""
        import numpy as np
        import pandas as pd
        from sklearn.compose import make_column_transformer
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

        homes = pd.read_csv("homes.csv")
        cols = ["rooms", "area", "town"]
        prep = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["town"]),
                                       remainder="passthrough")
        pipe = make_pipeline(prep, FunctionTransformer(np.log1p), Ridge(alpha=3.0))
        pipe.fit(homes[cols], homes["price"])
    """)
    model = only_model(lineage)
    assert model["class"] == "sklearn.pipeline.Pipeline"
    assert model["hyperparameters"]["ridge__alpha"] == 3.0
    assert model["hyperparameters"]["columntransformer__onehotencoder__handle_unknown"] == "ignore"
    assert model["training_data"]["features"] == {"columns": ["rooms", "area", "town"]}


def test_an_eval_set_is_not_training_data_and_early_stopping_is_a_hyperparameter():
    lineage = analyse("""
        import pandas as pd
        import xgboost as xgb

        fit_part = pd.read_csv("fit.csv")
        holdout = pd.read_csv("holdout.csv")
        cols = ["f1", "f2"]
        booster = xgb.XGBRegressor(n_estimators=800, early_stopping_rounds=25)
        booster.fit(fit_part[cols], fit_part["t"], eval_set=[(holdout[cols], holdout["t"])], verbose=False)
    """)
    model = only_model(lineage)
    assert model["hyperparameters"] == {"n_estimators": 800, "early_stopping_rounds": 25}
    assert source_texts(lineage, model) == ["fit.csv"]


def test_a_clone_is_trained_where_it_is_fitted_and_a_reloaded_model_is_the_saved_one():
    lineage = analyse("""
        import joblib
        import pandas as pd
        from sklearn.base import clone
        from sklearn.svm import SVC
        from sklearn.metrics import accuracy_score

        df = pd.read_csv("d.csv")
        template = SVC(C=4)
        fitted = clone(template)
        fitted.fit(df[["x1", "x2"]], df["y"])
        joblib.dump(fitted, "svc.joblib")
        again = joblib.load("svc.joblib")
        accuracy_score(df["y"], again.predict(df[["x1", "x2"]]))
    """)
    model = model_by_var(lineage, "fitted")
    assert (model["class"], model["fit_line"], model["hyperparameters"]) == ("sklearn.svm.SVC", 11, {"C": 4})
    assert metric_models(lineage, "accuracy_score") == [["fitted"]]


def test_a_helper_that_mutates_its_frame_argument_changes_the_callers_frame():
    lineage = analyse("""
        import pandas as pd
        from sklearn.ensemble import RandomForestClassifier

        def clean(frame):
            frame["family"] = frame["sibsp"] + frame["parch"]
            frame.drop(columns=["cabin"], inplace=True)

        def harmless(frame):
            frame = frame.copy()
            frame.drop(columns=["age"], inplace=True)
            return frame

        train = pd.read_csv("train.csv")
        clean(train)
        harmless(train)
        rf = RandomForestClassifier().fit(train.drop(columns=["survived"]), train["survived"])
    """)
    assert only_model(lineage)["training_data"]["features"] == {"all_except": ["cabin", "survived"]}


def test_a_factory_function_returning_different_models_trains_each_possible_one():
    lineage = analyse("""
        import sys
        import pandas as pd
        from sklearn.ensemble import RandomForestRegressor
        from sklearn.linear_model import Lasso

        def make(kind, seed=0):
            if kind == "forest":
                return RandomForestRegressor(random_state=seed)
            return Lasso(alpha=0.01)

        df = pd.read_csv("d.csv")
        chosen = make(sys.argv[1])
        chosen.fit(df[["a"]], df["b"])
        fixed = make("forest", seed=3)
        fixed.fit(df[["a"]], df["b"])
    """)
    by_line = sorted((m["fit_line"], m["class"], m["hyperparameters"].get("random_state")) for m in lineage["models"])
    assert by_line == [(14, "sklearn.ensemble.RandomForestRegressor", 0), (14, "sklearn.linear_model.Lasso", None),
                       (16, "sklearn.ensemble.RandomForestRegressor", 3)]


def test_chunks_of_one_query_concatenated_are_that_query():
    lineage = analyse("""
        import pandas as pd
        import sqlalchemy as sa
        from sklearn.linear_model import LogisticRegression

        engine = sa.create_engine("sqlite:///events.db")
        events = pd.concat(pd.read_sql_query("SELECT * FROM events", engine, chunksize=10_000))
        model = LogisticRegression().fit(events.drop(columns="label"), events.label)
    """)
    data = only_model(lineage)["training_data"]
    assert data["features"] == {"all_except": ["label"]} and data["label"] == "label"
    assert source_texts(lineage, only_model(lineage)) == ["SELECT * FROM events"]


def test_every_loop_over_a_list_of_frames_sees_the_previous_loops_changes():
    lineage = analyse("""
        import pandas as pd
        from sklearn.tree import DecisionTreeClassifier

        train = pd.read_csv("train.csv")
        test = pd.read_csv("test.csv")
        both = [train, test]
        for frame in both:
            frame["size"] = frame["sibsp"] + frame["parch"] + 1
        for frame in both:
            frame["alone"] = 0
            frame.loc[frame["size"] == 1, "alone"] = 1
        train = train.drop(["sibsp", "parch", "size", "ticket"], axis=1)
        tree = DecisionTreeClassifier().fit(train.drop("survived", axis=1), train["survived"])
    """)
    assert only_model(lineage)["training_data"]["features"] == {"all_except": ["ticket", "survived"]}


def test_boolean_masks_over_the_columns_select_or_exclude_one_column():
    lineage = analyse("""
        import pandas as pd
        from sklearn.linear_model import LogisticRegression

        cards = pd.read_csv("cards.csv")
        X = cards.loc[:, cards.columns != "Class"]
        y = cards.loc[:, cards.columns == "Class"]
        small = cards.iloc[:500, :]
        Xs = small.iloc[:, small.columns != "Class"]
        ys = small.iloc[:, small.columns == "Class"]
        full = LogisticRegression().fit(X, y.values.ravel())
        part = LogisticRegression().fit(Xs, ys.values.ravel())
    """)
    for var in ("full", "part"):
        data = model_by_var(lineage, var)["training_data"]
        assert (data["features"], data["label"]) == ({"all_except": ["Class"]}, "Class")


def test_predictions_rewritten_by_a_comprehension_or_held_in_a_frame_still_name_the_model():
    lineage = analyse("""
        import pandas as pd
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.metrics import accuracy_score, f1_score

        df = pd.read_csv("d.csv")
        forest = RandomForestClassifier().fit(df[["a", "b"]], df["y"])
        probs = forest.predict_proba(df[["a", "b"]])[:, 1]
        hard = [1 if p > 0.5 else 0 for p in probs]
        accuracy_score(df["y"], hard)
        table = pd.DataFrame({"truth": df["y"], "guess": forest.predict(df[["a", "b"]])})
        f1_score(table.truth, table["guess"])
    """)
    assert metric_models(lineage, "accuracy_score") == [["forest"]]
    assert metric_models(lineage, "f1_score") == [["forest"]]


def test_a_loader_iterated_through_enumerate_still_gives_its_batch_size():
    lineage = analyse("""
        import torch
        import torchvision
        from torch import nn, optim

        data = torchvision.datasets.CIFAR10(root="./data", train=True, download=True)
        loader = torch.utils.data.DataLoader(data, batch_size=16, shuffle=True)
        net = nn.Sequential(nn.Flatten(), nn.Linear(3072, 10))
        sgd = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss()
        for epoch in range(3):
            for i, batch in enumerate(loader, 0):
                images, labels = batch
                sgd.zero_grad()
                loss_fn(net(images), labels).backward()
                sgd.step()
    """)
    hyper = only_model(lineage)["hyperparameters"]
    assert hyper == {"optimizer": "torch.optim.SGD", "lr": 0.01, "momentum": 0.9, "epochs": 3,
                     "loss": "torch.nn.CrossEntropyLoss", "batch_size": 16}


def test_frames_rebuilt_from_transformed_arrays_keep_the_columns_they_came_from():
    lineage = analyse("""
        import pandas as pd
        from sklearn.decomposition import PCA
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import OneHotEncoder

        df = pd.read_csv("d.csv")
        cats, nums = ["city", "plan"], ["age", "spend", "visits"]
        ohe = OneHotEncoder()
        encoded = pd.DataFrame(ohe.fit_transform(df[cats]).toarray(), columns=ohe.get_feature_names_out())
        comps = pd.DataFrame(PCA(2).fit_transform(df[nums]), columns=["pc1", "pc2"])
        renamed = pd.DataFrame(df[nums].values, columns=["A", "S", "V"])
        wide = LogisticRegression().fit(pd.concat([encoded, comps], axis=1), df["y"])
        one = LogisticRegression().fit(renamed[["S"]], df["y"])
    """)
    assert sorted(model_by_var(lineage, "wide")["training_data"]["features"]["columns"]) == \
        ["age", "city", "plan", "spend", "visits"]
    assert model_by_var(lineage, "one")["training_data"]["features"] == {"columns": ["spend"]}


def test_a_feature_comprehension_with_several_exclusions_joined_by_and():
    lineage = analyse("""
        import pandas as pd
        from sklearn.linear_model import LinearRegression

        train = pd.read_csv("t.csv")
        features = [c for c in train.columns if c != "target" and c not in ["id", "fold"]]
        reg = LinearRegression().fit(train[features], train["target"])
    """)
    assert only_model(lineage)["training_data"]["features"] == {"all_except": ["target", "id", "fold"]}


def test_odd_library_code_is_analysed_without_tripping_the_analyzer():
    analyse("""
        NAMES = ["a", "b"]
        table = {n: len(n) for n in NAMES if n}
        options = {"x": 1}
        options.update(None)

        def never_called(values):
            return {k: v for k, v in values.items() if k in NAMES}
    """)


def test_a_torch_module_saved_and_loaded_again_is_scored_as_the_trained_one():
    lineage = analyse("""
        import pandas as pd
        import torch
        from torch import nn
        from sklearn.metrics import r2_score

        df = pd.read_csv("d.csv")
        X = torch.tensor(df[["a", "b"]].values, dtype=torch.float32)
        y = torch.tensor(df["c"].values, dtype=torch.float32)
        net = nn.Linear(2, 1)
        opt = torch.optim.Adam(net.parameters(), lr=0.1)
        for epoch in range(5):
            opt.zero_grad()
            nn.MSELoss()(net(X), y).backward()
            opt.step()
        torch.save(net, "net.pt")
        restored = torch.load("net.pt")
        r2_score(y, restored(X).detach().numpy())
    """)
    assert metric_models(lineage, "r2_score") == [["net"]]

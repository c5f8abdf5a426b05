"""KB-driven recognition of training in each supported library."""

from __future__ import annotations

from .helpers import analyse, metric_models, only_model, source_texts


def test_lgb_train_booster_with_params_dict_and_options():
    lineage = analyse("""
        import lightgbm as lgb
        import pandas as pd
        df = pd.read_csv("d.csv")
        params = {"objective": "binary", "num_leaves": 15}
        params["learning_rate"] = 0.05
        dtrain = lgb.Dataset(df.drop(columns=["y"]), label=df["y"])
        bst = lgb.train(params, dtrain, num_boost_round=200, valid_sets=[dtrain],
                        callbacks=[lgb.early_stopping(20)])
        pred = bst.predict(df.drop(columns=["y"]))
    """)
    model = only_model(lineage)
    assert (model["class"], model["var"], model["fit_line"]) == ("lightgbm.Booster", "bst", 8)
    assert model["hyperparameters"] == {"objective": "binary", "num_leaves": 15, "learning_rate": 0.05,
                                        "num_boost_round": 200}
    assert model["training_data"]["features"] == {"all_except": ["y"]}
    assert model["training_data"]["label"] == "y"


def test_xgb_train_with_dmatrix_and_positional_rounds():
    lineage = analyse("""
        import xgboost as xgb
        import pandas as pd
        from sklearn.metrics import mean_squared_error
        df = pd.read_parquet("d.parquet")
        d = xgb.DMatrix(df[["a", "b"]], label=df["t"])
        booster = xgb.train({"max_depth": 3, "eta": 0.1}, d, 50)
        print(mean_squared_error(df["t"], booster.predict(d)))
    """)
    model = only_model(lineage)
    assert model["class"] == "xgboost.Booster"
    assert model["hyperparameters"] == {"max_depth": 3, "eta": 0.1, "num_boost_round": 50}
    assert lineage["metrics"][0]["model"] == model["id"]


def test_pipeline_and_grid_search_report_wrapper_with_prefixed_params():
    lineage = analyse("""
        import pandas as pd
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GridSearchCV
        from sklearn.metrics import roc_auc_score
        df = pd.read_csv("d.csv")
        X, y = df.drop(columns="t"), df["t"]
        pipe = Pipeline([("scale", StandardScaler(with_mean=False)), ("clf", LogisticRegression(max_iter=500))])
        grid = GridSearchCV(pipe, {"clf__C": [0.1, 1.0]}, cv=5, scoring="roc_auc")
        grid.fit(X, y)
        print(roc_auc_score(y, grid.best_estimator_.predict_proba(X)[:, 1]))
    """)
    model = only_model(lineage)
    assert model["class"] == "sklearn.model_selection.GridSearchCV"
    assert model["estimator"] == "sklearn.pipeline.Pipeline"
    assert model["hyperparameters"] == {"param_grid": {"clf__C": [0.1, 1.0]}, "cv": 5, "scoring": "roc_auc",
                                        "estimator__scale__with_mean": False,
                                        "estimator__clf__max_iter": 500}
    assert lineage["metrics"][0]["model"] == model["id"]


def test_cross_val_score_is_a_training_site_and_a_metric():
    lineage = analyse("""
        import pandas as pd
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC
        from sklearn.model_selection import cross_val_score
        df = pd.read_csv("d.csv")
        pipe = make_pipeline(StandardScaler(), SVC(C=3))
        scores = cross_val_score(pipe, df[["a"]], df["b"], cv=5)
    """)
    model = only_model(lineage)
    assert (model["class"], model["var"], model["fit_line"]) == ("sklearn.pipeline.Pipeline", "pipe", 9)
    assert model["hyperparameters"] == {"svc__C": 3}
    assert lineage["metrics"][0]["function"] == "sklearn.model_selection.cross_val_score"
    assert lineage["metrics"][0]["model"] == model["id"]


def test_torch_module_trained_in_a_loop():
    lineage = analyse("""
        import pandas as pd
        import torch
        import torch.nn as nn
        from torch.utils.data import DataLoader, TensorDataset

        class Net(nn.Module):
            def __init__(self, d_in, hidden=32):
                super().__init__()
                self.layers = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, 1))
            def forward(self, x):
                return self.layers(x)

        df = pd.read_csv("d.csv")
        X = torch.tensor(df[["a", "b"]].values, dtype=torch.float32)
        y = torch.tensor(df["y"].values, dtype=torch.float32)
        loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)
        EPOCHS = 5
        net = Net(d_in=2, hidden=16)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        loss_fn = nn.MSELoss()
        for epoch in range(EPOCHS):
            for xb, yb in loader:
                opt.zero_grad()
                loss = loss_fn(net(xb), yb)
                loss.backward()
                opt.step()
    """)
    model = only_model(lineage)
    assert (model["class"], model["var"], model["fit_line"]) == ("__main__.Net", "net", 27)
    assert model["hyperparameters"] == {"d_in": 2, "hidden": 16, "optimizer": "torch.optim.Adam", "lr": 0.001,
                                        "epochs": 5, "loss": "torch.nn.MSELoss", "batch_size": 64}
    assert model["training_data"]["features"] == {"columns": ["a", "b"]}
    assert model["training_data"]["label"] == "y"


def test_keras_compile_fit_evaluate():
    lineage = analyse("""
        import pandas as pd
        from tensorflow import keras
        from tensorflow.keras import layers
        df = pd.read_csv("d.csv")
        X, y = df.iloc[:, :8], df.iloc[:, 8]
        model = keras.Sequential([layers.Dense(12, activation="relu"), layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        model.fit(X, y, epochs=20, batch_size=10, validation_split=0.1, callbacks=[])
        loss, acc = model.evaluate(X, y)
    """)
    model = only_model(lineage)
    assert model["class"] == "keras.Sequential"
    assert model["hyperparameters"] == {"optimizer": "adam", "loss": "binary_crossentropy",
                                        "metrics": ["accuracy"], "epochs": 20, "batch_size": 10,
                                        "validation_split": 0.1}
    assert model["training_data"]["features"] == {"positional": "df.iloc[:, :8]"}
    assert lineage["metrics"][0]["function"] == "keras.Model.evaluate"
    assert lineage["metrics"][0]["model"] == model["id"]


def test_statsmodels_formula_and_array_apis():
    lineage = analyse("""
        import pandas as pd
        import statsmodels.api as sm
        import statsmodels.formula.api as smf
        df = pd.read_csv("credit.csv")
        ols = sm.OLS(df["balance"], sm.add_constant(df[["income", "limit"]])).fit()
        logit = smf.logit("default ~ balance + C(student) + np.log(income)", data=df).fit(disp=0)
        fitted = logit.predict(df)
    """)
    ols, logit = lineage["models"]
    assert (ols["class"], ols["var"], ols["fit_line"]) == ("statsmodels.api.OLS", "ols", 6)
    assert ols["training_data"]["features"] == {"columns": ["income", "limit"]}
    assert ols["training_data"]["label"] == "balance"
    assert logit["class"] == "statsmodels.formula.api.logit"
    assert logit["training_data"]["features"] == {"columns": ["balance", "student", "income"]}
    assert logit["training_data"]["label"] == "default"
    assert ols["hyperparameters"] == logit["hyperparameters"] == {}


def test_catboost_with_pool_and_kfold_out_of_fold_predictions():
    lineage = analyse("""
        import numpy as np
        import pandas as pd
        from catboost import CatBoostClassifier, Pool
        from sklearn.model_selection import StratifiedKFold
        from sklearn.metrics import roc_auc_score
        train = pd.read_csv("train.csv")
        X, y = train.drop(["id", "target"], axis=1), train["target"]
        oof = np.zeros(len(train))
        for tr, va in StratifiedKFold(5).split(X, y):
            model = CatBoostClassifier(iterations=300, depth=6, verbose=0)
            model.fit(Pool(X.iloc[tr], y.iloc[tr], cat_features=[0]), eval_set=(X.iloc[va], y.iloc[va]))
            oof[va] = model.predict_proba(X.iloc[va])[:, 1]
        print(roc_auc_score(y, oof))
    """)
    model = only_model(lineage)
    assert model["training_data"]["features"] == {"all_except": ["id", "target"]}
    assert model["training_data"]["label"] == "target"
    assert metric_models(lineage, "roc_auc_score") == [["model"]]
    assert source_texts(lineage, model) == ["train.csv"]

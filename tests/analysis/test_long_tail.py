"""How people really write it: configs in classes, trainers, unseen helpers, loops over frames."""

from __future__ import annotations

from .helpers import analyse, metric_models, only_model, source_texts


def test_class_and_dataclass_configs_resolve_hyperparameters():
    lineage = analyse("""
        from dataclasses import dataclass
        import pandas as pd
        import torch
        from torch import nn

        class CFG:
            lr = 3e-4
            epochs = 12

        @dataclass
        class Params:
            hidden: int = 64
            dropout: float = 0.1

        p = Params(hidden=128)
        df = pd.read_csv("d.csv")
        X = torch.tensor(df.drop(columns=["y"]).values, dtype=torch.float32)
        y = torch.tensor(df["y"].values, dtype=torch.float32)
        net = nn.Sequential(nn.Linear(10, p.hidden), nn.Dropout(p.dropout), nn.Linear(p.hidden, 1))
        opt = torch.optim.Adam(net.parameters(), lr=CFG.lr)
        for epoch in range(CFG.epochs):
            opt.zero_grad()
            nn.MSELoss()(net(X), y).backward()
            opt.step()
    """)
    model = only_model(lineage)
    assert model["hyperparameters"] == {"optimizer": "torch.optim.Adam", "lr": 0.0003, "epochs": 12,
                                        "loss": "torch.nn.MSELoss"}
    assert model["training_data"]["features"] == {"all_except": ["y"]}
    assert model["training_data"]["label"] == "y"


def test_lightning_module_trained_by_a_trainer():
    lineage = analyse("""
        import pandas as pd, torch
        import pytorch_lightning as pl
        from torch.utils.data import DataLoader, TensorDataset

        class Lit(pl.LightningModule):
            def __init__(self, lr=1e-3):
                super().__init__()
                self.lr = lr

        df = pd.read_csv("iris.csv")
        ds = TensorDataset(torch.tensor(df.iloc[:, :4].values), torch.tensor(df.iloc[:, 4].values))
        model = Lit(lr=0.01)
        trainer = pl.Trainer(max_epochs=5)
        trainer.fit(model, DataLoader(ds, batch_size=32))
    """)
    model = only_model(lineage)
    assert (model["class"], model["fit_line"]) == ("__main__.Lit", 15)
    assert model["hyperparameters"] == {"lr": 0.01, "max_epochs": 5}
    assert model["training_data"]["features"] == {"positional": "df.iloc[:, :4]"}


def test_pipeline_whose_estimator_comes_from_unseen_code_is_still_a_model():
    lineage = analyse("""
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.metrics import classification_report
        from mylib.models import make_clf
        from mylib.data import load
        X, y = load()
        pipe = Pipeline([("scaler", StandardScaler()), ("clf", make_clf())])
        pipe.fit(X, y)
        print(classification_report(y, pipe.predict(X)))
    """)
    model = only_model(lineage)
    assert (model["class"], model["var"], model["fit_line"]) == ("sklearn.pipeline.Pipeline", "pipe", 9)
    assert metric_models(lineage, "classification_report") == [["pipe"]]


def test_mutations_through_a_loop_over_frames_reach_the_frames():
    lineage = analyse("""
        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        train = pd.read_csv("train.csv")
        test = pd.read_csv("test.csv")
        for dataset in [train, test]:
            dataset["Title"] = dataset.Name.str.extract(r" ([A-Za-z]+)\\.", expand=False)
        train = train.drop(["Name", "Ticket"], axis=1)
        LogisticRegression().fit(train.drop("Survived", axis=1), train["Survived"])
    """)
    assert only_model(lineage)["training_data"]["features"] == {"all_except": ["Ticket", "Survived"]}


def test_out_of_fold_predictions_and_prediction_columns_lead_back_to_models():
    lineage = analyse("""
        import numpy as np, pandas as pd
        from sklearn.ensemble import IsolationForest
        from sklearn.linear_model import Ridge
        from sklearn.model_selection import KFold
        from sklearn.metrics import r2_score, roc_auc_score
        df = pd.read_csv("d.csv")
        X, y = df[["a", "b"]], df["y"]
        oof = np.zeros(len(df))
        for tr, va in KFold(5).split(X):
            m = Ridge(alpha=2.0).fit(X.iloc[tr], y.iloc[tr])
            oof[va] = m.predict(X.iloc[va])
        print(r2_score(y, oof))
        iso = IsolationForest().fit(X)
        df["score"] = -iso.score_samples(X)
        print(roc_auc_score(df["flag"], df["score"]))
    """)
    assert metric_models(lineage, "r2_score") == [["m"]]
    assert metric_models(lineage, "roc_auc_score") == [["iso"]]


def test_integer_column_names_from_a_range():
    lineage = analyse("""
        import pandas as pd
        import xgboost as xgb
        dat = pd.read_csv("snps.csv", header=None)
        X = dat[list(range(1, 4))]
        xgb.XGBClassifier().fit(X, dat[0])
    """)
    assert only_model(lineage)["training_data"]["features"] == {"columns": ["1", "2", "3"]}


def test_training_inside_functions_called_from_main_is_attributed_to_the_top_level_call():
    lineage = analyse("""
        import pandas as pd
        from sklearn.ensemble import GradientBoostingClassifier
        from sklearn.metrics import f1_score

        def load(path):
            return pd.read_csv(path)

        def train(df, depth):
            model = GradientBoostingClassifier(max_depth=depth)
            model.fit(df.drop(columns="label"), df.label)
            print(f1_score(df.label, model.predict(df.drop(columns="label"))))
            return model

        def main():
            df = load("data/train.csv")
            return train(df, depth=3)

        if __name__ == "__main__":
            main()
    """)
    model = only_model(lineage)
    assert (model["fit_line"], model["hyperparameters"]) == (20, {"max_depth": 3})
    assert lineage["data_sources"][0]["source"] == "data/train.csv"
    assert lineage["metrics"][0]["line"] == 20


def test_stacking_imblearn_pipeline_and_an_optuna_objective():
    lineage = analyse("""
        import numpy as np, pandas as pd, optuna, lightgbm as lgb
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import cross_val_score
        from imblearn.pipeline import Pipeline
        from imblearn.over_sampling import SMOTE
        df = pd.read_csv("credit.csv")
        X, y = df.drop(columns=["Class"]), df["Class"]
        rf = RandomForestClassifier().fit(X, y)
        meta = LogisticRegression().fit(np.column_stack([rf.predict_proba(X)[:, 1]]), y)
        pipe = Pipeline([("smote", SMOTE(random_state=0)), ("rf", RandomForestClassifier(max_depth=4))])
        pipe.fit(X, y)

        def objective(trial):
            params = {"num_leaves": trial.suggest_int("num_leaves", 8, 64), "learning_rate": 0.05}
            return cross_val_score(lgb.LGBMClassifier(**params), X, y, cv=3).mean()

        study = optuna.create_study()
        study.optimize(objective, n_trials=20)
    """)
    by_var = {m["var"]: m for m in lineage["models"]}
    assert by_var["meta"]["training_data"]["sources"] == by_var["rf"]["training_data"]["sources"]
    assert by_var["pipe"]["class"] == "imblearn.pipeline.Pipeline"
    assert by_var["pipe"]["hyperparameters"] == {"smote__random_state": 0, "rf__max_depth": 4}
    tuned = [m for m in lineage["models"] if m["class"] == "lightgbm.LGBMClassifier"]
    assert tuned[0]["hyperparameters"] == {"num_leaves": "trial.suggest_int('num_leaves', 8, 64)",
                                           "learning_rate": 0.05}
    assert tuned[0]["fit_line"] == 20


def test_hugging_face_trainer_trains_its_model():
    lineage = analyse("""
        import pandas as pd
        from datasets import Dataset
        from transformers import AutoModelForSequenceClassification, Trainer, TrainingArguments
        df = pd.read_csv("reviews.csv")
        model = AutoModelForSequenceClassification.from_pretrained("distilbert-base-uncased", num_labels=2)
        args = TrainingArguments(output_dir="out", learning_rate=2e-5, num_train_epochs=3)
        trainer = Trainer(model=model, args=args, train_dataset=Dataset.from_pandas(df))
        trainer.train()
    """)
    model = only_model(lineage)
    assert (model["class"], model["var"], model["fit_line"]) == (
        "transformers.AutoModelForSequenceClassification", "model", 9)
    assert model["hyperparameters"] == {"num_labels": 2, "learning_rate": 2e-5, "num_train_epochs": 3}
    assert source_texts(lineage, model) == ["reviews.csv"]


def test_progress_bars_iterate_what_they_wrap():
    lineage = analyse("""
        import pandas as pd, torch
        from tqdm.auto import tqdm
        from torch.utils.data import DataLoader, TensorDataset
        df = pd.read_csv("d.csv")
        loader = DataLoader(TensorDataset(torch.tensor(df[["a", "b"]].values), torch.tensor(df["y"].values)),
                            batch_size=16)
        net = torch.nn.Linear(2, 1)
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        for epoch in tqdm(range(7)):
            for xb, yb in tqdm(loader, leave=False):
                loss = torch.nn.functional.mse_loss(net(xb), yb)
                loss.backward()
                opt.step()
    """)
    model = only_model(lineage)
    assert model["hyperparameters"]["epochs"] == 7
    assert model["training_data"]["features"] == {"columns": ["a", "b"]}
    assert model["training_data"]["label"] == "y"

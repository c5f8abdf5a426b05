"""Tabular Playground (Kaggle TPS): feature lists built from the columns themselves."""
import pandas as pd
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from lightgbm import LGBMClassifier
from sklearn.metrics import roc_auc_score

DROP = ["id", "target", "kfold"]
tps = pd.read_csv("../input/tabular-playground-series-nov-2021/train.csv")
print(tps.shape)
print(tps.head())

features = [c for c in tps.columns if c not in DROP]
print(len(features), "features")

X_train, X_valid, y_train, y_valid = train_test_split(tps[features], tps["target"], test_size=0.2, random_state=0)


def make_forest(n, leaf=1):
    return RandomForestClassifier(n_estimators=n, min_samples_leaf=leaf, n_jobs=-1, random_state=0)


forest = make_forest(300, leaf=5)
forest.fit(X_train, y_train)
print("forest AUC", roc_auc_score(y_valid, forest.predict_proba(X_valid)[:, 1]))

# only the first 50 features, by name
first50 = [f"f{i}" for i in range(50)]
lr = LogisticRegression(max_iter=500, C=0.01)
lr.fit(X_train[first50], y_train)
print("LR AUC (f0-f49)", roc_auc_score(y_valid, lr.predict_proba(X_valid[first50])[:, 1]))

# numeric columns chosen by dtype: which ones depends on the data
num = tps.select_dtypes(include="float64").columns.tolist()
lgbm = LGBMClassifier(n_estimators=1000, learning_rate=0.02, num_leaves=20, verbose=-1)
lgbm.fit(tps[num], tps["target"])
print("LGBM AUC (in-sample)", roc_auc_score(tps["target"], lgbm.predict_proba(tps[num])[:, 1]))

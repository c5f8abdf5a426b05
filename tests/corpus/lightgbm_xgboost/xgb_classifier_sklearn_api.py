# Santander-style binary classification: XGBoost vs LightGBM through the sklearn API
import pandas as pd
import numpy as np
from xgboost import XGBClassifier
from lightgbm import LGBMClassifier
from sklearn.model_selection import train_test_split
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

df = pd.read_csv("input/santander_train.csv")
print(df.target.value_counts())

X = df.drop(["ID_code", "target"], axis=1)
y = df.target

X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, random_state=11, stratify=y)

xgb_model = XGBClassifier(
    n_estimators=1000,
    max_depth=2,
    learning_rate=0.05,
    subsample=0.7,
    colsample_bytree=0.5,
    eval_metric="auc",
    early_stopping_rounds=100,
    tree_method="hist",
)
xgb_model.fit(X_train, y_train, eval_set=[(X_val, y_val)], verbose=200)
xgb_proba = xgb_model.predict_proba(X_val)[:, 1]
print("xgb acc", accuracy_score(y_val, xgb_model.predict(X_val)))
print("xgb logloss", log_loss(y_val, xgb_proba))
print("xgb auc", roc_auc_score(y_val, xgb_proba))

lgb_model = LGBMClassifier(n_estimators=1000, num_leaves=13, learning_rate=0.05, feature_fraction=0.05,
                           bagging_fraction=0.4, bagging_freq=5, min_data_in_leaf=80, verbose=-1)
lgb_model.fit(X_train, y_train, eval_set=[(X_val, y_val)])
lgb_proba = lgb_model.predict_proba(X_val)[:, 1]
print("lgb acc", accuracy_score(y_val, lgb_model.predict(X_val)))
print("lgb logloss", log_loss(y_val, lgb_proba))
print("lgb auc", roc_auc_score(y_val, lgb_proba))

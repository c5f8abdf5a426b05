# Predictive maintenance - experiment script as it lives in the team repo
import os

import mlflow
import numpy as np
import pandas as pd
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.metrics import f1_score, roc_auc_score

DATA_DIR = "/mnt/datalake/maintenance"
EXPERIMENT = "pdm-failure-7d"

telemetry = pd.read_csv(os.path.join(DATA_DIR, "telemetry_daily.csv"))
print(telemetry.shape)

telemetry.drop(["machine_serial", "firmware"], axis=1, inplace=True)
del telemetry["site_name"]
telemetry.dropna(inplace=True)

feature_cols = list(telemetry.columns)
feature_cols.remove("failure_7d")
feature_cols.remove("machine_id")
feature_cols.remove("day")

X = telemetry[feature_cols]
y = telemetry["failure_7d"].values.ravel()

skf = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
et = ExtraTreesClassifier(n_estimators=400, max_features=0.3, n_jobs=-1, random_state=0)
oof = cross_val_predict(et, X, y, cv=skf, method="predict_proba")[:, 1]
print("ET OOF AUC", roc_auc_score(y, oof))

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
mlflow.set_experiment(EXPERIMENT)
with mlflow.start_run(run_name="rf-balanced"):
    params = {"n_estimators": 600, "min_samples_leaf": 4, "class_weight": "balanced_subsample"}
    rf = RandomForestClassifier(**params, n_jobs=-1, random_state=0)
    rf.fit(X_train, y_train)
    proba = rf.predict_proba(X_test)[:, 1]
    auc = roc_auc_score(y_test, proba)
    f1 = f1_score(y_test, proba > 0.35)
    mlflow.log_params(params)
    mlflow.log_metrics({"auc": auc, "f1_at_035": f1})
print(f"RF AUC={auc:.3f} F1={f1:.3f}")

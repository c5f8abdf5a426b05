import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.metrics import roc_auc_score, precision_recall_curve, auc

tx = (
    pd.read_parquet("s3://fin-ml/transactions/2024-06.parquet")
    .query("amount > 0")
    .assign(
        log_amount=lambda d: np.log1p(d["amount"]),
        hour=lambda d: pd.to_datetime(d["ts"]).dt.hour,
        is_foreign=lambda d: (d["country"] != d["card_country"]).astype(int),
    )
    .drop(columns=["ts", "card_country"])
    .rename(columns={"mcc": "merchant_category"})
    .reset_index(drop=True)
)

feats = ["log_amount", "hour", "is_foreign", "merchant_category"]
iso = IsolationForest(n_estimators=300, contamination=0.002, random_state=0)
iso.fit(tx[feats])
anomaly = -iso.score_samples(tx[feats])
print("IF AUC vs labels:", roc_auc_score(tx["is_fraud"], anomaly))

tx["anomaly"] = anomaly
X_tr, X_te, y_tr, y_te = train_test_split(tx[feats + ["anomaly"]], tx["is_fraud"], test_size=0.3, stratify=tx["is_fraud"])
lr = LogisticRegression(class_weight="balanced", max_iter=1000).fit(X_tr, y_tr)
p = lr.predict_proba(X_te)[:, 1]
prec, rec, _ = precision_recall_curve(y_te, p)
print("LR ROC AUC", roc_auc_score(y_te, p), "PR AUC", auc(rec, prec))

import numpy as np
import pandas as pd
import xgboost as xgb
import lightgbm as lgb
from sklearn.model_selection import train_test_split
from sklearn.metrics import roc_auc_score, average_precision_score

df = pd.read_feather("data/card_transactions.feather")
print(df.shape, df.is_fraud.mean())

df["amount_log"] = np.log1p(df["amount"])
df["hour"] = pd.to_datetime(df["ts"]).dt.hour
y = df.pop("is_fraud")
features = df.columns.difference(["transaction_id", "ts", "merchant_name"])
X = df[features]

X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.2, stratify=y, random_state=31)
ratio = float((y_train == 0).sum()) / (y_train == 1).sum()

xgb_clf = xgb.XGBClassifier(n_estimators=700, max_depth=6, learning_rate=0.05, scale_pos_weight=ratio,
                            tree_method="hist", eval_metric="aucpr")
xgb_clf.fit(X_train, y_train, eval_set=[(X_valid, y_valid)], verbose=False)
p_xgb = xgb_clf.predict_proba(X_valid)[:, 1]
print("XGB ROC AUC", roc_auc_score(y_valid, p_xgb))
print("XGB PR AUC", average_precision_score(y_valid, p_xgb))

lgb_clf = lgb.LGBMClassifier(n_estimators=700, learning_rate=0.05, num_leaves=64, is_unbalance=True, verbose=-1)
lgb_clf.fit(X_train, y_train)
p_lgb = lgb_clf.predict_proba(X_valid)[:, 1]
print("LGB ROC AUC", roc_auc_score(y_valid, p_lgb))
print("LGB PR AUC", average_precision_score(y_valid, p_lgb))

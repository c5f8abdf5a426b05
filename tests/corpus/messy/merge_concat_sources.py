"""Subscription renewal: two yearly exports stacked, joined to the customer master."""
import pandas as pd
import xgboost as xgb
from sklearn.model_selection import train_test_split
from sklearn.metrics import roc_auc_score, log_loss

subs = pd.concat(
    [pd.read_csv("exports/subscriptions_2022.csv"), pd.read_csv("exports/subscriptions_2023.csv")],
    ignore_index=True,
)
customers = pd.read_parquet("master/customers.parquet")
print(subs.shape, customers.shape)

data = subs.merge(customers[["customer_id", "age", "country", "signup_channel"]], on="customer_id", how="inner")
data["tenure_months"] = (pd.to_datetime(data["period_end"]) - pd.to_datetime(data["first_purchase"])).dt.days // 30
data = data.join(pd.get_dummies(data["signup_channel"], prefix="ch"))

FEATURES = ["monthly_fee", "n_logins_30d", "support_tickets", "age", "tenure_months"]
FEATURES += ["ch_web", "ch_store", "ch_partner"]
LABEL = "renewed"

X_train, X_test, y_train, y_test = train_test_split(data[FEATURES], data[LABEL], test_size=0.2, random_state=77)

clf = xgb.XGBClassifier(n_estimators=500, max_depth=5, learning_rate=0.03, colsample_bytree=0.7, reg_lambda=2.0)
clf.fit(X_train, y_train, eval_set=[(X_test, y_test)], verbose=False)
p = clf.predict_proba(X_test)[:, 1]
print("AUC", roc_auc_score(y_test, p))
print("logloss", log_loss(y_test, p))

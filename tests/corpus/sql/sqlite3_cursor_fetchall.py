import sqlite3

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from sklearn.model_selection import train_test_split
from sklearn.metrics import accuracy_score, roc_auc_score

DB_PATH = "warehouse/churn.db"

con = sqlite3.connect(DB_PATH)
cur = con.cursor()
cur.execute(
    "SELECT tenure, monthly_charges, total_charges, contract, churned "
    "FROM customers WHERE signup_year >= 2019"
)
rows = cur.fetchall()
cols = [d[0] for d in cur.description]
df = pd.DataFrame(rows, columns=cols)
con.close()

print(len(df), "customers")
print(df.describe())
print(df.groupby("contract").churned.mean())

df["contract"] = df["contract"].map({"month-to-month": 0, "one year": 1, "two year": 2})
df["avg_charge"] = df["total_charges"] / df["tenure"].replace(0, np.nan)
df = df.fillna(0)

X = df[["tenure", "monthly_charges", "contract", "avg_charge"]]
y = df["churned"]
X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=1)

logit = LogisticRegression(max_iter=500)
logit.fit(X_tr, y_tr)
print("logit acc", accuracy_score(y_te, logit.predict(X_te)))
print("logit auc", roc_auc_score(y_te, logit.predict_proba(X_te)[:, 1]))

dt = DecisionTreeClassifier(max_depth=5, min_samples_leaf=20)
dt.fit(X_tr, y_tr)
print("tree acc", accuracy_score(y_te, dt.predict(X_te)))

"""Loan default model trained straight from SQL Server (dbo.loans) via pyodbc."""
import os
import pyodbc
import pandas as pd
import lightgbm as lgb
from sklearn.model_selection import train_test_split
from sklearn.metrics import roc_auc_score, precision_score

SERVER = "sqlprod01.corp.local"
DATABASE = "risk"
conn_str = (
    "DRIVER={ODBC Driver 18 for SQL Server};"
    f"SERVER={SERVER};DATABASE={DATABASE};"
    "Trusted_Connection=yes;TrustServerCertificate=yes"
)
conn = pyodbc.connect(conn_str)

query = "SELECT loan_amount, term_months, interest_rate, annual_income, dti, grade, defaulted FROM dbo.loans"
loans = pd.read_sql(query, conn)
print(loans.shape)
print(loans.defaulted.mean())

# reference data: grade -> numeric risk bucket
with pyodbc.connect(conn_str) as cnxn:
    cursor = cnxn.cursor()
    cursor.execute("SELECT grade, risk_bucket FROM ref.grade_buckets")
    rows = cursor.fetchall()
    buckets = pd.DataFrame.from_records(rows, columns=[c[0] for c in cursor.description])

loans = loans.merge(buckets, on="grade", how="left").drop(columns=["grade"])

X = loans[["loan_amount", "term_months", "interest_rate", "annual_income", "dti", "risk_bucket"]]
y = loans["defaulted"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)

clf = lgb.LGBMClassifier(n_estimators=400, num_leaves=31, learning_rate=0.05)
clf.fit(X_train, y_train)
proba = clf.predict_proba(X_test)[:, 1]
print("AUC", roc_auc_score(y_test, proba))
print("precision@0.5", precision_score(y_test, proba > 0.5))
conn.close()

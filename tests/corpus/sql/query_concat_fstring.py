# Insurance claims fraud - queries assembled from constants the way the team's template does it
import pyodbc
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder
from sklearn.metrics import recall_score, precision_score, roc_auc_score

CONN = "DRIVER={ODBC Driver 17 for SQL Server};SERVER=claims-sql;DATABASE=Claims;Trusted_Connection=yes"
TABLE = "dbo.claims"
START = "2021-01-01"
SPLIT = "2023-01-01"
COLUMNS = "claim_id, age, vehicle_value, prior_claims, region, fraud"

cnxn = pyodbc.connect(CONN)

train_query = "SELECT " + COLUMNS + " FROM " + TABLE + " WHERE claim_date >= '" + START + "' AND claim_date < '" + SPLIT + "'"
test_query = f"SELECT {COLUMNS} FROM {TABLE} WHERE claim_date >= '{SPLIT}'"
print(train_query)

train = pd.read_sql_query(train_query, cnxn)
test = pd.read_sql_query(test_query, cnxn)
print(train.shape, test.shape, train.fraud.mean())

enc = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
num = ["age", "vehicle_value", "prior_claims"]
X_train = pd.concat([train[num], pd.DataFrame(enc.fit_transform(train[["region"]]))], axis=1)
X_test = pd.concat([test[num], pd.DataFrame(enc.transform(test[["region"]]))], axis=1)
X_train.columns = X_train.columns.astype(str)
X_test.columns = X_test.columns.astype(str)
y_train, y_test = train["fraud"], test["fraud"]

rf = RandomForestClassifier(n_estimators=300, class_weight="balanced_subsample", random_state=0)
rf.fit(X_train, y_train)
rf_pred = rf.predict(X_test)
print("RF recall", recall_score(y_test, rf_pred))
print("RF precision", precision_score(y_test, rf_pred))

lr = LogisticRegression(max_iter=2000, class_weight="balanced")
lr.fit(X_train, y_train)
print("LR AUC", roc_auc_score(y_test, lr.predict_proba(X_test)[:, 1]))

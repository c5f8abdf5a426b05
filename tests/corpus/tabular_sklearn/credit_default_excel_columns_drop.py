"""Default of credit card clients (UCI) - baseline models for the risk team."""
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score, classification_report, confusion_matrix

RANDOM_STATE = 2020
DATA = "/mnt/shared/risk/raw/"

df = pd.read_excel(DATA + "default of credit card clients.xls", header=1)
df = df.rename(columns={"default payment next month": "default", "PAY_0": "PAY_1"})
print(df.shape)
print(df["default"].value_counts(normalize=True))

# undocumented codes -> "others"
df["EDUCATION"] = np.where(df["EDUCATION"].isin([0, 5, 6]), 4, df["EDUCATION"])
df["MARRIAGE"] = np.where(df["MARRIAGE"] == 0, 3, df["MARRIAGE"])
df["LIMIT_BAL_BIN"] = pd.qcut(df["LIMIT_BAL"], 10, labels=False)
df["AGE_GRP"] = pd.cut(df["AGE"], bins=[20, 30, 40, 50, 60, 80], labels=False)
bill_cols = ["BILL_AMT%d" % i for i in range(1, 7)]
pay_amt_cols = ["PAY_AMT%d" % i for i in range(1, 7)]
df["avg_bill"] = df[bill_cols].mean(axis=1)
df["pay_ratio"] = df[pay_amt_cols].sum(axis=1) / (df[bill_cols].sum(axis=1) + 1)
df["late_months"] = df[["PAY_%d" % i for i in range(1, 7)]].apply(lambda r: (r > 0).sum(), axis=1)

features = df.columns.drop(["ID", "default"])
X = df[features]
y = df["default"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=RANDOM_STATE)

scaler = StandardScaler()
X_train_s = scaler.fit_transform(X_train)
X_test_s = scaler.transform(X_test)

logreg = LogisticRegression(C=0.1, class_weight="balanced", max_iter=1000, solver="liblinear")
logreg.fit(X_train_s, y_train)
p_lr = logreg.predict_proba(X_test_s)[:, 1]
print("LR AUC", roc_auc_score(y_test, p_lr))

rf = RandomForestClassifier(n_estimators=500, min_samples_leaf=20, max_features=0.3, n_jobs=-1,
                            random_state=RANDOM_STATE)
rf.fit(X_train, y_train)
p_rf = rf.predict_proba(X_test)[:, 1]
print("RF AUC", roc_auc_score(y_test, p_rf))
print(classification_report(y_test, (p_rf > 0.5).astype(int)))
print(confusion_matrix(y_test, rf.predict(X_test)))

imp = pd.Series(rf.feature_importances_, index=features).sort_values(ascending=False)
print(imp.head(15))

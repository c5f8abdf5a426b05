# Telco customer churn - which model should we put in front of the retention team?
import pandas as pd
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier, AdaBoostClassifier
from sklearn.metrics import roc_auc_score, confusion_matrix, f1_score

df = pd.read_csv("data/WA_Fn-UseC_-Telco-Customer-Churn.csv")
print(df.info())
print(df.Churn.value_counts(normalize=True))

# TotalCharges is read as text because of blanks
df["TotalCharges"] = pd.to_numeric(df["TotalCharges"], errors="coerce")
df["TotalCharges"] = df["TotalCharges"].fillna(0)
df = df.drop(columns=["customerID"])
df["Churn"] = df["Churn"].map({"Yes": 1, "No": 0})

df = pd.get_dummies(df, drop_first=True)
print(df.shape)

X = df.drop(columns=["Churn"])
y = df["Churn"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=7)

sc = StandardScaler()
X_train_sc = sc.fit_transform(X_train)
X_test_sc = sc.transform(X_test)

lr = LogisticRegression(C=1.0, solver="liblinear")
lr.fit(X_train_sc, y_train)
p_lr = lr.predict_proba(X_test_sc)[:, 1]
print("LR AUC", roc_auc_score(y_test, p_lr))

rf = RandomForestClassifier(n_estimators=500, min_samples_leaf=5, class_weight="balanced", n_jobs=-1, random_state=7)
rf.fit(X_train, y_train)
p_rf = rf.predict_proba(X_test)[:, 1]
print("RF AUC", roc_auc_score(y_test, p_rf))

ada = AdaBoostClassifier(n_estimators=300, learning_rate=0.5, random_state=7)
ada.fit(X_train, y_train)
p_ada = ada.predict_proba(X_test)[:, 1]
print("Ada AUC", roc_auc_score(y_test, p_ada))

threshold = 0.4
pred = (p_rf > threshold).astype(int)
print(confusion_matrix(y_test, pred))
print("RF F1 @0.4", f1_score(y_test, pred))

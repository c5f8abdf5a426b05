# Stroke prediction - compare a few models with one helper
import pandas as pd
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier
from sklearn.svm import SVC
from sklearn.metrics import f1_score, recall_score

RANDOM_STATE = 11

df = pd.read_csv("healthcare-dataset-stroke-data.csv")
df["bmi"] = df["bmi"].fillna(df["bmi"].mean())
df = df[df["gender"] != "Other"]
df = pd.get_dummies(df, columns=["gender", "ever_married", "work_type", "Residence_type", "smoking_status"], drop_first=True)

X = df.drop(["id", "stroke"], axis=1)
y = df["stroke"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=RANDOM_STATE)


def fit_and_score(model, X_tr, y_tr, X_te, y_te):
    """Fit the model and return its F1 and recall on the held-out rows."""
    model.fit(X_tr, y_tr)
    pred = model.predict(X_te)
    return f1_score(y_te, pred), recall_score(y_te, pred)


results = {}
results["logreg"] = fit_and_score(LogisticRegression(class_weight="balanced", max_iter=3000), X_train, y_train, X_test, y_test)
results["rf"] = fit_and_score(RandomForestClassifier(n_estimators=250, class_weight="balanced", random_state=RANDOM_STATE),
                              X_train, y_train, X_test, y_test)
svc = SVC(C=2.0, class_weight="balanced")
results["svc"] = fit_and_score(svc, X_train, y_train, X_test, y_test)

print(pd.DataFrame(results, index=["f1", "recall"]).T)

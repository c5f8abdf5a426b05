import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.metrics import roc_auc_score, classification_report

COLUMNS = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
           "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week",
           "native_country", "income"]
adult = pd.read_csv("data/adult.data", names=COLUMNS, skipinitialspace=True, na_values="?")
adult["income"] = adult["income"].str.strip(".").map({">50K": 1, "<=50K": 0})

y = adult.pop("income")
X = adult.drop(columns=["fnlwgt", "education"])
num_cols = [c for c in X.columns if X[c].dtype != "object"]
cat_cols = [c for c in X.columns if c not in num_cols]

preprocess = ColumnTransformer([
    ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), num_cols),
    ("cat", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                      ("ohe", OneHotEncoder(handle_unknown="ignore"))]), cat_cols),
])
pipe = Pipeline([("prep", preprocess), ("clf", LogisticRegression(max_iter=2000, solver="saga"))])

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=7)
param_grid = {"clf__C": [0.01, 0.1, 1.0, 10.0], "clf__penalty": ["l1", "l2"]}
cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=7)
grid = GridSearchCV(pipe, param_grid, cv=cv, scoring="roc_auc", n_jobs=-1, verbose=1)
grid.fit(X_train, y_train)
print(grid.best_params_, grid.best_score_)

best = grid.best_estimator_
proba = best.predict_proba(X_test)[:, 1]
print("test AUC", roc_auc_score(y_test, proba))
print(classification_report(y_test, best.predict(X_test), digits=3))

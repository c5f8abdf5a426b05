import pandas as pd
import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.metrics import roc_auc_score, log_loss
from xgboost import XGBClassifier

# column 0: id, column 1: label, columns 2..: anonymised numeric features
raw = pd.read_csv("data/otto_binary.csv")
X = raw.iloc[:, 2:]
y = raw.iloc[:, 1]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=4)

pipe = Pipeline([
    ("imp", SimpleImputer(strategy="median")),
    ("xgb", XGBClassifier(n_estimators=400, learning_rate=0.05, tree_method="hist")),
])
grid = {"xgb__max_depth": [3, 5, 7], "xgb__min_child_weight": [1, 5]}
search = GridSearchCV(pipe, grid, scoring="roc_auc", cv=3, n_jobs=2).fit(X_train, y_train)
print(search.best_params_, round(search.best_score_, 4))

proba = search.predict_proba(X_test)[:, 1]
print("test AUC", roc_auc_score(y_test, proba))
print("test logloss", log_loss(y_test, proba))

# Grid search of a random forest on the UCI bank marketing data
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.metrics import f1_score, roc_auc_score, confusion_matrix

bank = pd.read_csv("data/bank-full.csv", sep=";")
bank["y"] = (bank["y"] == "yes").astype(int)
bank = pd.get_dummies(bank, columns=["job", "marital", "education", "default", "housing", "loan",
                                     "contact", "month", "poutcome"])
X = bank.drop(columns=["y", "duration"])   # duration is only known after the call
y = bank["y"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=21)

param_grid = {
    "n_estimators": [200, 500],
    "max_depth": [None, 10, 20],
    "min_samples_leaf": [1, 5],
}
gs = GridSearchCV(RandomForestClassifier(random_state=21, n_jobs=-1), param_grid, cv=5, scoring="f1", verbose=1)
gs.fit(X_train, y_train)
print("best params:", gs.best_params_)
print("best CV f1:", gs.best_score_)

best_rf = gs.best_estimator_
y_pred = best_rf.predict(X_test)
print("test f1", f1_score(y_test, y_pred))
print("test auc", roc_auc_score(y_test, best_rf.predict_proba(X_test)[:, 1]))
print(confusion_matrix(y_test, y_pred))
print("gs.score", gs.score(X_test, y_test))

cv_results = pd.DataFrame(gs.cv_results_)
print(cv_results.sort_values("rank_test_score")[["params", "mean_test_score"]].head())

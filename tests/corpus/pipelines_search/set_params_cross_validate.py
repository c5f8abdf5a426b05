import numpy as np
import pandas as pd
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate, train_test_split
from sklearn.metrics import balanced_accuracy_score

credit = pd.read_csv("data/german_credit_numeric.csv")
X = credit.drop(columns=["risk"])
y = credit["risk"]

clf = make_pipeline(FunctionTransformer(func=np.log1p), StandardScaler(), LogisticRegression(max_iter=1000))
clf.set_params(logisticregression__C=10.0)
cv = cross_validate(clf, X, y, cv=5, scoring="balanced_accuracy", return_estimator=True)
print(cv["test_score"].mean())

X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=5)
clf.fit(X_tr, y_tr)
print(balanced_accuracy_score(y_te, clf.predict(X_te)))

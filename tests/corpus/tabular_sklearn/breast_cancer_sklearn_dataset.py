# Quick comparison of three classic classifiers on the Wisconsin breast cancer data.
from sklearn import datasets
from sklearn.model_selection import train_test_split
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn import metrics
import numpy as np

data = datasets.load_breast_cancer()
X, y = data.data, data.target
print("features:", data.feature_names[:5], "...")
print("class balance:", np.bincount(y))

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

clf = LogisticRegression(C=0.5, max_iter=5000)
clf.fit(X_train, y_train)
y_pred = clf.predict(X_test)
print("logreg acc", metrics.accuracy_score(y_test, y_pred))
print("logreg precision", metrics.precision_score(y_test, y_pred))
print("logreg recall", metrics.recall_score(y_test, y_pred))

tree = DecisionTreeClassifier(max_depth=4, random_state=0)
tree.fit(X_train, y_train)
y_pred = tree.predict(X_test)
print("tree acc", metrics.accuracy_score(y_test, y_pred))
print("tree score (train)", tree.score(X_train, y_train))

nb = GaussianNB()
nb.fit(X_train, y_train)
proba = nb.predict_proba(X_test)[:, 1]
print("nb auc", metrics.roc_auc_score(y_test, proba))

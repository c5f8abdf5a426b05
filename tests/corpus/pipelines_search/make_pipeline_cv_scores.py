import numpy as np
import pandas as pd
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, PolynomialFeatures
from sklearn.svm import SVC
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.metrics import accuracy_score

df = pd.read_csv("data/heart.csv")
print(df.shape)
print(df.target.value_counts())

X = df.drop("target", axis=1)
y = df["target"]

svm_pipe = make_pipeline(StandardScaler(), SVC(C=1.0, kernel="rbf"))
scores = cross_val_score(svm_pipe, X, y, cv=10, scoring="accuracy")
print("SVC CV accuracy: %.3f +/- %.3f" % (scores.mean(), scores.std()))

poly_lr = make_pipeline(StandardScaler(), PolynomialFeatures(degree=2), LogisticRegression(C=0.05, max_iter=2000))
poly_scores = cross_val_score(poly_lr, X, y, cv=10)
print("poly LR CV accuracy: %.3f" % np.mean(poly_scores))

# the better one on a hold-out split
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
svm_pipe.fit(X_train, y_train)
print("hold-out accuracy", accuracy_score(y_test, svm_pipe.predict(X_test)))
print("hold-out score", svm_pipe.score(X_test, y_test))

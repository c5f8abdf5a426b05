"""UCI Spambase with plain NumPy arrays (no pandas)."""
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, precision_score, recall_score

data = np.loadtxt("data/spambase.data", delimiter=",")
print(data.shape)

X = data[:, :-1]
y = data[:, -1].astype(int)
print("spam share:", y.mean())

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=8, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train = scaler.transform(X_train)
X_test = scaler.transform(X_test)

svm = LinearSVC(C=0.1, dual=False)
svm.fit(X_train, y_train)
pred = svm.predict(X_test)
print("LinearSVC accuracy", accuracy_score(y_test, pred))
print("LinearSVC precision", precision_score(y_test, pred))

sgd = SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=1000, tol=1e-3, random_state=8)
sgd.fit(X_train, y_train)
pred = sgd.predict(X_test)
print("SGD accuracy", accuracy_score(y_test, pred))
print("SGD recall", recall_score(y_test, pred))

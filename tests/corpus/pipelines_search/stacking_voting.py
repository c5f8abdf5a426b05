# Heart disease (Cleveland): soft voting vs stacking of three base learners
import pandas as pd
from sklearn.ensemble import RandomForestClassifier, StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC
from sklearn.model_selection import train_test_split, cross_val_score
from sklearn.metrics import accuracy_score, roc_auc_score

cleveland = pd.read_csv("data/processed.cleveland.csv", na_values="?").dropna()
cleveland["num"] = (cleveland["num"] > 0).astype(int)
X = cleveland.drop(columns=["num"])
y = cleveland["num"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=6, stratify=y)

base = [
    ("lr", LogisticRegression(max_iter=1000)),
    ("rf", RandomForestClassifier(n_estimators=200, random_state=6)),
    ("svc", SVC(probability=True, C=0.8)),
]

voter = VotingClassifier(estimators=base, voting="soft")
voter.fit(X_train, y_train)
print("voting acc", accuracy_score(y_test, voter.predict(X_test)))
print("voting auc", roc_auc_score(y_test, voter.predict_proba(X_test)[:, 1]))

stack = StackingClassifier(estimators=base, final_estimator=LogisticRegression(C=0.5), cv=5)
print("stacking CV acc", cross_val_score(stack, X_train, y_train, cv=5).mean())
stack.fit(X_train, y_train)
print("stacking acc", accuracy_score(y_test, stack.predict(X_test)))

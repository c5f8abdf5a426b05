# Titanic - Machine Learning from Disaster
# Baseline: logistic regression vs random forest on a handful of engineered features.
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import seaborn as sns

from sklearn.model_selection import train_test_split
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix

train = pd.read_csv("/kaggle/input/titanic/train.csv")
test = pd.read_csv("/kaggle/input/titanic/test.csv")

print(train.shape, test.shape)
print(train.head())
print(train.isnull().sum())
print(train.describe())

sns.countplot(x="Survived", hue="Sex", data=train)
plt.show()

# --- cleaning -------------------------------------------------------------
for df in [train, test]:
    df["Age"] = df["Age"].fillna(df["Age"].median())
    df["Fare"] = df["Fare"].fillna(df["Fare"].median())
    df["Embarked"] = df["Embarked"].fillna("S")
    df["Sex"] = df["Sex"].map({"male": 0, "female": 1})

FEATURES = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked"]

X = pd.get_dummies(train[FEATURES], columns=["Embarked"])
y = train["Survived"]
X_test = pd.get_dummies(test[FEATURES], columns=["Embarked"])

X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, random_state=42, stratify=y)

# --- model 1: logistic regression ------------------------------------------
logreg = LogisticRegression(max_iter=1000)
logreg.fit(X_train, y_train)
pred_lr = logreg.predict(X_val)
print("LogReg accuracy:", accuracy_score(y_val, pred_lr))

# --- model 2: random forest ------------------------------------------------
rf = RandomForestClassifier(n_estimators=200, max_depth=6, random_state=42)
rf.fit(X_train, y_train)
pred_rf = rf.predict(X_val)
print("RF accuracy:", accuracy_score(y_val, pred_rf))
print(classification_report(y_val, pred_rf))
print(confusion_matrix(y_val, pred_rf))

importances = pd.Series(rf.feature_importances_, index=X.columns).sort_values()
importances.plot(kind="barh")
plt.title("Random forest feature importance")
plt.show()

# --- final model on all training rows, submission --------------------------
final = RandomForestClassifier(n_estimators=200, max_depth=6, random_state=42)
final.fit(X, y)
submission = pd.DataFrame({"PassengerId": test["PassengerId"], "Survived": final.predict(X_test)})
submission.to_csv("submission.csv", index=False)
print("train accuracy of final model:", final.score(X, y))

import re
import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import cross_val_score

train = pd.read_csv("../input/titanic/train.csv")
test = pd.read_csv("../input/titanic/test.csv")
n_train = len(train)

TITLE_MAP = {"Mr": 0, "Miss": 1, "Mrs": 2, "Master": 3}
FEATURES = ["Pclass", "Sex", "Age", "Fare", "Title", "FamilySize", "IsAlone"]


def get_title(name):
    m = re.search(r" ([A-Za-z]+)\.", name)
    return m.group(1) if m else ""


def preprocess(df):
    df = df.copy()
    df["Title"] = df["Name"].apply(get_title).map(TITLE_MAP).fillna(4)
    df["FamilySize"] = df["SibSp"] + df["Parch"] + 1
    df["IsAlone"] = (df["FamilySize"] == 1).astype(int)
    df["Sex"] = df["Sex"].map({"male": 0, "female": 1})
    df["Age"] = df["Age"].fillna(df.groupby("Title")["Age"].transform("median"))
    df["Fare"] = df["Fare"].fillna(df["Fare"].median())
    return df[FEATURES]


X = preprocess(train)
y = train["Survived"]
X_test = preprocess(test)

gbc = GradientBoostingClassifier(n_estimators=300, max_depth=3, learning_rate=0.05, subsample=0.9, random_state=1)
cv = cross_val_score(gbc, X, y, cv=5, scoring="accuracy")
print("CV accuracy: %.4f (+/- %.4f)" % (cv.mean(), cv.std()))

gbc.fit(X, y)
pd.DataFrame({"PassengerId": test.PassengerId, "Survived": gbc.predict(X_test)}).to_csv("submission.csv", index=False)

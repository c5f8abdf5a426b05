import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.model_selection import train_test_split
from sklearn.metrics import f1_score, precision_score

glass = pd.read_csv("data/glass.csv")
glass = glass.rename(columns={"Type": "glass_type"})
feature_names = ["RI", "Na", "Mg", "Al", "Si", "K", "Ca", "Ba", "Fe"]
X_train, X_test, y_train, y_test = train_test_split(
    glass[feature_names], glass["glass_type"], test_size=0.25, random_state=17, stratify=glass["glass_type"]
)

scores = {}
for est in [LogisticRegression(max_iter=500), DecisionTreeClassifier(max_depth=5), GaussianNB()]:
    est.fit(X_train, y_train)
    scores[type(est).__name__] = f1_score(y_test, est.predict(X_test), average="weighted")
print(pd.Series(scores).sort_values(ascending=False))

best = DecisionTreeClassifier(max_depth=5, criterion="entropy").fit(X_train, y_train)
print(precision_score(y_test, best.predict(X_test), average="macro"))

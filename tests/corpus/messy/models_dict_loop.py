import time
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.ensemble import RandomForestClassifier, GradientBoostingClassifier
from sklearn.metrics import accuracy_score, roc_auc_score

water = pd.read_csv("water_potability.csv")
water = water.fillna(water.groupby("Potability").transform("mean"))
X = water.drop("Potability", axis=1)
y = water["Potability"]

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=101)
sc = StandardScaler()
X_train = sc.fit_transform(X_train)
X_test = sc.transform(X_test)

models = {
    "Logistic Regression": LogisticRegression(C=0.3),
    "KNN": KNeighborsClassifier(n_neighbors=9),
    "Random Forest": RandomForestClassifier(n_estimators=400, max_depth=12, random_state=101),
    "Gradient Boosting": GradientBoostingClassifier(n_estimators=300, learning_rate=0.05),
}

rows = []
for name, model in models.items():
    start = time.time()
    model.fit(X_train, y_train)
    acc = accuracy_score(y_test, model.predict(X_test))
    auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    rows.append({"model": name, "accuracy": acc, "auc": auc, "seconds": time.time() - start})

board = pd.DataFrame(rows).sort_values("auc", ascending=False)
print(board)

best_name = board.iloc[0]["model"]
print("best:", best_name)

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier, GradientBoostingClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score, accuracy_score

data = pd.read_csv("data/diabetes.csv")
zero_as_missing = ["Glucose", "BloodPressure", "SkinThickness", "Insulin", "BMI"]
data[zero_as_missing] = data[zero_as_missing].replace(0, np.nan)
data = data.fillna(data.median())

X = data.drop(columns="Outcome").values
y = data["Outcome"].values

skf = StratifiedKFold(n_splits=5, shuffle=True, random_state=1)
lr_aucs, rf_aucs = [], []
for fold, (tr, va) in enumerate(skf.split(X, y)):
    scaler = StandardScaler().fit(X[tr])
    lr = LogisticRegression(max_iter=1000)
    lr.fit(scaler.transform(X[tr]), y[tr])
    lr_aucs.append(roc_auc_score(y[va], lr.predict_proba(scaler.transform(X[va]))[:, 1]))

    rf = RandomForestClassifier(n_estimators=300, max_depth=8, random_state=fold)
    rf.fit(X[tr], y[tr])
    rf_aucs.append(roc_auc_score(y[va], rf.predict_proba(X[va])[:, 1]))
    print(f"fold {fold}: lr acc={accuracy_score(y[va], lr.predict(scaler.transform(X[va]))):.3f}")

print("LR AUC %.3f | RF AUC %.3f" % (np.mean(lr_aucs), np.mean(rf_aucs)))

gbc = GradientBoostingClassifier(n_estimators=200, learning_rate=0.05, max_depth=2)
res = cross_validate(gbc, X, y, cv=skf, scoring=["roc_auc", "accuracy"], return_train_score=True)
print("GBC test AUC", res["test_roc_auc"].mean(), "train AUC", res["train_roc_auc"].mean())

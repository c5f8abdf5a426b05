# notebook export: "Model experiments v3 (final) (2).py"
import json
import time
from contextlib import contextmanager

import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.ensemble import RandomForestRegressor, GradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, mean_squared_error


@contextmanager
def timer(name):
    t0 = time.time()
    yield
    print(f"[{name}] done in {time.time() - t0:.1f}s")


with open("config.json") as f:
    cfg = json.load(f)

df = pd.read_csv("data/insurance.csv")
df = df[df["charges"] < 50000]
df = pd.get_dummies(df, columns=["sex", "smoker", "region"], drop_first=True)
X = df.drop("charges", axis=1)
y = df["charges"]
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=0)

n_est = 100
n_est *= 3
depth = 4

model = RandomForestRegressor(n_estimators=n_est, max_depth=depth * 2, random_state=0)
with timer("rf"):
    model.fit(X_tr, y_tr)
preds = model.predict(X_te)
print("RF MAE", mean_absolute_error(y_te, preds))

model = GradientBoostingRegressor(n_estimators=n_est, max_depth=depth, learning_rate=0.05)
with timer("gbr"):
    model.fit(X_tr, y_tr)
preds = model.predict(X_te)
print("GBR MAE", mean_absolute_error(y_te, preds))
print("GBR RMSE", mean_squared_error(y_te, preds) ** 0.5)

# smokers only: a different frame under the same name
df = pd.read_csv("data/insurance.csv")
df = df[df["smoker"] == "yes"]
X = df[["age", "bmi", "children"]]
y = df["charges"]
model = Ridge(alpha=1.0)
model.fit(X, y)
preds = model.predict(X)
print("Ridge (smokers, in-sample) MAE", mean_absolute_error(y, preds))

import yaml
import pandas as pd, numpy as np
from sklearn.ensemble import *
from sklearn.metrics import *
from sklearn.model_selection import train_test_split as tts
import lightgbm

with open("conf/train.yaml") as fh:
    cfg = yaml.safe_load(fh)

RF = RandomForestRegressor
N_TREES = 100
N_TREES *= 4
DEPTH = 6
LEAVES = 2 ** DEPTH - 1

raw = pd.read_csv("data/bike_hour.csv")
raw["dteday"] = pd.to_datetime(raw["dteday"])
raw["dow"] = raw.dteday.dt.dayofweek
data = raw.drop(columns=["instant", "dteday", "casual", "registered"])
target = "cnt"
Xall = data.drop(columns=target)
yall = np.log1p(data[target])
Xa, Xb, ya, yb = tts(Xall, yall, test_size=cfg["test_size"], random_state=cfg["seed"])

forest = RF(n_estimators=N_TREES, max_depth=DEPTH * 2, min_samples_leaf=cfg["min_leaf"], n_jobs=-1)
forest.fit(Xa, ya)
print("forest", mean_absolute_error(yb, forest.predict(Xb)), r2_score(yb, forest.predict(Xb)))

gbm = lightgbm.LGBMRegressor(num_leaves=LEAVES, learning_rate=cfg["lr"], n_estimators=N_TREES * 2)
gbm.fit(Xa, ya, eval_set=[(Xb, yb)])
print("gbm", mean_absolute_error(yb, gbm.predict(Xb)))

hgb = HistGradientBoostingRegressor(max_leaf_nodes=LEAVES // 2, l2_regularization=1.0).fit(Xa, ya)
print("hgb", median_absolute_error(yb, hgb.predict(Xb)))

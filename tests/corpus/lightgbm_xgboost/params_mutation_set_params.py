import pandas as pd
import lightgbm as lgb
from lightgbm import LGBMClassifier
from sklearn.model_selection import train_test_split
from sklearn.metrics import roc_auc_score

COLS = ["f_00", "f_01", "f_02", "f_03", "f_04", "f_05", "f_06", "target"]
df = pd.read_parquet("data/tps_may22.parquet", columns=COLS)
X = df[COLS[:-1]]
y = df[COLS[-1]]
X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.2, random_state=1)

params = {"objective": "binary", "metric": "auc", "verbosity": -1}
params["learning_rate"] = 0.03
params.update(num_leaves=63, feature_fraction=0.7)

dtr = lgb.Dataset(X_tr, y_tr)
booster = lgb.train(params, dtr, num_boost_round=800)
print("booster auc", roc_auc_score(y_va, booster.predict(X_va)))

clf = LGBMClassifier()
clf.set_params(n_estimators=500, learning_rate=0.02, colsample_bytree=0.6)
clf.fit(X_tr, y_tr)
print("sklearn-api auc", roc_auc_score(y_va, clf.predict_proba(X_va)[:, 1]))

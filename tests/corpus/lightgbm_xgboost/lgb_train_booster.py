import gc
import numpy as np
import pandas as pd
import lightgbm as lgb
from sklearn.model_selection import train_test_split
from sklearn.metrics import roc_auc_score

INPUT = "../input/home-credit-default-risk/"
SEED = 2018

app = pd.read_csv(INPUT + "application_train.csv")
print("application_train:", app.shape)

# label-encode the object columns so LightGBM can use them
for col in app.select_dtypes("object").columns:
    app[col] = app[col].astype("category").cat.codes

app["CREDIT_INCOME_RATIO"] = app["AMT_CREDIT"] / app["AMT_INCOME_TOTAL"]
app["ANNUITY_INCOME_RATIO"] = app["AMT_ANNUITY"] / app["AMT_INCOME_TOTAL"]
app["DAYS_EMPLOYED"] = app["DAYS_EMPLOYED"].replace(365243, np.nan)

target = app.pop("TARGET")
app = app.drop(["SK_ID_CURR"], axis=1)
gc.collect()

X_train, X_valid, y_train, y_valid = train_test_split(app, target, test_size=0.1, random_state=SEED)
dtrain = lgb.Dataset(X_train, label=y_train)
dvalid = lgb.Dataset(X_valid, label=y_valid, reference=dtrain)

params = {
    "objective": "binary",
    "metric": "auc",
    "learning_rate": 0.02,
    "num_leaves": 34,
    "colsample_bytree": 0.9497036,
    "subsample": 0.8715623,
    "max_depth": 8,
    "reg_alpha": 0.041545473,
    "reg_lambda": 0.0735294,
    "min_child_weight": 39.3259775,
    "verbose": -1,
    "seed": SEED,
}

bst = lgb.train(
    params,
    dtrain,
    num_boost_round=10000,
    valid_sets=[dtrain, dvalid],
    callbacks=[lgb.early_stopping(200), lgb.log_evaluation(100)],
)

valid_pred = bst.predict(X_valid, num_iteration=bst.best_iteration)
print("Full AUC score %.6f" % roc_auc_score(y_valid, valid_pred))

imp = pd.DataFrame({"feature": bst.feature_name(), "gain": bst.feature_importance("gain")})
print(imp.sort_values("gain", ascending=False).head(30))
bst.save_model("lgb_home_credit.txt")

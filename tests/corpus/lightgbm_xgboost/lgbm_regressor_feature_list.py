import pandas as pd
import numpy as np
import lightgbm as lgb
from sklearn.model_selection import train_test_split
from sklearn.metrics import mean_absolute_error

# ---------------- config ----------------
DATA = "data/sales_2023.parquet"
TARGET = "units_sold"
NUM_FEATURES = ["price", "discount", "week_of_year", "store_size", "competitor_price"]
CAT_FEATURES = ["store_id", "category", "region"]
FEATURES = NUM_FEATURES + CAT_FEATURES
n_leaves = 63
lr = 0.03
SEED = 13

sales = pd.read_parquet(DATA)
sales = sales[sales[TARGET] >= 0]
for c in CAT_FEATURES:
    sales[c] = sales[c].astype("category")
print(sales[FEATURES].describe(include="all"))

train_idx = sales["week_of_year"] <= 44
X_train, y_train = sales.loc[train_idx, FEATURES], sales.loc[train_idx, TARGET]
X_test, y_test = sales.loc[~train_idx, FEATURES], sales.loc[~train_idx, TARGET]

model = lgb.LGBMRegressor(
    objective="regression_l1",
    n_estimators=2000,
    learning_rate=lr,
    num_leaves=n_leaves,
    min_child_samples=50,
    subsample=0.8,
    subsample_freq=1,
    colsample_bytree=0.8,
    random_state=SEED,
)
model.fit(X_train, y_train, eval_set=[(X_test, y_test)], categorical_feature=CAT_FEATURES,
          callbacks=[lgb.early_stopping(100)])
print("MAE", mean_absolute_error(y_test, model.predict(X_test)))

# smaller model for the edge devices
small = lgb.LGBMRegressor(n_estimators=200, num_leaves=n_leaves // 4, learning_rate=lr * 3, random_state=SEED)
small.fit(X_train, y_train)
print("small MAE", mean_absolute_error(y_test, small.predict(X_test)))

"""House Prices: Advanced Regression Techniques - regularised linear models vs GBM."""
import warnings

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import Lasso, Ridge
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import RobustScaler

warnings.filterwarnings("ignore")

DATA_DIR = "../input/house-prices-advanced-regression-techniques/"
df = pd.read_csv(DATA_DIR + "train.csv")
print(df.shape)
print(df["SalePrice"].describe())

plt.hist(df["SalePrice"], bins=50)
plt.show()

# drop the two famous outliers
df = df[~((df["GrLivArea"] > 4000) & (df["SalePrice"] < 300000))]

df["TotalSF"] = df["TotalBsmtSF"] + df["1stFlrSF"] + df["2ndFlrSF"]
num_cols = ["OverallQual", "GrLivArea", "GarageCars", "TotalBsmtSF", "YearBuilt"]
features = num_cols + ["TotalSF"]

X = df[features].fillna(0)
y = np.log1p(df["SalePrice"])

X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.25, random_state=1)

scaler = RobustScaler()
X_tr_s = scaler.fit_transform(X_tr)
X_val_s = scaler.transform(X_val)

baseline = np.full(len(y_val), y_tr.mean())
print("baseline RMSE:", np.sqrt(mean_squared_error(y_val, baseline)))

ridge = Ridge(alpha=10.0)
ridge.fit(X_tr_s, y_tr)
print("Ridge RMSE:", np.sqrt(mean_squared_error(y_val, ridge.predict(X_val_s))))

lasso = Lasso(alpha=0.0005, max_iter=50000)
lasso.fit(X_tr_s, y_tr)
print("Lasso RMSE:", np.sqrt(mean_squared_error(y_val, lasso.predict(X_val_s))))

gbr = GradientBoostingRegressor(
    n_estimators=500,
    learning_rate=0.05,
    max_depth=3,
    subsample=0.8,
    random_state=1,
)
gbr.fit(X_tr, y_tr)
gbr_pred = gbr.predict(X_val)
print("GBR RMSE:", np.sqrt(mean_squared_error(y_val, gbr_pred)))
print("GBR R2:", r2_score(y_val, gbr_pred))

coef = pd.Series(lasso.coef_, index=features)
print(coef.sort_values())

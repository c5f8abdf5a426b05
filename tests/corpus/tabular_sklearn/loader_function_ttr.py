import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import Ridge
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import train_test_split
from sklearn.metrics import mean_absolute_error


def load_data(path):
    df = pd.read_csv(path)
    df = df.loc[:, ~df.columns.isin(["Id", "Date"])]
    y = df.pop("Price")
    return df, y


X, y = load_data("data/melbourne_housing.csv")
X = X.select_dtypes("number").fillna(0)
X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=3)

ttr = TransformedTargetRegressor(regressor=Ridge(alpha=3.0), func=np.log1p, inverse_func=np.expm1)
ttr.fit(X_tr, y_tr)
print("TTR MAE", mean_absolute_error(y_te, ttr.predict(X_te)))

forest = RandomForestRegressor(n_estimators=150, n_jobs=-1)
forest.fit(X_tr, y_tr)
print("RF MAE", mean_absolute_error(y_te, forest.predict(X_te)))

import pandas as pd
import numpy as np
from xgboost import XGBRegressor
from sklearn.model_selection import train_test_split
from sklearn.metrics import mean_absolute_error, r2_score

houses = pd.read_csv("kc_house_data.csv", parse_dates=["date"])
houses["sale_year"] = houses["date"].dt.year
houses["sale_month"] = houses["date"].dt.month
houses["age"] = houses["sale_year"] - houses["yr_built"]
houses["renovated"] = (houses["yr_renovated"] > 0).astype(int)
houses["zipcode"] = houses["zipcode"].astype("category").cat.codes

X = houses.drop(["id", "price", "date"], axis=1)
y = np.log(houses["price"])
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=3)

results = {}
for depth in [3, 5, 7, 9]:
    xgbr = XGBRegressor(n_estimators=800, learning_rate=0.05, max_depth=depth, subsample=0.8, n_jobs=4)
    xgbr.fit(X_train, y_train)
    results[depth] = mean_absolute_error(y_test, xgbr.predict(X_test))
    print(depth, results[depth])

best_depth = min(results, key=results.get)
final = XGBRegressor(n_estimators=800, learning_rate=0.05, max_depth=best_depth, subsample=0.8, n_jobs=4)
final.fit(X_train, y_train)
pred = final.predict(X_test)
print("R2 (log price):", r2_score(y_test, pred))
print("MAE ($):", mean_absolute_error(np.exp(y_test), np.exp(pred)))

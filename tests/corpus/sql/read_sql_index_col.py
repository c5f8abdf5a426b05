import pandas as pd
from sqlalchemy import create_engine
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_squared_error, r2_score

engine = create_engine("mssql+pyodbc://@ENERGYDW/grid?driver=ODBC+Driver+18+for+SQL+Server&trusted_connection=yes")
TRAIN_SQL = "SELECT meter_id, temp_c, wind_kmh, weekday, hour, load_kw FROM dbo.meter_hourly WHERE yr < 2024"
TEST_SQL = TRAIN_SQL.replace("yr < 2024", "yr = 2024")

train = pd.read_sql(sql=TRAIN_SQL, con=engine, index_col="meter_id")
test = pd.read_sql(sql=TEST_SQL, con=engine, index_col="meter_id")

X_train, y_train = train.drop(columns="load_kw"), train["load_kw"]
X_test, y_test = test.drop(columns="load_kw"), test["load_kw"]

hgb = HistGradientBoostingRegressor(max_iter=500, learning_rate=0.05, max_leaf_nodes=63)
hgb.fit(X_train, y_train)
pred = hgb.predict(X_test)
print("RMSE", mean_squared_error(y_test, pred) ** 0.5)
print("R2", r2_score(y_test, pred))

import pandas as pd
import sqlalchemy as sa
from xgboost import XGBRegressor
from sklearn.model_selection import train_test_split
from sklearn.metrics import mean_absolute_error, r2_score

engine = sa.create_engine("mssql+pyodbc://@SALESDW/sales?driver=ODBC+Driver+18+for+SQL+Server&trusted_connection=yes")

tx = pd.read_sql_table("transactions", engine, schema="sales")
customers = pd.read_sql_table("customers", engine, schema="sales", columns=["customer_id", "segment", "region"])
print(tx.shape, customers.shape)

# monthly spend per customer
tx["month"] = pd.to_datetime(tx["tx_date"]).dt.to_period("M")
monthly = tx.groupby(["customer_id", "month"], as_index=False)["amount"].sum()
monthly["prev_amount"] = monthly.groupby("customer_id")["amount"].shift(1)
monthly["prev2_amount"] = monthly.groupby("customer_id")["amount"].shift(2)
monthly = monthly.dropna()

data = monthly.merge(customers, on="customer_id")
data = pd.get_dummies(data, columns=["segment", "region"])

X = data.drop(columns=["customer_id", "month", "amount"])
y = data["amount"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=8)

reg = XGBRegressor(n_estimators=600, max_depth=5, learning_rate=0.05, subsample=0.8, n_jobs=8)
reg.fit(X_train, y_train)
pred = reg.predict(X_test)
print("MAE", mean_absolute_error(y_test, pred))
print("R2", r2_score(y_test, pred))

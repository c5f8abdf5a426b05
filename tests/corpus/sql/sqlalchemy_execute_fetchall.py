"""Delivery-time model; rows fetched through a SQLAlchemy connection (no pandas.read_sql)."""
import pandas as pd
import lightgbm as lgb
from sqlalchemy import create_engine, text
from sklearn.model_selection import train_test_split
from sklearn.metrics import mean_absolute_error

engine = create_engine("postgresql+psycopg://ml_reader@orders-replica:5432/logistics")

QUERY = text(
    "SELECT o.distance_km, o.n_items, o.weight_kg, o.hour_of_day, w.precip_mm, o.delivery_minutes "
    "FROM ops.orders o JOIN ops.weather_hourly w ON w.zone_id = o.zone_id AND w.hour = o.created_hour "
    "WHERE o.created_at >= :min_date"
)

with engine.begin() as conn:
    result = conn.execute(QUERY, {"min_date": "2023-01-01"})
    orders = pd.DataFrame(result.fetchall(), columns=list(result.keys()))

print(orders.describe())
orders = orders[orders.delivery_minutes.between(5, 240)]

X = orders[["distance_km", "n_items", "weight_kg", "hour_of_day", "precip_mm"]]
y = orders["delivery_minutes"]
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=12)

reg = lgb.LGBMRegressor(objective="l1", n_estimators=900, learning_rate=0.04, num_leaves=48)
reg.fit(X_tr, y_tr)
print("MAE minutes", mean_absolute_error(y_te, reg.predict(X_te)))

q90 = lgb.LGBMRegressor(objective="quantile", alpha=0.9, n_estimators=600, learning_rate=0.04)
q90.fit(X_tr, y_tr)
print("share late vs P90:", (y_te > q90.predict(X_te)).mean())

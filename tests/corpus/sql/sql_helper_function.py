"""Demand forecast features pulled from PostgreSQL through a small loader helper."""
import pandas as pd
from sqlalchemy import create_engine
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import ElasticNet
from sklearn.metrics import mean_absolute_error

ENGINE = create_engine("postgresql+psycopg://forecast@pg-analytics/demand")


def load(query, **kwargs):
    """Run a query and return a DataFrame (dates parsed)."""
    return pd.read_sql_query(query, ENGINE, parse_dates=["day"], **kwargs)


hist = load("SELECT day, sku, price, promo, temperature, units FROM public.daily_sku_sales WHERE day < '2024-01-01'")
recent = load("SELECT day, sku, price, promo, temperature, units FROM public.daily_sku_sales WHERE day >= '2024-01-01'")
print(hist.shape, recent.shape)


def add_calendar(df):
    df = df.copy()
    df["dow"] = df["day"].dt.dayofweek
    df["month"] = df["day"].dt.month
    return df


hist = add_calendar(hist)
recent = add_calendar(recent)

FEATS = ["price", "promo", "temperature", "dow", "month"]

gbr = GradientBoostingRegressor(n_estimators=400, max_depth=4, learning_rate=0.05, loss="huber")
gbr.fit(hist[FEATS], hist["units"])
print("GBR MAE", mean_absolute_error(recent["units"], gbr.predict(recent[FEATS])))

enet = ElasticNet(alpha=0.1, l1_ratio=0.5)
enet.fit(hist[FEATS], hist["units"])
print("ENet MAE", mean_absolute_error(recent["units"], enet.predict(recent[FEATS])))

#!/usr/bin/env python
"""Ames housing with the native xgboost API (DMatrix + xgb.train)."""
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.model_selection import train_test_split
from sklearn.metrics import mean_squared_error, mean_absolute_error

train_df = pd.read_csv("data/ames_train.csv")
print(train_df.shape)

numeric = ["LotArea", "OverallQual", "OverallCond", "YearBuilt", "YearRemodAdd",
           "GrLivArea", "FullBath", "BedroomAbvGr", "GarageArea"]
train_df["Age"] = train_df["YrSold"] - train_df["YearBuilt"]
cols = numeric + ["Age"]

X = train_df[cols]
y = np.log(train_df["SalePrice"])

X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.2, random_state=0)
dtrain = xgb.DMatrix(X_tr, label=y_tr)
dval = xgb.DMatrix(X_va, label=y_va)

param = {"max_depth": 4, "eta": 0.05, "subsample": 0.8, "colsample_bytree": 0.7,
         "objective": "reg:squarederror", "eval_metric": "rmse"}
evallist = [(dtrain, "train"), (dval, "eval")]

booster = xgb.train(param, dtrain, num_boost_round=2000, evals=evallist,
                    early_stopping_rounds=50, verbose_eval=100)

pred = booster.predict(dval, iteration_range=(0, booster.best_iteration + 1))
rmse = np.sqrt(mean_squared_error(y_va, pred))
mae = mean_absolute_error(np.exp(y_va), np.exp(pred))
print(f"RMSE(log) = {rmse:.4f}, MAE($) = {mae:,.0f}")

xgb.plot_importance(booster, max_num_features=10)

# ISLR "Default" data: linear probability model vs logit, the econometrics way
import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from sklearn.metrics import roc_auc_score, mean_squared_error, accuracy_score

default = pd.read_csv("data/Default.csv", index_col=0)
default["default_num"] = (default["default"] == "Yes").astype(int)
default["student_num"] = (default["student"] == "Yes").astype(int)
print(default.describe())

train = default.sample(frac=0.7, random_state=1)
test = default.drop(train.index)

# 1) OLS on balance and income
X_ols = sm.add_constant(train[["balance", "income", "student_num"]])
ols = sm.OLS(train["default_num"], X_ols).fit()
print(ols.summary())
ols_pred = ols.predict(sm.add_constant(test[["balance", "income", "student_num"]]))
print("OLS MSE", mean_squared_error(test["default_num"], ols_pred))

# 2) logit with the formula API
logit = smf.logit("default_num ~ balance + income + C(student)", data=train).fit(disp=0)
print(logit.params)
logit_pred = logit.predict(test)
print("logit AUC", roc_auc_score(test["default_num"], logit_pred))
print("logit accuracy", accuracy_score(test["default_num"], logit_pred > 0.5))
print("odds ratios:\n", np.exp(logit.params))

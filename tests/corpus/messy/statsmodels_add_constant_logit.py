import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn.model_selection import train_test_split
from sklearn.metrics import r2_score, roc_auc_score

ads = pd.read_csv("data/advertising_sales.csv", index_col=0)
ads["log_tv"] = np.log1p(ads["TV"])
ads["tv_x_radio"] = ads["TV"] * ads["Radio"]

predictors = ["log_tv", "Radio", "Newspaper", "tv_x_radio"]
train, test = train_test_split(ads, test_size=0.3, random_state=4)

X_train = sm.add_constant(train[predictors])
ols = sm.OLS(train["Sales"], X_train).fit()
print(ols.summary())
print("test R2:", r2_score(test["Sales"], ols.predict(sm.add_constant(test[predictors]))))

ols_small = sm.OLS(train["Sales"], sm.add_constant(train[["TV", "Radio"]])).fit(cov_type="HC3")
print(ols_small.params)

loans = pd.read_csv("data/loan_default.csv")
loans["debt_to_income"] = loans["debt"] / loans["income"]
Xl = sm.add_constant(loans[["debt_to_income", "credit_score", "years_employed"]])
logit = sm.Logit(loans["defaulted"], Xl).fit(disp=0)
print(logit.summary2())
print("in-sample AUC", roc_auc_score(loans["defaulted"], logit.predict(Xl)))

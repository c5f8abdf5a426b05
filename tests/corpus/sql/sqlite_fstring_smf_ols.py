import sqlite3
import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from sklearn.metrics import r2_score, mean_absolute_percentage_error

DB_PATH = "data/real_estate.db"
TABLE = "listings"
MIN_YEAR = 2015

con = sqlite3.connect(DB_PATH)
query = f"""
SELECT price, sqft_living, bedrooms, bathrooms, zipcode, year_sold, condition
FROM {TABLE}
WHERE year_sold >= {MIN_YEAR} AND price IS NOT NULL
"""
homes = pd.read_sql(query, con)
con.close()

homes = homes[homes.sqft_living > 200]
homes["log_price"] = np.log(homes["price"])
train = homes[homes.year_sold < 2019]
test = homes[homes.year_sold >= 2019]

ols = smf.ols("log_price ~ np.log(sqft_living) + bedrooms + bathrooms + C(zipcode) + C(condition)", data=train).fit()
print(ols.summary())
pred = ols.predict(test)
print("R2 test:", r2_score(test["log_price"], pred))
print("MAPE $:", mean_absolute_percentage_error(test["price"], np.exp(pred)))

wls = smf.wls("log_price ~ np.log(sqft_living) + bedrooms", data=train, weights=1.0 / train["sqft_living"]).fit()
print(wls.params)

# Bike sharing demand (UCI hour.csv)
import pandas as pd
import numpy as np
import matplotlib.pyplot as plt
from sklearn.linear_model import LinearRegression
from sklearn.ensemble import RandomForestRegressor
from sklearn.neighbors import KNeighborsRegressor
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split

df = pd.read_csv("Bike-Sharing-Dataset/hour.csv", parse_dates=["dteday"])
print(df.head())
print(df.dtypes)

df.groupby("hr")["cnt"].mean().plot()
plt.title("mean rentals per hour")
plt.show()

# casual + registered == cnt, so they would leak the target
df = df.drop(columns=["instant", "dteday", "casual", "registered"])
df["hr_sin"] = np.sin(2 * np.pi * df["hr"] / 24)
df["hr_cos"] = np.cos(2 * np.pi * df["hr"] / 24)

X = df.drop("cnt", axis=1)
y = df["cnt"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, shuffle=False)

results = {}

lin = LinearRegression()
lin.fit(X_train, y_train)
results["linear"] = mean_absolute_error(y_test, lin.predict(X_test))

forest = RandomForestRegressor(n_estimators=300, min_samples_leaf=2, n_jobs=-1, random_state=0)
forest.fit(X_train, y_train)
forest_pred = forest.predict(X_test)
results["forest"] = mean_absolute_error(y_test, forest_pred)
print("forest R2", r2_score(y_test, forest_pred))

knn = KNeighborsRegressor(n_neighbors=10)
knn.fit(X_train, y_train)
results["knn"] = mean_absolute_error(y_test, knn.predict(X_test))

print(pd.Series(results).sort_values())

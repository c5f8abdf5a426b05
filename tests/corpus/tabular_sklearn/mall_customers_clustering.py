# Mall customer segmentation: k-means with the elbow/silhouette method, plus outliers
import pandas as pd
import matplotlib.pyplot as plt
from sklearn.cluster import KMeans
from sklearn.ensemble import IsolationForest
from sklearn.metrics import silhouette_score, davies_bouldin_score

customers = pd.read_csv("input/Mall_Customers.csv")
print(customers.head())
print(customers.describe())

X = customers[["Annual Income (k$)", "Spending Score (1-100)"]]

inertias, silhouettes = [], []
for k in range(2, 11):
    km = KMeans(n_clusters=k, n_init=10, random_state=42)
    km.fit(X)
    inertias.append(km.inertia_)
    silhouettes.append(silhouette_score(X, km.labels_))

fig, ax = plt.subplots(1, 2, figsize=(12, 4))
ax[0].plot(range(2, 11), inertias, marker="o")
ax[1].plot(range(2, 11), silhouettes, marker="o")
plt.show()

kmeans = KMeans(n_clusters=5, init="k-means++", n_init=10, random_state=42)
kmeans.fit(X)
customers["segment"] = kmeans.labels_
print("silhouette:", silhouette_score(X, kmeans.labels_))
print("davies-bouldin:", davies_bouldin_score(X, kmeans.labels_))
print(customers.groupby("segment")[["Age", "Annual Income (k$)", "Spending Score (1-100)"]].mean())

iso = IsolationForest(n_estimators=200, contamination=0.05, random_state=42)
iso.fit(X)
customers["outlier"] = iso.predict(X) == -1
print(customers[customers.outlier])

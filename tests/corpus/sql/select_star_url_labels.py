# Anomaly scoring of machine sensor data: readings from SQL Server, labels from the vendor's CSV export
import pyodbc
import pandas as pd
from sklearn.ensemble import IsolationForest, RandomForestClassifier
from sklearn.metrics import classification_report, roc_auc_score
from sklearn.model_selection import train_test_split

MACHINE = "PRESS-07"
conn = pyodbc.connect("DSN=plant_dw;Trusted_Connection=yes")
readings = pd.read_sql("SELECT * FROM dbo.sensor_readings WHERE machine_id = ?", conn, params=[MACHINE])
labels = pd.read_csv("https://vendor.example.com/exports/press07_incidents.csv")
print(readings.shape, labels.shape)

sensor_cols = [c for c in readings.columns if c.startswith("sensor_")]

iso = IsolationForest(n_estimators=300, contamination=0.01, random_state=0)
iso.fit(readings[sensor_cols])
readings["anomaly_score"] = -iso.score_samples(readings[sensor_cols])

data = readings.merge(labels[["reading_id", "incident"]], on="reading_id", how="inner")
X = data[sensor_cols]
y = data["incident"]
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)

clf = RandomForestClassifier(n_estimators=500, class_weight="balanced", random_state=0)
clf.fit(X_tr, y_tr)
print("incident AUC", roc_auc_score(y_te, clf.predict_proba(X_te)[:, 1]))
print("anomaly-score AUC", roc_auc_score(y, data["anomaly_score"]))
print(classification_report(y_te, clf.predict(X_te)))

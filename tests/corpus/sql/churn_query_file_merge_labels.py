"""Monthly churn model - features come from the analytics warehouse (see sql/)."""
import os
import pandas as pd
from sqlalchemy import create_engine
from sklearn.model_selection import train_test_split
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score, average_precision_score

engine = create_engine(os.environ["WAREHOUSE_URL"])

features_df = pd.read_sql_query(open("sql/churn_features.sql").read(), engine)
labels_df = pd.read_sql_query(
    "SELECT customer_id, churned_next_30d FROM analytics.churn_labels WHERE snapshot_month = '2024-05'",
    engine,
)
df = features_df.merge(labels_df, on="customer_id", how="inner")
print(df.shape, df.churned_next_30d.mean())

df = df.set_index("customer_id")
X = df.drop(columns=["churned_next_30d"])
y = df["churned_next_30d"]
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)

clf = HistGradientBoostingClassifier(max_iter=500, learning_rate=0.05, max_leaf_nodes=31,
                                     early_stopping=True, random_state=0)
clf.fit(X_tr, y_tr)
proba = clf.predict_proba(X_te)[:, 1]
print(f"AUC={roc_auc_score(y_te, proba):.4f} AP={average_precision_score(y_te, proba):.4f}")

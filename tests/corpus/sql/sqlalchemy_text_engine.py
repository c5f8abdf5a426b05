# Propensity model on the marketing warehouse (PostgreSQL) with SQLAlchemy 2.0
from sqlalchemy import create_engine, text
import pandas as pd
from sklearn.ensemble import RandomForestClassifier, GradientBoostingClassifier
from sklearn.model_selection import train_test_split
from sklearn.metrics import roc_auc_score, classification_report

engine = create_engine("postgresql+psycopg://analyst@dwh.internal:5432/marketing")

sql = text("""
    SELECT c.customer_id,
           c.age,
           c.tenure_days,
           c.region,
           s.visits_30d,
           s.orders_90d,
           s.avg_basket,
           c.responded
    FROM crm.customers c
    JOIN web.sessions_agg s ON s.customer_id = c.customer_id
    WHERE c.is_active = 1
""")

with engine.connect() as conn:
    df = pd.read_sql(sql, conn)

print(df.head())
print(df.responded.value_counts())

df = pd.get_dummies(df, columns=["region"])
X = df.drop(columns=["customer_id", "responded"])
y = df["responded"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=3)

rf = RandomForestClassifier(n_estimators=250, max_features="sqrt", n_jobs=4, random_state=3)
rf.fit(X_train, y_train)
print("RF AUC", roc_auc_score(y_test, rf.predict_proba(X_test)[:, 1]))

gb = GradientBoostingClassifier(n_estimators=150, max_depth=3, learning_rate=0.1)
gb.fit(X_train, y_train)
print("GB AUC", roc_auc_score(y_test, gb.predict_proba(X_test)[:, 1]))
print(classification_report(y_test, gb.predict(X_test)))

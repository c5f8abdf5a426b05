import pyodbc
import pandas as pd
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.metrics import f1_score, precision_score, recall_score

SCHEMA = "claims"
cnxn = pyodbc.connect("DRIVER={ODBC Driver 17 for SQL Server};SERVER=sqlprod01;DATABASE=Insurance;Trusted_Connection=yes")
cursor = cnxn.cursor()

sql = """
SELECT c.claim_id,
       c.claim_amount,
       c.days_to_report,
       p.policy_tenure_months,
       p.premium,
       COUNT(h.claim_id) AS prior_claims,
       SUM(h.paid_amount) AS prior_paid,
       c.is_fraud
FROM {schema}.claims c
JOIN {schema}.policies p ON p.policy_id = c.policy_id
LEFT JOIN {schema}.claims_history h ON h.policy_id = c.policy_id AND h.claim_date < c.claim_date
GROUP BY c.claim_id, c.claim_amount, c.days_to_report, p.policy_tenure_months, p.premium, c.is_fraud
""".format(schema=SCHEMA)

cursor.execute(sql)
rows = cursor.fetchall()
claims = pd.DataFrame.from_records(rows, columns=[d[0] for d in cursor.description])
cnxn.close()

claims["prior_paid"] = claims["prior_paid"].fillna(0)
claims["amount_to_premium"] = claims["claim_amount"] / claims["premium"]
X = claims.drop(columns=["claim_id", "is_fraud"])
y = claims["is_fraud"]
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, test_size=0.25, random_state=11)

rf = RandomForestClassifier(n_estimators=700, class_weight="balanced_subsample", min_samples_leaf=3, n_jobs=-1)
rf.fit(X_train, y_train)
y_hat = rf.predict(X_test)
for fn in (f1_score, precision_score, recall_score):
    print(fn.__name__, fn(y_test, y_hat))
print("f1 at 0.3:", f1_score(y_test, (rf.predict_proba(X_test)[:, 1] > 0.3).astype(int)))

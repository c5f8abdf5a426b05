import pandas as pd
from sklearn import ensemble, linear_model, model_selection
import sklearn.metrics as skm

DATA = "../input/playground-s3e7"
COLS = ["no_of_adults", "no_of_children", "lead_time", "avg_price_per_room", "no_of_special_requests", "booking_status"]

hotel = pd.read_csv(f"{DATA}/train.csv", usecols=COLS)
print(hotel.booking_status.value_counts())

X = hotel.loc[:, hotel.columns != "booking_status"]
y = hotel.booking_status
X_tr, X_va, y_tr, y_va = model_selection.train_test_split(X, y, test_size=0.2, random_state=0)

clf = ensemble.RandomForestClassifier(n_estimators=250, min_samples_split=10, random_state=0)
clf.fit(X_tr, y_tr)
print("rf auc", skm.roc_auc_score(y_va, clf.predict_proba(X_va)[:, 1]))

lin = linear_model.LogisticRegression(max_iter=300)
lin.fit(X_tr, y_tr)
print("lr auc", skm.roc_auc_score(y_va, lin.predict_proba(X_va)[:, 1]))

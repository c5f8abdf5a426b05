import pandas as pd
import numpy as np
from catboost import CatBoostClassifier, Pool
from sklearn.model_selection import train_test_split
from sklearn.metrics import roc_auc_score, accuracy_score

train_df = pd.read_csv("../input/amazon-employee-access/train.csv")
print(train_df.nunique())

y = train_df["ACTION"]
X = train_df.drop(columns=["ACTION"])
cat_features = list(range(X.shape[1]))

X_train, X_valid, y_train, y_valid = train_test_split(X, y, train_size=0.8, random_state=42)

params = {"iterations": 800, "learning_rate": 0.05, "depth": 6, "eval_metric": "AUC", "random_seed": 42, "verbose": 100}
model = CatBoostClassifier(**params)
model.fit(X_train, y_train, cat_features=cat_features, eval_set=(X_valid, y_valid), use_best_model=True)
print("CatBoost AUC", roc_auc_score(y_valid, model.predict_proba(X_valid)[:, 1]))

# second model: one-hot max size + class weights, trained through Pool objects
train_pool = Pool(X_train, y_train, cat_features=cat_features)
valid_pool = Pool(X_valid, y_valid, cat_features=cat_features)
model2 = CatBoostClassifier(iterations=1500, depth=8, one_hot_max_size=10, auto_class_weights="Balanced", verbose=False)
model2.fit(train_pool, eval_set=valid_pool)
p2 = model2.predict_proba(valid_pool)[:, 1]
print("CatBoost #2 AUC", roc_auc_score(y_valid, p2))
print("CatBoost #2 acc", accuracy_score(y_valid, (p2 > 0.5).astype(int)))

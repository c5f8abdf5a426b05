import pandas as pd
import lightgbm as lgb
import matplotlib.pyplot as plt
from sklearn.preprocessing import LabelEncoder
from sklearn.model_selection import train_test_split
from sklearn.metrics import accuracy_score, f1_score, confusion_matrix

df = pd.read_csv("data/forest_cover_type.csv")
print(df.Cover_Type.value_counts())
df = df.drop(columns=["Id"])

le = LabelEncoder()
df["Cover_Type"] = le.fit_transform(df["Cover_Type"])

X = df.drop(columns="Cover_Type")
y = df["Cover_Type"]
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=5, stratify=y)

model = lgb.LGBMClassifier(objective="multiclass", n_estimators=3000, learning_rate=0.1, num_leaves=127,
                           class_weight="balanced", random_state=5)
model.fit(X_tr, y_tr, eval_set=[(X_te, y_te)], eval_metric="multi_logloss",
          callbacks=[lgb.early_stopping(50, verbose=False)])
pred = model.predict(X_te)
print("accuracy", accuracy_score(y_te, pred))
print("macro F1", f1_score(y_te, pred, average="macro"))
print(confusion_matrix(y_te, pred))

lgb.plot_importance(model, max_num_features=20)
plt.tight_layout()
plt.show()

# refit on everything with the number of rounds found above
final_model = lgb.LGBMClassifier(objective="multiclass", n_estimators=model.best_iteration_, learning_rate=0.1,
                                 num_leaves=127, class_weight="balanced", random_state=5)
final_model.fit(X, y)
print("train accuracy", final_model.score(X, y))

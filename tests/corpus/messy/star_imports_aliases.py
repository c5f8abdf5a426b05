from pandas import read_csv, get_dummies
import numpy as np
import lightgbm as lgbm
from sklearn.ensemble import *
from sklearn.metrics import *
from sklearn.linear_model import LogisticRegression as LR
from sklearn.model_selection import train_test_split as tts

PATH = "input/mobile_price/train.csv"
SEED = 2
n_leaves = 8
n_trees = 100
n_trees += 150

phones = read_csv(PATH)
print(phones.price_range.value_counts())

target_col = "price_range"
Xall = phones.drop(target_col, axis=1)
yall = phones[target_col]
Xtr, Xte, ytr, yte = tts(Xall, yall, test_size=0.25, random_state=SEED)

m1 = LR(max_iter=4000, multi_class="multinomial")
m1.fit(Xtr, ytr)
print("LR", accuracy_score(yte, m1.predict(Xte)))

m2 = ExtraTreesClassifier(n_estimators=n_trees, random_state=SEED)
m2.fit(Xtr, ytr)
print("ET", accuracy_score(yte, m2.predict(Xte)))

m3 = lgbm.LGBMClassifier(num_leaves=n_leaves, n_estimators=n_trees, learning_rate=0.1, verbose=-1)
m3.fit(Xtr, ytr)
p3 = m3.predict(Xte)
print("LGBM", accuracy_score(yte, p3))
print("LGBM macro F1", f1_score(yte, p3, average="macro"))
print(confusion_matrix(yte, p3))

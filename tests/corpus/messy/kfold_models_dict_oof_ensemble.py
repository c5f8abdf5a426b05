import numpy as np
import pandas as pd
from collections import defaultdict
from sklearn.model_selection import StratifiedKFold
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier, ExtraTreesClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score
import xgboost as xgb

train = pd.read_csv('/kaggle/input/playground-series-s3e2/train.csv')
orig = pd.read_csv('/kaggle/input/stroke-prediction-dataset/healthcare-dataset-stroke-data.csv')
orig = orig[orig.bmi.notna()]
train = pd.concat([train, orig], ignore_index=True)

train['gender'] = train['gender'].map({'Male': 0, 'Female': 1, 'Other': 2})
train['ever_married'] = train['ever_married'].map({'Yes': 1, 'No': 0})
train = pd.get_dummies(train, columns=['work_type', 'Residence_type', 'smoking_status'])
train['age_x_glucose'] = train['age'] * train['avg_glucose_level']

TARGET = 'stroke'
FEATURES = [c for c in train.columns if c not in ('id', TARGET)]
X, y = train[FEATURES], train[TARGET]

models = {
    'lr': LogisticRegression(C=0.05, max_iter=3000),
    'rf': RandomForestClassifier(n_estimators=500, max_depth=8, min_samples_leaf=10, n_jobs=-1),
    'et': ExtraTreesClassifier(n_estimators=800, max_depth=10, n_jobs=-1),
    'xgb': xgb.XGBClassifier(n_estimators=300, max_depth=3, learning_rate=0.03, subsample=0.8),
}
oof = defaultdict(lambda: np.zeros(len(X)))
skf = StratifiedKFold(n_splits=10, shuffle=True, random_state=0)
for fold, (tr, va) in enumerate(skf.split(X, y)):
    sc = StandardScaler().fit(X.iloc[tr])
    X_tr, X_va = sc.transform(X.iloc[tr]), sc.transform(X.iloc[va])
    for name, m in models.items():
        m.fit(X_tr, y.iloc[tr])
        oof[name][va] = m.predict_proba(X_va)[:, 1]
for name in models:
    print(name, roc_auc_score(y, oof[name]))
blend = np.mean([oof[n] for n in models], axis=0)
print('blend', roc_auc_score(y, blend))

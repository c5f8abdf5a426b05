import numpy as np
import pandas as pd
import lightgbm as lgb
from sklearn.model_selection import KFold
from sklearn.metrics import mean_squared_error

SEED = 42
N_SPLITS = 5
N_EST = 20000

train = pd.read_parquet('../input/tabular-playground-series-jan-2021/train.parquet')
test = pd.read_parquet('../input/tabular-playground-series-jan-2021/test.parquet')

y = train.pop('target')
features = [c for c in train.columns if c != 'id']
X = train[features]

lgb_params = {
    'learning_rate': 0.005,
    'num_leaves': 256,
    'min_child_samples': 285,
    'reg_alpha': 9.8,
    'reg_lambda': 2.6,
    'colsample_bytree': 0.3,
    'subsample': 0.55,
    'subsample_freq': 1,
    'max_bin': 511,
}

kf = KFold(n_splits=N_SPLITS, shuffle=True, random_state=SEED)
oof = np.zeros(X.shape[0])
preds = np.zeros(test.shape[0])
scores = []
for fold, (tr_idx, va_idx) in enumerate(kf.split(X)):
    X_tr, X_va = X.iloc[tr_idx], X.iloc[va_idx]
    y_tr, y_va = y.iloc[tr_idx], y.iloc[va_idx]
    model = lgb.LGBMRegressor(**lgb_params, n_estimators=N_EST, random_state=SEED)
    model.fit(X_tr, y_tr, eval_set=[(X_va, y_va)], eval_metric='rmse',
              callbacks=[lgb.early_stopping(200, verbose=False)])
    oof[va_idx] = model.predict(X_va)
    preds += model.predict(test[features]) / N_SPLITS
    rmse = np.sqrt(mean_squared_error(y_va, oof[va_idx]))
    scores.append(rmse)
    print(f'fold {fold} rmse {rmse:.5f} best iter {model.best_iteration_}')

print('CV RMSE', np.mean(scores), '+-', np.std(scores))
print('OOF RMSE', mean_squared_error(y, oof, squared=False))
pd.DataFrame({'id': test['id'], 'target': preds}).to_csv('submission.csv', index=False)

import pandas as pd
import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.model_selection import cross_validate, cross_val_predict, KFold
from sklearn.metrics import confusion_matrix, ConfusionMatrixDisplay, balanced_accuracy_score

C = 3.0
GAMMA = "scale"

diab = pd.read_csv("data/diabetes.csv")
zero_as_nan = ["Glucose", "BloodPressure", "SkinThickness", "Insulin", "BMI"]
diab[zero_as_nan] = diab[zero_as_nan].replace(0, np.nan)
target_col = "Outcome"
feature_cols = diab.columns.difference([target_col])
X, y = diab[feature_cols], diab[target_col]

pipe = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), SVC(C=C, gamma=GAMMA, class_weight="balanced"))
kf = KFold(n_splits=10, shuffle=True, random_state=0)
cv_res = cross_validate(pipe, X, y, cv=kf, scoring=["accuracy", "f1", "roc_auc"], return_train_score=True)
print(pd.DataFrame(cv_res).mean())

y_oof = cross_val_predict(pipe, X, y, cv=kf)
cm = confusion_matrix(y, y_oof)
ConfusionMatrixDisplay(cm).plot()
print("balanced acc", balanced_accuracy_score(y, y_oof))

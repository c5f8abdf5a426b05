"""Adult census income: preprocessing in a ColumnTransformer, two pipelines compared."""
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.metrics import classification_report, roc_auc_score

COLUMNS = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
           "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country", "income"]
adult = pd.read_csv("data/adult.data", header=None, names=COLUMNS, skipinitialspace=True, na_values="?")
print(adult.head())
print(adult.income.value_counts())

numeric_features = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
categorical_features = ["workclass", "marital_status", "occupation", "relationship", "race", "sex"]

X = adult[numeric_features + categorical_features]
y = (adult["income"] == ">50K").astype(int)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)

numeric_transformer = Pipeline(steps=[
    ("imputer", SimpleImputer(strategy="median")),
    ("scaler", StandardScaler()),
])
categorical_transformer = Pipeline(steps=[
    ("imputer", SimpleImputer(strategy="most_frequent")),
    ("onehot", OneHotEncoder(handle_unknown="ignore")),
])
preprocessor = ColumnTransformer(transformers=[
    ("num", numeric_transformer, numeric_features),
    ("cat", categorical_transformer, categorical_features),
])

clf = Pipeline(steps=[("preprocessor", preprocessor), ("classifier", LogisticRegression(C=0.1, max_iter=1000))])
clf.fit(X_train, y_train)
print("model score: %.3f" % clf.score(X_test, y_test))
print(classification_report(y_test, clf.predict(X_test)))

rf_pipe = Pipeline([("preprocessor", preprocessor), ("rf", RandomForestClassifier(n_estimators=300, min_samples_leaf=3))])
rf_pipe.fit(X_train, y_train)
print("rf AUC", roc_auc_score(y_test, rf_pipe.predict_proba(X_test)[:, 1]))

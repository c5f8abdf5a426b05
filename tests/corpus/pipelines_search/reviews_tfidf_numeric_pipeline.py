import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import MinMaxScaler
from sklearn.pipeline import Pipeline
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn import metrics as skm

reviews = pd.read_json("data/amazon_reviews.jsonl", lines=True)
reviews = reviews.dropna(subset=["reviewText"])
reviews["label"] = (reviews["overall"] >= 4).astype(int)
reviews["text_len"] = reviews["reviewText"].str.len()
reviews["n_exclaim"] = reviews["reviewText"].str.count("!")

TEXT = "reviewText"
NUMERIC = ["helpful_votes", "text_len", "n_exclaim"]
X = reviews[[TEXT] + NUMERIC]
y = reviews["label"]
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=5, stratify=y)

features = ColumnTransformer(
    transformers=[
        ("tfidf", TfidfVectorizer(ngram_range=(1, 2), min_df=3, max_features=50000, sublinear_tf=True), TEXT),
        ("num", MinMaxScaler(), NUMERIC),
    ]
)
model = Pipeline(steps=[
    ("features", features),
    ("sgd", SGDClassifier(loss="log_loss", alpha=1e-5, penalty="elasticnet", l1_ratio=0.15, max_iter=50)),
])
model.fit(X_tr, y_tr)
pred = model.predict(X_te)
print(skm.classification_report(y_te, pred))
print("F1 macro:", skm.f1_score(y_te, pred, average="macro"))

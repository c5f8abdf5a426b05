"""IMDB sentiment: TF-IDF + linear SVM, tuned with a small grid."""
import re

import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.metrics import accuracy_score, classification_report

reviews = pd.read_csv("data/IMDB Dataset.csv")
reviews["review"] = reviews["review"].str.replace(r"<br\s*/?>", " ", regex=True).str.lower()
reviews["sentiment"] = reviews["sentiment"].map({"positive": 1, "negative": 0})
print(reviews.sample(3))

X_train, X_test, y_train, y_test = train_test_split(
    reviews["review"], reviews["sentiment"], test_size=0.2, random_state=123
)

text_clf = Pipeline([
    ("tfidf", TfidfVectorizer(max_features=50000, ngram_range=(1, 2), min_df=2, sublinear_tf=True)),
    ("svm", LinearSVC()),
])
grid = GridSearchCV(text_clf, {"svm__C": [0.1, 0.5, 1.0]}, cv=3, n_jobs=-1)
grid.fit(X_train, y_train)
print(grid.best_params_)
pred = grid.predict(X_test)
print("SVM accuracy", accuracy_score(y_test, pred))
print(classification_report(y_test, pred, digits=3))

nb_clf = Pipeline([("tfidf", TfidfVectorizer(max_features=50000)), ("nb", MultinomialNB(alpha=0.3))])
nb_clf.fit(X_train, y_train)
print("NB accuracy", accuracy_score(y_test, nb_clf.predict(X_test)))

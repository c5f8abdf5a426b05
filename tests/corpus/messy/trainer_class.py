"""Loan approval models, trained through the team's small Trainer class."""
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

FEATURES = ["ApplicantIncome", "CoapplicantIncome", "LoanAmount", "Loan_Amount_Term", "Credit_History"]
TARGET = "Loan_Status"


class Trainer:
    """Holds a model with the columns it uses; fits and scores on DataFrames."""

    def __init__(self, model, features, target):
        self.model = model
        self.features = features
        self.target = target

    def fit(self, frame):
        self.model.fit(frame[self.features], frame[self.target])
        return self

    def evaluate(self, frame):
        proba = self.model.predict_proba(frame[self.features])[:, 1]
        return {
            "accuracy": accuracy_score(frame[self.target], proba > 0.5),
            "auc": roc_auc_score(frame[self.target], proba),
        }


loans = pd.read_csv("data/loan_prediction_train.csv")
loans["Loan_Status"] = (loans["Loan_Status"] == "Y").astype(int)
loans = loans.fillna(loans.median(numeric_only=True))
train_df, valid_df = train_test_split(loans, test_size=0.2, random_state=99, stratify=loans[TARGET])

rf_trainer = Trainer(RandomForestClassifier(n_estimators=300, max_depth=7, random_state=99), FEATURES, TARGET)
rf_trainer.fit(train_df)
print("RF", rf_trainer.evaluate(valid_df))

lr_trainer = Trainer(LogisticRegression(max_iter=1000, C=0.1), FEATURES, TARGET)
lr_trainer.fit(train_df)
print("LR", lr_trainer.evaluate(valid_df))

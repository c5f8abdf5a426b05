import numpy as np
import pandas as pd
import seaborn as sns
import matplotlib.pyplot as plt
from sklearn.preprocessing import LabelEncoder
from sklearn.model_selection import train_test_split
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier, GradientBoostingClassifier
from sklearn.svm import SVC
from sklearn.metrics import accuracy_score

train = pd.read_csv('../input/titanic/train.csv')
test = pd.read_csv('../input/titanic/test.csv')
ntrain = len(train)

sns.countplot(x='Survived', hue='Sex', data=train)
plt.show()

full = pd.concat([train, test], sort=False).reset_index(drop=True)
full['Title'] = full['Name'].str.extract(r' ([A-Za-z]+)\.', expand=False)
full['Title'] = full['Title'].replace(['Lady', 'Countess', 'Capt', 'Col', 'Don', 'Dr',
                                       'Major', 'Rev', 'Sir', 'Jonkheer', 'Dona'], 'Rare')
full['Title'] = full['Title'].replace({'Mlle': 'Miss', 'Ms': 'Miss', 'Mme': 'Mrs'})
full['Age'] = full['Age'].fillna(full.groupby('Title')['Age'].transform('median'))
full['Embarked'] = full['Embarked'].fillna(full['Embarked'].mode()[0])
full['Fare'] = full['Fare'].fillna(full['Fare'].median())
full['FamilySize'] = full['SibSp'] + full['Parch'] + 1
full['IsAlone'] = np.where(full['FamilySize'] == 1, 1, 0)
full['Has_Cabin'] = full['Cabin'].apply(lambda x: 0 if type(x) == float else 1)
full['AgeBand'] = pd.cut(full['Age'], 5, labels=False)
full['FareBand'] = pd.qcut(full['Fare'], 4, labels=False)
full['Sex'] = full['Sex'].map({'female': 1, 'male': 0}).astype(int)
full = full.drop(['Name', 'Ticket', 'Cabin'], axis=1)

for col in full.columns:
    if full[col].dtype == 'object':
        le = LabelEncoder()
        full[col] = le.fit_transform(full[col].astype(str))

train = full[:ntrain]
test = full[ntrain:]

features = [c for c in train.columns if c not in ['PassengerId', 'Survived']]
X = train[features]
y = train['Survived'].astype(int)
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.2, random_state=2)

classifiers = [
    LogisticRegression(max_iter=500),
    RandomForestClassifier(n_estimators=300, max_depth=7, min_samples_leaf=2),
    GradientBoostingClassifier(n_estimators=200, learning_rate=0.05),
    SVC(probability=True, gamma='auto'),
]
log = []
for clf in classifiers:
    name = clf.__class__.__name__
    clf.fit(X_train, y_train)
    train_predictions = clf.predict(X_valid)
    acc = accuracy_score(y_valid, train_predictions)
    log.append((name, acc))
    print(name, '{:.4%}'.format(acc))

best = RandomForestClassifier(n_estimators=300, max_depth=7, min_samples_leaf=2)
best.fit(X, y)
submission = pd.DataFrame({'PassengerId': test['PassengerId'], 'Survived': best.predict(test[features])})
submission.to_csv('submission.csv', index=False)

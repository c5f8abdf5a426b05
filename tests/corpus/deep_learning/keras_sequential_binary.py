# Pima diabetes with a Keras MLP
import numpy as np
import pandas as pd
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler
from sklearn.metrics import roc_auc_score, confusion_matrix

tf.random.set_seed(42)

dataset = pd.read_csv("pima-indians-diabetes.csv")
X = dataset.iloc[:, 0:8]
y = dataset.iloc[:, 8]

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
scaler = MinMaxScaler()
X_train = scaler.fit_transform(X_train)
X_test = scaler.transform(X_test)

model = keras.Sequential([
    layers.Input(shape=(8,)),
    layers.Dense(12, activation="relu"),
    layers.Dense(8, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.summary()

history = model.fit(X_train, y_train, epochs=150, batch_size=10, validation_split=0.1, verbose=0)
print("last val acc", history.history["val_accuracy"][-1])

loss, acc = model.evaluate(X_test, y_test, verbose=0)
print("Accuracy: %.2f" % (acc * 100))

proba = model.predict(X_test).ravel()
print("AUC", roc_auc_score(y_test, proba))
print(confusion_matrix(y_test, (proba > 0.5).astype(int)))

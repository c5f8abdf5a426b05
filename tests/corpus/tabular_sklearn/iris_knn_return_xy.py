import matplotlib.pyplot as plt
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.metrics import accuracy_score

X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.33, random_state=3)

scores = []
for k in range(1, 26):
    knn = KNeighborsClassifier(n_neighbors=k)
    knn.fit(X_train, y_train)
    scores.append(accuracy_score(y_test, knn.predict(X_test)))

plt.plot(range(1, 26), scores)
plt.xlabel("k")
plt.ylabel("test accuracy")
plt.show()

best_k = 1 + scores.index(max(scores))
print("best k:", best_k)

best = KNeighborsClassifier(n_neighbors=best_k, weights="distance")
best.fit(X_train, y_train)
print("final accuracy:", accuracy_score(y_test, best.predict(X_test)))

"""Credit card fraud detection with a small PyTorch MLP."""
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score, average_precision_score

torch.manual_seed(0)
EPOCHS = 30
BATCH_SIZE = 512
LR = 1e-3

df = pd.read_csv("data/creditcard.csv")
print(df.Class.value_counts())

X = df.drop(columns=["Time", "Class"]).values.astype(np.float32)
y = df["Class"].values.astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
scaler = StandardScaler()
X_train = scaler.fit_transform(X_train)
X_test = scaler.transform(X_test)


class FraudNet(nn.Module):
    def __init__(self, n_features, hidden=64, dropout=0.2):
        super().__init__()
        self.fc1 = nn.Linear(n_features, hidden)
        self.fc2 = nn.Linear(hidden, hidden // 2)
        self.out = nn.Linear(hidden // 2, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        x = self.drop(F.relu(self.fc1(x)))
        x = F.relu(self.fc2(x))
        return self.out(x).squeeze(-1)


train_ds = TensorDataset(torch.tensor(X_train), torch.tensor(y_train))
train_loader = DataLoader(train_ds, batch_size=BATCH_SIZE, shuffle=True)

model = FraudNet(n_features=X_train.shape[1], hidden=128)
pos_weight = torch.tensor([(y_train == 0).sum() / (y_train == 1).sum()])
criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
optimizer = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=1e-5)

for epoch in range(EPOCHS):
    model.train()
    running = 0.0
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        running += loss.item() * len(xb)
    if epoch % 5 == 0:
        print(f"epoch {epoch:02d} loss {running / len(train_ds):.4f}")

model.eval()
with torch.no_grad():
    scores = torch.sigmoid(model(torch.tensor(X_test))).numpy()
print("ROC AUC:", roc_auc_score(y_test, scores))
print("PR AUC:", average_precision_score(y_test, scores))
torch.save(model.state_dict(), "fraudnet.pt")

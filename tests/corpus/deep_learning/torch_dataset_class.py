"""Heart-failure survival with a torch Dataset over a DataFrame."""
import pandas as pd
import torch
import torch.nn as nn
from torch.utils.data import Dataset, DataLoader
from sklearn.model_selection import train_test_split
from sklearn.metrics import roc_auc_score, accuracy_score

EPOCHS = 40
BS = 32
LR = 5e-4
device = "cuda" if torch.cuda.is_available() else "cpu"

df = pd.read_csv("data/heart_failure_clinical_records_dataset.csv")
target_col = "DEATH_EVENT"
feature_cols = [c for c in df.columns if c not in (target_col, "time")]
df[feature_cols] = (df[feature_cols] - df[feature_cols].mean()) / df[feature_cols].std()
train_df, test_df = train_test_split(df, test_size=0.2, random_state=21, stratify=df[target_col])


class TabularDataset(Dataset):
    def __init__(self, frame):
        self.x = torch.tensor(frame[feature_cols].values, dtype=torch.float32)
        self.y = torch.tensor(frame[target_col].values, dtype=torch.float32)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


class SurvivalNet(nn.Module):
    def __init__(self, d_in, d_hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, d_hidden), nn.ReLU(), nn.Dropout(0.3), nn.Linear(d_hidden, 1), nn.Sigmoid())

    def forward(self, x):
        return self.net(x).squeeze(1)


train_loader = DataLoader(TabularDataset(train_df), batch_size=BS, shuffle=True)
model = SurvivalNet(len(feature_cols), d_hidden=64).to(device)
criterion = nn.BCELoss()
optimizer = torch.optim.RMSprop(model.parameters(), lr=LR)

for epoch in range(1, EPOCHS + 1):
    model.train()
    for xb, yb in train_loader:
        xb, yb = xb.to(device), yb.to(device)
        loss = criterion(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

model.eval()
test_ds = TabularDataset(test_df)
with torch.no_grad():
    p = model(test_ds.x.to(device)).cpu().numpy()
print("AUC", roc_auc_score(test_df[target_col], p))
print("ACC", accuracy_score(test_df[target_col], p > 0.5))

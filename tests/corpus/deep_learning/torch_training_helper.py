import pandas as pd
import torch
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset
from sklearn.model_selection import train_test_split
from sklearn.metrics import f1_score, accuracy_score

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
NUM_EPOCHS = 15

bank = pd.read_csv("data/bank_churn.csv")
bank = bank.drop(columns=["RowNumber", "CustomerId", "Surname"])
bank = pd.get_dummies(bank, columns=["Geography", "Gender"], dtype=float)
features = bank.drop(columns="Exited")
target = bank["Exited"]
features = (features - features.mean()) / features.std()

X_tr, X_va, y_tr, y_va = train_test_split(features.values, target.values, test_size=0.2, random_state=4)
train_dl = DataLoader(TensorDataset(torch.tensor(X_tr, dtype=torch.float32), torch.tensor(y_tr)), batch_size=64, shuffle=True)
valid_dl = DataLoader(TensorDataset(torch.tensor(X_va, dtype=torch.float32), torch.tensor(y_va)), batch_size=256)


class ChurnNet(nn.Module):
    def __init__(self, d_in):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(d_in, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 2))

    def forward(self, x):
        return self.layers(x)


def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    total = 0.0
    for xb, yb in loader:
        xb, yb = xb.to(DEVICE), yb.to(DEVICE)
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@torch.no_grad()
def predict(model, loader):
    model.eval()
    return torch.cat([model(xb.to(DEVICE)).argmax(dim=1).cpu() for xb, _ in loader]).numpy()


net = ChurnNet(d_in=X_tr.shape[1]).to(DEVICE)
opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()

for epoch in range(NUM_EPOCHS):
    train_loss = train_one_epoch(net, train_dl, opt, loss_fn)
    print(epoch, round(train_loss, 4))

y_hat = predict(net, valid_dl)
print("valid F1", f1_score(y_va, y_hat))
print("valid acc", accuracy_score(y_va, y_hat))

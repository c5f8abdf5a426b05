import numpy as np
import pandas as pd
import torch
from torch import nn, optim
from torch.utils.data import TensorDataset, DataLoader
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import mean_squared_error, r2_score

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
N_EPOCHS = 150
BATCH = 64
LEARNING_RATE = 0.01

df = pd.read_excel("data/ENB2012_data.xlsx")
df.columns = ["relative_compactness", "surface_area", "wall_area", "roof_area", "overall_height",
              "orientation", "glazing_area", "glazing_area_distribution", "heating_load", "cooling_load"]
df = df.drop(columns=["cooling_load"])
target = df.pop("heating_load")
X_np = StandardScaler().fit_transform(df.values).astype(np.float32)
y_np = target.values.astype(np.float32).reshape(-1, 1)
X_tr, X_te, y_tr, y_te = train_test_split(X_np, y_np, test_size=0.2, random_state=1)

train_loader = DataLoader(TensorDataset(torch.from_numpy(X_tr), torch.from_numpy(y_tr)), batch_size=BATCH, shuffle=True)

net = nn.Sequential(
    nn.Linear(X_tr.shape[1], 64),
    nn.ReLU(),
    nn.Linear(64, 32),
    nn.ReLU(),
    nn.Linear(32, 1),
).to(device)
criterion = nn.MSELoss()
optimizer = optim.SGD(net.parameters(), lr=LEARNING_RATE, momentum=0.9, nesterov=True)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=50, gamma=0.5)

for epoch in range(1, N_EPOCHS + 1):
    net.train()
    epoch_loss = 0.0
    for xb, yb in train_loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        loss = criterion(net(xb), yb)
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item()
    scheduler.step()
    if epoch % 25 == 0:
        print(epoch, epoch_loss / len(train_loader))

net.eval()
with torch.no_grad():
    preds = net(torch.from_numpy(X_te).to(device)).cpu().numpy()
print("RMSE", mean_squared_error(y_te, preds) ** 0.5, "R2", r2_score(y_te, preds))

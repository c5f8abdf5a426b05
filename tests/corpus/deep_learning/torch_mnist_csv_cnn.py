# Digit Recognizer (Kaggle) - CNN on the CSV pixels
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset
from sklearn.metrics import accuracy_score, classification_report

train = pd.read_csv("../input/digit-recognizer/train.csv")
test = pd.read_csv("../input/digit-recognizer/test.csv")

labels = train["label"].values
pixels = train.drop("label", axis=1).values.reshape(-1, 1, 28, 28).astype("float32") / 255.0

n_val = 4200
x_train, x_val = torch.from_numpy(pixels[n_val:]), torch.from_numpy(pixels[:n_val])
y_train, y_val = torch.from_numpy(labels[n_val:]), torch.from_numpy(labels[:n_val])
loader = DataLoader(TensorDataset(x_train, y_train), batch_size=128, shuffle=True)


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))

    def forward(self, x):
        return self.fc(self.conv(x))


net = Net()
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(net.parameters(), lr=0.001)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)

for epoch in range(8):
    net.train()
    for images, target in loader:
        optimizer.zero_grad()
        output = net(images)
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()
    scheduler.step()
    net.eval()
    with torch.no_grad():
        val_pred = net(x_val).argmax(1).numpy()
    print("epoch", epoch, "val acc", accuracy_score(y_val.numpy(), val_pred))

print(classification_report(y_val.numpy(), val_pred))

x_test = torch.from_numpy(test.values.reshape(-1, 1, 28, 28).astype("float32") / 255.0)
with torch.no_grad():
    sub = pd.DataFrame({"ImageId": np.arange(1, len(test) + 1), "Label": net(x_test).argmax(1).numpy()})
sub.to_csv("submission.csv", index=False)

"""A small CNN learns Fashion-MNIST: a plain PyTorch program, for ``ember run``.

Nothing in it names ember: ``ember run examples/image_classifier.py`` runs it on ember (its
``torch`` and ``torchvision`` imports get ember's modules), ``python
examples/image_classifier.py`` runs it on PyTorch and torchvision. It loads the data with
``torchvision.datasets.FashionMNIST`` (downloaded into ``--data`` when not there yet), batches it
with ``DataLoader``, trains two convolution layers and a classifier with SGD and momentum on the
accelerator when there is one, prints the test loss and accuracy after each epoch and saves the
weights with ``torch.save(model.state_dict(), ...)``.

Example:
    ember run examples/image_classifier.py --data data --limit 5000 --epochs 2
"""

import argparse

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms


class SmallCNN(nn.Module):
    """28 x 28 grey images to scores for 10 classes."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 16x14x14
            nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32x7x7
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def train_one_epoch(model, loader, loss_fn, optimizer, device) -> float:
    """One pass over ``loader``; returns the mean training loss."""
    model.train()
    total, count = 0.0, 0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        loss = loss_fn(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
        count += len(labels)
    return total / count


def evaluate(model, loader, loss_fn, device) -> "tuple[float, float]":
    """The mean loss and the accuracy of ``model`` on ``loader``."""
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            scores = model(images)
            total += loss_fn(scores, labels).item() * len(labels)
            correct += (scores.argmax(dim=1) == labels).sum().item()
            count += len(labels)
    return total / count, correct / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data", help="folder for the dataset")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=10000,
                        help="train on the first LIMIT images and test on LIMIT / 5 (0: all)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--out", default="fashion_cnn.pt", help="where to save the weights")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() \
        else "cpu"
    print(f"Using {device} device")

    train_data = datasets.FashionMNIST(root=args.data, train=True, download=True,
                                       transform=transforms.ToTensor())
    test_data = datasets.FashionMNIST(root=args.data, train=False, download=True,
                                      transform=transforms.ToTensor())
    classes = train_data.classes
    if args.limit:
        train_data = Subset(train_data, range(min(args.limit, len(train_data))))
        test_data = Subset(test_data, range(min(max(args.limit // 5, 1), len(test_data))))
    print(f"{len(train_data)} training images, {len(test_data)} test images")
    train_loader = DataLoader(train_data, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_data, batch_size=256)

    model = SmallCNN().to(device)
    print(model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    for epoch in range(1, args.epochs + 1):
        train_loss = train_one_epoch(model, train_loader, loss_fn, optimizer, device)
        test_loss, accuracy = evaluate(model, test_loader, loss_fn, device)
        print(f"epoch {epoch}: train loss {train_loss:.4f}, test loss {test_loss:.4f}, "
              f"test accuracy {100 * accuracy:.1f}%")

    torch.save(model.state_dict(), args.out)
    print(f"Saved the weights to {args.out}")

    images, labels = next(iter(test_loader))
    with torch.no_grad():
        predicted = model(images[:5].to(device)).argmax(dim=1).tolist()
    for guess, truth in zip(predicted, labels[:5].tolist()):
        print(f"predicted {classes[guess]!r}, actual {classes[truth]!r}")


if __name__ == "__main__":
    main()

"""ember's main job: train the tutorial's LeNet on Fashion-MNIST, evaluate it, plot how it went.

``ember train`` (see ``ember/cli.py``) calls :func:`train`; ``ember evaluate`` calls
:func:`evaluate_checkpoint`. Everything here is ordinary ember code, the same loop a PyTorch user
writes: a DataLoader, a model, a loss, an optimizer, ``backward`` and ``step``.
"""

import json
import os
import time

import numpy as np

import ember
from ember import nn, optim
from ember.utils.data import DataLoader, Subset
from ember.vision import transforms
from ember.vision.datasets import FashionMNIST
from ember.vision.models import LeNet

# Fashion-MNIST's pixel mean and standard deviation (of the training set, scaled to [0, 1]).
MEAN, STD = 0.2860, 0.3530
CHECKPOINT = "checkpoint.pt"


def load_data(root, train: bool, limit, download: bool = False):
    """Fashion-MNIST's training or test split, optionally only the first ``limit`` images;
    and the class names.

    Each 28x28 image becomes a 1x32x32 tensor (padded by 2 for the tutorial net), normalised
    with the dataset's mean and standard deviation. The DataLoader applies these transforms to
    a whole batch at once, so an epoch does not spend its time in per-image Python code.
    """
    transform = transforms.Compose([transforms.ToTensor(), transforms.Pad(2),
                                    transforms.Normalize((MEAN,), (STD,))])
    dataset = FashionMNIST(root=root, train=train, transform=transform, download=download)
    data = dataset
    if limit is not None and limit < len(dataset):
        data = Subset(dataset, range(limit))
    return data, list(dataset.classes)


def make_optimizer(name: str, parameters, lr: float, momentum: float):
    if name == "sgd":
        return optim.SGD(parameters, lr=lr, momentum=momentum)
    if name == "adam":
        return optim.Adam(parameters, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}: choose sgd or adam")


def evaluate(model, loader, num_classes: int = 10, device="cpu"):
    """Mean loss, accuracy and the confusion matrix (rows: true class) of ``model``."""
    model.eval()
    criterion = nn.CrossEntropyLoss(reduction="sum")
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    total_loss, count = 0.0, 0
    with ember.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            output = model(images)
            total_loss += criterion(output, labels).item()
            predicted = output.argmax(1).cpu().numpy()
            np.add.at(confusion, (labels.cpu().numpy(), predicted), 1)
            count += len(labels)
    model.train()
    return total_loss / count, float(np.trace(confusion) / count), confusion


def _progress(total: int, description: str, enabled: bool):
    """A tqdm bar counting images (so its rate reads in images/s), or None without tqdm."""
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=description, unit="img", unit_scale=True, leave=True,
                dynamic_ncols=True)


def train(args) -> dict:
    """Train LeNet on Fashion-MNIST as ``args`` says; write checkpoint, metrics and plots.

    ``args`` has: epochs, batch_size, lr, optimizer, momentum, seed, data, out, resume, limit,
    test_limit, device, progress, download. Returns the metrics dictionary.
    """
    os.makedirs(args.out, exist_ok=True)
    device = ember.device(args.device)
    train_set, classes = load_data(args.data, True, args.limit, args.download)
    test_set, _ = load_data(args.data, False, args.test_limit, args.download)

    ember.manual_seed(args.seed)
    model = LeNet(num_classes=len(classes)).to(device)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr, args.momentum)
    criterion = nn.CrossEntropyLoss()
    history, first_epoch = [], 1

    checkpoint_path = os.path.join(args.out, CHECKPOINT)
    if args.resume:
        resume_from = args.resume if isinstance(args.resume, str) else checkpoint_path
        checkpoint = ember.load(resume_from, map_location=str(device))
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        history = list(checkpoint["metrics"])
        first_epoch = checkpoint["epoch"] + 1
        print(f"resumed from {resume_from} after epoch {checkpoint['epoch']}")

    # One generator, re-seeded each epoch from (seed, epoch): an epoch's shuffle depends on
    # nothing else, so a resumed run sees exactly the batches an uninterrupted run sees.
    shuffle = ember.Generator()
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              generator=shuffle)
    test_loader = DataLoader(test_set, batch_size=1000)
    started = time.perf_counter() - (history[-1]["wall_seconds"] if history else 0.0)

    for epoch in range(first_epoch, args.epochs + 1):
        shuffle.manual_seed(args.seed * 100003 + epoch)
        bar = _progress(len(train_set), f"epoch {epoch}/{args.epochs}", args.progress)
        epoch_start = time.perf_counter()
        running_loss, correct, seen = 0.0, 0, 0
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            output = model(images)
            loss = criterion(output, labels)
            loss.backward()
            optimizer.step()
            batch = len(labels)
            running_loss += loss.item() * batch
            correct += int((output.argmax(1) == labels).sum().item())
            seen += batch
            if bar is not None:
                bar.update(batch)
                bar.set_postfix(loss=f"{running_loss / seen:.4f}", refresh=False)
        epoch_seconds = time.perf_counter() - epoch_start
        if bar is not None:
            bar.close()
        test_loss, test_accuracy, confusion = evaluate(model, test_loader, len(classes),
                                                       device)
        history.append({
            "epoch": epoch,
            "train_loss": running_loss / seen,
            "train_accuracy": correct / seen,
            "test_loss": test_loss,
            "test_accuracy": test_accuracy,
            "images_per_second": seen / epoch_seconds,
            "epoch_seconds": epoch_seconds,
            "wall_seconds": time.perf_counter() - started,
        })
        print(f"epoch {epoch}: train loss {running_loss / seen:.4f}, test loss {test_loss:.4f}, "
              f"test accuracy {100 * test_accuracy:.2f}%, {seen / epoch_seconds:,.0f} images/s")
        ember.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "epoch": epoch, "metrics": history, "classes": classes,
                    "args": {k: v for k, v in vars(args).items()
                             if isinstance(v, (int, float, str, bool, type(None)))}},
                   checkpoint_path)
        metrics = {"classes": classes, "epochs": history,
                   "confusion_matrix": confusion.tolist()}
        _write_json(os.path.join(args.out, "metrics.json"), metrics)
        plot_curves(history, os.path.join(args.out, "curves.png"))
        plot_confusion(confusion, classes, os.path.join(args.out, "confusion.png"))
    return {"classes": classes, "epochs": history}


def _write_json(path: str, obj) -> None:
    """Write ``obj`` as JSON atomically (temporary file, then rename)."""
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(temporary, path)


def plot_curves(history, path: str) -> None:
    """Training and test loss and accuracy against epoch, side by side."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    epochs = [h["epoch"] for h in history]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axes.plot(epochs, [h["train_loss"] for h in history], "o-", label="train")
    loss_axes.plot(epochs, [h["test_loss"] for h in history], "o-", label="test")
    loss_axes.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
    accuracy_axes.plot(epochs, [100 * h["train_accuracy"] for h in history], "o-",
                       label="train")
    accuracy_axes.plot(epochs, [100 * h["test_accuracy"] for h in history], "o-", label="test")
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    for axes in (loss_axes, accuracy_axes):
        axes.legend()
        axes.grid(alpha=0.3)
        axes.xaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_confusion(confusion, classes, path: str) -> None:
    """The test confusion matrix with class names; each cell shows its count."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(8, 7))
    image = axes.imshow(confusion, cmap="Blues")
    axes.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    axes.set_yticks(range(len(classes)), classes)
    axes.set(xlabel="predicted", ylabel="true", title="Test confusion matrix")
    threshold = confusion.max() / 2 if confusion.size else 0
    for i in range(len(classes)):
        for j in range(len(classes)):
            axes.text(j, i, str(confusion[i, j]), ha="center", va="center", fontsize=8,
                      color="white" if confusion[i, j] > threshold else "black")
    figure.colorbar(image, ax=axes)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def evaluate_checkpoint(path: str, data=None, device: str = "cpu") -> dict:
    """Test accuracy and per-class accuracy of a checkpoint written by :func:`train`."""
    checkpoint = ember.load(path, map_location=device)
    test_set, classes = load_data(data, False, None)
    model = LeNet(num_classes=len(classes))
    model.load_state_dict(checkpoint["model"])
    model.to(device)
    loss, accuracy, confusion = evaluate(model, DataLoader(test_set, batch_size=1000),
                                         len(classes), device)
    per_class = (np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)).tolist()
    return {"loss": loss, "accuracy": accuracy,
            "per_class": dict(zip(classes, per_class))}

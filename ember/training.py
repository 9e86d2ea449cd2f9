"""ember's main job: train the tutorial's LeNet on Fashion-MNIST, evaluate it, plot how it went.

``ember train`` (see ``ember/cli.py``) calls :func:`train`; ``ember evaluate`` calls
:func:`evaluate_checkpoint`. Everything here is ordinary ember code, the same loop a PyTorch user
writes: a DataLoader, a model, a loss, an optimizer and a learning-rate schedule, ``backward``
and ``step``.

The default recipe (the defaults of ``ember train``): SGD with learning rate 0.05 and momentum
0.9, batches of 64 shuffled images, the learning rate decayed along a cosine over the run, one
step of the schedule per epoch. It reaches about 90% test accuracy in 5 epochs;
``benchmarks/recipe_torch.py`` runs the same recipe in PyTorch.

Example, from Python as from the command line (``ember train --epochs 1 --limit 1000 ...``)::

    from ember.cli import main
    main(["train", "--epochs", "1", "--limit", "1000", "--out", "runs/quick"])
"""

import json
import math
import os
import time
from argparse import Namespace

import numpy as np

import ember
from ember import nn, optim
from ember.optim import lr_scheduler
from ember.utils.data import DataLoader, Subset
from ember.vision import transforms
from ember.vision.datasets import FashionMNIST
from ember.vision.models import LeNet

# Fashion-MNIST's pixel mean and standard deviation (of the training set, scaled to [0, 1]).
MEAN, STD = 0.2860, 0.3530
CHECKPOINT = "checkpoint.pt"
# The settings that decide the weights a run reaches. A resumed run takes them from its
# checkpoint, so that it ends where an uninterrupted run would; ``--epochs`` may still change
# (the schedule then stretches to the new total from the epoch reached).
RECIPE = ("optimizer", "lr", "momentum", "batch_size", "seed", "limit")


class SetupError(RuntimeError):
    """A run cannot start: no data, no such device, no checkpoint. The message says what to do.

    The command line prints it without a traceback; errors raised while training are not
    SetupErrors and keep theirs.
    """


def load_data(root, train: bool, limit=None, download: bool = False):
    """Fashion-MNIST's training or test split, optionally only the first ``limit`` images;
    and the class names.

    Each 28x28 image becomes a 1x32x32 tensor (padded by 2 for the tutorial net), normalised
    with the dataset's mean and standard deviation. The DataLoader applies these transforms to
    a whole batch at once, so an epoch does not spend its time in per-image Python code.

    Raises:
        SetupError: the files are not found (or are corrupt); the message lists the ways to get
            them.
    """
    transform = transforms.Compose([transforms.ToTensor(), transforms.Pad(2),
                                    transforms.Normalize((MEAN,), (STD,))])
    try:
        dataset = FashionMNIST(root=root, train=train, transform=transform, download=download)
    except RuntimeError as error:
        raise SetupError(f"{error}\nOn the command line: --data <folder> reads the files from "
                         f"that folder, --download fetches them.") from error
    data = dataset
    if limit is not None and limit < len(dataset):
        data = Subset(dataset, range(limit))
    return data, list(dataset.classes)


def resolve_device(name: str) -> ember.device:
    """The device called ``name``, checked to be usable before any work starts.

    Raises:
        SetupError: the name is not a device, or it is a GPU and CUDA is not available.
    """
    try:
        device = ember.device(name)
        ember.zeros(1).to(device)  # without CuPy or a GPU, this is where "cuda" fails
    except RuntimeError as error:
        raise SetupError(f"cannot use device {name!r}: {error}") from error
    return device


def make_optimizer(name: str, parameters, lr: float, momentum: float) -> optim.Optimizer:
    """SGD with ``momentum``, or Adam (which takes no momentum: its betas stay 0.9, 0.999)."""
    if name == "sgd":
        return optim.SGD(parameters, lr=lr, momentum=momentum)
    if name == "adam":
        return optim.Adam(parameters, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}: choose sgd or adam")


def make_scheduler(optimizer: optim.Optimizer, epochs: int,
                   epochs_done: int = 0) -> lr_scheduler.LambdaLR:
    """Cosine decay of the learning rate over ``epochs`` epochs, one step per epoch.

    Epoch ``e`` (counted from 0) trains at ``lr * (1 + cos(pi * e / epochs)) / 2``: the full rate
    in the first epoch, falling smoothly to a few percent of it in the last (for 5 epochs: 100%,
    90%, 65%, 35%, 10%).

    The rate is a function of the epoch alone, so a resumed run rebuilds the schedule at the
    epoch it stopped after (``epochs_done``) rather than saving it. Load the optimizer's state
    first: it holds each group's ``initial_lr``, the rate the schedule scales.
    """
    def cosine(epoch: int) -> float:
        return (1 + math.cos(math.pi * epoch / epochs)) / 2
    return lr_scheduler.LambdaLR(optimizer, cosine, last_epoch=epochs_done - 1)


def shuffle_seed(seed: int, epoch: int) -> int:
    """The seed of epoch ``epoch``'s shuffle: a function of the run's seed and the epoch alone,
    so a resumed run sees exactly the batches an uninterrupted run sees."""
    return seed * 100003 + epoch


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
    """A tqdm bar counting images (so its rate reads in img/s), or None without tqdm."""
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=description, unit="img", unit_scale=True, leave=True,
                dynamic_ncols=True)


def _load_checkpoint(path: str, device: ember.device) -> dict:
    """The checkpoint that :func:`train` wrote at ``path``, its tensors on ``device``."""
    if not os.path.isfile(path):
        raise SetupError(f"no checkpoint at {path}: train first, or pass the checkpoint's path")
    checkpoint = ember.load(path, map_location=str(device))
    expected = {"model", "optimizer", "epoch", "metrics", "classes", "args"}
    if not isinstance(checkpoint, dict) or not expected <= checkpoint.keys():
        raise SetupError(f"{path} is not a checkpoint written by ember train: expected a dict "
                         f"with the keys {', '.join(sorted(expected))}")
    return checkpoint


def _continue_recipe(args: Namespace, checkpoint: dict, resume_from: str) -> Namespace:
    """``args`` with the recipe of the run being resumed: its optimizer, learning rate,
    momentum, batch size, seed and training images, whatever the command line says."""
    recipe = {key: checkpoint["args"][key] for key in RECIPE}
    described = ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in recipe.items())
    print(f"resuming {resume_from} after epoch {checkpoint['epoch']} with its recipe: "
          f"{described}")
    return Namespace(**{**vars(args), **recipe})


def epoch_record(epoch: int, epochs: int, lr: float, running_loss: float, correct: int,
                 seen: int, test_loss: float, test_accuracy: float, epoch_seconds: float,
                 started: float) -> dict:
    """One epoch's metrics as ``metrics.json`` stores them, printed as one line.

    ``running_loss`` is the sum of the batches' mean losses times their sizes, ``correct`` the
    count of right predictions over the ``seen`` training images; ``started`` is the
    ``time.perf_counter()`` of the run's start.
    """
    record = {
        "epoch": epoch,
        "lr": lr,
        "train_loss": running_loss / seen,
        "train_accuracy": correct / seen,
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        "images_per_second": seen / epoch_seconds,
        "epoch_seconds": epoch_seconds,
        "wall_seconds": time.perf_counter() - started,
    }
    print(f"epoch {epoch}/{epochs}: train loss {record['train_loss']:.4f}, "
          f"test loss {test_loss:.4f}, test accuracy {100 * test_accuracy:.2f}%, "
          f"{record['images_per_second']:,.0f} images/s", flush=True)
    return record


def train(args: Namespace) -> dict:
    """Train LeNet on Fashion-MNIST as ``args`` says; write checkpoint, metrics and plots.

    ``args`` has: epochs, batch_size, lr, optimizer, momentum, seed, data, download, out,
    resume (None, True for ``out/checkpoint.pt``, or a path), limit, test_limit, device,
    progress. After each epoch :func:`train` writes, under ``args.out``, ``checkpoint.pt`` (model
    and optimizer state, epoch, metrics), ``metrics.json``, ``curves.png`` and ``confusion.png``.

    Returns:
        The metrics: ``{"classes": [...], "epochs": [one dict per epoch]}``.

    Raises:
        SetupError: the data, the device or the checkpoint to resume from is missing.
    """
    device = resolve_device(args.device)
    checkpoint = None
    if args.resume:
        default_path = os.path.join(args.out, CHECKPOINT)
        resume_from = args.resume if isinstance(args.resume, str) else default_path
        checkpoint = _load_checkpoint(resume_from, device)
        args = _continue_recipe(args, checkpoint, resume_from)
    train_set, classes = load_data(args.data, True, args.limit, args.download)
    test_set, _ = load_data(args.data, False, args.test_limit, args.download)
    os.makedirs(args.out, exist_ok=True)

    ember.manual_seed(args.seed)
    model = LeNet(num_classes=len(classes)).to(device)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr, args.momentum)
    criterion = nn.CrossEntropyLoss()
    history, epochs_done = [], 0
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        history, epochs_done = list(checkpoint["metrics"]), checkpoint["epoch"]
        if epochs_done >= args.epochs:
            print(f"nothing to do: the checkpoint has trained {epochs_done} epochs, "
                  f"--epochs asks for {args.epochs}")
            return {"classes": classes, "epochs": history}
    scheduler = make_scheduler(optimizer, args.epochs, epochs_done)

    shuffle = ember.Generator()  # re-seeded at the start of each epoch
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              generator=shuffle)
    test_loader = DataLoader(test_set, batch_size=1000)
    started = time.perf_counter() - (history[-1]["wall_seconds"] if history else 0.0)

    for epoch in range(epochs_done + 1, args.epochs + 1):
        shuffle.manual_seed(shuffle_seed(args.seed, epoch))
        lr = optimizer.param_groups[0]["lr"]
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
        scheduler.step()
        test_loss, test_accuracy, confusion = evaluate(model, test_loader, len(classes),
                                                       device)
        history.append(epoch_record(epoch, args.epochs, lr, running_loss, correct, seen,
                                    test_loss, test_accuracy, epoch_seconds, started))
        _write_outputs(args, model, optimizer, history, classes, confusion)
    return {"classes": classes, "epochs": history}


def _write_outputs(args: Namespace, model, optimizer, history: list, classes: list,
                   confusion: np.ndarray) -> None:
    """The checkpoint, metrics.json and the two plots, rewritten after every epoch."""
    settings = {key: value for key, value in vars(args).items()
                if isinstance(value, (int, float, str, bool, type(None)))}
    ember.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "epoch": history[-1]["epoch"], "metrics": history, "classes": classes,
                "args": settings},
               os.path.join(args.out, CHECKPOINT))
    metrics = {"classes": classes, "settings": settings, "epochs": history,
               "confusion_matrix": confusion.tolist()}
    _write_json(os.path.join(args.out, "metrics.json"), metrics)
    plot_curves(history, os.path.join(args.out, "curves.png"))
    plot_confusion(confusion, classes, os.path.join(args.out, "confusion.png"))


def _write_json(path: str, obj) -> None:
    """Write ``obj`` as JSON atomically (temporary file, then rename)."""
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(temporary, path)


def _pyplot():
    """matplotlib's pyplot on the Agg backend: files only, no window, no display needed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_curves(history: list, path: str) -> None:
    """Training and test loss and accuracy against epoch, side by side."""
    plt = _pyplot()
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


def plot_confusion(confusion: np.ndarray, classes: list, path: str) -> None:
    """The test confusion matrix with class names; each cell shows its count."""
    plt = _pyplot()
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
    """Test loss, accuracy and per-class accuracy of a checkpoint written by :func:`train`.

    Raises:
        SetupError: the checkpoint, the data or the device is missing.
    """
    device = resolve_device(device)
    checkpoint = _load_checkpoint(path, device)
    test_set, classes = load_data(data, False)
    model = LeNet(num_classes=len(classes))
    model.load_state_dict(checkpoint["model"])
    model.to(device)
    loss, accuracy, confusion = evaluate(model, DataLoader(test_set, batch_size=1000),
                                         len(classes), device)
    per_class = (np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)).tolist()
    return {"loss": loss, "accuracy": accuracy,
            "per_class": dict(zip(classes, per_class))}

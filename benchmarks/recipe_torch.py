"""``ember train``'s default recipe run in PyTorch, for the README's side-by-side numbers.

    python -m ember train --no-progress --out runs/latest          # ember
    python benchmarks/recipe_torch.py --compare runs/latest/metrics.json   # PyTorch, and a table

This is the same run as ``ember train`` with the same options, done by PyTorch:

- the same LeNet (the tutorial's net for 1x32x32 images) starting from the same weights (ember's
  initial weights for the seed, copied across);
- the same data, read with ember's IDX reader and turned into torch tensors, and the same
  preprocessing: ToTensor -> Pad(2) -> Normalize(0.2860, 0.3530);
- the same batches in the same order: ember's shuffle for each epoch, replayed;
- the same optimizer (SGD with lr 0.05 and momentum 0.9 by default, or Adam) and the same cosine
  learning-rate schedule, stepped once per epoch.

So the two runs differ only in the framework doing the arithmetic. Each batch is one fancy index
of the uint8 images and one batched transform, as in ember's DataLoader. Images/s counts the
training loop only (as ``ember train`` does); wall time adds the test evaluation and saving a
checkpoint after each epoch (``ember train`` also draws its two plots then).
"""

import argparse
import json
import math
import os
import platform
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from run import tutorial_net  # noqa: E402  (the same LeNet, in whichever framework)

import ember  # noqa: E402  (after the path: the benchmark runs from a checkout)
from ember.training import MEAN, STD, epoch_record, shuffle_seed  # noqa: E402
from ember.utils.data import DataLoader  # noqa: E402
from ember.vision.datasets import FashionMNIST  # noqa: E402
from ember.vision.models import LeNet as EmberLeNet  # noqa: E402


def load_split(root, train: bool, limit=None):
    """Fashion-MNIST's images (uint8, N x 28 x 28) and labels (int64) as torch tensors."""
    dataset = FashionMNIST(root=root, train=train)
    images, labels = dataset.data.numpy()[:limit], dataset.targets.numpy()[:limit]
    return torch.from_numpy(images), torch.from_numpy(labels)


def preprocess(images: torch.Tensor) -> torch.Tensor:
    """ToTensor -> Pad(2) -> Normalize(MEAN, STD) on a batch of uint8 images N x 28 x 28."""
    x = images.unsqueeze(1).to(torch.float32).div(255)
    x = F.pad(x, (2, 2, 2, 2))
    return (x - MEAN) / STD


def ember_initial_weights(seed: int) -> dict:
    """The weights ``ember train --seed SEED`` starts from, as torch tensors."""
    ember.manual_seed(seed)
    return {name: torch.from_numpy(value.numpy().copy())
            for name, value in EmberLeNet().state_dict().items()}


def ember_batches(n: int, batch_size: int, seed: int, epoch: int) -> list:
    """The batches of indices that ``ember train`` draws in ``epoch``: its shuffle, replayed
    through an ember DataLoader over the indices themselves."""
    generator = ember.Generator()
    generator.manual_seed(shuffle_seed(seed, epoch))
    loader = DataLoader(range(n), batch_size=batch_size, shuffle=True, generator=generator)
    return [torch.from_numpy(batch.numpy()) for batch in loader]


def evaluate(model, images, labels, batch_size: int = 1000):
    """Mean loss and accuracy of ``model`` on the test images."""
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(labels), batch_size):
            output = model(preprocess(images[start:start + batch_size]))
            target = labels[start:start + batch_size]
            total_loss += F.cross_entropy(output, target, reduction="sum").item()
            correct += int((output.argmax(1) == target).sum())
    model.train()
    return total_loss / len(labels), correct / len(labels)


def run(args) -> list:
    """Train as ``ember train`` would with ``args``; one metrics dict per epoch."""
    train_images, train_labels = load_split(args.data, True, args.limit)
    test_images, test_labels = load_split(args.data, False, args.test_limit)
    model = tutorial_net(torch)
    model.load_state_dict(ember_initial_weights(args.seed))
    if args.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda epoch: (1 + math.cos(math.pi * epoch / args.epochs)) / 2)
    criterion = nn.CrossEntropyLoss()
    history = []
    started = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        batches = ember_batches(len(train_labels), args.batch_size, args.seed, epoch)
        lr = optimizer.param_groups[0]["lr"]
        epoch_start = time.perf_counter()
        running_loss, correct, seen = 0.0, 0, 0
        for indices in batches:
            images, labels = preprocess(train_images[indices]), train_labels[indices]
            optimizer.zero_grad()
            output = model(images)
            loss = criterion(output, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item() * len(labels)
            correct += int((output.argmax(1) == labels).sum().item())
            seen += len(labels)
        epoch_seconds = time.perf_counter() - epoch_start
        scheduler.step()
        test_loss, test_accuracy = evaluate(model, test_images, test_labels)
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "epoch": epoch}, os.path.join(args.out, "checkpoint_torch.pt"))
        history.append(epoch_record(epoch, args.epochs, lr, running_loss, correct, seen,
                                    test_loss, test_accuracy, epoch_seconds, started))
    return history


def print_comparison(ember_epochs: list, torch_epochs: list) -> None:
    """Per-epoch test accuracy and images/s of both runs, and their total times."""
    print(f"\n{'epoch':>5}  {'accuracy ember':>14}  {'accuracy torch':>14}  "
          f"{'img/s ember':>11}  {'img/s torch':>11}")
    for mine, theirs in zip(ember_epochs, torch_epochs):
        print(f"{mine['epoch']:>5}  {100 * mine['test_accuracy']:>13.2f}%  "
              f"{100 * theirs['test_accuracy']:>13.2f}%  {mine['images_per_second']:>11,.0f}  "
              f"{theirs['images_per_second']:>11,.0f}")
    for name, epochs in (("ember", ember_epochs), ("torch", torch_epochs)):
        training = sum(e["epoch_seconds"] for e in epochs)
        print(f"{name}: {training:.1f} s training, {epochs[-1]['wall_seconds']:.1f} s wall")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    parser.add_argument("--lr", type=float, default=None,
                        help="default 0.05 for sgd, 0.001 for adam (as ember train)")
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=None, help="folder with the Fashion-MNIST files")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--test-limit", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: PyTorch's choice)")
    parser.add_argument("--out", default=os.path.join("runs", "recipe_torch"),
                        help="folder for the checkpoint and metrics.json")
    parser.add_argument("--compare", metavar="METRICS_JSON",
                        help="ember train's metrics.json: print both runs side by side")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    if args.lr is None:
        args.lr = 0.05 if args.optimizer == "sgd" else 0.001
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    history = run(args)
    results = {"framework": f"torch {torch.__version__}", "threads": torch.get_num_threads(),
               "settings": vars(args), "epochs": history}
    path = os.path.join(args.out, "metrics.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
    print(f"wrote {path}")
    if args.compare:
        with open(args.compare) as f:
            print_comparison(json.load(f)["epochs"], history)


if __name__ == "__main__":
    main()

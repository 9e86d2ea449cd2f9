"""The ``ember`` command: ``ember train``, ``ember evaluate CHECKPOINT``, ``ember download``.

Example:
    ember train --epochs 2 --limit 5000 --out runs/quick
    ember evaluate runs/quick/checkpoint.pt
"""

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ember", description="ember: PyTorch's programming "
                                     "model on NumPy. Train and evaluate on Fashion-MNIST.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train the tutorial's LeNet on Fashion-MNIST")
    train.add_argument("--epochs", type=int, default=5, help="epochs to train (default 5)")
    train.add_argument("--batch-size", type=int, default=64, help="images per step (64)")
    train.add_argument("--lr", type=float, default=None,
                       help="learning rate (default 0.05 for sgd, 0.001 for adam)")
    train.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    train.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (0.9)")
    train.add_argument("--seed", type=int, default=0, help="random seed (0)")
    train.add_argument("--data", default=None, help="folder with the Fashion-MNIST files "
                       "(default: $EMBER_DATA, ~/.cache/ember, /usr/share/datasets)")
    train.add_argument("--download", action="store_true", help="download the data if missing")
    train.add_argument("--out", default="runs/latest", help="output folder (runs/latest)")
    train.add_argument("--resume", nargs="?", const=True, default=None, metavar="CHECKPOINT",
                       help="continue from OUT/checkpoint.pt (or the given checkpoint)")
    train.add_argument("--limit", type=int, default=None,
                       help="train on the first N training images only")
    train.add_argument("--test-limit", type=int, default=None,
                       help="evaluate on the first N test images only")
    train.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    train.add_argument("--no-progress", dest="progress", action="store_false",
                       help="no progress bar")

    evaluate = commands.add_parser("evaluate", help="test accuracy of a checkpoint")
    evaluate.add_argument("checkpoint")
    evaluate.add_argument("--data", default=None)
    evaluate.add_argument("--device", default="cpu")

    download = commands.add_parser("download", help="download a dataset")
    download.add_argument("dataset", choices=["fashion-mnist", "mnist"])
    download.add_argument("--root", default=None, help="where to put it (default: cache)")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "train":
        from .training import train
        if args.lr is None:
            args.lr = 0.05 if args.optimizer == "sgd" else 0.001
        train(args)
        print(f"outputs in {args.out}: checkpoint.pt, metrics.json, curves.png, confusion.png")
    elif args.command == "evaluate":
        from .training import evaluate_checkpoint
        report = evaluate_checkpoint(args.checkpoint, args.data, args.device)
        print(f"test accuracy {100 * report['accuracy']:.2f}% (loss {report['loss']:.4f})")
        width = max(len(name) for name in report["per_class"])
        for name, accuracy in report["per_class"].items():
            print(f"  {name:<{width}}  {100 * accuracy:6.2f}%")
    elif args.command == "download":
        from .vision import datasets
        cls = datasets.FashionMNIST if args.dataset == "fashion-mnist" else datasets.MNIST
        for train in (True, False):
            dataset = cls(root=args.root, train=train, download=True)
        print(f"{args.dataset} is ready ({len(dataset)} test images)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

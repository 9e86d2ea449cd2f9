"""The ``ember`` command (also ``python -m ember``): train, evaluate, download, run.

Example:
    ember run train.py --epochs 2                 a PyTorch program, on ember
    ember train --epochs 2 --limit 5000 --out runs/quick
    ember train --epochs 4 --limit 5000 --out runs/quick --resume
    ember evaluate runs/quick/checkpoint.pt
"""

import argparse
import sys

from . import _run
from ._parallel import set_cpu_tuning
from .distributed import distributed_c10d, launch
from .training import (
    RECIPE_CHECKS,
    DivergedError,
    Interrupted,
    SetupError,
    evaluate_checkpoint,
    train,
)
from .vision import datasets

TRAIN_DESCRIPTION = """\
Train the tutorial's LeNet on Fashion-MNIST and evaluate it on the test set after each epoch.

The default recipe reaches about 90% test accuracy in 5 epochs: SGD, learning rate 0.05,
momentum 0.9, batches of 64 shuffled images, and a cosine learning-rate schedule that decays the
rate once per epoch, from the full rate in the first epoch to a tenth of it in the fifth.
Images are padded to 32x32 and normalised with the dataset's mean and standard deviation.

Written to --out after every epoch: checkpoint.pt (model and optimizer state; loads in
torch.load(..., weights_only=True)), metrics.json (per-epoch loss, accuracy, images/s, wall
time), curves.png (loss and accuracy against epoch), confusion.png (test confusion matrix).
"""

TRAIN_EXAMPLES = """\
examples:
  ember train                                   the default recipe, outputs in runs/latest
  ember train --optimizer adam --epochs 10      Adam at its default rate, 0.001
  ember train --limit 5000 --epochs 2 --out runs/quick
  ember train --epochs 4 --out runs/quick --resume    continue runs/quick to epoch 4
"""


RUN_DESCRIPTION = """\
Run an unmodified PyTorch program on ember, as 'python SCRIPT ARGS' would run it: each import of
torch... gets ember's module of that path (torch.nn.functional is ember.nn.functional) and each
import of torchvision... gets ember.vision's (torchvision.transforms is ember.vision.transforms).
"""


def positive_int(text: str) -> int:
    """An argparse type: an integer above 0."""
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def recipe_setting(name: str, convert):
    """An argparse type for the recipe's setting ``name``: ``convert`` the text (int or float),
    then check the value as ``RECIPE_CHECKS`` says, so that a bad value stops the command
    before anything is loaded."""
    valid, description = RECIPE_CHECKS[name]

    def parse(text: str):
        value = convert(text)
        if not valid(value):
            raise argparse.ArgumentTypeError(f"must be {description}, got {text}")
        return value
    parse.__name__ = convert.__name__  # argparse names it when text is not a number at all
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``ember`` command and its subcommands."""
    parser = argparse.ArgumentParser(prog="ember", description="ember: PyTorch's programming "
                                     "model on NumPy. Run PyTorch programs; train and evaluate "
                                     "on Fashion-MNIST.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train the tutorial's LeNet on Fashion-MNIST",
                                description=TRAIN_DESCRIPTION, epilog=TRAIN_EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    # The recipe's settings default to None, so that a resumed run can tell which ones the
    # command line gives (and warn that they are ignored); train() fills in the defaults.
    recipe = train.add_argument_group("recipe")
    recipe.add_argument("--epochs", type=positive_int, default=5,
                        help="total epochs to train, also when resuming (default 5)")
    recipe.add_argument("--batch-size", type=recipe_setting("batch_size", int), default=None,
                        help="images per step (default 64)")
    recipe.add_argument("--optimizer", choices=["sgd", "adam"], default=None,
                        help="the optimizer (default sgd)")
    recipe.add_argument("--lr", type=recipe_setting("lr", float), default=None,
                        help="learning rate of the first epoch, above 0 and at most 10 "
                        "(default 0.05 for sgd, 0.001 for adam)")
    recipe.add_argument("--momentum", type=recipe_setting("momentum", float), default=None,
                        help="SGD's momentum, at least 0 and below 1 (default 0.9; adam "
                        "ignores it)")
    recipe.add_argument("--seed", type=recipe_setting("seed", int), default=None,
                        help="seed of the initial weights and the shuffling, 0 to 2**63 - 1 "
                        "(default 0)")

    data = train.add_argument_group("data")
    data.add_argument("--data", default=None, metavar="FOLDER",
                      help="folder with the Fashion-MNIST files (default: $EMBER_DATA, "
                      "~/.cache/ember/datasets, /usr/share/datasets/fashion-mnist)")
    data.add_argument("--download", action="store_true",
                      help="download the data if it is not found")
    data.add_argument("--limit", type=recipe_setting("limit", int), default=None, metavar="N",
                      help="train on the first N training images only")
    data.add_argument("--test-limit", type=positive_int, default=None, metavar="N",
                      help="evaluate on the first N test images only")

    run = train.add_argument_group("run")
    run.add_argument("--out", default="runs/latest", metavar="FOLDER",
                     help="output folder (default runs/latest)")
    run.add_argument("--resume", nargs="?", const=True, default=None, metavar="CHECKPOINT",
                     help="continue the run saved in OUT/checkpoint.pt (or CHECKPOINT) to "
                     "--epochs, with the recipe it was started with (recipe options that "
                     "differ are ignored, with a warning); it reaches exactly the weights of "
                     "an uninterrupted run")
    run.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    run.add_argument("--nproc", type=positive_int, default=None, metavar="N",
                     help="train as N processes under mpirun, each on its share of every "
                     "batch-size batch stream (DistributedDataParallel; --batch-size is per "
                     "process; needs mpi4py and MPI)")
    run.add_argument("--no-progress", dest="progress", action="store_false",
                     help="no progress bar")
    run.add_argument("--no-compile", dest="compile", action="store_false",
                     help="run the training step eagerly; by default ember.compile captures "
                     "it at the first batch and replays it (the same numbers, less overhead "
                     "per step)")

    evaluate = commands.add_parser("evaluate", help="test accuracy of a checkpoint, per class",
                                   description="Test loss, accuracy and per-class accuracy of "
                                   "a checkpoint written by 'ember train'.")
    evaluate.add_argument("checkpoint", help="e.g. runs/latest/checkpoint.pt")
    evaluate.add_argument("--data", default=None, metavar="FOLDER",
                          help="folder with the Fashion-MNIST files (default: as ember train)")
    evaluate.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")

    download = commands.add_parser("download", help="download a dataset")
    download.add_argument("dataset", choices=["fashion-mnist", "mnist"])
    download.add_argument("--root", default=None,
                          help="where to put it (default: $EMBER_DATA or the cache folder)")

    run = commands.add_parser("run", help="run a PyTorch program on ember",
                              description=RUN_DESCRIPTION)
    run.add_argument("--nproc", type=int, default=None, metavar="N",
                     help="run N processes of it under mpirun (torch.distributed programs)")
    run.add_argument("script", help="the program, e.g. train.py")
    run.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    return parser


def run_train(args: argparse.Namespace) -> int:
    if args.nproc is not None and args.nproc > 1 and not launch.in_mpi_job():
        try:  # start the job; each rank runs this command without --nproc
            return launch.launch(args.nproc, ["train", *_without_nproc(args.argv)])
        except RuntimeError as error:
            raise SetupError(str(error)) from error
    try:
        result = train(args)
    except Interrupted as interrupted:
        print(f"\ninterrupted: {interrupted}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\ninterrupted before training started; nothing was written", file=sys.stderr)
        return 130
    except DivergedError as error:
        print(f"ember train: error: {error}", file=sys.stderr)
        distributed_c10d.stop_other_ranks(DivergedError)  # in a job: they'd wait for this one
        return 1
    if result["outputs"]:
        print(f"outputs in {args.out}: {', '.join(result['outputs'])}")
    return 0


def _without_nproc(argv: list) -> list:
    """The command line ``argv`` of ``ember train`` without its ``--nproc N``."""
    kept, skip = [], False
    for item in argv[1:]:  # argv[0] is "train"
        if skip:
            skip = False
        elif item == "--nproc":
            skip = True
        elif not item.startswith("--nproc="):
            kept.append(item)
    return kept


def run_evaluate(args: argparse.Namespace) -> int:
    report = evaluate_checkpoint(args.checkpoint, args.data, args.device)
    print(f"test accuracy {100 * report['accuracy']:.2f}% (loss {report['loss']:.4f})")
    width = max(len(name) for name in report["per_class"])
    for name, accuracy in report["per_class"].items():
        print(f"  {name:<{width}}  {100 * accuracy:6.2f}%")
    return 0


def run_download(args: argparse.Namespace) -> int:
    cls = datasets.FashionMNIST if args.dataset == "fashion-mnist" else datasets.MNIST
    try:
        for train in (True, False):
            dataset = cls(root=args.root, train=train, download=True)
    except (RuntimeError, OSError) as error:  # OSError: a folder that cannot be written
        raise SetupError(str(error)) from error
    print(f"{args.dataset} is ready in {dataset.root}")
    return 0


def run_program(args: argparse.Namespace) -> int:
    if args.nproc is not None:
        try:
            return launch.launch(args.nproc, ["run", args.script, *args.args])
        except (ValueError, RuntimeError) as error:
            raise SetupError(str(error)) from error
    from .distributed.launch import rank_environment
    rank_environment()
    try:
        _run.run_script(args.script, args.args)
    except (FileNotFoundError, RuntimeError) as error:  # no such script; torch imported
        raise SetupError(str(error)) from error
    return 0


COMMANDS = {"train": run_train, "evaluate": run_evaluate, "download": run_download,
            "run": run_program}


def main(argv=None) -> int:
    """Run the ``ember`` command with ``argv`` (default: ``sys.argv[1:]``); the exit status.

    A run that cannot start (no data, no CUDA, no usable checkpoint, no writable output folder)
    prints why in one line, without a traceback, and returns 2, as argparse does for a bad
    option. A run whose loss diverges returns 1; one stopped by Ctrl-C, 130. ``ember run``
    exits as ``python SCRIPT`` does: the script's ``sys.exit`` status, 1 after an uncaught
    exception.
    """
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # as given: --nproc restarts it
    try:
        return COMMANDS[args.command](args)
    except SetupError as error:
        print(f"ember {args.command}: error: {error}", file=sys.stderr)
        return 2


def run() -> None:
    """The ``ember`` command's process (the console script and ``python -m ember``): a process
    of ember's own, so it raises glibc's malloc thresholds for its training steps, which a
    library import may not do (docs/performance.md; ``EMBER_MALLOC_TUNING=0`` refuses it)."""
    set_cpu_tuning(malloc=True)
    sys.exit(main())


if __name__ == "__main__":
    run()

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

import contextlib
import json
import math
import os
import pickle
import signal
import sys
import tempfile
import threading
import time
from argparse import Namespace

import numpy as np

import ember
from ember import distributed as dist
from ember import nn, optim
from ember.distributed.launch import rank_environment
from ember.nn.parallel import DistributedDataParallel
from ember.optim import lr_scheduler
from ember.serialization import _replace_atomically
from ember.utils.data import DataLoader, DistributedSampler, Subset
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
# The recipe's defaults; the learning rate's depends on the optimizer.
RECIPE_DEFAULTS = {"optimizer": "sgd", "momentum": 0.9, "batch_size": 64, "seed": 0,
                   "limit": None}
DEFAULT_LR = {"sgd": 0.05, "adam": 0.001}
# Above this, a learning rate only makes the weights diverge (the default SGD rate is 0.05).
MAX_LR = 10.0


def _is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# What each setting of the recipe may be, checked alike on the command line, in Python and in a
# checkpoint being resumed: (test, description). NaN fails every comparison, so it never passes.
RECIPE_CHECKS = {
    "optimizer": (lambda value: value in DEFAULT_LR, "sgd or adam"),
    "lr": (lambda value: _is_number(value) and 0 < value <= MAX_LR,
           f"a number above 0 and at most {MAX_LR:g}"),
    "momentum": (lambda value: _is_number(value) and 0 <= value < 1,
                 "a number at least 0 and below 1"),
    "batch_size": (lambda value: _is_integer(value) and value > 0, "a positive integer"),
    "seed": (lambda value: _is_integer(value) and 0 <= value < 2 ** 63,
             "an integer from 0 to 2**63 - 1"),
    "limit": (lambda value: value is None or (_is_integer(value) and value > 0),
              "a positive integer"),
}


class SetupError(RuntimeError):
    """A run cannot start: no data, no such device, no usable checkpoint, no writable output
    folder. The message says what to do.

    The command line prints it in one line, without a traceback, and exits with status 2.
    """


class DivergedError(RuntimeError):
    """The loss became NaN or infinite: the run stops before saving that epoch, so the last
    good checkpoint stays. The command line prints it without a traceback and exits with 1."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped :func:`train` once it had started training; the message says what the
    checkpoint holds."""


def load_data(root, train: bool, limit=None, download: bool = False):
    """Fashion-MNIST's training or test split, optionally only the first ``limit`` images;
    and the class names.

    Each 28x28 image becomes a 1x32x32 tensor (padded by 2 for the tutorial net), normalised
    with the dataset's mean and standard deviation. The DataLoader applies these transforms to
    a whole batch at once, so an epoch does not spend its time in per-image Python code.

    Raises:
        SetupError: the files are not found, cannot be read or are corrupt; the message lists
            the ways to get them.
    """
    transform = transforms.Compose([transforms.ToTensor(), transforms.Pad(2),
                                    transforms.Normalize((MEAN,), (STD,))])
    try:
        dataset = FashionMNIST(root=root, train=train, transform=transform, download=download)
    except OSError as error:  # a file that is there but cannot be read (or, downloading, written)
        raise SetupError(f"cannot read Fashion-MNIST: {error}") from error
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


def make_train_step(model, criterion, optimizer):
    """``train_step(images, labels) -> (loss, right)``: one step of ``ember train``, the
    function that ``ember.compile`` captures (``benchmarks/epoch_profile.py`` times the same).

    It returns tensors, the batch's mean loss and its number of right answers, which the loop
    reads after the step: a compiled step reads no values inside.
    """
    def train_step(images, labels):
        optimizer.zero_grad()
        output = model(images)
        loss = criterion(output, labels)
        loss.backward()
        optimizer.step()
        return loss, (output.argmax(1) == labels).sum()
    return train_step


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


def join_job() -> "tuple[int, int]":
    """This process's rank and the number of ranks: (0, 1) for a run of its own; in a job of
    ``ember train --nproc N`` (N processes started by mpirun), the rank after joining the job's
    process group."""
    rank_environment()  # RANK and WORLD_SIZE from mpirun's variables
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group("mpi")
    return dist.get_rank(), dist.get_world_size()


def _summed(values: list) -> list:
    """``values`` (numbers) added over the job's ranks; themselves in a run of one process."""
    if not dist.is_initialized():
        return values
    total = ember.tensor(values, dtype=ember.float64)
    dist.all_reduce(total)
    return total.tolist()


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
    """The checkpoint that :func:`train` wrote at ``path``, its tensors on ``device``.

    Raises:
        SetupError: there is no file, it cannot be loaded, or it lacks what :func:`train`
            writes.
    """
    if not os.path.isfile(path):
        raise SetupError(f"no checkpoint at {path}: train first, or pass the checkpoint's path")
    try:
        checkpoint = ember.load(path, map_location=str(device))
    except (RuntimeError, pickle.UnpicklingError, OSError) as error:  # what a bad file raises
        raise SetupError(f"cannot load the checkpoint {path}: {error}") from error
    expected = {"model", "optimizer", "epoch", "metrics", "classes", "args"}
    if not isinstance(checkpoint, dict) or not expected <= checkpoint.keys():
        missing = sorted(expected - checkpoint.keys()) if isinstance(checkpoint, dict) \
            else sorted(expected)
        raise SetupError(f"{path} is not a checkpoint written by ember train: it lacks "
                         f"{', '.join(missing)}")
    epoch, metrics = checkpoint["epoch"], checkpoint["metrics"]
    if not (_is_integer(epoch) and epoch >= 0 and isinstance(metrics, list)
            and len(metrics) == epoch and isinstance(checkpoint["args"], dict)):
        raise SetupError(f"{path} is damaged: its epoch count, metrics and settings do not "
                         f"fit together")
    return checkpoint


def _checked_recipe(settings: dict, where: str) -> dict:
    """The recipe's settings in ``settings``, each checked against ``RECIPE_CHECKS``.

    Raises:
        SetupError: a setting is missing or invalid; ``where`` says whose settings they are.
    """
    recipe = {}
    for key in RECIPE:
        valid, description = RECIPE_CHECKS[key]
        if key not in settings or not valid(settings[key]):
            found = repr(settings[key]) if key in settings else "missing"
            raise SetupError(f"{where}: {key} must be {description}, found {found}")
        recipe[key] = settings[key]
    return recipe


def _new_recipe(args: Namespace) -> Namespace:
    """``args`` with the recipe's defaults filled in where the caller left None."""
    settings = {key: getattr(args, key, None) for key in RECIPE}
    for key, default in RECIPE_DEFAULTS.items():
        if settings[key] is None:
            settings[key] = default
    if settings["lr"] is None:
        settings["lr"] = DEFAULT_LR.get(settings["optimizer"])
    recipe = _checked_recipe(settings, "ember train")
    return Namespace(**{**vars(args), **recipe})


def _continue_recipe(args: Namespace, checkpoint: dict, resume_from: str) -> Namespace:
    """``args`` with the recipe of the run being resumed: its optimizer, learning rate,
    momentum, batch size, seed and training images, so that it ends where an uninterrupted
    run would. Each setting given in ``args`` that differs is ignored, with a warning."""
    recipe = _checked_recipe(checkpoint["args"], resume_from)
    for key, value in recipe.items():
        given = getattr(args, key, None)
        if given is not None and given != value:
            print(f"warning: --{key.replace('_', '-')} {given} is ignored: resuming continues "
                  f"with the checkpoint's {value} (start a new run to change it)",
                  file=sys.stderr)
    described = ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in recipe.items())
    print(f"resuming {resume_from} after epoch {checkpoint['epoch']} with its recipe: "
          f"{described}")
    return Namespace(**{**vars(args), **recipe})


def _restore(model, optimizer, checkpoint: dict, path: str) -> None:
    """Load the checkpoint's model and optimizer states (``optimizer`` may be None).

    Raises:
        SetupError: the states do not fit the model or the optimizer.
    """
    try:
        model.load_state_dict(checkpoint["model"])
        if optimizer is not None:
            optimizer.load_state_dict(checkpoint["optimizer"])
    except (RuntimeError, ValueError, KeyError, TypeError) as error:
        problem = " ".join(str(error).split())  # load_state_dict's lists, on one line
        raise SetupError(f"cannot restore {path}: {problem}") from error


def _prepare_output_folder(out: str) -> None:
    """Make the output folder if needed and check that files can be written in it.

    Raises:
        SetupError: ``out`` is a file, or the folder cannot be made or written to.
    """
    if os.path.exists(out) and not os.path.isdir(out):
        raise SetupError(f"--out {out} is a file, not a folder")
    try:
        os.makedirs(out, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise SetupError(f"cannot write to the output folder {out}: "
                         f"{error.strerror or error}") from error


def _plots_available() -> bool:
    """Whether matplotlib can be imported; if not, says once that the plots are skipped."""
    try:
        _pyplot()
    except ImportError:
        print("matplotlib is not installed: curves.png and confusion.png are skipped "
              "(pip install matplotlib, or pip install 'ember[train]', to get them)")
        return False
    return True


@contextlib.contextmanager
def _interrupts_deferred():
    """Hold Ctrl-C (SIGINT) back while the block runs and deliver it after.

    The block writes an epoch's checkpoint and metrics and prints its line: with Ctrl-C held
    back, either all of that happens or (Ctrl-C before the block) none of it, so the message
    about what the checkpoint holds is true. Python runs signal handlers in the main thread
    only; elsewhere the block just runs.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield  # previous is None: a handler not set from Python, which we could not restore
        return
    received = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            signal.raise_signal(signal.SIGINT)  # handled as it would have been: by default,
            # KeyboardInterrupt


class _CtrlC:
    """Ctrl-C during training, remembered as well as raised.

    Python prints and drops an exception raised while it runs a finalizer or a weakref callback
    (matplotlib runs some while it draws), so a Ctrl-C landing there would be lost and the run
    would go on to its last epoch. While the block runs, SIGINT's handler also sets
    ``received``, and the loop calls ``check()`` after each step and after the plots. Only
    Python's default handler is replaced, and only in the main thread (signals go there)."""

    def __init__(self) -> None:
        self.received = False
        self.previous = None

    def __enter__(self) -> "_CtrlC":
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        self.received = True
        raise KeyboardInterrupt

    def check(self) -> None:
        """Raise KeyboardInterrupt if a Ctrl-C came (and was dropped where it landed)."""
        if self.received:
            raise KeyboardInterrupt

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _holds(path: str, epoch: "int | None") -> str:
    """What the checkpoint at ``path`` holds, for the messages that end a run early."""
    return "nothing was saved" if epoch is None else f"{path} holds epoch {epoch}"


def _diverged(what: str, lr: float, holds: str) -> DivergedError:
    """The error that stops a run whose loss is no longer finite: ``what`` says which loss."""
    return DivergedError(f"{what} (learning rate {lr:g}): the weights have diverged, so the run "
                         f"stops; {holds}. A smaller --lr may help.")


def epoch_record(epoch: int, epochs: int, lr: float, running_loss: float, correct: int,
                 seen: int, test_loss: float, test_accuracy: float, epoch_seconds: float,
                 started: float, echo: bool = True) -> dict:
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
    if echo:
        print(f"epoch {epoch}/{epochs}: train loss {record['train_loss']:.4f}, "
              f"test loss {test_loss:.4f}, test accuracy {100 * test_accuracy:.2f}%, "
              f"{record['images_per_second']:,.0f} images/s", flush=True)
    return record


def train(args: Namespace) -> dict:
    """Train LeNet on Fashion-MNIST as ``args`` says; write checkpoint, metrics and plots.

    ``args`` has: epochs, batch_size, lr, optimizer, momentum, seed, data, download, out,
    resume (None, True for ``out/checkpoint.pt``, or a path), limit, test_limit, device,
    progress, compile (run the training step through ``ember.compile``). A recipe setting
    (optimizer, lr, momentum, batch_size, seed, limit) left None takes its default, or when
    resuming the checkpoint's. After each epoch :func:`train` writes, under
    ``args.out``, ``checkpoint.pt`` (model and optimizer state, epoch, metrics) and
    ``metrics.json`` (Ctrl-C waits until both are written), then ``curves.png`` and
    ``confusion.png`` when matplotlib is installed.

    Returns:
        The metrics, ``{"classes": [...], "epochs": [one dict per epoch]}``, and the names of
        the files written, ``"outputs"``.

    Raises:
        SetupError: the data, the device, the output folder or the checkpoint to resume from
            cannot be used.
        DivergedError: the loss became NaN or infinite; that epoch is not saved.
        Interrupted: Ctrl-C, once training has started; the message says what is saved.
    """
    device = resolve_device(args.device)
    # In a job of N processes (ember train --nproc N) each rank trains on its share of every
    # epoch through DistributedDataParallel; rank 0 alone prints and writes.
    rank, ranks = join_job()
    leader = rank == 0
    checkpoint_path = os.path.join(args.out, CHECKPOINT)
    checkpoint, saved_epoch = None, None  # saved_epoch: the epoch checkpoint_path holds
    if args.resume:
        resume_from = args.resume if isinstance(args.resume, str) else checkpoint_path
        checkpoint = _load_checkpoint(resume_from, device)
        args = _continue_recipe(args, checkpoint, resume_from)
        if os.path.abspath(resume_from) == os.path.abspath(checkpoint_path):
            saved_epoch = checkpoint["epoch"]
    else:
        args = _new_recipe(args)
    if leader:
        _prepare_output_folder(args.out)
    train_set, classes = load_data(args.data, True, args.limit, args.download)
    test_set, _ = load_data(args.data, False, args.test_limit, args.download)

    ember.manual_seed(args.seed)
    model = LeNet(num_classes=len(classes)).to(device)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr, args.momentum)
    criterion = nn.CrossEntropyLoss()
    history, epochs_done = [], 0
    if checkpoint is not None:
        _restore(model, optimizer, checkpoint, resume_from)
        history, epochs_done = list(checkpoint["metrics"]), checkpoint["epoch"]
        if epochs_done >= args.epochs:
            if leader:
                print(f"nothing to do: the checkpoint has trained {epochs_done} epochs, "
                      f"--epochs asks for {args.epochs}")
            return {"classes": classes, "epochs": history, "outputs": []}
    scheduler = make_scheduler(optimizer, args.epochs, epochs_done)
    plots = _plots_available()
    outputs = [CHECKPOINT, "metrics.json"] + (["curves.png", "confusion.png"] if plots else [])

    # Captured at the first batch (and the last, smaller one), then replayed: the same numbers.
    # (DistributedDataParallel's hooks are Python a replay would skip: a job runs eagerly.)
    net = DistributedDataParallel(model) if ranks > 1 else model
    train_step = make_train_step(net, criterion, optimizer)
    step_once = ember.compile(train_step) if args.compile and ranks == 1 else train_step
    shuffle = ember.Generator()  # re-seeded at the start of each epoch
    sampler = None if ranks == 1 else DistributedSampler(train_set, ranks, rank,
                                                         seed=args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=sampler is None,
                              generator=shuffle, sampler=sampler)
    test_loader = DataLoader(test_set, batch_size=1000)
    started = time.perf_counter() - (history[-1]["wall_seconds"] if history else 0.0)

    try:
        with _CtrlC() as ctrl_c:
            for epoch in range(epochs_done + 1, args.epochs + 1):
                shuffle.manual_seed(shuffle_seed(args.seed, epoch))
                if sampler is not None:
                    sampler.set_epoch(epoch)
                lr = optimizer.param_groups[0]["lr"]
                bar = _progress(len(train_loader.sampler), f"epoch {epoch}/{args.epochs}",
                                args.progress and leader)
                epoch_start = time.perf_counter()
                running_loss, correct, seen = 0.0, 0, 0
                for step, (images, labels) in enumerate(train_loader, start=1):
                    images, labels = images.to(device), labels.to(device)
                    loss, right = step_once(images, labels)
                    ctrl_c.check()
                    batch_loss = loss.item()
                    if not math.isfinite(batch_loss):  # this epoch's weights are thrown away
                        raise _diverged(f"epoch {epoch}: the training loss is {batch_loss} at step "
                                        f"{step}", lr, _holds(checkpoint_path, saved_epoch))
                    batch = len(labels)
                    running_loss += batch_loss * batch
                    correct += int(right.item())
                    seen += batch
                    if bar is not None:
                        bar.update(batch)
                        bar.set_postfix(loss=f"{running_loss / seen:.4f}", refresh=False)
                running_loss, correct, seen = _summed([running_loss, correct, seen])  # all ranks'
                correct, seen = int(correct), int(seen)
                epoch_seconds = time.perf_counter() - epoch_start
                if bar is not None:
                    bar.close()
                scheduler.step()
                test_loss, test_accuracy, confusion = evaluate(model, test_loader, len(classes),
                                                               device)
                if not math.isfinite(test_loss):
                    raise _diverged(f"epoch {epoch}: the test loss is {test_loss}", lr,
                                    _holds(checkpoint_path, saved_epoch))
                with _interrupts_deferred():
                    history.append(epoch_record(epoch, args.epochs, lr, running_loss, correct, seen,
                                                test_loss, test_accuracy, epoch_seconds, started,
                                                echo=leader))
                    if leader:
                        _save_checkpoint_and_metrics(args, model, optimizer, history, classes,
                                                     confusion)
                    saved_epoch = epoch
                if plots and leader:
                    plot_curves(history, os.path.join(args.out, "curves.png"))
                    plot_confusion(confusion, classes, os.path.join(args.out, "confusion.png"))
                ctrl_c.check()  # a Ctrl-C that landed in matplotlib's callbacks was dropped
    except KeyboardInterrupt:
        resume = "; continue with --resume" if saved_epoch is not None else ""
        raise Interrupted(f"{_holds(checkpoint_path, saved_epoch)}{resume}") from None
    return {"classes": classes, "epochs": history, "outputs": outputs if leader else []}


def _save_checkpoint_and_metrics(args: Namespace, model, optimizer, history: list,
                                 classes: list, confusion: np.ndarray) -> None:
    """The checkpoint and metrics.json, rewritten after every epoch, each atomically."""
    settings = {key: value for key, value in vars(args).items()
                if isinstance(value, (int, float, str, bool, type(None)))}
    ember.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "epoch": history[-1]["epoch"], "metrics": history, "classes": classes,
                "args": settings},
               os.path.join(args.out, CHECKPOINT))
    metrics = {"classes": classes, "settings": settings, "epochs": history,
               "confusion_matrix": confusion.tolist()}
    _write_json(os.path.join(args.out, "metrics.json"), metrics)


def _write_json(path: str, obj) -> None:
    """Write ``obj`` as JSON atomically (temporary file, then rename)."""
    text = json.dumps(obj, indent=2)
    _replace_atomically(path, lambda file: file.write(text.encode()))


def _save_figure(figure, path: str) -> None:
    """Save ``figure`` as a PNG atomically: a stopped run never leaves half an image."""
    _replace_atomically(path, lambda file: figure.savefig(file, format="png", dpi=100))


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
    _save_figure(figure, path)
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
    _save_figure(figure, path)
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
    _restore(model, None, checkpoint, path)
    model.to(device)
    loss, accuracy, confusion = evaluate(model, DataLoader(test_set, batch_size=1000),
                                         len(classes), device)
    per_class = (np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)).tolist()
    return {"loss": loss, "accuracy": accuracy,
            "per_class": dict(zip(classes, per_class))}

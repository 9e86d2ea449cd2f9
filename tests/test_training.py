"""``ember train`` and ``ember evaluate`` on slices of the real Fashion-MNIST: the outputs, exact
resumption, checkpoints that PyTorch loads, and clear errors for bad input.

The runs go through ``ember.cli.main`` in this process, to save the interpreter's start; one test
runs ``python -m ember`` in a subprocess, as a user would.
"""

import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from nets import tutorial_net

import ember
from ember import _backend, training
from ember.cli import main
from ember.training import load_data
from ember.utils.data import DataLoader
from ember.vision import datasets
from ember.vision.datasets import FashionMNIST
from ember.vision.models import LeNet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OUTPUTS = ["checkpoint.pt", "metrics.json", "curves.png", "confusion.png"]
EPOCH_FIELDS = {"epoch", "lr", "train_loss", "train_accuracy", "test_loss", "test_accuracy",
                "images_per_second", "epoch_seconds", "wall_seconds"}


def find_data() -> "str | None":
    """The folder holding Fashion-MNIST where ember looks by default, or None."""
    try:
        return FashionMNIST(train=False).root
    except RuntimeError:
        return None


DATA = find_data()
needs_data = pytest.mark.skipif(
    DATA is None, reason="Fashion-MNIST not found: sudo apt-get install dataset-fashion-mnist, "
    "or set EMBER_DATA to a folder with its files")


def train(out, *options: str) -> None:
    """``ember train`` on slices of the data, without a progress bar; it must succeed."""
    assert main(["train", "--data", DATA, "--no-progress", "--out", str(out), *options]) == 0


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The output folder of a 2-epoch run on 3000 training and 1000 test images."""
    out = tmp_path_factory.mktemp("run")
    train(out, "--epochs", "2", "--limit", "3000", "--test-limit", "1000")
    return out


def assert_identical(a, b, where: str = "state") -> None:
    """``a`` and ``b`` (nested dicts and lists of tensors and numbers) are equal bit for bit."""
    if isinstance(a, ember.Tensor):
        assert isinstance(b, ember.Tensor), where
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert a.numpy().tobytes() == b.numpy().tobytes(), f"{where} differs"
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_identical(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for index, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f"{where}[{index}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


@needs_data
def test_train_learns_and_writes_its_outputs(trained):
    for name in OUTPUTS:
        assert (trained / name).is_file(), name
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["classes"] == FashionMNIST.classes
    epochs = metrics["epochs"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    for epoch in epochs:
        assert EPOCH_FIELDS <= epoch.keys()
        assert epoch["images_per_second"] > 0 and epoch["wall_seconds"] > 0
    assert epochs[1]["train_loss"] < epochs[0]["train_loss"]
    assert epochs[1]["test_accuracy"] > 0.5  # chance is 0.1
    confusion = np.array(metrics["confusion_matrix"])
    assert confusion.shape == (10, 10) and confusion.sum() == 1000
    assert np.trace(confusion) == round(1000 * epochs[1]["test_accuracy"])
    for name in ["curves.png", "confusion.png"]:
        content = (trained / name).read_bytes()
        assert content.startswith(PNG_SIGNATURE), name
        assert len(content) > 10_000, name  # axes, lines and labels, not a blank image


def loop_written_out(seed: int, limit: int, epochs: int):
    """The default recipe as a user writes it, eagerly, without ``ember train``: the model's
    state and the per-epoch (mean training loss, right answers) it reaches."""
    train_set, _ = load_data(DATA, True, limit)
    ember.manual_seed(seed)
    model = LeNet()
    optimizer = ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = ember.optim.lr_scheduler.LambdaLR(
        optimizer, lambda epoch: (1 + math.cos(math.pi * epoch / epochs)) / 2)
    criterion = ember.nn.CrossEntropyLoss()
    shuffle = ember.Generator()
    loader = DataLoader(train_set, batch_size=64, shuffle=True, generator=shuffle)
    results = []
    for epoch in range(1, epochs + 1):
        shuffle.manual_seed(training.shuffle_seed(seed, epoch))
        total, right = 0.0, 0
        for images, labels in loader:
            optimizer.zero_grad()
            output = model(images)
            loss = criterion(output, labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
            right += int((output.argmax(1) == labels).sum().item())
        scheduler.step()
        results.append((total / limit, right))
    return model.state_dict(), results


@needs_data
@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "eager"])
def test_train_reaches_the_weights_of_the_loop_written_out(tmp_path, compiled):
    # 200 images: three batches of 64 and a last one of 8, which ember.compile captures apart.
    train(tmp_path, "--epochs", "2", "--limit", "200", "--test-limit", "100", "--seed", "3",
          *([] if compiled else ["--no-compile"]))
    checkpoint = ember.load(tmp_path / "checkpoint.pt")
    weights, results = loop_written_out(seed=3, limit=200, epochs=2)
    assert_identical(checkpoint["model"], weights, "model")
    for (loss, right), metrics in zip(results, checkpoint["metrics"]):
        assert metrics["train_loss"] == loss
        assert metrics["train_accuracy"] == right / 200


@needs_data
def test_python_dash_m_ember_trains_with_a_progress_bar(tmp_path):
    command = [sys.executable, "-m", "ember", "train", "--data", DATA, "--epochs", "1",
               "--limit", "256", "--test-limit", "100", "--out", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "img/s" in result.stderr  # tqdm's bar counts images
    assert "epoch 1/1" in result.stdout and "test accuracy" in result.stdout
    assert (tmp_path / "checkpoint.pt").is_file()


@needs_data
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_resume_reaches_exactly_the_weights_of_an_uninterrupted_run(tmp_path, optimizer,
                                                                    capsys):
    recipe = ["--optimizer", optimizer, "--limit", "640", "--test-limit", "100"]
    train(tmp_path / "straight", *recipe, "--epochs", "2")
    train(tmp_path / "resumed", *recipe, "--epochs", "1")
    capsys.readouterr()
    # Resuming continues with the checkpoint's recipe, whatever the command line says; each
    # setting given that differs from the checkpoint's is named in a warning.
    train(tmp_path / "resumed", "--test-limit", "100", "--epochs", "2", "--resume",
          "--lr", "0.5", "--seed", "0", "--batch-size", "32")
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    rate = 0.05 if optimizer == "sgd" else 0.001
    assert warnings == [
        f"warning: --lr 0.5 is ignored: resuming continues with the checkpoint's {rate} "
        f"(start a new run to change it)",
        "warning: --batch-size 32 is ignored: resuming continues with the checkpoint's 64 "
        "(start a new run to change it)"]

    straight = ember.load(tmp_path / "straight" / "checkpoint.pt")
    resumed = ember.load(tmp_path / "resumed" / "checkpoint.pt")
    assert resumed["epoch"] == straight["epoch"] == 2
    assert_identical(resumed["model"], straight["model"], "model")
    assert_identical(resumed["optimizer"], straight["optimizer"], "optimizer")
    for key in ["lr", "train_loss", "test_loss", "test_accuracy"]:
        assert [e[key] for e in resumed["metrics"]] == [e[key] for e in straight["metrics"]]
    # The cosine schedule over 2 epochs halves the rate in the second.
    first, second = (e["lr"] for e in straight["metrics"])
    assert second == pytest.approx(first / 2)


@needs_data
def test_checkpoint_loads_in_torch_and_gives_the_same_predictions(trained):
    path = trained / "checkpoint.pt"
    checkpoint = torch.load(path, weights_only=True)
    torch_model = tutorial_net(torch, flatten=True).eval()  # ember's LeNet, same names
    torch_model.load_state_dict(checkpoint["model"])
    model = LeNet().eval()
    model.load_state_dict(ember.load(path)["model"])

    test_set, _ = load_data(DATA, train=False, limit=64)
    images, _ = next(iter(DataLoader(test_set, batch_size=64)))
    with ember.no_grad(), torch.no_grad():
        expected = torch_model(torch.from_numpy(images.numpy())).numpy()
        actual = model(images).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)

    # The optimizer's state is PyTorch's too: a torch SGD takes it and carries on.
    sgd = torch.optim.SGD(torch_model.parameters(), lr=0.05, momentum=0.9)
    sgd.load_state_dict(checkpoint["optimizer"])
    assert len(sgd.state) == len(list(torch_model.parameters()))


@needs_data
def test_evaluate_reports_accuracy_for_every_class(trained, capsys):
    assert main(["evaluate", str(trained / "checkpoint.pt"), "--data", DATA]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("test accuracy ")
    for name in FashionMNIST.classes:
        matching = [line for line in lines if line.strip().startswith(name)]
        assert len(matching) == 1 and matching[0].endswith("%"), name


def test_missing_data_says_how_to_get_it(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "FashionMNIST dataset not found" in error
    for way in ["apt-get install dataset-fashion-mnist", "EMBER_DATA", "--data", "--download"]:
        assert way in error
    assert "Traceback" not in error


def test_unknown_optimizer_is_rejected(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--optimizer", "rmsprop"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'rmsprop'" in capsys.readouterr().err


@pytest.mark.skipif(_backend.cuda_available(), reason="CUDA is available here")
def test_cuda_without_a_gpu_is_a_clear_error(tmp_path, capsys):
    assert main(["train", "--device", "cuda", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "cannot use device 'cuda'" in error and "CUDA is not available" in error
    assert "Traceback" not in error


def test_evaluate_without_a_checkpoint_is_a_clear_error(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "missing.pt")]) == 2
    assert "no checkpoint at" in capsys.readouterr().err


def test_train_help_explains_the_recipe(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    for phrase in ["SGD", "momentum 0.9", "cosine", "--resume", "metrics.json", "images/s"]:
        assert phrase in help_text


# ---- bad values, unusable inputs: one line and status 2 ---------------------------------------

@pytest.mark.parametrize("option, value", [
    ("--lr", "inf"), ("--lr", "1e6"), ("--lr", "nan"), ("--lr", "0"), ("--lr", "-0.1"),
    ("--momentum", "nan"), ("--momentum", "-5"), ("--momentum", "1"), ("--momentum", "inf"),
    ("--seed", "-1"), ("--seed", str(2 ** 63)), ("--batch-size", "0"), ("--limit", "-3"),
    ("--epochs", "0"), ("--test-limit", "0")])
def test_bad_values_are_refused_before_anything_runs(tmp_path, capsys, option, value):
    with pytest.raises(SystemExit) as exit_info:  # (no data in tmp_path: nothing to train on)
        main(["train", option, value, "--data", str(tmp_path), "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert f"argument {option}: must be " in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def assert_setup_error(capsys, argv, *phrases) -> None:
    """``ember`` with ``argv`` fails with status 2 and one line that holds each phrase."""
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(f"ember {argv[0]}: error: "), error
    for phrase in phrases:
        assert phrase in error


def damaged_checkpoints(good, folder):
    """{name: path} of checkpoints that ember train cannot resume from, made from ``good``."""
    paths = {name: folder / f"{name}.pt" for name in
             ["garbage", "truncated", "not_a_dict", "missing_keys", "other_model",
              "other_optimizer", "bad_recipe", "bad_epoch"]}
    paths["garbage"].write_text("not a checkpoint")
    paths["truncated"].write_bytes(good.read_bytes()[:3000])
    ember.save([1, 2, 3], paths["not_a_dict"])
    ember.save({"model": {}, "epoch": 1}, paths["missing_keys"])
    changes = {"other_model": lambda c: c["model"].pop("fc3.bias"),
               "other_optimizer": lambda c: c["optimizer"]["param_groups"].append(
                   dict(c["optimizer"]["param_groups"][0])),
               "bad_recipe": lambda c: c["args"].update(lr=float("nan")),
               "bad_epoch": lambda c: c.update(epoch=7)}
    for name, change in changes.items():
        checkpoint = ember.load(good)
        change(checkpoint)
        ember.save(checkpoint, paths[name])
    return paths


@needs_data
def test_an_unusable_checkpoint_is_one_clear_line(trained, tmp_path, capsys):
    paths = damaged_checkpoints(trained / "checkpoint.pt", tmp_path)
    reasons = {"garbage": "cannot load the checkpoint", "truncated": "cannot load the checkpoint",
               "not_a_dict": "is not a checkpoint written by ember train",
               "missing_keys": "it lacks args, classes, metrics, optimizer",
               "other_model": 'Missing key(s) in state_dict: "fc3.bias"',
               "other_optimizer": "cannot restore", "bad_recipe": "lr must be a number above 0",
               "bad_epoch": "is damaged"}
    for name, path in paths.items():
        assert_setup_error(capsys, ["train", "--data", DATA, "--no-progress", "--epochs", "9",
                                    "--out", str(tmp_path / name), "--resume", str(path)],
                           str(path), reasons[name])
        assert not (tmp_path / name / "checkpoint.pt").exists()
    for name in ["garbage", "truncated", "not_a_dict", "missing_keys", "other_model"]:
        assert_setup_error(capsys, ["evaluate", str(paths[name]), "--data", DATA],
                           str(paths[name]), reasons[name])


def test_an_output_folder_that_cannot_be_written_is_one_clear_line(tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert_setup_error(capsys, ["train", "--out", str(a_file)], f"--out {a_file} is a file")
    assert_setup_error(capsys, ["train", "--out", str(a_file / "inside")],
                       f"cannot write to the output folder {a_file / 'inside'}")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in a read-only folder")
def test_a_read_only_output_folder_is_one_clear_line(tmp_path, capsys):
    read_only = tmp_path / "read-only"
    read_only.mkdir(mode=0o500)
    assert_setup_error(capsys, ["train", "--out", str(read_only)],
                       f"cannot write to the output folder {read_only}: Permission denied")


@needs_data
def test_an_unreadable_data_file_is_one_clear_line(tmp_path, monkeypatch, capsys):
    def unreadable(path, expected_magic=None):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(datasets, "read_idx", unreadable)
    assert_setup_error(capsys, ["train", "--data", DATA, "--out", str(tmp_path)],
                       "Permission denied", "-images-idx3-ubyte")
    assert_setup_error(capsys, ["evaluate", str(tmp_path / "x.pt"), "--data", DATA],
                       "no checkpoint at")


# ---- nothing lost: no matplotlib, a diverging loss, Ctrl-C ---------------------------------

@needs_data
def test_training_without_matplotlib_saves_everything_but_the_plots(tmp_path, monkeypatch,
                                                                   capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    train(tmp_path, "--epochs", "2", "--limit", "128", "--test-limit", "100")
    output = capsys.readouterr().out
    assert output.count("matplotlib is not installed") == 1
    assert "pip install matplotlib" in output
    assert f"outputs in {tmp_path}: checkpoint.pt, metrics.json\n" in output
    assert ember.load(tmp_path / "checkpoint.pt")["epoch"] == 2
    assert len(json.loads((tmp_path / "metrics.json").read_text())["epochs"]) == 2
    assert not (tmp_path / "curves.png").exists() and not (tmp_path / "confusion.png").exists()


def exploding_lenet(mode: str):
    """LeNet whose outputs are NaN in ``mode`` ("train" or "eval"): a diverged network."""
    class Exploding(LeNet):
        def forward(self, x):
            output = super().forward(x)
            return output * float("nan") if self.training == (mode == "train") else output
    return Exploding


@needs_data
@pytest.mark.parametrize("mode, loss", [("train", "training loss is nan at step 1"),
                                        ("eval", "test loss is nan")])
def test_a_diverging_run_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch,
                                                                  capsys, mode, loss):
    train(tmp_path, "--epochs", "1", "--limit", "128", "--test-limit", "100")
    saved = {name: (tmp_path / name).read_bytes() for name in OUTPUTS}
    capsys.readouterr()
    monkeypatch.setattr(training, "LeNet", exploding_lenet(mode))
    argv = ["train", "--data", DATA, "--no-progress", "--out", str(tmp_path), "--epochs", "3",
            "--test-limit", "100"]
    assert main([*argv, "--resume"]) == 1
    error = capsys.readouterr().err
    assert f"ember train: error: epoch 2: the {loss}" in error and "diverged" in error
    assert f"{tmp_path / 'checkpoint.pt'} holds epoch 1" in error and "Traceback" not in error
    assert {name: (tmp_path / name).read_bytes() for name in OUTPUTS} == saved

    fresh = tmp_path / "fresh"
    assert main([*argv[:5], str(fresh), "--limit", "128", "--test-limit", "100"]) == 1
    assert "epoch 1: the" in capsys.readouterr().err
    assert os.listdir(fresh) == []  # nothing saved, nothing half-written


# A run whose os.replace sends Ctrl-C to its own process just before it renames the second
# epoch's TARGET (checkpoint.pt or metrics.json) into place: an interrupt in the middle of
# saving, at a moment a test can choose.
INTERRUPTED_WHILE_SAVING = """
import os
import signal
import sys

from ember.cli import main

target, argv = sys.argv[1], sys.argv[2:]
replace, calls = os.replace, []


def replace_after_ctrl_c(source, destination):
    if os.path.basename(destination) == target:
        calls.append(destination)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)
    replace(source, destination)


os.replace = replace_after_ctrl_c
sys.exit(main(argv))
"""


def assert_interrupted_consistently(out, result_code: int, stdout: str, stderr: str) -> int:
    """The run exited as Ctrl-C says, and its message, its last printed epoch, the checkpoint
    and metrics.json agree on the epoch saved; returns that epoch."""
    assert result_code == 130, stderr
    printed = [line for line in stdout.splitlines() if line.startswith("epoch ")]
    epoch = int(printed[-1].split()[1].split("/")[0])
    assert f"interrupted: {out / 'checkpoint.pt'} holds epoch {epoch}; continue with --resume" \
        in stderr
    assert ember.load(out / "checkpoint.pt")["epoch"] == epoch
    metrics = json.loads((out / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == list(range(1, epoch + 1))
    assert not [name for name in os.listdir(out) if name.endswith(".tmp")]
    return epoch


@needs_data
@pytest.mark.parametrize("target", ["checkpoint.pt", "metrics.json"])
def test_ctrl_c_while_saving_finishes_the_save_first(tmp_path, target):
    argv = ["train", "--data", DATA, "--no-progress", "--epochs", "3", "--limit", "64",
            "--test-limit", "50", "--out", str(tmp_path)]
    result = subprocess.run([sys.executable, "-c", INTERRUPTED_WHILE_SAVING, target, *argv],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    epoch = assert_interrupted_consistently(tmp_path, result.returncode, result.stdout,
                                            result.stderr)
    assert epoch == 2


INTERRUPTED_IN_A_CALLBACK = """
import signal
import sys
import weakref

from ember import training
from ember.cli import main

plot_curves, calls = training.plot_curves, []


class Drawn:
    pass


def plot_with_a_dropped_ctrl_c(history, path):
    # As when Ctrl-C lands in one of matplotlib's weakref callbacks: the KeyboardInterrupt is
    # raised inside the callback, where Python prints it and goes on.
    calls.append(path)
    if len(calls) == 1:
        drawn = Drawn()
        weakref.finalize(drawn, signal.raise_signal, signal.SIGINT)
        del drawn
    plot_curves(history, path)


training.plot_curves = plot_with_a_dropped_ctrl_c
sys.exit(main(sys.argv[1:]))
"""


@needs_data
def test_ctrl_c_dropped_in_a_callback_still_stops_the_run(tmp_path):
    argv = ["train", "--data", DATA, "--no-progress", "--epochs", "3", "--limit", "64",
            "--test-limit", "50", "--out", str(tmp_path)]
    result = subprocess.run([sys.executable, "-c", INTERRUPTED_IN_A_CALLBACK, *argv],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert "KeyboardInterrupt" in result.stderr  # Python's "Exception ignored in" report
    epoch = assert_interrupted_consistently(tmp_path, result.returncode, result.stdout,
                                            result.stderr)
    assert epoch == 1  # stopped after the epoch whose plots it landed in, not after all 3


@needs_data
def test_ctrl_c_at_any_moment_leaves_what_the_message_says(tmp_path):
    for delay in [0.0, 0.05, 0.2]:
        out = tmp_path / f"after-{delay}"
        command = [sys.executable, "-m", "ember", "train", "--data", DATA, "--no-progress",
                   "--epochs", "50", "--limit", "64", "--test-limit", "50", "--out", str(out)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, cwd=ROOT)
        first = process.stdout.readline()
        assert first.startswith("epoch 1/50"), first + process.stderr.read()
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
        assert_interrupted_consistently(out, process.returncode, first + stdout, stderr)


def test_a_save_stopped_by_ctrl_c_leaves_no_temporary_file(tmp_path):
    """Ctrl-C while a figure or metrics.json is written leaves the old file and no .tmp."""
    from ember import training

    class Figure:
        def savefig(self, file, **kwargs):
            file.write(b"half an image")
            raise KeyboardInterrupt

    target = tmp_path / "curves.png"
    target.write_bytes(b"the previous epoch's image")
    with pytest.raises(KeyboardInterrupt):
        training._save_figure(Figure(), str(target))
    assert os.listdir(tmp_path) == ["curves.png"]
    assert target.read_bytes() == b"the previous epoch's image"
    with pytest.raises(TypeError):
        training._write_json(str(tmp_path / "metrics.json"), {"not json": object()})
    assert os.listdir(tmp_path) == ["curves.png"]

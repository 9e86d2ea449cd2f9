"""``ember train`` and ``ember evaluate`` on slices of the real Fashion-MNIST: the outputs, exact
resumption, checkpoints that PyTorch loads, and clear errors for bad input.

The runs go through ``ember.cli.main`` in this process, to save the interpreter's start; one test
runs ``python -m ember`` in a subprocess, as a user would.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from nets import tutorial_net

import ember
from ember import _backend
from ember.cli import main
from ember.training import load_data
from ember.utils.data import DataLoader
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
def test_resume_reaches_exactly_the_weights_of_an_uninterrupted_run(tmp_path, optimizer):
    recipe = ["--optimizer", optimizer, "--limit", "640", "--test-limit", "100"]
    train(tmp_path / "straight", *recipe, "--epochs", "2")
    train(tmp_path / "resumed", *recipe, "--epochs", "1")
    # Resuming continues with the checkpoint's recipe, whatever the command line says.
    train(tmp_path / "resumed", "--test-limit", "100", "--epochs", "2", "--resume",
          "--lr", "0.5")

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

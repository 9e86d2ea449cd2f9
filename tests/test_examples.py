"""ember's larger example programs print on ember what they print on PyTorch.

The sequence models (char_lstm, tiny_gpt, seq2seq_gru) run as test_beginner_examples runs the
beginner programs: in this process, on ember and then with their imports turned into torch
imports, drawing their initial weights, batches and samples from one seeded NumPy generator, and
with a few steps so that the test stays quick. Their printed lines must match (the sampled text
exactly). A script run then checks that each also runs on ember's own random numbers.

image_classifier is a plain PyTorch program for ``ember run``. It runs twice: in a fresh process
under ``python -m ember run``, and in this process on real PyTorch, where a small stand-in for
torchvision (which the test environment lacks) reads the same IDX files. Both draw their own
random numbers, so their lines agree in form, not in value; the numbers are checked instead by
loading the weights ember saved into PyTorch, which must score the test images as ember said.
"""

import contextlib
import importlib.util
import io
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from test_beginner_examples import (
    EXAMPLES,
    NUMBER,
    assert_same_line,
    one_torch_thread,
    run_example,
)

import ember

ROOT = os.path.dirname(EXAMPLES)

# Arguments that keep each run to a few seconds, and the tolerances (rtol, atol) of its numbers.
SEQUENCE_EXAMPLES = {
    "char_lstm": (["--steps", "4", "--hidden", "32", "--batch-size", "4", "--window", "16",
                   "--sample-length", "60"], (1e-4, 1e-5)),
    "tiny_gpt": (["--steps", "4", "--width", "32", "--layers", "2", "--context", "16",
                  "--batch-size", "4", "--sample-length", "60"], (1e-4, 1e-5)),
    "seq2seq_gru": (["--steps", "6", "--hidden", "32", "--batch-size", "16",
                     "--test-size", "20"], (1e-4, 1e-5)),
}


@pytest.mark.parametrize("name", list(SEQUENCE_EXAMPLES))
def test_sequence_example_prints_what_pytorch_prints(name, monkeypatch):
    argv, (rtol, atol) = SEQUENCE_EXAMPLES[name]
    ours = run_example(name, ember, monkeypatch, argv).splitlines()
    theirs = run_example(name, torch, monkeypatch, argv).replace("torch.", "ember.").splitlines()
    assert any("loss" in line for line in ours), ours
    assert len(ours) == len(theirs), "\n".join(ours + ["---- torch ----"] + theirs)
    for mine, reference in zip(ours, theirs):
        assert_same_line(mine, reference, rtol, atol)


@pytest.mark.parametrize("name", list(SEQUENCE_EXAMPLES))
def test_sequence_example_runs_as_a_script(name):
    """On ember's own random numbers (multinomial included), as ``python examples/NAME.py``."""
    argv, _ = SEQUENCE_EXAMPLES[name]
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES, f"{name}.py"), *argv],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stderr
    assert "loss" in result.stdout


def test_sampled_text_continues_the_prompt(monkeypatch):
    """char_lstm ends with its prompt and --sample-length characters of the text's alphabet."""
    output = run_example("char_lstm", ember, monkeypatch, SEQUENCE_EXAMPLES["char_lstm"][0])
    namespace = {}
    with open(os.path.join(EXAMPLES, "char_lstm.py")) as file:
        exec(compile(file.read(), "char_lstm.py", "exec"), namespace)
    last_step = [line for line in output.splitlines() if line.startswith("step")][-1]
    sample = output.split(last_step + "\n")[1][:-1]  # the sample may hold newlines itself
    assert sample.startswith("The keeper ") and len(sample) == len("The keeper ") + 60, sample
    assert set(sample) <= set(namespace["TEXT"])


# ---- image_classifier: ember run against PyTorch ----------------------------------------------

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]

# The parts of torchvision the program uses, for the PyTorch run: FashionMNIST reads
# root/FashionMNIST/raw as torchvision lays it out, ToTensor scales to [0, 1].
TORCHVISION_STAND_IN = {
    "__init__.py": "from . import datasets, transforms\n",
    "transforms.py": """
        import torch

        class ToTensor:
            def __call__(self, image):
                return torch.tensor(image).float().div(255).unsqueeze(0)
    """,
    "datasets.py": f"""
        import os
        import numpy as np
        import torch

        def read_idx(path):
            with open(path, "rb") as file:
                raw = file.read()
            ndim = raw[3]
            shape = np.frombuffer(raw, ">u4", ndim, 4)
            return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)

        class FashionMNIST(torch.utils.data.Dataset):
            classes = {CLASSES!r}

            def __init__(self, root, train=True, download=False, transform=None):
                prefix = os.path.join(root, "FashionMNIST", "raw",
                                      "train" if train else "t10k")
                self.data = read_idx(prefix + "-images-idx3-ubyte")
                self.targets = read_idx(prefix + "-labels-idx1-ubyte").astype(np.int64)
                self.transform = transform

            def __len__(self):
                return len(self.data)

            def __getitem__(self, index):
                return self.transform(self.data[index]), int(self.targets[index])
    """,
}


def write_idx(path, array):
    """``array`` (uint8) as an IDX file."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    with open(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


def tiny_fashion_mnist(root, rng):
    """A learnable stand-in: class k is a bright 7x7 patch in place k of a 4x4 grid, on noise."""
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, count in [("train", 640), ("t10k", 128)]:
        labels = rng.integers(0, 10, count)
        images = rng.integers(0, 90, (count, 28, 28))
        for image, label in zip(images, labels):
            row, column = divmod(int(label), 4)
            image[7 * row:7 * row + 7, 7 * column:7 * column + 7] += 160
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)


def test_image_classifier_runs_on_ember_as_on_pytorch(tmp_path, rng, monkeypatch):
    tiny_fashion_mnist(tmp_path / "data", rng)
    stand_in = tmp_path / "stand_in" / "torchvision"
    stand_in.mkdir(parents=True)
    for filename, source in TORCHVISION_STAND_IN.items():
        (stand_in / filename).write_text(textwrap.dedent(source))
    script = os.path.join(EXAMPLES, "image_classifier.py")
    arguments = ["--data", str(tmp_path / "data"), "--limit", "640", "--epochs", "2"]

    result = subprocess.run([sys.executable, "-m", "ember", "run", script, *arguments,
                             "--out", str(tmp_path / "ember.pt")], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stderr
    ours = result.stdout.splitlines()

    # On PyTorch: the program's module, imported beside the stand-in, then its main().
    monkeypatch.syspath_prepend(str(tmp_path / "stand_in"))
    for module in [module for module in sys.modules if module.split(".")[0] == "torchvision"]:
        monkeypatch.delitem(sys.modules, module)
    spec = importlib.util.spec_from_file_location("image_classifier", script)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    assert program.torch is torch
    monkeypatch.setattr(sys, "argv", [script, *arguments, "--out", str(tmp_path / "torch.pt")])
    out = io.StringIO()
    with contextlib.redirect_stdout(out), one_torch_thread():
        program.main()
    theirs = out.getvalue().splitlines()

    # The same lines, apart from the numbers, the output file and the predicted classes.
    assert len(ours) == len(theirs), "\n".join(ours + ["---- torch ----"] + theirs)
    for mine, reference in zip(ours, theirs):
        if mine.startswith("predicted"):
            guess, actual = re.fullmatch(r"predicted '(.+)', actual '(.+)'", mine).groups()
            assert guess in CLASSES and reference.endswith(f"actual '{actual}'")
        elif not mine.startswith("Saved"):
            assert NUMBER.sub("#", mine) == NUMBER.sub("#", reference)
    epochs = [line for line in ours if line.startswith("epoch")]
    assert len(epochs) == 2
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", epochs[-1]).group(1))
    test_loss = float(re.search(r"test loss ([\d.]+)", epochs[-1]).group(1))
    assert accuracy > 80, epochs  # chance is 10%: ember learned the patches

    # ember's saved weights, in PyTorch's own model, score the test images as ember printed.
    test_data = program.datasets.FashionMNIST(str(tmp_path / "data"), train=False,
                                              transform=program.transforms.ToTensor())
    model = program.SmallCNN()
    model.load_state_dict(torch.load(tmp_path / "ember.pt", weights_only=True))
    loader = torch.utils.data.DataLoader(test_data, batch_size=256)
    loss, correct = program.evaluate(model, loader, torch.nn.CrossEntropyLoss(), "cpu")
    assert f"{100 * correct:.1f}" == f"{accuracy:.1f}"
    assert abs(loss - test_loss) < 1e-3


def test_examples_import_what_they_run_on():
    """The sequence models import ember as torch; image_classifier is plain PyTorch."""
    for name in [*SEQUENCE_EXAMPLES, "image_classifier"]:
        with open(os.path.join(EXAMPLES, f"{name}.py")) as file:
            source = file.read()
        plain = name == "image_classifier"
        assert bool(re.search(r"^import torch$", source, flags=re.M)) == plain, name
        assert bool(re.search(r"^(import|from) ember\b", source, flags=re.M)) != plain, name

"""ember's beginner programs (examples/) print on ember what they print on PyTorch.

Each example runs twice in this process: as written (on ember) and with its ember imports turned
into torch imports. The two frameworks draw different random numbers for one seed, so both runs
draw from the same seeded NumPy generator instead: the framework's ``rand``/``randn``/``randint``
(and their ``_like`` forms), ``multinomial``, the ``nn.init`` functions the layers use, and
Python's ``random`` are patched for the run. Then the printed lines must match: the text between
numbers exactly (with ``torch.`` read as ``ember.``), the numbers to a tolerance that float32
training loops need, since NumPy and PyTorch sum in different orders.
"""

import contextlib
import io
import math
import os
import random
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?")
SEED = 0


def torch_source(source: str) -> str:
    """The example's source with its ember imports written as torch imports."""
    source = re.sub(r"^import ember as torch$", "import torch", source, flags=re.M)
    source = re.sub(r"^import ember\.(\S+) as (\w+)$", r"import torch.\1 as \2", source, flags=re.M)
    source = re.sub(r"^from ember(\S*) import", r"from torch\1 import", source, flags=re.M)
    assert not re.search(r"^(import|from) ember\b", source, flags=re.M), "an ember import is left"
    return source


def shared_random(fw, monkeypatch, rng):
    """Patch ``fw``'s random functions to draw from ``rng`` and return ``fw`` tensors."""

    def shape_of(size):
        if len(size) == 1 and isinstance(size[0], (tuple, list)):
            return tuple(size[0])
        return tuple(size)

    def make(values, dtype, requires_grad):
        tensor = fw.tensor(np.asarray(values, dtype=np.float64), dtype=dtype or fw.float32)
        return tensor.requires_grad_(requires_grad)

    def rand(*size, dtype=None, device=None, requires_grad=False, **kwargs):
        return make(rng.random(shape_of(size)), dtype, requires_grad)

    def randn(*size, dtype=None, device=None, requires_grad=False, **kwargs):
        return make(rng.standard_normal(shape_of(size)), dtype, requires_grad)

    def rand_like(input, dtype=None, **kwargs):
        return rand(tuple(input.shape), dtype=dtype or input.dtype, **kwargs)

    def randn_like(input, dtype=None, **kwargs):
        return randn(tuple(input.shape), dtype=dtype or input.dtype, **kwargs)

    def randint(low, high=None, size=None, dtype=None, **kwargs):
        if size is None:
            low, high, size = 0, low, high
        return fw.tensor(rng.integers(low, high, size=tuple(size)), dtype=dtype or fw.int64)

    def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
        # by the inverse of the cumulative distribution: a category of probability 0 is never
        # drawn, and probabilities that differ in the last float32 bits almost never matter
        if num_samples > 1 and not replacement:
            raise NotImplementedError("the shared multinomial draws with replacement only")
        weights = np.asarray(input.detach().tolist(), dtype=np.float64)
        rows = weights.reshape(-1, weights.shape[-1])
        cumulative = np.cumsum(rows, axis=1)
        draws = rng.random((len(rows), num_samples)) * cumulative[:, -1:]
        picks = [np.searchsorted(c, d, side="right") for c, d in zip(cumulative, draws)]
        picks = np.minimum(np.stack(picks), rows.shape[1] - 1)
        return fw.tensor(picks.reshape(*weights.shape[:-1], num_samples), dtype=fw.int64)

    def uniform_(tensor, a=0.0, b=1.0, generator=None):
        values = rng.uniform(a, b, size=tuple(tensor.shape))
        with fw.no_grad():
            return tensor.copy_(fw.tensor(values, dtype=tensor.dtype))

    def normal_(tensor, mean=0.0, std=1.0, generator=None):
        values = rng.normal(mean, std, size=tuple(tensor.shape))
        with fw.no_grad():
            return tensor.copy_(fw.tensor(values, dtype=tensor.dtype))

    def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
        fan_in = tensor.shape[1] * math.prod(tensor.shape[2:])
        fan = fan_in if mode == "fan_in" else tensor.shape[0] * math.prod(tensor.shape[2:])
        gain = math.sqrt(2.0 / (1 + a ** 2))
        bound = math.sqrt(3.0) * gain / math.sqrt(fan)
        return uniform_(tensor, -bound, bound)

    for name, function in [("rand", rand), ("randn", randn), ("rand_like", rand_like),
                           ("randn_like", randn_like), ("randint", randint)]:
        monkeypatch.setattr(fw, name, function)
    if hasattr(fw, "multinomial"):  # a framework without one fails where an example calls it
        monkeypatch.setattr(fw, "multinomial", multinomial)
    monkeypatch.setattr(fw.nn.init, "uniform_", uniform_)
    monkeypatch.setattr(fw.nn.init, "normal_", normal_)
    monkeypatch.setattr(fw.nn.init, "kaiming_uniform_", kaiming_uniform_)


@contextlib.contextmanager
def one_torch_thread():
    """PyTorch on one thread for the block: on a loaded machine with few cores its thread pool
    spins waiting for busy cores, and these small models ran 10-30 times slower with two."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def run_example(name, fw, monkeypatch, argv=()):
    """Run examples/<name>.py with command-line arguments ``argv`` on ``fw`` with the shared
    random draws; return what it printed."""
    path = os.path.join(EXAMPLES, f"{name}.py")
    with open(path) as file:
        source = file.read()
    if fw is torch:
        source = torch_source(source)
    out = io.StringIO()
    with monkeypatch.context() as patch:
        shared_random(fw, patch, np.random.default_rng(SEED))
        random.seed(SEED)
        patch.setattr(sys, "argv", [path, *argv])
        with contextlib.redirect_stdout(out), one_torch_thread():
            exec(compile(source, path, "exec"), {"__name__": "__main__", "__file__": path})
    return out.getvalue()


def assert_same_line(mine, reference, rtol, atol):
    """One line: the text around numbers exactly, the numbers within rtol/atol."""
    assert NUMBER.sub("#", mine) == NUMBER.sub("#", reference), (mine, reference)
    mine_numbers = [float(x) for x in NUMBER.findall(mine)]
    reference_numbers = [float(x) for x in NUMBER.findall(reference)]
    np.testing.assert_allclose(mine_numbers, reference_numbers, rtol=rtol, atol=atol,
                               err_msg=f"\n ember: {mine}\n torch: {reference}")


# Tolerances (rtol, atol): the tours print exact values; the training loops print float32
# values after hundreds of steps, in which summation order shows (about 1e-6 relative, more where
# a loss is tiny or a value trains to about zero, which atol covers).
EXAMPLE_TOLERANCES = {
    "tensor_tour": (0, 0),
    "autograd_tour": (1e-4, 1e-6),
    "custom_function": (1e-4, 1e-6),
    "fit_modules": (1e-4, 1e-6),
    "custom_module": (1e-4, 1e-6),
}


def assert_same_output(name, ours, theirs):
    """The same lines: see assert_same_line."""
    ours_lines = ours.splitlines()
    theirs_lines = theirs.replace("torch.", "ember.").splitlines()
    assert len(ours_lines) == len(theirs_lines), f"{ours}\n---- torch ----\n{theirs}"
    rtol, atol = EXAMPLE_TOLERANCES[name]
    for mine, reference in zip(ours_lines, theirs_lines):
        assert_same_line(mine, reference, rtol, atol)


@pytest.mark.parametrize("name", list(EXAMPLE_TOLERANCES))
def test_example_prints_what_pytorch_prints(name, monkeypatch):
    ours = run_example(name, ember, monkeypatch)
    theirs = run_example(name, torch, monkeypatch)
    assert ours.strip(), f"{name} printed nothing"
    assert_same_output(name, ours, theirs)


def test_examples_import_ember_only():
    """Each example imports ember as torch and never PyTorch itself."""
    for name in EXAMPLE_TOLERANCES:
        with open(os.path.join(EXAMPLES, f"{name}.py")) as file:
            source = file.read()
        assert re.search(r"^import ember as torch$", source, flags=re.M), name
        assert not re.search(r"^(import|from) torch\b", source, flags=re.M), name


@pytest.mark.parametrize("name", ["tensor_tour", "autograd_tour"])
def test_example_runs_as_a_script(name):
    """The in-process runs above exec the source; a script run shows nothing else is needed."""
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES, f"{name}.py")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "tensor(" in result.stdout

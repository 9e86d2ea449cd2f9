"""ember._C, the compiled CPU kernels: the switch, the argument checks every kernel shares, and
each kernel against its NumPy twin (the op tests compare both with PyTorch: ``make test`` runs
them once more with EMBER_NO_EXTENSION=1)."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from capture import NoHostReads
from hypothesis import given, settings
from hypothesis import strategies as st
from nets import tutorial_net

import ember
from ember import _C

needs_kernels = pytest.mark.skipif(_C.kernels is None, reason=f"ember._C: {_C.reason}")


@pytest.fixture
def numpy_only(monkeypatch):
    """Run the NumPy code for the duration of a test, as EMBER_NO_EXTENSION=1 does."""
    monkeypatch.setattr(_C, "kernels", None)


def test_show_config_says_which_code_runs(capsys):
    ember.show_config()
    text = capsys.readouterr().out
    assert text == ember.__config__.show()
    assert ("in use" if _C.kernels is not None else _C.reason) in text


def test_environment_switches_the_kernels_off():
    env = dict(os.environ, EMBER_NO_EXTENSION="1")
    out = subprocess.run([sys.executable, "-c", "import ember, ember._C as c; "
                          "print(c.kernels is None); ember.show_config()"],
                         env=env, capture_output=True, text=True, check=True).stdout
    assert out.startswith("True\n")
    assert "switched off by EMBER_NO_EXTENSION" in out


@needs_kernels
def test_kernels_refuse_arrays_they_cannot_read():
    sgd = _C.kernels.sgd_step
    param, grad = np.zeros(4, np.float32), np.ones(4, np.float32)
    hyper = (0.1, 0.0, 0.0, 0.0, False, False, False)
    with pytest.raises(TypeError, match="float32"):
        sgd([param], [grad.astype(np.float64)], [None], *hyper)  # mixed dtypes
    with pytest.raises(TypeError):
        sgd([param.astype(np.int32)], [grad.astype(np.int32)], [None], *hyper)
    with pytest.raises(ValueError, match="expected 4 elements, got 3"):
        sgd([param], [grad[:3]], [None], *hyper)
    with pytest.raises((ValueError, BufferError)):
        sgd([np.zeros(8, np.float32)[::2]], [grad], [None], *hyper)  # not contiguous
    frozen = param.copy()
    frozen.flags.writeable = False
    with pytest.raises((ValueError, BufferError)):
        sgd([frozen], [grad], [None], *hyper)
    with pytest.raises(ValueError, match="differ in length"):
        sgd([param], [grad, grad], [None], *hyper)
    assert not param.any()  # nothing was written by a refused call


def _sgd_run(options, dtype, steps=4):
    rng = np.random.default_rng(1)
    params = [ember.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
              for shape in [(3, 4), (5,), (), (0, 2)]]
    optimizer = ember.optim.SGD(params, lr=0.05, **options)
    for step in range(steps):
        for index, param in enumerate(params):
            # One parameter joins late: its momentum buffer starts on step 2.
            if index == 1 and step < 2:
                param.grad = None
                continue
            param.grad = ember.tensor(rng.standard_normal(param.shape).astype(dtype))
        optimizer.step()
    state = [optimizer.state[p].get("momentum_buffer") for p in params]
    return [p.detach().numpy() for p in params], [s.numpy() for s in state if s is not None]


@needs_kernels
@settings(max_examples=30, deadline=None)
@given(momentum=st.sampled_from([0.0, 0.9]), dampening=st.sampled_from([0.0, 0.25]),
       weight_decay=st.sampled_from([0.0, 0.01]), nesterov=st.booleans(),
       maximize=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]))
def test_sgd_kernel_matches_numpy_bit_for_bit(momentum, dampening, weight_decay, nesterov,
                                              maximize, dtype):
    if nesterov and (momentum == 0 or dampening != 0):
        nesterov = False
    options = dict(momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                   nesterov=nesterov, maximize=maximize)
    compiled = _sgd_run(options, dtype)
    kernels, _C.kernels = _C.kernels, None
    try:
        reference = _sgd_run(options, dtype)
    finally:
        _C.kernels = kernels
    for got, want in zip(compiled[0] + compiled[1], reference[0] + reference[1]):
        np.testing.assert_array_equal(got, want)


@needs_kernels
def test_sgd_kernel_declines_what_it_cannot_read_with_fallback():
    """With ``fallback`` the kernel answers False, writing nothing, where an array is not one
    it reads (the optimizer then runs its NumPy code); every array is taken before any is
    written, so a refusal after the first parameter changes nothing either."""
    sgd = _C.kernels.sgd_step
    param, grad = np.zeros(4, np.float32), np.ones(4, np.float32)
    hyper = (0.1, 0.9, 0.0, 0.0, False, False, False)
    frozen = param.copy()
    frozen.flags.writeable = False
    refused = [([param, np.zeros(8, np.float32)[::2]], [grad, grad], [None, None]),
               ([param, param.copy()], [grad, grad.astype(np.float64)], [None, None]),
               ([param, frozen], [grad, grad], [None, None]),
               ([param, param.copy()], [grad, grad[:3]], [None, None]),
               ([param], [grad], [np.zeros((4, 2), np.float32)[:, 0]]),
               ([param], [grad], [[0.0] * 4])]
    for params, grads, buffers in refused:
        assert sgd(params, grads, buffers, *hyper, True) is False
        assert not param.any()
    with pytest.raises((ValueError, BufferError)):
        sgd([param, np.zeros(8, np.float32)[::2]], [grad, grad], [None, None], *hyper)
    assert not param.any()
    assert sgd([param], [grad], [None], *hyper, True) is True
    np.testing.assert_array_equal(param, np.full(4, -0.1, np.float32))


@needs_kernels
@pytest.mark.parametrize("odd", ["fortran weight", "strided momentum buffer",
                                 "read-only gradient"])
def test_sgd_on_arrays_the_kernel_declines_is_numpy_bit_for_bit(odd):
    """A parameter, momentum buffer or gradient the kernel cannot take (or, for a read-only
    gradient, can): the step gives the NumPy code's numbers, as PyTorch's SGD would."""
    def run(kernels):
        saved, _C.kernels = _C.kernels, kernels
        try:
            rng = np.random.default_rng(3)
            weight = ember.tensor(rng.standard_normal((3, 4)).astype(np.float32),
                                  requires_grad=True)
            bias = ember.tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True)
            if odd == "fortran weight":
                weight.data = ember.tensor(np.asfortranarray(weight.detach().numpy()))
            optimizer = ember.optim.SGD([weight, bias], lr=0.1, momentum=0.9)
            for step in range(3):
                for p in (weight, bias):
                    grad = rng.standard_normal(p.shape).astype(np.float32)
                    if odd == "read-only gradient":
                        grad.flags.writeable = False
                    p.grad = ember.tensor(grad)
                    p.grad._data = grad
                optimizer.step()
                if step == 0 and odd == "strided momentum buffer":
                    state = optimizer.state[weight]
                    wide = np.zeros((3, 8), np.float32)
                    wide[:, ::2] = state["momentum_buffer"].numpy()
                    state["momentum_buffer"] = ember.tensor(wide)[:, ::2]
            return weight.detach().numpy().copy(), bias.detach().numpy().copy()
        finally:
            _C.kernels = saved
    for got, want in zip(run(_C.kernels), run(None)):
        np.testing.assert_array_equal(got, want)


def test_sgd_without_kernels_on_odd_arrays(numpy_only):
    # Non-contiguous gradients and mixed dtypes take the NumPy path in both modes.
    weight = ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    weight.grad = ember.tensor([[1.0, 1.0], [1.0, 1.0]]).t()
    ember.optim.SGD([weight], lr=0.5, momentum=0.9).step()
    np.testing.assert_array_equal(weight.detach().numpy(), [[0.5, 1.5], [2.5, 3.5]])


def test_ember_without_the_built_extension_runs_its_numpy_code(tmp_path):
    # A copy of the package without the compiled module: what a machine without a C compiler
    # gets from pip install (setup.py marks the extension optional).
    source = os.path.dirname(ember.__file__)
    shutil.copytree(source, tmp_path / "ember",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    program = ("import ember, ember._C as c; ember.show_config(); "
               "net = ember.nn.Conv2d(1, 2, 3); net(ember.randn(2, 1, 5, 5)).sum().backward(); "
               "print(c.kernels is None, list(net.weight.grad.shape))")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    env.pop("EMBER_NO_EXTENSION", None)
    out = subprocess.run([sys.executable, "-c", program], env=env, cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout
    assert "not built (no C compiler, or its build failed" in out
    assert out.endswith("True [2, 1, 3, 3]\n")


@pytest.mark.parametrize("kernels", ["compiled", "numpy"])
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_a_training_step_reads_no_values_on_the_host(kernels, optimizer, monkeypatch):
    # Capture-safe ops: the tutorial net's forward, backward and update, once their state
    # exists, run on arrays that refuse to be read (Adam's step counter is a host number in
    # PyTorch too, and stays readable).
    if kernels == "numpy":
        monkeypatch.setattr(_C, "kernels", None)
    ember.manual_seed(0)
    net = tutorial_net(ember, flatten=True)
    options = {"momentum": 0.9} if optimizer == "SGD" else {}
    opt = getattr(ember.optim, optimizer)(net.parameters(), lr=0.01, **options)
    criterion = ember.nn.CrossEntropyLoss()
    x, y = ember.randn(4, 1, 32, 32), ember.tensor([1, 2, 3, 9])

    def step():
        opt.zero_grad()
        loss = criterion(net(x), y)
        loss.backward()
        opt.step()
        return loss

    step()
    guarded = [x, y, *net.parameters()] + [value for state in opt.state.values()
                                           for key, value in state.items() if key != "step"]
    for tensor in guarded:
        tensor._data = tensor._data.view(NoHostReads)
    before = [p.detach().numpy().copy() for p in net.parameters()]
    step()
    assert all(not np.array_equal(b, p.detach().numpy())
               for b, p in zip(before, net.parameters()))

"""finfo/iinfo, print options, activation checkpointing and torch.load's environment switches,
each against PyTorch."""

import io
import pickle
import warnings

import numpy as np
import pytest
import torch
import torch.utils.checkpoint

import ember
from ember.utils.checkpoint import checkpoint, checkpoint_sequential

FLOATS = ["float16", "float32", "float64", "bfloat16", "complex64", "complex128"]
INTEGERS = ["uint8", "int8", "int16", "int32", "int64"]


# ---- finfo and iinfo ---------------------------------------------------------------------

@pytest.mark.parametrize("name", FLOATS)
def test_finfo_matches_torch(name):
    mine, theirs = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(mine, field) == getattr(theirs, field), field
    assert repr(mine) == repr(theirs)
    assert str(mine) == str(theirs)


@pytest.mark.parametrize("name", INTEGERS)
def test_iinfo_matches_torch(name):
    mine, theirs = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    for field in ("bits", "max", "min", "dtype"):
        assert getattr(mine, field) == getattr(theirs, field), field
    assert repr(mine) == repr(theirs)


def test_finfo_defaults_to_the_default_dtype():
    assert ember.finfo() == ember.finfo(ember.float32)
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.finfo().bits == 64 == torch.finfo(torch.float64).bits
    finally:
        ember.set_default_dtype(ember.float32)


@pytest.mark.parametrize("info, dtype, problem", [
    (ember.finfo, ember.int32, "requires a floating point input type"),
    (ember.finfo, ember.bool, "requires a floating point input type"),
    (ember.iinfo, ember.float32, "requires an integer input type"),
    (ember.iinfo, ember.complex64, "requires an integer input type"),
    (ember.iinfo, ember.bool, "bool is not supported"),
    (ember.finfo, "float32", "must be ember.dtype, not str"),
])
def test_info_of_the_wrong_kind_is_a_type_error(info, dtype, problem):
    torch_dtype = getattr(torch, dtype.name) if isinstance(dtype, ember.dtype) else dtype
    with pytest.raises(TypeError):
        getattr(torch, info.__name__)(torch_dtype)
    with pytest.raises(TypeError, match=problem):
        info(dtype)


# ---- print options -----------------------------------------------------------------------

@pytest.fixture
def default_printoptions():
    """Put both libraries' print options back to the defaults after the test."""
    yield
    ember.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def _print_inputs():
    rng = np.random.default_rng(0)
    return [rng.standard_normal((3, 4)).astype(np.float32),
            rng.standard_normal((40, 50)).astype(np.float32),
            np.arange(2000, dtype=np.float32).reshape(40, 50),
            rng.standard_normal(30).astype(np.float32) * 1e5,
            np.array([1e-5, 1.0, 2.0], np.float32), np.array([1.0, 2.0, 3.0], np.float32),
            np.array([0.0, np.nan, -np.inf, 1.5], np.float32), np.arange(30, dtype=np.int64)]


@pytest.mark.parametrize("options", [
    dict(precision=2), dict(precision=8), dict(threshold=5), dict(edgeitems=1, threshold=10),
    dict(linewidth=40), dict(profile="short"), dict(profile="full"), dict(sci_mode=True),
    dict(sci_mode=False), dict(profile="short", precision=6)])
def test_set_printoptions_prints_as_torch(options, default_printoptions):
    ember.set_printoptions(**options)
    torch.set_printoptions(**options)
    for values in _print_inputs():
        assert repr(ember.from_numpy(values)) == repr(torch.from_numpy(values))
    parameter = ember.nn.Parameter(ember.from_numpy(_print_inputs()[0]))
    assert repr(parameter) == repr(torch.nn.Parameter(torch.from_numpy(_print_inputs()[0])))


def test_printoptions_are_read_back_and_restored(default_printoptions):
    ember.set_printoptions(precision=2, sci_mode=True)
    torch.set_printoptions(precision=2, sci_mode=True)
    assert ember._tensor_str.get_printoptions() == torch._tensor_str.get_printoptions()
    assert repr(ember.tensor([1 / 3])) == repr(torch.tensor([1 / 3])) == "tensor([3.33e-01])"
    # Inside, sci_mode is None again (set_printoptions without it), as in PyTorch.
    with ember._tensor_str.printoptions(precision=6), torch._tensor_str.printoptions(precision=6):
        assert repr(ember.tensor([1 / 3])) == repr(torch.tensor([1 / 3])) == "tensor([0.333333])"
    assert ember._tensor_str.get_printoptions() == torch._tensor_str.get_printoptions()
    assert ember._tensor_str.get_printoptions()["precision"] == 2
    # A call without sci_mode puts it back to "the values choose", as in PyTorch.
    ember.set_printoptions(precision=4)
    assert repr(ember.tensor([1 / 3])) == "tensor([0.3333])"
    ember.set_printoptions(profile="default")
    assert ember._tensor_str.get_printoptions() == dict(precision=4, threshold=1000,
                                                        edgeitems=3, linewidth=80,
                                                        sci_mode=None)


# ---- checkpoint --------------------------------------------------------------------------

def _model(lib, dropout: float):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(4, 5), lib.nn.Tanh(), lib.nn.Dropout(dropout),
                             lib.nn.Linear(5, 3))


def _run(lib, run_checkpoint, model, inputs, reentrant):
    x = lib.tensor(inputs, requires_grad=True)
    lib.manual_seed(1)
    if run_checkpoint is None:
        out = model(x)
    else:
        out = run_checkpoint(model, x, use_reentrant=reentrant)
    out.pow(2).sum().backward()
    return [out.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in model.parameters()]


@pytest.mark.parametrize("reentrant", [True, False])
def test_checkpoint_gradients_equal_torchs_and_the_plain_ones(reentrant, rng):
    inputs = rng.standard_normal((6, 4)).astype(np.float32)
    theirs = _run(torch, torch.utils.checkpoint.checkpoint, _model(torch, 0.0), inputs,
                  reentrant)
    model = _model(ember, 0.0)
    model.load_state_dict({k: ember.tensor(v.numpy())
                           for k, v in _model(torch, 0.0).state_dict().items()})
    mine = _run(ember, checkpoint, model, inputs, reentrant)
    model.zero_grad()
    plain = _run(ember, None, model, inputs, reentrant)
    for a, b, c in zip(mine, theirs, plain):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a, c, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("reentrant", [True, False])
def test_checkpoint_recomputes_dropout_with_the_forwards_random_state(reentrant, rng):
    inputs = rng.standard_normal((6, 4)).astype(np.float32)
    model = _model(ember, 0.5)
    mine = _run(ember, checkpoint, model, inputs, reentrant)
    after = ember.rand(3)  # the surrounding random state goes on as if not recomputed
    model.zero_grad()
    plain = _run(ember, None, model, inputs, reentrant)
    assert np.array_equal(after.numpy(), ember.rand(3).numpy())
    for a, b in zip(mine, plain):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_checkpoint_without_preserved_rng_state_draws_new_masks(rng):
    x = ember.ones(200, requires_grad=True)
    dropout = ember.nn.Dropout(0.5)
    out = checkpoint(dropout, x, use_reentrant=False, preserve_rng_state=False)
    out.sum().backward()
    # The gradient's mask is the recomputation's, not the forward's.
    assert not np.array_equal(x.grad.numpy() != 0, out.detach().numpy() != 0)


def test_non_reentrant_checkpoint_reaches_parameters_without_input_grad():
    layer = ember.nn.Linear(3, 2)
    x = ember.ones(2, 3)
    out = checkpoint(layer, x, use_reentrant=False)
    weight_grad, = ember.autograd.grad(out.sum(), [layer.weight])
    np.testing.assert_array_equal(weight_grad.numpy(), np.full((2, 3), 2.0, np.float32))
    out = checkpoint(lambda a, scale: layer(a) * scale, x, use_reentrant=False, scale=3.0)
    out.sum().backward()
    np.testing.assert_array_equal(layer.bias.grad.numpy(), [6.0, 6.0])


def test_a_recomputation_of_other_shapes_is_a_checkpoint_error():
    calls = []

    def growing(x):
        calls.append(1)
        return x.repeat(len(calls))

    x = ember.ones(2, requires_grad=True)
    out = checkpoint(growing, x, use_reentrant=False)
    with pytest.raises(ember.utils.checkpoint.CheckpointError, match="different metadata"):
        out.sum().backward()
    assert issubclass(ember.utils.checkpoint.CheckpointError, RuntimeError)
    calls.clear()
    out = checkpoint(growing, x, use_reentrant=False, determinism_check="none")
    with pytest.raises(RuntimeError, match="shape"):  # the engine's own check then
        out.sum().backward()


def test_checkpoint_under_no_grad_just_runs_the_function():
    layer = ember.nn.Linear(3, 2)
    with ember.no_grad():
        for reentrant in (True, False):
            out = checkpoint(layer, ember.ones(1, 3, requires_grad=True),
                             use_reentrant=reentrant)
            assert out.grad_fn is None and not out.requires_grad


def test_reentrant_checkpoint_warns_as_torch():
    layer = ember.nn.Linear(3, 2)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed"):
        checkpoint(layer, ember.ones(1, 3, requires_grad=True))
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out = checkpoint(layer, ember.ones(1, 3), use_reentrant=True)
    assert not out.requires_grad
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(layer, ember.ones(1, 3), use_reentrant=True, scale=2)
    with pytest.raises(ValueError, match="determinism_check should be one of"):
        checkpoint(layer, ember.ones(1, 3), use_reentrant=False, determinism_check="bad")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checkpoint(layer, ember.ones(1, 3, requires_grad=True), use_reentrant=False)


def test_checkpoint_inside_a_graph_leaves_the_outer_graph_whole():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 3
    out = checkpoint(lambda h: (h * h).sum(), hidden, use_reentrant=False) + hidden.sum()
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * (2 * 3 * np.array([1.0, 2.0])) + 3)


@pytest.mark.parametrize("reentrant", [True, False])
def test_checkpoint_sequential_equals_the_plain_model(reentrant, rng):
    ember.manual_seed(0)
    model = ember.nn.Sequential(*[ember.nn.Linear(3, 3) for _ in range(5)])
    inputs = rng.standard_normal((2, 3)).astype(np.float32)
    x = ember.tensor(inputs, requires_grad=True)
    checkpoint_sequential(model, 3, x, use_reentrant=reentrant).sum().backward()
    grads = [x.grad.numpy()] + [p.grad.numpy() for p in model.parameters()]
    model.zero_grad()
    y = ember.tensor(inputs, requires_grad=True)
    model(y).sum().backward()
    for a, b in zip(grads, [y.grad.numpy()] + [p.grad.numpy() for p in model.parameters()]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


# ---- torch.load's environment switches ---------------------------------------------------

class _Point:
    """Not on the weights-only allow-list."""

    def __init__(self, x):
        self.x = x


def _saved(obj) -> io.BytesIO:
    buffer = io.BytesIO()
    ember.save(obj, buffer)
    buffer.seek(0)
    return buffer


def test_force_no_weights_only_load_applies_only_where_unset(monkeypatch):
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.warns(UserWarning, match="TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected"):
        assert ember.load(_saved(_Point(3))).x == 3
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ember.load(_saved(_Point(3)), weights_only=True)


@pytest.mark.parametrize("value", ["1", "true", "YES", "y"])
def test_force_weights_only_load_overrides_an_explicit_false(monkeypatch, value):
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", value)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ember.load(_saved(_Point(3)), weights_only=False)
    assert ember.load(_saved({"w": ember.ones(2)}))["w"].tolist() == [1.0, 1.0]


def test_both_switches_set_is_an_error_as_in_torch(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "1")
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    torch.save({"w": torch.ones(1)}, tmp_path / "w.pt")
    with pytest.raises(RuntimeError, match="Only one of"):
        torch.load(tmp_path / "w.pt")
    with pytest.raises(RuntimeError, match="Only one of"):
        ember.load(tmp_path / "w.pt")


def test_switches_off_leave_the_default(monkeypatch):
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0")
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "no")
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ember.load(_saved(_Point(3)))


# ---- NonDynamicallyQuantizableLinear lives where PyTorch has it ---------------------------

def test_non_dynamically_quantizable_linear_is_in_nn_modules_linear():
    from ember.nn.modules import activation, linear
    assert activation.NonDynamicallyQuantizableLinear is linear.NonDynamicallyQuantizableLinear
    assert linear.NonDynamicallyQuantizableLinear.__module__ == \
        torch.nn.modules.linear.NonDynamicallyQuantizableLinear.__module__.replace("torch",
                                                                                   "ember")
    attention = ember.nn.MultiheadAttention(4, 2)
    buffer = _saved(attention)
    with ember.serialization.safe_globals([linear.NonDynamicallyQuantizableLinear]):
        with pytest.raises(pickle.UnpicklingError, match="MultiheadAttention"):
            ember.load(buffer)
    buffer.seek(0)
    loaded = ember.load(buffer, weights_only=False)
    assert type(loaded.out_proj) is linear.NonDynamicallyQuantizableLinear

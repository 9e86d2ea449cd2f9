"""ember.optim against torch.optim: updates, state, state_dict, errors, and LR schedules.

Each comparison starts ember and PyTorch from the same parameter values and feeds both the same
gradients (or the same loss built from tensor ops), then checks parameters and optimizer state.
PyTorch always runs on the CPU as the reference.
"""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember.optim
from ember.optim import lr_scheduler

RTOL, ATOL = 1e-5, 1e-6
SHAPES = [(3, 4), (5,), ()]
STEPS = 6

# ---- hyperparameters, as hypothesis strategies ---------------------------------------------

_SGD = st.fixed_dictionaries({
    "lr": st.sampled_from([1e-3, 0.1, 0.5]),
    "momentum": st.sampled_from([0, 0.5, 0.9]),
    "dampening": st.sampled_from([0, 0.3]),
    "weight_decay": st.sampled_from([0, 1e-2]),
    "nesterov": st.booleans(),
    "maximize": st.booleans(),
}).map(lambda kw: {**kw, "nesterov": kw["nesterov"] and kw["momentum"] > 0
                   and kw["dampening"] == 0})
_ADAM = st.fixed_dictionaries({
    "lr": st.sampled_from([1e-3, 0.05]),
    "betas": st.sampled_from([(0.9, 0.999), (0.5, 0.9), (0.0, 0.99)]),
    "eps": st.sampled_from([1e-8, 1e-3]),
    "weight_decay": st.sampled_from([0, 0.1]),
    "amsgrad": st.booleans(),
    "maximize": st.booleans(),
})
_RMSPROP = st.fixed_dictionaries({
    "lr": st.sampled_from([1e-3, 0.01]),
    "alpha": st.sampled_from([0.99, 0.9]),
    "eps": st.sampled_from([1e-8, 1e-3]),
    "weight_decay": st.sampled_from([0, 0.1]),
    "momentum": st.sampled_from([0, 0.9]),
    "centered": st.booleans(),
    "maximize": st.booleans(),
})
_ADAGRAD = st.fixed_dictionaries({
    "lr": st.sampled_from([1e-2, 0.1]),
    "lr_decay": st.sampled_from([0, 0.1]),
    "weight_decay": st.sampled_from([0, 0.1]),
    "initial_accumulator_value": st.sampled_from([0, 0.1]),
    "eps": st.sampled_from([1e-10, 1e-3]),
    "maximize": st.booleans(),
})
_ADADELTA = st.fixed_dictionaries({
    "lr": st.sampled_from([1.0, 0.5]),
    "rho": st.sampled_from([0.9, 0.5]),
    "eps": st.sampled_from([1e-6, 1e-3]),
    "weight_decay": st.sampled_from([0, 0.1]),
    "maximize": st.booleans(),
})
_ADAMAX = st.fixed_dictionaries({
    "lr": st.sampled_from([2e-3, 0.05]),
    "betas": st.sampled_from([(0.9, 0.999), (0.5, 0.9)]),
    "eps": st.sampled_from([1e-8, 1e-3]),
    "weight_decay": st.sampled_from([0, 0.1]),
    "maximize": st.booleans(),
})
_NADAM = st.fixed_dictionaries({
    "lr": st.sampled_from([2e-3, 0.05]),
    "betas": st.sampled_from([(0.9, 0.999), (0.5, 0.9)]),
    "eps": st.sampled_from([1e-8, 1e-3]),
    "weight_decay": st.sampled_from([0, 0.1]),
    "momentum_decay": st.sampled_from([4e-3, 0.1]),
    "decoupled_weight_decay": st.booleans(),
    "maximize": st.booleans(),
})
_RADAM = st.fixed_dictionaries({
    "lr": st.sampled_from([1e-3, 0.05]),
    # beta2 = 0.5 makes rho_t pass 5 within the steps: both branches run.
    "betas": st.sampled_from([(0.9, 0.999), (0.5, 0.5)]),
    "eps": st.sampled_from([1e-8, 1e-3]),
    "weight_decay": st.sampled_from([0, 0.1]),
    "decoupled_weight_decay": st.booleans(),
    "maximize": st.booleans(),
})
_ASGD = st.fixed_dictionaries({
    "lr": st.sampled_from([1e-2, 0.1]),
    "lambd": st.sampled_from([1e-4, 0.1]),
    "alpha": st.sampled_from([0.75, 0.5]),
    "t0": st.sampled_from([1e6, 2.0]),  # t0 = 2: the averaging starts within the steps
    "weight_decay": st.sampled_from([0, 0.1]),
    "maximize": st.booleans(),
})
_RPROP = st.fixed_dictionaries({
    "lr": st.sampled_from([1e-2, 0.1]),
    "etas": st.sampled_from([(0.5, 1.2), (0.3, 2.0)]),
    "step_sizes": st.sampled_from([(1e-6, 50), (0.02, 0.15)]),
    "maximize": st.booleans(),
})
HYPERPARAMETERS = {"SGD": _SGD, "Adam": _ADAM, "AdamW": _ADAM, "RMSprop": _RMSPROP,
                   "Adagrad": _ADAGRAD, "Adadelta": _ADADELTA, "Adamax": _ADAMAX,
                   "NAdam": _NADAM, "RAdam": _RADAM, "ASGD": _ASGD, "Rprop": _RPROP}
NAMES = list(HYPERPARAMETERS)

# One representative setting per optimizer, for the tests that do not vary hyperparameters.
TYPICAL = {
    "SGD": dict(lr=0.1, momentum=0.9, weight_decay=1e-2, nesterov=True),
    "Adam": dict(lr=0.05, weight_decay=0.1, amsgrad=True),
    "AdamW": dict(lr=0.05),
    "RMSprop": dict(lr=0.01, momentum=0.9, centered=True),
    "Adagrad": dict(lr=0.1, lr_decay=0.01),
    "Adadelta": dict(lr=0.5, weight_decay=1e-2),
    "Adamax": dict(lr=0.05, weight_decay=1e-2),
    "NAdam": dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
    "RAdam": dict(lr=0.05, betas=(0.5, 0.5), weight_decay=0.1),
    "ASGD": dict(lr=0.1, lambd=0.1, t0=2.0, weight_decay=1e-2),
    "Rprop": dict(lr=0.1, step_sizes=(0.01, 0.3)),
}


# ---- helpers --------------------------------------------------------------------------------

def _to_numpy(tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def _leaves(arrays, device="cpu"):
    """The same values as ember and torch leaves that require grad."""
    ours = [ember.tensor(a, device=device, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def _random_arrays(rng, dtype=np.float32):
    return [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]


def _set_ember_grads(params, grads):
    for param, grad in zip(params, grads):
        param.grad = None if grad is None else ember.tensor(grad)


def _set_grads(ours, theirs, grads, device="cpu"):
    """Give the i-th parameters the i-th gradient; None leaves a parameter without one."""
    for mine, reference, grad in zip(ours, theirs, grads):
        mine.grad = None if grad is None else ember.tensor(grad, device=device)
        reference.grad = None if grad is None else torch.tensor(grad)


def _gradient_steps(rng, steps=STEPS):
    """Per step, one gradient per parameter; the last parameter gets one every other step,
    so that skipping a parameter without a gradient (and creating its state late) is tested."""
    sequence = []
    for step in range(steps):
        grads = _random_arrays(rng)
        if step % 2 == 0:
            grads[-1] = None
        sequence.append(grads)
    return sequence


def _assert_close(actual, expected, err_msg="", peak=0.0):
    """Equal within float32 rounding: relative, plus absolute at the scale of the array, since
    values that are sums of larger terms of both signs lose their relative precision. ``peak``:
    the largest magnitude the value had before (a momentum buffer that summed terms of 10 down
    to 0.02 carries the rounding of those terms, not of 0.02)."""
    scale = max(1.0, peak, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL * scale, err_msg=err_msg)


def _assert_state_equal(ours, theirs, params_ours, params_theirs, peaks=None):
    """Same state keys (in order) and values for every parameter; ``peaks`` (a dict kept across
    steps) remembers each state value's largest magnitude so far."""
    peaks = {} if peaks is None else peaks
    for index, (mine, reference) in enumerate(zip(params_ours, params_theirs)):
        state, expected = ours.state.get(mine, {}), theirs.state.get(reference, {})
        assert list(state) == list(expected)
        for key in expected:
            assert isinstance(state[key], ember.Tensor), key
            values = expected[key].numpy()
            peak = peaks.get((index, key), 0.0)
            _assert_close(_to_numpy(state[key]), values, err_msg=key, peak=peak)
            peaks[index, key] = max(peak, float(np.abs(values).max(initial=0.0)))


def _assert_params_equal(ours, theirs):
    for mine, reference in zip(ours, theirs):
        _assert_close(_to_numpy(mine), reference.detach().numpy())


def _two_groups(params, **first_group_options):
    """The first parameter in a group of its own, with its own options; the rest in another."""
    return [{"params": params[:1], **first_group_options}, {"params": params[1:]}]


def _run_against_torch(name, kwargs, rng, device="cpu", groups=False):
    """Step ember's and PyTorch's optimizer on the same gradients; compare after every step."""
    ours, theirs = _leaves(_random_arrays(rng), device)
    if groups:
        ours, theirs = (_two_groups(ours, lr=kwargs["lr"] / 2),
                        _two_groups(theirs, lr=kwargs["lr"] / 2))
    optimizer = getattr(ember.optim, name)(ours, **kwargs)
    reference = getattr(torch.optim, name)(theirs, **kwargs)
    ours = [p for group in optimizer.param_groups for p in group["params"]]
    theirs = [p for group in reference.param_groups for p in group["params"]]
    peaks = {}
    for grads in _gradient_steps(rng):
        _set_grads(ours, theirs, grads, device)
        optimizer.step()
        reference.step()
        _assert_params_equal(ours, theirs)
        _assert_state_equal(optimizer, reference, ours, theirs, peaks)


# ---- updates against PyTorch ----------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=20, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_update_matches_torch(name, data, seed):
    kwargs = data.draw(HYPERPARAMETERS[name], label="hyperparameters")
    _run_against_torch(name, kwargs, np.random.default_rng(seed))


@pytest.mark.parametrize("name", NAMES)
def test_update_matches_torch_on_device_with_groups(name, device, rng):
    _run_against_torch(name, TYPICAL[name], rng, device=device, groups=True)


@pytest.mark.parametrize("name", NAMES)
def test_training_a_loss_matches_torch(name, rng):
    """zero_grad, a loss built from tensor ops, backward, and step with a closure."""
    x, weight, bias = (rng.standard_normal(size).astype(np.float32) for size in (4, 4, 1))
    (w, b), (tw, tb) = _leaves([weight, bias])
    optimizer = getattr(ember.optim, name)([w, b], **TYPICAL[name])
    reference = getattr(torch.optim, name)([tw, tb], **TYPICAL[name])

    def closure():
        optimizer.zero_grad()
        loss = ((w * ember.tensor(x)).sum() + b.sum() - 1.5) ** 2
        loss.backward()
        return loss

    def reference_closure():
        reference.zero_grad()
        loss = ((tw * torch.tensor(x)).sum() + tb.sum() - 1.5) ** 2
        loss.backward()
        return loss

    for _ in range(10):
        loss = optimizer.step(closure)
        expected = reference.step(reference_closure)
        np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-4, atol=1e-6)
        _assert_params_equal([w, b], [tw, tb])
    _assert_state_equal(optimizer, reference, [w, b], [tw, tb])


@pytest.mark.parametrize("name", NAMES)
def test_float64_parameters(name, rng):
    ours, theirs = _leaves(_random_arrays(rng, np.float64))
    optimizer = getattr(ember.optim, name)(ours, **TYPICAL[name])
    reference = getattr(torch.optim, name)(theirs, **TYPICAL[name])
    for _ in range(3):
        grads = _random_arrays(rng, np.float64)
        _set_grads(ours, theirs, grads)
        optimizer.step()
        reference.step()
    for mine, expected in zip(ours, theirs):
        assert mine.dtype == ember.float64
        np.testing.assert_allclose(_to_numpy(mine), expected.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_step_updates_in_place_and_bumps_version(name, rng):
    (param,), _ = _leaves(_random_arrays(rng)[:1])
    optimizer = getattr(ember.optim, name)([param], **TYPICAL[name])
    array, view = param._data, param.detach().numpy()
    before = view.copy()
    for step in range(1, 3):
        param.grad = ember.tensor(rng.standard_normal(param.shape).astype(np.float32))
        optimizer.step()
        assert param._data is array
        assert param._version[0] == step
    assert not np.array_equal(view, before)  # the NumPy view sees the update


@pytest.mark.parametrize("name, options", [
    ("Adam", {}), ("AdamW", {"weight_decay": 0.1}), ("Adam", {"amsgrad": True}),
    ("AdamW", {"maximize": True, "weight_decay": 0.05})])
def test_adam_split_over_threads_keeps_the_bits(name, options, monkeypatch):
    """A large group's compiled update is split over ember's threads by parameters; each
    parameter's update is computed alone, so on one thread or three the same bits come out
    (and PyTorch's numbers, within float32 rounding). Sizes odd and uneven, a 0-d one too."""
    from ember import _parallel
    rng = np.random.default_rng(11)
    shapes = [(300, 257), (7,), (), (129, 65), (1000,), (3, 3), (512, 300)]
    values = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    grads = [[rng.standard_normal(shape).astype(np.float32) for shape in shapes]
             for _ in range(3)]

    def train(lib, threads=None):
        if threads is not None:
            monkeypatch.setattr(_parallel, "_threads", threads)
        params = [lib.nn.Parameter(lib.tensor(v.copy())) for v in values]
        optimizer = getattr(lib.optim, name)(params, lr=0.01, **options)
        for step in grads:
            for param, grad in zip(params, step):
                param.grad = lib.tensor(grad.copy())
            optimizer.step()
        return [p.detach().numpy().copy() for p in params]

    alone, split = train(ember, threads=1), train(ember, threads=3)
    for a, b in zip(alone, split):
        assert a.tobytes() == b.tobytes()
    for a, b in zip(split, train(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@settings(max_examples=200, deadline=None)
@given(sizes=st.lists(st.integers(0, 1000), min_size=1, max_size=30), parts=st.integers(1, 8))
def test_adam_even_cuts_cover_every_parameter_once(sizes, parts):
    """The runs Adam's split gives each thread: in order, none empty, every parameter in
    exactly one, and no run past the first starts before its share of the elements."""
    from ember.optim.adam import _even_cuts
    parts = min(parts, len(sizes))
    cuts = _even_cuts(sizes, parts)
    assert cuts[0] == 0 and cuts[-1] == len(sizes) and len(cuts) == parts + 1
    assert all(a < b for a, b in zip(cuts, cuts[1:]))
    total = sum(sizes)
    for j, cut in enumerate(cuts[1:-1], start=1):
        # cut where the running sum first reaches j/parts of the total, unless later items
        # are needed one per run
        assert sum(sizes[:cut]) * parts >= total * j or len(sizes) - cut <= parts - j


def test_step_skips_parameters_without_grad():
    param = ember.ones(3, requires_grad=True)
    optimizer = ember.optim.Adam([param], lr=0.1)
    optimizer.step()
    np.testing.assert_array_equal(param.detach().numpy(), np.ones(3, np.float32))
    assert len(optimizer.state) == 0 and param._version[0] == 0


def test_step_returns_closure_loss_with_grad_enabled():
    param = ember.ones(2, requires_grad=True)
    optimizer = ember.optim.SGD([param], lr=0.1)
    assert optimizer.step() is None

    def closure():
        assert ember.is_grad_enabled()
        return 7.0

    with ember.no_grad():
        assert optimizer.step(closure) == 7.0


# ---- zero_grad ------------------------------------------------------------------------------

def test_zero_grad_sets_to_none_by_default():
    param = ember.ones(2, requires_grad=True)
    param.grad = ember.ones(2)
    ember.optim.SGD([param]).zero_grad()
    assert param.grad is None


def test_zero_grad_in_place_keeps_the_tensor():
    param = ember.ones(2, requires_grad=True)
    grad = ember.ones(2)
    param.grad = grad
    ember.optim.SGD([param]).zero_grad(set_to_none=False)
    assert param.grad is grad
    np.testing.assert_array_equal(grad.numpy(), np.zeros(2, np.float32))


def test_zero_grad_in_place_detaches_a_grad_with_history():
    param = ember.ones(2, requires_grad=True)
    param.grad = ember.ones(2, requires_grad=True) * 3
    ember.optim.SGD([param]).zero_grad(set_to_none=False)
    assert param.grad.grad_fn is None and not param.grad.requires_grad
    np.testing.assert_array_equal(param.grad.numpy(), np.zeros(2, np.float32))


# ---- state_dict -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_state_dict_layout_matches_torch(name, rng):
    ours, theirs = _leaves(_random_arrays(rng))
    optimizer = getattr(ember.optim, name)(_two_groups(ours, weight_decay=0.5), **TYPICAL[name])
    reference = getattr(torch.optim, name)(_two_groups(theirs, weight_decay=0.5),
                                           **TYPICAL[name])
    _set_grads(ours, theirs, _random_arrays(rng))
    optimizer.step()
    reference.step()
    state, expected = optimizer.state_dict(), reference.state_dict()
    assert state["param_groups"] == expected["param_groups"]
    assert list(state["state"]) == list(expected["state"])
    for index, entry in expected["state"].items():
        assert list(state["state"][index]) == list(entry)
        for key, value in entry.items():
            assert state["state"][index][key].dtype == ember.float32
            _assert_close(_to_numpy(state["state"][index][key]), value.numpy())
    # As in PyTorch, the per-parameter dicts are the optimizer's own, not copies.
    assert state["state"][0] is optimizer.state[ours[0]]


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_resumes_exactly(name, rng):
    """Save after k steps, load into a fresh optimizer, continue: equals never stopping."""
    arrays = _random_arrays(rng)
    steps = _gradient_steps(rng, steps=8)
    uninterrupted, _ = _leaves(arrays)
    optimizer = getattr(ember.optim, name)(uninterrupted, **TYPICAL[name])
    for grads in steps[:4]:
        _set_ember_grads(uninterrupted, grads)
        optimizer.step()

    resumed = [ember.tensor(_to_numpy(p), requires_grad=True) for p in uninterrupted]
    saved = optimizer.state_dict()
    fresh = getattr(ember.optim, name)(resumed, lr=123.0)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == TYPICAL[name]["lr"]  # hyperparameters come along
    assert fresh.param_groups[0]["params"][0] is resumed[0]

    for grads in steps[4:]:
        _set_ember_grads(uninterrupted, grads)
        _set_ember_grads(resumed, grads)
        optimizer.step()
        fresh.step()
    for mine, expected in zip(resumed, uninterrupted):
        np.testing.assert_array_equal(_to_numpy(mine), _to_numpy(expected))
    for mine, expected in zip(resumed, uninterrupted):
        for key, value in optimizer.state[expected].items():
            np.testing.assert_array_equal(_to_numpy(fresh.state[mine][key]), _to_numpy(value))


def test_load_state_dict_copies_state_and_casts_to_parameter_dtype():
    param = ember.ones(3, requires_grad=True)
    optimizer = ember.optim.Adam([param])
    param.grad = ember.ones(3)
    optimizer.step()
    saved = optimizer.state_dict()

    other = ember.ones(3, dtype=ember.float64, requires_grad=True)
    loaded = ember.optim.Adam([other])
    loaded.load_state_dict(saved)
    assert loaded.state[other]["exp_avg"].dtype == ember.float64
    assert loaded.state[other]["step"].dtype == ember.float32  # the counter keeps its dtype
    other.grad = ember.ones(3, dtype=ember.float64)
    loaded.step()
    assert saved["state"][0]["step"].item() == 1.0  # the saved dict is untouched
    assert optimizer.state[param]["step"].item() == 1.0


def test_load_state_dict_mismatched_groups_raise_like_torch():
    a, b = ember.ones(2, requires_grad=True), ember.ones(3, requires_grad=True)
    optimizer = ember.optim.SGD([a, b], lr=0.1)
    with pytest.raises(ValueError, match="^loaded state dict has a different number of "
                                         "parameter groups$"):
        optimizer.load_state_dict(
            ember.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).state_dict())
    with pytest.raises(ValueError, match="^loaded state dict contains a parameter group that "
                                         "doesn't match the size of optimizer's group$"):
        optimizer.load_state_dict(ember.optim.SGD([a], lr=0.1).state_dict())


def test_named_parameters_are_recorded_like_torch():
    param, reference = ember.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    optimizer = ember.optim.SGD([("weight", param)], lr=0.1)
    expected = torch.optim.SGD([("weight", reference)], lr=0.1)
    assert optimizer.param_groups[0]["params"] == [param]
    assert optimizer.state_dict()["param_groups"] == expected.state_dict()["param_groups"]
    with pytest.raises(ValueError, match="cannot add param group without names"):
        optimizer.add_param_group({"params": [ember.ones(1, requires_grad=True)]})


# ---- construction, errors and repr ----------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_repr_matches_torch(name):
    def make(lib):
        first = lib.ones(2, requires_grad=True)
        second = lib.ones(2, requires_grad=True)
        return getattr(lib.optim, name)([{"params": [first]}, {"params": [second], "lr": 1.0}],
                                        **TYPICAL[name])

    assert repr(make(ember)) == repr(make(torch))


def _outcome(build):
    """('ok', None) or the exception's type name and message, with the library's name unified."""
    try:
        build()
    except Exception as error:  # noqa: BLE001 - comparing whatever each library raises
        # ember.Tensor is defined in ember._tensor, where torch.Tensor's module is torch.
        message = str(error).replace("torch", "ember").replace("ember._tensor.", "ember.")
        return type(error).__name__, message
    return "ok", None


HYPERPARAMETER_ERRORS = [
    ("SGD", dict(lr=-1)), ("SGD", dict(momentum=-1)), ("SGD", dict(weight_decay=-1)),
    ("SGD", dict(nesterov=True)), ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1)),
    ("Adam", dict(lr=-1)), ("Adam", dict(eps=-1)), ("Adam", dict(betas=(1.0, 0.9))),
    ("Adam", dict(betas=(0.9, -0.1))), ("Adam", dict(weight_decay=-1)),
    ("AdamW", dict(lr=-0.5)), ("AdamW", dict(betas=(-0.1, 0.9))),
    ("RMSprop", dict(lr=-1)), ("RMSprop", dict(eps=-1)), ("RMSprop", dict(momentum=-1)),
    ("RMSprop", dict(weight_decay=-1)), ("RMSprop", dict(alpha=-1)),
    ("Adagrad", dict(lr=-1)), ("Adagrad", dict(lr_decay=-1)), ("Adagrad", dict(eps=-1)),
    ("Adagrad", dict(weight_decay=-1)), ("Adagrad", dict(initial_accumulator_value=-1)),
    ("Adadelta", dict(lr=-1)), ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(eps=-1)),
    ("Adadelta", dict(weight_decay=-1)),
    ("Adamax", dict(lr=-1)), ("Adamax", dict(eps=-1)), ("Adamax", dict(betas=(0.9, 1.0))),
    ("Adamax", dict(weight_decay=-1)),
    ("NAdam", dict(lr=-1)), ("NAdam", dict(betas=(-0.1, 0.9))),
    ("NAdam", dict(momentum_decay=-1)), ("NAdam", dict(weight_decay=-1)),
    ("RAdam", dict(lr=-1)), ("RAdam", dict(eps=-1)), ("RAdam", dict(betas=(0.9, 1.5))),
    ("ASGD", dict(lr=-1)), ("ASGD", dict(weight_decay=-1)),
    ("Rprop", dict(lr=-1)), ("Rprop", dict(etas=(1.5, 2.0))), ("Rprop", dict(etas=(0.5, 0.9))),
    ("LBFGS", dict(lr=-1)),
]


@pytest.mark.parametrize("name, kwargs", HYPERPARAMETER_ERRORS)
def test_invalid_hyperparameters_raise_like_torch(name, kwargs):
    ours = _outcome(lambda: getattr(ember.optim, name)([ember.ones(1, requires_grad=True)],
                                                        **kwargs))
    assert ours[0] == "ValueError"
    assert ours == _outcome(lambda: getattr(torch.optim, name)(
        [torch.ones(1, requires_grad=True)], **kwargs))


def _bad_params(lib):
    """Ways to pass params wrongly, built with ``lib`` (ember or torch)."""
    param = lib.ones(2, requires_grad=True)
    return {
        "a tensor": param,
        "empty list": [],
        "empty iterator": iter([]),
        "not a tensor": [1.0],
        "non-leaf": [param * 2],
        "in two groups": [{"params": [param]}, {"params": param}],
        "group not a dict": [{"params": [param]}, param],
        "set in a group": [{"params": {param}}],
        "group without params": [{"lr": 0.1}],
    }


@pytest.mark.parametrize("case", list(_bad_params(ember)))
def test_invalid_params_raise_like_torch(case):
    ours = _outcome(lambda: ember.optim.SGD(_bad_params(ember)[case], lr=0.1))
    assert ours[0] != "ok"
    assert ours == _outcome(lambda: torch.optim.SGD(_bad_params(torch)[case], lr=0.1))


def test_duplicate_parameters_warn():
    param = ember.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        ember.optim.SGD([param, param], lr=0.1)


def test_add_param_group_takes_defaults():
    first, second = ember.ones(1, requires_grad=True), ember.ones(1, requires_grad=True)
    optimizer = ember.optim.SGD([first], lr=0.1, momentum=0.9)
    optimizer.add_param_group({"params": second, "lr": 0.01})
    assert optimizer.param_groups[1]["params"] == [second]
    assert optimizer.param_groups[1]["lr"] == 0.01
    assert optimizer.param_groups[1]["momentum"] == 0.9
    with pytest.raises(ValueError, match="more than one parameter group"):
        optimizer.add_param_group({"params": [first]})


def test_adagrad_creates_state_with_the_optimizer_like_torch(rng):
    ours, theirs = _leaves(_random_arrays(rng))
    optimizer = ember.optim.Adagrad(ours, initial_accumulator_value=0.5)
    reference = torch.optim.Adagrad(theirs, initial_accumulator_value=0.5)
    _assert_state_equal(optimizer, reference, ours, theirs)


# ---- learning-rate schedulers ---------------------------------------------------------------

SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=4, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=7)),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 0.95 ** epoch + 0.01 * epoch)),
    ("OneCycleLR", dict(max_lr=[1.0, 0.5], total_steps=20)),
    ("OneCycleLR", dict(max_lr=0.3, epochs=3, steps_per_epoch=5, three_phase=True,
                        anneal_strategy="linear", pct_start=0.25)),
    ("ConstantLR", dict(factor=0.5, total_iters=3)),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=6)),
    ("PolynomialLR", dict(total_iters=7, power=2.0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.01)),
    ("CosineAnnealingWarmRestarts", dict(T_0=4)),
    ("MultiplicativeLR", dict(lr_lambda=lambda epoch: 0.9 if epoch % 2 else 1.05)),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=0.2, step_size_up=3, step_size_down=2)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2, mode="triangular2")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.9,
                      cycle_momentum=False)),
]
SCHEDULER_IDS = [f"{name}-{index}" for index, (name, _) in enumerate(SCHEDULERS)]


def _scheduled(lib, name, kwargs, optimizer_name="SGD"):
    """An optimizer with two groups and a scheduler on it, built with ``lib``."""
    groups = [{"params": [lib.ones(1, requires_grad=True)]},
              {"params": [lib.ones(1, requires_grad=True)], "lr": 0.05}]
    extra = {"momentum": 0.9} if optimizer_name == "SGD" else {}
    optimizer = getattr(lib.optim, optimizer_name)(groups, lr=0.1, **extra)
    return optimizer, getattr(lib.optim.lr_scheduler, name)(optimizer, **kwargs)


def _momenta(optimizer):
    """Each group's momentum, or Adam's two betas, as one flat list."""
    values = []
    for group in optimizer.param_groups:
        values.extend(group["betas"] if "betas" in group else [group["momentum"]])
    return values


@pytest.mark.parametrize("name, kwargs", SCHEDULERS, ids=SCHEDULER_IDS)
def test_scheduler_matches_torch(name, kwargs):
    optimizer, scheduler = _scheduled(ember, name, kwargs)
    reference, expected = _scheduled(torch, name, kwargs)
    steps = getattr(expected, "total_steps", 16)
    for _ in range(steps):
        assert scheduler.get_last_lr() == pytest.approx(expected.get_last_lr(), rel=1e-12)
        assert [g["lr"] for g in optimizer.param_groups] == pytest.approx(
            [g["lr"] for g in reference.param_groups], rel=1e-12)
        assert _momenta(optimizer) == pytest.approx(_momenta(reference), rel=1e-12)
        optimizer.step()
        reference.step()
        scheduler.step()
        expected.step()
    # ember keeps PyTorch's attributes, less the flags PyTorch uses only for its warnings.
    state, torch_state = scheduler.state_dict(), expected.state_dict()
    assert {key: torch_state[key] for key in state} == state


@pytest.mark.parametrize("optimizer_name", ["Adam", "AdamW"])
def test_one_cycle_cycles_beta1_of_adam(optimizer_name):
    kwargs = dict(max_lr=0.01, total_steps=8)
    optimizer, scheduler = _scheduled(ember, "OneCycleLR", kwargs, optimizer_name)
    reference, expected = _scheduled(torch, "OneCycleLR", kwargs, optimizer_name)
    for _ in range(8):
        assert _momenta(optimizer) == pytest.approx(_momenta(reference), rel=1e-12)
        assert scheduler.get_last_lr() == pytest.approx(expected.get_last_lr(), rel=1e-12)
        optimizer.step()
        reference.step()
        scheduler.step()
        expected.step()


def test_chained_schedulers_compose_like_torch():
    def run(lib):
        optimizer = lib.optim.SGD([lib.ones(1, requires_grad=True)], lr=1.0)
        first = lib.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
        second = lib.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        rates = []
        for _ in range(7):
            optimizer.step()
            first.step()
            second.step()
            rates.append(optimizer.param_groups[0]["lr"])
        return rates

    assert run(ember) == pytest.approx(run(torch), rel=1e-12)


@pytest.mark.parametrize("name, kwargs", SCHEDULERS[:4], ids=SCHEDULER_IDS[:4])
def test_step_with_epoch_uses_closed_form_and_warns(name, kwargs):
    optimizer, scheduler = _scheduled(ember, name, kwargs)
    reference, expected = _scheduled(torch, name, kwargs)
    optimizer.step()
    reference.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        scheduler.step(6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected.step(6)
    assert scheduler.get_last_lr() == pytest.approx(expected.get_last_lr(), rel=1e-12)


@pytest.mark.parametrize("name, kwargs", SCHEDULERS, ids=SCHEDULER_IDS)
def test_scheduler_state_dict_round_trip(name, kwargs):
    """A scheduler saved mid-way and loaded into a fresh one continues the same sequence."""
    optimizer, scheduler = _scheduled(ember, name, kwargs)
    for _ in range(5):
        optimizer.step()
        scheduler.step()
    saved_optimizer, saved_scheduler = optimizer.state_dict(), scheduler.state_dict()

    resumed_optimizer, resumed = _scheduled(ember, name, kwargs)
    resumed_optimizer.load_state_dict(saved_optimizer)
    resumed.load_state_dict(saved_scheduler)
    for _ in range(5):
        optimizer.step()
        resumed_optimizer.step()
        scheduler.step()
        resumed.step()
        assert resumed.get_last_lr() == scheduler.get_last_lr()
        assert _momenta(resumed_optimizer) == _momenta(optimizer)


@pytest.mark.parametrize("name, kwargs", SCHEDULERS, ids=SCHEDULER_IDS)
def test_resuming_from_last_epoch_matches_torch(name, kwargs):
    """A scheduler created with last_epoch=3 on groups that carry their schedule's entries."""
    def run(lib):
        optimizer = lib.optim.SGD([{"params": [lib.ones(1, requires_grad=True)]},
                                   {"params": [lib.ones(1, requires_grad=True)]}], lr=1.0,
                                  momentum=0.9)
        for group in optimizer.param_groups:
            group.update(initial_lr=2.0, max_lr=1.0, min_lr=1e-4, max_momentum=0.95,
                         base_momentum=0.85)
        scheduler = getattr(lib.optim.lr_scheduler, name)(optimizer, last_epoch=3, **kwargs)
        rates = [scheduler.get_last_lr()]
        for _ in range(5):
            optimizer.step()
            scheduler.step()
            rates.append(scheduler.get_last_lr())
        return np.array(rates)

    np.testing.assert_allclose(run(ember), run(torch), rtol=1e-12)


def test_lambda_lr_saves_callable_objects_only():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    optimizer = ember.optim.SGD([{"params": [ember.ones(1, requires_grad=True)]},
                                 {"params": [ember.ones(1, requires_grad=True)]}], lr=1.0)
    scheduler = lr_scheduler.LambdaLR(optimizer, [Decay(0.5), lambda epoch: 1.0])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]

    fresh_optimizer = ember.optim.SGD([{"params": [ember.ones(1, requires_grad=True)]},
                                       {"params": [ember.ones(1, requires_grad=True)]}], lr=1.0)
    fresh = lr_scheduler.LambdaLR(fresh_optimizer, [Decay(0.9), lambda epoch: 1.0])
    fresh.load_state_dict(state)
    assert fresh.lr_lambdas[0].rate == 0.5
    assert "lr_lambdas" in state  # the caller's dict is left whole


def test_scheduler_before_optimizer_step_warns():
    optimizer = ember.optim.SGD([ember.ones(1, requires_grad=True)], lr=1.0)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        scheduler.step()

    optimizer = ember.optim.Adam([ember.ones(1, requires_grad=True)], lr=1.0)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=1)
    optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()


def test_scheduler_errors():
    param = ember.ones(1, requires_grad=True)
    with pytest.raises(TypeError, match="^object is not an Optimizer$"):
        lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(ember.optim.SGD([param]), step_size=2, last_epoch=3)
    with pytest.raises(ValueError, match="total_steps OR"):
        lr_scheduler.OneCycleLR(ember.optim.SGD([param]), max_lr=1.0)
    with pytest.raises(ValueError, match="Expected positive integer total_steps, but got 0"):
        lr_scheduler.OneCycleLR(ember.optim.SGD([param]), max_lr=1.0, total_steps=0)
    with pytest.raises(ValueError, match="anneal_strategy must be one of"):
        lr_scheduler.OneCycleLR(ember.optim.SGD([param]), 1.0, 5, anneal_strategy="exp")
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        lr_scheduler.OneCycleLR(ember.optim.Adagrad([param]), max_lr=1.0, total_steps=5)
    with pytest.raises(ValueError, match="expected 1 values for max_lr, got 2"):
        lr_scheduler.OneCycleLR(ember.optim.SGD([param]), [1.0, 2.0], 5)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        lr_scheduler.LambdaLR(ember.optim.SGD([param]), [abs, abs])

    optimizer = ember.optim.SGD([param], momentum=0.9)
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=2)
    optimizer.step()
    scheduler.step()
    scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 3 times. The specified number of total "
                                         "steps is 2"):
        scheduler.step()


# ---- LBFGS --------------------------------------------------------------------------------

def _rosenbrock_run(lib, dtype, line_search_fn, steps=5, history_size=5, state=None):
    """LBFGS on the 4-d Rosenbrock function; the parameters after each ``step``."""
    x = lib.tensor(np.array([-1.5, 2.0, 0.5, -0.7], dtype=dtype), requires_grad=True)
    optimizer = lib.optim.LBFGS([x], lr=1 if line_search_fn else 0.1, max_iter=10,
                                history_size=history_size, line_search_fn=line_search_fn)
    if state is not None:
        optimizer.load_state_dict(state)

    def closure():
        optimizer.zero_grad()
        loss = (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
        loss.backward()
        return loss

    iterates = []
    for _ in range(steps):
        optimizer.step(closure)
        iterates.append(_to_numpy(x).copy())
    return np.array(iterates), optimizer


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_on_rosenbrock_matches_torch_iterates(line_search_fn):
    ours, optimizer = _rosenbrock_run(ember, "float64", line_search_fn)
    expected, reference = _rosenbrock_run(torch, "float64", line_search_fn)
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)
    state, torch_state = optimizer.state_dict()["state"][0], reference.state_dict()["state"][0]
    assert list(state) == list(torch_state)
    for key in ("func_evals", "n_iter", "prev_loss"):
        assert state[key] == pytest.approx(torch_state[key], rel=1e-10)
    for key in ("d", "prev_flat_grad"):
        np.testing.assert_allclose(_to_numpy(state[key]), torch_state[key].numpy(), rtol=1e-7,
                                   atol=1e-12)
    assert len(state["old_dirs"]) == len(torch_state["old_dirs"]) == 5  # the history is full
    assert optimizer.state_dict()["param_groups"] == reference.state_dict()["param_groups"]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_float32_matches_torch_on_a_quadratic(line_search_fn, rng):
    """float32 scalars round as PyTorch's 0-d tensors do (Rosenbrock's ill-conditioning would
    amplify the last bit of a dot product, so a well-conditioned problem here)."""
    target, scales = rng.standard_normal(6).astype(np.float32), np.linspace(1, 4, 6)

    def run(lib):
        x = lib.zeros(6, requires_grad=True)
        optimizer = lib.optim.LBFGS([x], lr=0.8, max_iter=4, line_search_fn=line_search_fn)
        goal, weights = lib.tensor(target), lib.tensor(scales.astype(np.float32))

        def closure():
            optimizer.zero_grad()
            loss = (weights * (x - goal) ** 2).sum() + (x ** 4).sum() * 0.01
            loss.backward()
            return loss

        losses = [optimizer.step(closure).item() for _ in range(3)]
        return losses, _to_numpy(x)

    (losses, x), (expected_losses, expected_x) = run(ember), run(torch)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-5)
    np.testing.assert_allclose(x, expected_x, rtol=1e-5, atol=1e-6)


def _to_ember(value):
    """A PyTorch state value with its tensors as ember tensors."""
    if isinstance(value, torch.Tensor):
        return ember.tensor(value.numpy())
    if isinstance(value, list):
        return [_to_ember(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_ember(item) for key, item in value.items()}
    return value


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_resumes_from_its_own_and_torchs_state_dict(line_search_fn):
    uninterrupted, _ = _rosenbrock_run(ember, "float64", line_search_fn, steps=4)
    first, optimizer = _rosenbrock_run(ember, "float64", line_search_fn, steps=2)
    _, reference = _rosenbrock_run(torch, "float64", line_search_fn, steps=2)
    for saved in (optimizer.state_dict(), _to_ember(reference.state_dict())):
        # Restart from the parameters after two steps, with the saved history.
        def resumed(lib, state):
            x = lib.tensor(first[-1], requires_grad=True)
            optimizer = lib.optim.LBFGS([x], lr=1 if line_search_fn else 0.1, max_iter=10,
                                        history_size=5, line_search_fn=line_search_fn)
            optimizer.load_state_dict(state)

            def closure():
                optimizer.zero_grad()
                loss = (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
                loss.backward()
                return loss

            return [_to_numpy(x).copy() for _ in range(2) if optimizer.step(closure) is not None]

        np.testing.assert_allclose(resumed(ember, saved), uninterrupted[2:], rtol=1e-10)


def test_lbfgs_time_sequence_prediction_pattern():
    """pytorch/examples time_sequence_prediction: ``LBFGS(params, lr=0.8)`` with a closure
    around a small network; the losses match PyTorch's."""
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((16, 3)).astype(np.float32)
    targets = np.sin(inputs.sum(axis=1, keepdims=True)).astype(np.float32)
    weights = [rng.standard_normal(shape).astype(np.float32) * 0.5
               for shape in ((3, 8), (8,), (8, 1), (1,))]

    def run(lib):
        params = [lib.tensor(w, requires_grad=True) for w in weights]
        optimizer = lib.optim.LBFGS(params, lr=0.8)
        x, y = lib.tensor(inputs), lib.tensor(targets)

        def closure():
            optimizer.zero_grad()
            hidden = lib.tanh(x @ params[0] + params[1])
            loss = ((hidden @ params[2] + params[3] - y) ** 2).mean()
            loss.backward()
            return loss

        return [optimizer.step(closure).item() for _ in range(3)]

    np.testing.assert_allclose(run(ember), run(torch), rtol=2e-4)


def test_lbfgs_errors_like_torch():
    a, b = ember.ones(1, requires_grad=True), ember.ones(1, requires_grad=True)
    with pytest.raises(ValueError, match="^LBFGS doesn't support per-parameter options "):
        ember.optim.LBFGS([{"params": [a]}, {"params": [b]}])
    optimizer = ember.optim.LBFGS([a], line_search_fn="backtracking")

    def closure():
        optimizer.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="^only 'strong_wolfe' is supported$"):
        optimizer.step(closure)
    assert repr(ember.optim.LBFGS([a])) == repr(torch.optim.LBFGS([torch.ones(1,
                                                                           requires_grad=True)]))


def test_lbfgs_stops_at_once_on_a_zero_gradient():
    x = ember.zeros(3, requires_grad=True)
    optimizer = ember.optim.LBFGS([x])

    def closure():
        optimizer.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    assert optimizer.step(closure).item() == 0.0
    assert optimizer.state[x] == {"func_evals": 1, "n_iter": 0}


# ---- SequentialLR and ReduceLROnPlateau -----------------------------------------------------

def _sequential(lib):
    optimizer, warmup = _scheduled(lib, "LinearLR", dict(start_factor=0.2, total_iters=3))
    decay = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=5)
    late = lib.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    scheduler = lib.optim.lr_scheduler.SequentialLR(optimizer, [warmup, decay, late],
                                                    milestones=[3, 8])
    return optimizer, scheduler


def test_sequential_lr_matches_torch():
    (optimizer, scheduler), (reference, expected) = _sequential(ember), _sequential(torch)
    for _ in range(14):
        assert scheduler.get_last_lr() == pytest.approx(expected.get_last_lr(), rel=1e-12)
        assert [g["lr"] for g in optimizer.param_groups] == pytest.approx(
            [g["lr"] for g in reference.param_groups], rel=1e-12)
        optimizer.step()
        reference.step()
        scheduler.step()
        expected.step()
    state = scheduler.state_dict()
    assert set(state) <= set(expected.state_dict())
    assert state["last_epoch"] == expected.state_dict()["last_epoch"]

    resumed_optimizer, resumed = _sequential(ember)
    resumed_optimizer.load_state_dict(optimizer.state_dict())
    resumed.load_state_dict(state)
    for _ in range(3):
        scheduler.step()
        resumed.step()
        assert resumed.get_last_lr() == scheduler.get_last_lr()


def test_sequential_lr_errors_like_torch():
    def build(lib, case):
        optimizer, first = _scheduled(lib, "StepLR", dict(step_size=2))
        other, _ = _scheduled(lib, "StepLR", dict(step_size=2))
        schedulers = {"none": [], "milestones": [first, first],
                      "optimizer": [first, lib.optim.lr_scheduler.StepLR(other, 2)],
                      "plateau": [first, lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer)]}
        milestones = [] if case in ("none", "milestones") else [3]
        lib.optim.lr_scheduler.SequentialLR(optimizer, schedulers[case], milestones)

    for case in ("none", "milestones", "plateau"):
        ours = _outcome(lambda case=case: build(ember, case))
        assert ours[0] == "ValueError"
        assert ours == _outcome(lambda case=case: build(torch, case))
    assert _outcome(lambda: build(ember, "optimizer"))[0] == "ValueError"


PLATEAUS = [dict(), dict(mode="max", factor=0.5, patience=1, threshold_mode="abs", cooldown=2),
            dict(patience=0, min_lr=[0.02, 0.04], threshold=0.1, eps=1e-3)]


@pytest.mark.parametrize("kwargs", PLATEAUS)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.97, 0.89, 0.9, 0.91, 0.92, 0.5, 0.6, 0.7, 0.8, 0.9] * 3
    optimizer, scheduler = _scheduled(ember, "ReduceLROnPlateau", kwargs)
    reference, expected = _scheduled(torch, "ReduceLROnPlateau", kwargs)
    for metric in metrics:
        optimizer.step()
        reference.step()
        scheduler.step(ember.tensor(metric))
        expected.step(torch.tensor(metric))
        assert scheduler.get_last_lr() == pytest.approx(expected.get_last_lr(), rel=1e-12)
        assert scheduler.num_bad_epochs == expected.num_bad_epochs
    state, torch_state = scheduler.state_dict(), expected.state_dict()
    assert {key: torch_state[key] for key in state} == state


def test_reduce_lr_on_plateau_errors_like_torch():
    for kwargs in (dict(factor=1.0), dict(mode="middle"), dict(threshold_mode="log"),
                   dict(min_lr=[0.1])):
        ours = _outcome(lambda kwargs=kwargs: _scheduled(ember, "ReduceLROnPlateau", kwargs))
        assert ours[0] == "ValueError"
        assert ours == _outcome(lambda kwargs=kwargs: _scheduled(torch, "ReduceLROnPlateau",
                                                                 kwargs))


def test_cosine_warm_restarts_fractional_epochs_match_torch():
    (optimizer, scheduler), (_, expected) = (
        _scheduled(lib, "CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=3))
        for lib in (ember, torch))
    for epoch in np.arange(0, 12, 0.25):
        optimizer.step()
        scheduler.step(float(epoch))
        expected.step(float(epoch))
        assert scheduler.get_last_lr() == pytest.approx(expected.get_last_lr(), rel=1e-12)
    with pytest.raises(ValueError, match="^Expected non-negative epoch, but got -1$"):
        scheduler.step(-1)


def _chained(lib):
    optimizer, constant = _scheduled(lib, "ConstantLR", dict(factor=0.5, total_iters=3))
    decay = lib.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    return optimizer, lib.optim.lr_scheduler.ChainedScheduler([constant, decay])


def test_chained_scheduler_matches_torch():
    (optimizer, scheduler), (reference, expected) = _chained(ember), _chained(torch)
    for _ in range(6):
        assert scheduler.get_last_lr() == pytest.approx(expected.get_last_lr(), rel=1e-12)
        optimizer.step()
        reference.step()
        scheduler.step()
        expected.step()
    assert set(scheduler.state_dict()) <= set(expected.state_dict())


def test_cyclic_lr_cycles_adam_beta1_like_torch():
    optimizer, scheduler = _scheduled(ember, "CyclicLR", dict(base_lr=0.01, max_lr=0.1,
                                                              step_size_up=2), "Adam")
    reference, expected = _scheduled(torch, "CyclicLR", dict(base_lr=0.01, max_lr=0.1,
                                                             step_size_up=2), "Adam")
    for _ in range(7):
        optimizer.step()
        reference.step()
        scheduler.step()
        expected.step()
        assert _momenta(optimizer) == pytest.approx(_momenta(reference), rel=1e-12)
        assert scheduler.get_last_lr() == pytest.approx(expected.get_last_lr(), rel=1e-12)


def test_sparse_adam_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="sparse gradients"):
        ember.optim.SparseAdam([ember.ones(2, requires_grad=True)])


def test_lbfgs_trains_time_sequence_prediction_like_torch():
    """pytorch/examples time_sequence_prediction: two LSTMCells and a Linear in float64,
    ``LBFGS(seq.parameters(), lr=0.8)`` stepped with a closure; the losses match PyTorch's."""
    def build(lib):
        nn = lib.nn

        class Sequence(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm1, self.lstm2 = nn.LSTMCell(1, 8), nn.LSTMCell(8, 8)
                self.linear = nn.Linear(8, 1)

            def forward(self, input):
                state1 = (lib.zeros(input.size(0), 8, dtype=lib.double),) * 2
                state2 = (lib.zeros(input.size(0), 8, dtype=lib.double),) * 2
                outputs = []
                for input_t in input.split(1, dim=1):
                    state1 = self.lstm1(input_t, state1)
                    state2 = self.lstm2(state1[0], state2)
                    outputs.append(self.linear(state2[0]))
                return lib.cat(outputs, dim=1)

        return Sequence().double()

    ours, theirs = build(ember), build(torch)
    ours.load_state_dict({key: ember.tensor(value.detach().numpy())
                          for key, value in theirs.state_dict().items()})
    waves = np.sin(np.arange(4 * 10).reshape(4, 10) / 4.0)
    results = []
    for lib, model in ((ember, ours), (torch, theirs)):
        inputs, targets = lib.tensor(waves[:, :-1]), lib.tensor(waves[:, 1:])
        optimizer = lib.optim.LBFGS(model.parameters(), lr=0.8)

        def closure(lib=lib, model=model, optimizer=optimizer, inputs=inputs,
                    targets=targets):
            optimizer.zero_grad()
            loss = lib.nn.MSELoss()(model(inputs), targets)
            loss.backward()
            return loss

        results.append([optimizer.step(closure).item() for _ in range(2)])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-8)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "Adamax", "NAdam"])
def test_a_numpy_float_learning_rate_updates_as_a_python_float(name):
    """A rate that is a NumPy float64 (from a scheduler's lambda using np.cos) must not turn
    the float32 update into float64 arithmetic: the same bits as the Python float's (which
    the other tests compare with PyTorch)."""
    rng = np.random.default_rng(0)
    start, grads = rng.standard_normal(64).astype(np.float32), rng.standard_normal((3, 64))
    rate = np.float64(0.1) * np.cos(np.float64(0.3))
    results = []
    for lr in (rate, float(rate)):
        weights = ember.tensor(start, requires_grad=True)
        opt = getattr(ember.optim, name)([weights], lr=lr)
        for grad in grads.astype(np.float32):
            weights.grad = ember.tensor(grad)
            opt.step()
        results.append(weights.detach().numpy())
    np.testing.assert_array_equal(results[0], results[1])

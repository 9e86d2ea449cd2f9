"""The compiled log_softmax and nll_loss kernels (ember/_C/loss.c) against their NumPy twins in
ops/activation.py and ops/loss.py: values, gradients and errors of cross_entropy, nll_loss and
log_softmax over shapes, dtypes and options (tests/test_ops.py compares both modes with
PyTorch)."""

import numpy as np
import pytest
from capture import NoHostReads
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember.nn.functional as F
from ember import _C

needs_kernels = pytest.mark.skipif(_C.kernels is None, reason=f"ember._C: {_C.reason}")


@pytest.fixture
def numpy_only(monkeypatch):
    """Run the NumPy code for the duration of a test, as EMBER_NO_EXTENSION=1 does."""
    monkeypatch.setattr(_C, "kernels", None)


def _both_modes(run):
    """``run()`` with the kernels, then with the NumPy code."""
    compiled = run()
    kernels, _C.kernels = _C.kernels, None
    try:
        return compiled, run()
    finally:
        _C.kernels = kernels


def _assert_close(got, want, dtype):
    tolerance = 2e-6 if dtype == np.float32 else 1e-13
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance)


@needs_kernels
@settings(max_examples=60, deadline=None)
@given(rows=st.integers(0, 6), classes=st.integers(1, 7),
       dtype=st.sampled_from([np.float32, np.float64]),
       reduction=st.sampled_from(["mean", "sum", "none"]), weighted=st.booleans(),
       ignore=st.sampled_from([None, 0, 1]), smoothing=st.sampled_from([0.0, 0.2]),
       one_sample=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_cross_entropy_kernels_match_numpy(rows, classes, dtype, reduction, weighted, ignore,
                                           smoothing, one_sample, seed):
    rng = np.random.default_rng(seed)
    shape = (classes,) if one_sample else (rows, classes)
    logits = (rng.standard_normal(shape) * 3).astype(dtype)
    target = rng.integers(0, classes, shape[:-1])
    weight = rng.uniform(0.5, 2, classes).astype(dtype) if weighted else None
    options = dict(reduction=reduction, label_smoothing=smoothing)
    if ignore is not None:
        options["ignore_index"] = ignore

    def run():
        x = ember.tensor(logits, requires_grad=True)
        w = None if weight is None else ember.tensor(weight)
        loss = F.cross_entropy(x, ember.tensor(target), w, **options)
        # A gradient per sample for 'none', so that every row's coefficient is checked.
        scale = ember.tensor(rng.uniform(0.5, 2, loss.shape).astype(dtype)) \
            if reduction == "none" else 1.0
        (loss * scale).sum().backward()
        return loss.detach().numpy(), x.grad.numpy()

    state = rng.bit_generator.state
    compiled = run()
    rng.bit_generator.state = state  # the same gradient scales for both
    kernels, _C.kernels = _C.kernels, None
    try:
        reference = run()
    finally:
        _C.kernels = kernels
    _assert_close(compiled, reference, dtype)


@needs_kernels
@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4), data=st.data(),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2 ** 16))
def test_log_softmax_kernels_match_numpy_along_any_dimension(shape, data, dtype, seed):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(seed)
    values = (rng.standard_normal(shape) * 4).astype(dtype)
    upstream = rng.standard_normal(shape).astype(dtype)

    def run():
        x = ember.tensor(values, requires_grad=True)
        y = F.log_softmax(x, dim)
        y.backward(ember.tensor(upstream))
        return y.detach().numpy(), x.grad.numpy()

    _assert_close(*_both_modes(run), dtype)


@needs_kernels
def test_log_softmax_kernel_keeps_extreme_rows():
    values = np.array([[1e4, 0.0, -1e4], [np.inf, 0.0, 1.0], [np.nan, 0.0, 1.0],
                       [-np.inf, -np.inf, 0.0]], np.float32)
    compiled, reference = _both_modes(lambda: F.log_softmax(ember.tensor(values), 1).numpy())
    np.testing.assert_array_equal(compiled, reference)


@needs_kernels
def test_float32_exp_of_the_kernels_is_within_two_units_in_the_last_place():
    # log_softmax's backward with upstream gradient (0, 1) on a row (x, 0) gives -exp(x) first.
    x = np.concatenate([np.linspace(-87.3, 88.3, 400001), [-87.4, -1e3, -np.inf, 89.0, np.inf,
                                                           np.nan]]).astype(np.float32)
    rows = np.stack([x, np.zeros_like(x)], axis=1)
    upstream = np.tile(np.array([0, 1], np.float32), (len(x), 1))
    grad = np.empty_like(rows)
    _C.kernels.log_softmax_backward(upstream, rows, grad, len(x), 2, 1)
    got, want = -grad[:, 0].astype(np.float64), np.exp(x.astype(np.float64))
    np.testing.assert_allclose(got[:-6], want[:-6], rtol=2.5e-7, atol=0)
    # Below the smallest normal float: 0; above the largest: infinite; NaN stays NaN.
    np.testing.assert_array_equal(got[-6:], [0, 0, 0, np.inf, np.inf, np.nan])


@pytest.mark.parametrize("kernels", [True, False])
@pytest.mark.parametrize("target, bad", [([0, 5, -3], 5), ([0, -1, 2], -1), ([-100, -2, 1], -2)])
def test_out_of_range_targets_raise_in_both_modes(monkeypatch, kernels, target, bad):
    if not kernels:
        monkeypatch.setattr(_C, "kernels", None)
    elif _C.kernels is None:
        pytest.skip(f"ember._C: {_C.reason}")
    logits = ember.randn(3, 4, requires_grad=True)
    with pytest.raises(IndexError, match=f"^Target {bad} is out of bounds.$"):
        F.cross_entropy(logits, ember.tensor(target))
    # The ignored index is exempt: -1 here counts as no target, not as class 3.
    F.cross_entropy(logits, ember.tensor([0, -1, 2]), ignore_index=-1).backward()
    assert not logits.grad.numpy()[1].any()


@needs_kernels
def test_tutorial_shapes_run_the_kernels(monkeypatch):
    called = []
    for name in ("log_softmax_forward", "log_softmax_backward", "nll_loss_forward",
                 "nll_loss_backward"):
        kernel = getattr(_C.kernels, name)
        monkeypatch.setattr(_C, "kernels", _Spy(_C.kernels, name, kernel, called))
    for batch in (1, 64, 256):
        called.clear()
        logits = ember.randn(batch, 10, requires_grad=True)
        loss = ember.nn.CrossEntropyLoss()(logits, ember.randint(0, 10, (batch,)))
        loss.backward()
        assert sorted(called) == ["log_softmax_backward", "log_softmax_forward",
                                  "nll_loss_backward", "nll_loss_forward"]
        assert type(loss.grad_fn).__name__ == "NllLossBackward0"
        assert type(loss.grad_fn.next_functions[0][0]).__name__ == "LogSoftmaxBackward0"


class _Spy:
    """The kernels module with one kernel replaced by a wrapper that notes each call."""

    def __init__(self, module, name, kernel, called):
        self._module, self._name, self._kernel, self._called = module, name, kernel, called

    def __getattr__(self, attribute):
        if attribute != self._name:
            return getattr(self._module, attribute)

        def noted(*args):
            self._called.append(attribute)
            return self._kernel(*args)
        return noted


@needs_kernels
def test_nll_kernels_refuse_arrays_they_cannot_read():
    forward = _C.kernels.nll_loss_forward
    logits, out = np.zeros((2, 3), np.float32), np.zeros((), np.float32)
    with pytest.raises(TypeError, match="int64"):
        forward(logits, np.zeros(2, np.int32), None, out, 2, 3, -100, 1)
    with pytest.raises(ValueError, match="expected 2 elements, got 3"):
        forward(logits, np.zeros(3, np.int64), None, out, 2, 3, -100, 1)
    with pytest.raises(ValueError, match="expected 8 elements, got 6"):
        forward(logits, np.zeros(2, np.int64), None, out, 2, 4, -100, 1)
    with pytest.raises(ValueError, match="expected 2 elements, got 1"):  # 'none' needs 2
        forward(logits, np.zeros(2, np.int64), None, out, 2, 3, -100, 0)
    with pytest.raises(ValueError, match="invalid reduction"):
        forward(logits, np.zeros(2, np.int64), None, out, 2, 3, -100, 3)
    with pytest.raises(TypeError, match="float32"):
        forward(logits, np.zeros(2, np.int64), np.ones(3), out, 2, 3, -100, 1)
    with pytest.raises(ValueError, match="invalid sizes"):
        _C.kernels.log_softmax_forward(logits, logits.copy(), -1, 3, 2)
    assert out == 0


@pytest.mark.parametrize("shape", [(4, 5), (2, 5, 3)])
@pytest.mark.parametrize("ignore_index", [-100, 1])
@pytest.mark.parametrize("weighted", [False, True])
def test_numpy_nll_loss_reads_no_target_on_the_host(numpy_only, shape, ignore_index, weighted):
    from ember.ops.loss import NllLoss
    rng = np.random.default_rng(0)
    target = rng.integers(0, 5, shape[:1] + shape[2:]).view(NoHostReads)
    weight = ember.tensor(rng.uniform(0.5, 2, 5).astype(np.float32)) if weighted else None
    for reduction in ("mean", "sum", "none"):
        logits = ember.randn(*shape, requires_grad=True)
        loss = NllLoss.apply(logits, target, weight, reduction, ignore_index)
        loss.sum().backward()
        want = ember.nn.functional.nll_loss(logits, ember.tensor(np.asarray(target).copy()),
                                            weight, ignore_index=ignore_index,
                                            reduction=reduction)
        # The loss is a NoHostReads array too: compared as a plain one.
        np.testing.assert_array_equal(loss.detach().numpy().view(np.ndarray),
                                      want.detach().numpy())
    with pytest.raises(IndexError, match="^Target 7 is out of bounds.$"):
        bad = np.array([0, 7, 1, 2]).view(NoHostReads)
        NllLoss.apply(ember.randn(4, 5), bad, None, "mean", ignore_index)

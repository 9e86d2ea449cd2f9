"""The compiled linear-layer and mse_loss kernels (ember/_C/linear.inc, loss.inc): the same bits
as their NumPy twins in ops/linalg.py and ops/loss.py, the same numbers as PyTorch, and the
NumPy code for what they do not take (strided views, other dtypes, broadcasting).

The PyTorch comparisons also run with EMBER_NO_EXTENSION=1 (the Makefile's NUMPY_ONLY_TESTS),
where they check the NumPy code alone; the kernel tests then skip."""

import numpy as np
import pytest
import torch
from capture import NoHostReads
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember.nn.functional as F
from ember import _C
from ember.ops import linalg, loss

needs_blas = pytest.mark.skipif(_C.kernels is None or not _C.gemm_ready(),
                                reason="no extension, or no OpenBLAS for it")
needs_kernels = pytest.mark.skipif(_C.kernels is None, reason=f"ember._C: {_C.reason}")

DTYPES = st.sampled_from([np.float32, np.float64])
# Sizes around the cases products treat apart: none, one, a few, past NumPy's 8-way sums.
SIZES = st.sampled_from([0, 1, 2, 3, 7, 8, 9, 17, 32, 130])


def _values(rng, shape, dtype, zeros: bool):
    """Normal values, with some exact (and negative) zeros where asked: sums of signed zeros
    show whether two paths add in the same order."""
    values = rng.standard_normal(shape).astype(dtype)
    if zeros:
        values[rng.random(shape) < 0.3] = -0.0
    return values


def _assert_same_bits(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def _spy(monkeypatch, name):
    """Count the calls of the kernel ``name`` (a list that grows by one per call)."""
    calls, kernel = [], getattr(_C.kernels, name)

    class Spy:
        def __getattr__(self, attribute):
            return getattr(kernels, attribute)

    def counted(*args):
        calls.append(args)
        return kernel(*args)

    kernels = _C.kernels
    spy = Spy()
    setattr(spy, name, counted)
    monkeypatch.setattr(_C, "kernels", spy)
    return calls


# ---- linear: the kernels against the NumPy twin, bit for bit ------------------------------

@needs_blas
@settings(max_examples=200, deadline=None)
@given(m=SIZES, n=SIZES.filter(bool), k=SIZES, dtype=DTYPES, with_bias=st.booleans(),
       weight_t=st.booleans(), input_t=st.booleans(), zeros=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_linear_kernels_have_the_numpy_bits(m, n, k, dtype, with_bias, weight_t, input_t,
                                             zeros, seed):
    """Forward and each subset of the backward's gradients; the weight as F.linear passes it
    (``weight.t()``, stored transposed) or as a plain matrix, the input either way too."""
    rng = np.random.default_rng(seed)
    mat1 = _values(rng, (k, m), dtype, zeros).T if input_t else _values(rng, (m, k), dtype,
                                                                         zeros)
    mat2 = _values(rng, (n, k), dtype, zeros).T if weight_t else _values(rng, (k, n), dtype,
                                                                          zeros)
    bias = _values(rng, (n,), dtype, zeros) if with_bias else None
    grad = _values(rng, (m, n), dtype, zeros)

    out = linalg.linear_forward_compiled(mat1, mat2, bias)
    want = linalg.matrix_product(mat1, mat2)
    if with_bias:
        want += bias
    _assert_same_bits(out, want)

    for needs_a in (False, True):
        for needs_b in (False, True):
            grads = linalg.linear_backward_compiled(grad, mat1 if needs_b else None,
                                                    mat2 if needs_a else None, with_bias)
            bias_grad, grad_a, grad_b = grads
            if with_bias:
                _assert_same_bits(bias_grad, grad.sum(axis=0))  # what the engine would do
            assert (grad_a is None) is not needs_a and (grad_b is None) is not needs_b
            if needs_a:
                _assert_same_bits(grad_a, linalg.matrix_product(grad, mat2.T))
            if needs_b:
                _assert_same_bits(grad_b, linalg.weight_gradient(mat1, grad))


@needs_blas
def test_bias_gradient_sums_as_numpy_for_long_columns():
    """One column: NumPy's pairwise sum (8 running sums, halves past 128 rows)."""
    rng = np.random.default_rng(1)
    for rows in (5, 8, 127, 128, 129, 1000, 4099):
        for columns in (1, 2, 5):
            grad = rng.standard_normal((rows, columns)).astype(np.float32)
            bias_grad, _, _ = linalg.linear_backward_compiled(grad, None, None, True)
            _assert_same_bits(bias_grad, grad.sum(axis=0))


@needs_blas
def test_nonfinite_values_pass_through_as_in_numpy():
    x = np.array([[np.inf, 1.0], [np.nan, -0.0], [1.0, 2.0]], np.float32)
    w = np.array([[1.0, 0.0], [-0.0, 2.0], [3.0, np.inf]], np.float32)
    b = np.array([0.0, -np.inf, 1.0], np.float32)
    with np.errstate(invalid="ignore"):
        want = linalg.matrix_product(x, w.T)
        want += b
        out = linalg.linear_forward_compiled(x, w.T, b)
    _assert_same_bits(out, want)


# ---- linear through F.linear: kernels on and off, and PyTorch ------------------------------

def _linear_step(framework, x, w, b, grad):
    x = framework.tensor(x, requires_grad=True)
    w = framework.tensor(w, requires_grad=True)
    b = None if b is None else framework.tensor(b, requires_grad=True)
    out = framework.nn.functional.linear(x, w, b)
    out.backward(framework.tensor(grad))
    grads = [x.grad, w.grad] + ([] if b is None else [b.grad])
    return [out.detach().numpy()] + [g.numpy() for g in grads]


SHAPES = [((8, 10), 32), ((1, 10), 32), ((1, 32), 1), ((8, 32), 1), ((0, 5), 3), ((4, 1), 3),
          ((4, 3), 1), ((1, 1), 1), ((2, 3, 4), 5), ((64, 576), 120)]


@pytest.mark.parametrize("shape, features", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_matches_pytorch(shape, features, dtype, with_bias):
    """Batch 1, an empty batch, one feature in or out, a 3-D input, a large layer."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((features, shape[-1])).astype(dtype)
    b = rng.standard_normal(features).astype(dtype) if with_bias else None
    grad = rng.standard_normal(shape[:-1] + (features,)).astype(dtype)
    tolerance = 2e-5 if dtype == np.float32 else 1e-12
    for got, want in zip(_linear_step(ember, x, w, b, grad), _linear_step(torch, x, w, b, grad)):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)


@needs_blas
@pytest.mark.parametrize("shape, features", SHAPES)
def test_linear_with_and_without_kernels_same_bits(shape, features, monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((features, shape[-1])).astype(np.float32)
    b = rng.standard_normal(features).astype(np.float32)
    grad = rng.standard_normal(shape[:-1] + (features,)).astype(np.float32)
    calls = _spy(monkeypatch, "linear_backward")
    compiled = _linear_step(ember, x, w, b, grad)
    assert calls  # the kernel ran
    monkeypatch.setattr(_C, "kernels", None)
    for got, want in zip(compiled, _linear_step(ember, x, w, b, grad)):
        _assert_same_bits(got, want)


def test_linear_graph_is_pytorchs():
    """The kernels change no node: addmm over the bias, the input and the weight's t()."""
    x, w = ember.randn(2, 3, requires_grad=True), ember.randn(4, 3, requires_grad=True)
    b = ember.randn(4, requires_grad=True)
    out = F.linear(x, w, b)
    assert out.grad_fn.name() == "AddmmBackward0"
    names = [None if f is None else f.name() for f, _ in out.grad_fn.next_functions]
    assert names == ["torch::autograd::AccumulateGrad", "torch::autograd::AccumulateGrad",
                     "TBackward0"]
    assert F.linear(x, w).grad_fn.name() == "MmBackward0"


def test_linear_gradients_against_finite_differences():
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    w = ember.randn(5, 4, dtype=ember.float64, requires_grad=True)
    b = ember.randn(5, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(F.linear, (x, w, b))
    assert ember.autograd.gradcheck(lambda x, w: F.linear(x, w), (x, w))
    one = ember.randn(1, 4, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(F.linear, (one, w, b))


@needs_blas
def test_strided_and_other_inputs_take_the_numpy_code(monkeypatch):
    """Views with strides, other dtypes and biases of another shape are not the kernels':
    they run the NumPy code, and give PyTorch's numbers."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 8)).astype(np.float32)
    w = rng.standard_normal((5, 4)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    strided = x[:, ::2]
    assert linalg.linear_forward_compiled(strided, w.T, b) is None
    assert linalg.linear_forward_compiled(x[:, :4], w[:, ::-1].T, b) is None
    assert linalg.linear_forward_compiled(x[:, :4], w.T, b[None]) is None  # (1, n): NumPy's
    assert linalg.linear_forward_compiled(x[:, :4].astype(np.float16), w.T.astype(np.float16),
                                          None) is None
    grad = rng.standard_normal((6, 5)).astype(np.float32)
    assert linalg.linear_backward_compiled(grad[:, ::-1], x[:, :4], w.T, True) is None
    calls = _spy(monkeypatch, "linear_forward")
    got = F.linear(ember.tensor(x)[:, ::2], ember.tensor(w), ember.tensor(b))
    assert not calls
    want = torch.nn.functional.linear(torch.tensor(x)[:, ::2], torch.tensor(w), torch.tensor(b))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=2e-6, atol=2e-6)
    # addmm with a full (rows, columns) bias: NumPy's code adds it, the engine sums nothing.
    full = rng.standard_normal((6, 5)).astype(np.float32)
    got = ember.addmm(ember.tensor(full), ember.tensor(x[:, :4]), ember.tensor(w).t())
    np.testing.assert_allclose(got.numpy(), full + x[:, :4] @ w.T, rtol=2e-6, atol=2e-6)


@needs_blas
def test_kernel_errors_are_raised():
    a, b = np.ones((2, 3), np.float32), np.ones((3, 4), np.float32)
    out = np.empty((2, 4), np.float32)
    with pytest.raises(ValueError, match="expected 12 elements, got 6"):
        _C.kernels.linear_forward(a, a, None, out, (2, 4, 3), False, False)
    with pytest.raises(TypeError, match="float64"):
        _C.kernels.linear_forward(a, b.astype(np.float64), None, out, (2, 4, 3), False, False)
    with pytest.raises(ValueError, match="invalid sizes"):
        _C.kernels.linear_forward(a, b, None, out, (-2, 4, 3), False, False)
    with pytest.raises(TypeError, match="required"):
        _C.kernels.linear_backward(out, None, None, a, None, None, (2, 4, 3), False, False)


# ---- mse_loss ------------------------------------------------------------------------------

def _mse_step(framework, x, t, reduction, target_grad: bool):
    x = framework.tensor(x, requires_grad=True)
    t = framework.tensor(t, requires_grad=target_grad)
    out = framework.nn.functional.mse_loss(x, t, reduction=reduction)
    out.backward(framework.ones_like(out))
    return [out.detach().numpy(), x.grad.numpy()] + ([t.grad.numpy()] if target_grad else [])


@needs_kernels
@settings(max_examples=150, deadline=None)
@given(shape=st.sampled_from([(), (0,), (1,), (8, 1), (7,), (9, 3), (130,), (2, 3, 5),
                              (3000,)]),
       dtype=DTYPES, reduction=st.sampled_from(["mean", "sum", "none"]),
       target_grad=st.booleans(), zeros=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_mse_kernels_have_the_numpy_bits(shape, dtype, reduction, target_grad, zeros, seed):
    rng = np.random.default_rng(seed)
    x, t = _values(rng, shape, dtype, zeros), _values(rng, shape, dtype, zeros)
    with pytest.MonkeyPatch.context() as monkeypatch:
        calls = _spy(monkeypatch, "mse_loss_backward")
        compiled = _mse_step(ember, x, t, reduction, target_grad)
        assert len(calls) == 1
        monkeypatch.setattr(_C, "kernels", None)
        numpy = _mse_step(ember, x, t, reduction, target_grad)
    for got, want in zip(compiled, numpy):
        if got.size == 1 and np.isnan(want).all():  # the mean of nothing
            assert np.isnan(got).all()
            continue
        _assert_same_bits(got, want)


@pytest.mark.parametrize("shape", [(8, 1), (1,), (0,), (3, 4), ()])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_matches_pytorch(shape, dtype, reduction):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(dtype)
    t = rng.standard_normal(shape).astype(dtype)
    tolerance = 2e-6 if dtype == np.float32 else 1e-12
    got, want = _mse_step(ember, x, t, reduction, True), _mse_step(torch, x, t, reduction, True)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance)  # NaN == NaN here


def test_mse_gradients_against_finite_differences():
    x = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    t = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    for reduction in ("mean", "sum", "none"):
        assert ember.autograd.gradcheck(
            lambda x, t, reduction=reduction: F.mse_loss(x, t, reduction=reduction), (x, t))


@needs_kernels
def test_mse_broadcast_and_strided_inputs_take_the_numpy_code(monkeypatch):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    t = rng.standard_normal((4, 6)).astype(np.float32)
    calls = _spy(monkeypatch, "mse_loss_forward")
    with pytest.warns(UserWarning, match="target size"):
        got = F.mse_loss(ember.tensor(x), ember.tensor(t[:1]))
    got_strided = F.mse_loss(ember.tensor(x)[:, ::2], ember.tensor(t)[:, ::2])
    assert not calls
    np.testing.assert_allclose(got.numpy(), ((x - t[:1]) ** 2).mean(), rtol=2e-6)
    np.testing.assert_allclose(got_strided.numpy(), ((x[:, ::2] - t[:, ::2]) ** 2).mean(),
                               rtol=2e-6)


# ---- capture safety, and a compiled training step --------------------------------------------

@needs_blas
def test_kernels_choose_without_reading_values(monkeypatch):
    """Choosing a kernel looks at shapes, dtypes and layouts only, never at values: run on
    arrays whose values cannot be read on the host (taken by the kernels for this test)."""
    monkeypatch.setattr(linalg, "_NUMPY_ARRAY", NoHostReads)
    monkeypatch.setattr(loss, "_NUMPY_ARRAY", NoHostReads)
    rng = np.random.default_rng(7)

    def tensor(shape, requires_grad=True):
        return ember.tensor(rng.standard_normal(shape).astype(np.float32).view(NoHostReads),
                            requires_grad=requires_grad)

    names = ("linear_forward", "linear_backward", "mse_loss_forward", "mse_loss_backward")
    counts = {name: _spy(monkeypatch, name) for name in names}
    x, w, b, y = tensor((8, 10), False), tensor((32, 10)), tensor(32), tensor((8, 32))
    for with_bias in (True, False):  # addmm and mm
        F.linear(x, w, b if with_bias else None).backward(tensor((8, 32), False))
    value = F.mse_loss(tensor((8, 32)), y)
    value.backward(ember.tensor(np.ones((), np.float32).view(NoHostReads)))
    assert [len(counts[name]) for name in names] == [2, 2, 1, 1]


MLP_STEPS = 20


def _train_mlp(compiled: bool):
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(10, 32), ember.nn.ReLU(),
                                ember.nn.Linear(32, 1))
    optimizer = ember.optim.SGD(model.parameters(), lr=0.01)

    def step(x, y):
        optimizer.zero_grad()
        value = F.mse_loss(model(x), y)
        value.backward()
        optimizer.step()
        return value

    run = ember.compile(step) if compiled else step
    rng = np.random.default_rng(8)
    losses = [run(ember.tensor(rng.standard_normal((8, 10)).astype(np.float32)),
                  ember.tensor(rng.standard_normal((8, 1)).astype(np.float32))).item()
              for _ in range(MLP_STEPS)]
    return losses, [p.detach().numpy().copy() for p in model.parameters()]


@needs_blas
def test_mlp_training_is_the_same_with_kernels_and_without(monkeypatch):
    """20 steps of the issue's MLP: eager and compiled, with the kernels and with the NumPy
    code, all four the same bits."""
    calls = _spy(monkeypatch, "linear_forward")
    runs = [_train_mlp(compiled) for compiled in (False, True)]
    assert calls
    monkeypatch.setattr(_C, "kernels", None)
    runs += [_train_mlp(compiled) for compiled in (False, True)]
    for losses, parameters in runs[1:]:
        assert losses == runs[0][0]
        for got, want in zip(parameters, runs[0][1]):
            _assert_same_bits(got, want)

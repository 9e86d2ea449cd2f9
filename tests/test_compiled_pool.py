"""The compiled pooling and ReLU kernels (ember/_C/pool.c, act.c) against their NumPy twins in
ops/pooling.py and ops/elementwise.py, and both against PyTorch on the edge cases: NaN (the
last NaN of a window wins), -inf windows beside padding, ties, infinite gradients, empty
batches. The op tests (tests/test_ops.py) compare both modes with PyTorch on op_db's samples."""

import contextlib

import numpy as np
import pytest
import torch
from capture import NoHostReads, watch_host_reads
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember.nn.functional as F
from ember import _C

needs_kernels = pytest.mark.skipif(_C.kernels is None, reason=f"ember._C: {_C.reason}")


@contextlib.contextmanager
def numpy_code():
    """Run the NumPy code inside the block, as EMBER_NO_EXTENSION=1 does."""
    kernels, _C.kernels = _C.kernels, None
    try:
        yield
    finally:
        _C.kernels = kernels


def _run(function, x, grad_seed, **options):
    """``function(x, **options)``'s output (and indices), and the input's gradient for a
    random output gradient with ties, zeros and an infinity among its values."""
    tensor = ember.tensor(x, requires_grad=True)
    result = function(tensor, **options)
    output, indices = result if isinstance(result, tuple) else (result, None)
    rng = np.random.default_rng(grad_seed)
    grad = rng.choice(np.array([-1.5, 0.0, 0.25, 2.0, np.inf], x.dtype), output.shape)
    output.backward(ember.tensor(grad))
    return (output.detach().numpy(), None if indices is None else indices.numpy(),
            tensor.grad.numpy())


# Values with many ties, signed zeros, infinities and NaN.
_VALUES = np.array([-np.inf, -2.0, -0.0, 0.0, 1.0, 1.0, 3.0, np.inf, np.nan])


@st.composite
def pool_cases(draw, dilation=True):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilations = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    padding = tuple(draw(st.integers(0, kernel[d] // 2)) for d in range(2))
    shape = (draw(st.integers(0, 3)), draw(st.integers(1, 3)),
             draw(st.integers(max(1, kernel[0] * dilations[0] - 2 * padding[0]), 12)),
             draw(st.integers(max(1, kernel[1] * dilations[1] - 2 * padding[1]), 12)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    special = draw(st.booleans())  # ties, NaN and infinities, or plain random numbers
    x = (rng.choice(_VALUES, shape) if special else rng.standard_normal(shape)).astype(dtype)
    options = dict(kernel_size=kernel, stride=stride, padding=padding,
                   ceil_mode=draw(st.booleans()))
    if dilation:
        options["dilation"] = dilations
    if len(x) and draw(st.booleans()):
        x = x[0]  # unbatched (C, H, W) input
    return x, seed, options


@needs_kernels
@settings(max_examples=150, deadline=None)
@given(case=pool_cases(), return_indices=st.booleans())
def test_max_pool2d_kernel_gives_the_numpy_bits(case, return_indices):
    x, seed, options = case
    compiled = _run(F.max_pool2d, x, seed, return_indices=return_indices, **options)
    with numpy_code():
        reference = _run(F.max_pool2d, x, seed, return_indices=return_indices, **options)
    for got, want in zip(compiled, reference):
        np.testing.assert_array_equal(got, want)


@needs_kernels
@settings(max_examples=60, deadline=None)
@given(shape=st.tuples(st.integers(0, 3), st.integers(1, 3), st.integers(2, 11),
                       st.integers(2, 35)),
       special=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_max_pool2x2_kernel_gives_the_numpy_bits(shape, special, dtype, seed):
    """Widths up to 35: rows of 1 to 17 windows, so the SSE2 steps (4 float32 or 2 float64
    windows, the last step overlapping the one before) meet every remainder, and the scalar
    loop rows too short for one step."""
    rng = np.random.default_rng(seed)
    x = (rng.choice(_VALUES, shape) if special else rng.standard_normal(shape)).astype(dtype)
    compiled = _run(F.max_pool2d, x, seed, kernel_size=2)
    with numpy_code():
        reference = _run(F.max_pool2d, x, seed, kernel_size=2)
    for got, want in zip(compiled, reference):
        np.testing.assert_array_equal(got, want)


@needs_kernels
@settings(max_examples=150, deadline=None)
@given(case=pool_cases(dilation=False), count_include_pad=st.booleans(),
       divisor_override=st.sampled_from([None, 3, -2]))
def test_avg_pool2d_kernel_gives_the_numpy_bits(case, count_include_pad, divisor_override):
    x, seed, options = case
    options.update(count_include_pad=count_include_pad, divisor_override=divisor_override)
    compiled = _run(F.avg_pool2d, x, seed, **options)
    with numpy_code():
        reference = _run(F.avg_pool2d, x, seed, **options)
    for got, want in zip(compiled, reference):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("compiled", [True, False])
@settings(max_examples=40, deadline=None)
@given(case=pool_cases())
def test_max_pool2d_matches_torch(compiled, case):
    x, seed, options = case
    with contextlib.nullcontext() if compiled else numpy_code():
        output, indices, grad = _run(F.max_pool2d, x, seed, return_indices=True, **options)
    want = torch.tensor(x, requires_grad=True)
    want_output, want_indices = torch.nn.functional.max_pool2d(want, return_indices=True,
                                                               **options)
    rng = np.random.default_rng(seed)
    values = np.array([-1.5, 0.0, 0.25, 2.0, np.inf], x.dtype)
    want_output.backward(torch.tensor(rng.choice(values, want_output.shape)))
    np.testing.assert_array_equal(output, want_output.detach().numpy())
    np.testing.assert_array_equal(indices, want_indices.numpy())
    # Overlapping windows sum their gradients in another order than PyTorch's.
    np.testing.assert_allclose(grad, want.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("compiled", [True, False])
def test_max_pool_nan_and_infinite_edges_as_torch(compiled):
    x = np.array([[[[np.nan, 1.0, np.nan, 5.0],
                    [2.0, np.nan, -np.inf, -np.inf],
                    [-np.inf, -np.inf, 0.0, -0.0],
                    [-np.inf, -np.inf, -0.0, 0.0]]]], np.float32)
    for options in [dict(kernel_size=2), dict(kernel_size=2, stride=1, padding=1),
                    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)]:
        tensor = ember.tensor(x, requires_grad=True)
        with contextlib.nullcontext() if compiled else numpy_code():
            output = F.max_pool2d(tensor, **options)
            output.backward(ember.ones_like(output) * ember.tensor(np.inf))
        want = torch.tensor(x, requires_grad=True)
        want_output = torch.nn.functional.max_pool2d(want, **options)
        want_output.backward(torch.full_like(want_output, np.inf))
        np.testing.assert_array_equal(output.detach().numpy(), want_output.detach().numpy())
        np.testing.assert_array_equal(tensor.grad.numpy(), want.grad.numpy())


@pytest.mark.parametrize("compiled", [True, False])
def test_empty_batch(compiled):
    with contextlib.nullcontext() if compiled else numpy_code():
        for function in (F.max_pool2d, F.avg_pool2d):
            for kernel_size in (2, 3):
                x = ember.zeros(0, 3, 8, 8, requires_grad=True)
                output = function(x, kernel_size)
                assert output.shape == (0, 3, 8 // kernel_size, 8 // kernel_size)
                output.sum().backward()
                assert x.grad.shape == (0, 3, 8, 8)


def test_in_place_change_of_the_input_is_caught_as_in_torch():
    x = ember.randn(1, 1, 4, 4, requires_grad=True)
    y = x * 1
    output = F.max_pool2d(y, 2)
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        output.sum().backward()


@needs_kernels
@settings(max_examples=60, deadline=None)
@given(shape=st.sampled_from([(), (0,), (7,), (3, 5), (2, 3, 33)]),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_relu_kernel_gives_the_numpy_bits(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.choice(_VALUES, shape).astype(dtype)
    grad = rng.choice(np.array([-1.0, 0.5, np.inf, np.nan]), shape).astype(dtype)
    results = []
    for context in (contextlib.nullcontext(), numpy_code()):
        with context:
            tensor = ember.tensor(x, requires_grad=True)
            output = F.relu(tensor)
            output.backward(ember.tensor(grad))
            results.append((output.detach().numpy(), tensor.grad.numpy()))
    bits = np.dtype(f"i{np.dtype(dtype).itemsize}")
    for got, want in zip(*results):
        np.testing.assert_array_equal(np.asarray(got).view(bits), np.asarray(want).view(bits))


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("op, options", [
    (F.max_pool2d, dict(kernel_size=2)),
    (F.max_pool2d, dict(kernel_size=3, stride=2, padding=1, return_indices=True)),
    (F.avg_pool2d, dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    (F.relu, {}),
])
def test_forward_and_backward_read_no_values(compiled, op, options):
    data = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    data[0, 0, 0, 0] = np.nan
    x = ember.Tensor._wrap(data.view(NoHostReads))
    x.requires_grad_(True)
    with contextlib.nullcontext() if compiled else numpy_code():
        with watch_host_reads() as reads:
            result = op(x, **options)
            output = result[0] if isinstance(result, tuple) else result
            output.backward(ember.Tensor._wrap(np.ones(output.shape, np.float32)
                                               .view(NoHostReads)))
    assert reads == []
    assert x.grad.shape == x.shape


def test_kernel_choice():
    # The NumPy code runs on what the kernels do not take: other dtypes, strided views.
    assert not _C.takes(np.zeros(4, np.int64))
    assert not _C.takes(np.zeros((4, 4), np.float32)[:, ::2])
    assert not _C.takes(np.zeros(4, np.float32), np.zeros(4, np.float64))
    assert _C.takes(np.zeros(4, np.float64)) == (_C.kernels is not None)
    x = ember.arange(32.0).reshape(2, 1, 4, 4).transpose(2, 3)  # strided: the NumPy code
    np.testing.assert_array_equal(F.max_pool2d(x, 2).numpy(),
                                  torch.nn.functional.max_pool2d(
                                      torch.arange(32.0).reshape(2, 1, 4, 4).transpose(2, 3),
                                      2).numpy())


@needs_kernels
def test_kernels_refuse_arrays_they_cannot_read():
    kernels = _C.kernels
    x, out = np.zeros((2, 4, 4), np.float32), np.zeros((2, 2, 2), np.float32)
    indices = np.zeros((2, 2, 2), np.int64)
    corners = np.zeros((2, 2, 2), np.int8)
    with pytest.raises(TypeError, match="int64"):
        kernels.max_pool2d_forward(x, out, indices.astype(np.int32), (4, 4), (2, 2), (2, 2),
                                   (2, 2), (0, 0), (1, 1))
    with pytest.raises(TypeError, match="int8"):
        kernels.max_pool2x2_forward(x, out, indices, (4, 4))
    with pytest.raises(ValueError, match="expected 8"):
        kernels.max_pool2x2_forward(x, out[:1], corners, (4, 4))
    # A corner number forward never writes sends the gradient nowhere.
    grad = np.ones((2, 4, 4), np.float32)
    kernels.max_pool2x2_backward(out + 1, corners - 7, grad, (4, 4))
    assert not grad.any()
    with pytest.raises(ValueError, match="planes"):
        kernels.max_pool2d_forward(x, out, indices, (3, 3), (2, 2), (2, 2), (2, 2), (0, 0),
                                   (1, 1))
    with pytest.raises(ValueError, match="invalid sizes"):
        kernels.max_pool2d_forward(x, out, indices, (4, 4), (2, 2), (0, 2), (2, 2), (0, 0),
                                   (1, 1))
    with pytest.raises(ValueError, match="too large"):
        kernels.avg_pool2d_forward(x, out, (4, 4), (2, 2), (2**40, 2), (2, 2), (0, 0), True, 0)
    with pytest.raises(ValueError, match="expected 8 pooled"):
        kernels.avg_pool2d_backward(out[:1], x, (4, 4), (2, 2), (2, 2), (2, 2), (0, 0),
                                    True, 0)
    with pytest.raises(TypeError, match="float32"):
        kernels.relu_backward(x, x.astype(np.float64), x)
    with pytest.raises(ValueError, match="expected 32 elements"):
        kernels.relu_forward(x, out)


@needs_kernels
@pytest.mark.parametrize("options", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)])
def test_batches_split_over_threads_give_the_same_bits(options):
    # Large enough for parallel_for to split the batch (with more than one thread).
    x = np.random.default_rng(3).standard_normal((64, 6, 30, 30)).astype(np.float32)
    for function in (F.max_pool2d, F.avg_pool2d):
        compiled = _run(function, x, 0, **options)
        with numpy_code():
            reference = _run(function, x, 0, **options)
        for got, want in zip(compiled, reference):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("compiled", [True, False])
def test_in_place_change_of_the_output_is_allowed_as_in_torch(compiled):
    x = ember.tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    with contextlib.nullcontext() if compiled else numpy_code():
        output = F.max_pool2d(x * 1, 2)
        output.relu_()
        output.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy().ravel(),
                                  [0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1])


@pytest.mark.parametrize("pool", [lambda x: F.max_pool2d(x, 2), lambda x: F.max_pool2d(x, 3, 2),
                                  lambda x: F.avg_pool2d(x, 3, 2)])
def test_pooling_opens_no_openblas_scope(monkeypatch, pool):
    # Pooling makes no matrix products: however large the batch, its split needs no
    # thread-count scope for OpenBLAS.
    from ember import _blas
    scopes = []
    limited = _blas.limited
    monkeypatch.setattr(_blas, "limited", lambda *args: scopes.append(1) or limited(*args))
    x = ember.randn(256, 16, 28, 28, requires_grad=True)
    assert 4 * x.numel() >= _blas.MIN_SCOPED_WORK
    pool(x).sum().backward()
    assert scopes == [] and x.grad is not None

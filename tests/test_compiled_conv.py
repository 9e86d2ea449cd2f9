"""The compiled convolution kernels (ember/_C/conv.c) against the NumPy code they replace: conv2d
and conv1d forward and backward over random geometries, and the wrappers' refusals. The op tests
(tests/test_ops.py -k conv) compare both paths with PyTorch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember.nn.functional as F
from ember import _C
from ember.ops import conv

needs_kernels = pytest.mark.skipif(_C.kernels is None, reason=f"ember._C: {_C.reason}")


class _Recorder:
    """Stands in for the kernels module and records which kernels an op calls."""

    def __init__(self, kernels):
        self.kernels, self.called = kernels, set()

    def __getattr__(self, name):
        self.called.add(name)
        return getattr(self.kernels, name)


def _run(function, arrays, with_kernels: bool):
    """``function``'s output and the gradients of every array, with or without the kernels
    (the sum of output * a fixed random weighting is what is differentiated)."""
    kernels = _C.kernels
    _C.kernels = kernels if with_kernels else None
    try:
        leaves = [None if a is None else ember.tensor(a, requires_grad=True) for a in arrays]
        output = function(*leaves)
        weighting = np.random.default_rng(7).standard_normal(output.shape)
        (output * ember.tensor(weighting.astype(arrays[0].dtype))).sum().backward()
        return [output.detach().numpy()] + [leaf.grad.numpy() for leaf in leaves
                                            if leaf is not None]
    finally:
        _C.kernels = kernels


def _assert_close(got, want, dtype):
    tolerance = 2e-5 if dtype == np.float32 else 1e-12
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=tolerance, atol=tolerance * max(1, abs(w).max(
            initial=0)))


@st.composite
def _conv2d_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    channels = groups * draw(st.integers(1, 3))
    out_channels = groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    if draw(st.booleans()) and stride == (1, 1):
        padding = "same"  # pads unevenly for even kernels
    else:
        padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    # Big enough for at least one output position.
    height = draw(st.integers(max(1, dilation[0] * (kernel[0] - 1) + 1 - 2 * 3), 9))
    width = draw(st.integers(max(1, dilation[1] * (kernel[1] - 1) + 1 - 2 * 3), 9))
    if padding != "same":
        need_h = dilation[0] * (kernel[0] - 1) + 1 - 2 * padding[0]
        need_w = dilation[1] * (kernel[1] - 1) + 1 - 2 * padding[1]
        height, width = max(height, need_h), max(width, need_w)
    batch = draw(st.sampled_from([0, 1, 2, 5]))
    return dict(batch=batch, channels=channels, out_channels=out_channels, kernel=kernel,
                stride=stride, dilation=dilation, padding=padding, groups=groups,
                size=(height, width), bias=draw(st.booleans()),
                dtype=draw(st.sampled_from([np.float32, np.float64])))


@needs_kernels
@settings(max_examples=150, deadline=None)
@given(case=_conv2d_cases())
def test_conv2d_kernels_match_numpy(case):
    rng = np.random.default_rng(0)
    dtype = case["dtype"]
    x = rng.standard_normal((case["batch"], case["channels"], *case["size"])).astype(dtype)
    w = rng.standard_normal((case["out_channels"], case["channels"] // case["groups"],
                             *case["kernel"])).astype(dtype)
    b = rng.standard_normal(case["out_channels"]).astype(dtype) if case["bias"] else None

    def function(x, w, b):
        return F.conv2d(x, w, b, case["stride"], case["padding"], case["dilation"],
                        case["groups"])

    _assert_close(_run(function, [x, w, b], True), _run(function, [x, w, b], False), dtype)


@needs_kernels
@settings(max_examples=40, deadline=None)
@given(batch=st.sampled_from([0, 1, 3]), length=st.integers(3, 12), kernel=st.integers(1, 4),
       stride=st.integers(1, 3), padding=st.integers(0, 2), dilation=st.integers(1, 2),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_conv1d_kernels_match_numpy(batch, length, kernel, stride, padding, dilation, dtype):
    length = max(length, dilation * (kernel - 1) + 1)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, 4, length)).astype(dtype)
    w = rng.standard_normal((3, 4, kernel)).astype(dtype)
    b = rng.standard_normal(3).astype(dtype)

    def function(x, w, b):
        return F.conv1d(x, w, b, stride, padding, dilation)

    _assert_close(_run(function, [x, w, b], True), _run(function, [x, w, b], False), dtype)


@needs_kernels
def test_the_tutorial_convolutions_run_the_kernels(monkeypatch):
    recorder = _Recorder(_C.kernels)
    monkeypatch.setattr(_C, "kernels", recorder)
    x = ember.randn(4, 6, 15, 15, requires_grad=True)
    layer = ember.nn.Conv2d(6, 16, 3, padding=1)
    # A weighted sum, so that the output's gradient is a contiguous array (the gradient of a
    # plain sum is a broadcast one, which the bias's gradient reads with NumPy).
    (layer(x) * ember.randn(4, 16, 15, 15)).sum().backward()
    assert recorder.called == {"conv2d_im2col", "conv2d_add_bias", "conv2d_col2im",
                               "conv2d_bias_grad"}


@needs_kernels
def test_odd_arrays_take_the_numpy_code(monkeypatch):
    recorder = _Recorder(_C.kernels)
    monkeypatch.setattr(_C, "kernels", recorder)
    rng = np.random.default_rng(2)
    w = ember.tensor(rng.standard_normal((2, 3, 2, 2)))
    transposed = ember.tensor(rng.standard_normal((1, 3, 5, 4))).transpose(2, 3)
    halves = ember.tensor(rng.standard_normal((1, 3, 5, 4)), dtype=ember.float16)
    got = F.conv2d(transposed, w).numpy()
    F.conv2d(halves, w.to(ember.float16))
    assert not recorder.called
    expected = F.conv2d(transposed.contiguous(), w).numpy()  # by the kernels
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@needs_kernels
def test_kernels_refuse_what_they_cannot_do_safely():
    kernels = _C.kernels
    geometry = (2, 4, 4, 3, 3, 1, 1, 0, 0, 1, 1, 2, 2)
    image = np.zeros((1, 2, 4, 4), np.float32)
    columns = np.zeros((1, 18, 4), np.float32)
    kernels.conv2d_im2col(image, columns, 1, geometry)
    with pytest.raises(ValueError, match="expected 72 elements, got 71"):
        kernels.conv2d_im2col(image, columns.ravel()[:-1], 1, geometry)
    with pytest.raises(ValueError, match="expected 144 elements, got 72"):
        kernels.conv2d_col2im(columns, image, 2, geometry)
    with pytest.raises(TypeError, match="float32"):
        kernels.conv2d_im2col(image, columns.astype(np.float64), 1, geometry)
    with pytest.raises(ValueError, match="positive"):
        kernels.conv2d_im2col(image, columns, 1, geometry[:5] + (0,) + geometry[6:])
    with pytest.raises(ValueError, match="too large"):
        kernels.conv2d_im2col(image, columns, 1, geometry[:3] + (2**40, 2**40) + geometry[5:])
    with pytest.raises(TypeError):
        kernels.conv2d_im2col(image, columns, 1, geometry[:-1])
    with pytest.raises((ValueError, BufferError)):
        kernels.conv2d_col2im(columns, np.zeros((1, 2, 4, 8), np.float32)[..., ::2], 1,
                              geometry)  # not contiguous
    with pytest.raises(ValueError, match="not images of 3 channels"):
        kernels.conv2d_add_bias(np.zeros(8, np.float32), np.zeros(3, np.float32), 2)
    with pytest.raises(ValueError, match="positive"):
        kernels.conv2d_bias_grad(np.zeros(8, np.float32), np.zeros(2, np.float32), 0)


@needs_kernels
def test_im2col_and_col2im_are_adjoint():
    # <im2col(x), c> == <x, col2im(c)> for every x and c: col2im is the transpose.
    rng = np.random.default_rng(3)
    geometry = (3, 6, 7, 3, 2, 2, 1, 1, 2, 2, 1, 2, 10)
    x = rng.standard_normal((2, 3, 6, 7))
    c = rng.standard_normal((2, 3 * 3 * 2, 20))
    columns, image = np.empty_like(c), np.empty_like(x)
    _C.kernels.conv2d_im2col(x, columns, 2, geometry)
    _C.kernels.conv2d_col2im(c, image, 2, geometry)
    assert np.isclose((columns * c).sum(), (x * image).sum(), rtol=1e-12)
    # The same columns as the NumPy im2col of the padded image.
    padded = conv.pad_spatial(x, ((1, 1), (2, 2)))
    np.testing.assert_array_equal(columns, conv.im2col(padded, (3, 2), (2, 1), (2, 1), (2, 10)))


@needs_kernels
@settings(max_examples=60, deadline=None)
@given(batch=st.sampled_from([0, 1, 3]), groups=st.sampled_from([1, 2]),
       size=st.tuples(st.integers(1, 6), st.integers(1, 6)),
       kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       extra=st.tuples(st.integers(0, 2), st.integers(0, 2)), bias=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_conv_transpose2d_kernels_match_numpy(batch, groups, size, kernel, stride, dilation,
                                              padding, extra, bias, dtype):
    output_padding = tuple(min(e, max(s, d) - 1) for e, s, d in zip(extra, stride, dilation))
    full = [(n - 1) * s + d * (k - 1) + 1 + o
            for n, s, d, k, o in zip(size, stride, dilation, kernel, output_padding)]
    padding = tuple(min(p, (f - 1) // 2) for p, f in zip(padding, full))  # output >= 1
    rng = np.random.default_rng(4)
    x = rng.standard_normal((batch, 2 * groups, *size)).astype(dtype)
    w = rng.standard_normal((2 * groups, 3, *kernel)).astype(dtype)
    b = rng.standard_normal(3 * groups).astype(dtype) if bias else None

    def function(x, w, b):
        return F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)

    _assert_close(_run(function, [x, w, b], True), _run(function, [x, w, b], False), dtype)


@needs_kernels
@settings(max_examples=60, deadline=None)
@given(batched=st.booleans(), channels=st.integers(1, 3),
       size=st.tuples(st.integers(1, 7), st.integers(1, 7)),
       kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_unfold_and_fold_kernels_match_numpy(batched, channels, size, kernel, stride, dilation,
                                             padding, dtype):
    size = tuple(max(n, d * (k - 1) + 1) for n, d, k in zip(size, dilation, kernel))
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, channels, *size)[0 if batched else 1:]).astype(dtype)
    options = dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride)

    def unfold(x):
        return F.unfold(x, **options)

    def fold(columns):
        return F.fold(columns, size, **options)

    _assert_close(_run(unfold, [x], True), _run(unfold, [x], False), dtype)
    columns = _run(unfold, [x], False)[0]
    _assert_close(_run(fold, [columns], True), _run(fold, [columns], False), dtype)

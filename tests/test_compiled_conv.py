"""The compiled convolution kernels (ember/_C/conv.c) against the NumPy code they replace: conv2d
and conv1d forward and backward over random geometries, and the wrappers' refusals. The op tests
(tests/test_ops.py -k conv) compare both paths with PyTorch.

Three paths run a conv2d: the whole convolution in one kernel call per range of images
(``conv2d_forward``/``conv2d_backward``, whose products call NumPy's BLAS: when
``_C.gemm_ready()``), the memory passes in kernels with NumPy's products between them (the
extension without BLAS), and the NumPy code (``EMBER_NO_EXTENSION=1``, CuPy, odd arrays)."""

import contextlib
import warnings

import numpy as np
import pytest
import torch
from capture import NoHostReads, watch_host_reads
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember.nn.functional as F
from ember import _C
from ember.ops import conv

needs_kernels = pytest.mark.skipif(_C.kernels is None, reason=f"ember._C: {_C.reason}")
needs_blas = pytest.mark.skipif(not _C.gemm_ready(), reason="no extension, or no OpenBLAS")


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
    # Big enough for at least one output position; rows up to 21 wide, so that im2col's and
    # col2im's row copies meet runs shorter than, equal to and longer than their 8-wide moves.
    height = draw(st.integers(max(1, dilation[0] * (kernel[0] - 1) + 1 - 2 * 3), 9))
    width = draw(st.integers(max(1, dilation[1] * (kernel[1] - 1) + 1 - 2 * 3), 21))
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
@pytest.mark.parametrize("blas", [True, False])
def test_the_tutorial_convolutions_run_the_kernels(monkeypatch, blas):
    recorder = _Recorder(_C.kernels)
    monkeypatch.setattr(_C, "kernels", recorder)
    if not blas:
        monkeypatch.setattr(_C, "gemm_ready", lambda: False)
    elif not _C.gemm_ready():
        pytest.skip("no OpenBLAS")
    x = ember.randn(4, 6, 15, 15, requires_grad=True)
    layer = ember.nn.Conv2d(6, 16, 3, padding=1)
    # A weighted sum, so that the output's gradient is a contiguous array (the gradient of a
    # plain sum is a broadcast one, which the bias's gradient reads with NumPy).
    (layer(x) * ember.randn(4, 16, 15, 15)).sum().backward()
    if blas:  # the whole convolution, one call each way
        assert recorder.called == {"conv2d_forward", "conv2d_backward"}
    else:  # the memory passes, with NumPy's products between them
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
    # Found in review: the whole-conv kernels took a missing grad_output (and dereferenced
    # it), and sized one image's columns from the geometry alone, where bytes could wrap to 0
    # while the buffers (no channels out, empty images) held nothing to check them by.
    if _C.gemm_ready():
        x, w = np.ones((1, 1, 2, 2), np.float32), np.ones((1, 1, 1, 1), np.float32)
        with pytest.raises(TypeError):
            kernels.conv2d_backward(None, w, None, np.empty_like(x), None, None, 1, 1, 1,
                                    (1, 2, 2, 1, 1, 1, 1, 0, 0, 1, 1, 2, 2))
        empty, huge = np.zeros(0), (1, 0, 0, 2**41, 2**20, 1, 1, 0, 0, 1, 1, 1, 1)
        with pytest.raises(ValueError, match="too large"):
            kernels.conv2d_forward(empty, empty, None, empty, 1, 0, 1, huge)
        with pytest.raises(ValueError, match="too large"):
            kernels.conv2d_backward(empty, empty, empty, None, empty, None, 1, 0, 1, huge)


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


# ---- the whole convolution in one kernel call (conv2d_forward, conv2d_backward) ------------

@contextlib.contextmanager
def _path(name: str):
    """Run the block with one of the three paths: "whole", "passes" (the kernels without
    BLAS) or "numpy"."""
    kernels, gemm_ready = _C.kernels, _C.gemm_ready
    if name == "numpy":
        _C.kernels = None
    elif name == "passes":
        _C.gemm_ready = lambda: False
    try:
        yield
    finally:
        _C.kernels, _C.gemm_ready = kernels, gemm_ready


def _conv_results(x, w, b, grad, options, conv1d=False):
    """Output and the gradients of input, weight and bias (None where not given) for the
    output gradient ``grad``, on the path chosen by the caller; arrays in, arrays out."""
    leaves = [None if a is None else ember.tensor(a, requires_grad=True) for a in (x, w, b)]
    output = (F.conv1d if conv1d else F.conv2d)(*leaves, **options)
    output.backward(ember.tensor(grad))
    return [output.detach().numpy()] + [leaf.grad.numpy() for leaf in leaves
                                        if leaf is not None]


def _torch_results(x, w, b, grad, options, conv1d=False):
    leaves = [None if a is None else torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    with warnings.catch_warnings():  # padding='same' with an even kernel: a padded copy
        warnings.simplefilter("ignore", UserWarning)
        output = (torch.nn.functional.conv1d if conv1d else torch.nn.functional.conv2d)(
            *leaves, **options)
    output.backward(torch.tensor(grad))
    return [output.detach().numpy()] + [leaf.grad.numpy() for leaf in leaves
                                        if leaf is not None]


def _error_bounds(x, w, b, grad, options, conv1d=False):
    """For each result (output, then the gradients), a bound on the rounding error of any
    order of summation: each element is a sum of n products, and summed in floating point in
    any order its error is at most about n * eps * (the sum of the products' magnitudes). That
    sum is the same computation on the absolute values (in float64), and n the reduction's
    length: C/g*kh*kw for the output, O/g*kh*kw for the input's gradient, B*Ho*Wo for the
    weight's and the bias's."""
    absolute = [None if a is None else np.abs(a).astype(np.float64) for a in (x, w, b)]
    magnitudes = _torch_results(*absolute, np.abs(grad).astype(np.float64), options, conv1d)
    eps = np.finfo(x.dtype).eps
    kernel = int(np.prod(w.shape[2:]))
    groups = options.get("groups", 1)
    lengths = [w.shape[1] * kernel + 1, w.shape[0] // groups * kernel,
               x.shape[0] * int(np.prod(grad.shape[2:])), x.shape[0] * int(np.prod(grad.shape[2:]))]
    # Twice the bound: the two sides being compared each carry their own error.
    return [2 * n * eps * m + np.finfo(x.dtype).tiny for n, m in zip(lengths, magnitudes)]


def _assert_within(got, want, bounds):
    for g, w, bound in zip(got, want, bounds):
        assert g.shape == w.shape and g.dtype == w.dtype
        assert np.all(np.abs(g.astype(np.float64) - w) <= bound), np.abs(g - w).max()


@st.composite
def _whole_cases(draw):
    case = draw(_conv2d_cases())
    case["batch"] = draw(st.sampled_from([0, 1, 2, 3, 5, 7]))
    return case


def _case_arrays(case, seed=0):
    rng = np.random.default_rng(seed)
    dtype = case["dtype"]
    x = rng.standard_normal((case["batch"], case["channels"], *case["size"])).astype(dtype)
    w = rng.standard_normal((case["out_channels"], case["channels"] // case["groups"],
                             *case["kernel"])).astype(dtype)
    b = rng.standard_normal(case["out_channels"]).astype(dtype) if case["bias"] else None
    options = dict(stride=case["stride"], padding=case["padding"],
                   dilation=case["dilation"], groups=case["groups"])
    with _path("numpy"):
        shape = F.conv2d(ember.tensor(x), ember.tensor(w), None, **options).shape
    grad = rng.standard_normal(tuple(shape)).astype(dtype)
    return x, w, b, grad, options


@needs_blas
@settings(max_examples=150, deadline=None)
@given(case=_whole_cases())
def test_whole_kernels_match_the_numpy_code_and_pytorch(case):
    x, w, b, grad, options = _case_arrays(case)
    with _path("whole"):
        whole = _conv_results(x, w, b, grad, options)
    with _path("passes"):
        passes = _conv_results(x, w, b, grad, options)
    with _path("numpy"):
        numpy = _conv_results(x, w, b, grad, options)
    # The same products in the same order as the kernels without BLAS (NumPy's matmul per
    # image and group, per-image shares of the weight's gradient added in image order, the
    # same col2im and bias sums): the same bits.
    for got, want in zip(whole, passes):
        np.testing.assert_array_equal(got, want)
    # And as the NumPy code: the output and the weight's gradient are its products and sums;
    # its input gradient at stride 1 multiplies widened rows and its bias's gradient sums in
    # another order, so those two are equal within rounding.
    np.testing.assert_array_equal(whole[0], numpy[0])
    np.testing.assert_array_equal(whole[2], numpy[2])
    if case["stride"] != (1, 1):
        np.testing.assert_array_equal(whole[1], numpy[1])
    bounds = _error_bounds(x, w, b, grad, options)
    _assert_within(whole, numpy, bounds)
    _assert_within(whole, _torch_results(x, w, b, grad, options), bounds)


@needs_blas
@settings(max_examples=30, deadline=None)
@given(batch=st.sampled_from([0, 1, 4]), length=st.integers(3, 12), kernel=st.integers(1, 4),
       stride=st.integers(1, 3), padding=st.integers(0, 2), dilation=st.integers(1, 2),
       groups=st.sampled_from([1, 2]), dtype=st.sampled_from([np.float32, np.float64]))
def test_whole_kernels_run_conv1d(batch, length, kernel, stride, padding, dilation, groups,
                                  dtype):
    length = max(length, dilation * (kernel - 1) + 1)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((batch, 4, length)).astype(dtype)
    w = rng.standard_normal((6, 4 // groups, kernel)).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    out_length = (length + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    grad = rng.standard_normal((batch, 6, out_length)).astype(dtype)
    with _path("whole"):
        whole = _conv_results(x, w, b, grad, options, conv1d=True)
    with _path("passes"):
        passes = _conv_results(x, w, b, grad, options, conv1d=True)
    for got, want in zip(whole, passes):
        np.testing.assert_array_equal(got, want)
    _assert_within(whole, _torch_results(x, w, b, grad, options, conv1d=True),
                   _error_bounds(x, w, b, grad, options, conv1d=True))


@needs_blas
def test_whole_kernels_on_the_tutorial_net_shapes():
    # The benchmark's two layers at batch 64 (split over ember's threads where there are
    # several): bitwise the kernels without BLAS, within rounding PyTorch.
    for channels, size, out_channels in ((1, 32, 6), (6, 15, 16)):
        rng = np.random.default_rng(channels)
        x = rng.standard_normal((64, channels, size, size)).astype(np.float32)
        w = rng.standard_normal((out_channels, channels, 3, 3)).astype(np.float32)
        b = rng.standard_normal(out_channels).astype(np.float32)
        grad = rng.standard_normal((64, out_channels, size - 2, size - 2)).astype(np.float32)
        with _path("whole"):
            whole = _conv_results(x, w, b, grad, {})
        with _path("passes"):
            passes = _conv_results(x, w, b, grad, {})
        for got, want in zip(whole, passes):
            np.testing.assert_array_equal(got, want)
        _assert_within(whole, _torch_results(x, w, b, grad, {}),
                       _error_bounds(x, w, b, grad, {}))


@needs_blas
def test_whole_kernels_take_only_the_gradients_asked_for(monkeypatch):
    recorder = _Recorder(_C.kernels)
    monkeypatch.setattr(_C, "kernels", recorder)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 2, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    grad = rng.standard_normal((3, 4, 4, 4)).astype(np.float32)
    full = _conv_results(x, w, None, grad, {})
    assert recorder.called == {"conv2d_forward", "conv2d_backward"}
    for frozen in ("input", "weight"):
        xt = ember.tensor(x, requires_grad=frozen != "input")
        wt = ember.tensor(w, requires_grad=frozen != "weight")
        F.conv2d(xt, wt).backward(ember.tensor(grad))
        leaf = wt if frozen == "input" else xt
        np.testing.assert_array_equal(leaf.grad.numpy(), full[2 if frozen == "input" else 1])
        assert (xt.grad if frozen == "input" else wt.grad) is None
    with ember.no_grad():
        np.testing.assert_array_equal(F.conv2d(ember.tensor(x), ember.tensor(w)).numpy(),
                                      full[0])


@needs_blas
def test_whole_kernels_keep_the_input_and_catch_its_in_place_edits():
    # Backward makes the columns again from the input, so it keeps the input, as PyTorch does:
    # an in-place edit of it before backward is an error in both.
    for fw in (ember, torch):
        x = fw.ones(1, 2, 5, 5, requires_grad=True) * 1
        w = fw.ones(3, 2, 3, 3, requires_grad=True)
        out = fw.nn.functional.conv2d(x, w)
        x.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


@needs_blas
def test_whole_kernels_in_float64_pass_gradcheck():
    rng = np.random.default_rng(9)
    x = ember.tensor(rng.standard_normal((2, 4, 6, 5)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((6, 2, 3, 2)), requires_grad=True)
    b = ember.tensor(rng.standard_normal(6), requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                                 groups=2), (x, w, b))


@needs_blas
def test_whole_kernels_read_no_values_on_the_host(monkeypatch):
    # Arrays whose values cannot be read on the host (as under graph capture), let through
    # to the kernels (``takes`` sends array subclasses to the NumPy code otherwise): the
    # Python around the kernels reads nothing, and the results are the plain arrays'.
    takes = _C.takes
    monkeypatch.setattr(_C, "takes", lambda *arrays: takes(*[
        None if a is None else np.asarray(a) for a in arrays]))
    recorder = _Recorder(_C.kernels)
    monkeypatch.setattr(_C, "kernels", recorder)
    rng = np.random.default_rng(10)
    arrays = [rng.standard_normal(shape).astype(np.float32)
              for shape in ((2, 3, 7, 7), (4, 3, 3, 3), (4,), (2, 4, 4, 4))]
    arrays[0][0, 0, 0, 0] = np.nan
    want = _conv_results(*arrays, dict(stride=2, padding=1))
    leaves = [ember.Tensor._wrap(a.view(NoHostReads)) for a in arrays[:3]]
    for leaf in leaves:
        leaf.requires_grad_(True)
    with watch_host_reads() as reads:
        output = F.conv2d(*leaves, stride=2, padding=1)
        output.backward(ember.Tensor._wrap(arrays[3].view(NoHostReads)))
    assert reads == []
    assert recorder.called == {"conv2d_forward", "conv2d_backward"}
    got = [output.detach()._data] + [leaf.grad._data for leaf in leaves]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.asarray(g), w)


@needs_blas
def test_compiled_step_replays_the_whole_kernels_with_the_eager_bits():
    # ember.compile replays conv2d_forward and conv2d_backward: 20 steps of the tutorial's
    # convolutions, compiled and eager from the same weights, give the same bits.
    def make():
        ember.manual_seed(0)
        model = ember.nn.Sequential(ember.nn.Conv2d(1, 6, 3), ember.nn.ReLU(),
                                    ember.nn.Conv2d(6, 16, 3, padding=1), ember.nn.Flatten(),
                                    ember.nn.Linear(16 * 6 * 6, 3))
        optimizer = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            return loss
        return model, step

    rng = np.random.default_rng(11)
    x = ember.tensor(rng.standard_normal((5, 1, 8, 8)).astype(np.float32))
    y = ember.tensor(rng.integers(0, 3, 5))
    (eager_model, eager), (compiled_model, compiled) = make(), make()
    compiled = ember.compile(compiled)
    for _ in range(20):
        assert eager(x, y).item() == compiled(x, y).item()
    for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


@needs_blas
def test_whole_kernels_refuse_what_they_cannot_do_safely():
    kernels = _C.kernels
    geometry = (2, 4, 4, 3, 3, 1, 1, 0, 0, 1, 1, 2, 2)
    x = np.zeros((1, 2, 4, 4), np.float32)
    w, out = np.zeros((4, 2, 3, 3), np.float32), np.zeros((1, 4, 2, 2), np.float32)
    kernels.conv2d_forward(x, w, None, out, 1, 4, 1, geometry)
    with pytest.raises(ValueError, match="expected 4 elements, got 3"):
        kernels.conv2d_forward(x, w, np.zeros(3, np.float32), out, 1, 4, 1, geometry)
    with pytest.raises(ValueError, match="expected 72 elements"):
        kernels.conv2d_forward(x, w[:2], None, out, 1, 4, 1, geometry)
    with pytest.raises(ValueError, match="groups must divide"):
        kernels.conv2d_forward(x, w, None, out, 1, 4, 3, geometry)
    with pytest.raises(ValueError, match="groups must divide"):
        kernels.conv2d_forward(x, w, None, out, 1, 4, 0, geometry)
    with pytest.raises(TypeError, match="float32"):
        kernels.conv2d_forward(x, w.astype(np.float64), None, out, 1, 4, 1, geometry)
    with pytest.raises(ValueError, match="too large"):
        kernels.conv2d_forward(x, w, None, out, 2**60, 4, 1, geometry)
    with pytest.raises((ValueError, BufferError)):
        kernels.conv2d_forward(x, w, None, np.zeros((1, 4, 2, 4), np.float32)[..., ::2], 1, 4,
                               1, geometry)  # not contiguous
    grad, grad_w = np.zeros((1, 4, 2, 2), np.float32), np.zeros_like(w)
    kernels.conv2d_backward(x, w, grad, np.zeros_like(x), grad_w, None, 1, 4, 1, geometry)
    with pytest.raises(ValueError, match="needs the input"):
        kernels.conv2d_backward(None, w, grad, None, grad_w, None, 1, 4, 1, geometry)
    with pytest.raises(ValueError, match="needs the weight"):
        kernels.conv2d_backward(x, None, grad, np.zeros_like(x), None, None, 1, 4, 1, geometry)
    read_only = np.zeros(4, np.float32)
    read_only.flags.writeable = False
    with pytest.raises((ValueError, BufferError), match="read-only"):
        kernels.conv2d_backward(x, w, grad, None, None, read_only, 1, 4, 1, geometry)
    with pytest.raises(ValueError, match="expected 16 elements, got 8"):
        kernels.conv2d_backward(x, w, grad[:, :2], None, grad_w, None, 1, 4, 1, geometry)


@needs_blas
def test_whole_kernels_scope_openblas_only_for_products_it_could_split(monkeypatch):
    # One product per image and group: the tutorial net's (under MIN_SCOPED_WORK
    # multiply-adds) run on one OpenBLAS thread anyway and need no thread-count scope, even
    # when the whole batch is far more work; a large image's product gets one.
    from ember import _blas
    scopes = []
    limited = _blas.limited
    monkeypatch.setattr(_blas, "limited", lambda *args: scopes.append(1) or limited(*args))
    small = ember.nn.Conv2d(6, 16, 3)
    x = ember.randn(64, 6, 15, 15, requires_grad=True)
    assert 64 * 16 * 54 * 169 >= _blas.MIN_SCOPED_WORK > 16 * 54 * 169
    (small(x) * ember.randn(64, 16, 13, 13)).sum().backward()
    assert scopes == []
    large = ember.nn.Conv2d(32, 32, 3, padding=1)
    assert 32 * 32 * 9 * 24 * 24 >= _blas.MIN_SCOPED_WORK
    large(ember.randn(1, 32, 24, 24)).sum().backward()
    assert len(scopes) == 2  # forward and backward

"""The compiled transformer kernels (ember/_C/gelu.inc, norm.inc, attention.inc) against their
NumPy twins in ops/activation.py and ops/attention.py, and against PyTorch, on edge inputs:
odd sizes, one row, non-contiguous views, float64, NaN and inf.

What each promises: GELU (both forms) agrees with the NumPy code within a few float32 units in
the last place (its exp is vexp.h's, NumPy's is its own); LayerNorm within float32 rounding
(sums accumulated in double in another order); attention's backward softmax has the NumPy
code's bits given the same weights, its forward agrees within float32 rounding (exp again);
the whole attention (ember's own products, matrix by matrix over the threads) agrees within
float rounding, and has the same bits on any number of threads.
The PyTorch comparisons also run with EMBER_NO_EXTENSION=1, where they check the NumPy code."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember.nn.functional as F
from ember import _C, _parallel

needs_kernels = pytest.mark.skipif(_C.kernels is None, reason=f"ember._C: {_C.reason}")

# Results within this many units in the last place of the NumPy code's, measured against
# ``scale``: GELU's cdf is 0.5 * (1 + erf), whose rounding (an ulp of 1) the output carries
# times x, so near a zero of the output (negative x, where 1 + erf cancels) an ulp of
# difference in exp shows as many ulps of the output itself, but never more than this.
ULPS = {np.float32: 8, np.float64: 8}


def _both(function, monkeypatch):
    """``function()`` with the kernels, then with the NumPy code."""
    compiled = function()
    with monkeypatch.context() as patch:
        patch.setattr(_C, "kernels", None)
        reference = function()
    return compiled, reference


def _assert_close_ulps(got, want, dtype, scale):
    """Same NaNs, same infinities, and the finite values within ULPS of ``scale``."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    infinite = np.isinf(want)
    np.testing.assert_array_equal(got[infinite], want[infinite])
    finite = np.isfinite(want)
    scale = np.broadcast_to(np.abs(scale), want.shape)[finite]
    error = np.abs(got[finite].astype(np.float64) - want[finite])
    assert (error <= ULPS[dtype] * np.finfo(dtype).eps * np.maximum(scale, np.abs(want[finite]))
            ).all()


def _edge_values(dtype, size, seed=0):
    """Normal values at a few scales, with zeros, signed zeros, huge values, NaN and inf."""
    rng = np.random.default_rng(seed)
    values = (rng.standard_normal(size) * rng.choice([0.1, 1.0, 4.0, 12.0], size)).astype(dtype)
    special = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 40.0, -40.0, 1e30, -1e30, 5.9,
                        6.0, -6.0, 8.5, -8.5, 26.0, -26.0], dtype)
    values[:min(size, special.size)] = special[:size]
    return values


def _gelu_step(values, approximate, grad):
    x = ember.tensor(values, requires_grad=True)
    y = F.gelu(x, approximate=approximate)
    y.backward(ember.tensor(grad))
    return y.detach().numpy(), x.grad.numpy()


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("size", [1, 7, 33, 5000, 70_001])
def test_gelu_kernels_match_the_numpy_code(monkeypatch, dtype, approximate, size):
    values = _edge_values(dtype, size)
    grad = np.random.default_rng(1).standard_normal(size).astype(dtype)
    (out, grad_in), (want_out, want_grad) = _both(
        lambda: _gelu_step(values, approximate, grad), monkeypatch)
    _assert_close_ulps(out, want_out, dtype, scale=values)
    _assert_close_ulps(grad_in, want_grad, dtype, scale=grad * (1 + np.abs(values)))
    # The exact zeros stay exact, with their sign (PyTorch's gelu(-0.0) is -0.0).
    np.testing.assert_array_equal(np.signbit(out[values == 0]), np.signbit(want_out[values == 0]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_pytorch_on_edges(dtype, approximate):
    values = _edge_values(dtype, 4099, seed=2)
    grad = np.random.default_rng(3).standard_normal(values.size).astype(dtype)
    out, grad_in = _gelu_step(values, approximate, grad)
    x = torch.tensor(values, requires_grad=True)
    y = torch.nn.functional.gelu(x, approximate=approximate)
    y.backward(torch.tensor(grad))
    tolerance = {np.float32: (2e-6, 1e-6), np.float64: (1e-12, 1e-14)}[dtype]
    np.testing.assert_allclose(out, y.detach().numpy(), *tolerance)
    # Near x = -5 PyTorch's float32 tanh rounds to -1, and its tanh form's slope to 0, where
    # ember's is about 1e-6 (the exact slope): absolute differences of a few 1e-6 of the
    # gradient there.
    tolerance = {np.float32: (2e-6, 4e-6), np.float64: (1e-12, 1e-14)}[dtype]
    np.testing.assert_allclose(grad_in, x.grad.numpy(), *tolerance)


@needs_kernels
def test_gelu_kernel_takes_views_and_other_shapes(monkeypatch):
    base = np.random.default_rng(4).standard_normal((6, 9)).astype(np.float32)
    for values in (base[:, ::2], base.T, base[3], base[0, 0]):  # strided, transposed, a row, 0-d
        def run(values=values):
            x = ember.tensor(values, requires_grad=True)
            y = F.gelu(x)
            y.sum().backward()
            return y.detach().numpy(), x.grad.numpy()
        (out, grad), (want_out, want_grad) = _both(run, monkeypatch)
        _assert_close_ulps(out, want_out, np.float32, scale=values)
        _assert_close_ulps(grad, want_grad, np.float32, scale=1 + np.abs(values))


@needs_kernels
def test_gelu_split_over_threads_gives_the_same_bits(monkeypatch):
    values = np.random.default_rng(5).standard_normal(300_007).astype(np.float32)
    grad = np.ones_like(values)
    monkeypatch.setattr(_parallel, "_threads", 3)
    split = _gelu_step(values, "none", grad)
    monkeypatch.setattr(_parallel, "_threads", 1)
    whole = _gelu_step(values, "none", grad)
    for a, b in zip(split, whole):
        np.testing.assert_array_equal(a, b)


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [0, 255, 256, 257, 600])
def test_gelu_forward_kernel_blocks_change_no_bits(dtype, size):
    """The exact forward works in blocks of 256 elements, two loops a block (gelu.inc): each
    element comes out as when the kernel is called on it alone."""
    from ember.ops.activation import _erf_series
    series = _erf_series(np.dtype(dtype))
    values = _edge_values(dtype, size, seed=size)
    out, cdf = np.empty_like(values), np.empty_like(values)
    _C.kernels.gelu_erf_forward(values, out, cdf, series)
    for i in range(size):
        one_out, one_cdf = np.empty(1, dtype), np.empty(1, dtype)
        _C.kernels.gelu_erf_forward(values[i:i + 1], one_out, one_cdf, series)
        assert one_out.tobytes() == out[i:i + 1].tobytes()
        assert one_cdf.tobytes() == cdf[i:i + 1].tobytes()


@needs_kernels
def test_gelu_kernel_refuses_a_wrong_series():
    x = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="expected 12 elements"):
        _C.kernels.gelu_erf_forward(x, x.copy(), x.copy(), np.zeros(24))
    with pytest.raises(ValueError, match="expected 4 elements"):
        _C.kernels.gelu_erf_backward(x, x, x, np.zeros(3, np.float32))


def _layer_norm_step(values, shape, weight, bias, grad, eps=1e-5):
    x = ember.tensor(values, requires_grad=True)
    w = None if weight is None else ember.tensor(weight, requires_grad=True)
    b = None if bias is None else ember.tensor(bias, requires_grad=True)
    y = F.layer_norm(x, shape, w, b, eps)
    y.backward(ember.tensor(grad))
    return [y.detach().numpy(), x.grad.numpy()] + [t.grad.numpy() for t in (w, b)
                                                   if t is not None]


@needs_kernels
@given(dtype=st.sampled_from([np.float32, np.float64]),
       rows=st.sampled_from([1, 2, 5, 64, 301, 2001]),
       cols=st.sampled_from([1, 2, 3, 7, 128, 129]),
       affine=st.sampled_from(["both", "weight", "none"]),
       threads=st.sampled_from([1, 2, 3]), seed=st.integers(0, 2**16))
@settings(max_examples=40, deadline=None)
def test_layer_norm_kernels_match_the_numpy_code(dtype, rows, cols, affine, threads, seed):
    rng = np.random.default_rng(seed)
    values = (rng.standard_normal((rows, cols)) * 3 + 1).astype(dtype)
    weight = rng.standard_normal(cols).astype(dtype) if affine != "none" else None
    bias = rng.standard_normal(cols).astype(dtype) if affine == "both" else None
    grad = rng.standard_normal((rows, cols)).astype(dtype)
    saved, kernels = _parallel._threads, _C.kernels
    try:
        _parallel._threads = threads
        compiled = _layer_norm_step(values, (cols,), weight, bias, grad)
        _C.kernels = None
        reference = _layer_norm_step(values, (cols,), weight, bias, grad)
    finally:
        _parallel._threads, _C.kernels = saved, kernels
    rtol = {np.float32: 4e-6, np.float64: 1e-12}[dtype]
    # The weight's and bias's gradients are sums over the rows, which the kernel adds in
    # float64 and the NumPy code in the input's dtype: their difference is that dtype's
    # rounding of a sum, on the scale of the sum of the terms' sizes (normalized values are
    # at most sqrt(cols) in size), not of the result (rows=2001, cols=2 in float32 gave
    # 4.79546 against the kernel's 4.79544, the float64 value 4.79544).
    sum_scale = 16 * np.finfo(dtype).eps * np.abs(grad).sum(axis=0).max(initial=0) \
        * np.sqrt(cols)
    for index, (got, want) in enumerate(zip(compiled, reference)):
        assert got.dtype == want.dtype and got.shape == want.shape
        # The input's gradient subtracts nearly equal terms: compare against its scale.
        atol = rtol * np.abs(want).max(initial=1)
        np.testing.assert_allclose(got, want, rtol=rtol,
                                   atol=max(atol, sum_scale) if index >= 2 else atol)


@needs_kernels
@pytest.mark.parametrize("threads", [2, 3])
def test_layer_norm_split_over_threads_matches_the_numpy_code(monkeypatch, threads):
    rng = np.random.default_rng(13)
    values = rng.standard_normal((4001, 128)).astype(np.float32)
    weight, bias = rng.standard_normal((2, 128)).astype(np.float32)
    grad = rng.standard_normal(values.shape).astype(np.float32)
    calls = []
    kernel = _C.kernels.layer_norm_backward

    class Counting:
        def __getattr__(self, name):
            return getattr(kernels, name)

        def layer_norm_backward(self, *args):
            calls.append(args[-1])  # the ranges the kernel cuts the rows into
            return kernel(*args)

    kernels = _C.kernels
    monkeypatch.setattr(_parallel, "_threads", threads)
    monkeypatch.setattr(_C, "kernels", Counting())
    compiled = _layer_norm_step(values, (128,), weight, bias, grad)
    assert calls == [threads]  # one call, split
    monkeypatch.setattr(_C, "kernels", None)
    reference = _layer_norm_step(values, (128,), weight, bias, grad)
    for got, want in zip(compiled, reference):
        np.testing.assert_allclose(got, want, rtol=4e-6, atol=4e-6 * np.abs(want).max())


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, parts", [(4001, 3), (7, 2), (2, 5), (1, 2), (0, 2)])
def test_layer_norm_kernels_in_ranges_sum_the_ranges_in_order(dtype, rows, parts):
    """Split, the kernels give each row what one call gives, and the weight's and bias's sums
    are each range's sum from zero, added in the order of the ranges (parallel_for's split)."""
    rng = np.random.default_rng(rows)
    cols = 33
    x = rng.standard_normal((rows, cols)).astype(dtype)
    weight, bias = rng.standard_normal((2, cols)).astype(dtype)
    grad = rng.standard_normal((rows, cols)).astype(dtype)
    out, mean, inv_std = np.empty_like(x), np.empty(rows), np.empty(rows, dtype)
    _C.kernels.layer_norm_forward(x, weight, bias, out, mean, inv_std, rows, cols, 1e-5, parts)
    whole = np.empty_like(x), np.empty(rows), np.empty(rows, dtype)
    _C.kernels.layer_norm_forward(x, weight, bias, *whole, rows, cols, 1e-5)
    for got, want in zip((out, mean, inv_std), whole):
        np.testing.assert_array_equal(got, want)
    grad_input, weight_sums, bias_sums = np.empty_like(x), np.zeros(cols), np.zeros(cols)
    _C.kernels.layer_norm_backward(x, mean, inv_std, weight, grad, grad_input, weight_sums,
                                   bias_sums, rows, cols, parts)
    want_input, want_weight, want_bias = np.empty_like(x), np.zeros(cols), np.zeros(cols)
    used = min(parts, rows) if rows else 1
    bounds = [rows * i // used for i in range(used + 1)]
    for start, stop in zip(bounds, bounds[1:]):
        part_weight, part_bias = np.zeros(cols), np.zeros(cols)
        _C.kernels.layer_norm_backward(x[start:stop], mean[start:stop], inv_std[start:stop],
                                       weight, grad[start:stop], want_input[start:stop],
                                       part_weight, part_bias, stop - start, cols)
        want_weight, want_bias = want_weight + part_weight, want_bias + part_bias
    for got, want in zip((grad_input, weight_sums, bias_sums),
                         (want_input, want_weight, want_bias)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_matches_pytorch_on_edges(dtype):
    rng = np.random.default_rng(6)
    base = (rng.standard_normal((4, 5, 6)) * 10 + 3).astype(dtype)
    cases = [(base, (6,)), (base, (5, 6)), (base[:, ::2], (6,)), (base[0, :1], (6,)),
             (base.transpose(2, 0, 1), (5,))]  # 2-D normalized shape, strided, one row, a view
    inf_rows = base[:, 0].copy()
    inf_rows[0, 1], inf_rows[1, 2] = np.nan, np.inf
    cases.append((inf_rows, (6,)))
    for values, shape in cases:
        weight = rng.standard_normal(shape).astype(dtype)
        bias = rng.standard_normal(shape).astype(dtype)
        grad = rng.standard_normal(values.shape).astype(dtype)
        got = _layer_norm_step(values, shape, weight, bias, grad)
        x = torch.tensor(values, requires_grad=True)
        w = torch.tensor(weight, requires_grad=True)
        b = torch.tensor(bias, requires_grad=True)
        y = torch.nn.functional.layer_norm(x, shape, w, b, 1e-5)
        y.backward(torch.tensor(grad))
        want = [y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()]
        tolerance = {np.float32: (1e-4, 1e-5), np.float64: (1e-10, 1e-12)}[dtype]
        for g, w_ in zip(got, want):
            np.testing.assert_allclose(g, w_, *tolerance)


@pytest.mark.parametrize("shape, normalized", [((3, 0), (0,)), ((0, 4), (4,)), ((2, 0, 3), (0, 3))])
def test_layer_norm_of_nothing_matches_pytorch(shape, normalized):
    # Empty inputs take the NumPy code both ways (the kernels never see a row of no values).
    values = np.ones(shape, np.float32)
    x, tx = ember.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    y = F.layer_norm(x, normalized)
    ty = torch.nn.functional.layer_norm(tx, normalized)
    (y * 2).sum().backward()
    (ty * 2).sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_layer_norm_float64_gradients_by_differences():
    rng = np.random.default_rng(7)
    x = ember.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    w = ember.tensor(rng.standard_normal(5), requires_grad=True)
    b = ember.tensor(rng.standard_normal(5), requires_grad=True)
    assert ember.autograd.gradcheck(lambda *t: F.layer_norm(t[0], (5,), t[1], t[2]), (x, w, b))
    g = ember.tensor(rng.standard_normal(11), requires_grad=True)
    assert ember.autograd.gradcheck(F.gelu, (g,))
    assert ember.autograd.gradcheck(lambda t: F.gelu(t, approximate="tanh"), (g,))


def _attention_step(q, k, v, grad, is_causal, dropout_seed=None):
    tensors = [ember.tensor(a, requires_grad=True) for a in (q, k, v)]
    if dropout_seed is not None:
        ember.manual_seed(dropout_seed)
    y = F.scaled_dot_product_attention(*tensors, is_causal=is_causal,
                                       dropout_p=0.0 if dropout_seed is None else 0.3)
    y.backward(ember.tensor(grad))
    return [y.detach().numpy()] + [t.grad.numpy() for t in tensors]


@needs_kernels
@given(dtype=st.sampled_from([np.float32, np.float64]),
       batch=st.sampled_from([1, 3, 12]), heads=st.sampled_from([1, 4]),
       length=st.sampled_from([1, 2, 9, 64]), keys=st.sampled_from([1, 5, 64]),
       features=st.sampled_from([1, 8, 32]), is_causal=st.booleans(),
       threads=st.sampled_from([1, 2]), seed=st.integers(0, 2**16))
@settings(max_examples=40, deadline=None)
def test_attention_kernels_match_the_numpy_code(dtype, batch, heads, length, keys, features,
                                                is_causal, threads, seed):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((batch, heads, length, features)).astype(dtype)
    k = rng.standard_normal((batch, heads, keys, features)).astype(dtype)
    v = rng.standard_normal((batch, heads, keys, features + 1)).astype(dtype)
    grad = rng.standard_normal((batch, heads, length, features + 1)).astype(dtype)
    saved, kernels = _parallel._threads, _C.kernels
    try:
        _parallel._threads = threads
        compiled = _attention_step(q, k, v, grad, is_causal)
        _C.kernels = None
        reference = _attention_step(q, k, v, grad, is_causal)
    finally:
        _parallel._threads, _C.kernels = saved, kernels
    rtol = {np.float32: 2e-5, np.float64: 1e-12}[dtype]
    for got, want in zip(compiled, reference):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max(initial=1))


@needs_kernels
def test_attention_backward_softmax_has_the_numpy_bits():
    rng = np.random.default_rng(8)
    weights = rng.random((3, 5, 17)).astype(np.float32)
    grad = rng.standard_normal((3, 5, 17)).astype(np.float32)
    want = grad - (grad * weights).sum(axis=-1, keepdims=True)
    want *= weights
    want *= 0.37
    got = grad.copy()
    _C.kernels.attention_softmax_backward(got, weights, 15, 17, 0.37)
    np.testing.assert_array_equal(got, want)


@needs_kernels
def test_attention_softmax_forward_edges():
    # A NaN spoils its row only; -inf scores get weight 0; a row of -inf gives zeros.
    scores = np.array([[[0.0, np.nan, 1.0], [-np.inf, 0.0, 2.0], [-np.inf] * 3]], np.float32)
    _C.kernels.attention_softmax_forward(scores, 1, 3, 3, 1.0, False)
    assert np.isnan(scores[0, 0]).all()
    np.testing.assert_allclose(scores[0, 1], [0.0, 1 / (1 + np.e**2), np.e**2 / (1 + np.e**2)],
                               rtol=1e-6)
    np.testing.assert_array_equal(scores[0, 2], [0.0, 0.0, 0.0])
    causal = np.ones((1, 2, 4), np.float64)
    _C.kernels.attention_softmax_forward(causal, 1, 2, 4, 0.5, True)
    np.testing.assert_array_equal(causal[0], [[1.0, 0, 0, 0], [0.5, 0.5, 0, 0]])


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("length, keys", [(64, 64), (13, 29), (29, 13), (9, 8), (1, 1), (3, 0)])
def test_attention_causal_softmax_is_the_masked_one(dtype, length, keys):
    """The causal kernel skips the masked keys' exp (and the exps of the first row's tail
    beyond a vector); it gives the bits of the same kernel over the whole row with those
    scores set to -inf: zeros, or NaN in a row whose unmasked scores hold a NaN. Huge scores,
    +inf and NaN (in unmasked and masked places) are mixed in."""
    rng = np.random.default_rng(length * 100 + keys)
    scores = (rng.standard_normal((3, length, keys)) * 4).astype(dtype)
    if scores.size:
        scores.flat[rng.integers(0, scores.size, 6)] = np.nan
        scores.flat[rng.integers(0, scores.size, 3)] = np.inf
        scores.flat[rng.integers(0, scores.size, 3)] = dtype(1e30)
        scores[1] = -np.inf  # a matrix of masked-out scores
    masked = scores.copy()
    masked[:, ~np.tri(length, keys, dtype=bool)] = -np.inf
    causal = scores.copy()
    _C.kernels.attention_softmax_forward(causal, 3, length, keys, 0.37, True)
    _C.kernels.attention_softmax_forward(masked, 3, length, keys, 0.37, False)
    np.testing.assert_array_equal(causal, masked)
    assert not np.isnan(causal[1]).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_attention_matches_pytorch_with_views_and_dropout(dtype):
    rng = np.random.default_rng(9)
    # Views as a transformer makes them: heads split out of one projection, then transposed.
    packed = rng.standard_normal((3, 7, 3 * 8)).astype(dtype)
    q, k, v = (packed[..., i * 8:(i + 1) * 8].reshape(3, 7, 2, 4).transpose(0, 2, 1, 3)
               for i in range(3))
    grad = rng.standard_normal((3, 2, 7, 4)).astype(dtype)
    got = _attention_step(q, k, v, grad, True)
    tensors = [torch.tensor(np.ascontiguousarray(a), requires_grad=True) for a in (q, k, v)]
    y = torch.nn.functional.scaled_dot_product_attention(*tensors, is_causal=True)
    y.backward(torch.tensor(grad))
    want = [y.detach().numpy()] + [t.grad.numpy() for t in tensors]
    tolerance = {np.float32: (1e-5, 1e-6), np.float64: (1e-12, 1e-14)}[dtype]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, *tolerance)
    # With dropout, the compiled path and the NumPy code draw one mask and agree.
    if _C.kernels is not None:
        compiled = _attention_step(q, k, v, grad, True, dropout_seed=3)
        kernels = _C.kernels
        try:
            _C.kernels = None
            reference = _attention_step(q, k, v, grad, True, dropout_seed=3)
        finally:
            _C.kernels = kernels
        for g, w in zip(compiled, reference):
            np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6)


def test_attention_float64_gradients_by_differences():
    rng = np.random.default_rng(10)
    q, k, v = (ember.tensor(rng.standard_normal((2, 3, 4, 5)), requires_grad=True)
               for _ in range(3))
    assert ember.autograd.gradcheck(
        lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), (q, k, v))


@pytest.mark.skipif(_C.kernels is None or not _C.gemm_ready(), reason="no extension or BLAS")
@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("shape", [(768, 128, 384), (769, 128, 130), (5, 3000, 700)])
def test_linear_layers_split_over_threads_keep_the_numpy_bits(shape, threads):
    # Products large enough for ember's threads: forward in bands of rows (one kernel call
    # each, product and bias), backward as two whole products on two threads.
    rows, features, outputs = shape
    rng = np.random.default_rng(11)
    values = rng.standard_normal((rows, features)).astype(np.float32)
    weight = rng.standard_normal((outputs, features)).astype(np.float32)
    bias = rng.standard_normal(outputs).astype(np.float32)
    grad = rng.standard_normal((rows, outputs)).astype(np.float32)

    def step():
        tensors = [ember.tensor(a, requires_grad=True) for a in (values, weight, bias)]
        y = F.linear(*tensors)
        y.backward(ember.tensor(grad))
        return [y.detach().numpy()] + [t.grad.numpy() for t in tensors]

    saved, kernels = _parallel._threads, _C.kernels
    try:
        _parallel._threads = threads
        compiled = step()
        _C.kernels = None
        reference = step()
    finally:
        _parallel._threads, _C.kernels = saved, kernels
    for got, want in zip(compiled, reference):
        np.testing.assert_array_equal(got, want)


def test_linear_backward_on_two_threads_makes_each_product_whole(monkeypatch):
    # The NumPy code's two tasks (the input's and the weight's gradients, one per thread) give
    # the bits of one thread, where each product is made whole as well.
    monkeypatch.setattr(_C, "kernels", None)
    rng = np.random.default_rng(12)
    values = rng.standard_normal((769, 128)).astype(np.float32)
    weight = rng.standard_normal((130, 128)).astype(np.float32)
    grad = rng.standard_normal((769, 130)).astype(np.float32)

    def gradients(threads):
        monkeypatch.setattr(_parallel, "_threads", threads)
        x, w = ember.tensor(values, requires_grad=True), ember.tensor(weight, requires_grad=True)
        F.linear(x, w).backward(ember.tensor(grad))
        return x.grad.numpy(), w.grad.numpy()

    for split, whole in zip(gradients(2), gradients(1)):
        np.testing.assert_array_equal(split, whole)


@needs_kernels
def test_attention_lays_out_its_output_as_pytorch_does():
    # Heads split out of one projection: (batch, length, heads, features) in memory, so the
    # transpose back is contiguous; contiguous inputs give a contiguous output. (The inputs'
    # gradients are laid out so too, before the engine hands them to the leaves.)
    rng = np.random.default_rng(14)
    packed = rng.standard_normal((2, 5, 3, 4)).astype(np.float32)
    for make in (lambda lib, a: lib.tensor(a).transpose(1, 2),
                 lambda lib, a: lib.tensor(np.ascontiguousarray(a.transpose(0, 2, 1, 3)))):
        q, k, v = (make(ember, packed).requires_grad_() for _ in range(3))
        tq, tk, tv = (make(torch, packed).requires_grad_() for _ in range(3))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        ty = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
        assert y.stride() == ty.stride()
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
        y.sum().backward()
        ty.sum().backward()
        np.testing.assert_allclose(q.grad.numpy(), tq.grad.numpy(), rtol=1e-5, atol=1e-6)


def _projection_step(packed, heads, length, keys, features, value_features, grad, is_causal):
    """Attention over heads split out of one projection by ember's ops, as a GPT makes them
    (the kernels get strided views): the output and the projection's gradient."""
    leaf = ember.tensor(packed, requires_grad=True)
    batch = packed.shape[0]

    def split(first, rows, width):
        part = leaf[:, :rows, first:first + heads * width]
        return part.reshape(batch, rows, heads, width).transpose(1, 2)
    q, k = split(0, length, features), split(heads * features, keys, features)
    v = split(2 * heads * features, keys, value_features)
    y = F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
    y.backward(ember.tensor(grad))
    return [y.detach().numpy(), leaf.grad.numpy()]


@needs_kernels
@given(dtype=st.sampled_from([np.float32, np.float64]), batch=st.sampled_from([1, 3]),
       heads=st.sampled_from([1, 2]), length=st.sampled_from([1, 7, 40]),
       keys=st.sampled_from([1, 6, 40]), features=st.sampled_from([1, 5, 16, 33]),
       value_features=st.sampled_from([1, 8, 17]), is_causal=st.booleans(),
       seed=st.integers(0, 2**16))
@settings(max_examples=40, deadline=None)
def test_whole_attention_kernels_match_the_numpy_code_on_any_thread_count(
        dtype, batch, heads, length, keys, features, value_features, is_causal, seed):
    rng = np.random.default_rng(seed)
    packed = rng.standard_normal(
        (batch, max(length, keys), heads * (2 * features + value_features))).astype(dtype)
    grad = rng.standard_normal((batch, heads, length, value_features)).astype(dtype)
    args = (packed, heads, length, keys, features, value_features, grad, is_causal)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_parallel, "MIN_KERNEL_WORK", 0)  # split however small
        runs = []
        for threads in (1, 2, 3):
            patch.setattr(_parallel, "_threads", threads)
            runs.append(_projection_step(*args))
        patch.setattr(_C, "kernels", None)
        reference = _projection_step(*args)
    for split in runs[1:]:  # each matrix is done alone: the same bits on any thread count
        for got, want in zip(split, runs[0]):
            np.testing.assert_array_equal(got, want)
    rtol = {np.float32: 2e-5, np.float64: 1e-12}[dtype]
    for got, want in zip(runs[0], reference):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max(initial=1))


def _kernel_run(q, k, v, grad, keep=None, causal=True):
    """attention_forward and _backward on these arrays as they are: the weights, output and
    the three gradients."""
    (b, h, length, d), keys, dv = q.shape, k.shape[2], v.shape[3]
    sizes = (b, h, length, keys, d, dv)
    weights = np.empty(b * h * length * keys, q.dtype)
    out = np.empty((b, h, length, dv), q.dtype)
    _C.kernels.attention_forward(q, k, v, weights, out, keep, sizes, 0.3, causal)
    grads = [np.empty(a.shape, a.dtype) for a in (q, k, v)]
    _C.kernels.attention_backward(grad, q, k, v, weights, keep, *grads, sizes, 0.3)
    return [weights, out, *grads]


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_whole_attention_kernels_read_views_as_their_copies(dtype):
    # Flipped (negative strides), split out of a projection, a last dimension of one element
    # that NumPy exports with a column-major stride: the bits of contiguous copies.
    rng = np.random.default_rng(16)
    base = rng.standard_normal((2, 9, 3 * 2 * 5)).astype(dtype)
    heads = [base[:, :, i * 10:(i + 1) * 10].reshape(2, 9, 2, 5).transpose(0, 2, 1, 3)
             for i in range(3)]
    flipped = [rng.standard_normal((2, 2, 9, 5)).astype(dtype)[::-1, :, ::-1] for _ in range(3)]
    narrow = [np.asfortranarray(rng.standard_normal((1, 2, 9, 1)).astype(dtype))
              for _ in range(3)]
    assert not narrow[0].flags.c_contiguous
    for q, k, v in (heads, flipped, narrow):
        grad = rng.standard_normal(q.shape[:3] + (v.shape[3],)).astype(dtype)[:, :, ::-1]
        views = _kernel_run(q, k, v, grad)
        copies = _kernel_run(*(np.ascontiguousarray(a) for a in (q, k, v, grad)))
        for got, want in zip(views, copies):
            np.testing.assert_array_equal(got, want)


@needs_kernels
def test_attention_with_one_feature_and_a_batch_of_one_takes_the_kernels(monkeypatch):
    # Heads of one feature split out of a projection, batch 1: the output's layout has a
    # last dimension of one element with a column-major stride, which the kernels read.
    rng = np.random.default_rng(17)
    packed = rng.standard_normal((1, 5, 3 * 3)).astype(np.float32)
    grad = rng.standard_normal((1, 3, 5, 1)).astype(np.float32)
    got, want = _both(lambda: _projection_step(packed, 3, 5, 5, 1, 1, grad, True), monkeypatch)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6)


@needs_kernels
@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False),
                                   (False, False, True), (True, False, True)])
def test_whole_attention_gives_the_gradients_asked_for(needs, monkeypatch):
    rng = np.random.default_rng(18)
    arrays = [rng.standard_normal((2, 2, 6, 4)).astype(np.float64) for _ in range(3)]
    grad = rng.standard_normal((2, 2, 6, 4))

    def run():
        tensors = [ember.tensor(a, requires_grad=need) for a, need in zip(arrays, needs)]
        F.scaled_dot_product_attention(*tensors, is_causal=True).backward(ember.tensor(grad))
        return [t.grad.numpy() if need else t.grad for t, need in zip(tensors, needs)]

    got, want = _both(run, monkeypatch)
    for g, w in zip(got, want):
        if w is None:
            assert g is None
        else:
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13)


@needs_kernels
def test_attention_backward_after_a_mask_that_broadcast_the_batch_takes_the_numpy_code(
        monkeypatch):
    # A mask with a larger batch than the query's makes weights of that batch (forward's
    # NumPy code broadcasts it): the kernels, which take the query's batch, are not used.
    rng = np.random.default_rng(19)
    q, k, v = (rng.standard_normal((1, 2, 4, 8)).astype(np.float32) for _ in range(3))
    mask = rng.random((3, 2, 4, 4)) > 0.3
    grad = rng.standard_normal((3, 2, 4, 8)).astype(np.float32)

    def run():
        tensors = [ember.tensor(a, requires_grad=True) for a in (q, k, v)]
        y = F.scaled_dot_product_attention(*tensors, attn_mask=ember.tensor(mask))
        y.backward(ember.tensor(grad))
        return [t.grad.numpy() for t in tensors]

    got, want = _both(run, monkeypatch)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6)


@needs_kernels
def test_whole_attention_spreads_a_nan_as_the_numpy_code(monkeypatch):
    # A NaN in a query spoils that query's row; in a value, every output that weighs it
    # (with the causal mask, the queries from its position on), as 0 * NaN does in NumPy.
    rng = np.random.default_rng(15)
    q, k = (rng.standard_normal((2, 2, 6, 4)).astype(np.float32) for _ in range(2))
    v, grad = (rng.standard_normal((2, 2, 6, 3)).astype(np.float32) for _ in range(2))
    q[0, 1, 2, 0] = np.nan
    v[1, 0, 3, 2] = np.nan
    compiled, reference = _both(lambda: _attention_step(q, k, v, grad, True), monkeypatch)
    for got, want in zip(compiled, reference):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


@needs_kernels
def test_whole_attention_kernels_refuse_what_they_cannot_read():
    f32 = np.float32
    q, k, v = np.zeros((2, 3, 4, 5), f32), np.zeros((2, 3, 6, 5), f32), np.zeros((2, 3, 6, 7), f32)
    weights, out = np.zeros(2 * 3 * 4 * 6, f32), np.zeros((2, 3, 4, 7), f32)
    sizes = (2, 3, 4, 6, 5, 7)
    forward = _C.kernels.attention_forward
    forward(q, k, v, weights, out, None, sizes, 1.0, False)  # what is right runs
    np.testing.assert_array_equal(weights, np.full(weights.shape, 1 / 6, f32))
    with pytest.raises(ValueError, match=r"expected shape \(2, 3, 6, 5\)"):
        forward(q, k[:, :, :5], v, weights, out, None, sizes, 1.0, False)
    with pytest.raises(ValueError, match="last contiguous"):
        forward(q, k, v, weights, np.zeros((2, 3, 4, 14), f32)[..., ::2], None, sizes, 1.0,
                False)
    with pytest.raises(ValueError, match="4 dimensions"):
        forward(q[0], k, v, weights, out, None, sizes, 1.0, False)
    with pytest.raises(TypeError, match="float32"):
        forward(q, k.astype(np.float64), v, weights, out, None, sizes, 1.0, False)
    with pytest.raises(ValueError, match="expected 144 elements"):
        forward(q, k, v, weights[:-1], out, None, sizes, 1.0, False)
    with pytest.raises(ValueError, match="invalid sizes"):
        forward(q, k, v, weights, out, None, (2, 3, -4, 6, 5, 7), 1.0, False)
    out.flags.writeable = False
    with pytest.raises((ValueError, BufferError)):
        forward(q, k, v, weights, out, None, sizes, 1.0, False)
    grads = [np.zeros_like(a) for a in (q, k, v)]
    _C.kernels.attention_backward(np.zeros((2, 3, 4, 7), f32), q, k, v, weights, None,
                                  *grads, sizes, 1.0)
    _C.kernels.attention_backward(np.zeros((2, 3, 4, 7), f32), q, k, v, weights, None,
                                  None, None, grads[2], sizes, 1.0)  # only the values'
    with pytest.raises(ValueError, match="expected shape"):
        _C.kernels.attention_backward(np.zeros((2, 3, 4, 7), f32), q, k, v, weights, None,
                                      grads[1], None, None, sizes, 1.0)

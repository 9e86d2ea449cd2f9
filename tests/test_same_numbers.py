"""Programs that once gave silently wrong numbers, or leaked NumPy's errors and warnings: each
runs in PyTorch and in ember, and what comes out (values, gradients, errors, warnings) must be
the same."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from snippets import assert_same

import ember

VIEWS_AND_IN_PLACE = [
    # An element of a 1-d tensor is a 0-d view: writing to it writes the base.
    "t = lib.zeros(3); t[1].fill_(7.0); out = t",
    "t = lib.zeros(2, 3); t[1, 2].add_(5); t[0][1].mul_(3); t[..., 0][1].sub_(1); out = t",
    "p = lib.ones(4, requires_grad=True)\nwith lib.no_grad(): p[2].mul_(5)\nout = p",
    "x = lib.tensor(0.7, requires_grad=True); b = x * 1; b.unsqueeze(0).mul_(2); "
    "(b * 3).backward(); out = (b, x.grad)",
    "x = lib.tensor([0.7, 2.0], requires_grad=True); b = x * 1; b[1].mul_(2); "
    "(b * 3).sum().backward(); out = (b, x.grad)",
    # The old values' gradient is zeros, not None, after zero_/fill_/copy_.
    "w = lib.tensor([1., 2.], requires_grad=True); y = w * 1; y.zero_(); y.sum().backward(); "
    "out = w.grad",
    "w = lib.tensor([1., 2.], requires_grad=True); y = w * 1; y.fill_(3); y.sum().backward(); "
    "out = w.grad",
    "w = lib.tensor([1., 2.], requires_grad=True); y = w * 1; y.copy_(lib.tensor([5., 6.])); "
    "y.sum().backward(); out = w.grad",
    "w = lib.ones(3, requires_grad=True); s = lib.ones(3, requires_grad=True); y = w * 2; "
    "y.copy_(s * 3); y.sum().backward(); out = (w.grad, s.grad)",
]

INDEXING = [
    # Integers are taken before index tensors, so these tensor dimensions stay in place.
    "a = lib.arange(24.).reshape(2, 3, 4); out = a[0, :, lib.tensor([1, 2])]",
    "a = lib.arange(120.).reshape(2, 3, 4, 5); i = lib.tensor([0, 1]); "
    "out = [a[0, :, i].shape, a[i, 0, :, i].shape, a[:, i, 0, i].shape, a[0, i, :, i].shape, "
    "a[..., 0, i].shape, a[0, None, i].shape, a[1, a[0] > 50].shape]",
    "b = lib.zeros(2, 3, 4); b[0, :, lib.tensor([1, 2])] = lib.arange(6.).reshape(3, 2); out = b",
    "x = lib.arange(24.).reshape(2, 3, 4).requires_grad_(); y = x * 1; "
    "(y[1, :, lib.tensor([0, 0, 3])] * lib.arange(9.).reshape(3, 3)).sum().backward(); "
    "out = x.grad",
    "x = lib.zeros(2, 3, 4, requires_grad=True); y = x * 1; "
    "y[0, :, lib.tensor([1, 2])] = lib.ones(3, 2) * 7; (y * y).sum().backward(); "
    "out = (y, x.grad)",
    # gather reads the corner of the input of the index's size.
    "out = lib.arange(12.).reshape(3, 4).gather(0, lib.tensor([[2], [0]]))",
    "x = lib.arange(12.).reshape(3, 4).requires_grad_(); "
    "x.gather(1, lib.tensor([[0, 0], [3, 1]])).sum().backward(); out = x.grad",
    "out = lib.tensor(5.).gather(0, lib.tensor(0))",
    "out = lib.arange(12.).reshape(3, 4).gather(1, lib.zeros(0, 2, dtype=lib.long))",
    "lib.arange(12.).reshape(3, 4).gather(0, lib.tensor([[2, 1, 0, 0, 0]]))",
    "lib.arange(12.).reshape(3, 4).gather(0, lib.tensor([2, 0]))",
    "lib.arange(12.).reshape(3, 4).gather(0, lib.tensor([[5]]))",
    "lib.arange(12.).reshape(3, 4).gather(0, lib.tensor([[-1]]))",
    "lib.arange(12.).reshape(3, 4).gather(0, lib.tensor([[1.]]))",
]

ARITHMETIC = [
    # Global average pooling is PyTorch's mean: an empty image gives NaN, other sizes raise.
    "a = lib.zeros(2, 2, 0, 3, requires_grad=True); y = lib.nn.functional.adaptive_avg_pool2d("
    "a, 1); y.sum().backward(); out = (y, a.grad.shape, y.grad_fn.name())",
    "lib.nn.functional.adaptive_avg_pool2d(lib.zeros(1, 1, 0, 1), 2)",
    # maximum saves its operands as given: changing one in place is caught at backward.
    "w = lib.tensor(-0.5, dtype=lib.float64, requires_grad=True); u = lib.tensor(-1.5); "
    "v = lib.maximum(w, u); u.fill_(0.5); v.backward()",
    # max()/min() over all elements: only the extrema get the gradient, even NaN or inf.
    "a = lib.tensor([1., 3., 2.], requires_grad=True); (a.max() * float('nan')).backward(); "
    "b = lib.tensor([3., 3., 1.], requires_grad=True); (b.min() * float('inf')).backward(); "
    "c = lib.tensor([3., 3., 1.], requires_grad=True); (c.max() * float('inf')).backward(); "
    "out = (a.grad, b.grad, c.grad)",
    "a = lib.tensor([1., 3., 2.], requires_grad=True); (a.median() * float('nan')).backward(); "
    "b = lib.tensor([3., 3., 1.], requires_grad=True); (b.median() * float('inf')).backward(); "
    "out = (a.grad, b.grad)",
    # clamp with tensor bounds: NaN blocks the input's gradient; crossed bounds give max's.
    "x = lib.tensor([float('nan'), 1., 5., .5, float('nan'), 0., 2.5, 9., 2., 1.], "
    "requires_grad=True); lo = lib.tensor([0., 2., 0., float('nan'), 3., 3., 3., 3., 2., 2.], "
    "requires_grad=True); hi = lib.tensor([1., 3., 4., 1., float('nan'), 1., 1., 1., 2., 2.], "
    "requires_grad=True); y = lib.clamp(x, lo, hi); y.sum().backward(); "
    "out = (y, x.grad, lo.grad, hi.grad)",
    # Where either input is NaN neither loses: both get the whole gradient, as in PyTorch.
    "x = lib.tensor([float('nan'), 1., 2., float('nan')], requires_grad=True); "
    "y = lib.tensor([1., float('nan'), 2., float('nan')], requires_grad=True); "
    "(lib.maximum(x, y) + lib.minimum(x, y) * 3).sum().backward(); "
    "(lib.maximum(x, x) * 5).sum().backward(); out = (x.grad, y.grad)",
    "x = lib.tensor([5., -3., 0.5], requires_grad=True); y = x % 2; y.sum().backward(); "
    "out = (y, x.grad, y.grad_fn.name())",
    "x = lib.tensor([5., -3.], requires_grad=True); d = lib.tensor([2., -2.], requires_grad=True)"
    "; (x % d).sum().backward(); out = (x.grad, d.grad)",
    "out = (lib.tensor([5, -3]) % lib.tensor([2, 2]), lib.tensor([5, -3]) // 2, "
    "lib.tensor([5., -3.]) % 0, lib.tensor([5., -3.]) // 0)",
    "lib.tensor([5, 3]) // lib.tensor([0, 1])",
    "lib.tensor([5, 3]) % lib.tensor([1, 0])",
    "lib.tensor([5]) % 0",
    "lib.tensor([5]).div(0, rounding_mode='trunc')",
    "out = lib.tensor([5, -5, 7]).div(lib.tensor([2, 2, -2]), rounding_mode='trunc')",
    "x = lib.tensor([5., -3.], requires_grad=True); y = x.div(2, rounding_mode='floor'); "
    "y.sum().backward(); out = (y, x.grad)",
    "x = lib.tensor([5., -3.], requires_grad=True); (x // 2).sum().backward()",
    "out = lib.tensor([1., 0., -1.]) / 0",
    "out = lib.tensor([3.0e38]) * 10",
    "out = lib.log(lib.tensor([0., -1.]))",
    "x = lib.tensor([1.], requires_grad=True); lib.sqrt(x - 1).backward(); out = x.grad",
    "out = lib.tensor([1.]) & lib.tensor([1.])",
    "out = (lib.tensor([3, 5]) & 1, lib.tensor([True, False]) ^ True, ~lib.tensor([1, 2]), "
    "~lib.tensor([True]), 1 | lib.tensor([2]))",
    "~lib.tensor([1.])",
]

COMPARISONS = [
    "x = lib.tensor([1., 2., float('nan')], requires_grad=True); "
    "out = [x > 1, x == x, lib.isnan(x), x.isnan(), lib.isfinite(x), lib.isinf(x), "
    "lib.isclose(x, x), lib.isclose(x, x, equal_nan=True), lib.logical_not(x)]",
    "x = lib.tensor([1., 2.], requires_grad=True); out = [(x > 1).requires_grad, "
    "lib.isnan(x).grad_fn, lib.eq(x, 2).requires_grad, lib.where(x > 1)]",
    "lib.isclose(lib.tensor([1, 2]), lib.tensor([1., 2.]))",
]

GRADIENTS_THROUGH_MASKS = [
    # Where the mask is 0, an infinite upstream gradient gives 0 (a product would give NaN).
    "x = lib.tensor([-1., 2.], requires_grad=True); lib.log(lib.relu(x)).sum().backward(); "
    "out = x.grad",
    "x = lib.tensor([-1., 2.], requires_grad=True); "
    "lib.log(lib.clamp(x, min=0)).sum().backward(); out = x.grad",
    "x = lib.tensor([-1., 2., 7.], requires_grad=True); "
    "lib.log(lib.clamp(x, 0, 6) - 6).sum().backward(); out = x.grad",
    "x = lib.tensor([-1., 2.], requires_grad=True); lib.log(F.relu6(x)).sum().backward(); "
    "out = x.grad",
    "x = lib.tensor([-2., 0.5], requires_grad=True); "
    "lib.log(F.hardtanh(x) + 1).sum().backward(); out = x.grad",
    "x = lib.tensor([[[[1., float('inf'), 3.], [2., 3., 4.]]]], requires_grad=True); "
    "y = F.adaptive_avg_pool2d(x, (1, 2)); y.sum().backward(); out = (y, x.grad)",
    "x = lib.arange(35.).reshape(1, 1, 5, 7).requires_grad_(); "
    "y = F.adaptive_avg_pool2d(x, (3, 4)); "
    "(y * lib.arange(12.).reshape(3, 4)).sum().backward(); out = (y, x.grad)",
]

VARIANCE = [
    "x = (1000 + lib.linspace(-1e-3, 1e-3, 11)).float(); out = (x.var().item(), x.std().item())",
    "x = lib.full((3, 100), 3.3); out = (x.std(1), F.layer_norm(x, (100,)).abs().max())",
    "x = (1000 + lib.linspace(-1e-3, 1e-3, 11)).float().reshape(1, 11); "
    "out = F.layer_norm(x, (11,))",
    "out = lib.tensor([1e20, -1e20]).std()",
    "x = (1000 + lib.linspace(-1e-3, 1e-3, 11)).float().requires_grad_(); x.std().backward(); "
    "out = x.grad",
]

# NumPy's errors and warnings must not leak: PyTorch's result, or PyTorch's error.
EDGES = [
    "out = (F.softmax(lib.tensor(2.0), 0), F.log_softmax(lib.tensor(-1.0), 0))",
    "x = lib.tensor(2.0, requires_grad=True); F.softmax(x, 0).backward(); out = x.grad",
    "out = (F.log_softmax(lib.zeros(3, 0), 1), F.softmax(lib.zeros(2, 0), 1), "
    "F.softmax(lib.zeros(0, 4), 1))",
    "out = lib.logsumexp(lib.zeros(3, 0), 1)",
    "out = lib.logsumexp(lib.tensor([[-float('inf'), -float('inf')], [1., 2.]]), 1)",
    "F.cross_entropy(lib.zeros(2, 0), lib.tensor([0, 0]))",
    "x = lib.zeros(0, requires_grad=True); loss = F.mse_loss(x, lib.zeros(0)); loss.backward(); "
    "out = (loss, x.grad)",
    "out = (lib.zeros(0).mean(), lib.zeros(2, 0).mean(1), lib.zeros(0, 3).sum(0))",
    "b = lib.tensor(1.0); b[()] = 5; out = b",
    "w = lib.tensor(1.0, requires_grad=True); b = w * 1; b[()] = 5; b.backward(); "
    "out = (b.item(), w.grad)",
    "out = (lib.tensor([1, 2], dtype=lib.uint8) + 300, lib.tensor([1, 2], dtype=lib.int8) * 200, "
    "300 - lib.tensor([1], dtype=lib.uint8), lib.tensor([5], dtype=lib.uint8) > 300)",
    "out = (lib.tensor([1., 0.]) / 0, lib.tensor([-1.]).sqrt(), lib.tensor([1e30]) ** 2)",
]

MODULES = [
    # The registries are the single source of truth.
    "m = lib.nn.Linear(2, 2, bias=False); p = lib.nn.Parameter(lib.ones(2, 2)); "
    "m._parameters['weight'] = p; out = (m.weight is p, m(lib.ones(1, 2)))",
    "m = lib.nn.Linear(2, 2); m._buffers['scale'] = lib.ones(1); del m._parameters['bias']; "
    "out = (m.scale, list(m.state_dict()), hasattr(m, 'bias'))",
    "m = lib.nn.Sequential(lib.nn.ReLU()); m._modules['0'] = lib.nn.Tanh(); out = (m[0], m)",
]

# Found by the differential fuzzer (tests/test_fuzz.py).
FUZZ_FINDINGS = [
    # A 0-d result saved for backward (a NumPy scalar) is version-checked like any other.
    "a = lib.tensor(0.5, dtype=lib.float64, requires_grad=True); v = a.tanh(); v.add_(0.5); "
    "v.sum().backward()",
    "a = lib.tensor([0.5, 2.0], requires_grad=True); v = a.exp().sum(); v.mul_(2); v.backward()",
    # Writing a whole 0-d tensor overwrites its gradient path too.
    "a = lib.tensor(0.5, dtype=lib.float64, requires_grad=True); v = a * 2; v[...] = 0.5; "
    "(v * 3).backward(); out = a.grad",
    "a = lib.tensor(0.3, dtype=lib.float64, requires_grad=True); v0 = F.gelu(a); v1 = F.gelu(a); "
    "v0[()] = 0.5; (2 * v0 + 3 * v1).backward(); out = a.grad",
    # A view written with a grad-requiring operand requires grad itself.
    "x = lib.zeros(2, 2); a = lib.ones(2, requires_grad=True); v = x[0]; v.add_(a); "
    "(v * lib.tensor([2., 3.])).sum().backward(); out = (v.requires_grad, x.requires_grad, a.grad)",
    # Views from functions with several outputs refuse in-place changes (with grad).
    "a = lib.zeros(2, 3, requires_grad=True); x = a * 1; x.unbind(0)[0].add_(1)",
    "a = lib.zeros(2, 3, requires_grad=True); x = a * 1; x.split(1, 0)[1].mul_(2)",
    "x = lib.zeros(2, 3); x.unbind(0)[0].add_(1); x.chunk(2, 0)[1].add_(2); out = x",
    # 0-d pieces are views: writes to the base reach them.
    "x = lib.zeros(3); v = x[1]; w = lib.zeros(1); u = w.unbind(0)[0]; x.fill_(1.0); "
    "w.fill_(2.0); out = (v, u)",
    "a = lib.tensor([0.3, 0.5], dtype=lib.float64, requires_grad=True); "
    "v = F.layer_norm(a, (2,)); v.relu_(); v.sum().backward(); out = a.grad",
    "out = (lib.tensor(0.5).transpose(0, 0), lib.tensor(0.5).transpose(0, -1), "
    "lib.tensor(0.5).squeeze(0), lib.tensor(0.5).squeeze((0,)), lib.tensor(0.5).roll(1))",
    "lib.tensor(0.5).roll(1, 0)",
    "lib.tensor(0.5).index_select(0, lib.tensor([0, 0]))",
    "out = lib.tensor(0.5).index_select(0, lib.tensor([0]))",
    "lib.zeros((1, 0)).index_select(-1, lib.tensor([0]))",
    "lib.zeros((2, 3)).index_select(1, lib.tensor([3]))",
    "lib.zeros(3).index_select(0, lib.tensor([-1]))",
    "F.conv2d(lib.zeros((1, 1, 1, 0)), lib.ones((1, 1, 1, 1)), padding=1)",
    # In-place writes that overlap: refused as in PyTorch; those that do not are allowed.
    "x = lib.zeros(1, 2); x.expand(1, 2).add_(1); x.expand(1, 1, 2).mul_(3); out = x",
    "x = lib.zeros(1, 2); x.expand(3, 2).add_(1)",
    "x = lib.zeros(1, 2); x.expand(3, 2)[0] = 1",
    "v = lib.ones(3); v.unsqueeze(0).div_(v)",
    "x = lib.ones(4); x[:3].add_(x[1:])",
    "v = lib.tensor([1.0, 2.0]); v[lib.tensor([True, True])] = v",
    "x = lib.ones(3); x.add_(x); y = lib.arange(6.); y[1:3] += 10; y[2:4] *= y[2:4]; "
    "out = (x, y)",
    "x = lib.ones(2, 3); x[0].add_(x[1]); out = x",
    # What backward saved is checked after every later in-place op, also through one.
    "a = lib.tensor([0.5], dtype=lib.float64, requires_grad=True); v = a * 1; v.sqrt_(); "
    "v.relu_(); v.sum().backward()",
    "a = lib.tensor([0.5], dtype=lib.float64, requires_grad=True); v = a * 1; v.exp_(); "
    "v.sum().backward(); out = a.grad",
    "a = lib.ones(2, requires_grad=True); w = lib.zeros(2); loss = F.mse_loss(a, w); "
    "w.copy_(lib.ones(2)); loss.backward()",
    "a = lib.tensor([[0.3, 0.5]], dtype=lib.float64, requires_grad=True); x = a * 1; "
    "v = F.layer_norm(x, (2,)); x.fill_(0.5); (v * 2).sum().backward()",
    # NaN inputs: the gradient of the branch PyTorch takes.
    "a = lib.tensor([float('nan'), -1.0, 1.0], dtype=lib.float64, requires_grad=True); "
    "F.elu(a).sum().backward(); out = a.grad",
    "a = lib.tensor([float('nan'), -0.5, 0.5, -1.0, 1.0, 0.2], dtype=lib.float64, "
    "requires_grad=True); F.hardtanh(a, -0.5, 0.5).sum().backward(); out = a.grad",
    "a = lib.tensor([float('nan'), 0.0, 6.0, 7.0, 3.0], requires_grad=True); "
    "F.relu6(a).sum().backward(); out = a.grad",
    "a = lib.tensor([float('nan'), 1.0], dtype=lib.float64, requires_grad=True); "
    "F.l1_loss(a, lib.zeros(2, dtype=lib.float64), reduction='sum').backward(); out = a.grad",
    "a = lib.tensor([-0.98, float('nan'), -2.0], dtype=lib.float64, requires_grad=True); "
    "(a.abs() * 0.5).sum().backward(); out = a.grad",
    "a = lib.tensor([-1.7], dtype=lib.float64, requires_grad=True); "
    "v = a.masked_fill(lib.tensor([True]), -1.5); v.sqrt_(); v.sum().backward(); out = a.grad",
    "a = lib.tensor([-0.0, 4.0], dtype=lib.float64, requires_grad=True); y = a ** 0.5; "
    "y.sum().backward(); z = a.detach() ** -0.5; out = (y, a.grad, z)",
    "a = lib.tensor([[1.16, -0.45]], dtype=lib.float64, requires_grad=True); "
    "v = a.var(0, correction=2); (v * lib.tensor([0.5, -0.25], dtype=lib.float64)).sum()"
    ".backward(); out = (v, a.grad)",
    "out = (lib.zeros(0).var(), lib.zeros(2, 0).std(1))",
    "a = lib.tensor([[-0.82]], dtype=lib.float64, requires_grad=True); v = a.var(0); "
    "v.sum().backward(); out = (v, a.grad)",
    "x = lib.zeros((1, 2, 0), dtype=lib.float64); "
    "out = F.linear(x, lib.ones((3, 0), dtype=lib.float64))",
    "out = lib.cat([lib.ones(1, dtype=lib.float32), lib.zeros(0, dtype=lib.float64)])",
    "a = lib.tensor([0.3, -0.4], dtype=lib.float64, requires_grad=True); v = a / a; v.zero_(); "
    "v.sum().backward(); out = a.grad",
    "lib.zeros((0, 4, 2)).gather(0, lib.zeros((1, 4, 2), dtype=lib.int64))",
    "F.adaptive_avg_pool2d(lib.zeros((2, 3, 4, 0)), 2)",
    "F.adaptive_avg_pool2d(lib.zeros((3, 0, 4)), 2)",
    "out = (F.adaptive_avg_pool2d(lib.zeros((2, 0, 4, 4)), 2).shape, "
    "F.adaptive_avg_pool2d(lib.zeros((0, 3, 4, 4)), 1).shape)",
    "lib.zeros((0,)).index_select(0, lib.tensor([0]))",
    "a = lib.tensor([[-1.65, -0.25]], dtype=lib.float64, requires_grad=True); "
    "v = lib.logsumexp(a, 0); v.mul_(2); v.sum().backward()",
    "a = lib.tensor([-1.6], dtype=lib.float64, requires_grad=True); "
    "w = lib.tensor([-0.4], dtype=lib.float32); v = a * w; u = a / w; w.neg_(); "
    "(v + u).sum().backward()",
    "a = lib.tensor([2.], requires_grad=True); b = lib.tensor([3.], dtype=lib.float64, "
    "requires_grad=True); (a * b + a / b + a * 3 + 2 / a).sum().backward(); out = (a.grad, b.grad)",
    "x = lib.zeros(2); v = x[0:1]; w = x.reshape(1, 2); x.copy_(lib.ones(2, requires_grad=True)); "
    "out = (v.requires_grad, w.requires_grad)",
    # Reductions, scans and softmax lay their results out afresh, as PyTorch does.
    "x = lib.zeros(4, 3, 2).permute(2, 0, 1); out = [(y.is_contiguous(), y.stride()) for y in "
    "(x.sum(1), x.mean(1), x.amax(1), x.prod(1), x.var(1), x.std(1), x.argmax(1), "
    "x.logsumexp(1), x.norm(dim=1), x.all(1), x.cumsum(1), x.softmax(1), x.max(1).values)]",
    "x = lib.arange(24.).reshape(4, 3, 2).permute(2, 0, 1).requires_grad_(); y = x.sum(1); "
    "y.contiguous().add_(1); out = y",
    "out = F.conv2d(lib.zeros((0, 1, 3, 3)), lib.ones((1, 1, 1, 1))).shape",
]


@pytest.mark.parametrize("code", FUZZ_FINDINGS)
def test_fuzz_findings_as_torch(code):
    assert_same(code)


@pytest.mark.parametrize("code", EDGES + MODULES)
def test_edges_and_modules_as_torch(code):
    assert_same(code)


@pytest.mark.parametrize("code", VIEWS_AND_IN_PLACE + INDEXING + ARITHMETIC + COMPARISONS
                         + GRADIENTS_THROUGH_MASKS + VARIANCE)
def test_same_as_torch(code):
    assert_same(code)


@settings(max_examples=60, deadline=None)
@given(offset=st.sampled_from([0.0, 0.1, 3.3, 1000.0, -7.7e4]),
       spread=st.sampled_from([0.0, 1e-3, 1.0]), size=st.integers(2, 40),
       seed=st.integers(0, 2**16))
def test_float32_moments_keep_float32_precision(offset, spread, size, seed):
    """var, std and layer_norm of float32 data within float32 rounding of the exact values
    (computed in float64 from the same float32 numbers): a constant row has std 0."""
    values = (offset + spread * np.random.default_rng(seed).standard_normal((3, size)))
    values = values.astype(np.float32)
    exact = values.astype(np.float64)
    x = ember.tensor(values)
    np.testing.assert_allclose(x.var(1).numpy(), exact.var(1, ddof=1), rtol=2e-6, atol=1e-30)
    np.testing.assert_allclose(x.std(1).numpy(), exact.std(1, ddof=1), rtol=2e-6, atol=1e-30)
    centered = exact - exact.mean(1, keepdims=True)
    normalized = centered / np.sqrt((centered ** 2).mean(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ember.nn.functional.layer_norm(x, (size,)).numpy(), normalized,
                               rtol=1e-5, atol=1e-6)

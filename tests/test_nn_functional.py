"""ember.nn.functional against PyTorch: values, gradients, graph nodes, errors.

Each case calls one function the same way on both libraries, through ``call(F, lib, *tensors)``
with ``F`` the library's ``nn.functional`` and ``lib`` the library itself. The checks:
forward values and input gradients against PyTorch in float32, the ``grad_fn`` name, and
gradients against float64 finite differences (``ember.autograd.gradcheck``).
"""

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import ember
import ember.nn.functional as F

# ---- helpers --------------------------------------------------------------------------------


def _tensors(lib, arrays, grad, dtype=None):
    """Each array as a tensor of ``lib``; float ones at positions in ``grad`` require grad."""
    tensors = []
    for position, array in enumerate(arrays):
        if isinstance(array, np.ndarray):
            if dtype is not None and array.dtype.kind == "f":
                array = array.astype(dtype)
            tensor = torch.tensor(array) if lib is torch else ember.tensor(array)
            if position in grad and array.dtype.kind == "f":
                tensor.requires_grad_()
            array = tensor
        tensors.append(array)
    return tensors


def _numpy(tensor):
    return tensor.detach().numpy()


def assert_close(actual, expected, rtol=1e-5, atol=1e-6, what=""):
    """``actual`` within ``rtol`` of ``expected``, plus ``atol`` scaled by its largest value
    (float32 sums of many terms err relative to the largest term, not to each result)."""
    expected = np.asarray(expected)
    scale = max(1.0, float(np.nanmax(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=rtol, atol=atol * scale,
                               err_msg=what)


@dataclass
class Case:
    """One call of a functional op on fixed inputs."""

    name: str
    call: Callable  # call(F, lib, *tensors)
    arrays: list
    grad: tuple = None  # positions that require grad; None: every float array
    gradcheck: bool = True
    rtol: float = 1e-5
    atol: float = 1e-6
    check_grad_fn_name: bool = True

    def grad_positions(self):
        if self.grad is not None:
            return self.grad
        return tuple(i for i, a in enumerate(self.arrays)
                     if isinstance(a, np.ndarray) and a.dtype.kind == "f")


def _rng():
    return np.random.default_rng(7)


def _randn(*shape):
    return _rng().standard_normal(shape).astype(np.float32)


def _uniform(low, high, *shape, seed=3):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)


def _labels(high, *shape, seed=5):
    return np.random.default_rng(seed).integers(0, high, shape).astype(np.int64)


def _distinct(*shape):
    """Well-separated values in random order: no ties, no kinks, for max pooling."""
    count = int(np.prod(shape))
    return (_rng().permutation(count).astype(np.float32) / count * 4 - 2).reshape(shape)


def _conv_weight(*shape):
    return _randn(*shape) * 0.5


CASES = [
    Case("conv2d", lambda F, lib, x, w, b: F.conv2d(x, w, b),
         [_randn(2, 3, 6, 6), _conv_weight(4, 3, 3, 3), _randn(4)]),
    Case("conv2d_stride_padding_dilation",
         lambda F, lib, x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2),
                                          dilation=(1, 2)),
         [_randn(2, 2, 7, 6), _conv_weight(3, 2, 3, 2), _randn(3)]),
    Case("conv2d_groups_no_bias", lambda F, lib, x, w: F.conv2d(x, w, groups=2, padding=1),
         [_randn(2, 4, 5, 5), _conv_weight(6, 2, 3, 3)]),
    Case("conv2d_same", lambda F, lib, x, w: F.conv2d(x, w, padding="same", dilation=2),
         [_randn(1, 2, 7, 6), _conv_weight(3, 2, 4, 3)]),
    Case("conv2d_valid", lambda F, lib, x, w: F.conv2d(x, w, padding="valid", stride=2),
         [_randn(1, 2, 7, 6), _conv_weight(3, 2, 3, 3)]),
    Case("conv2d_unbatched", lambda F, lib, x, w, b: F.conv2d(x, w, b, padding=1),
         [_randn(2, 5, 5), _conv_weight(3, 2, 3, 3), _randn(3)]),
    Case("conv2d_weight_only", lambda F, lib, x, w, b: F.conv2d(x, w, b, stride=2),
         [_randn(3, 1, 8, 8), _conv_weight(2, 1, 5, 5), _randn(2)], grad=(1, 2)),
    Case("linear", lambda F, lib, x, w, b: F.linear(x, w, b),
         [_randn(4, 5), _randn(3, 5), _randn(3)]),
    Case("linear_no_bias", lambda F, lib, x, w: F.linear(x, w), [_randn(4, 5), _randn(3, 5)]),
    Case("linear_3d", lambda F, lib, x, w, b: F.linear(x, w, b),
         [_randn(2, 3, 5), _randn(4, 5), _randn(4)]),
    Case("linear_1d", lambda F, lib, x, w, b: F.linear(x, w, b),
         [_randn(5), _randn(4, 5), _randn(4)]),
    Case("relu", lambda F, lib, x: F.relu(x), [_randn(3, 4)]),
    Case("relu6", lambda F, lib, x: F.relu6(x * 4), [_randn(3, 4)]),
    Case("hardtanh", lambda F, lib, x: F.hardtanh(x, -0.5, 0.8), [_randn(3, 4)]),
    Case("leaky_relu", lambda F, lib, x: F.leaky_relu(x, 0.2), [_randn(3, 4)]),
    Case("elu", lambda F, lib, x: F.elu(x, alpha=1.5), [_randn(3, 4)]),
    Case("gelu", lambda F, lib, x: F.gelu(x * 3), [_randn(3, 4)]),
    Case("gelu_tanh", lambda F, lib, x: F.gelu(x * 3, approximate="tanh"), [_randn(3, 4)]),
    Case("silu", lambda F, lib, x: F.silu(x * 3), [_randn(3, 4)]),
    Case("softplus", lambda F, lib, x: F.softplus(x * 5, beta=2, threshold=6), [_randn(3, 4)]),
    Case("sigmoid", lambda F, lib, x: F.sigmoid(x), [_randn(3, 4)]),
    Case("tanh", lambda F, lib, x: F.tanh(x), [_randn(3, 4)]),
    Case("softmax", lambda F, lib, x: F.softmax(x * 3, dim=1), [_randn(2, 5, 3)]),
    Case("softmax_last", lambda F, lib, x: F.softmax(x, -1), [_randn(3, 4)]),
    Case("softmax_dtype", lambda F, lib, x: F.softmax(x, 0, dtype=lib.float64), [_randn(4)],
         gradcheck=False),
    Case("log_softmax", lambda F, lib, x: F.log_softmax(x * 3, dim=1), [_randn(2, 5, 3)]),
    Case("log_softmax_large", lambda F, lib, x: F.log_softmax(x * 100, dim=0), [_randn(6)]),
    Case("max_pool2d", lambda F, lib, x: F.max_pool2d(x, 2), [_distinct(2, 2, 5, 6)]),
    Case("max_pool2d_unbatched", lambda F, lib, x: F.max_pool2d(x, 2), [_distinct(2, 4, 4)]),
    Case("max_pool2d_general",
         lambda F, lib, x: F.max_pool2d(x, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2)),
         [_distinct(2, 2, 6, 7)]),
    Case("max_pool2d_ceil", lambda F, lib, x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
         [_distinct(1, 2, 6, 6)]),
    Case("avg_pool2d", lambda F, lib, x: F.avg_pool2d(x, 2), [_randn(2, 2, 5, 6)]),
    Case("avg_pool2d_padding",
         lambda F, lib, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
         [_randn(2, 2, 6, 5)]),
    Case("avg_pool2d_count_pad", lambda F, lib, x: F.avg_pool2d(x, (3, 2), 2, (1, 1), True),
         [_randn(1, 2, 6, 5)]),
    Case("avg_pool2d_divisor", lambda F, lib, x: F.avg_pool2d(x, 2, 1, divisor_override=3),
         [_randn(1, 2, 4, 5)]),
    Case("adaptive_avg_pool2d", lambda F, lib, x: F.adaptive_avg_pool2d(x, (2, 3)),
         [_randn(2, 2, 4, 6)]),
    Case("adaptive_avg_pool2d_uneven", lambda F, lib, x: F.adaptive_avg_pool2d(x, (3, 4)),
         [_randn(2, 2, 5, 7)]),
    Case("adaptive_avg_pool2d_global", lambda F, lib, x: F.adaptive_avg_pool2d(x, 1),
         [_randn(2, 3, 4, 4)]),
    Case("pad", lambda F, lib, x: F.pad(x, (1, 2, 0, 1), value=0.5), [_randn(2, 3, 4)]),
    Case("pad_negative", lambda F, lib, x: F.pad(x, (-1, 2, 1, -2)), [_randn(2, 3, 4)]),
    Case("batch_norm_train",
         lambda F, lib, x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         [_randn(4, 3, 2, 2), _randn(3), _randn(3)]),
    Case("batch_norm_eval",
         lambda F, lib, x, w, b, mean, var: F.batch_norm(x, mean, var, w, b),
         [_randn(4, 3), _randn(3), _randn(3), _randn(3), _uniform(0.5, 2, 3)], grad=(0, 1, 2)),
    Case("batch_norm_no_affine", lambda F, lib, x: F.batch_norm(x, None, None, training=True),
         [_randn(5, 2, 3)]),
    Case("layer_norm", lambda F, lib, x, w, b: F.layer_norm(x, (3, 4), w, b),
         [_randn(2, 3, 4), _randn(3, 4), _randn(3, 4)]),
    Case("layer_norm_no_affine", lambda F, lib, x: F.layer_norm(x, (4,)), [_randn(3, 4)]),
    Case("mse_loss", lambda F, lib, x, y: F.mse_loss(x, y), [_randn(3, 4), _uniform(-1, 1, 3, 4)]),
    Case("mse_loss_sum", lambda F, lib, x, y: F.mse_loss(x, y, reduction="sum"),
         [_randn(3, 4), _uniform(-1, 1, 3, 4)]),
    Case("mse_loss_none", lambda F, lib, x, y: F.mse_loss(x, y, reduction="none"),
         [_randn(3, 4), _uniform(-1, 1, 3, 4)]),
    Case("mse_loss_weight", lambda F, lib, x, y, w: F.mse_loss(x, y, weight=w),
         [_randn(3, 4), _uniform(-1, 1, 3, 4), _uniform(0, 1, 3, 4)], grad=(0, 1)),
    Case("l1_loss", lambda F, lib, x, y: F.l1_loss(x, y), [_randn(3, 4), _uniform(-1, 1, 3, 4)]),
    Case("l1_loss_none", lambda F, lib, x, y: F.l1_loss(x, y, reduction="none"),
         [_randn(3, 4), _uniform(-1, 1, 3, 4)]),
    Case("nll_loss", lambda F, lib, x, t: F.nll_loss(x, t), [_randn(4, 5), _labels(5, 4)]),
    Case("nll_loss_weight_ignore",
         lambda F, lib, x, t, w: F.nll_loss(x, t, w, ignore_index=1),
         [_randn(6, 3), np.array([0, 1, 2, 1, 0, 2]), _uniform(0.5, 2, 3)], grad=(0,)),
    Case("nll_loss_sum", lambda F, lib, x, t: F.nll_loss(x, t, reduction="sum"),
         [_randn(4, 5), _labels(5, 4)]),
    Case("nll_loss_none_spatial", lambda F, lib, x, t: F.nll_loss(x, t, reduction="none"),
         [_randn(2, 3, 2, 2), _labels(3, 2, 2, 2)]),
    Case("nll_loss_spatial_weight", lambda F, lib, x, t, w: F.nll_loss(x, t, w),
         [_randn(2, 3, 4), _labels(3, 2, 4), _uniform(0.5, 2, 3)], grad=(0,)),
    Case("nll_loss_unbatched", lambda F, lib, x, t: F.nll_loss(x, t),
         [_randn(5), np.array(3)]),
    Case("cross_entropy", lambda F, lib, x, t: F.cross_entropy(x, t),
         [_randn(4, 5), _labels(5, 4)]),
    Case("cross_entropy_weight_sum",
         lambda F, lib, x, t, w: F.cross_entropy(x, t, w, reduction="sum"),
         [_randn(4, 5), _labels(5, 4), _uniform(0.5, 2, 5)], grad=(0,)),
    Case("cross_entropy_spatial_none",
         lambda F, lib, x, t: F.cross_entropy(x, t, reduction="none"),
         [_randn(2, 3, 2, 2), _labels(3, 2, 2, 2)]),
    Case("cross_entropy_label_smoothing",
         lambda F, lib, x, t, w: F.cross_entropy(x, t, w, ignore_index=2, label_smoothing=0.2),
         [_randn(5, 4), np.array([0, 2, 3, 1, 2]), _uniform(0.5, 2, 4)], grad=(0,)),
    Case("cross_entropy_label_smoothing_none",
         lambda F, lib, x, t: F.cross_entropy(x, t, reduction="none", label_smoothing=0.3),
         [_randn(3, 4), _labels(4, 3)]),
    # PyTorch divides by the batch size inside ATen (DivBackward1, division by a Scalar); ember
    # divides a tensor by a Python number, which PyTorch itself also records as DivBackward0.
    Case("cross_entropy_probabilities", lambda F, lib, x, p: F.cross_entropy(x, p),
         [_randn(3, 4), _uniform(0, 1, 3, 4)], check_grad_fn_name=False),
    Case("cross_entropy_probabilities_smoothing",
         lambda F, lib, x, p, w: F.cross_entropy(x, p, w, label_smoothing=0.1,
                                                 reduction="sum"),
         [_randn(3, 4), _uniform(0, 1, 3, 4), _uniform(0.5, 2, 4)], grad=(0, 1)),
    Case("cross_entropy_unbatched", lambda F, lib, x, t: F.cross_entropy(x, t),
         [_randn(5), np.array(2)]),
    Case("binary_cross_entropy", lambda F, lib, p, t: F.binary_cross_entropy(p, t),
         [_uniform(0.1, 0.9, 3, 4), _uniform(0, 1, 3, 4, seed=8)]),
    Case("binary_cross_entropy_weight_none",
         lambda F, lib, p, t, w: F.binary_cross_entropy(p, t, w, reduction="none"),
         [_uniform(0.1, 0.9, 3, 4), _uniform(0, 1, 3, 4, seed=8), _uniform(0.5, 2, 4)],
         grad=(0, 1)),
    Case("binary_cross_entropy_with_logits",
         lambda F, lib, x, t: F.binary_cross_entropy_with_logits(x, t),
         [_randn(3, 4) * 3, _uniform(0, 1, 3, 4)]),
    Case("binary_cross_entropy_with_logits_weights",
         lambda F, lib, x, t, w, pw: F.binary_cross_entropy_with_logits(
             x, t, w, reduction="sum", pos_weight=pw),
         [_randn(3, 4) * 3, _uniform(0, 1, 3, 4), _uniform(0.5, 2, 3, 4),
          _uniform(0.5, 3, 4, seed=9)], grad=(0, 1)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_matches_torch(case):
    """Forward values, input gradients and the grad_fn name equal PyTorch's (float32)."""
    grad = case.grad_positions()
    ours = _tensors(ember, case.arrays, grad)
    theirs = _tensors(torch, case.arrays, grad)
    output = case.call(F, ember, *ours)
    expected = case.call(TF, torch, *theirs)
    assert tuple(output.shape) == tuple(expected.shape)
    assert output.dtype.name == str(expected.dtype).removeprefix("torch.")
    assert_close(_numpy(output), _numpy(expected), case.rtol, case.atol, "forward")
    if case.check_grad_fn_name:
        assert output.grad_fn.name() == expected.grad_fn.name()

    grad_output = np.random.default_rng(11).standard_normal(expected.shape).astype(
        _numpy(expected).dtype)
    output.backward(ember.tensor(grad_output))
    expected.backward(torch.tensor(grad_output))
    for position in grad:
        assert_close(ours[position].grad.numpy(), theirs[position].grad.numpy(), 1e-4, 1e-5,
                     f"gradient of input {position}")


@pytest.mark.parametrize("case", [c for c in CASES if c.gradcheck], ids=lambda case: case.name)
def test_gradcheck(case):
    """Backward agrees with float64 central differences."""
    grad = case.grad_positions()
    inputs = _tensors(ember, case.arrays, grad, dtype=np.float64)
    assert ember.autograd.gradcheck(lambda *tensors: case.call(F, ember, *tensors), inputs)


# ---- graph structure ------------------------------------------------------------------------

def _graph(tensor, depth=3):
    """The names of the grad_fn graph as nested tuples, as deep as ``depth``."""
    def walk(node, level):
        if node is None:
            return None
        name = node.name().removeprefix("torch::autograd::")
        if level == depth:
            return name
        # PyTorch lists an edge for an absent optional input (bias=None); ember has none.
        return (name, tuple(walk(child, level + 1) for child, _ in node.next_functions
                            if child is not None))
    return walk(tensor.grad_fn, 0)


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (5,)], ids=["2d", "3d", "1d"])
def test_linear_graph_with_bias_is_addmm(shape):
    """Bias first, then the input, then TBackward0 over the weight: PyTorch's graph."""
    x = np.ones(shape, np.float32)
    ours = _tensors(ember, [x, np.ones((3, 5), np.float32), np.ones(3, np.float32)], (0, 1, 2))
    theirs = _tensors(torch, [x, np.ones((3, 5), np.float32), np.ones(3, np.float32)],
                      (0, 1, 2))
    assert _graph(F.linear(*ours)) == _graph(TF.linear(*theirs))


def test_cross_entropy_graph_is_nll_over_log_softmax():
    logits = ember.randn(3, 4, requires_grad=True)
    loss = F.cross_entropy(logits, ember.tensor([0, 3, 1]))
    assert _graph(loss) == ("NllLossBackward0", (("LogSoftmaxBackward0", (
        ("AccumulateGrad", ()),)),))


GRAPHS = [
    ("conv2d_unbatched", (2, 5, 5), lambda F, lib, x: F.conv2d(x, lib.ones(3, 2, 3, 3))),
    ("max_pool2d_unbatched", (2, 5, 5), lambda F, lib, x: F.max_pool2d(x, 2)),
    ("nll_loss_3d", (2, 5, 4),
     lambda F, lib, x: F.nll_loss(x, lib.zeros(2, 4, dtype=lib.int64), reduction="none")),
    ("nll_loss_4d", (2, 5, 4, 3), lambda F, lib, x: F.nll_loss(x, lib.zeros(2, 4, 3,
                                                                         dtype=lib.int64))),
    ("nll_loss_5d", (2, 5, 4, 3, 2),
     lambda F, lib, x: F.nll_loss(x, lib.zeros(2, 4, 3, 2, dtype=lib.int64), reduction="none")),
    ("nll_loss_unbatched", (5,), lambda F, lib, x: F.nll_loss(x, lib.tensor(1))),
    ("cross_entropy_unbatched", (5,), lambda F, lib, x: F.cross_entropy(x, lib.tensor(1))),
]


@pytest.mark.parametrize("shape, call", [pytest.param(shape, call, id=name)
                                         for name, shape, call in GRAPHS])
def test_graph_of_unbatched_and_spatial_inputs(shape, call):
    x = np.ones(shape, np.float32)
    ours, theirs = _tensors(ember, [x], (0,)), _tensors(torch, [x], (0,))
    output, expected = call(F, ember, ours[0]), call(TF, torch, theirs[0])
    assert tuple(output.shape) == tuple(expected.shape)
    assert _graph(output) == _graph(expected)


# ---- max pooling's tie rule -----------------------------------------------------------------

@pytest.mark.parametrize("arguments", [dict(kernel_size=2), dict(kernel_size=3, stride=1),
                                       dict(kernel_size=3, stride=2, padding=1),
                                       dict(kernel_size=2, return_indices=True)],
                         ids=["2x2", "3x3_overlapping", "3x3_padded", "2x2_indices"])
@pytest.mark.parametrize("values", ["equal", "few_levels", "nan"])
def test_max_pool2d_ties_go_to_the_first_maximum(arguments, values):
    """Each window's gradient goes to one element: the first maximal one in scan order (a NaN
    counts as maximal, and the last NaN wins), as in PyTorch."""
    if values == "equal":
        x = np.ones((2, 3, 6, 6), np.float32)
    else:
        x = np.random.default_rng(2).integers(0, 3, (2, 3, 6, 6)).astype(np.float32)
        if values == "nan":
            x[0, 0, :2, :3] = np.nan
            x[1, 2, 3, 3] = np.nan
    ours, theirs = _tensors(ember, [x], (0,)), _tensors(torch, [x], (0,))
    output = F.max_pool2d(ours[0], **arguments)
    expected = TF.max_pool2d(theirs[0], **arguments)
    if arguments.get("return_indices"):
        np.testing.assert_array_equal(output[1].numpy(), expected[1].numpy())
        assert output[1].dtype == ember.int64 and not output[1].requires_grad
        output, expected = output[0], expected[0]
    np.testing.assert_array_equal(_numpy(output), _numpy(expected))
    grad_output = np.arange(np.prod(expected.shape), dtype=np.float32).reshape(expected.shape)
    output.backward(ember.tensor(grad_output))
    expected.backward(torch.tensor(grad_output))
    np.testing.assert_array_equal(ours[0].grad.numpy(), theirs[0].grad.numpy())


# ---- conv2d over random geometries ----------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(batch=st.integers(1, 2), groups=st.integers(1, 2), group_in=st.integers(1, 2),
       group_out=st.integers(1, 2), height=st.integers(1, 7), width=st.integers(1, 7),
       kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)), bias=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_conv2d_geometries_match_torch(batch, groups, group_in, group_out, height, width,
                                       kernel, stride, padding, dilation, bias, seed):
    for d, size in enumerate((height, width)):
        assume(size + 2 * padding[d] >= dilation[d] * (kernel[d] - 1) + 1)
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((batch, groups * group_in, height, width)).astype(np.float32),
              rng.standard_normal((groups * group_out, group_in) + kernel).astype(np.float32)]
    if bias:
        arrays.append(rng.standard_normal(groups * group_out).astype(np.float32))
    grad = tuple(range(len(arrays)))
    ours, theirs = _tensors(ember, arrays, grad), _tensors(torch, arrays, grad)
    arguments = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    output = F.conv2d(*ours, **arguments)
    expected = TF.conv2d(*theirs, **arguments)
    assert_close(_numpy(output), _numpy(expected), what="forward")
    grad_output = rng.standard_normal(expected.shape).astype(np.float32)
    output.backward(ember.tensor(grad_output))
    expected.backward(torch.tensor(grad_output))
    for mine, reference in zip(ours, theirs):
        assert_close(mine.grad.numpy(), reference.grad.numpy(), 1e-4, 1e-5, "gradient")


# ---- errors ---------------------------------------------------------------------------------

def _x(*shape):
    return np.zeros(shape, np.float32)


ERRORS = [
    ("conv2d_channels", lambda F, lib: F.conv2d(lib.zeros(1, 3, 32, 32), lib.zeros(6, 1, 3, 3))),
    ("conv2d_group_channels",
     lambda F, lib: F.conv2d(lib.zeros(1, 3, 8, 8), lib.zeros(6, 2, 3, 3), groups=3)),
    ("conv2d_groups_divide_out",
     lambda F, lib: F.conv2d(lib.zeros(1, 4, 5, 5), lib.zeros(3, 2, 3, 3), groups=2)),
    ("conv2d_ndim_5", lambda F, lib: F.conv2d(lib.zeros(2, 1, 3, 8, 8), lib.zeros(6, 3, 3, 3))),
    ("conv2d_ndim_2", lambda F, lib: F.conv2d(lib.zeros(8, 8), lib.zeros(6, 3, 3, 3))),
    ("conv2d_kernel_too_large",
     lambda F, lib: F.conv2d(lib.zeros(1, 3, 2, 2), lib.zeros(6, 3, 3, 3))),
    ("conv2d_dilated_kernel_too_large",
     lambda F, lib: F.conv2d(lib.zeros(1, 3, 4, 4), lib.zeros(6, 3, 3, 3), dilation=2)),
    ("conv2d_same_strided",
     lambda F, lib: F.conv2d(lib.zeros(1, 3, 8, 8), lib.zeros(6, 3, 3, 3), padding="same",
                             stride=2)),
    ("conv2d_bad_padding_string",
     lambda F, lib: F.conv2d(lib.zeros(1, 3, 8, 8), lib.zeros(6, 3, 3, 3), padding="full")),
    ("conv2d_negative_padding",
     lambda F, lib: F.conv2d(lib.zeros(1, 3, 8, 8), lib.zeros(6, 3, 3, 3), padding=-1)),
    ("conv2d_zero_stride",
     lambda F, lib: F.conv2d(lib.zeros(1, 3, 8, 8), lib.zeros(6, 3, 3, 3), stride=0)),
    ("conv2d_bias_size",
     lambda F, lib: F.conv2d(lib.zeros(1, 3, 8, 8), lib.zeros(6, 3, 3, 3), lib.zeros(5))),
    ("conv2d_dtype",
     lambda F, lib: F.conv2d(lib.zeros(1, 3, 8, 8, dtype=lib.float64), lib.zeros(6, 3, 3, 3))),
    ("linear_shapes", lambda F, lib: F.linear(lib.zeros(1, 576), lib.zeros(120, 400))),
    ("linear_shapes_3d", lambda F, lib: F.linear(lib.zeros(2, 3, 576), lib.zeros(120, 400))),
    ("max_pool2d_padding", lambda F, lib: F.max_pool2d(lib.zeros(1, 3, 8, 8), 2, padding=2)),
    ("max_pool2d_too_small", lambda F, lib: F.max_pool2d(lib.zeros(1, 3, 1, 1), 2)),
    ("max_pool2d_ndim", lambda F, lib: F.max_pool2d(lib.zeros(3, 3), 2)),
    ("max_pool2d_zero_stride", lambda F, lib: F.max_pool2d(lib.zeros(1, 3, 8, 8), 2, 0)),
    ("avg_pool2d_padding", lambda F, lib: F.avg_pool2d(lib.zeros(1, 3, 8, 8), 2, padding=2)),
    ("adaptive_avg_pool2d_ndim", lambda F, lib: F.adaptive_avg_pool2d(lib.zeros(3, 3), 2)),
    ("adaptive_avg_pool2d_output_size",
     lambda F, lib: F.adaptive_avg_pool2d(lib.zeros(1, 3, 8, 8), (2, 2, 2))),
    ("dropout_above_one", lambda F, lib: F.dropout(lib.zeros(3), 1.5)),
    ("dropout_negative", lambda F, lib: F.dropout(lib.zeros(3), -0.1)),
    ("gelu_approximate", lambda F, lib: F.gelu(lib.zeros(3), approximate="sigmoid")),
    ("softmax_dim", lambda F, lib: F.softmax(lib.zeros(3, 5), 2)),
    ("nll_loss_target_out_of_bounds",
     lambda F, lib: F.nll_loss(lib.zeros(3, 5), lib.tensor([1, 10, 2]))),
    ("nll_loss_negative_target",
     lambda F, lib: F.nll_loss(lib.zeros(3, 5), lib.tensor([1, -1, 2]))),
    ("nll_loss_batch_size", lambda F, lib: F.nll_loss(lib.zeros(3, 5), lib.tensor([1, 2]))),
    ("nll_loss_float_target",
     lambda F, lib: F.nll_loss(lib.zeros(3, 5), lib.tensor([1.0, 2.0, 3.0]))),
    ("nll_loss_spatial_target",
     lambda F, lib: F.nll_loss(lib.zeros(2, 3, 4), lib.zeros(2, 5, dtype=lib.int64))),
    ("nll_loss_2d_target",
     lambda F, lib: F.nll_loss(lib.zeros(2, 3), lib.zeros(2, 5, dtype=lib.int64))),
    ("nll_loss_4d_target",
     lambda F, lib: F.nll_loss(lib.zeros(2, 3, 4, 4), lib.zeros(2, 4, 3, dtype=lib.int64))),
    ("nll_loss_weight_size",
     lambda F, lib: F.nll_loss(lib.zeros(3, 5), lib.tensor([1, 2, 3]), lib.ones(4))),
    ("nll_loss_0d", lambda F, lib: F.nll_loss(lib.zeros(()), lib.tensor(1))),
    ("nll_loss_reduction",
     lambda F, lib: F.nll_loss(lib.zeros(3, 5), lib.tensor([1, 2, 3]), reduction="avg")),
    ("cross_entropy_out_of_bounds",
     lambda F, lib: F.cross_entropy(lib.zeros(3, 5), lib.tensor([1, 5, 2]))),
    ("cross_entropy_batch_size",
     lambda F, lib: F.cross_entropy(lib.zeros(3, 5), lib.tensor([1, 2]))),
    ("cross_entropy_probability_shape",
     lambda F, lib: F.cross_entropy(lib.zeros(3, 5), lib.zeros(3, 4))),
    ("cross_entropy_label_smoothing",
     lambda F, lib: F.cross_entropy(lib.zeros(3, 5), lib.tensor([1, 2, 3]),
                                    label_smoothing=1.5)),
    ("mse_loss_shapes", lambda F, lib: F.mse_loss(lib.zeros(3, 5), lib.zeros(4))),
    ("mse_loss_reduction", lambda F, lib: F.mse_loss(lib.zeros(3), lib.zeros(3), reduction="x")),
    ("binary_cross_entropy_range",
     lambda F, lib: F.binary_cross_entropy(lib.full((3,), 1.5), lib.zeros(3))),
    ("binary_cross_entropy_shapes",
     lambda F, lib: F.binary_cross_entropy(lib.zeros(3, 5), lib.zeros(5))),
    ("binary_cross_entropy_with_logits_shapes",
     lambda F, lib: F.binary_cross_entropy_with_logits(lib.zeros(3, 5), lib.zeros(5))),
    ("one_hot_negative", lambda F, lib: F.one_hot(lib.tensor([-1, 2]))),
    ("one_hot_too_large", lambda F, lib: F.one_hot(lib.tensor([1, 2]), 2)),
    ("one_hot_float", lambda F, lib: F.one_hot(lib.tensor([1.0, 2.0]))),
    ("one_hot_empty", lambda F, lib: F.one_hot(lib.zeros(0, dtype=lib.int64))),
    ("pad_odd", lambda F, lib: F.pad(lib.zeros(1, 2, 3), (1,))),
    ("pad_too_long", lambda F, lib: F.pad(lib.zeros(3), (1, 1, 1, 1))),
    ("pad_mode", lambda F, lib: F.pad(lib.zeros(3), (1, 1), mode="mirror")),
    ("layer_norm_shape", lambda F, lib: F.layer_norm(lib.zeros(2, 3, 8, 7), (8,))),
    ("batch_norm_one_value",
     lambda F, lib: F.batch_norm(lib.zeros(1, 3), None, None, training=True)),
    ("batch_norm_eval_without_stats",
     lambda F, lib: F.batch_norm(lib.zeros(2, 3), None, None)),
    ("batch_norm_stat_size",
     lambda F, lib: F.batch_norm(lib.zeros(2, 3), lib.zeros(4), lib.ones(4), training=True)),
]


def _raised(call, lib, functional):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as info:
            call(functional, lib)
    return info.type, str(info.value).replace("torch.", "ember.")


@pytest.mark.parametrize("call", [pytest.param(call, id=name) for name, call in ERRORS])
def test_errors_match_torch(call):
    """The same exception type and message as PyTorch (``torch.`` read as ``ember.``)."""
    expected_type, expected_message = _raised(call, torch, TF)
    actual_type, actual_message = _raised(call, ember, F)
    assert actual_type is expected_type
    assert actual_message == expected_message


def test_mse_loss_warns_when_target_broadcasts():
    with pytest.warns(UserWarning, match=r"Using a target size \(ember.Size\(\[5\]\)\) that is "
                                         r"different to the input size"):
        loss = F.mse_loss(ember.zeros(3, 5), ember.ones(5))
    assert loss.item() == 1.0


# ---- batch_norm's running statistics, dropout, one_hot, softmax's implicit dim -------------

@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 4)], ids=["1d", "seq", "2d"])
def test_batch_norm_updates_running_statistics_like_torch(shape):
    x = _randn(*shape) * 2 + 1
    stats = [np.zeros(3, np.float32) + 0.5, np.ones(3, np.float32) * 2]
    ours, theirs = _tensors(ember, [x] + stats, ()), _tensors(torch, [x] + stats, ())
    for _ in range(2):
        F.batch_norm(ours[0], ours[1], ours[2], training=True, momentum=0.3)
        TF.batch_norm(theirs[0], theirs[1], theirs[2], training=True, momentum=0.3)
    assert_close(ours[1].numpy(), theirs[1].numpy(), what="running_mean")
    assert_close(ours[2].numpy(), theirs[2].numpy(), what="running_var")
    assert ours[1]._version[0] == 2
    evaluated = F.batch_norm(ours[0], ours[1], ours[2])
    assert_close(evaluated.numpy(), TF.batch_norm(*theirs).numpy(), what="eval output")


def test_dropout_scales_kept_elements_and_routes_gradient_through_the_mask():
    x = ember.ones(20000, requires_grad=True)
    y = F.dropout(x, p=0.25)
    values = y.detach().numpy()
    kept = values != 0
    assert 0.72 < kept.mean() < 0.78
    np.testing.assert_allclose(values[kept], 1 / 0.75, rtol=1e-6)
    assert y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)


def test_dropout_identity_cases_and_p_one():
    x = ember.randn(5, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    zeros = F.dropout(x, 1.0)
    assert not zeros.detach().numpy().any() and zeros.grad_fn.name() == "MulBackward0"


def test_dropout_inplace_overwrites_its_input():
    x = ember.ones(100)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and set(np.unique(x.numpy())) <= {0.0, 2.0}


def test_one_hot_matches_torch():
    labels = np.array([[0, 3], [2, 1]])
    np.testing.assert_array_equal(F.one_hot(ember.tensor(labels)).numpy(),
                                  TF.one_hot(torch.tensor(labels)).numpy())
    assert F.one_hot(ember.tensor(labels), 6).shape == (2, 2, 6)
    assert F.one_hot(ember.tensor([1])).dtype == ember.int64


@pytest.mark.parametrize("ndim", [1, 2, 3, 4])
def test_softmax_implicit_dim_warns_and_picks_torchs_dim(ndim):
    x = _randn(*(2,) * ndim)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        ours = F.softmax(ember.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = TF.softmax(torch.tensor(x))
    assert_close(ours.numpy(), expected.numpy())


@pytest.mark.parametrize("function", ["relu", "leaky_relu", "elu", "hardtanh", "silu"])
def test_inplace_activations_match_torch(function):
    x = _randn(3, 4)
    ours = ember.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    output = getattr(F, function)(ours * 2, inplace=True)
    expected = getattr(TF, function)(theirs * 2, inplace=True)
    assert_close(_numpy(output), _numpy(expected))
    assert output.grad_fn.name() == expected.grad_fn.name()
    output.sum().backward()
    expected.sum().backward()
    assert_close(ours.grad.numpy(), theirs.grad.numpy())


def test_gelu_matches_torch_in_float64_over_a_wide_range():
    x = np.linspace(-30, 30, 601)
    expected = TF.gelu(torch.tensor(x)).numpy()
    np.testing.assert_allclose(F.gelu(ember.tensor(x)).numpy(), expected, rtol=1e-12,
                               atol=1e-14)
    # Far in the lower tail 1 + erf rounds to 0, in PyTorch and here: gelu is -0.0, not tiny.
    assert F.gelu(ember.tensor([-10.0])).item() == 0.0


def test_log_softmax_stays_finite_for_huge_logits():
    x = ember.tensor([[1000.0, 0.0, -1000.0]], requires_grad=True)
    out = F.log_softmax(x, dim=1)
    assert np.isfinite(out.detach().numpy()).all()
    out.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_nll_loss_mean_of_all_ignored_targets_is_nan_like_torch():
    loss = F.nll_loss(ember.zeros(2, 3), ember.tensor([1, 1]), ignore_index=1)
    assert np.isnan(loss.item())


def test_conv2d_backward_detects_weight_modified_in_place():
    """The weight is saved for the input's gradient; changing it in between is an error."""
    x = ember.randn(1, 2, 5, 5, requires_grad=True)
    weight = ember.randn(3, 2, 3, 3, requires_grad=True)
    out = F.conv2d(x, weight)
    with ember.no_grad():
        weight.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_signed_zeros_and_nans_as_pytorch(dtype):
    """relu keeps -0.0, and its gradient passes wherever the output is not <= 0 (NaN too);
    40 elements reach both NumPy's vectorized loop and its tail."""
    x = np.array([np.nan, -0.0, 0.0, 1.5, -1.5] * 8, dtype=dtype)
    ours, theirs = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = F.relu(ours), TF.relu(theirs)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    np.testing.assert_array_equal(np.signbit(out.detach().numpy()),
                                  np.signbit(expected.detach().numpy()))
    out.backward(ember.ones(40))
    expected.backward(torch.ones(40))
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("shape,target_shape", [
    ((2, 3), (2,)), ((3,), ()), ((2, 3, 4, 5), (2, 4, 5)), ((0, 3), (0,)), ((2, 3, 4), (2, 4))])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_gradients_with_ignored_samples_as_pytorch(rng, shape, target_shape, weighted,
                                                            reduction):
    """Ignored samples and zero class weights: the same losses and gradients as PyTorch,
    signed zeros and the NaN of an all-ignored mean included."""
    x = rng.standard_normal(shape)
    target = rng.integers(0, 3, target_shape)
    if target.size:
        target.reshape(-1)[0] = -100
    weight = np.array([0.5, 0.0, 2.0]) if weighted else None
    results = []
    for lib in (ember, torch):
        tensor = lib.tensor(x, requires_grad=True)
        loss = lib.nn.functional.nll_loss(tensor, lib.tensor(target), reduction=reduction,
                                          weight=None if weight is None else lib.tensor(weight))
        loss.sum().backward()
        results.append((loss.detach().numpy(), tensor.grad.numpy()))
    (loss, grad), (expected_loss, expected_grad) = results
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-12)
    np.testing.assert_array_equal(grad, expected_grad)
    np.testing.assert_array_equal(np.signbit(grad), np.signbit(expected_grad))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_conv2d_matches_pytorch_over_random_geometry(data):
    """Output and all three gradients against PyTorch: stride 1 (the widened-rows col2im) and
    larger strides (the general one), with padding, dilation, groups and rectangular kernels."""
    draw = data.draw
    groups = draw(st.sampled_from([1, 2]))
    in_channels, out_channels = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    height = draw(st.integers(dilation[0] * (kernel[0] - 1) + 1, 7))
    width = draw(st.integers(dilation[1] * (kernel[1] - 1) + 1, 7))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((draw(st.integers(1, 3)), in_channels, height, width))
    w = rng.standard_normal((out_channels, in_channels // groups) + kernel)
    b = rng.standard_normal(out_channels)
    results = []
    for lib in (ember, torch):
        tensors = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
        out = lib.nn.functional.conv2d(*tensors, stride=stride, padding=padding,
                                       dilation=dilation, groups=groups)
        out.backward(lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape))))
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in tensors])
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.conv2d(lib.zeros(0, 3, 5, 5, requires_grad=True),
                                         lib.ones(4, 3, 3, 3, requires_grad=True),
                                         lib.ones(4, requires_grad=True)),
    lambda lib: lib.nn.functional.conv2d(lib.zeros(0, 4, 5, 5, requires_grad=True),
                                         lib.ones(4, 2, 3, 3, requires_grad=True), None, 2, 1,
                                         1, 2),
    lambda lib: lib.nn.functional.max_pool2d(lib.zeros(0, 3, 4, 4, requires_grad=True), 2),
    lambda lib: lib.nn.functional.max_pool2d(lib.zeros(0, 3, 5, 5, requires_grad=True), 3, 1, 1),
    lambda lib: lib.nn.functional.avg_pool2d(lib.zeros(0, 3, 4, 4, requires_grad=True), 2),
    lambda lib: lib.nn.functional.cross_entropy(lib.zeros(0, 3, requires_grad=True),
                                                lib.zeros(0, dtype=lib.long), ignore_index=0),
], ids=["conv2d", "conv2d-groups-stride", "max_pool2d-2x2", "max_pool2d", "avg_pool2d",
        "cross_entropy-ignore-0"])
def test_empty_batch_as_pytorch(call):
    """A batch of zero images goes through forward and backward, with PyTorch's shapes."""
    results = []
    for lib in (ember, torch):
        out = call(lib)
        out.sum().backward()
        results.append((tuple(out.shape), out.detach().numpy()))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


@pytest.mark.parametrize("shape", [(2, 0, 4, 4), (0, 4, 4)])
@pytest.mark.parametrize("pool", ["max_pool2d", "avg_pool2d"])
def test_pooling_refuses_empty_non_batch_dimensions(shape, pool):
    with pytest.raises(RuntimeError) as expected:
        getattr(torch.nn.functional, pool)(torch.zeros(shape), 2)
    with pytest.raises(RuntimeError) as raised:
        getattr(F, pool)(ember.zeros(shape), 2)
    assert str(raised.value) == str(expected.value)


def test_relu_refuses_booleans_as_pytorch():
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
        torch.relu(torch.tensor([True, False]))
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
        F.relu(ember.tensor([True, False]))

"""Every row of ``op_db`` against PyTorch: forward, backward, float64 gradcheck, grad_fn name.

Each test runs once per row and device. PyTorch always runs on the CPU as the reference.
"""

import importlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from op_db import OpInfo, Sample, op_db

import ember

ROWS = [pytest.param(op, id=op.name) for op in op_db]


# ---- converting samples ---------------------------------------------------------------------

def _requires(op: OpInfo) -> None:
    """Skip (visibly) a row whose ember function is not written yet."""
    if op.requires is None:
        return
    module_name, _, attribute = ("ember." + op.requires).rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        pytest.skip(f"{module_name} is not importable yet ({error})")
    if not hasattr(module, attribute):
        pytest.skip(f"{module_name}.{attribute} does not exist yet")


def _convert(value, lib, device, grad, dtype=None):
    """Arrays become tensors of ``lib`` (float ones leaves requiring grad when ``grad``)."""
    if isinstance(value, np.ndarray):
        if dtype is not None and value.dtype.kind == "f":
            value = value.astype(dtype)
        if lib is torch:
            tensor = torch.tensor(value)
        else:
            tensor = ember.tensor(value, device=device)
        if grad and value.dtype.kind == "f":
            tensor.requires_grad_()
        return tensor
    if isinstance(value, list):
        return [_convert(v, lib, device, grad, dtype) for v in value]
    if isinstance(value, tuple):
        return tuple(_convert(v, lib, device, grad, dtype) for v in value)
    return value


def _args(sample: Sample, lib, device="cpu", differentiable=True, dtype=None):
    args = tuple(
        _convert(a, lib, device, differentiable and (sample.grad is None or i in sample.grad),
                 dtype)
        for i, a in enumerate(sample.args))
    kwargs = {k: _convert(v, lib, device, False, dtype) for k, v in sample.kwargs.items()}
    return args, kwargs


def _leaves(value):
    """The tensors that require grad among (nested) arguments, in order."""
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    if isinstance(value, (ember.Tensor, torch.Tensor)) and value.requires_grad:
        return [value]
    return []


def _outputs(result):
    """An op's result as a flat list of tensors."""
    if isinstance(result, (tuple, list)):
        return [r for item in result for r in _outputs(item)]
    return [result]


def _numpy(tensor):
    if isinstance(tensor, torch.Tensor):
        return tensor.detach().numpy()
    return tensor.detach().cpu().numpy()


def _dtype_name(dtype) -> str:
    return str(dtype).split(".")[-1]


def _samples(op: OpInfo):
    return op.sample_inputs(np.random.default_rng(sum(map(ord, op.name))))


def _compare(ours, theirs, atol, rtol, what):
    assert isinstance(ours, ember.Tensor), f"{what}: got {type(ours).__name__}, not a Tensor"
    assert tuple(ours.shape) == tuple(theirs.shape), \
        f"{what}: shape {tuple(ours.shape)} != torch's {tuple(theirs.shape)}"
    assert _dtype_name(ours.dtype) == _dtype_name(theirs.dtype), \
        f"{what}: dtype {ours.dtype} != torch's {theirs.dtype}"
    np.testing.assert_allclose(_numpy(ours), _numpy(theirs), atol=atol, rtol=rtol,
                               err_msg=what)


# ---- the shared tests ------------------------------------------------------------------------

@pytest.mark.parametrize("op", ROWS)
def test_forward(op: OpInfo, device):
    """Values, shape and dtype equal PyTorch's."""
    _requires(op)
    for sample in _samples(op):
        args, kwargs = _args(sample, ember, device, differentiable=False)
        targs, tkwargs = _args(sample, torch, differentiable=False)
        expected = _outputs(op.reference()(torch, *targs, **tkwargs))
        actual = _outputs(op.fn(ember, *args, **kwargs))
        assert len(actual) == len(expected), f"{op.name} [{sample.desc}]: number of outputs"
        for k, (ours, theirs) in enumerate(zip(actual, expected)):
            _compare(ours, theirs, op.atol, op.rtol, f"{op.name} [{sample.desc}] output {k}")


@pytest.mark.parametrize("op", ROWS)
def test_backward(op: OpInfo, device):
    """With random output gradients, the input gradients equal PyTorch's."""
    _requires(op)
    if not op.differentiable:
        pytest.skip("not differentiable")
    for sample in _samples(op):
        what = f"{op.name} [{sample.desc}]"
        args, kwargs = _args(sample, ember, device)
        targs, tkwargs = _args(sample, torch)
        expected = _outputs(op.reference()(torch, *targs, **tkwargs))
        actual = _outputs(op.fn(ember, *args, **kwargs))
        rng = np.random.default_rng(7)
        pairs, seeds = [], []
        for k, (ours, theirs) in enumerate(zip(actual, expected)):
            assert ours.requires_grad == theirs.requires_grad, f"{what} output {k} requires_grad"
            if theirs.requires_grad:
                seed = rng.standard_normal(tuple(theirs.shape)).astype(_numpy(theirs).dtype)
                pairs.append((ours, theirs))
                seeds.append(seed)
        if not pairs:
            continue
        torch.autograd.backward([t for _, t in pairs], [torch.tensor(s) for s in seeds])
        ember.autograd.backward([o for o, _ in pairs],
                                [ember.tensor(s, device=device) for s in seeds])
        for k, (ours, theirs) in enumerate(zip(_leaves(args), _leaves(targs))):
            if theirs.grad is None:
                assert ours.grad is None, f"{what}: input {k} got a gradient, torch's has none"
                continue
            assert ours.grad is not None, f"{what}: input {k} got no gradient"
            _compare(ours.grad, theirs.grad, op.grad_atol, op.grad_rtol,
                     f"{what} grad of input {k}")


@pytest.mark.parametrize("op", ROWS)
def test_gradcheck(op: OpInfo, device):
    """Backward agrees with float64 central differences."""
    _requires(op)
    if not op.differentiable or not op.gradcheck:
        pytest.skip("not differentiable" if not op.differentiable else "gradcheck off for row")
    for sample in _samples(op):
        args, kwargs = _args(sample, ember, device, dtype=np.float64)
        leaves = _leaves(args)
        if not leaves:
            continue

        def function(*inputs, _args=args, _kwargs=kwargs):
            substitutes = iter(inputs)

            def swap(value):
                if isinstance(value, (list, tuple)):
                    return type(value)(swap(v) for v in value)
                if isinstance(value, ember.Tensor) and value.requires_grad:
                    return next(substitutes)
                return value
            return tuple(_outputs(op.fn(ember, *swap(_args), **_kwargs)))

        assert ember.autograd.gradcheck(function, tuple(leaves)), f"{op.name} [{sample.desc}]"


@pytest.mark.parametrize("op", ROWS)
def test_grad_fn_name(op: OpInfo, device):
    """Each output's ``grad_fn.name()`` is PyTorch's (what users see in reprs)."""
    _requires(op)
    if not op.differentiable or not op.check_grad_fn_name:
        pytest.skip("not differentiable" if not op.differentiable else "name differs by design")
    for sample in _samples(op):
        args, kwargs = _args(sample, ember, device)
        targs, tkwargs = _args(sample, torch)
        actual = _outputs(op.fn(ember, *args, **kwargs))
        expected = _outputs(op.reference()(torch, *targs, **tkwargs))
        for k, (ours, theirs) in enumerate(zip(actual, expected)):
            theirs_name = theirs.grad_fn.name() if theirs.grad_fn is not None else None
            ours_name = ours.grad_fn.name() if ours.grad_fn is not None else None
            assert ours_name == theirs_name, f"{op.name} [{sample.desc}] output {k}"


def test_every_row_has_samples():
    for op in op_db:
        assert _samples(op), op.name
    assert len({op.name for op in op_db}) == len(op_db), "duplicate row names"


# ---- property tests -------------------------------------------------------------------------

def _broadcastable_shapes(draw):
    """Two shapes that broadcast: a common shape with some sizes set to 1 or dropped."""
    shape = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3))
    def variant():
        sizes = [1 if draw(st.booleans()) else s for s in shape]
        return tuple(sizes[draw(st.integers(0, len(sizes))):])
    return variant(), variant()


@st.composite
def broadcast_pair(draw):
    return _broadcastable_shapes(draw)


@settings(max_examples=25, deadline=None)
@given(shapes=broadcast_pair(), name=st.sampled_from(["add", "sub", "mul", "div", "maximum"]))
def test_broadcasting_binary_ops(shapes, name):
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 2.0, shapes[0]).astype(np.float32)
    b = rng.uniform(0.5, 2.0, shapes[1]).astype(np.float32)
    ea, eb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ours, theirs = getattr(ember, name)(ea, eb), getattr(torch, name)(ta, tb)
    _compare(ours, theirs, 1e-6, 1e-5, f"{name}{shapes}")
    grad = rng.standard_normal(tuple(theirs.shape)).astype(np.float32)
    ours.backward(ember.tensor(grad))
    theirs.backward(torch.tensor(grad))
    _compare(ea.grad, ta.grad, 1e-5, 1e-5, f"{name}{shapes} grad a")
    _compare(eb.grad, tb.grad, 1e-5, 1e-5, f"{name}{shapes} grad b")


@st.composite
def shape_and_dims(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    dims = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1,
                         max_size=len(shape), unique_by=lambda d: d % len(shape)))
    return shape, tuple(dims), draw(st.booleans())


@settings(max_examples=25, deadline=None)
@given(case=shape_and_dims(), name=st.sampled_from(["sum", "mean", "amax", "logsumexp", "var"]))
def test_reductions_over_random_dims(case, name):
    shape, dims, keepdim = case
    rng = np.random.default_rng(1)
    a = (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.25).astype(np.float32)
    ea, ta = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ours = getattr(ember, name)(ea, dims, keepdim=keepdim)
    theirs = getattr(torch, name)(ta, dims, keepdim=keepdim)
    _compare(ours, theirs, 1e-5, 1e-5, f"{name}{shape} dims={dims} keepdim={keepdim}")
    grad = rng.standard_normal(tuple(theirs.shape)).astype(np.float32)
    if np.isfinite(_numpy(theirs)).all():
        ours.backward(ember.tensor(grad))
        theirs.backward(torch.tensor(grad))
        _compare(ea.grad, ta.grad, 1e-5, 1e-4, f"{name}{shape} dims={dims} grad")


# ---- out= -----------------------------------------------------------------------------------

OUT_CASES = [
    ("add", lambda lib: (lib.ones(2, 3), lib.arange(3.0)), {"alpha": 2}),
    ("sub", lambda lib: (lib.ones(2, 3), lib.arange(3.0)), {}),
    ("mul", lambda lib: (lib.arange(6.0).reshape(2, 3), 2.5), {}),
    ("div", lambda lib: (lib.arange(6.0).reshape(2, 3), 4.0), {}),
    ("mm", lambda lib: (lib.arange(6.0).reshape(2, 3), lib.ones(3, 2)), {}),
    ("matmul", lambda lib: (lib.arange(6.0).reshape(2, 3), lib.ones(3)), {}),
]


@pytest.mark.parametrize("name,make,kwargs", OUT_CASES, ids=[c[0] for c in OUT_CASES])
def test_out_argument_writes_into_the_given_tensor(name, make, kwargs):
    results = []
    for lib in (ember, torch):
        expected = getattr(lib, name)(*make(lib), **kwargs)
        # Elementwise results are cast into out's dtype; matrix products need their own.
        dtype = lib.float32 if name in ("mm", "matmul") else lib.float64
        out = lib.zeros(expected.shape, dtype=dtype)
        returned = getattr(lib, name)(*make(lib), **kwargs, out=out)
        assert returned is out and out.dtype == dtype
        results.append(out.numpy())
    np.testing.assert_allclose(results[0], results[1])


def test_out_argument_resizes_casts_and_refuses_what_pytorch_refuses():
    x, y = ember.ones(2, 3), ember.ones(2, 3)
    empty = ember.empty(0)
    ember.add(x, y, out=empty)
    assert empty.shape == (2, 3)
    with pytest.warns(UserWarning, match=r"had shape \[5\], which does not match the required "
                                         r"output shape \[2, 3\]"):
        ember.add(x, y, out=ember.empty(5))
    ints = ember.tensor([1, 2])
    assert ember.add(ints, 1, out=ember.empty(2, dtype=ember.float64)).tolist() == [2.0, 3.0]
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Long"):
        ember.add(x, y, out=ember.empty(2, 3, dtype=ember.long))
    leaf = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"mul\(\): functions with out=\.\.\. arguments don't "
                                           r"support automatic differentiation"):
        ember.mul(leaf, 2, out=ember.empty(3))
    with ember.no_grad():
        assert ember.mul(leaf, 2, out=ember.empty(3)).tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(RuntimeError, match="Expected out tensor to have dtype float, but got "
                                           "double instead"):
        ember.mm(ember.ones(2, 3), ember.ones(3, 2), out=ember.empty(2, 2, dtype=ember.float64))
    base = ember.zeros(2, 3)
    ember.add(ember.ones(3), 1, out=base[0])  # a view of the right shape writes into its base
    assert base.tolist() == [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]]
    assert base._version[0] == 1  # the write counts as an in-place change of the base

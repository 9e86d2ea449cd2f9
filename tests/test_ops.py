"""Every row of ``op_db`` against PyTorch: forward, backward, float64 gradcheck, grad_fn name.

Each test runs once per row and device. PyTorch always runs on the CPU as the reference.
"""

import functools
import importlib
import pkgutil
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from op_db import OpInfo, Sample, op_db

import ember
from ember.autograd.function import Function

# ---- converting samples ---------------------------------------------------------------------

def _has(requires: str) -> bool:
    """Whether ``ember.<requires>`` (a dotted name) exists."""
    module_name, _, attribute = ("ember." + requires).rpartition(".")
    try:
        return hasattr(importlib.import_module(module_name), attribute)
    except ImportError:
        return False


def _unavailable(name: str) -> bool:
    op = next(op for op in op_db if op.name == name)
    return op.requires is not None and not _has(op.requires)


def _requires(op: OpInfo) -> None:
    """Skip (visibly) a row whose ember function is not written yet."""
    if op.requires is not None and not _has(op.requires):
        pytest.skip(f"ember.{op.requires} does not exist yet")


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


# ---- running a row's samples -----------------------------------------------------------------

def _run_samples(op: OpInfo, test: str, check, samples=None) -> None:
    """Run ``check(sample)`` on every sample of ``op``; ``check`` returns False when the sample
    had nothing for this test to check (no output requiring grad, say).

    A sample marked ``xfail={test: finding}`` must fail: if it passes, the test fails and says
    to remove the mark. The test fails when no sample exercised it: a row that checks nothing
    must not pass. When some samples failed as marked, the test ends as xfail, naming them,
    after every other sample was checked.
    """
    exercised, expected_failures = 0, []
    for sample in _samples(op) if samples is None else samples:
        finding = sample.xfail.get(test)
        if finding is None:
            if check(sample) is not False:
                exercised += 1
            continue
        try:
            check(sample)
        except Exception as error:  # the marked failure: a wrong value or a wrong error
            expected_failures.append(f"[{sample.desc}] {finding} ({type(error).__name__})")
            continue
        pytest.fail(f"{op.name} [{sample.desc}]: passes although marked xfail for {test} "
                    f"({finding}); remove the mark")
    if expected_failures:
        pytest.xfail("; ".join(expected_failures))
    if not exercised:
        pytest.fail(f"{op.name}: no sample exercised {test}; fix the samples or the row's flags")


def _rows_with(attribute: str, test: str):
    """The rows that set ``attribute``, with strict xfail marks from their ``xfail`` field."""
    params = []
    for op in op_db:
        if not getattr(op, attribute):
            continue
        marks = ([pytest.mark.xfail(reason=op.xfail[test], strict=True)]
                 if test in op.xfail else [])
        params.append(pytest.param(op, id=op.name, marks=marks))
    return params


def _rows(test: str):
    return _rows_with("name", test)


def _call_both(call_ours, call_theirs, what):
    """Run both calls. Where PyTorch raises, ember must raise the same type and message
    (``torch.`` read as ``ember.``); returns (ours, theirs), or None when both raised."""
    try:
        theirs = call_theirs()
    except Exception as error:
        expected = (type(error), _message(error))
        try:
            call_ours()
        except Exception as ours:
            assert (type(ours), _message(ours)) == expected, what
            return None
        pytest.fail(f"{what}: ember raised nothing; torch raised {expected[0].__name__}: "
                    f"{expected[1]}")
    return call_ours(), theirs


def _message(error: BaseException) -> str:
    return str(error).replace("torch.", "ember.")


def _compare_outputs(op, actual, expected, what):
    actual, expected = _outputs(actual), _outputs(expected)
    assert len(actual) == len(expected), f"{what}: number of outputs"
    for k, (ours, theirs) in enumerate(zip(actual, expected)):
        _compare(ours, theirs, op.atol, op.rtol, f"{what} output {k}")


def _compare_grads(op, ours_leaves, theirs_leaves, what):
    for k, (ours, theirs) in enumerate(zip(ours_leaves, theirs_leaves)):
        if theirs.grad is None:
            assert ours.grad is None, f"{what}: input {k} got a gradient, torch's has none"
            continue
        assert ours.grad is not None, f"{what}: input {k} got no gradient"
        _compare(ours.grad, theirs.grad, op.grad_atol, op.grad_rtol, f"{what} grad of input {k}")


def _backward_both(actual, expected, what) -> bool:
    """Backward from every output that requires grad, with the same random seeds in both
    libraries; False when no output requires grad."""
    rng = np.random.default_rng(7)
    pairs, seeds = [], []
    for k, (ours, theirs) in enumerate(zip(_outputs(actual), _outputs(expected))):
        assert ours.requires_grad == theirs.requires_grad, f"{what} output {k} requires_grad"
        if theirs.requires_grad:
            seeds.append(rng.standard_normal(tuple(theirs.shape)).astype(_numpy(theirs).dtype))
            pairs.append((ours, theirs))
    if not pairs:
        return False
    device = pairs[0][0].device
    _call_both(lambda: ember.autograd.backward([o for o, _ in pairs],
                                               [ember.tensor(s, device=device) for s in seeds]),
               lambda: torch.autograd.backward([t for _, t in pairs],
                                               [torch.tensor(s) for s in seeds]),
               f"{what}: backward")
    return True


# ---- the shared tests ------------------------------------------------------------------------

@pytest.mark.parametrize("op", _rows("forward"))
def test_forward(op: OpInfo, device):
    """Values, shape and dtype equal PyTorch's."""
    _requires(op)

    def check(sample):
        args, kwargs = _args(sample, ember, device, differentiable=False)
        targs, tkwargs = _args(sample, torch, differentiable=False)
        expected = op.reference()(torch, *targs, **tkwargs)
        _compare_outputs(op, op.fn(ember, *args, **kwargs), expected, f"{op.name} [{sample.desc}]")
    _run_samples(op, "forward", check)


@pytest.mark.parametrize("op", _rows_with("differentiable", "backward"))
def test_backward(op: OpInfo, device):
    """With random output gradients, the input gradients equal PyTorch's."""
    _requires(op)

    def check(sample):
        what = f"{op.name} [{sample.desc}]"
        args, kwargs = _args(sample, ember, device)
        targs, tkwargs = _args(sample, torch)
        expected = op.reference()(torch, *targs, **tkwargs)
        actual = op.fn(ember, *args, **kwargs)
        if not _backward_both(actual, expected, what):
            return False
        _compare_grads(op, _leaves(args), _leaves(targs), what)
    _run_samples(op, "backward", check)


@pytest.mark.parametrize("op", [p for p in _rows("gradcheck")
                                if p.values[0].differentiable and p.values[0].gradcheck])
def test_gradcheck(op: OpInfo, device):
    """Backward agrees with float64 central differences."""
    _requires(op)

    def check(sample):
        args, kwargs = _args(sample, ember, device, dtype=np.float64)
        leaves = _leaves(args)
        if not leaves:
            return False

        def function(*inputs):
            substitutes = iter(inputs)

            def swap(value):
                if isinstance(value, (list, tuple)):
                    return type(value)(swap(v) for v in value)
                if isinstance(value, ember.Tensor) and value.requires_grad:
                    return next(substitutes)
                return value
            return tuple(_outputs(op.fn(ember, *swap(args), **kwargs)))

        assert ember.autograd.gradcheck(function, tuple(leaves)), f"{op.name} [{sample.desc}]"
    _run_samples(op, "gradcheck", check)


@pytest.mark.parametrize("op", [p for p in _rows("grad_fn_name")
                                if p.values[0].differentiable and p.values[0].check_grad_fn_name])
def test_grad_fn_name(op: OpInfo, device):
    """Each output's ``grad_fn.name()`` is PyTorch's (what users see in reprs)."""
    _requires(op)

    def check(sample):
        args, kwargs = _args(sample, ember, device)
        targs, tkwargs = _args(sample, torch)
        actual = _outputs(op.fn(ember, *args, **kwargs))
        expected = _outputs(op.reference()(torch, *targs, **tkwargs))
        names = []
        for k, (ours, theirs) in enumerate(zip(actual, expected)):
            theirs_name = theirs.grad_fn.name() if theirs.grad_fn is not None else None
            ours_name = ours.grad_fn.name() if ours.grad_fn is not None else None
            assert ours_name == theirs_name, f"{op.name} [{sample.desc}] output {k}"
            names.append(theirs_name)
        return any(names)
    _run_samples(op, "grad_fn_name", check)


# ---- variants: method, in-place, keywords, non-contiguous inputs, errors --------------------

def _tensor_call(op, sample, lib, device, grad, call):
    """``call(args, kwargs)`` on the sample converted for ``lib``; returns (result, args)."""
    args, kwargs = _args(sample, lib, device, differentiable=grad and op.differentiable)
    return call(args, kwargs), args


@pytest.mark.parametrize("op", _rows_with("method", "method"))
def test_method(op: OpInfo, device):
    """``x.op(*rest)``, the Tensor method, equals PyTorch's function on the same sample."""
    _requires(op)

    def check(sample):
        what = f"{op.name} [{sample.desc}] as x.{op.method}()"
        args, kwargs = _args(sample, ember, device, differentiable=op.differentiable)
        targs, tkwargs = _args(sample, torch, differentiable=op.differentiable)
        pair = _call_both(lambda: getattr(args[0], op.method)(*args[1:], **kwargs),
                          lambda: op.reference()(torch, *targs, **tkwargs), what)
        if pair is None:
            return
        _compare_outputs(op, *pair, what)
        if op.differentiable and _backward_both(*pair, what):
            _compare_grads(op, _leaves(args), _leaves(targs), what)
    _run_samples(op, "method", check)


@pytest.mark.parametrize("op", _rows_with("inplace", "inplace"))
def test_inplace(op: OpInfo, device):
    """``x.op_(*rest)`` returns x holding PyTorch's values; where the result's dtype or shape
    does not fit x, both raise the same error. With grad, on a non-leaf ``x = leaf * 1``:
    the same grad_fn name and input gradients as PyTorch."""
    _requires(op)

    def check(sample):
        what = f"{op.name} [{sample.desc}] as x.{op.inplace}()"
        # Values: inputs without grad.
        args, kwargs = _args(sample, ember, device, differentiable=False)
        targs, tkwargs = _args(sample, torch, differentiable=False)
        pair = _call_both(lambda: getattr(args[0], op.inplace)(*args[1:], **kwargs),
                          lambda: getattr(targs[0], op.inplace)(*targs[1:], **tkwargs), what)
        if pair is None:
            return
        assert pair[0] is args[0], f"{what} does not return x itself"
        _compare(args[0], targs[0], op.atol, op.rtol, what)
        if not (op.differentiable and sample.args[0].dtype.kind == "f"):
            return
        # Gradients: x is a non-leaf, so that it may change in place.
        args, kwargs = _args(sample, ember, device)
        targs, tkwargs = _args(sample, torch)
        ours = getattr(args[0] * 1, op.inplace)(*args[1:], **kwargs)
        theirs = getattr(targs[0] * 1, op.inplace)(*targs[1:], **tkwargs)
        theirs_name = theirs.grad_fn.name() if theirs.grad_fn is not None else None
        assert (ours.grad_fn.name() if ours.grad_fn is not None else None) == theirs_name, what
        if _backward_both(ours, theirs, what):
            _compare_grads(op, _leaves(args), _leaves(targs), what)
    _run_samples(op, "inplace", check)


def _resolve(lib, dotted: str):
    for part in dotted.split("."):
        lib = getattr(lib, part)
    return lib


@pytest.mark.parametrize("op", _rows_with("keywords", "keywords"))
def test_keywords(op: OpInfo, device):
    """Every argument passed by PyTorch's parameter name: ``ember.op(input=x, other=y)``."""
    _requires(op)
    function_name, names = op.keywords[0], op.keywords[1:]

    def check(sample):
        what = f"{op.name} [{sample.desc}] as {function_name}({', '.join(names)}=...)"
        args, kwargs = _args(sample, ember, device, differentiable=False)
        targs, tkwargs = _args(sample, torch, differentiable=False)
        assert len(args) <= len(names), f"{op.name}: name every positional argument"
        expected = _resolve(torch, function_name)(**dict(zip(names, targs)), **tkwargs)
        actual = _resolve(ember, function_name)(**dict(zip(names, args)), **kwargs)
        _compare_outputs(op, actual, expected, what)
    _run_samples(op, "keywords", check)


def _noncontiguous(value, lib, device, grad, bases):
    """A strided view holding ``value``'s values: every other element of a tensor twice as
    long in the largest dimension. Float leaves (the base tensors) go to ``bases``."""
    if isinstance(value, (list, tuple)):
        return type(value)(_noncontiguous(v, lib, device, grad, bases) for v in value)
    if not isinstance(value, np.ndarray) or max(value.shape, default=0) < 2:
        return _convert(value, lib, device, grad)
    dim = int(np.argmax(value.shape))
    shape = list(value.shape)
    shape[dim] *= 2
    wide = np.zeros(shape, value.dtype)
    every_other = (slice(None),) * dim + (slice(None, None, 2),)
    wide[every_other] = value
    base = _convert(wide, lib, device, grad)
    if base.requires_grad:
        bases.append(base)
    view = base[every_other]
    assert not view.is_contiguous()
    return view


@pytest.mark.parametrize("op", _rows_with("noncontiguous", "noncontiguous"))
def test_noncontiguous(op: OpInfo, device):
    """The same values (and gradients) as PyTorch when every tensor argument with at least two
    elements along some dimension is a strided, non-contiguous view."""
    _requires(op)

    def check(sample):
        what = f"{op.name} [{sample.desc}] non-contiguous"
        grad = op.differentiable
        ours_bases, theirs_bases = [], []
        args = tuple(_noncontiguous(a, ember, device, grad and (sample.grad is None or i in
                                                                 sample.grad), ours_bases)
                     for i, a in enumerate(sample.args))
        targs = tuple(_noncontiguous(a, torch, "cpu", grad and (sample.grad is None or i in
                                                                 sample.grad), theirs_bases)
                      for i, a in enumerate(sample.args))
        if not any(isinstance(t, torch.Tensor) and not t.is_contiguous()
                   for t in _outputs(list(targs))):
            return False
        kwargs = {k: _convert(v, ember, device, False) for k, v in sample.kwargs.items()}
        tkwargs = {k: _convert(v, torch, "cpu", False) for k, v in sample.kwargs.items()}
        expected = op.reference()(torch, *targs, **tkwargs)
        actual = op.fn(ember, *args, **kwargs)
        _compare_outputs(op, actual, expected, what)
        if grad and _backward_both(actual, expected, what):
            _compare_grads(op, ours_bases, theirs_bases, what)
    _run_samples(op, "noncontiguous", check)


@pytest.mark.parametrize("op", _rows_with("error_inputs", "errors"))
def test_errors(op: OpInfo, device):
    """Each error input raises the row's exception type with the row's exact message, in
    PyTorch and in ember (``torch.`` read as ``ember.``)."""
    _requires(op)
    cases = op.error_inputs
    if callable(cases):
        cases = cases(np.random.default_rng(sum(map(ord, op.name))))

    def check(case):
        what = f"{op.name} [{case.sample.desc}]"
        for lib, dev in ((torch, "cpu"), (ember, device)):
            args, kwargs = _args(case.sample, lib, dev, differentiable=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with pytest.raises(Exception) as info:
                    op.fn(lib, *args, **kwargs)
            assert (info.type, _message(info.value)) == (case.error, case.message), \
                f"{what} in {lib.__name__}"
    _run_samples(op, "errors", check, samples=cases)


# ---- every Function has a row ----------------------------------------------------------------

# Functions that need no row, and why. Besides these, a class whose name starts with an
# underscore is a base that exists only to be subclassed (``_BinaryUfunc``, ``_IndexPad``): it must
# have subclasses, and they need rows.
NOT_OPS = {
    "ember.autograd.function.UserFunction": "the base users subclass (ember.autograd.Function)",
}


def _ember_functions() -> list:
    """Every Function subclass defined in ember's modules, after importing all of them."""
    for module in pkgutil.walk_packages(ember.__path__, "ember."):
        if module.name.rsplit(".", 1)[-1] == "__main__":
            continue
        try:
            importlib.import_module(module.name)
        except ModuleNotFoundError as error:  # an optional dependency (cupy, mpi4py)
            if (error.name or "").startswith("ember"):
                raise
    found, stack = [], [Function]
    while stack:
        for cls in stack.pop().__subclasses__():
            if cls not in found:
                found.append(cls)
                stack.append(cls)
    return [cls for cls in found if cls.__module__.startswith("ember.")]


def _qualified(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _row_calls(op: OpInfo) -> list:
    """The ways a row calls its op on (args, kwargs): its function, and its variants."""
    calls = [lambda a, k: op.fn(ember, *a, **k)]
    if op.method:
        calls.append(lambda a, k: getattr(a[0], op.method)(*a[1:], **k))
    if op.inplace:
        calls.append(lambda a, k: getattr(a[0] * 1, op.inplace)(*a[1:], **k))
    return calls


@functools.cache
def _functions_applied_by_rows() -> dict:
    """Row name -> the set of Function classes whose ``apply`` ran when the row was called:
    its function on every sample (inputs requiring grad as in test_backward), and its method
    and in-place variants. Calls that raise count for nothing (the other tests report them)."""
    applied, row = {}, [None]
    original = Function.__dict__["apply"]

    def recording_apply(cls, *args):
        applied[row[0]].add(cls)
        return original.__func__(cls, *args)

    Function.apply = classmethod(recording_apply)
    try:
        for op in op_db:
            row[0] = op.name
            applied[op.name] = set()
            if op.requires is not None and not _has(op.requires):
                continue
            for sample in _samples(op):
                for call in _row_calls(op):
                    args, kwargs = _args(sample, ember, differentiable=op.differentiable)
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            call(args, kwargs)
                    except Exception:
                        pass
    finally:
        Function.apply = original
    return applied


def test_every_function_has_a_row():
    """Each of ember's Functions is applied by some op_db row's samples (observed, by
    recording ``Function.apply``), so no op escapes the shared tests."""
    covered = set().union(*_functions_applied_by_rows().values())
    missing, not_abstract = [], []
    for cls in _ember_functions():
        if _qualified(cls) in NOT_OPS or cls in covered:
            continue
        if cls.__name__.startswith("_"):
            if not cls.__subclasses__():
                not_abstract.append(_qualified(cls))
            continue
        missing.append(_qualified(cls))
    assert not not_abstract, f"underscore Functions without subclasses: {not_abstract}"
    assert not missing, f"Functions that no op_db row applies: {missing}"
    assert all(name in map(_qualified, _ember_functions()) for name in NOT_OPS), \
        "NOT_OPS names a Function that no longer exists"


# Rows whose op bypasses Function.apply today (issue 9: every op goes through it). Strict:
# once the op applies a Function, the test fails until the row leaves this list.
BYPASSES_FUNCTION_APPLY = {"dropout_p0": "dropout(p=0) returns its input: no op to apply"}


def test_every_row_applies_a_function():
    """A row whose calls apply no Function tests an op that bypasses ``Function.apply``, or
    nothing at all."""
    applied = _functions_applied_by_rows()
    idle = {name for name, functions in applied.items()
            if not functions and not _unavailable(name)}
    assert idle - set(BYPASSES_FUNCTION_APPLY) == set(), "rows that apply no Function"
    assert set(BYPASSES_FUNCTION_APPLY) - idle == set(), \
        "rows that apply a Function now: remove them from BYPASSES_FUNCTION_APPLY"


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

"""The op table every shared op test reads: one ``OpInfo`` row per op.

A row names the op, says how to call it and gives sample inputs. The shared tests in
``test_ops.py`` run each row through ember and through PyTorch and compare forward values,
input gradients, float64 finite differences and the ``grad_fn`` name.

``fn(lib, *args, **kwargs)`` calls the op on the module ``lib``: ``ember`` or ``torch``. One
function serves both, since ember mirrors PyTorch's API; a row sets ``torch_fn`` only where
PyTorch needs different code. Sample arguments are NumPy arrays and Python values; the test
turns every array (also inside lists and tuples) into a tensor of the library under test, and
floating-point arrays into leaves that require grad (all of them, or those in ``Sample.grad``).
"""

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

FLOAT32 = np.float32


@dataclass
class Sample:
    """One call of an op: positional and keyword arguments, and a name for failure messages."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    desc: str = ""
    grad: "tuple | None" = None  # positions of the args that require grad (None: every float)
    # A known ember bug: test name ("forward", "inplace", "noncontiguous"...) -> the finding.
    # The sample must fail that test (strict), and the test ends as xfail naming the finding.
    xfail: dict = field(default_factory=dict)


@dataclass
class ErrorInput:
    """A call that must raise ``error`` with exactly ``message``, in PyTorch and in ember
    (``torch.`` in PyTorch's message reads as ``ember.``)."""

    sample: Sample
    error: type
    message: str
    xfail: dict = field(default_factory=dict)

    @property
    def desc(self) -> str:
        return self.sample.desc


@dataclass
class OpInfo:
    """How to call one op, on what, and what to check.

    Attributes:
        name: the test id.
        fn: ``fn(lib, *args, **kwargs)``, the op on ``lib`` (ember or torch).
        sample_inputs: ``sample_inputs(rng)`` -> list of ``Sample``.
        torch_fn: PyTorch's call where it differs from ``fn``.
        differentiable: False for ops without gradients (comparisons, argmax): only forward is
            checked.
        gradcheck: whether to run float64 finite differences (off where the op is piecewise
            constant or the samples sit on kinks).
        check_grad_fn_name: whether ``grad_fn.name()`` must equal PyTorch's.
        atol, rtol: tolerances for forward values; ``grad_atol``/``grad_rtol`` for gradients.
        requires: a dotted attribute of ember that must exist (``"nn.functional.conv2d"``) for
            the row to run; rows whose op another module provides skip until it is importable.

    Variants, each checked against PyTorch where the row sets it:
        method: the Tensor method, called as ``args[0].method(*args[1:], **kwargs)``.
        inplace: the in-place Tensor method, ``args[0].inplace(*args[1:], **kwargs)``.
        keywords: ``("add", "input", "other")``: the public function (a dotted name under
            ``ember``/``torch``) called with every positional argument by PyTorch's name.
        noncontiguous: whether to run the samples again with strided, non-contiguous views of
            their arrays (on by default).
        error_inputs: a list of ``ErrorInput`` (``err(...)`` makes one), or
            ``error_inputs(rng)`` returning one; each is called through ``fn``.
        xfail: test name -> a known ember bug that fails the whole row in that test (strict).
    """

    name: str
    fn: Callable
    sample_inputs: Callable
    torch_fn: "Callable | None" = None
    differentiable: bool = True
    gradcheck: bool = True
    check_grad_fn_name: bool = True
    atol: float = 1e-6
    rtol: float = 1e-5
    grad_atol: float = 1e-5
    grad_rtol: float = 1e-4
    requires: "str | None" = None
    method: "str | None" = None
    inplace: "str | None" = None
    keywords: "tuple | None" = None
    noncontiguous: bool = True
    error_inputs: "list | Callable | None" = None
    xfail: dict = field(default_factory=dict)

    def reference(self):
        return self.torch_fn or self.fn


# ---- known ember bugs ------------------------------------------------------------------------
# Each is written up, with a repro and PyTorch's output, in op_db_findings.md; the samples or
# rows they affect carry a strict xfail naming them, so the suite stays green and they stay
# visible. Remove the mark when the bug is fixed: the test then fails until you do.

F_VIEW_NODE = ("F8: after an in-place op on an overlapping view, a view's grad_fn reads "
               "SelectBackward0 until it is used; PyTorch's reads AsStridedBackward0")
F_QUANTILE_NAN = ("quantile of a row with NaN: PyTorch passes the gradient to the NaN element; "
                  "ember's is 0 there")
# Not a bug: PyTorch's parameter names, which another change is teaching ember's functions.
KEYWORDS_BEING_FIXED = "keyword names: being fixed"


# ---- sample helpers -------------------------------------------------------------------------

def randn(rng, *shape, dtype=FLOAT32):
    return np.asarray(rng.standard_normal(shape), dtype=dtype)


def positive(rng, *shape, dtype=FLOAT32):
    """Values in [0.5, 2): away from 0, for log, sqrt, reciprocal and divisors."""
    return np.asarray(rng.uniform(0.5, 2.0, shape), dtype=dtype)


def distinct(rng, *shape, dtype=FLOAT32):
    """A permutation of well-separated values: no ties for max/min/sort-like ops."""
    n = int(np.prod(shape))
    return np.asarray(rng.permutation(n).reshape(shape) * 0.37 - 0.3 * n, dtype=dtype)


def probabilities(rng, *shape, dtype=FLOAT32):
    """Values in [0.05, 0.95]: inside (0, 1), away from the logs' poles (binary cross entropy)."""
    return np.asarray(rng.uniform(0.05, 0.95, shape), dtype=dtype)


def away_from(rng, points, *shape, dtype=FLOAT32, gap=0.05):
    """Normal samples moved at least ``gap`` from each of ``points`` (kinks of clamp, relu)."""
    values = rng.standard_normal(shape)
    for p in points:
        close = np.abs(values - p) < gap
        values[close] = p + np.where(values[close] >= p, gap, -gap) * 2
    return np.asarray(values, dtype=dtype)


def err(args, error, message, kwargs=None, xfail=None):
    """An ``ErrorInput``: ``fn(lib, *args, **kwargs)`` raises ``error`` with ``message``."""
    return ErrorInput(Sample(args, kwargs or {}, desc=message[:48]), error, message,
                      xfail or {})


def unary(shape_list=((2, 3), (4,), ()), make=randn):
    def samples(rng):
        return [Sample((make(rng, *s),), desc=f"shape {s}") for s in shape_list]
    return samples


def binary_samples(make_b=randn):
    """Tensor-tensor (same shape, broadcast both ways, 0-d), tensor-scalar, scalar-tensor."""
    def samples(rng):
        return [
            Sample((randn(rng, 2, 3), make_b(rng, 2, 3)), desc="same shape"),
            Sample((randn(rng, 2, 1, 3), make_b(rng, 4, 1)), desc="broadcast both"),
            Sample((randn(rng, 3), make_b(rng, 2, 3)), desc="broadcast first"),
            Sample((randn(rng, 2, 3), make_b(rng)), desc="0-d second"),
        ]
    return samples


def scalar_samples(scalar):
    def samples(rng):
        return [Sample((randn(rng, 2, 3), scalar), desc=f"scalar {scalar!r}"),
                Sample((randn(rng), scalar), desc=f"0-d, scalar {scalar!r}")]
    return samples


def mixed_dtype_samples(with_bool=True):
    """Promotion: int64 with float32, float64 with float32, int tensors with Python floats."""
    def samples(rng):
        result = [
            Sample((randn(rng, 2, 3), np.arange(3, dtype=np.int64) + 1),
                   desc="float32, int64"),
            Sample((randn(rng, 2, 3, dtype=np.float64), randn(rng, 3)),
                   desc="float64, float32"),
            Sample((randn(rng, 3), randn(rng, dtype=np.float64)), desc="float32, 0-d float64"),
            Sample((np.arange(6, dtype=np.int64).reshape(2, 3) + 1, 2.5), desc="int64, float"),
            Sample((np.arange(6, dtype=np.int64).reshape(2, 3), 3), desc="int64, int"),
            Sample((np.arange(3, dtype=np.int32), np.arange(3, dtype=np.int64)),
                   desc="int32, int64"),
            Sample((np.arange(3, dtype=np.uint8), np.array(-2, dtype=np.int64)),
                   desc="uint8, 0-d int64"),
        ]
        if with_bool:
            result += [Sample((np.array([True, False]), np.array([3, 4], dtype=np.int32)),
                              desc="bool, int32"),
                       Sample((np.array([True, False]), 2.5), desc="bool, float")]
        return result
    return samples


def reduction_samples(rng, make=randn, dims=(None, 1, -1, (0, 2)), keepdim=True):
    samples = []
    for dim in dims:
        kwargs = {} if dim is None else {"dim": dim}
        samples.append(Sample((make(rng, 2, 3, 4),), kwargs, desc=f"dim={dim}"))
        if keepdim and dim is not None:
            samples.append(Sample((make(rng, 2, 3, 4),), {**kwargs, "keepdim": True},
                                  desc=f"dim={dim}, keepdim"))
    samples.append(Sample((make(rng),), desc="0-d"))
    samples.append(Sample((make(rng),), {"dim": 0}, desc="0-d, dim 0"))
    return samples


# ---- the table --------------------------------------------------------------------------------

def _elementwise_rows():
    rows = []
    for name in ("add", "sub", "mul"):
        rows += [
            OpInfo(name, lambda lib, a, b, _n=name: getattr(lib, _n)(a, b), binary_samples(),
                   method=name, inplace=f"{name}_", keywords=(name, "input", "other"),
                   error_inputs=[err((np.ones((2, 3)), np.ones((3, 2))), RuntimeError,
                                     "The size of tensor a (3) must match the size of tensor "
                                     "b (2) at non-singleton dimension 1")]),
            OpInfo(f"{name}_scalar", lambda lib, a, s, _n=name: getattr(lib, _n)(a, s),
                   scalar_samples(1.5), method=name, inplace=f"{name}_"),
            # In place, promotion past self's dtype is an error (int64 += float): both raise.
            OpInfo(f"{name}_mixed_dtypes", lambda lib, a, b, _n=name: getattr(lib, _n)(a, b),
                   mixed_dtype_samples(with_bool=name != "sub"), gradcheck=False,
                   method=name, inplace=f"{name}_"),
        ]
    rows += [
        OpInfo("add_alpha", lambda lib, a, b: lib.add(a, b, alpha=2), binary_samples()),
        OpInfo("sub_alpha", lambda lib, a, b: lib.sub(a, b, alpha=0.5), binary_samples()),
        OpInfo("radd_scalar", lambda lib, a, s: s + a, scalar_samples(2.0)),
        OpInfo("rsub_scalar", lambda lib, a, s: s - a, scalar_samples(2.0)),
        OpInfo("rmul_scalar", lambda lib, a, s: s * a, scalar_samples(-3)),
        OpInfo("div", lambda lib, a, b: lib.div(a, b), binary_samples(positive),
               method="div", inplace="div_", keywords=("div", "input", "other")),
        OpInfo("div_scalar", lambda lib, a, s: a / s, scalar_samples(4.0)),
        OpInfo("rdiv_scalar", lambda lib, a, s: s / (a.abs() + 0.5), scalar_samples(3.0)),
        OpInfo("div_int", lambda lib, a, b: a / b,
               lambda rng: [Sample((np.arange(1, 7).reshape(2, 3), np.array(4)),
                                   desc="int64 / int64 -> float")],
               differentiable=False),
        OpInfo("neg", lambda lib, a: -a, unary()),
        OpInfo("pow_scalar", lambda lib, a, e: a ** e,
               lambda rng: [Sample((randn(rng, 2, 3), 2), desc="square"),
                            Sample((randn(rng, 2, 3), 3), desc="cube"),
                            Sample((positive(rng, 2, 3), 0.5), desc="sqrt"),
                            Sample((positive(rng, 2, 3), -1.5), desc="negative float"),
                            Sample((randn(rng, 3), 0), desc="zero")]),
        OpInfo("pow_int", lambda lib, a, e: a ** e,
               lambda rng: [Sample((np.arange(5), 2), desc="int ** int"),
                            Sample((np.arange(5), 0.5), desc="int ** float")],
               differentiable=False),
        OpInfo("pow_tensor", lambda lib, a, b: lib.pow(a, b),
               lambda rng: [Sample((positive(rng, 2, 3), randn(rng, 2, 3)), desc="same shape"),
                            Sample((positive(rng, 2, 3), randn(rng, 3)), desc="broadcast")],
               method="pow", inplace="pow_", keywords=("pow", "input", "exponent")),
        OpInfo("pow_scalar_base", lambda lib, a, base: base ** a,
               lambda rng: [Sample((randn(rng, 2, 3), 2.0), desc="2.0 ** x"),
                            Sample((randn(rng, 4), 3), desc="3 ** x")]),
        OpInfo("exp", lambda lib, a: lib.exp(a), unary(),
               method="exp", keywords=("exp", "input"), inplace="exp_"),
        OpInfo("log", lambda lib, a: lib.log(a), unary(make=positive),
               method="log", keywords=("log", "input")),
        OpInfo("log1p", lambda lib, a: lib.log1p(a), unary(make=positive),
               method="log1p", keywords=("log1p", "input")),
        OpInfo("log1p_method", lambda lib, a: a.log1p(), unary(make=positive)),
        OpInfo("log1p_small", lambda lib, a: lib.log1p(a),
               lambda rng: [Sample((np.array([1e-8, -1e-7, 0.0, -0.5], FLOAT32),))]),
        OpInfo("log2", lambda lib, a: lib.log2(a), unary(make=positive),
               method="log2", keywords=("log2", "input")),
        OpInfo("log10", lambda lib, a: a.log10(), unary(make=positive)),
        OpInfo("log_family_int", lambda lib, a: (lib.log1p(a), lib.log2(a), a.log10(),
                                                 lib.expm1(a)),
               lambda rng: [Sample((np.arange(1, 5),))], differentiable=False),
        OpInfo("expm1", lambda lib, a: lib.expm1(a), unary(),
               method="expm1", keywords=("expm1", "input")),
        OpInfo("expm1_method", lambda lib, a: a.expm1(), unary(make=positive)),
        OpInfo("sqrt", lambda lib, a: lib.sqrt(a), unary(make=positive),
               method="sqrt", keywords=("sqrt", "input"), inplace="sqrt_"),
        OpInfo("rsqrt", lambda lib, a: lib.rsqrt(a), unary(make=positive),
               method="rsqrt", keywords=("rsqrt", "input")),
        OpInfo("rsqrt_method", lambda lib, a: a.rsqrt(), unary(make=positive)),
        OpInfo("reciprocal", lambda lib, a: lib.reciprocal(a), unary(make=positive),
               method="reciprocal", keywords=("reciprocal", "input")),
        OpInfo("abs", lambda lib, a: lib.abs(a), unary(make=lambda r, *s: away_from(r, [0], *s)),
               method="abs", keywords=("abs", "input"), inplace="abs_"),
        OpInfo("sin", lambda lib, a: lib.sin(a), unary(),
               method="sin", keywords=("sin", "input")),
        OpInfo("cos", lambda lib, a: lib.cos(a), unary(),
               method="cos", keywords=("cos", "input")),
        OpInfo("tanh", lambda lib, a: lib.tanh(a), unary(),
               method="tanh", keywords=("tanh", "input"), inplace="tanh_"),
        OpInfo("sigmoid", lambda lib, a: lib.sigmoid(a), unary(),
               method="sigmoid", keywords=("sigmoid", "input"), inplace="sigmoid_"),
        OpInfo("sigmoid_extreme", lambda lib, a: lib.sigmoid(a),
               lambda rng: [Sample((np.array([-100.0, -20.0, 0.0, 20.0, 100.0], FLOAT32),))],
               gradcheck=False),
        OpInfo("relu", lambda lib, a: lib.relu(a),
               unary(make=lambda r, *s: away_from(r, [0], *s)),
               method="relu", keywords=("relu", "input"), inplace="relu_"),
        OpInfo("square", lambda lib, a: lib.square(a), unary(),
               method="square", keywords=("square", "input")),
        OpInfo("sign", lambda lib, a: lib.sign(a), unary(), gradcheck=False,
               method="sign", keywords=("sign", "input")),
        # Piecewise constant: zero gradients, which finite differences away from the jumps
        # (randn values) also see.
        OpInfo("floor", lambda lib, a: lib.floor(a), unary(),
               method="floor", keywords=("floor", "input")),
        OpInfo("ceil", lambda lib, a: a.ceil(), unary()),
        OpInfo("round", lambda lib, a: lib.round(a),
               lambda rng: [Sample((randn(rng, 2, 3) * 3,)),
                            Sample((np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5], FLOAT32),),
                                   desc="halves to even")], gradcheck=False),
        OpInfo("round_decimals", lambda lib, a, **kw: a.round(**kw),
               lambda rng: [Sample((randn(rng, 2, 3) * 3,), {"decimals": 2}),
                            Sample((randn(rng, 4) * 300,), {"decimals": -1}, desc="-1"),
                            Sample((randn(rng, 4),), {"decimals": 0}, desc="0")]),
        OpInfo("rounding_int", lambda lib, a: (lib.floor(a), a.ceil(), lib.round(a)),
               lambda rng: [Sample((np.arange(-2, 3),)),
                            Sample((np.arange(3, dtype=np.uint8),), desc="uint8")],
               differentiable=False),
        OpInfo("lerp", lambda lib, a, b, w: lib.lerp(a, b, w),
               lambda rng: [Sample((randn(rng, 2, 3), randn(rng, 2, 3), 0.3)),
                            Sample((randn(rng, 3), randn(rng, 2, 3), 1.5), desc="broadcast"),
                            Sample((randn(rng, 2, 3), randn(rng, 2, 3), randn(rng, 2, 3)),
                                   desc="tensor weight"),
                            Sample((randn(rng, 2, 1), randn(rng, 3), randn(rng, 2, 3)),
                                   desc="tensor weight, broadcast"),
                            Sample((randn(rng, 2, 3), randn(rng, 2, 3), randn(rng, 2, 3)),
                                   desc="weight without grad", grad=(0, 1))],
               method="lerp", inplace="lerp_", keywords=("lerp", "input", "end", "weight")),
        OpInfo("lerp_method", lambda lib, a, b: a.lerp(b, 0.25),
               lambda rng: [Sample((randn(rng, 2, 3), randn(rng, 2, 3)), grad=(0,))]),
        OpInfo("clamp", lambda lib, a, **kw: lib.clamp(a, **kw),
               lambda rng: [Sample((away_from(rng, [-0.5, 0.5], 3, 4),), {"min": -0.5},
                                   desc="min"),
                            Sample((away_from(rng, [-0.5, 0.5], 3, 4),), {"max": 0.5},
                                   desc="max"),
                            Sample((away_from(rng, [-0.5, 0.5], 3, 4),),
                                   {"min": -0.5, "max": 0.5}, desc="both"),
                            Sample((np.arange(6) - 3,), {"min": -1, "max": 1}, desc="int")],
               method="clamp", inplace="clamp_", keywords=("clamp", "input"),
               error_inputs=[err((np.ones(3),), RuntimeError,
                                     "ember.clamp: At least one of 'min' or 'max' must not be "
                                     "None")]),
        OpInfo("clamp_method", lambda lib, a: a.clamp(min=0.0),
               unary(make=lambda r, *s: away_from(r, [0], *s))),
        OpInfo("maximum", lambda lib, a, b: lib.maximum(a, b), binary_samples(),
               method="maximum", keywords=("maximum", "input", "other")),
        OpInfo("minimum", lambda lib, a, b: lib.minimum(a, b), binary_samples(),
               method="minimum", keywords=("minimum", "input", "other")),
        OpInfo("maximum_ties", lambda lib, a, b: lib.maximum(a, b),
               lambda rng: [Sample((np.array([1.0, 2.0, 3.0], FLOAT32),
                                    np.array([1.0, 0.0, 3.0], FLOAT32)))]),
        OpInfo("where", lambda lib, c, a, b: lib.where(c, a, b),
               lambda rng: [Sample((randn(rng, 2, 3) > 0, randn(rng, 2, 3), randn(rng, 2, 3)),
                                   desc="same shape"),
                            Sample((randn(rng, 2, 1) > 0, randn(rng, 3), randn(rng, 2, 3)),
                                   desc="broadcast")],
               keywords=("where", "condition", "input", "other"),
               error_inputs=[err((np.array([True, True]), np.ones(3), np.ones(3)), RuntimeError,
                                     "The size of tensor a (2) must match the size of tensor b "
                                     "(3) at non-singleton dimension 0")]),
        OpInfo("where_scalar", lambda lib, c, a: lib.where(c, a, 0.0),
               lambda rng: [Sample((randn(rng, 2, 3) > 0, randn(rng, 2, 3)))]),
        OpInfo("to_float64", lambda lib, a: a.to(lib.float64), unary()),
        OpInfo("to_int", lambda lib, a: a.to(lib.int64),
               lambda rng: [Sample((randn(rng, 2, 3) * 5,))], differentiable=False),
        OpInfo("double", lambda lib, a: a.double() * 2, unary()),
    ]
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        rows.append(OpInfo(name, lambda lib, a, b, _n=name: getattr(lib, _n)(a, b),
                           lambda rng: [Sample((np.array([1.0, 2.0, 3.0], FLOAT32),
                                                np.array([3.0, 2.0, 1.0], FLOAT32))),
                                        Sample((np.array([[1, 2], [3, 4]]), 2), desc="scalar"),
                                        Sample((np.array([1.0, 2.0], FLOAT32),
                                                np.array([[2], [1]])), desc="broadcast")],
                           differentiable=False, method=name,
                           keywords=(name, "input", "other")))
    rows.append(OpInfo("operators_compare", lambda lib, a, b: (a < b) & (a != 0) | (b >= 1),
                       binary_samples(), differentiable=False))
    return rows


def _reduction_rows():
    return [
        OpInfo("sum", lambda lib, a, **kw: lib.sum(a, **kw), reduction_samples,
               method="sum", keywords=("sum", "input"),
               error_inputs=[err((np.ones((2, 3)),), IndexError,
                                     "Dimension out of range (expected to be in "
                                     "range of [-2, 1], but got 2)", {"dim": 2})]),
        OpInfo("sum_method", lambda lib, a, **kw: a.sum(**kw), reduction_samples),
        OpInfo("sum_int", lambda lib, a, **kw: a.sum(**kw),
               lambda rng: [Sample((np.arange(6, dtype=np.int32).reshape(2, 3),)),
                            Sample((np.array([True, True, False]),), desc="bool")],
               differentiable=False),
        OpInfo("mean", lambda lib, a, **kw: lib.mean(a, **kw), reduction_samples,
               method="mean", keywords=("mean", "input"),
               error_inputs=[err((np.ones((2, 3), np.int64),), RuntimeError,
                                     "mean(): could not infer output dtype. Input dtype must be"
                                     " either a floating point or complex dtype. Got: Long")]),
        OpInfo("mean_method", lambda lib, a, **kw: a.mean(**kw), reduction_samples),
        OpInfo("prod", lambda lib, a, **kw: lib.prod(a, **kw),
               lambda rng: [Sample((positive(rng, 2, 3),)),
                            Sample((randn(rng, 2, 3),), {"dim": 1}, desc="dim"),
                            Sample((randn(rng, 2, 3),), {"dim": 0, "keepdim": True},
                                   desc="keepdim"),
                            Sample((np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]], FLOAT32),),
                                   {"dim": 1}, desc="zeros")],
               method="prod", keywords=("prod", "input")),
        OpInfo("var", lambda lib, a, **kw: lib.var(a, **kw),
               lambda rng: [
                   Sample((randn(rng, 3, 4),), desc="all"),
                   Sample((randn(rng, 3, 4),), {"dim": 1}, desc="dim"),
                   Sample((randn(rng, 2, 3, 4),), {"dim": (0, 2), "keepdim": True},
                          desc="tuple dim keepdim"),
                   Sample((randn(rng, 3, 4),), {"unbiased": False}, desc="biased"),
                   Sample((randn(rng, 3, 4),), {"dim": 0, "unbiased": False},
                          desc="biased dim")],
               method="var", keywords=("var", "input")),
        OpInfo("std", lambda lib, a, **kw: lib.std(a, **kw),
               lambda rng: [
                   Sample((randn(rng, 3, 4),), desc="all"),
                   Sample((randn(rng, 3, 4),), {"dim": 1}, desc="dim"),
                   Sample((randn(rng, 2, 3, 4),), {"dim": (0, 2), "keepdim": True},
                          desc="tuple dim keepdim"),
                   Sample((randn(rng, 3, 4),), {"dim": 0, "unbiased": False},
                          desc="biased dim"),
                   Sample((randn(rng, 3, 4),), {"dim": 1, "correction": 0}, desc="correction")],
               method="std",
               keywords=("std", "input"),
               error_inputs=[err((np.ones(3, np.int64),), RuntimeError,
                                     "std and var only support floating point and complex "
                                     "dtypes")]),
        OpInfo("max_all", lambda lib, a: lib.max(a), unary(((2, 3), (5,)), make=distinct)),
        OpInfo("min_all", lambda lib, a: a.min(), unary(((2, 3), (5,)), make=distinct)),
        OpInfo("max_dim", lambda lib, a, d, **kw: lib.max(a, d, **kw),
               lambda rng: [Sample((distinct(rng, 3, 4), 1)),
                            Sample((distinct(rng, 3, 4), 0), {"keepdim": True}, desc="keepdim"),
                            Sample((distinct(rng, 2, 3, 4), -1), desc="last"),
                            Sample((randn(rng), 0), desc="0-d")],
               method="max", keywords=("max", "input", "dim")),
        OpInfo("min_dim", lambda lib, a, d, **kw: a.min(d, **kw),
               lambda rng: [Sample((distinct(rng, 3, 4), 1)),
                            Sample((distinct(rng, 3, 4), 0), {"keepdim": True}, desc="keepdim")]),
        OpInfo("max_dim_values", lambda lib, a, d: lib.max(a, dim=d).values,
               lambda rng: [Sample((distinct(rng, 3, 4), 1))]),
        OpInfo("max_binary", lambda lib, a, b: lib.max(a, b), binary_samples(),
               method="max", keywords=("max", "input", "other"),
               xfail={"keywords": KEYWORDS_BEING_FIXED}),
        OpInfo("amax", lambda lib, a, **kw: lib.amax(a, **kw),
               lambda rng: reduction_samples(rng, make=distinct),
               method="amax", keywords=("amax", "input")),
        OpInfo("amin", lambda lib, a, **kw: lib.amin(a, **kw),
               lambda rng: reduction_samples(rng, make=distinct),
               method="amin", keywords=("amin", "input")),
        OpInfo("amax_ties", lambda lib, a: a.amax(dim=1),
               lambda rng: [Sample((np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], FLOAT32),))],
               gradcheck=False),
        OpInfo("max_all_ties", lambda lib, a: a.max(),
               lambda rng: [Sample((np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], FLOAT32),))],
               gradcheck=False),
        OpInfo("argmax", lambda lib, a, **kw: lib.argmax(a, **kw),
               lambda rng: [Sample((distinct(rng, 3, 4),)),
                            Sample((distinct(rng, 3, 4),), {"dim": 1}, desc="dim"),
                            Sample((distinct(rng, 3, 4),), {"dim": 0, "keepdim": True},
                                   desc="keepdim")],
               differentiable=False,
               method="argmax", keywords=("argmax", "input")),
        OpInfo("argmin", lambda lib, a, **kw: a.argmin(**kw),
               lambda rng: [Sample((distinct(rng, 3, 4),)),
                            Sample((distinct(rng, 3, 4),), {"dim": -1}, desc="dim")],
               differentiable=False),
        OpInfo("logsumexp", lambda lib, a, d, **kw: lib.logsumexp(a, d, **kw),
               lambda rng: [Sample((randn(rng, 3, 4), 1)),
                            Sample((randn(rng, 3, 4), 0), {"keepdim": True}, desc="keepdim"),
                            Sample((randn(rng, 2, 3, 4), (0, 2)), desc="tuple dim"),
                            Sample((np.array([[1000.0, 1000.0], [-1000.0, 0.0]], FLOAT32), 1),
                                   desc="large")],
               method="logsumexp", keywords=("logsumexp", "input", "dim"),
               error_inputs=[err((np.ones((2, 3)), 2), IndexError,
                                     "Dimension out of range (expected to be in range of [-2, "
                                     "1], but got 2)")]),
        OpInfo("norm", lambda lib, a, *args, **kw: lib.norm(a, *args, **kw),
               lambda rng: [Sample((randn(rng, 3, 4),)),
                            Sample((randn(rng, 3, 4), 1), desc="p=1"),
                            Sample((randn(rng, 3, 4), 2), {"dim": 1}, desc="dim"),
                            Sample((randn(rng, 3, 4), 3), {"dim": 0, "keepdim": True},
                                   desc="p=3 keepdim"),
                            Sample((distinct(rng, 3, 4), float("inf")), {"dim": 1},
                                   desc="inf"),
                            Sample((distinct(rng, 3, 4), -float("inf")), {"dim": 0},
                                   desc="-inf")],
               method="norm", keywords=("norm", "input", "p")),
        OpInfo("norm_method", lambda lib, a: a.norm(), unary(((2, 3),))),
        OpInfo("all_any", lambda lib, a: (a.all(), a.any(), a.all(dim=1), a.any(dim=0)),
               lambda rng: [Sample((randn(rng, 3, 4) > 0,))], differentiable=False),
        OpInfo("cumsum", lambda lib, a, d, double=False: lib.cumsum(
                   a, d, dtype=lib.float64 if double else None),
               lambda rng: [Sample((randn(rng, 3, 4), 1)),
                            Sample((randn(rng, 3, 4), 0), desc="dim 0"),
                            Sample((randn(rng, 2, 3, 4), -2), desc="3-D, dim -2"),
                            Sample((randn(rng), 0), desc="0-d"),
                            Sample((randn(rng, 3, 4), 1), {"double": True},
                                   desc="dtype")]),
        OpInfo("cumsum_method", lambda lib, a: a.cumsum(dim=-1), unary(((2, 5), (4,)))),
        OpInfo("cumsum_int", lambda lib, a, d: (a.cumsum(d), lib.cumprod(a, d)),
               lambda rng: [Sample((np.arange(1, 7, dtype=np.int32).reshape(2, 3), 1)),
                            Sample((np.arange(1, 7, dtype=np.uint8).reshape(2, 3), 0),
                                   desc="uint8"),
                            Sample((np.array([True, False, True]), 0), desc="bool")],
               differentiable=False),
        OpInfo("cumprod", lambda lib, a, d: lib.cumprod(a, d),
               lambda rng: [Sample((randn(rng, 3, 4), 1)),
                            Sample((positive(rng, 2, 3, 4), 0), desc="3-D, dim 0"),
                            Sample((randn(rng), 0), desc="0-d"),
                            Sample((np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 2.0, 0.0, 3.0]],
                                             FLOAT32), 1), desc="zeros")],
               method="cumprod", keywords=("cumprod", "input", "dim")),
        OpInfo("cumprod_method", lambda lib, a: a.cumprod(0), unary(((4, 2),))),
    ]


def _shape_rows():
    def noncontig(rng):
        return randn(rng, 4, 3).T  # a transposed (non-contiguous) array

    return [
        OpInfo("view", lambda lib, a, *s: a.view(*s),
               lambda rng: [Sample((randn(rng, 2, 6), 3, 4)),
                            Sample((randn(rng, 2, 6), -1), desc="-1"),
                            Sample((randn(rng, 2, 6), (4, -1)), desc="tuple"),
                            Sample((randn(rng), 1, 1), desc="0-d")],
               error_inputs=[err((np.ones((2, 6)), 5), RuntimeError,
                                     "shape '[5]' is invalid for input of size 12")]),
        OpInfo("view_as", lambda lib, a, b: a.view_as(b),
               lambda rng: [Sample((randn(rng, 2, 6), randn(rng, 3, 4)), grad=(0,))]),
        OpInfo("reshape", lambda lib, a, *s: lib.reshape(a, s),
               lambda rng: [Sample((randn(rng, 2, 6), 3, 4)),
                            Sample((randn(rng, 2, 6), -1, 2), desc="-1")]),
        OpInfo("reshape_noncontiguous", lambda lib, a: a.reshape(-1),
               lambda rng: [Sample((noncontig(rng),))]),
        OpInfo("flatten", lambda lib, a, *args: lib.flatten(a, *args),
               lambda rng: [Sample((randn(rng, 2, 3, 4),)),
                            Sample((randn(rng, 2, 3, 4), 1), desc="start 1"),
                            Sample((randn(rng, 2, 3, 4, 2), 1, 2), desc="middle"),
                            Sample((noncontig(rng),), desc="non-contiguous")],
               method="flatten", keywords=("flatten", "input", "start_dim", "end_dim")),
        OpInfo("squeeze", lambda lib, a, *d: lib.squeeze(a, *d),
               lambda rng: [Sample((randn(rng, 2, 1, 3, 1),)),
                            Sample((randn(rng, 2, 1, 3), 1), desc="dim"),
                            Sample((randn(rng, 2, 1, 3), 0), desc="dim not 1"),
                            Sample((randn(rng, 1, 2, 1, 3), (0, 2)), desc="tuple of dims"),
                            Sample((randn(rng, 1, 2, 1), (0, 1, -1)), desc="tuple, not all 1")],
               method="squeeze", keywords=("squeeze", "input", "dim"),
               error_inputs=[err((np.ones((2, 1)), 2), IndexError,
                                     "Dimension out of range (expected to be in range of [-2, "
                                     "1], but got 2)")]),
        OpInfo("unsqueeze", lambda lib, a, d: lib.unsqueeze(a, d),
               lambda rng: [Sample((randn(rng, 2, 3), 0)), Sample((randn(rng, 2, 3), -1),
                                                                 desc="-1"),
                            Sample((randn(rng), 0), desc="0-d")],
               method="unsqueeze", keywords=("unsqueeze", "input", "dim"),
               error_inputs=[err((np.ones((2, 3)), 3), IndexError,
                                     "Dimension out of range (expected to be in range of [-3, "
                                     "2], but got 3)")]),
        OpInfo("permute", lambda lib, a, *d: a.permute(*d),
               lambda rng: [Sample((randn(rng, 2, 3, 4), 2, 0, 1)),
                            Sample((randn(rng, 2, 3, 4), (1, -1, 0)), desc="tuple")],
               error_inputs=[err((np.ones((2, 3, 4)), 0, 1), RuntimeError,
                                     "permute(sparse_coo): number of dimensions in the tensor "
                                     "input does not match the length of the desired ordering "
                                     "of dimensions i.e. input.dim() = 3 is not equal to "
                                     "len(dims) = 2")]),
        OpInfo("transpose", lambda lib, a, d0, d1: lib.transpose(a, d0, d1),
               lambda rng: [Sample((randn(rng, 2, 3, 4), 0, 2)),
                            Sample((randn(rng, 2, 3), -1, 0), desc="negative")],
               method="transpose", keywords=("transpose", "input", "dim0", "dim1"),
               error_inputs=[err((np.ones((2, 3)), 0, 2), IndexError,
                                     "Dimension out of range (expected to be in range of [-2, "
                                     "1], but got 2)")]),
        OpInfo("t", lambda lib, a: lib.t(a), unary(((2, 3), (3,))),
               method="t", keywords=("t", "input")),
        OpInfo("T", lambda lib, a: a.T, unary(((2, 3),))),
        OpInfo("mT", lambda lib, a: a.mT, unary(((2, 3, 4),))),
        OpInfo("expand", lambda lib, a, *s: a.expand(*s),
               lambda rng: [Sample((randn(rng, 3, 1), 3, 4)),
                            Sample((randn(rng, 3, 1), 2, -1, 4), desc="new dim"),
                            Sample((randn(rng), 2, 2), desc="0-d")],
               error_inputs=[err((np.ones((3, 2)), 3, 4), RuntimeError,
                                     "The expanded size of the tensor (4) must match the "
                                     "existing size (2) at non-singleton dimension 1.  Target "
                                     "sizes: [3, 4].  Tensor sizes: [3, 2]")]),
        OpInfo("expand_as", lambda lib, a, b: a.expand_as(b),
               lambda rng: [Sample((randn(rng, 1, 4), randn(rng, 3, 4)), grad=(0,))]),
        OpInfo("contiguous", lambda lib, a: a.contiguous() * 1,
               lambda rng: [Sample((noncontig(rng),)), Sample((randn(rng, 2, 3),))]),
        OpInfo("clone", lambda lib, a: lib.clone(a), unary(),
               method="clone", keywords=("clone", "input")),
        OpInfo("repeat", lambda lib, a, *r: a.repeat(*r),
               lambda rng: [Sample((randn(rng, 2, 3), 2, 1)),
                            Sample((randn(rng, 2, 3), 2, 1, 3), desc="new dim"),
                            Sample((randn(rng, 3), (2, 2)), desc="tuple")],
               error_inputs=[err((np.ones((2, 3)), 2), RuntimeError,
                                     "Number of dimensions of repeat dims can not be smaller "
                                     "than number of dimensions of tensor")]),
        OpInfo("cat", lambda lib, ts, **kw: lib.cat(ts, **kw),
               lambda rng: [Sample(([randn(rng, 2, 3), randn(rng, 1, 3)],)),
                            Sample(([randn(rng, 2, 3), randn(rng, 2, 1), randn(rng, 2, 2)],),
                                   {"dim": 1}, desc="dim 1"),
                            Sample(([randn(rng, 2, 3), randn(rng, 2, 1, dtype=np.float64)],),
                                   {"dim": -1}, desc="mixed dtypes")],
               keywords=("cat", "tensors"),
               error_inputs=[err(([np.ones((2, 3)), np.ones((2, 4))],), RuntimeError,
                                     "Sizes of tensors must match except in dimension 0. "
                                     "Expected size 3 but got size 4 for tensor number 1 in the"
                                     " list."),
                             err(([np.ones((2, 3)), np.ones((2, 3))],), IndexError,
                                     "Dimension out of range (expected to be in "
                                     "range of [-2, 1], but got 2)", {"dim": 2})]),
        OpInfo("stack", lambda lib, ts, **kw: lib.stack(ts, **kw),
               lambda rng: [Sample(([randn(rng, 2, 3), randn(rng, 2, 3)],)),
                            Sample(([randn(rng, 2, 3), randn(rng, 2, 3), randn(rng, 2, 3)],),
                                   {"dim": -1}, desc="dim -1")],
               keywords=("stack", "tensors"),
               error_inputs=[err(([np.ones((2, 3)), np.ones((3, 2))],), RuntimeError,
                                     "stack expects each tensor to be equal size, but got [2, "
                                     "3] at entry 0 and [3, 2] at entry 1")]),
        OpInfo("split", lambda lib, a, s, **kw: lib.split(a, s, **kw),
               lambda rng: [Sample((randn(rng, 5, 2), 2)),
                            Sample((randn(rng, 2, 5), [1, 4]), {"dim": 1}, desc="sizes")],
               method="split", keywords=("split", "tensor", "split_size_or_sections"),
               error_inputs=[err((np.ones(5), [2, 2]), RuntimeError,
                                     "split_with_sizes expects split_sizes to sum exactly to 5 "
                                     "(input tensor's size at dimension 0), but got "
                                     "split_sizes=[2, 2]")]),
        OpInfo("split_sum", lambda lib, a, s: sum(p.sum() * (i + 1)
                                                  for i, p in enumerate(a.split(s))),
               lambda rng: [Sample((randn(rng, 5, 2), 2))], check_grad_fn_name=False),
        OpInfo("chunk", lambda lib, a, c, **kw: lib.chunk(a, c, **kw),
               lambda rng: [Sample((randn(rng, 5, 2), 3)),
                            Sample((randn(rng, 2, 6), 3), {"dim": 1}, desc="dim 1")],
               method="chunk", keywords=("chunk", "input", "chunks"),
               error_inputs=[err((np.ones(5), 0), RuntimeError,
                                     "chunk expects `chunks` to be greater than 0, got: 0")]),
        OpInfo("unbind", lambda lib, a, **kw: lib.unbind(a, **kw),
               lambda rng: [Sample((randn(rng, 3, 2),)),
                            Sample((randn(rng, 2, 3),), {"dim": 1}, desc="dim 1")],
               method="unbind", keywords=("unbind", "input")),
        OpInfo("unbind_partial", lambda lib, a: a.unbind()[1] * 2,
               lambda rng: [Sample((randn(rng, 3, 2),))]),
        OpInfo("flip", lambda lib, a, d: lib.flip(a, d),
               lambda rng: [Sample((randn(rng, 2, 3, 4), (0,))),
                            Sample((randn(rng, 2, 3, 4), (-1, 0)), desc="two dims"),
                            Sample((randn(rng, 2, 3), ()), desc="no dims"),
                            Sample((noncontig(rng), (1,)), desc="non-contiguous")],
               method="flip", keywords=("flip", "input", "dims")),
        OpInfo("flip_method", lambda lib, a: a.flip(1) * 2, unary(((2, 3),))),
        OpInfo("roll", lambda lib, a, s, *d: lib.roll(a, s, *d),
               lambda rng: [Sample((randn(rng, 2, 3, 4), 1, 2)),
                            Sample((randn(rng, 2, 3, 4), -5, 1), desc="negative, wraps"),
                            Sample((randn(rng, 2, 3, 4), (1, 2), (0, -1)), desc="two dims"),
                            Sample((randn(rng, 3, 4), 5), desc="flattened")],
               method="roll", keywords=("roll", "input", "shifts", "dims")),
        OpInfo("roll_method", lambda lib, a: a.roll(2, 0), unary(((4, 2),))),
    ]


def _indexing_rows():
    def index(lib, a, key):
        return a[key]

    def samples(rng):
        a = randn(rng, 3, 4, 5)
        keys = [
            (1, "int"), (-1, "negative int"), ((1, 2), "two ints"),
            (slice(1, 3), "slice"), ((slice(None), slice(0, 4, 2)), "strided slice"),
            ((Ellipsis, 1), "ellipsis"), ((None, 0), "None"), ((1, None, slice(1, 3)),
                                                                "int None slice"),
            (np.array([0, 2, 0]), "int array with repeats"),
            ([2, 0], "list"),
            ((slice(None), np.array([[0, 1], [3, 3]])), "2-D int array on dim 1"),
            (a[:, :, 0] > 0, "bool mask"),
            (np.array([True, False, True]), "bool mask dim 0"),
            ((np.array([0, 2]), slice(1, 3), np.array([1, 4])), "mixed"),
            ((Ellipsis, np.array([4, 0])), "ellipsis and array"),
            (np.array(1), "0-d int tensor"),
            ((slice(None), None), "None last"),
            (Ellipsis, "ellipsis alone"),
        ]
        return [Sample((a, key), desc=desc) for key, desc in keys]

    def setitem(lib, a, key, value):
        b = a * 1
        b[key] = value
        return b

    def setitem_samples(rng):
        return [
            Sample((randn(rng, 3, 4), 1, randn(rng, 4)), desc="row from tensor"),
            Sample((randn(rng, 3, 4), (slice(None), 0), 0.5), desc="column from scalar"),
            Sample((randn(rng, 3, 4), np.array([0, 2]), randn(rng, 4)), desc="int array"),
            Sample((randn(rng, 3, 4), randn(rng, 3, 4) > 0, 0.0), desc="bool mask"),
            Sample((randn(rng, 3, 4), (np.array([0, 1]), np.array([3, 3])),
                    randn(rng, 2)), desc="pairs"),
        ]

    return [
        OpInfo("getitem", index, samples,
               error_inputs=[err((np.ones((3, 4)), 3), IndexError,
                                     "index 3 is out of bounds for dimension 0 with size 3"),
                             err((np.ones((3, 4)), (slice(None), 4)), IndexError,
                                     "index 4 is out of bounds for dimension 1 with size 4")]),
        OpInfo("setitem", setitem, setitem_samples),
        OpInfo("masked_fill", lambda lib, a, m, v: lib.masked_fill(a, m, v),
               lambda rng: [Sample((randn(rng, 3, 4), randn(rng, 3, 4) > 0, -1.0)),
                            Sample((randn(rng, 3, 4), randn(rng, 4) > 0, 2.0),
                                   desc="broadcast mask")],
               method="masked_fill", inplace="masked_fill_",
               keywords=("masked_fill", "input", "mask", "value"),
               error_inputs=[err((np.ones((2, 3)), np.ones((2, 3)), 0.0), RuntimeError,
                                     "masked_fill_ only supports boolean masks, but got mask "
                                     "with dtype double")]),
        OpInfo("masked_fill_method", lambda lib, a, m: a.masked_fill(m, float("-inf")).exp(),
               lambda rng: [Sample((randn(rng, 3, 4), randn(rng, 3, 4) > 0))]),
        OpInfo("gather", lambda lib, a, d, i: lib.gather(a, d, i),
               lambda rng: [Sample((randn(rng, 3, 4), 1, np.array([[0, 0], [1, 3], [2, 1]]))),
                            Sample((randn(rng, 3, 4), 0, np.array([[0, 1, 2, 0]])),
                                   desc="dim 0")],
               method="gather", keywords=("gather", "input", "dim", "index"),
               error_inputs=[err((np.ones((3, 4)), 1, np.array([[4]])), RuntimeError,
                                     "index 4 is out of bounds for dimension 1 with size 4")]),
        OpInfo("index_select", lambda lib, a, d, i: lib.index_select(a, d, i),
               lambda rng: [Sample((randn(rng, 3, 4), 0, np.array([2, 0, 2]))),
                            Sample((randn(rng, 3, 4), 1, np.array([3, 1])), desc="dim 1")],
               method="index_select", keywords=("index_select", "input", "dim", "index"),
               error_inputs=[err((np.ones((3, 4)), 0, np.array([3])), IndexError,
                                     "index out of range in self")]),
    ]


def _linalg_rows():
    tol = {"atol": 1e-5, "rtol": 1e-5, "grad_atol": 1e-4, "grad_rtol": 1e-4}
    return [
        OpInfo("mm", lambda lib, a, b: lib.mm(a, b),
               lambda rng: [Sample((randn(rng, 2, 3), randn(rng, 3, 4))),
                            Sample((randn(rng, 2, 3), randn(rng, 4, 3).T), desc="transposed")],
               **tol,
               method="mm", keywords=("mm", "input", "mat2"),
               error_inputs=[err((np.ones((2, 3)), np.ones((2, 3))), RuntimeError,
                                     "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
                             err((np.ones(3), np.ones((3, 2))), RuntimeError,
                                     "self must be a matrix")]),
        OpInfo("addmm", lambda lib, c, a, b: lib.addmm(c, a, b),
               lambda rng: [Sample((randn(rng, 4), randn(rng, 2, 3), randn(rng, 3, 4)),
                                   desc="bias vector"),
                            Sample((randn(rng, 2, 4), randn(rng, 2, 3), randn(rng, 3, 4)),
                                   desc="bias matrix")], **tol,
               keywords=("addmm", "input", "mat1", "mat2")),
        OpInfo("addmm_scaled", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=2),
               lambda rng: [Sample((randn(rng, 4), randn(rng, 2, 3), randn(rng, 3, 4)))],
               check_grad_fn_name=False, **tol),
        OpInfo("mv", lambda lib, a, v: lib.mv(a, v),
               lambda rng: [Sample((randn(rng, 2, 3), randn(rng, 3)))], **tol,
               keywords=("mv", "input", "vec")),
        OpInfo("dot", lambda lib, a, b: lib.dot(a, b),
               lambda rng: [Sample((randn(rng, 4), randn(rng, 4)))], **tol,
               method="dot", keywords=("dot", "input", "tensor"),
               error_inputs=[err((np.ones(3), np.ones(4)), RuntimeError,
                                     "inconsistent tensor size, expected tensor [3] and src [4]"
                                     " to have the same number of elements, but got 3 and 4 "
                                     "elements respectively")]),
        OpInfo("bmm", lambda lib, a, b: lib.bmm(a, b),
               lambda rng: [Sample((randn(rng, 2, 2, 3), randn(rng, 2, 3, 4)))], **tol,
               method="bmm", keywords=("bmm", "input", "mat2"),
               error_inputs=[err((np.ones((2, 2, 3)), np.ones((3, 3, 4))), RuntimeError,
                                     "Expected size for first two dimensions of batch2 tensor "
                                     "to be: [2, 3] but got: [3, 3].")]),
        OpInfo("matmul", lambda lib, a, b: lib.matmul(a, b),
               lambda rng: [Sample((randn(rng, 2, 3), randn(rng, 3, 4)), desc="2-D"),
                            Sample((randn(rng, 3), randn(rng, 3)), desc="1-D 1-D"),
                            Sample((randn(rng, 2, 3), randn(rng, 3)), desc="2-D 1-D"),
                            Sample((randn(rng, 3), randn(rng, 3, 4)), desc="1-D 2-D"),
                            Sample((randn(rng, 2, 2, 3), randn(rng, 3, 4)),
                                   desc="batched 2-D"),
                            Sample((randn(rng, 2, 1, 2, 3), randn(rng, 3, 3, 2)),
                                   desc="broadcast batch"),
                            Sample((randn(rng, 3), randn(rng, 2, 3, 4)), desc="1-D batched"),
                            Sample((randn(rng, 2, 2, 3), randn(rng, 3)), desc="batched 1-D")],
               **tol,
               method="matmul", keywords=("matmul", "input", "other"),
               error_inputs=[err((np.ones((2, 3)), np.ones((4, 5))), RuntimeError,
                                     "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
                             err((np.ones(()), np.ones(3)), RuntimeError,
                                     "both arguments to matmul need to be at least 1D, but they"
                                     " are 0D and 1D")]),
        OpInfo("matmul_matrix_batch", lambda lib, a, b: lib.matmul(a, b),
               lambda rng: [Sample((randn(rng, 2, 3), randn(rng, 2, 3, 4)))],
               check_grad_fn_name=False, **tol),  # PyTorch ends in a transposed copy here
        OpInfo("matmul_operator", lambda lib, a, b: a @ b,
               lambda rng: [Sample((randn(rng, 2, 3), randn(rng, 3, 4)), desc="2-D"),
                            Sample((randn(rng, 2, 2, 3), randn(rng, 2, 3, 4)), desc="3-D")],
               **tol),
    ]


def _functional_rows():
    """nn.functional ops (written in ember.nn.functional); rows skip until it exists."""
    def F(lib):
        return lib.nn.functional

    tol = {"atol": 1e-5, "rtol": 1e-4, "grad_atol": 1e-4, "grad_rtol": 1e-4}

    def conv_samples(rng):
        return [
            Sample((randn(rng, 2, 3, 6, 6), randn(rng, 4, 3, 3, 3), randn(rng, 4)),
                   desc="bias"),
            Sample((randn(rng, 1, 2, 5, 5), randn(rng, 3, 2, 3, 3), None),
                   {"stride": 2, "padding": 1}, desc="stride 2, padding 1, no bias"),
            Sample((randn(rng, 1, 2, 7, 7), randn(rng, 2, 2, 3, 3), randn(rng, 2)),
                   {"dilation": 2}, desc="dilation"),
            Sample((randn(rng, 1, 4, 5, 5), randn(rng, 6, 2, 3, 3), randn(rng, 6)),
                   {"groups": 2, "padding": (1, 0)}, desc="groups, padding tuple"),
            Sample((randn(rng, 1, 2, 4, 5), randn(rng, 3, 2, 1, 2), None),
                   {"stride": (2, 1)}, desc="rectangular kernel"),
        ]

    def classes(rng, n, c):
        return rng.integers(0, c, size=n).astype(np.int64)

    def row(name, fn, samples, **kwargs):
        attribute = kwargs.pop("attribute", name)
        return OpInfo(name, fn, samples, requires=f"nn.functional.{attribute}",
                      **{**tol, **kwargs})

    return [
        row("conv2d", lambda lib, x, w, b, **kw: F(lib).conv2d(x, w, b, **kw), conv_samples,
            keywords=("nn.functional.conv2d", "input", "weight", "bias"),
            error_inputs=[err((np.ones((1, 3, 5, 5)), np.ones((4, 2, 3, 3)), None), RuntimeError,
                                  "Given groups=1, weight of size [4, 2, 3, 3], expected "
                                  "input[1, 3, 5, 5] to have 2 channels, but got 3 channels "
                                  "instead")]),
        row("linear", lambda lib, x, w, *b: F(lib).linear(x, w, *b),
            lambda rng: [Sample((randn(rng, 2, 3), randn(rng, 4, 3), randn(rng, 4)),
                                desc="2-D with bias"),
                         Sample((randn(rng, 2, 3), randn(rng, 4, 3)), desc="no bias"),
                         Sample((randn(rng, 2, 5, 3), randn(rng, 4, 3), randn(rng, 4)),
                                desc="3-D input")],
            keywords=("nn.functional.linear", "input", "weight", "bias"),
            error_inputs=[err((np.ones((2, 3)), np.ones((4, 2))), RuntimeError,
                                  "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x4)")]),
        row("max_pool2d", lambda lib, x, *a, **kw: F(lib).max_pool2d(x, *a, **kw),
            lambda rng: [Sample((distinct(rng, 1, 2, 4, 4), 2), desc="2x2"),
                         Sample((distinct(rng, 2, 1, 5, 5), 3),
                                {"stride": 2, "padding": 1}, desc="3x3 stride 2 padding 1")],
            keywords=("nn.functional.max_pool2d", "input", "kernel_size"),
            error_inputs=[err((np.ones((1, 1, 2, 2)), 3), RuntimeError,
                                  "Given input size: (1x2x2). Calculated output size: (1x0x0). "
                                  "Output size is too small")]),
        row("avg_pool2d", lambda lib, x, *a, **kw: F(lib).avg_pool2d(x, *a, **kw),
            lambda rng: [Sample((randn(rng, 1, 2, 4, 4), 2), desc="2x2"),
                         Sample((randn(rng, 2, 1, 5, 5), 3),
                                {"stride": 2, "padding": 1}, desc="3x3 stride 2 padding 1")],
            keywords=("nn.functional.avg_pool2d", "input", "kernel_size")),
        row("softmax", lambda lib, x, d: F(lib).softmax(x, dim=d),
            lambda rng: [Sample((randn(rng, 3, 4), 1)), Sample((randn(rng, 3, 4), 0), desc="0"),
                         Sample((randn(rng, 2, 3, 4), -1), desc="3-D")],
            error_inputs=[err((np.ones((2, 3)), 2), IndexError,
                                  "Dimension out of range (expected to be in range of [-2, 1], "
                                  "but got 2)")]),
        row("log_softmax", lambda lib, x, d: F(lib).log_softmax(x, dim=d),
            lambda rng: [Sample((randn(rng, 3, 4), 1)),
                         Sample((randn(rng, 2, 3, 4), 1), desc="3-D")]),
        row("mse_loss", lambda lib, x, y, **kw: F(lib).mse_loss(x, y, **kw),
            lambda rng: [Sample((randn(rng, 3, 4), randn(rng, 3, 4)), grad=(0,)),
                         Sample((randn(rng, 3, 4), randn(rng, 3, 4)), desc="target grad"),
                         Sample((randn(rng, 3, 4), randn(rng, 3, 4)), {"reduction": "sum"},
                                desc="sum", grad=(0,))],
            keywords=("nn.functional.mse_loss", "input", "target")),
        row("cross_entropy", lambda lib, x, t, **kw: F(lib).cross_entropy(x, t, **kw),
            lambda rng: [Sample((randn(rng, 4, 5), classes(rng, 4, 5))),
                         Sample((randn(rng, 4, 5), classes(rng, 4, 5)), {"reduction": "sum"},
                                desc="sum"),
                         Sample((randn(rng, 2, 3, 2, 2), classes(rng, (2, 2, 2), 3)),
                                desc="spatial")],
            keywords=("nn.functional.cross_entropy", "input", "target"),
            error_inputs=[err((np.ones((2, 3)), np.array([0, 3])), IndexError,
                                  "Target 3 is out of bounds.")]),
        row("nll_loss", lambda lib, x, t, **kw: F(lib).nll_loss(x, t, **kw),
            lambda rng: [Sample((randn(rng, 4, 5), classes(rng, 4, 5))),
                         Sample((randn(rng, 4, 5), classes(rng, 4, 5)), {"reduction": "none"},
                                desc="none")],
            keywords=("nn.functional.nll_loss", "input", "target"),
            error_inputs=[err((np.ones((2, 3)), np.array([0, 1, 2])), ValueError,
                                  "Expected input batch_size (2) to match target batch_size "
                                  "(3).")]),
        row("dropout_p0", lambda lib, x: F(lib).dropout(x, p=0.0),
            unary(((2, 3),)), check_grad_fn_name=False, attribute="dropout"),
        row("dropout_p1", lambda lib, x: F(lib).dropout(x, p=1.0),  # all zeros: no randomness
            unary(((2, 3),)), check_grad_fn_name=False, attribute="dropout"),
        row("leaky_relu", lambda lib, x, *a: F(lib).leaky_relu(x, *a),
            lambda rng: [Sample((away_from(rng, [0], 3, 4),)),
                         Sample((away_from(rng, [0], 3, 4), 0.2), desc="slope 0.2")],
            keywords=("nn.functional.leaky_relu", "input", "negative_slope")),
        row("gelu", lambda lib, x: F(lib).gelu(x), unary(((3, 4),)),
            keywords=("nn.functional.gelu", "input")),
        row("relu_functional", lambda lib, x: F(lib).relu(x),
            unary(((3, 4),), make=lambda r, *s: away_from(r, [0], *s)), attribute="relu"),
        row("pad_constant", lambda lib, x, p, **kw: F(lib).pad(x, p, **kw),
            lambda rng: [Sample((randn(rng, 2, 3, 4), (1, 2, 0, 1)), {"value": 0.5}),
                         Sample((randn(rng, 2, 3, 4), (-1, 2)), desc="crop")],
            attribute="pad"),
        row("pad_reflect", lambda lib, x, p: F(lib).pad(x, p, mode="reflect"),
            lambda rng: [Sample((randn(rng, 2, 3, 5), (2, 3)), desc="1-D"),
                         Sample((randn(rng, 3, 5), (4, 1)), desc="1-D unbatched"),
                         Sample((randn(rng, 1, 2, 4, 5), (1, 2, 3, 0)), desc="2-D"),
                         Sample((randn(rng, 2, 3, 4), (1, 1, 1, 1)), desc="2-D unbatched"),
                         Sample((randn(rng, 1, 2, 4, 5), (-1, 3, 2, -1)), desc="2-D crop"),
                         Sample((randn(rng, 1, 1, 3, 3, 4), (1, 2, 1, 0, 2, 1)),
                                desc="3-D")], attribute="pad"),
        row("pad_replicate", lambda lib, x, p: F(lib).pad(x, p, mode="replicate"),
            lambda rng: [Sample((randn(rng, 2, 3, 5), (2, 6)), desc="1-D, wider than input"),
                         Sample((randn(rng, 1, 2, 4, 5), (1, 2, 3, 0)), desc="2-D"),
                         Sample((randn(rng, 2, 3, 4), (-1, 2, 0, 1)), desc="2-D crop"),
                         Sample((randn(rng, 1, 1, 3, 3, 4), (1, 2, 1, 0, 2, 1)),
                                desc="3-D")], attribute="pad"),
        row("pad_circular", lambda lib, x, p: F(lib).pad(x, p, mode="circular"),
            lambda rng: [Sample((randn(rng, 2, 3, 5), (2, 5)), desc="1-D, whole period"),
                         Sample((randn(rng, 1, 2, 4, 5), (1, 2, 3, 0)), desc="2-D"),
                         Sample((randn(rng, 2, 3, 4), (-1, 2, 0, 1)), desc="2-D crop"),
                         Sample((randn(rng, 1, 1, 3, 3, 4), (1, 2, 1, 0, 2, 1)),
                                desc="3-D")], attribute="pad"),
        row("elu", lambda lib, x, *a: F(lib).elu(x, *a),
            lambda rng: [Sample((away_from(rng, [0], 3, 4),)),
                         Sample((away_from(rng, [0], 3, 4), 0.5), desc="alpha 0.5")],
            keywords=("nn.functional.elu", "input", "alpha")),
        row("elu_inplace", lambda lib, x, *a: F(lib).elu(x * 1, *a, inplace=True),
            lambda rng: [Sample((away_from(rng, [0], 3, 4),)),
                         Sample((away_from(rng, [0], 3, 4), 2.0), desc="alpha 2")],
            attribute="elu"),
        row("leaky_relu_inplace", lambda lib, x: F(lib).leaky_relu(x * 1, 0.1, inplace=True),
            lambda rng: [Sample((away_from(rng, [0], 3, 4),))], attribute="leaky_relu"),
        row("silu", lambda lib, x, **kw: F(lib).silu(x, **kw), unary(((3, 4), (5,))),
            keywords=("nn.functional.silu", "input")),
        row("silu_inplace", lambda lib, x: F(lib).silu(x * 1, inplace=True),
            unary(((3, 4),)), attribute="silu"),
        row("softplus", lambda lib, x, **kw: F(lib).softplus(x, **kw),
            lambda rng: [Sample((randn(rng, 3, 4),)),
                         Sample((randn(rng, 3, 4) * 10,), {"beta": 2.0, "threshold": 5.0},
                                desc="beta, threshold")],
            keywords=("nn.functional.softplus", "input")),
        row("hardtanh", lambda lib, x, *a: F(lib).hardtanh(x, *a),
            lambda rng: [Sample((away_from(rng, [-1, 1], 3, 4),)),
                         Sample((away_from(rng, [-0.5, 0.25], 3, 4), -0.5, 0.25),
                                desc="min_val, max_val")],
            keywords=("nn.functional.hardtanh", "input", "min_val", "max_val")),
        row("hardtanh_inplace", lambda lib, x: F(lib).hardtanh(x * 1, inplace=True),
            lambda rng: [Sample((away_from(rng, [-1, 1], 3, 4),))], attribute="hardtanh"),
        row("relu6", lambda lib, x: F(lib).relu6(x),
            lambda rng: [Sample((away_from(rng, [0, 6], 3, 4) * 4,))],
            keywords=("nn.functional.relu6", "input")),
        row("batch_norm", lambda lib, x, w, b, **kw: F(lib).batch_norm(
                x, kw.pop("mean", None), kw.pop("var", None), w, b, **kw),
            lambda rng: [Sample((randn(rng, 4, 3), positive(rng, 3), randn(rng, 3)),
                                {"training": True}, desc="1-D, training"),
                         Sample((randn(rng, 2, 3, 4, 4), positive(rng, 3), randn(rng, 3)),
                                {"training": True, "mean": randn(rng, 3),
                                 "var": positive(rng, 3), "momentum": 0.3},
                                desc="2-D, training, running stats"),
                         Sample((randn(rng, 2, 3, 4), positive(rng, 3), randn(rng, 3)),
                                {"mean": randn(rng, 3), "var": positive(rng, 3)},
                                desc="evaluation"),
                         Sample((randn(rng, 2, 3, 4), None, None),
                                {"training": True, "eps": 1e-3}, desc="no affine")],
            error_inputs=[err((np.ones((1, 3)), None, None), ValueError,
                                  "Expected more than 1 value per channel "
                                  "when training, got input size "
                                  "ember.Size([1, 3])", {"training": True})]),
        row("layer_norm", lambda lib, x, s, *wb, **kw: F(lib).layer_norm(x, s, *wb, **kw),
            lambda rng: [Sample((randn(rng, 2, 3, 4), (4,), positive(rng, 4), randn(rng, 4)),
                                desc="last dim"),
                         Sample((randn(rng, 2, 3, 4), (3, 4), positive(rng, 3, 4),
                                 randn(rng, 3, 4)), desc="two dims"),
                         Sample((randn(rng, 2, 5), (5,)), {"eps": 1e-3},
                                desc="no affine, eps")],
            keywords=("nn.functional.layer_norm", "input", "normalized_shape", "weight", "bias"),
            error_inputs=[err((np.ones((2, 3)), (4,)), RuntimeError,
                                  "Given normalized_shape=[4], expected input with shape [*, "
                                  "4], but got input of size[2, 3]")]),
        row("binary_cross_entropy",
            lambda lib, x, y, *w, **kw: F(lib).binary_cross_entropy(x, y, *w, **kw),
            lambda rng: [Sample((probabilities(rng, 3, 4), probabilities(rng, 3, 4)),
                                grad=(0,)),
                         Sample((probabilities(rng, 3, 4), probabilities(rng, 3, 4)),
                                desc="target grad"),
                         Sample((probabilities(rng, 3, 4), probabilities(rng, 3, 4),
                                 positive(rng, 3, 4)), {"reduction": "sum"},
                                desc="weight, sum", grad=(0,)),
                         Sample((probabilities(rng, 5), probabilities(rng, 5)),
                                {"reduction": "none"}, desc="none", grad=(0,))],
            keywords=("nn.functional.binary_cross_entropy", "input", "target", "weight"),
            error_inputs=[err((np.full(2, 0.5), np.ones(3)), ValueError,
                                  "Using a target size (ember.Size([3])) that is different to "
                                  "the input size (ember.Size([2])) is deprecated. Please "
                                  "ensure they have the same size.")]),
        row("binary_cross_entropy_with_logits",
            lambda lib, x, y, **kw: F(lib).binary_cross_entropy_with_logits(x, y, **kw),
            lambda rng: [Sample((randn(rng, 3, 4), probabilities(rng, 3, 4))),
                         Sample((randn(rng, 3, 4), probabilities(rng, 3, 4)),
                                {"weight": positive(rng, 4), "reduction": "sum"},
                                desc="weight, sum"),
                         Sample((randn(rng, 3, 4), probabilities(rng, 3, 4)),
                                {"pos_weight": positive(rng, 4), "reduction": "none"},
                                desc="pos_weight, none")],
            keywords=("nn.functional.binary_cross_entropy_with_logits", "input", "target")),
        row("adaptive_avg_pool2d", lambda lib, x, s: F(lib).adaptive_avg_pool2d(x, s),
            lambda rng: [Sample((randn(rng, 1, 2, 6, 6), 3), desc="divides"),
                         Sample((randn(rng, 2, 1, 5, 7), (3, 2)), desc="overlapping windows"),
                         Sample((randn(rng, 2, 4, 4), 1), desc="unbatched, global")],
            keywords=("nn.functional.adaptive_avg_pool2d", "input", "output_size"),
            error_inputs=[err((np.ones((2, 3)), 2), RuntimeError,
                                  "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got [2,"
                                  " 3]")]),
        row("l1_loss", lambda lib, x, y, **kw: F(lib).l1_loss(x, y, **kw),
            lambda rng: [Sample((randn(rng, 3, 4), randn(rng, 3, 4))),
                         Sample((randn(rng, 3, 4), randn(rng, 3, 4)), {"reduction": "none"},
                                desc="none")],
            keywords=("nn.functional.l1_loss", "input", "target")),
        row("one_hot", lambda lib, t, *n: F(lib).one_hot(t, *n),
            lambda rng: [Sample((classes(rng, 5, 4), 4)),
                         Sample((classes(rng, (2, 3), 3),), desc="2-D, inferred classes")],
            differentiable=False,
            keywords=("nn.functional.one_hot", "input", "num_classes"),
            xfail={"keywords": KEYWORDS_BEING_FIXED},
            error_inputs=[err((np.array([0, 3]), 3), RuntimeError,
                                  "Class values must be smaller than num_classes.")]),
    ]


def _sorting_rows():
    return [
        OpInfo("sort", lambda lib, a, **kw: lib.sort(a, **kw),
               lambda rng: [Sample((distinct(rng, 3, 4),)),
                            Sample((distinct(rng, 3, 4),), {"dim": 0}, desc="dim 0"),
                            Sample((distinct(rng, 2, 3, 4),), {"dim": 1, "descending": True},
                                   desc="descending"),
                            Sample((distinct(rng, 5),), {"stable": True}, desc="stable"),
                            Sample((randn(rng),), desc="0-d")],
               method="sort", keywords=("sort", "input")),
        OpInfo("sort_method", lambda lib, a: a.sort(descending=True).values * 2,
               unary(((3, 4),), make=distinct)),
        OpInfo("sort_ties", lambda lib, a, **kw: a.sort(stable=True, **kw),
               lambda rng: [Sample((np.array([[2.0, 1.0, 2.0, 1.0, 3.0, 2.0]], FLOAT32),)),
                            Sample((np.array([[2.0, 1.0, 2.0, 1.0, 3.0, 2.0]], FLOAT32),),
                                   {"descending": True}, desc="descending")],
               gradcheck=False),
        OpInfo("sort_int", lambda lib, a, **kw: lib.sort(a, **kw),
               lambda rng: [Sample((np.array([3, 1, 2, 1]),)),
                            Sample((np.array([3, 1, 2, 1], np.uint8),), {"descending": True},
                                   desc="uint8 descending"),
                            Sample((np.array([True, False, True]),), desc="bool")],
               differentiable=False),
        OpInfo("sort_nan", lambda lib, a, **kw: lib.sort(a, **kw),
               lambda rng: [Sample((np.array([1.0, np.nan, -1.0, 2.0], FLOAT32),)),
                            Sample((np.array([1.0, np.nan, -1.0, 2.0], FLOAT32),),
                                   {"descending": True}, desc="descending")],
               differentiable=False),
        OpInfo("argsort", lambda lib, a, **kw: lib.argsort(a, **kw),
               lambda rng: [Sample((distinct(rng, 3, 4),)),
                            Sample((distinct(rng, 3, 4),), {"dim": 0, "descending": True},
                                   desc="dim 0 descending"),
                            Sample((np.array([2.0, 1.0, 2.0, 1.0], FLOAT32),),
                                   {"stable": True, "descending": True}, desc="ties")],
               differentiable=False,
               method="argsort", keywords=("argsort", "input")),
        OpInfo("topk", lambda lib, a, k, **kw: lib.topk(a, k, **kw),
               lambda rng: [Sample((distinct(rng, 3, 5), 2)),
                            Sample((distinct(rng, 3, 5), 3), {"dim": 0}, desc="dim 0"),
                            Sample((distinct(rng, 3, 5), 2), {"largest": False},
                                   desc="smallest"),
                            Sample((distinct(rng, 4), 4), desc="all")],
               method="topk", keywords=("topk", "input", "k")),
        OpInfo("topk_none", lambda lib, a: lib.topk(a, 0),
               lambda rng: [Sample((distinct(rng, 2, 4),))],
               gradcheck=False),  # nothing to differentiate: gradcheck wants an output
        OpInfo("topk_method", lambda lib, a: a.topk(1, dim=1).values.sum(),
               unary(((3, 4),), make=distinct)),
    ]


def _integer_rows():
    """Bitwise, logical, floating-point-class and integer-division ops. Most have no
    gradient: their Functions set ``differentiable = False``, and only forward is checked."""
    def ints(rng, *shape):
        return rng.integers(-8, 9, size=shape).astype(np.int64)

    def bools(rng, *shape):
        return rng.standard_normal(shape) > 0

    def bitwise_samples(rng):
        return [Sample((ints(rng, 2, 3), ints(rng, 2, 3)), desc="int64"),
                Sample((bools(rng, 2, 3), bools(rng, 3)), desc="bool, broadcast"),
                Sample((ints(rng, 2, 3).astype(np.uint8), 5), desc="uint8, int"),
                Sample((ints(rng, 3).astype(np.int32), ints(rng, 2, 1)), desc="int32, int64")]

    special = np.array([[1.0, np.nan, np.inf], [-np.inf, 0.0, -2.5]], FLOAT32)

    def classes_samples(rng):
        return [Sample((special,), desc="nan, inf"), Sample((randn(rng, 4),), desc="finite"),
                Sample((np.arange(3),), desc="int64"), Sample((np.array([True, False]),),
                                                               desc="bool")]

    def division_samples(rng, kwargs=None):
        """Signs mixed, so floor and truncation differ; divisors away from zero."""
        return [Sample((randn(rng, 2, 3) * 4, away_from(rng, [0], 2, 3, gap=0.5)),
                       kwargs or {}, desc="float"),
                Sample((randn(rng, 2, 3) * 4, -1.5), kwargs or {}, desc="float, scalar"),
                Sample((ints(rng, 2, 3), np.array([3, -2, 5])), kwargs or {},
                       desc="int64 broadcast"),
                Sample((ints(rng, 4), 3), kwargs or {}, desc="int64, int")]

    def remainder_samples(rng):
        return division_samples(rng)

    def float_bitwise_error(name):
        return lambda rng: [ErrorInput(Sample((randn(rng, 2), randn(rng, 2)), desc="float"),
                                       NotImplementedError,
                                       f"\"{name}_cpu\" not implemented for 'Float'")]

    rows = []
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        rows.append(OpInfo(name, lambda lib, a, b, _n=name: getattr(lib, _n)(a, b),
                           bitwise_samples, differentiable=False, method=name,
                           keywords=(name, "input", "other"),
                           error_inputs=float_bitwise_error(name)))
    rows += [
        OpInfo("bitwise_operators", lambda lib, a, b: (a & b, a | b, a ^ b, ~a),
               bitwise_samples, differentiable=False),
        OpInfo("bitwise_not", lambda lib, a: lib.bitwise_not(a),
               lambda rng: [Sample((ints(rng, 2, 3),)), Sample((bools(rng, 4),), desc="bool"),
                            Sample((ints(rng, 3).astype(np.uint8),), desc="uint8")],
               differentiable=False, keywords=("bitwise_not", "input"),
               method="bitwise_not",
               error_inputs=lambda rng: [ErrorInput(Sample((randn(rng, 2),), desc="float"),
                                                    NotImplementedError,
                                                    "\"bitwise_not_cpu\" not implemented for "
                                                    "'Float'")]),
        OpInfo("logical_not", lambda lib, a: lib.logical_not(a),
               lambda rng: [Sample((special,), desc="float with nan"),
                            Sample((ints(rng, 2, 3),), desc="int64"),
                            Sample((bools(rng, 4),), desc="bool")],
               differentiable=False, method="logical_not", keywords=("logical_not", "input")),
        OpInfo("isnan", lambda lib, a: lib.isnan(a), classes_samples, differentiable=False,
               method="isnan", keywords=("isnan", "input")),
        OpInfo("isfinite", lambda lib, a: lib.isfinite(a), classes_samples,
               differentiable=False, method="isfinite", keywords=("isfinite", "input")),
        OpInfo("isinf", lambda lib, a: lib.isinf(a), classes_samples, differentiable=False,
               method="isinf", keywords=("isinf", "input")),
        OpInfo("isclose", lambda lib, a, b, **kw: lib.isclose(a, b, **kw),
               lambda rng: [Sample((special, special + 1e-6), desc="nan, inf"),
                            Sample((special, special), {"equal_nan": True}, desc="equal_nan"),
                            Sample((randn(rng, 2, 3), randn(rng, 3)), {"rtol": 10.0},
                                   desc="rtol, broadcast"),
                            Sample((np.arange(4), np.array([0, 2, 2, 5])), {"atol": 1},
                                   desc="int64, atol")],
               differentiable=False, method="isclose",
               keywords=("isclose", "input", "other"),
               error_inputs=[err((np.ones(2, np.float32), np.ones(2)), RuntimeError,
                                     "Float did not match Double")]),
        # No derivative: the node exists and raises when backward reaches it.
        OpInfo("floor_divide", lambda lib, a, b: lib.floor_divide(a, b), division_samples,
               gradcheck=False, method="floor_divide",
               keywords=("floor_divide", "input", "other"),
               error_inputs=lambda rng: [ErrorInput(
                   Sample((np.arange(3), np.array([1, 0, 2])), desc="int by zero"),
                   RuntimeError, "ZeroDivisionError")]),
        OpInfo("floordiv_operator", lambda lib, a, b: a // b, division_samples,
               gradcheck=False),
        OpInfo("div_rounding", lambda lib, a, b, **kw: lib.div(a, b, **kw),
               lambda rng: (division_samples(rng, {"rounding_mode": "floor"})
                            + division_samples(rng, {"rounding_mode": "trunc"})),
               gradcheck=False, method="div", inplace="div_",
               keywords=("div", "input", "other"),
               error_inputs=lambda rng: [ErrorInput(
                   Sample((randn(rng, 2), 2.0), {"rounding_mode": "round"}, desc="'round'"),
                   RuntimeError, "div expected rounding_mode to be one of None, 'trunc', or "
                   "'floor' but found 'round'")]),
        # Remainder is differentiable in the first operand (gradient 1 away from the jumps).
        OpInfo("remainder", lambda lib, a, b: lib.remainder(a, b), remainder_samples,
               method="remainder", keywords=("remainder", "input", "other")),
        OpInfo("mod_operator", lambda lib, a, b: a % b, remainder_samples),
        OpInfo("where_nonzero", lambda lib, c: lib.where(c),
               lambda rng: [Sample((bools(rng, 3, 4),), desc="2-D bool"),
                            Sample((ints(rng, 5),), desc="1-D int64"),
                            Sample((np.zeros((2, 2), bool),), desc="all false")],
               differentiable=False),
    ]
    return rows



def _inplace_rows():
    """Writes: fill_, copy_, and in-place ops on views, whose base records the change
    (``CopySlices``) and whose other views re-derive their values (``AsStridedBackward0``).
    Each row starts from ``a * 1``: a leaf that requires grad cannot change in place."""
    def write_through_view(lib, a, b):
        h = a * 1
        h[0].mul_(b)            # the base h records CopySlices
        return h

    def two_views(lib, a, b):
        h = a * 1
        row, column = h[1], h[:, 2]
        row.add_(b)             # column shares an element with row: re-derived from h
        return h, column

    return [
        OpInfo("fill_", lambda lib, a, v: (a * 1).fill_(v),
               lambda rng: [Sample((randn(rng, 2, 3), 2.5)), Sample((randn(rng, 4), -1),
                                                                     desc="int value"),
                            Sample((np.arange(4), 7), desc="int64"),
                            Sample((randn(rng, 2, 3), np.array(1.5, FLOAT32)),
                                   desc="0-d tensor value", grad=(0,))]),
        OpInfo("copy_", lambda lib, a, b: (a * 1).copy_(b),
               lambda rng: [Sample((randn(rng, 2, 3), randn(rng, 2, 3))),
                            Sample((randn(rng, 2, 3), randn(rng, 3)), desc="broadcast"),
                            Sample((randn(rng, 2, 3), randn(rng, 2, 3, dtype=np.float64)),
                                   desc="float64 into float32"),
                            Sample((np.arange(3), randn(rng, 3)), desc="float into int64",
                                   grad=())]),
        OpInfo("inplace_on_view", write_through_view,
               lambda rng: [Sample((randn(rng, 3, 4), randn(rng, 4))),
                            Sample((randn(rng, 3, 4), 2.0), desc="scalar")]),
        OpInfo("inplace_on_overlapping_views", two_views,
               lambda rng: [Sample((randn(rng, 3, 4), randn(rng, 4)))],
               xfail={"grad_fn_name": F_VIEW_NODE}),
    ]


def _layer_rows():
    """Activations, losses and layers beyond the tutorial's (the rest of torch.nn that public
    programs use): ember.nn.functional, as the functional rows."""
    def F(lib):
        return lib.nn.functional

    tol = {"atol": 1e-5, "rtol": 1e-4, "grad_atol": 1e-4, "grad_rtol": 1e-4}

    def row(name, fn, samples, **kwargs):
        attribute = kwargs.pop("attribute", name)
        return OpInfo(name, fn, samples, requires=f"nn.functional.{attribute}",
                      **{**tol, **kwargs})

    def pointwise(name, kinks=(0,), scale=1.0, **kwargs):
        """A row for ``F.<name>(x)`` and one for its in-place form, on inputs off the kinks."""
        def samples(rng):
            return [Sample((away_from(rng, kinks, 3, 4) * scale,)),
                    Sample((away_from(rng, kinks, 5) * scale,), desc="1-D"),
                    Sample((np.array(scale * 0.7, FLOAT32),), desc="0-d")]

        rows = [row(name, lambda lib, x, **kw: getattr(F(lib), name)(x, **kw), samples,
                    keywords=(f"nn.functional.{name}", "input"), **kwargs)]
        if kwargs.pop("inplace", True):
            rows.append(row(f"{name}_inplace",
                            lambda lib, x: getattr(F(lib), name)(x * 1, inplace=True),
                            lambda rng: samples(rng)[:2], attribute=name, **kwargs))
        return rows

    return [
        *pointwise("mish"),
        *pointwise("hardswish", kinks=(-3, 3), scale=3.0),
        *pointwise("hardsigmoid", kinks=(-3, 3), scale=3.0),
        *pointwise("selu"),
        *pointwise("celu"),
        row("celu_alpha", lambda lib, x, **kw: F(lib).celu(x, **{"alpha": 2.0, **kw}),
            lambda rng: [Sample((away_from(rng, [0], 3, 4),))], attribute="celu",
            error_inputs=[err((np.ones(2),), RuntimeError,
                              "ZeroDivisionError: alpha cannot be 0 for CELU", {"alpha": 0.0})]),
        row("threshold", lambda lib, x, *a, **kw: F(lib).threshold(x, *a, **kw),
            lambda rng: [Sample((away_from(rng, [0.2], 3, 4), 0.2, -3.0)),
                         Sample((away_from(rng, [0.0], 5), 0.0, 0.0), desc="relu"),
                         Sample((np.array(1.5, FLOAT32), 1.0, 2.0), desc="0-d")],
            keywords=("nn.functional.threshold", "input", "threshold", "value")),
        row("threshold_inplace", lambda lib, x: F(lib).threshold(x * 1, 0.1, 2.0, True),
            lambda rng: [Sample((away_from(rng, [0.1], 3, 4),))], attribute="threshold"),
        row("logsigmoid", lambda lib, x: F(lib).logsigmoid(x),
            lambda rng: [Sample((randn(rng, 3, 4) * 5,)),
                         Sample((np.array(-30.0, FLOAT32),), desc="0-d, far negative")]),
        row("glu", lambda lib, x, *a: F(lib).glu(x, *a),
            lambda rng: [Sample((randn(rng, 3, 4),)), Sample((randn(rng, 4, 3), 0), desc="dim 0"),
                         Sample((randn(rng, 2, 6, 2), 1), desc="3-D, dim 1")],
            keywords=("nn.functional.glu", "input", "dim"),
            error_inputs=[err((np.ones((2, 3)),), RuntimeError,
                              "Halving dimension must be even, but dimension 1 is size 3")]),
        row("hardshrink", lambda lib, x, *a: F(lib).hardshrink(x, *a),
            lambda rng: [Sample((away_from(rng, [-0.5, 0.5], 3, 4),)),
                         Sample((away_from(rng, [-1, 1], 5), 1.0), desc="lambd 1")]),
        row("softshrink", lambda lib, x, *a: F(lib).softshrink(x, *a),
            lambda rng: [Sample((away_from(rng, [-0.5, 0.5], 3, 4),)),
                         Sample((away_from(rng, [-1, 1], 5), 1.0), desc="lambd 1")],
            error_inputs=[err((np.ones(2, FLOAT32), -1.0), RuntimeError,
                              "lambda must be in range [0, 3.40282e+38] for input dtype Float, "
                              "but found -1")]),
        row("prelu", lambda lib, x, w: F(lib).prelu(x, w),
            lambda rng: [Sample((away_from(rng, [0], 2, 3, 4), positive(rng, 3)),
                                desc="per channel"),
                         Sample((away_from(rng, [0], 2, 3), positive(rng, 1)), desc="shared"),
                         Sample((away_from(rng, [0], 5), positive(rng, 1)), desc="1-D")],
            keywords=("nn.functional.prelu", "input", "weight"),
            error_inputs=[err((np.ones((2, 3)), np.ones(2)), RuntimeError,
                              "Mismatch of parameter numbers and input channel size. Found "
                              "parameter numbers = 2 and channel size = 3.")]),
        row("softsign", lambda lib, x: F(lib).softsign(x), unary()),
        row("tanhshrink", lambda lib, x: F(lib).tanhshrink(x), unary()),
        row("softmin", lambda lib, x, d: F(lib).softmin(x, d),
            lambda rng: [Sample((randn(rng, 3, 4), 1)), Sample((randn(rng, 2, 3, 4), 0))]),
        # ---- losses
        row("smooth_l1_loss", lambda lib, x, y, **kw: F(lib).smooth_l1_loss(x, y, **kw),
            lambda rng: [Sample((away_from(rng, [-1, 1], 3, 4), np.zeros((3, 4), FLOAT32))),
                         Sample((randn(rng, 3, 4), randn(rng, 3, 4)),
                                {"beta": 0.5, "reduction": "sum"}, desc="beta, sum, target grad"),
                         Sample((randn(rng, 5), randn(rng, 5)), {"reduction": "none"},
                                desc="none", grad=(0,)),
                         Sample((randn(rng, 3, 4), randn(rng, 3, 4)), {"beta": 0.0},
                                desc="beta 0 is l1", grad=(0,)),
                         Sample((np.array(0.3, FLOAT32), np.array(-2.0, FLOAT32)), desc="0-d")],
            gradcheck=False,  # random differences may sit on the kinks at +-beta
            keywords=("nn.functional.smooth_l1_loss", "input", "target"),
            error_inputs=[err((np.ones(2, FLOAT32), np.ones(2, FLOAT32)), RuntimeError,
                              "smooth_l1_loss does not support negative values for beta.",
                              {"beta": -1.0})]),
        row("huber_loss", lambda lib, x, y, **kw: F(lib).huber_loss(x, y, **kw),
            lambda rng: [Sample((away_from(rng, [-1, 1], 3, 4), np.zeros((3, 4), FLOAT32))),
                         Sample((away_from(rng, [-0.5, 0.5], 3, 4), np.zeros((3, 4), FLOAT32)),
                                {"delta": 0.5, "reduction": "sum"}, desc="delta, sum"),
                         Sample((away_from(rng, [-1, 1], 5), np.zeros(5, FLOAT32)),
                                {"reduction": "none"}, desc="none"),
                         Sample((away_from(rng, [-1, 1], 2, 3), np.zeros((2, 3), FLOAT32)),
                                {"weight": positive(rng, 2, 3)}, desc="weight", grad=(0,))],
            keywords=("nn.functional.huber_loss", "input", "target")),
        row("soft_margin_loss", lambda lib, x, y, **kw: F(lib).soft_margin_loss(x, y, **kw),
            lambda rng: [Sample((randn(rng, 3, 4), np.sign(randn(rng, 3, 4))), grad=(0,)),
                         Sample((randn(rng, 5), np.sign(randn(rng, 5))), {"reduction": "none"},
                                desc="none", grad=(0,))],
            keywords=("nn.functional.soft_margin_loss", "input", "target")),
        row("multi_margin_loss", lambda lib, x, t, **kw: F(lib).multi_margin_loss(x, t, **kw),
            lambda rng: [Sample((distinct(rng, 4, 5) * 0.1, rng.integers(0, 5, 4))),
                         Sample((distinct(rng, 4, 5) * 0.1, rng.integers(0, 5, 4)),
                                {"p": 2, "margin": 0.5, "weight": positive(rng, 5),
                                 "reduction": "sum"}, desc="p 2, weight, sum", grad=(0,)),
                         Sample((distinct(rng, 3, 4) * 0.1, rng.integers(0, 4, 3)),
                                {"reduction": "none"}, desc="none"),
                         Sample((distinct(rng, 5) * 0.1, np.array(2)), desc="1-D")],
            keywords=("nn.functional.multi_margin_loss", "input", "target"),
            error_inputs=[err((np.ones((2, 3), FLOAT32), np.array([0, 1])), ValueError,
                              "only p == 1 and p == 2 supported", {"p": 3})]),
        row("kl_div", lambda lib, x, y, **kw: F(lib).kl_div(x, y, **kw),
            lambda rng: [Sample((randn(rng, 3, 4), probabilities(rng, 3, 4)),
                                {"reduction": "batchmean"}, grad=(0,)),
                         Sample((randn(rng, 3, 4), np.where(randn(rng, 3, 4) > 0, 0.5, 0.0)
                                 .astype(FLOAT32)), {"reduction": "sum"},
                                desc="zeros in the target", grad=(0,)),
                         Sample((randn(rng, 3, 4), randn(rng, 3, 4)),
                                {"reduction": "none", "log_target": True}, desc="log target")],
            check_grad_fn_name=False,
            keywords=("nn.functional.kl_div", "input", "target"),
            error_inputs=[err((np.ones(2, FLOAT32), np.ones(2, FLOAT32)), ValueError,
                              "average is not a valid value for reduction",
                              {"reduction": "average"})]),
        row("margin_ranking_loss",
            lambda lib, a, b, t, **kw: F(lib).margin_ranking_loss(a, b, t, **kw),
            lambda rng: [Sample((randn(rng, 6), randn(rng, 6), np.sign(randn(rng, 6))),
                                {"margin": 0.1}, grad=(0, 1))],
            keywords=("nn.functional.margin_ranking_loss", "input1", "input2", "target")),
        row("hinge_embedding_loss", lambda lib, x, t, **kw: F(lib).hinge_embedding_loss(x, t,
                                                                                        **kw),
            lambda rng: [Sample((away_from(rng, [1.0], 3, 4), np.sign(randn(rng, 3, 4))),
                                grad=(0,))],
            keywords=("nn.functional.hinge_embedding_loss", "input", "target")),
        row("cosine_embedding_loss",
            lambda lib, a, b, t, **kw: F(lib).cosine_embedding_loss(a, b, t, **kw),
            lambda rng: [Sample((randn(rng, 4, 5), randn(rng, 4, 5), np.sign(randn(rng, 4))),
                                {"margin": -0.5}, grad=(0, 1))],
            keywords=("nn.functional.cosine_embedding_loss", "input1", "input2", "target")),
        row("triplet_margin_loss",
            lambda lib, a, pos, neg, **kw: F(lib).triplet_margin_loss(a, pos, neg, **kw),
            lambda rng: [Sample((randn(rng, 4, 5), randn(rng, 4, 5), randn(rng, 4, 5)),
                                {"margin": 2.0}),
                         Sample((randn(rng, 4, 5), randn(rng, 4, 5), randn(rng, 4, 5)),
                                {"swap": True, "p": 1.0, "margin": 3.0}, desc="swap, p 1")],
            check_grad_fn_name=False,
            keywords=("nn.functional.triplet_margin_loss", "anchor", "positive", "negative"),
            error_inputs=[err((np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3))), ValueError,
                              "margin must be greater than 0, got 0.0", {"margin": 0.0})]),
        row("poisson_nll_loss", lambda lib, x, y, **kw: F(lib).poisson_nll_loss(x, y, **kw),
            lambda rng: [Sample((randn(rng, 3, 4), positive(rng, 3, 4) * 2), grad=(0,)),
                         Sample((positive(rng, 3, 4), positive(rng, 3, 4) * 2),
                                {"log_input": False, "full": True, "reduction": "sum"},
                                desc="rates, full, sum", grad=(0,))],
            keywords=("nn.functional.poisson_nll_loss", "input", "target")),
        row("gaussian_nll_loss",
            lambda lib, x, y, v, **kw: F(lib).gaussian_nll_loss(x, y, v, **kw),
            lambda rng: [Sample((randn(rng, 3, 4), randn(rng, 3, 4), positive(rng, 3, 4))),
                         Sample((randn(rng, 3, 4), randn(rng, 3, 4), positive(rng, 3)),
                                {"full": True, "reduction": "sum"}, desc="per sample, full"),
                         Sample((randn(rng, 3, 4), randn(rng, 3, 4), positive(rng, 3, 1)),
                                {"reduction": "none"}, desc="shared")],
            check_grad_fn_name=False,
            keywords=("nn.functional.gaussian_nll_loss", "input", "target", "var"),
            error_inputs=[err((np.ones((2, 3)), np.ones((2, 3)), np.ones((3, 2))), ValueError,
                              "var is of incorrect size")]),
        row("multilabel_soft_margin_loss",
            lambda lib, x, y, **kw: F(lib).multilabel_soft_margin_loss(x, y, **kw),
            lambda rng: [Sample((randn(rng, 3, 4), (randn(rng, 3, 4) > 0).astype(FLOAT32)),
                                grad=(0,)),
                         Sample((randn(rng, 3, 4), (randn(rng, 3, 4) > 0).astype(FLOAT32)),
                                {"weight": positive(rng, 4), "reduction": "none"},
                                desc="weight, none", grad=(0,))],
            keywords=("nn.functional.multilabel_soft_margin_loss", "input", "target")),
        row("pairwise_distance", lambda lib, a, b, **kw: F(lib).pairwise_distance(a, b, **kw),
            lambda rng: [Sample((randn(rng, 4, 5), randn(rng, 4, 5))),
                         Sample((randn(rng, 4, 5), randn(rng, 5)), {"p": 1.0, "keepdim": True},
                                desc="broadcast, p 1, keepdim")],
            check_grad_fn_name=False),  # PyTorch's node is NormBackward1, ember's norm's another
        row("cosine_similarity", lambda lib, a, b, **kw: F(lib).cosine_similarity(a, b, **kw),
            lambda rng: [Sample((randn(rng, 4, 5), randn(rng, 4, 5))),
                         Sample((randn(rng, 4, 5), randn(rng, 1, 5)), {"dim": -1},
                                desc="broadcast, last dim"),
                         Sample((np.zeros((2, 3), FLOAT32), randn(rng, 2, 3)),
                                desc="a zero vector", grad=(1,))]),
        # ---- convolutions
        row("conv1d", lambda lib, x, w, b, **kw: F(lib).conv1d(x, w, b, **kw),
            lambda rng: [Sample((randn(rng, 2, 3, 8), randn(rng, 4, 3, 3), randn(rng, 4)),
                                desc="bias"),
                         Sample((randn(rng, 1, 4, 9), randn(rng, 6, 2, 3), None),
                                {"stride": 2, "padding": 1, "dilation": 2, "groups": 2},
                                desc="stride, padding, dilation, groups"),
                         Sample((randn(rng, 2, 3, 7), randn(rng, 2, 3, 4), randn(rng, 2)),
                                {"padding": "same"}, desc="same, even kernel"),
                         Sample((randn(rng, 3, 6), randn(rng, 2, 3, 2), None),
                                desc="unbatched")],
            keywords=("nn.functional.conv1d", "input", "weight", "bias"),
            error_inputs=[err((np.ones((1, 3, 5)), np.ones((4, 2, 3)), None), RuntimeError,
                              "Given groups=1, weight of size [4, 2, 3], expected input[1, 3, 5] "
                              "to have 2 channels, but got 3 channels instead"),
                          err((np.ones((1, 2, 2)), np.ones((4, 2, 3)), None), RuntimeError,
                              "Calculated padded input size per channel: (2). Kernel size: (3). "
                              "Kernel size can't be greater than actual input size"),
                          err((np.ones((1, 2, 2, 3)), np.ones((4, 2, 3)), None), RuntimeError,
                              "Expected 2D (unbatched) or 3D (batched) input to conv1d, but got "
                              "input of size: [1, 2, 2, 3]")]),
        row("conv_transpose2d",
            lambda lib, x, w, b, **kw: F(lib).conv_transpose2d(x, w, b, **kw),
            lambda rng: [Sample((randn(rng, 2, 3, 4, 4), randn(rng, 3, 2, 3, 3), randn(rng, 2)),
                                desc="bias"),
                         Sample((randn(rng, 1, 4, 3, 5), randn(rng, 4, 3, 4, 4), None),
                                {"stride": 2, "padding": 1}, desc="DCGAN upsampling"),
                         Sample((randn(rng, 1, 4, 3, 4), randn(rng, 4, 1, 3, 2), randn(rng, 2)),
                                {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2),
                                 "groups": 2, "dilation": (2, 1)},
                                desc="output_padding, groups, dilation"),
                         Sample((randn(rng, 2, 3, 3), randn(rng, 2, 2, 2, 2), None),
                                desc="unbatched")],
            keywords=("nn.functional.conv_transpose2d", "input", "weight", "bias"),
            error_inputs=[err((np.ones((1, 3, 5, 5)), np.ones((4, 2, 3, 3)), None),
                              RuntimeError, "Given transposed=1, weight of size [4, 2, 3, 3], "
                              "expected input[1, 3, 5, 5] to have 4 channels, but got 3 "
                              "channels instead"),
                          err((np.ones((1, 4, 5, 5)), np.ones((4, 2, 3, 3)), None),
                              RuntimeError, "output padding must be smaller than either stride "
                              "or dilation, but got output_padding_height: 1 "
                              "output_padding_width: 1 stride_height: 1 stride_width: 1 "
                              "dilation_height: 1 dilation_width: 1", {"output_padding": 1}),
                          err((np.ones((1, 4, 2, 2)), np.ones((4, 2, 3, 3)), None),
                              RuntimeError, "Given input size per channel: (2 x 2). Calculated "
                              "output size per channel: (-2 x -2). Output size is too small",
                              {"padding": 3})]),
        row("unfold", lambda lib, x, *a, **kw: F(lib).unfold(x, *a, **kw),
            lambda rng: [Sample((randn(rng, 2, 3, 5, 6), (2, 3)), {"dilation": (1, 2),
                                                                   "padding": 1,
                                                                   "stride": (2, 1)},
                                desc="options"),
                         Sample((randn(rng, 3, 4, 4), 2), desc="unbatched")],
            keywords=("nn.functional.unfold", "input", "kernel_size"),
            error_inputs=[err((np.ones((1, 3, 1, 1)), 2), RuntimeError,
                              "Given input with spatial size (1, 1), kernel_size=(2, 2), "
                              "dilation=(1, 1), padding=(0, 0), calculated shape of the array of "
                              "sliding blocks as (0, 0), but its components must be at least "
                              "one.")]),
        row("fold", lambda lib, x, *a, **kw: F(lib).fold(x, *a, **kw),
            lambda rng: [Sample((randn(rng, 2, 18, 12), (5, 6), (2, 3)),
                                {"dilation": (1, 2), "padding": 1, "stride": (2, 1)},
                                desc="options"),
                         Sample((randn(rng, 12, 16), (5, 5), 2), desc="unbatched")],
            keywords=("nn.functional.fold", "input", "output_size", "kernel_size"),
            error_inputs=[err((np.ones((1, 12, 5)), (4, 5), 2), RuntimeError,
                              "Given output_size=(4, 5), kernel_size=(2, 2), dilation=(1, 1), "
                              "padding=(0, 0), stride=(1, 1), expected size of input's "
                              "dimension 2 to match the calculated number of sliding blocks 3 * "
                              "4 = 12, but got input.size(2)=5."),
                          err((np.ones((1, 10, 12)), (4, 5), 2), RuntimeError,
                              "Expected size of input's dimension 1 to be divisible by the "
                              "product of kernel_size, but got input.size(1)=10 and "
                              "kernel_size=(2, 2).")]),
        row("conv_transpose1d",
            lambda lib, x, w, b, **kw: F(lib).conv_transpose1d(x, w, b, **kw),
            lambda rng: [Sample((randn(rng, 2, 3, 5), randn(rng, 3, 2, 3), randn(rng, 2)),
                                desc="bias"),
                         Sample((randn(rng, 1, 4, 6), randn(rng, 4, 1, 3), randn(rng, 2)),
                                {"stride": 3, "padding": 2, "output_padding": 1, "groups": 2},
                                desc="stride, padding, output_padding, groups"),
                         Sample((randn(rng, 2, 5), randn(rng, 2, 3, 2), None),
                                desc="unbatched")],
            keywords=("nn.functional.conv_transpose1d", "input", "weight", "bias")),
        # ---- pooling and resampling
        row("adaptive_max_pool2d", lambda lib, x, s, **kw: F(lib).adaptive_max_pool2d(x, s,
                                                                                      **kw),
            lambda rng: [Sample((distinct(rng, 1, 2, 6, 6), 3), desc="divides"),
                         Sample((distinct(rng, 2, 1, 5, 7), (3, 2)), desc="overlapping windows"),
                         Sample((distinct(rng, 2, 4, 4), (None, 1)), desc="unbatched, None")],
            keywords=("nn.functional.adaptive_max_pool2d", "input", "output_size"),
            error_inputs=[err((np.ones((2, 3)), 2), RuntimeError,
                              "adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: "
                              "[2, 3]")]),
        row("adaptive_max_pool2d_indices",
            lambda lib, x, s: F(lib).adaptive_max_pool2d(x, s, return_indices=True),
            lambda rng: [Sample((distinct(rng, 1, 2, 5, 7), (2, 3)))],
            attribute="adaptive_max_pool2d"),
        row("max_unpool2d", lambda lib, x, i, *a, **kw: F(lib).max_unpool2d(x, i, *a, **kw),
            lambda rng: [Sample((randn(rng, 2, 3, 2, 3),  # a 4x6 output: 24 places a plane
                                 np.stack([rng.permutation(24)[:6] for _ in range(6)])
                                 .reshape(2, 3, 2, 3), 2), desc="default size"),
                         Sample((randn(rng, 3, 2, 2), np.array([[[0, 3], [5, 9]]] * 3),
                                 2), {"output_size": (5, 5)}, desc="unbatched, output_size")],
            keywords=("nn.functional.max_unpool2d", "input", "indices", "kernel_size"),
            error_inputs=[err((np.ones((1, 1, 2, 2), FLOAT32), np.array([[[[0, 1], [2, 18]]]]),
                               2), RuntimeError, "Found an invalid max index: 18 (output "
                                                 "volumes are of size 4x4)"),
                          err((np.ones((1, 1, 2, 2), FLOAT32), np.zeros((1, 1, 2, 2)), 2),
                              RuntimeError, "elements in indices should be type int64 but got: "
                                            "Double")]),
        row("max_unpool1d", lambda lib, x, i, *a: F(lib).max_unpool1d(x, i, *a),
            lambda rng: [Sample((randn(rng, 2, 3, 3), np.tile(np.array([1, 2, 5]), (2, 3, 1)),
                                 2))]),
        row("max_pool1d", lambda lib, x, *a, **kw: F(lib).max_pool1d(x, *a, **kw),
            lambda rng: [Sample((distinct(rng, 2, 3, 8), 2), desc="2"),
                         Sample((distinct(rng, 3, 9), 3), {"stride": 2, "padding": 1,
                                                         "dilation": 2, "ceil_mode": True},
                                desc="unbatched, options")],
            error_inputs=[err((np.ones((2, 3, 4, 5)), 2), RuntimeError,
                              "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 "
                              "dim batch size for input, but got:[2, 3, 4, 5]")]),
        row("avg_pool1d", lambda lib, x, *a, **kw: F(lib).avg_pool1d(x, *a, **kw),
            lambda rng: [Sample((randn(rng, 2, 3, 8), 2)),
                         Sample((randn(rng, 3, 9), 3), {"stride": 2, "padding": 1,
                                                      "count_include_pad": False},
                                desc="unbatched, options")],
            keywords=("nn.functional.avg_pool1d", "input", "kernel_size")),
        row("adaptive_avg_pool1d", lambda lib, x, s: F(lib).adaptive_avg_pool1d(x, s),
            lambda rng: [Sample((randn(rng, 2, 3, 9), 4)), Sample((randn(rng, 3, 5), 5),
                                                                 desc="identity, unbatched")],
            keywords=("nn.functional.adaptive_avg_pool1d", "input", "output_size")),
        row("adaptive_max_pool1d", lambda lib, x, s: F(lib).adaptive_max_pool1d(x, s),
            lambda rng: [Sample((distinct(rng, 2, 3, 9), 4))]),
        row("interpolate_nearest", lambda lib, x, **kw: F(lib).interpolate(x, **kw),
            lambda rng: [Sample((randn(rng, 2, 3, 4, 5),), {"scale_factor": 2}, desc="x2"),
                         Sample((randn(rng, 1, 2, 5, 6),), {"size": (7, 4)}, desc="size"),
                         Sample((randn(rng, 1, 2, 5, 6),), {"scale_factor": (1.7, 0.6)},
                                desc="fractional scales"),
                         Sample((randn(rng, 2, 3, 7),), {"size": 12}, desc="1-D")],
            attribute="interpolate",
            error_inputs=[err((np.ones((1, 2, 3)),), ValueError,
                              "only one of size or scale_factor should be defined",
                              {"size": 3, "scale_factor": 2}),
                          err((np.ones((1, 2, 3)),), NotImplementedError,
                              "Got 3D input, but bilinear mode needs 4D input",
                              {"scale_factor": 2, "mode": "bilinear"}),
                          err((np.ones((1, 2, 3)),), ValueError,
                              "align_corners option can only be set with the interpolating "
                              "modes: linear | bilinear | bicubic | trilinear",
                              {"scale_factor": 2, "align_corners": True})]),
        row("interpolate_linear", lambda lib, x, **kw: F(lib).interpolate(x, **kw),
            lambda rng: [Sample((randn(rng, 2, 3, 4, 5),), {"scale_factor": 2,
                                                             "mode": "bilinear"}, desc="x2"),
                         Sample((randn(rng, 1, 2, 5, 6),), {"size": (3, 11), "mode": "bilinear",
                                                             "align_corners": True},
                                desc="align_corners, shrink"),
                         Sample((randn(rng, 1, 2, 5, 6),), {"scale_factor": 1.5,
                                                             "mode": "bilinear",
                                                             "recompute_scale_factor": True},
                                desc="recompute"),
                         Sample((randn(rng, 2, 3, 7),), {"scale_factor": 3, "mode": "linear"},
                                desc="1-D")],
            attribute="interpolate"),
        row("interpolate_bicubic", lambda lib, x, **kw: F(lib).interpolate(x, **kw),
            lambda rng: [Sample((randn(rng, 2, 3, 4, 5),), {"scale_factor": 2,
                                                             "mode": "bicubic"}, desc="x2"),
                         Sample((randn(rng, 1, 2, 5, 6),), {"size": (9, 4), "mode": "bicubic",
                                                             "align_corners": True},
                                desc="align_corners, shrink")],
            attribute="interpolate",
            error_inputs=[err((np.ones((2, 3)),), NotImplementedError,
                              "Input Error: Only 3D, 4D and 5D input Tensors supported (got 2D) "
                              "for the modes: nearest | linear | bilinear | bicubic | trilinear "
                              "| lanczos | area | nearest-exact (got bicubic)",
                              {"scale_factor": 2, "mode": "bicubic"})]),
        row("affine_grid", lambda lib, t, s, **kw: F(lib).affine_grid(t, s, **kw),
            lambda rng: [Sample((randn(rng, 2, 2, 3), (2, 3, 4, 5)), {"align_corners": False}),
                         Sample((randn(rng, 1, 2, 3), (1, 1, 3, 1)), {"align_corners": True},
                                desc="align_corners, width 1")],
            keywords=("nn.functional.affine_grid", "theta", "size"),
            error_inputs=[err((np.ones((2, 3, 3)), (2, 3, 4, 5)), ValueError,
                              "Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                              "(2, 3, 4, 5). Got ember.Size([2, 3, 3]).",
                              {"align_corners": False})]),
        row("grid_sample", lambda lib, x, g, **kw: F(lib).grid_sample(x, g, **kw),
            lambda rng: [Sample((randn(rng, 2, 3, 4, 5),
                                 rng.uniform(-1.2, 1.2, (2, 3, 6, 2)).astype(FLOAT32)),
                                {"align_corners": False}, desc="zeros"),
                         Sample((randn(rng, 1, 2, 4, 4),
                                 rng.uniform(-1.4, 1.4, (1, 5, 2, 2)).astype(FLOAT32)),
                                {"padding_mode": "border", "align_corners": True},
                                desc="border, align_corners"),
                         Sample((randn(rng, 1, 2, 3, 5),
                                 rng.uniform(-1.6, 1.6, (1, 4, 3, 2)).astype(FLOAT32)),
                                {"padding_mode": "reflection", "align_corners": False},
                                desc="reflection"),
                         Sample((randn(rng, 1, 2, 3, 5),
                                 rng.uniform(-1.0, 1.0, (1, 4, 3, 2)).astype(FLOAT32)),
                                {"mode": "nearest", "align_corners": False}, desc="nearest",
                                grad=(0,))],
            keywords=("nn.functional.grid_sample", "input", "grid"),
            error_inputs=[err((np.ones((1, 1, 2, 2)), np.zeros((1, 1, 1, 2))), ValueError,
                              "nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                              "'border', or 'reflection', but got: 'wrap'",
                              {"padding_mode": "wrap"})]),
        row("pixel_shuffle", lambda lib, x, r: F(lib).pixel_shuffle(x, r),
            lambda rng: [Sample((randn(rng, 2, 12, 3, 4), 2)), Sample((randn(rng, 9, 2, 3), 3),
                                                                     desc="unbatched")],
            error_inputs=[err((np.ones((1, 3, 2, 2)), 2), RuntimeError,
                              "pixel_shuffle expects its input's 'channel' dimension to be "
                              "divisible by the square of upscale_factor, but input.size(-3)=3 "
                              "is not divisible by 4")]),
        row("pixel_unshuffle", lambda lib, x, r: F(lib).pixel_unshuffle(x, r),
            lambda rng: [Sample((randn(rng, 2, 3, 4, 6), 2))],
            error_inputs=[err((np.ones((1, 3, 3, 2)), 2), RuntimeError,
                              "pixel_unshuffle expects height to be divisible by "
                              "downscale_factor, but input.size(-2)=3 is not divisible by 2")]),
        # ---- normalization and channel dropout
        row("group_norm", lambda lib, x, g, *wb, **kw: F(lib).group_norm(x, g, *wb, **kw),
            lambda rng: [Sample((randn(rng, 3, 4, 5, 2), 2, positive(rng, 4), randn(rng, 4)),
                                desc="affine"),
                         Sample((randn(rng, 2, 6, 5), 3), {"eps": 1e-3}, desc="no affine"),
                         Sample((randn(rng, 2, 4), 4, positive(rng, 4), None),
                                desc="2-D, a group per channel")],
            keywords=("nn.functional.group_norm", "input", "num_groups", "weight", "bias"),
            error_inputs=[err((np.ones((2, 3, 4)), 2), RuntimeError,
                              "Expected number of channels in input to be divisible by "
                              "num_groups, but got input of shape [2, 3, 4] and num_groups=2")]),
        row("instance_norm", lambda lib, x, *a, **kw: F(lib).instance_norm(x, *a, **kw),
            lambda rng: [Sample((randn(rng, 3, 4, 5),)),
                         Sample((randn(rng, 2, 3, 4, 4),), {"weight": positive(rng, 3),
                                                            "bias": randn(rng, 3)},
                                desc="affine")],
            keywords=("nn.functional.instance_norm", "input")),
        row("rms_norm", lambda lib, x, s, *w, **kw: F(lib).rms_norm(x, s, *w, **kw),
            lambda rng: [Sample((randn(rng, 3, 4, 5), (5,), positive(rng, 5))),
                         Sample((randn(rng, 3, 4, 5), (4, 5)), {"eps": 1e-3},
                                desc="two dims, eps")],
            keywords=("nn.functional.rms_norm", "input", "normalized_shape", "weight")),
        row("local_response_norm", lambda lib, x, n, **kw: F(lib).local_response_norm(x, n,
                                                                                      **kw),
            lambda rng: [Sample((randn(rng, 2, 5, 4, 3), 3)),
                         Sample((randn(rng, 2, 5, 4), 2), {"alpha": 1.0, "beta": 0.5, "k": 2.0},
                                desc="3-D, options")],
            keywords=("nn.functional.local_response_norm", "input", "size")),
        row("dropout2d_p1", lambda lib, x: F(lib).dropout2d(x, p=1.0),  # all zeros
            lambda rng: [Sample((randn(rng, 2, 3, 4, 4),))], check_grad_fn_name=False,
            attribute="dropout2d"),
        row("dropout1d_p1", lambda lib, x: F(lib).dropout1d(x, p=1.0),
            lambda rng: [Sample((randn(rng, 2, 3, 4),))], check_grad_fn_name=False,
            attribute="dropout1d"),
        row("normalize", lambda lib, x, **kw: F(lib).normalize(x, **kw),
            lambda rng: [Sample((randn(rng, 4, 5),)),
                         Sample((randn(rng, 2, 3, 4),), {"p": 1.0, "dim": -1}, desc="p 1")],
            keywords=("nn.functional.normalize", "input")),
    ]


def _attention_rows():
    """F.scaled_dot_product_attention: masks, causal, scale, GQA, dropout, broadcasting."""
    def sdpa(lib, *args, **kwargs):
        return lib.nn.functional.scaled_dot_product_attention(*args, **kwargs)

    def qkv(rng, batch, length, source, dim=4, value_dim=None, kv_batch=None):
        kv_batch = batch if kv_batch is None else kv_batch
        return (randn(rng, *batch, length, dim), randn(rng, *kv_batch, source, dim),
                randn(rng, *kv_batch, source, value_dim or dim))

    def samples(rng):
        none_for_row_1 = np.ones((3, 5), bool)
        none_for_row_1[1] = False
        return [
            Sample(qkv(rng, (2, 3), 3, 5), desc="4-D"),
            Sample(qkv(rng, (2, 2), 4, 4), {"is_causal": True}, desc="causal"),
            Sample(qkv(rng, (1, 2), 3, 5), {"is_causal": True}, desc="causal, L < S"),
            Sample(qkv(rng, (1, 2), 5, 3), {"is_causal": True}, desc="causal, L > S"),
            Sample(qkv(rng, (2, 2), 3, 5) + (rng.random((3, 5)) > 0.4,), desc="bool mask"),
            Sample(qkv(rng, (2, 2), 3, 5) + (none_for_row_1,), desc="fully masked row"),
            Sample(qkv(rng, (2, 2), 3, 5) + (randn(rng, 2, 1, 3, 5),), grad=(0, 1, 2),
                   desc="float mask"),
            Sample(qkv(rng, (2, 2), 3, 5) + (randn(rng, 2, 1, 5),), desc="float mask, grad"),
            Sample(qkv(rng, (1, 2), 3, 5) + (rng.random((3, 5)) > 0.4,), {"scale": 0.3},
                   desc="bool mask, scale"),
            Sample(qkv(rng, (2, 6), 3, 5, kv_batch=(2, 2)), {"enable_gqa": True}, desc="GQA"),
            Sample(qkv(rng, (3,), 3, 5, value_dim=6), desc="3-D, value dim 6"),
            Sample(qkv(rng, (4, 1), 3, 5, kv_batch=(4, 2)), desc="broadcast batch"),
            Sample(qkv(rng, (1, 2), 3, 5), {"dropout_p": 1.0}, desc="dropout 1"),
        ]

    return [OpInfo(
        "scaled_dot_product_attention", sdpa, samples,
        requires="nn.functional.scaled_dot_product_attention",
        keywords=("nn.functional.scaled_dot_product_attention", "query", "key", "value",
                  "attn_mask"),
        error_inputs=[
            err((np.ones((3,), FLOAT32), np.ones((1, 1, 5, 3), FLOAT32),
                 np.ones((1, 1, 5, 3), FLOAT32)), RuntimeError,
                "Expected query, key, and value to all be  at least 2 dimensional, but got "
                "query.dim: 1 key.dim: 4 and value.dim: 4 instead."),
            err((np.ones((1, 1, 2, 3), FLOAT32), np.ones((1, 1, 5, 3)),
                 np.ones((1, 1, 5, 3), FLOAT32)), RuntimeError,
                "Expected query, key, and value to have the same dtype, but got query.dtype: "
                "float key.dtype: double and value.dtype: float instead."),
            err((np.ones((1, 1, 2, 3), FLOAT32),) * 3 + (np.ones((2, 2), np.int64),),
                RuntimeError, "Expected attn_mask dtype to be bool or float or to match query "
                "dtype, but got attn_mask.dtype: long int and  query.dtype: float instead."),
            err((np.ones((1, 1, 2, 4), FLOAT32), np.ones((1, 1, 5, 3), FLOAT32),
                 np.ones((1, 1, 5, 3), FLOAT32)), RuntimeError,
                "Expected size for first two dimensions of batch2 tensor to be: [1, 4] but "
                "got: [1, 3]."),
            err((np.ones((2, 8, 2, 4), FLOAT32), np.ones((2, 3, 5, 4), FLOAT32),
                 np.ones((2, 3, 5, 4), FLOAT32)), RuntimeError,
                "The size of tensor a (8) must match the size of tensor b (3) at "
                "non-singleton dimension 1"),
            err((np.ones((2, 8, 2, 4), FLOAT32), np.ones((2, 3, 5, 4), FLOAT32),
                 np.ones((2, 3, 5, 4), FLOAT32)), RuntimeError,
                "Number of heads in key and value must divide the number of heads in ",
                {"enable_gqa": True}),
        ])]
def _recurrent_rows():
    """Embedding, the recurrent layers (one Function per layer and direction, called
    directly: PyTorch's reference is ``torch.lstm``/``gru``/``rnn_*`` with one layer) and the
    one-node cells (``torch.lstm_cell``/``gru_cell``)."""
    def embedding(lib, weight, indices, **kwargs):
        return lib.nn.functional.embedding(indices, weight, **kwargs)

    def embedding_samples(rng):
        indices = np.array([[1, 4, 1], [0, 5, 5]])
        return [
            Sample((randn(rng, 6, 3), indices), desc="2-D indices, repeats"),
            Sample((randn(rng, 6, 3), indices.astype(np.int32)), desc="int32"),
            Sample((randn(rng, 6, 3), np.array(2)), desc="0-d index"),
            Sample((randn(rng, 200, 2), np.array([3, 199, 3, 0])), desc="large vocabulary"),
        ]

    def embedding_rule_samples(rng):
        """Gradients that are PyTorch's rules rather than derivatives: no finite differences."""
        indices = np.array([[1, 4, 1], [0, 5, 5]])
        return [
            Sample((randn(rng, 6, 3), indices.astype(np.int32)), {"padding_idx": 5},
                   desc="int32, padding_idx"),
            Sample((randn(rng, 6, 3), indices), {"padding_idx": -1, "scale_grad_by_freq": True},
                   desc="negative padding_idx, scale_grad_by_freq"),
            Sample((randn(rng, 300, 2), np.array([3, 299, 3, 0])), {"padding_idx": 0,
                                                                   "scale_grad_by_freq": True},
                   desc="large vocabulary, both"),
        ]

    def layer_args(rng, gates, hidden=2, proj=0, bias=True, length=4, batch=2,
                   batch_sizes=None):
        """x (length, batch, 3), or packed (sum(batch_sizes), 3); the weights and biases (or
        None) of one layer; its batch and output sizes."""
        out = proj or hidden
        if batch_sizes is not None:
            x, batch = randn(rng, sum(batch_sizes), 3), batch_sizes[0]
        else:
            x = randn(rng, length, batch, 3)
        weights = (randn(rng, gates * hidden, 3) * 0.5, randn(rng, gates * hidden, out) * 0.5)
        biases = ((randn(rng, gates * hidden), randn(rng, gates * hidden)) if bias
                  else (None, None))
        return x, weights, biases, batch, out

    def lstm(lib, x, w_ih, w_hh, b_ih, b_hh, h0, c0, w_hr=None, batch_sizes=None,
             reverse=False):
        return lib.ops.rnn.LSTMLayer.apply(x, w_ih, w_hh, b_ih, b_hh, h0, c0, w_hr,
                                           batch_sizes, reverse)

    def lstm_samples(rng):
        samples = []
        for desc, kwargs, options in [
                ("padded", {}, {}), ("reverse", {}, {"reverse": True}),
                ("no bias", {"bias": False}, {}),
                ("packed", {"batch_sizes": (3, 2, 2, 1)}, {"batch_sizes": (3, 2, 2, 1)}),
                ("packed, reverse", {"batch_sizes": (3, 1)},
                 {"batch_sizes": (3, 1), "reverse": True}),
                ("one step, batch 1", {"length": 1, "batch": 1}, {})]:
            x, weights, biases, batch, out = layer_args(rng, 4, **kwargs)
            samples.append(Sample((x, *weights, *biases, randn(rng, batch, out),
                                   randn(rng, batch, 2)), options, desc=desc))
        x, weights, biases, batch, out = layer_args(rng, 4, proj=1)
        samples.append(Sample((x, *weights, *biases, randn(rng, batch, 1), randn(rng, batch, 2),
                               randn(rng, 1, 2)), desc="proj_size 1"))
        return samples

    def reverse_packed(torch, data, batch_sizes):
        """Each packed sequence reversed in time (its own inverse)."""
        packed = torch.nn.utils.rnn.PackedSequence(data, torch.tensor(batch_sizes))
        padded, lengths = torch.nn.utils.rnn.pad_packed_sequence(packed)
        steps = torch.arange(padded.shape[0])[:, None]
        index = torch.where(steps < lengths, lengths - 1 - steps, steps)
        index = index[..., None].expand(padded.shape)
        return torch.nn.utils.rnn.pack_padded_sequence(padded.gather(0, index), lengths).data

    def torch_layer(torch, name, x, params, has_biases, states, batch_sizes, reverse):
        """PyTorch's one-layer op (``torch.lstm``...) in one direction, states unstacked."""
        hx = tuple(state[None] for state in states) if name == "lstm" else states[0][None]
        if batch_sizes is None:
            def flip(value):
                return value.flip(0)
        else:
            def flip(value):
                return reverse_packed(torch, value, batch_sizes)
        x = flip(x) if reverse else x
        if batch_sizes is not None:
            result = getattr(torch, name)(x, torch.tensor(batch_sizes), hx, params, has_biases,
                                          1, 0.0, False, False)
        else:
            result = getattr(torch, name)(x, hx, params, has_biases, 1, 0.0, False, False,
                                          False)
        return (flip(result[0]) if reverse else result[0], *(s[0] for s in result[1:]))

    def lstm_torch(torch, x, w_ih, w_hh, b_ih, b_hh, h0, c0, w_hr=None, batch_sizes=None,
                   reverse=False):
        params = [w for w in (w_ih, w_hh, b_ih, b_hh, w_hr) if w is not None]
        return torch_layer(torch, "lstm", x, params, b_ih is not None, (h0, c0), batch_sizes,
                           reverse)

    def single_state(name):
        def call(lib, x, w_ih, w_hh, b_ih, b_hh, h0, batch_sizes=None, reverse=False):
            if lib.__name__ == "torch":
                params = [w for w in (w_ih, w_hh, b_ih, b_hh) if w is not None]
                return torch_layer(lib, name, x, params, b_ih is not None, (h0,), batch_sizes,
                                   reverse)
            if name == "gru":
                return lib.ops.rnn.GRULayer.apply(x, w_ih, w_hh, b_ih, b_hh, h0, batch_sizes,
                                                  reverse)
            return lib.ops.rnn.RNNLayer.apply(x, w_ih, w_hh, b_ih, b_hh, h0, name[4:],
                                              batch_sizes, reverse)
        return call

    def single_state_samples(gates):
        def samples(rng):
            result = []
            for desc, kwargs, options in [
                    ("padded", {}, {}), ("reverse", {}, {"reverse": True}),
                    ("no bias", {"bias": False}, {}),
                    ("packed", {"batch_sizes": (3, 2, 2, 1)},
                     {"batch_sizes": (3, 2, 2, 1)}),
                    ("packed, reverse", {"batch_sizes": (3, 1)},
                     {"batch_sizes": (3, 1), "reverse": True}),
                    ("one step, batch 1", {"length": 1, "batch": 1}, {})]:
                x, weights, biases, batch, out = layer_args(rng, gates, **kwargs)
                result.append(Sample((x, *weights, *biases, randn(rng, batch, out)), options,
                                     desc=desc))
            return result
        return samples

    def relu_samples(rng):
        # away from relu's kink, for the finite differences: positive weights and inputs
        samples = single_state_samples(1)(rng)
        for sample in samples:
            sample.args = tuple(np.abs(a) + 0.1 if isinstance(a, np.ndarray) else a
                                for a in sample.args)
        return samples

    def cell(name):
        def call(lib, x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
            namespace = lib if lib.__name__ == "torch" else lib.ops.rnn
            hx = (h, c) if name == "lstm_cell" else h
            return getattr(namespace, name)(x, hx, w_ih, w_hh, b_ih, b_hh)
        return call

    def cell_samples(gates):
        def samples(rng):
            def args(batch, bias=True):
                weights = (randn(rng, gates * 3, 2), randn(rng, gates * 3, 3))
                biases = (randn(rng, gates * 3), randn(rng, gates * 3)) if bias else ()
                return (randn(rng, batch, 2), randn(rng, batch, 3), randn(rng, batch, 3),
                        *weights, *biases)
            return [Sample(args(4), desc="batch 4"), Sample(args(1, bias=False),
                                                             desc="no bias")]
        return samples

    def gru_cell(lib, x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
        # c is unused: the samples are shared with lstm_cell's
        namespace = lib if lib.__name__ == "torch" else lib.ops.rnn
        return namespace.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)

    def gru_cell_samples(rng):
        samples = cell_samples(3)(rng)
        for sample in samples:
            sample.grad = tuple(i for i in range(len(sample.args)) if i != 2)
        return samples

    tol = {"atol": 1e-5, "grad_atol": 1e-4}
    return [
        OpInfo("nn.functional.embedding", embedding, embedding_samples,
               keywords=("nn.functional.embedding", "weight", "input"),
               error_inputs=[
                   err((np.ones((4, 2)), np.array([4])), IndexError,
                       "index out of range in self"),
                   err((np.ones((4, 2)), np.array([-1])), IndexError,
                       "index out of range in self"),
                   err((np.ones((4, 2)), np.array([1.0], np.float32)), RuntimeError,
                       "Expected tensor for argument #1 'indices' to have one of the following "
                       "scalar types: Long, Int; but got ember.FloatTensor instead (while "
                       "checking arguments for embedding)"),
                   err((np.ones(4), np.array([1])), RuntimeError, "'weight' must be 2-D")]),
        OpInfo("nn.functional.embedding_grad_rules", embedding, embedding_rule_samples,
               gradcheck=False),
        OpInfo("lstm_layer", lstm, lstm_samples, torch_fn=lstm_torch,
               check_grad_fn_name=False, **tol),
        OpInfo("gru_layer", single_state("gru"), single_state_samples(3),
               check_grad_fn_name=False, **tol),
        OpInfo("rnn_tanh_layer", single_state("rnn_tanh"), single_state_samples(1),
               check_grad_fn_name=False, **tol),
        OpInfo("rnn_relu_layer", single_state("rnn_relu"), relu_samples,
               check_grad_fn_name=False, **tol),
        OpInfo("lstm_cell", cell("lstm_cell"), cell_samples(4), check_grad_fn_name=False,
               **tol),
        OpInfo("gru_cell", gru_cell, gru_cell_samples, check_grad_fn_name=False, **tol),
    ]


# ---- the ops that public PyTorch programs use beyond the core (issue 10) --------------------

_EDGE_SHAPES = ((2, 3), (4,), (), (0,))  # 0-d and empty samples with the usual ones


def _more_elementwise_rows():
    """The unary math family (trigonometric, hyperbolic, error functions), binary math,
    shifts and logical ops, clamp with tensor bounds, and the in-place forms."""
    def uniform(low, high):
        return lambda rng, *shape: np.asarray(rng.uniform(low, high, shape), FLOAT32)

    def nonzero(rng, *shape):
        return away_from(rng, [0], *shape, gap=0.2)

    unary_domains = {
        "tan": uniform(-1.2, 1.2), "asin": uniform(-0.9, 0.9), "acos": uniform(-0.9, 0.9),
        "atan": randn, "sinh": randn, "cosh": randn, "asinh": randn,
        "acosh": uniform(1.2, 3.0), "atanh": uniform(-0.9, 0.9), "exp2": randn,
        "sinc": nonzero, "erf": randn, "erfc": randn, "erfinv": uniform(-0.9, 0.9),
        "frac": lambda rng, *shape: np.asarray(away_from(rng, [0], *shape) * 2.5 + 0.1, FLOAT32),
    }
    rows = []
    for name, make in unary_domains.items():
        rows.append(OpInfo(name, lambda lib, a, _n=name: getattr(lib, _n)(a),
                           unary(_EDGE_SHAPES, make=make), method=name, inplace=f"{name}_",
                           keywords=(name, "input")))
    aliases = {"arcsin": uniform(-0.9, 0.9), "arccos": uniform(-0.9, 0.9), "arctan": randn,
               "arcsinh": randn, "arccosh": uniform(1.2, 3.0), "arctanh": uniform(-0.9, 0.9)}
    for name, make in aliases.items():
        rows.append(OpInfo(name, lambda lib, a, _n=name: getattr(lib, _n)(a),
                           unary(make=make), method=name, inplace=f"{name}_"))

    def integer_inputs(rng):
        return [Sample((np.array([0, 1, -1], np.int64),), desc="int64"),
                Sample((np.array(1, np.int32),), desc="0-d int32"),
                Sample((np.zeros(0, np.int64),), desc="empty")]

    rows += [
        OpInfo("unary_math_int", lambda lib, a: (lib.tan(a), lib.asin(a), lib.atan(a),
                                                 lib.sinh(a), lib.erf(a), lib.erfc(a),
                                                 lib.exp2(a), lib.sinc(a), lib.trunc(a),
                                                 lib.sgn(a)),
               integer_inputs, differentiable=False),
        OpInfo("erf_tails", lambda lib, a: (lib.erf(a), lib.erfc(a)),
               lambda rng: [Sample((np.array([-30.0, -6.0, -0.5, 0.0, 0.5, 6.0, 30.0],
                                             FLOAT32),)),
                            Sample((np.array([1e-30, -1e-8, 0.4999, 0.5001], np.float64),),
                                   desc="tiny, near the switch, float64")],
               gradcheck=False),
        OpInfo("erfinv_edges", lambda lib, a: lib.erfinv(a),
               lambda rng: [Sample((np.array([-1.0, 1.0, 0.0, 0.999, -0.99999, 1.5],
                                             FLOAT32),))], differentiable=False),
        OpInfo("sinc_at_zero", lambda lib, a: lib.sinc(a),
               lambda rng: [Sample((np.array([0.0, 1.0, -2.0, 0.25], FLOAT32),))],
               gradcheck=False),
        OpInfo("trunc", lambda lib, a: lib.trunc(a), unary(_EDGE_SHAPES),
               method="trunc", inplace="trunc_", keywords=("trunc", "input"),
               error_inputs=[err((np.array([True]),), NotImplementedError,
                                 "\"trunc_vml_cpu\" not implemented for 'Bool'")]),
        OpInfo("fix", lambda lib, a: lib.fix(a), unary(), method="fix", inplace="fix_"),
        OpInfo("sgn", lambda lib, a: lib.sgn(a), unary(_EDGE_SHAPES), differentiable=False,
               method="sgn", inplace="sgn_", keywords=("sgn", "input")),
        # PyTorch's gradient of sgn is a ZeroTensor, which has no NumPy form: times a, it has.
        OpInfo("sgn_grad", lambda lib, a: lib.sgn(a) * a, unary(), gradcheck=False),
        OpInfo("frac_errors", lambda lib, a: lib.frac(a), unary(),
               error_inputs=[err((np.array([1, 2]),), NotImplementedError,
                                 "\"frac_cpu\" not implemented for 'Long'")]),
    ]
    for name in ("cos", "sin", "log", "log2", "log10", "log1p", "expm1", "rsqrt", "reciprocal",
                 "floor", "ceil", "round", "sign"):
        rows.append(OpInfo(f"{name}_", lambda lib, a, _n=name: getattr(a * 1, _n + "_")(),
                           unary(make=positive), gradcheck=name not in ("round", "sign"),
                           inplace=f"{name}_"))
    rows += [
        OpInfo("square_", lambda lib, a: (a * 1).square_(), unary(), inplace="square_"),
        OpInfo("round_decimals_", lambda lib, a: (a * 1).round_(decimals=1), unary()),
        OpInfo("logical_not_", lambda lib, a: a.clone().logical_not_(),
               lambda rng: [Sample((np.array([0, 3, -1]),))], differentiable=False),
    ]

    def binary_float(make_b=randn):
        def samples(rng):
            return binary_samples(make_b)(rng) + [
                Sample((np.zeros(0, FLOAT32), make_b(rng, 1)), desc="empty"),
                Sample((np.array([1, 2]), np.array([2.0, 0.5], FLOAT32)), desc="int64, float",
                       grad=(1,))]
        return samples

    rows += [
        OpInfo("atan2", lambda lib, a, b: lib.atan2(a, b), binary_float(nonzero),
               method="atan2", inplace="atan2_", keywords=("atan2", "input", "other")),
        OpInfo("arctan2", lambda lib, a, b: lib.arctan2(a, b), binary_samples(nonzero),
               method="arctan2", inplace="arctan2_"),
        OpInfo("atan2_int", lambda lib, a, b: lib.atan2(a, b),
               lambda rng: [Sample((np.array([3, -1]), np.array([4, 2])))],
               differentiable=False),
        OpInfo("hypot", lambda lib, a, b: lib.hypot(a, b), binary_float(nonzero),
               method="hypot", inplace="hypot_", keywords=("hypot", "input", "other"),
               error_inputs=[err((np.array([3]), np.array([4])), NotImplementedError,
                                 "\"hypot_cpu\" not implemented for 'Long'"),
                             err((np.ones(2), 2), TypeError, "hypot(): argument 'other' "
                                 "(position 2) must be Tensor, not int")]),
        OpInfo("logaddexp", lambda lib, a, b: lib.logaddexp(a, b), binary_float(),
               method="logaddexp", keywords=("logaddexp", "input", "other"),
               error_inputs=[err((np.array([3]), np.array([4])), NotImplementedError,
                                 "\"logaddexp_cpu\" not implemented for 'Long'")]),
        OpInfo("logaddexp_large", lambda lib, a, b: lib.logaddexp(a, b),
               lambda rng: [Sample((np.array([1000.0, -1000.0, 0.0], FLOAT32),
                                    np.array([1000.0, -1000.0, -50.0], FLOAT32)))]),
        OpInfo("fmod", lambda lib, a, b: lib.fmod(a, b),
               lambda rng: [Sample((randn(rng, 2, 3) * 4, away_from(rng, [0], 2, 3, gap=0.5)),
                                   desc="tensor"),
                            Sample((randn(rng, 2, 3) * 4, away_from(rng, [0], 3, gap=0.5)),
                                   desc="broadcast"),
                            Sample((randn(rng, 2, 3) * 4, np.array(1.5, FLOAT32)),
                                   desc="0-d divisor", grad=(0,))],
               method="fmod", inplace="fmod_", keywords=("fmod", "input", "other")),
        OpInfo("fmod_scalar", lambda lib, a, b: lib.fmod(a, b),
               lambda rng: [Sample((randn(rng, 2, 3) * 4, 1.5)),
                            Sample((np.asarray(randn(rng) * 4), -2), desc="0-d, int")],
               method="fmod", inplace="fmod_"),
        OpInfo("fmod_int", lambda lib, a, b: lib.fmod(a, b),
               lambda rng: [Sample((np.array([-7, 7, -3, 3]), 2)),
                            Sample((np.array([-7, 7]), np.array([3, -3])), desc="tensor"),
                            Sample((np.array([-7, 7]), 2.5), desc="float divisor")],
               differentiable=False,
               error_inputs=[err((np.array([1]), 0), RuntimeError, "ZeroDivisionError")]),
    ]

    def shift_samples(rng):
        return [Sample((np.array([1, -8, 5, 3]), np.array([0, 1, 2, 63])), desc="int64"),
                Sample((np.array([1, 2, 255], np.uint8), 7), desc="uint8, int"),
                Sample((np.array([[-8], [16]], np.int32), np.array([1, 2], np.int64)),
                       desc="int32, int64, broadcast"),
                Sample((np.array([True, False]), 1), desc="bool, int"),
                Sample((np.zeros(0, np.int64), 1), desc="empty"),
                Sample((np.array(5, np.int64), np.array(1, np.int64)), desc="0-d")]

    for name, operator in (("bitwise_left_shift", "<<"), ("bitwise_right_shift", ">>")):
        kernel = "lshift" if operator == "<<" else "rshift"
        rows += [
            OpInfo(name, lambda lib, a, b, _n=name: getattr(lib, _n)(a, b), shift_samples,
                   differentiable=False, method=name, keywords=(name, "input", "other"),
                   error_inputs=[err((np.ones(2, FLOAT32), 1), NotImplementedError,
                                     f"\"{kernel}_cpu\" not implemented for 'Float'")]),
            OpInfo(f"operator{operator}", lambda lib, a, b, _o=operator:
                   eval(f"a {_o} b"), shift_samples, differentiable=False),
            OpInfo(f"{name}_", lambda lib, a, b, _n=name: getattr(a.clone(), _n + "_")(b),
                   lambda rng: [Sample((np.array([1, -8, 5]), np.array([0, 1, 2])))],
                   differentiable=False),
        ]
    for name in ("logical_and", "logical_or", "logical_xor"):
        rows.append(OpInfo(name, lambda lib, a, b, _n=name: getattr(lib, _n)(a, b),
                           lambda rng: [Sample((np.array([1.0, 0.0, 2.0, 0.0], FLOAT32),
                                                np.array([3, 0, 0, 1]))),
                                        Sample((randn(rng, 2, 1) > 0, randn(rng, 3) > 0),
                                               desc="bool, broadcast"),
                                        Sample((np.array(0.0, FLOAT32), np.zeros(0)),
                                               desc="0-d, empty")],
                           differentiable=False, method=name, keywords=(name, "input", "other")))

    def bounds(rng):
        x = randn(rng, 3, 4)
        low = x + np.where(rng.random((3, 4)) > 0.5, 0.3, -0.3).astype(FLOAT32)
        return [Sample((x, low, None), desc="tensor min"),
                Sample((x, None, low), desc="tensor max"),
                Sample((x, randn(rng, 4) - 1, randn(rng, 3, 1) + 1), desc="broadcast bounds"),
                Sample((x, np.array(-0.2, FLOAT32), None), desc="0-d min"),
                Sample((np.arange(6) - 3, np.array([-1.5], FLOAT32), None), desc="int input",
                       grad=(1,))]

    rows += [
        OpInfo("clamp_tensor", lambda lib, a, low, high: lib.clamp(a, low, high), bounds,
               method="clamp", keywords=("clamp", "input", "min", "max"),
               error_inputs=[err((np.ones(3), np.ones(2), None), RuntimeError,
                                 "The size of tensor a (3) must match the size of tensor b (2) "
                                 "at non-singleton dimension 0")]),
        OpInfo("clamp_tensor_inplace", lambda lib, a, low: (a * 1).clamp_(low),
               lambda rng: [Sample((away_from(rng, [0], 3), np.zeros(3, FLOAT32)))]),
        OpInfo("clamp_min", lambda lib, a, low: lib.clamp_min(a, low),
               lambda rng: [Sample((away_from(rng, [0.2], 2, 3), 0.2), desc="float"),
                            Sample((away_from(rng, [0], 2, 3), 0), desc="int bound"),
                            Sample((away_from(rng, [0], 2, 3), np.zeros(3, FLOAT32) + 0.5),
                                   desc="tensor bound")],
               method="clamp_min", inplace="clamp_min_", keywords=("clamp_min", "input", "min")),
        OpInfo("clamp_min_int", lambda lib, a, low: lib.clamp_min(a, low),
               lambda rng: [Sample((np.arange(4) - 2, 0.5), desc="int input, float bound"),
                            Sample((np.arange(4) - 2, 1), desc="int input, int bound")],
               differentiable=False),
        OpInfo("clamp_max", lambda lib, a, high: lib.clamp_max(a, high),
               lambda rng: [Sample((away_from(rng, [0.2], 2, 3), 0.2), desc="float"),
                            Sample((np.asarray(away_from(rng, [0]), FLOAT32), 0), desc="0-d"),
                            Sample((away_from(rng, [0], 2, 3), np.zeros(3, FLOAT32) - 0.5),
                                   desc="tensor bound")],
               method="clamp_max", inplace="clamp_max_", keywords=("clamp_max", "input", "max")),
    ]
    return rows


def _more_indexing_rows():
    """tril/triu, narrow, the in-place view ops, scatter, scatter_add, scatter_reduce,
    index_add and index_fill."""
    index_2d = np.array([[0, 2, 1, 0], [2, 0, 0, 1]])  # repeats, into a (3, 4) input on dim 0

    def scatter_samples(rng):
        return [Sample((randn(rng, 3, 4), 0, np.array([[0, 1, 2, 0]]), randn(rng, 1, 4)),
                       desc="dim 0, distinct targets"),
                # (A src larger than the index: PyTorch's backward fails on it.)
                Sample((randn(rng, 3, 4), 1, np.array([[3, 1], [0, 2], [1, 0]]),
                        randn(rng, 3, 2)), desc="dim 1"),
                Sample((randn(rng, 4), -1, np.array([2, 0]), randn(rng, 2)), desc="1-d"),
                Sample((np.asarray(randn(rng)), 0, np.array(0), np.asarray(randn(rng))),
                       desc="0-d"),
                Sample((randn(rng, 3, 4), 0, np.zeros((0, 1), np.int64), randn(rng, 0, 1)),
                       desc="empty index")]

    def add_samples(rng):
        return [Sample((randn(rng, 3, 4), 0, index_2d, randn(rng, 2, 4)), desc="repeats"),
                Sample((randn(rng, 3, 4), 1, np.array([[3, 3], [0, 3]]), randn(rng, 2, 2)),
                       desc="dim 1")] + scatter_samples(rng)[2:]

    scatter_errors = [
        err((np.ones((3, 4)), 0, np.array([[5]]), np.ones((3, 4))), RuntimeError,
            "index 5 is out of bounds for dimension 0 with size 3"),
        err((np.ones((3, 4)), 0, np.array([[0.0]]), np.ones((3, 4))), RuntimeError,
            "scatter(): Expected dtype int32/int64 for index"),
        err((np.ones((3, 4)), 0, np.array([0]), np.ones((3, 4))), RuntimeError,
            "Index tensor must have the same number of dimensions as self tensor"),
        err((np.ones((3, 4)), 0, np.array([[0] * 5]), np.ones((3, 4))), RuntimeError,
            "Expected index [1, 5] to be no larger than self [3, 4] apart from dimension 0 "
            "and to be no larger size than src [3, 4]"),
        err((np.ones((3, 4), FLOAT32), 0, np.array([[0]]), np.ones((3, 4))), RuntimeError,
            "scatter(): Expected self.dtype to be equal to src.dtype"),
    ]

    def reduce_samples(reduce):
        def samples(rng):
            result = []
            for include_self in (True, False):
                result += [Sample((distinct(rng, 3, 4), 0, index_2d, distinct(rng, 2, 4),
                                   reduce), {"include_self": include_self},
                                  desc=f"include_self={include_self}"),
                           Sample((distinct(rng, 5), 0, np.array([1, 1, 3]), distinct(rng, 3),
                                   reduce), {"include_self": include_self},
                                  desc=f"1-d, include_self={include_self}")]
            return result
        return samples

    def prod_zeros(rng):
        a = np.array([2.0, 0.0, 3.0, 1.5], FLOAT32)
        src = np.array([0.0, 4.0, 0.0, 0.5, 2.0], FLOAT32)
        return [Sample((a, 0, np.array([0, 0, 1, 2, 2]), src, "prod"), desc="zeros"),
                Sample((a, 0, np.array([3, 3, 1, 2, 2]), src, "prod"),
                       {"include_self": False}, desc="zeros, without self")]

    def view_inplace(name, *args):
        return lambda lib, a: getattr(a * 1, name)(*args)

    rows = [
        OpInfo("tril", lambda lib, a, *d: lib.tril(a, *d),
               lambda rng: [Sample((randn(rng, 3, 4),)), Sample((randn(rng, 4, 3), 1), desc="+1"),
                            Sample((randn(rng, 2, 3, 3), -1), desc="batched, -1"),
                            Sample((randn(rng, 0, 1),), desc="empty"),
                            Sample((np.arange(9).reshape(3, 3), 5), desc="int64, past the end")],
               method="tril", inplace="tril_", keywords=("tril", "input", "diagonal"),
               error_inputs=[err((np.ones(3),), RuntimeError,
                                 "tril: input tensor must have at least 2 dimensions")]),
        OpInfo("triu", lambda lib, a, *d: lib.triu(a, *d),
               lambda rng: [Sample((randn(rng, 3, 4),)), Sample((randn(rng, 4, 3), -1),
                                                               desc="-1"),
                            Sample((randn(rng, 2, 3, 3), 2), desc="batched, 2"),
                            Sample((np.ones((2, 2), bool),), desc="bool")],
               method="triu", inplace="triu_", keywords=("triu", "input", "diagonal"),
               error_inputs=[err((np.ones(()),), RuntimeError,
                                 "triu: input tensor must have at least 2 dimensions")]),
        OpInfo("narrow", lambda lib, a, d, s, n: lib.narrow(a, d, s, n),
               lambda rng: [Sample((randn(rng, 3, 4), 0, 1, 2)),
                            Sample((randn(rng, 3, 4), -1, -3, 2), desc="negative dim, start"),
                            Sample((randn(rng, 3, 4), 1, np.array(2), 1), desc="0-d start"),
                            Sample((randn(rng, 3, 4), 1, 4, 0), desc="empty at the end")],
               method="narrow", keywords=("narrow", "input", "dim", "start", "length"),
               error_inputs=[err((np.ones((3, 4)), 0, 2, 2), RuntimeError,
                                 "start (2) + length (2) exceeds dimension size (3)."),
                             err((np.ones((3, 4)), 0, -4, 1), IndexError,
                                 "start out of range (expected to be in range of [-3, 3], but "
                                 "got -4)"),
                             err((np.ones((3, 4)), 0, 1, -1), RuntimeError,
                                 "narrow(): length must be non-negative."),
                             err((np.ones(()), 0, 0, 1), RuntimeError,
                                 "narrow() cannot be applied to a 0-dim tensor.")]),
        OpInfo("narrow_then_write", lambda lib, a: (a.narrow(0, 1, 1).mul_(2), a),
               lambda rng: [Sample((randn(rng, 3, 2),))], differentiable=False),
        OpInfo("unsqueeze_", view_inplace("unsqueeze_", -1), unary(((2, 3), (), (0,)))),
        OpInfo("squeeze_", view_inplace("squeeze_"), unary(((1, 3, 1), (2, 1), ()))),
        OpInfo("squeeze_dim_", view_inplace("squeeze_", 0), unary(((1, 3), (2, 1)))),
        OpInfo("squeeze_dims_", view_inplace("squeeze_", (0, 2)), unary(((1, 3, 1),))),
        OpInfo("t_", view_inplace("t_"), unary(((2, 3), (4,)))),
        OpInfo("transpose_", view_inplace("transpose_", 0, -1), unary(((2, 3, 4), (3, 2)))),
        OpInfo("unsqueeze_shares_memory",
               lambda lib, a: (lambda b: (b.unsqueeze_(0).add_(1), a))(a.detach()),
               unary(), differentiable=False),
        OpInfo("scatter", lambda lib, a, d, i, s: lib.scatter(a, d, i, s), scatter_samples,
               method="scatter", inplace="scatter_",
               keywords=("scatter", "input", "dim", "index", "src"),
               error_inputs=scatter_errors),
        OpInfo("scatter_value", lambda lib, a, d, i, v: lib.scatter(a, d, i, v),
               lambda rng: [Sample((randn(rng, 3, 4), 0, index_2d, 1.5)),
                            Sample((np.arange(4), 0, np.array([1, 1]), 7), desc="int64")],
               method="scatter", inplace="scatter_"),
        OpInfo("scatter_value_keyword", lambda lib, a, i: lib.scatter(a, 1, i, value=-2.0),
               lambda rng: [Sample((randn(rng, 2, 3), np.array([[2], [0]])))]),
        OpInfo("scatter_add", lambda lib, a, d, i, s: lib.scatter_add(a, d, i, s), add_samples,
               method="scatter_add", inplace="scatter_add_",
               keywords=("scatter_add", "input", "dim", "index", "src"),
               error_inputs=scatter_errors[:1]),
        OpInfo("scatter_add_int", lambda lib, a, i, s: lib.scatter_add(a, 0, i, s),
               lambda rng: [Sample((np.arange(3), np.array([0, 0, 2, 2]),
                                    np.array([1, 2, 3, 4])))], differentiable=False),
        OpInfo("scatter_legacy_reduce", lambda lib, a, i, s, r: (a * 1).scatter_(0, i, s,
                                                                                reduce=r),
               lambda rng: [Sample((randn(rng, 3, 4), index_2d, randn(rng, 2, 4), "add")),
                            Sample((randn(rng, 3, 4), index_2d, randn(rng, 2, 4), "multiply"),
                                   desc="multiply"),
                            Sample((randn(rng, 3, 4), index_2d, 2.0, "multiply"),
                                   desc="value")],
               gradcheck=False,  # its backward raises, in PyTorch and in ember
               error_inputs=[err((np.ones((3, 4)), index_2d, np.ones((2, 4)), "max"),
                                 RuntimeError, "reduce argument must be either add or multiply.")]),
    ]
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        rows.append(OpInfo(f"scatter_reduce_{reduce}",
                           lambda lib, a, d, i, s, r, **kw: lib.scatter_reduce(a, d, i, s, r,
                                                                               **kw),
                           reduce_samples(reduce), method="scatter_reduce",
                           inplace="scatter_reduce_",
                           keywords=("scatter_reduce", "input", "dim", "index", "src",
                                     "reduce")))
    rows += [
        OpInfo("scatter_reduce_prod_zeros",
               lambda lib, a, d, i, s, r, **kw: lib.scatter_reduce(a, d, i, s, r, **kw),
               prod_zeros, gradcheck=False),
        OpInfo("scatter_reduce_mean_int",
               lambda lib, a, i, s, **kw: lib.scatter_reduce(a, 0, i, s, "mean", **kw),
               lambda rng: [Sample((np.array([1, 2, 3]), np.array([0, 0]), np.array([2, 3]))),
                            Sample((np.array([1, 2, 3]), np.array([0, 0]), np.array([2, 3])),
                                   {"include_self": False}, desc="without self")],
               differentiable=False),
        OpInfo("scatter_reduce_errors", lambda lib, *args: lib.scatter_reduce(*args),
               lambda rng: [Sample((randn(rng, 3), 0, np.array([0, 0]), randn(rng, 2),
                                    "sum"))],
               error_inputs=[err((np.ones(3), 0, np.array([0]), np.ones(1), "foo"),
                                 RuntimeError, "reduce argument must be either sum, prod, "
                                 "mean, amax or amin, got foo")]),
        OpInfo("unique", lambda lib, a, **kw: lib.unique(a, **kw),
               lambda rng: [Sample((np.array([3, 1, 2, 3, 1, 5]),)),
                            Sample((np.array([[3, 1], [2, 3]]),), {"return_inverse": True,
                                                                   "return_counts": True},
                                   desc="2-d, inverse, counts"),
                            Sample((np.array([2.0, np.nan, 1.0, np.nan, 2.0], FLOAT32),),
                                   {"return_counts": True}, desc="NaNs apart"),
                            Sample((np.array(5),), {"return_inverse": True}, desc="0-d"),
                            Sample((np.zeros(0, FLOAT32),), {"return_counts": True},
                                   desc="empty"),
                            Sample((np.array([[1, 2], [1, 2], [0, 1]]),),
                                   {"dim": 0, "return_inverse": True, "return_counts": True},
                                   desc="rows"),
                            Sample((np.array([[1, 0, 1], [2, 0, 2]]),), {"dim": -1},
                                   desc="columns"),
                            Sample((np.array([True, False, True]),), {"sorted": False},
                                   desc="bool, sorted=False")],
               differentiable=False, method="unique",
               keywords=("unique", "input")),
        OpInfo("unique_consecutive", lambda lib, a, **kw: lib.unique_consecutive(a, **kw),
               lambda rng: [Sample((np.array([1, 1, 2, 2, 3, 1, 1]),),
                                   {"return_inverse": True, "return_counts": True}),
                            Sample((np.array([[1, 1], [1, 1], [0, 1]]),),
                                   {"dim": 0, "return_inverse": True, "return_counts": True},
                                   desc="rows"),
                            Sample((np.array([[1, 1], [2, 2]]),), {"return_inverse": True},
                                   desc="2-d flattened"),
                            Sample((np.zeros(0),), {"return_counts": True}, desc="empty")],
               differentiable=False, method="unique_consecutive",
               keywords=("unique_consecutive", "input")),
        # Random draws differ from PyTorch's: one category of non-zero weight per row makes
        # the samples certain (test_more_ops.py checks the distributions).
        OpInfo("multinomial", lambda lib, w, n, *r: lib.multinomial(w, n, *r),
               lambda rng: [Sample((np.array([0.0, 3.0, 0.0], FLOAT32), 4, True)),
                            Sample((np.array([[0, 0, 1], [2, 0, 0]], FLOAT32), 3, True),
                                   desc="2-d"),
                            Sample((np.array([[0, 0.5], [2, 0]], FLOAT32), 1), desc="2-d, 1"),
                            Sample((np.array([1.0, 0.0, 0.0], np.float64), 2),
                                   desc="zero weights last")],
               differentiable=False, method="multinomial",
               keywords=("multinomial", "input", "num_samples", "replacement"),
               error_inputs=[err((np.zeros(2, FLOAT32), 1), RuntimeError,
                                 "invalid multinomial distribution (sum of probabilities <= 0)"),
                             err((np.array([-1.0, 2.0]), 1), RuntimeError,
                                 "probability tensor contains either `inf`, `nan` or element "
                                 "< 0"),
                             err((np.array([np.inf, 2.0]), 1), RuntimeError,
                                 "probability tensor contains either `inf`, `nan` or element "
                                 "< 0"),
                             err((np.array([1.0, 2.0]), 3), RuntimeError,
                                 "cannot sample n_sample > prob_dist.size(-1) samples without "
                                 "replacement"),
                             err((np.ones((2, 2, 2)), 1), RuntimeError,
                                 "prob_dist must be 1 or 2 dim"),
                             err((np.array([1, 2]), 1), RuntimeError,
                                 "multinomial only supports floating-point dtypes for input, "
                                 "got: Long"),
                             err((np.array([1.0, 2.0]), 0), RuntimeError,
                                 "cannot sample n_sample <= 0 samples"),
                             err((np.array([[1.0, 2.0], [0.0, 0.0]]), 1, True), RuntimeError,
                                 "invalid multinomial distribution (sum of probabilities <= 0)")]),
        OpInfo("index_add", lambda lib, a, d, i, s, **kw: lib.index_add(a, d, i, s, **kw),
               lambda rng: [Sample((randn(rng, 3, 4), 0, np.array([0, 2, 0]), randn(rng, 3, 4))),
                            Sample((randn(rng, 3, 4), 1, np.array([3, 1]), randn(rng, 3, 2)),
                                   {"alpha": 2.5}, desc="dim 1, alpha"),
                            Sample((np.asarray(randn(rng)), 0, np.array([0]),
                                    np.asarray(randn(rng))), desc="0-d"),
                            Sample((randn(rng, 3), 0, np.zeros(0, np.int64),
                                    np.zeros(0, FLOAT32)), desc="empty index"),
                            Sample((np.arange(4), 0, np.array([1, 1]), np.array([5, 6])),
                                   desc="int64")],
               method="index_add", inplace="index_add_",
               keywords=("index_add", "input", "dim", "index", "source"),
               error_inputs=[err((np.ones((3, 4), FLOAT32), 0, np.array([0]),
                                  np.ones((1, 4))), RuntimeError,
                                 "index_add_(): self (Float) and source (Double) must have the "
                                 "same scalar type"),
                             err((np.ones((3, 4)), 0, np.array([0.0]), np.ones((1, 4))),
                                 RuntimeError, "index_add_(): Expected dtype int32/int64 for "
                                 "index but got: Double"),
                             err((np.ones((3, 4)), 0, np.array([0, 1]), np.ones((1, 4))),
                                 RuntimeError, "index_add_(): Number of indices (2) should be "
                                 "equal to source.size(dim): (1), for dim: 0")]),
        OpInfo("index_fill", lambda lib, a, d, i, v: lib.index_fill(a, d, i, v),
               lambda rng: [Sample((randn(rng, 3, 4), 0, np.array([0, 2, 0]), -1.5)),
                            Sample((randn(rng, 3, 4), 1, np.array([3]),
                                    np.array(2.0, FLOAT32)), desc="0-d tensor value"),
                            Sample((np.asarray(randn(rng)), 0, np.array([0]), 1.0), desc="0-d"),
                            Sample((np.arange(4), 0, np.array([-1]), 9), desc="int64, -1")],
               method="index_fill", inplace="index_fill_",
               keywords=("index_fill", "input", "dim", "index", "value"),
               error_inputs=[err((np.ones((3, 4)), 0, np.array([[0]]), 1.0), RuntimeError,
                                 "Index has to be a vector/scalar"),
                             err((np.ones((3, 4)), 0, np.array([0], np.int32), 1.0), IndexError,
                                 "index_fill_(): Expected dtype int64 for index."),
                             err((np.ones((3, 4)), 0, np.array([0]), np.ones(2)), RuntimeError,
                                 "index_fill_ only supports a 0-dimensional value tensor, but "
                                 "got tensor with 1 dimension(s).")]),
    ]
    return rows


def _more_linalg_rows():
    """ember.linalg: inverses, determinants, solves, Cholesky, SVD, cross, norms; einsum."""
    def well_conditioned(rng, *shape):
        return np.asarray(randn(rng, *shape) + 3 * np.eye(shape[-1]), FLOAT32)

    def spd(rng, *shape):
        a = randn(rng, *shape)
        return np.asarray(a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1]), FLOAT32)

    def square_samples(rng):
        return [Sample((well_conditioned(rng, 3, 3),)),
                Sample((well_conditioned(rng, 2, 4, 4),), desc="batched"),
                Sample((well_conditioned(rng, 1, 1),), desc="1x1"),
                Sample((np.zeros((0, 1, 1), FLOAT32),), desc="empty batch")]

    square_errors = [
        err((np.ones((2, 3)),), RuntimeError, "linalg.{0}: A must be batches of square "
            "matrices, but they are 2 by 3 matrices"),
        err((np.ones(3),), RuntimeError, "linalg.{0}: The input tensor A must have at least 2 "
            "dimensions."),
        err((np.ones((2, 2), np.int64),), RuntimeError, "linalg.{0}: Expected a floating point "
            "or complex tensor as input. Got Long"),
    ]

    def errors_for(name):
        return [err(e.sample.args, e.error, e.message.format(name)) for e in square_errors]

    def gauge_free_svd(lib, a):
        # Singular vectors are defined up to sign: their squares and the values are not.
        u, s, vh = lib.linalg.svd(a, full_matrices=False)
        return u * u, s, vh * vh

    def distinct_singular_values(rng, *shape):
        u, _, vh = np.linalg.svd(randn(rng, *shape).astype(np.float64), full_matrices=False)
        k = min(shape[-2:])
        return np.asarray((u * (np.arange(k, 0, -1) + 0.5)) @ vh, FLOAT32)

    rows = [
        OpInfo("linalg.inv", lambda lib, a: lib.linalg.inv(a), square_samples,
               # (LinAlgError's cases, whose types differ by name, are in test_more_ops.py.)
               keywords=("linalg.inv", "A"), error_inputs=errors_for("inv"), atol=1e-5,
               rtol=1e-4),
        OpInfo("inverse", lambda lib, a: lib.inverse(a), square_samples, method="inverse",
               atol=1e-5, rtol=1e-4),
        OpInfo("linalg.det", lambda lib, a: lib.linalg.det(a), square_samples,
               keywords=("linalg.det", "A"), error_inputs=errors_for("det"), atol=1e-4,
               rtol=1e-4),
        OpInfo("det", lambda lib, a: lib.det(a), square_samples, method="det", atol=1e-4,
               rtol=1e-4),
        OpInfo("linalg.slogdet", lambda lib, a: tuple(lib.linalg.slogdet(a)),
               lambda rng: [Sample((well_conditioned(rng, 3, 3) * -1,)),
                            Sample((well_conditioned(rng, 2, 4, 4),), desc="batched")],
               error_inputs=errors_for("slogdet"), atol=1e-5, rtol=1e-4),
        OpInfo("linalg.solve", lambda lib, a, b, **kw: lib.linalg.solve(a, b, **kw),
               lambda rng: [Sample((well_conditioned(rng, 3, 3), randn(rng, 3, 2))),
                            Sample((well_conditioned(rng, 3, 3), randn(rng, 3)), desc="vector"),
                            Sample((well_conditioned(rng, 2, 3, 3), randn(rng, 2, 3)),
                                   desc="batch of vectors"),
                            Sample((well_conditioned(rng, 2, 3, 3), randn(rng, 3, 4)),
                                   desc="broadcast B"),
                            Sample((well_conditioned(rng, 3, 3), randn(rng, 2, 3)),
                                   {"left": False}, desc="left=False")],
               keywords=("linalg.solve", "A", "B"), atol=1e-5, rtol=1e-4,
               error_inputs=[err((np.eye(2), np.ones(3)), RuntimeError,
                                 "linalg.solve: Incompatible shapes of A and B for the equation "
                                 "AX = B (2x2 and 3x1)")]),
        # Symmetrized first: the factorization reads one triangle, the gradient is symmetric.
        OpInfo("linalg.cholesky",
               lambda lib, a, **kw: lib.linalg.cholesky((a + a.mT) / 2, **kw),
               lambda rng: [Sample((spd(rng, 3, 3),)), Sample((spd(rng, 2, 4, 4),),
                                                              desc="batched"),
                            Sample((spd(rng, 3, 3),), {"upper": True}, desc="upper")],
               atol=1e-5, rtol=1e-4),
        OpInfo("linalg.svd", gauge_free_svd,
               lambda rng: [Sample((distinct_singular_values(rng, 3, 3),)),
                            Sample((distinct_singular_values(rng, 4, 2),), desc="tall"),
                            Sample((distinct_singular_values(rng, 2, 2, 3),),
                                   desc="wide, batched")],
               check_grad_fn_name=False, atol=1e-5, rtol=1e-4, grad_atol=1e-4, grad_rtol=1e-3),
        OpInfo("linalg.svd_values", lambda lib, a: lib.linalg.svd(a).S,
               lambda rng: [Sample((distinct_singular_values(rng, 3, 4),))], atol=1e-5,
               rtol=1e-4),
        OpInfo("linalg.svdvals", lambda lib, a: lib.linalg.svdvals(a),
               lambda rng: [Sample((distinct_singular_values(rng, 3, 3),)),
                            Sample((distinct_singular_values(rng, 2, 4, 3),), desc="batched")],
               keywords=("linalg.svdvals", "A"), atol=1e-5, rtol=1e-4),
        OpInfo("linalg.cross", lambda lib, a, b, **kw: lib.linalg.cross(a, b, **kw),
               lambda rng: [Sample((randn(rng, 3), randn(rng, 3))),
                            Sample((randn(rng, 2, 3), randn(rng, 1, 3)), desc="broadcast"),
                            Sample((randn(rng, 3, 2), randn(rng, 3, 2)), {"dim": 0},
                                   desc="dim 0")],
               keywords=("linalg.cross", "input", "other"),
               error_inputs=[err((np.ones(2), np.ones(2)), RuntimeError,
                                 "linalg.cross: inputs dimension -1 must have length 3. Got 2 "
                                 "and 2")]),
        OpInfo("cross", lambda lib, a, b: lib.cross(a, b, dim=1),
               lambda rng: [Sample((randn(rng, 2, 3), randn(rng, 2, 3)))], method="cross"),
    ]
    norm_orders = ("fro", "nuc", 2, -2, 1, -1, float("inf"), -float("inf"))
    for order in norm_orders:
        rows.append(OpInfo(f"linalg.matrix_norm[{order}]",
                           lambda lib, a, _o=order, **kw: lib.linalg.matrix_norm(a, _o, **kw),
                           lambda rng: [Sample((distinct(rng, 3, 4),)),
                                        Sample((distinct(rng, 2, 3, 3),), {"keepdim": True},
                                               desc="batched, keepdim"),
                                        Sample((distinct(rng, 3, 2, 2),), {"dim": (0, 2)},
                                               desc="dim (0, 2)")],
                           atol=1e-5, rtol=1e-4))
    rows += [
        OpInfo("linalg.matrix_norm_errors", lambda lib, a, *o: lib.linalg.matrix_norm(a, *o),
               lambda rng: [Sample((randn(rng, 2, 2),))],
               error_inputs=[err((np.ones(3),), RuntimeError, "linalg.matrix_norm: The input "
                                 "tensor A must have at least 2 dimensions."),
                             err((np.ones((2, 2)), 3), RuntimeError,
                                 "linalg.matrix_norm: Order 3 not supported.")]),
        OpInfo("linalg.vector_norm", lambda lib, a, *o, **kw: lib.linalg.vector_norm(a, *o, **kw),
               lambda rng: [Sample((randn(rng, 3, 4),)), Sample((randn(rng, 3, 4), 1),
                                                               {"dim": 1}, desc="ord 1, dim"),
                            Sample((distinct(rng, 3, 4), float("inf")), {"dim": (0, 1)},
                                   desc="inf"),
                            Sample((randn(rng, 4), 3.0), {"keepdim": True}, desc="ord 3"),
                            Sample((np.asarray(randn(rng)),), desc="0-d")],
               keywords=("linalg.vector_norm", "x", "ord"),
               error_inputs=[err((np.array([1, 2]),), RuntimeError, "linalg.vector_norm: "
                                 "Expected a floating point or complex tensor as input. Got "
                                 "Long")]),
        OpInfo("linalg.norm", lambda lib, a, *o, **kw: lib.linalg.norm(a, *o, **kw),
               lambda rng: [Sample((randn(rng, 3, 4),)), Sample((distinct(rng, 3, 4), 2),
                                                               desc="ord 2 matrix"),
                            Sample((randn(rng, 4), 1), desc="ord 1 vector"),
                            Sample((randn(rng, 2, 3, 4),), {"dim": 1}, desc="dim"),
                            Sample((randn(rng, 2, 3, 4), "fro"), {"dim": (1, 2)},
                                   desc="two dims")],
               error_inputs=[err((np.ones((2, 2, 2)), "fro"), RuntimeError,
                                 "linalg.norm: If dim is not specified but ord is, the input "
                                 "must be 1D or 2D. Got 3D.")]),
        OpInfo("linalg.matmul", lambda lib, a, b: lib.linalg.matmul(a, b),
               lambda rng: [Sample((randn(rng, 2, 3), randn(rng, 3, 4)))]),
    ]
    einsum_cases = [
        ("ij,jk->ik", ((2, 3), (3, 4))), ("i,i->", ((3,), (3,))), ("i,j->ij", ((2,), (3,))),
        ("bij,bjk->bik", ((2, 3, 4), (2, 4, 2))), ("ii->i", ((3, 3),)), ("ii", ((3, 3),)),
        ("ij->ji", ((2, 3),)), ("ij->", ((2, 3),)), ("...ij,...jk", ((2, 2, 3), (3, 4))),
        ("b h i d, b h j d -> b h i j", ((1, 2, 3, 4), (1, 2, 5, 4))),
        ("ij,jk,kl->il", ((2, 3), (3, 4), (4, 2))), ("iij->ij", ((2, 2, 3),)),
        ("ij,ij->i", ((0, 1), (0, 1))), ("i,->i", ((3,), ())),
    ]
    rows += [
        OpInfo("einsum", lambda lib, eq, *ops: lib.einsum(eq, *ops),
               lambda rng: [Sample((eq,) + tuple(randn(rng, *s) for s in shapes), desc=eq)
                            for eq, shapes in einsum_cases],
               check_grad_fn_name=False, atol=1e-5, rtol=1e-4,
               error_inputs=[err(("ij,jk", np.ones((2, 3))), RuntimeError,
                                 "einsum(): fewer operands were provided than specified in the "
                                 "equation"),
                             err(("ijk", np.ones((2, 3))), RuntimeError,
                                 "einsum(): the number of subscripts in the equation (3) does "
                                 "not match the number of dimensions (2) for operand 0 and no "
                                 "ellipsis was given")]),
        OpInfo("einsum_list", lambda lib, eq, a, b: lib.einsum(eq, [a, b]),
               lambda rng: [Sample(("ij,j", randn(rng, 2, 3), randn(rng, 3)))],
               check_grad_fn_name=False),
    ]
    return rows


def _more_shape_rows():
    """diag, diagonal, trace, outer, tile, repeat_interleave, meshgrid, diff, addcmul,
    addcdiv."""
    return [
        OpInfo("diagonal", lambda lib, a, *args: lib.diagonal(a, *args),
               lambda rng: [Sample((randn(rng, 3, 4),)), Sample((randn(rng, 3, 4), 1), desc="+1"),
                            Sample((randn(rng, 4, 3), -2), desc="-2"),
                            Sample((randn(rng, 2, 3, 4), -1, 2, 0), desc="3-d, dims 2, 0"),
                            Sample((randn(rng, 2, 2), 5), desc="past the end")],
               method="diagonal", keywords=("diagonal", "input", "offset", "dim1", "dim2"),
               error_inputs=[err((np.ones((2, 2)), 0, 1, 1), RuntimeError,
                                 "diagonal dimensions cannot be identical 1, 1")]),
        OpInfo("diagonal_write", lambda lib, a: (lambda h: (h.diagonal().mul_(2), h))(a * 1)[1],
               lambda rng: [Sample((randn(rng, 3, 3),))]),
        OpInfo("diag", lambda lib, a, *args: lib.diag(a, *args),
               lambda rng: [Sample((randn(rng, 3),)), Sample((randn(rng, 3), 1), desc="vector, +1"),
                            Sample((randn(rng, 3), -2), desc="vector, -2"),
                            Sample((randn(rng, 3, 4),), desc="matrix"),
                            Sample((randn(rng, 3, 4), 1), desc="matrix, +1"),
                            Sample((np.array([1, 2]),), desc="int64")],
               method="diag", keywords=("diag", "input", "diagonal"),
               error_inputs=[err((np.ones((2, 2, 2)),), RuntimeError,
                                 "diag(): Supports 1D or 2D tensors. Got 3D")]),
        OpInfo("trace", lambda lib, a: lib.trace(a),
               lambda rng: [Sample((randn(rng, 3, 3),)), Sample((randn(rng, 2, 4),), desc="2x4")],
               method="trace", keywords=("trace", "input"),
               error_inputs=[err((np.ones(3),), RuntimeError,
                                 "trace: expected a matrix, but got tensor with dim 1")]),
        OpInfo("outer", lambda lib, a, b: lib.outer(a, b),
               lambda rng: [Sample((randn(rng, 3), randn(rng, 4))),
                            Sample((np.array([1, 2]), np.array([3, 4])), desc="int64"),
                            Sample((randn(rng, 0), randn(rng, 2)), desc="empty")],
               method="outer", keywords=("outer", "input", "vec2"),
               error_inputs=[err((np.ones((2, 2)), np.ones(2)), RuntimeError,
                                 "outer: Expected 1-D argument self, but got 2-D")]),
        OpInfo("tile", lambda lib, a, d: lib.tile(a, d),
               lambda rng: [Sample((randn(rng, 2, 3), (2, 1))), Sample((randn(rng, 3), (2, 2)),
                                                                      desc="more dims"),
                            Sample((randn(rng, 2, 3), (2,)), desc="fewer dims"),
                            Sample((np.asarray(randn(rng)), (3,)), desc="0-d")],
               method="tile", keywords=("tile", "input", "dims")),
        OpInfo("repeat_interleave", lambda lib, a, r, *d: lib.repeat_interleave(a, r, *d),
               lambda rng: [Sample((randn(rng, 2, 3), 2)), Sample((randn(rng, 2, 3), 2, 1),
                                                                  desc="dim 1"),
                            Sample((randn(rng, 2, 3), np.array([1, 3]), 0), desc="counts"),
                            Sample((np.array([1, 2]), 3), desc="int64")],
               method="repeat_interleave", check_grad_fn_name=False,
               error_inputs=[err((np.ones(3), np.array([1, 2]), 0), RuntimeError,
                                 "repeats must have the same size as input along dim, but got "
                                 "repeats.size(0) = 2 and input.size(0) = 3")]),
        OpInfo("repeat_interleave_counts", lambda lib, c: lib.repeat_interleave(c),
               lambda rng: [Sample((np.array([2, 0, 1]),))], differentiable=False),
        OpInfo("meshgrid", lambda lib, *ts, **kw: lib.meshgrid(*ts, **kw),
               lambda rng: [Sample((randn(rng, 2), randn(rng, 3)), {"indexing": "ij"}),
                            Sample((randn(rng, 2), randn(rng, 3), randn(rng, 4)),
                                   {"indexing": "xy"}, desc="xy, three"),
                            Sample((randn(rng, 2),), {"indexing": "xy"}, desc="one")],
               error_inputs=[err((np.ones(2),), RuntimeError, 'ember.meshgrid: indexing must '
                                 'be one of "xy" or "ij", but received: ab',
                                 {"indexing": "ab"})]),
        OpInfo("diff", lambda lib, a, *args, **kw: lib.diff(a, *args, **kw),
               lambda rng: [Sample((randn(rng, 5),)), Sample((randn(rng, 3, 4), 2, 0),
                                                            desc="n=2, dim 0"),
                            Sample((randn(rng, 3, 4),), {"prepend": randn(rng, 3, 1),
                                                         "append": randn(rng, 3, 2)},
                                   desc="prepend, append"),
                            Sample((np.array([True, False, False]),), desc="bool"),
                            Sample((np.array([1, 4, 9]),), desc="int64")],
               method="diff", check_grad_fn_name=False),
        OpInfo("addcmul", lambda lib, a, b, c, **kw: lib.addcmul(a, b, c, **kw),
               lambda rng: [Sample((randn(rng, 2, 3), randn(rng, 2, 3), randn(rng, 2, 3))),
                            Sample((randn(rng, 3), randn(rng, 2, 1), randn(rng, 3)),
                                   {"value": 0.5}, desc="broadcast, value")],
               method="addcmul", inplace="addcmul_",
               keywords=("addcmul", "input", "tensor1", "tensor2")),
        OpInfo("addcdiv", lambda lib, a, b, c, **kw: lib.addcdiv(a, b, c, **kw),
               lambda rng: [Sample((randn(rng, 2, 3), randn(rng, 2, 3), positive(rng, 2, 3))),
                            Sample((randn(rng, 3), randn(rng, 2, 1), positive(rng, 3)),
                                   {"value": -2}, desc="broadcast, value")],
               method="addcdiv", inplace="addcdiv_",
               keywords=("addcdiv", "input", "tensor1", "tensor2"),
               error_inputs=[err((np.ones(2), np.array([1, 2]), np.array([1, 2])), RuntimeError,
                                 "Integer division with addcdiv is no longer supported, and in a "
                                 "future  release addcdiv will perform a true division of tensor1"
                                 " and tensor2. The historic addcdiv behavior can be implemented "
                                 "as (input + value * ember.trunc(tensor1 / "
                                 "tensor2)).to(input.dtype) for integer inputs and as (input + "
                                 "value * tensor1 / tensor2) for float inputs. The future addcdiv"
                                 " behavior is just the latter implementation: (input + value * "
                                 "tensor1 / tensor2), for all dtypes.")]),
    ]


def _more_reduction_rows():
    """std_mean, var_mean, count_nonzero, median, kthvalue, bincount, histc, searchsorted,
    bucketize, isin, nonzero."""
    nan_rows = np.array([[3.0, 1.0, 2.0, 0.5], [np.nan, 0.0, 1.0, np.nan]], FLOAT32)
    return [
        OpInfo("std_mean", lambda lib, a, *d, **kw: lib.std_mean(a, *d, **kw),
               lambda rng: reduction_samples(rng)[:3] + [
                   Sample((randn(rng, 3, 4), 1), {"correction": 0}, desc="correction 0")],
               keywords=("std_mean", "input", "dim")),
        OpInfo("var_mean", lambda lib, a, *d, **kw: lib.var_mean(a, *d, **kw),
               lambda rng: reduction_samples(rng)[:3] + [
                   Sample((randn(rng, 3, 4), (0, 1)), {"keepdim": True}, desc="all, keepdim")],
               keywords=("var_mean", "input", "dim")),
        OpInfo("count_nonzero", lambda lib, a, *d: lib.count_nonzero(a, *d),
               lambda rng: [Sample((np.array([[0, 1], [2, 3]]),)),
                            Sample((np.array([[0.0, 1.5], [0.0, 3.0]], FLOAT32), 0), desc="dim"),
                            Sample((np.array([[True, False]]), (0, 1)), desc="bool, dims"),
                            Sample((np.zeros(0),), desc="empty")],
               differentiable=False, method="count_nonzero",
               keywords=("count_nonzero", "input", "dim")),
        OpInfo("median", lambda lib, a: lib.median(a),
               lambda rng: [Sample((distinct(rng, 3, 4),)), Sample((distinct(rng, 4),),
                                                                   desc="even count"),
                            Sample((np.array([1.0, 2.0, 2.0, 3.0], FLOAT32),),
                                   desc="ties share the gradient"),
                            Sample((np.asarray(randn(rng)),), desc="0-d"),
                            Sample((nan_rows,), desc="NaN")],
               method="median", gradcheck=False),
        OpInfo("median_dim", lambda lib, a, d, **kw: tuple(lib.median(a, d, **kw)),
               lambda rng: [Sample((distinct(rng, 3, 4), 1)), Sample((distinct(rng, 3, 4), 0),
                                                                     {"keepdim": True},
                                                                     desc="keepdim"),
                            Sample((np.array([3, 1, 2]), 0), desc="int64")],
               error_inputs=[err((np.zeros((0, 2)), 0), IndexError,
                                 "median(): Expected reduction dim 0 to have non-zero size.")]),
        OpInfo("kthvalue", lambda lib, a, k, *d, **kw: tuple(lib.kthvalue(a, k, *d, **kw)),
               lambda rng: [Sample((distinct(rng, 3, 4), 2)), Sample((distinct(rng, 3, 4), 3, 0),
                                                                     desc="dim 0"),
                            Sample((np.asarray(randn(rng)), 1), desc="0-d")],
               keywords=("kthvalue", "input", "k", "dim"),
               error_inputs=[err((np.ones(3), 4), RuntimeError,
                                 "kthvalue(): selected number k out of range for dimension 0")]),
        # NaN: the median is NaN, at the first NaN; kthvalue sorts NaN last.
        OpInfo("median_kthvalue_nan", lambda lib, a: (tuple(lib.median(a, 1)),
                                                      tuple(lib.kthvalue(a, 4, 1, True))),
               lambda rng: [Sample((nan_rows,))], gradcheck=False),
        OpInfo("bincount", lambda lib, a, *args: lib.bincount(a, *args),
               lambda rng: [Sample((np.array([0, 2, 2, 5]),)),
                            Sample((np.array([0, 1, 1]), np.array([0.5, 1.0, 2.0], FLOAT32)),
                                   desc="weights"),
                            Sample((np.array([1]), None, 4), desc="minlength"),
                            Sample((np.zeros(0, np.int64),), desc="empty")],
               differentiable=False,
               error_inputs=[err((np.array([-1]),), RuntimeError,
                                 "bincount only supports 1-d non-negative integral inputs."),
                             err((np.array([1.0]),), NotImplementedError,
                                 "\"bincount_cpu\" not implemented for 'Double'")]),
        OpInfo("histc", lambda lib, a, **kw: lib.histc(a, **kw),
               lambda rng: [Sample((randn(rng, 20),)), Sample((randn(rng, 20),),
                                                              {"bins": 4, "min": -1, "max": 1},
                                                              desc="range"),
                            Sample((np.array([2.0, 2.0], FLOAT32),), {"bins": 4},
                                   desc="one value")],
               differentiable=False,
               error_inputs=[err((np.array([1, 2]),), NotImplementedError,
                                 "\"histogram_cpu\" not implemented for 'Long'"),
                             err((np.ones(2),), RuntimeError,
                                 "ember.histc: max must be larger than min",
                                 {"min": 3, "max": 1})]),
        OpInfo("searchsorted", lambda lib, s, v, **kw: lib.searchsorted(s, v, **kw),
               lambda rng: [Sample((np.array([1, 3, 5]), np.array([3, 6, 0]))),
                            Sample((np.array([1.0, 3.0, 5.0]), np.array([[3.0], [5.0]])),
                                   {"right": True}, desc="right"),
                            Sample((np.array([[1, 3], [2, 4]]), np.array([[3], [3]])),
                                   {"side": "right"}, desc="rows"),
                            Sample((np.array([1, 3, 5]), 3), desc="number"),
                            Sample((np.array([1, 3]), np.array([2])), {"out_int32": True},
                                   desc="int32")],
               differentiable=False),
        OpInfo("bucketize", lambda lib, a, b, **kw: lib.bucketize(a, b, **kw),
               lambda rng: [Sample((np.array([3, 6, 0]), np.array([1, 3, 5]))),
                            Sample((randn(rng, 2, 3), np.array([-1.0, 0.0, 1.0], FLOAT32)),
                                   {"right": True}, desc="2-d, right")],
               differentiable=False, keywords=("bucketize", "input", "boundaries")),
        OpInfo("isin", lambda lib, a, b, **kw: lib.isin(a, b, **kw),
               lambda rng: [Sample((np.array([1, 2, 3]), np.array([2, 5]))),
                            Sample((np.array([[1, 2], [3, 4]]), 2), desc="number"),
                            Sample((np.array([1.0, 2.0], FLOAT32), np.array([2.0], FLOAT32)),
                                   {"invert": True}, desc="invert")],
               differentiable=False),
        OpInfo("nonzero", lambda lib, a, **kw: lib.nonzero(a, **kw),
               lambda rng: [Sample((np.array([[0, 1], [1, 1]]),)),
                            Sample((np.array([[0.0, 1.5], [0.0, 0.0]], FLOAT32),),
                                   {"as_tuple": True}, desc="as_tuple"),
                            Sample((np.array(3),), desc="0-d"),
                            Sample((np.array(3),), {"as_tuple": True}, desc="0-d, as_tuple"),
                            Sample((np.zeros((0, 1)),), desc="empty")],
               differentiable=False, method="nonzero", keywords=("nonzero", "input")),
    ]


def _more_view_rows():
    """masked_scatter, masked_select, select, take_along_dim, movedim, swapaxes."""
    mask = np.array([[True, False, True], [False, True, False]])
    return [
        OpInfo("masked_scatter", lambda lib, a, m, s: lib.masked_scatter(a, m, s),
               lambda rng: [Sample((randn(rng, 2, 3), mask, randn(rng, 5))),
                            Sample((randn(rng, 2, 3), mask[0], randn(rng, 2, 3)),
                                   desc="broadcast mask"),
                            Sample((np.arange(4), np.array([True, False, False, True]),
                                    np.array([7, 8])), desc="int64")],
               method="masked_scatter", inplace="masked_scatter_",
               error_inputs=[err((np.ones((2, 3)), mask, np.ones(2)), RuntimeError,
                                 "Number of elements of source < number of ones in mask"),
                             err((np.ones((2, 3)), mask.astype(np.float32), np.ones(5)),
                                 RuntimeError, "masked_scatter_ only supports boolean masks, "
                                 "but got mask with dtype Float")]),
        OpInfo("masked_select", lambda lib, a, m: lib.masked_select(a, m),
               lambda rng: [Sample((randn(rng, 2, 3), mask)),
                            Sample((randn(rng, 2, 3), mask[0]), desc="broadcast mask"),
                            Sample((randn(rng, 3), mask), desc="broadcast input"),
                            Sample((randn(rng, 2, 3), np.zeros((2, 3), bool)), desc="none")],
               method="masked_select", keywords=("masked_select", "input", "mask"),
               error_inputs=[err((np.ones(2), np.ones(2)), RuntimeError,
                                 "masked_select: expected BoolTensor for mask")]),
        OpInfo("select", lambda lib, a, d, i: lib.select(a, d, i),
               lambda rng: [Sample((randn(rng, 2, 3), 1, -1)), Sample((randn(rng, 2, 3), 0, 1),
                                                                     desc="dim 0")],
               method="select", keywords=("select", "input", "dim", "index")),
        OpInfo("take_along_dim", lambda lib, a, i, *d: lib.take_along_dim(a, i, *d),
               lambda rng: [Sample((randn(rng, 3, 4), np.array([[0], [3], [1]]), 1)),
                            Sample((randn(rng, 3, 4), np.array([[2, 0, 1, 1]]), 0),
                                   desc="broadcast index"),
                            Sample((randn(rng, 3, 4), np.array([5, 0])), desc="flattened")],
               method="take_along_dim", check_grad_fn_name=False),
        OpInfo("movedim", lambda lib, a, s, d: lib.movedim(a, s, d),
               lambda rng: [Sample((randn(rng, 2, 3, 4), 0, -1)),
                            Sample((randn(rng, 2, 3, 4), (0, 1), (2, 0)), desc="two")],
               method="movedim", keywords=("movedim", "input", "source", "destination")),
        OpInfo("moveaxis", lambda lib, a: lib.moveaxis(a, 1, 0), unary(((2, 3),)),
               method=None),
        OpInfo("swapaxes", lambda lib, a: lib.swapaxes(a, 0, -1), unary(((2, 3, 4),))),
        OpInfo("swapdims_method", lambda lib, a: a.swapdims(0, 1), unary(((2, 3),))),
    ]


def _more_misc_rows():
    """deg2rad, rad2deg, nan_to_num, baddbmm, addmv, stacking helpers, in-place comparisons
    and scans, fill_diagonal_."""
    special = np.array([np.nan, np.inf, -np.inf, 1.5, -2.0], FLOAT32)
    return [
        OpInfo("deg2rad", lambda lib, a: lib.deg2rad(a), unary(_EDGE_SHAPES), method="deg2rad",
               inplace="deg2rad_", keywords=("deg2rad", "input")),
        OpInfo("rad2deg", lambda lib, a: lib.rad2deg(a), unary(), method="rad2deg",
               inplace="rad2deg_"),
        OpInfo("nan_to_num", lambda lib, a, *args, **kw: lib.nan_to_num(a, *args, **kw),
               lambda rng: [Sample((special,)), Sample((special, 1.0, 100.0, -100.0),
                                                       desc="values"),
                            Sample((randn(rng, 2, 3),), desc="finite"),
                            Sample((np.array([1, 2]),), desc="int64")],
               method="nan_to_num", inplace="nan_to_num_",
               keywords=("nan_to_num", "input", "nan", "posinf", "neginf"),
               gradcheck=False),
        OpInfo("baddbmm", lambda lib, a, b, c, **kw: lib.baddbmm(a, b, c, **kw),
               lambda rng: [Sample((randn(rng, 2, 3, 2), randn(rng, 2, 3, 4), randn(rng, 2, 4, 2))),
                            Sample((randn(rng, 2), randn(rng, 2, 3, 4), randn(rng, 2, 4, 2)),
                                   {"beta": 0.5, "alpha": 2.0}, desc="broadcast, beta, alpha"),
                            Sample((np.full((1, 1, 1), np.nan, FLOAT32), randn(rng, 1, 2, 2),
                                    randn(rng, 1, 2, 2)), {"beta": 0}, desc="beta 0 ignores NaN",
                                   grad=(1, 2))],
               method="baddbmm", inplace="baddbmm_",
               keywords=("baddbmm", "input", "batch1", "batch2"),
               error_inputs=[err((np.ones((2, 2)), np.ones((2, 2)), np.ones((1, 2, 2))),
                                 RuntimeError, "batch1 must be a 3D tensor"),
                             err((np.ones((2, 2)), np.ones((1, 2, 3)), np.ones((1, 2, 2))),
                                 RuntimeError, "Expected size for first two dimensions of batch2 "
                                 "tensor to be: [1, 3] but got: [1, 2].")]),
        OpInfo("addmv", lambda lib, a, m, v, **kw: lib.addmv(a, m, v, **kw),
               lambda rng: [Sample((randn(rng, 2), randn(rng, 2, 3), randn(rng, 3))),
                            Sample((np.asarray(randn(rng)), randn(rng, 2, 3), randn(rng, 3)),
                                   {"beta": 2, "alpha": -1}, desc="0-d input, beta, alpha")],
               method="addmv", inplace="addmv_", keywords=("addmv", "input", "mat", "vec"),
               error_inputs=[err((np.ones(2), np.ones((2, 3)), np.ones(2)), RuntimeError,
                                 "size mismatch, got input (2), mat (2x3), vec (2)")]),
        OpInfo("stacking", lambda lib, a, b: (lib.hstack([a, b]), lib.vstack([a, b]),
                                              lib.dstack([a, b]), lib.column_stack([a, b])),
               lambda rng: [Sample((randn(rng, 3), randn(rng, 3)), desc="vectors"),
                            Sample((randn(rng, 2, 3), randn(rng, 2, 3)), desc="matrices")],
               check_grad_fn_name=False),
        OpInfo("atleast", lambda lib, a: (lib.atleast_1d(a), lib.atleast_2d(a), lib.atleast_3d(a)),
               unary(((), (3,), (2, 3), (2, 3, 4))), check_grad_fn_name=False),
        OpInfo("broadcasting", lambda lib, a, b: lib.broadcast_tensors(a, b)
               + (lib.broadcast_to(a, (2, 3, 3)), lib.ravel(b), lib.fliplr(b), lib.flipud(a)),
               lambda rng: [Sample((randn(rng, 3, 1), randn(rng, 2, 1, 3)))]),
        OpInfo("argwhere", lambda lib, a: lib.argwhere(a),
               lambda rng: [Sample((np.array([[0, 1], [2, 0]]),))], differentiable=False,
               method="argwhere"),
        OpInfo("comparison_inplace", lambda lib, a, b: tuple(
            getattr(a.clone(), name)(b) for name in ("eq_", "ne_", "lt_", "le_", "gt_", "ge_")),
               lambda rng: [Sample((np.array([1.0, 2.0, 3.0], FLOAT32), 2.0)),
                            Sample((np.array([1, 2, 3]), np.array([3, 2, 1])), desc="int64")],
               differentiable=False),
        OpInfo("cumsum_", lambda lib, a: (a * 1).cumsum_(1), unary(((2, 3),)), inplace=None),
        OpInfo("cumprod_", lambda lib, a: (a * 1).cumprod_(0), unary(((2, 3),), make=positive)),
        OpInfo("fill_diagonal_", lambda lib, a, v, *w: (a * 1).fill_diagonal_(v, *w),
               lambda rng: [Sample((randn(rng, 3, 3), 2.0)), Sample((randn(rng, 5, 2), 0.0, True),
                                                                   desc="tall, wrap"),
                            Sample((randn(rng, 5, 2), 0.0), desc="tall"),
                            Sample((randn(rng, 2, 2, 2), -1.0), desc="3-d")],
               check_grad_fn_name=False),
    ]


def _more_scan_rows():
    """cummax, cummin, logcumsumexp."""
    def scan_samples(rng):
        return [Sample((distinct(rng, 3, 4), 1)), Sample((distinct(rng, 3, 4), 0), desc="dim 0"),
                Sample((np.array([1.0, 3.0, 3.0, 2.0], FLOAT32), 0), desc="ties"),
                Sample((np.asarray(randn(rng)), 0), desc="0-d"),
                Sample((np.array([4, 1, 5, 2]), -1), desc="int64"),
                Sample((np.zeros((1, 0), FLOAT32), 1), desc="empty")]
    rows = [OpInfo(name, lambda lib, a, d, _n=name: tuple(getattr(lib, _n)(a, d)), scan_samples,
                   method=name, keywords=(name, "input", "dim"), gradcheck=False)
            for name in ("cummax", "cummin")]
    rows += [
        OpInfo("cummax_nan", lambda lib, a: tuple(lib.cummax(a, 0)) + tuple(lib.cummin(a, 0)),
               lambda rng: [Sample((np.array([1.0, 3.0, 2.0, np.nan, 5.0], FLOAT32),))],
               gradcheck=False),
        OpInfo("logcumsumexp", lambda lib, a, d: lib.logcumsumexp(a, d),
               lambda rng: [Sample((randn(rng, 3, 4), 1)), Sample((randn(rng, 3, 4), 0),
                                                                 desc="dim 0"),
                            Sample((np.array([0.0, 0.0, 1000.0, -1000.0], FLOAT32), 0),
                                   desc="large"),
                            Sample((np.asarray(randn(rng)), 0), desc="0-d")],
               method="logcumsumexp", keywords=("logcumsumexp", "input", "dim")),
    ]
    return rows


def _more_nan_rows():
    """logit, xlogy, nansum, nanmean, aminmax (tril_indices and triu_indices, factories, are
    in test_more_ops.py)."""
    with_nan = np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, 3.0]], FLOAT32)
    return [
        OpInfo("logit", lambda lib, a, *e: lib.logit(a, *e),
               lambda rng: [Sample((probabilities(rng, 2, 3),)),
                            Sample((np.array([0.01, 0.5, 0.99, 0.3], FLOAT32), 0.1),
                                   desc="eps clamps"),
                            Sample((np.array([0.0, 1.0, 2.0], FLOAT32),), desc="edges")],
               method="logit", inplace="logit_", keywords=("logit", "input", "eps"),
               gradcheck=False),
        OpInfo("logit_smooth", lambda lib, a: lib.logit(a), unary(make=probabilities)),
        OpInfo("xlogy", lambda lib, a, b: lib.xlogy(a, b),
               lambda rng: [Sample((randn(rng, 2, 3), positive(rng, 2, 3))),
                            Sample((randn(rng, 3), positive(rng, 2, 3)), desc="broadcast"),
                            Sample((np.array([0.0, 1.0, 2.0], FLOAT32),
                                    np.array([0.0, 2.0, np.nan], FLOAT32)), desc="zeros, NaN",
                                   grad=(1,))],
               method="xlogy", inplace="xlogy_", keywords=("xlogy", "input", "other"),
               gradcheck=False),
        OpInfo("xlogy_numbers", lambda lib, a, b: lib.xlogy(a, b),
               lambda rng: [Sample((2.0, positive(rng, 3)), desc="number x"),
                            Sample((positive(rng, 3), 3), desc="number y")]),
        OpInfo("xlogy_smooth", lambda lib, a, b: lib.xlogy(a, b),
               lambda rng: [Sample((positive(rng, 2, 3), positive(rng, 2, 3)))]),
        OpInfo("nansum", lambda lib, a, *d, **kw: lib.nansum(a, *d, **kw),
               lambda rng: [Sample((with_nan,)), Sample((with_nan, 1), desc="dim"),
                            Sample((with_nan, 0), {"keepdim": True}, desc="keepdim"),
                            Sample((randn(rng, 2, 3),), desc="no NaN"),
                            Sample((np.array([1, 2]),), desc="int64")],
               method="nansum"),
        OpInfo("nanmean", lambda lib, a, *d, **kw: lib.nanmean(a, *d, **kw),
               lambda rng: [Sample((with_nan,)), Sample((with_nan, 1), desc="dim"),
                            Sample((randn(rng, 2, 3), 0), {"keepdim": True}, desc="keepdim")],
               method="nanmean", check_grad_fn_name=False,
               error_inputs=[err((np.array([1, 2]),), RuntimeError,
                                 "nanmean(): expected input to have floating point or complex "
                                 "dtype but got Long")]),
        OpInfo("aminmax", lambda lib, a, **kw: tuple(lib.aminmax(a, **kw)),
               lambda rng: [Sample((distinct(rng, 3, 4),)), Sample((distinct(rng, 3, 4),),
                                                                   {"dim": 1}, desc="dim"),
                            Sample((np.array([1.0, 1.0, 0.0], FLOAT32),), desc="ties"),
                            Sample((np.array([[3, 1], [2, 5]]),), {"dim": 0, "keepdim": True},
                                   desc="int64, keepdim")],
               method="aminmax", gradcheck=False,
               error_inputs=[err((np.zeros(0),), RuntimeError,
                                 "aminmax(): cannot compute aminmax over an empty dimension as "
                                 "the operation has no identity.")]),
    ]


def _more_decomposition_rows():
    """linalg.eigh, eigvalsh, matrix_power; kron, cdist."""
    def symmetric(rng, *shape):
        a = randn(rng, *shape).astype(np.float64)
        # Well separated eigenvalues: a rotation of 1, 2.5, 4, ...
        q, _ = np.linalg.qr(a)
        values = 1.0 + 1.5 * np.arange(shape[-1])
        return np.asarray((q * values[..., None, :]) @ np.swapaxes(q, -1, -2), FLOAT32)

    def gauge_free_eigh(lib, a):
        values, vectors = lib.linalg.eigh((a + a.mT) / 2)
        return values, vectors * vectors

    return [
        OpInfo("linalg.eigh", gauge_free_eigh,
               lambda rng: [Sample((symmetric(rng, 3, 3),)),
                            Sample((symmetric(rng, 2, 4, 4),), desc="batched")],
               check_grad_fn_name=False, atol=1e-5, rtol=1e-4, grad_atol=1e-4, grad_rtol=1e-3),
        OpInfo("linalg.eigvalsh", lambda lib, a, **kw: lib.linalg.eigvalsh((a + a.mT) / 2, **kw),
               lambda rng: [Sample((symmetric(rng, 3, 3),)),
                            Sample((symmetric(rng, 3, 3),), {"UPLO": "U"}, desc="upper")],
               atol=1e-5, rtol=1e-4),
        OpInfo("linalg.eigh_errors", lambda lib, a: lib.linalg.eigh(a).eigenvalues,
               lambda rng: [Sample((symmetric(rng, 2, 2),))], differentiable=False,
               error_inputs=[err((np.ones((2, 3)),), RuntimeError, "linalg.eigh: A must be "
                                 "batches of square matrices, but they are 2 by 3 matrices")]),
        OpInfo("linalg.qr", lambda lib, a: tuple(lib.linalg.qr(a)),
               lambda rng: [Sample((randn(rng, 3, 3),)), Sample((randn(rng, 4, 2),), desc="tall"),
                            Sample((randn(rng, 2, 4, 3),), desc="batched")],
               atol=1e-5, rtol=1e-4, grad_atol=1e-4, grad_rtol=1e-3,
               keywords=("linalg.qr", "A"),
               error_inputs=[err((np.ones(3),), RuntimeError, "linalg.qr: The input tensor A "
                                 "must have at least 2 dimensions.")]),
        OpInfo("linalg.qr_complete", lambda lib, a: tuple(lib.linalg.qr(a, "complete")),
               lambda rng: [Sample((randn(rng, 4, 2),))], differentiable=False, atol=1e-5,
               rtol=1e-4),
        OpInfo("linalg.matrix_power", lambda lib, a, n: lib.linalg.matrix_power(a, n),
               lambda rng: [Sample((randn(rng, 3, 3) * 0.5, 3)),
                            Sample((randn(rng, 2, 3, 3) * 0.5, 2), desc="batched"),
                            Sample((randn(rng, 3, 3) * 0.5 + 2 * np.eye(3, dtype=FLOAT32), -2),
                                   desc="negative"),
                            Sample((randn(rng, 3, 3), 1), desc="1")],
               check_grad_fn_name=False, atol=1e-5, rtol=1e-4),
        OpInfo("kron", lambda lib, a, b: lib.kron(a, b),
               lambda rng: [Sample((randn(rng, 2, 3), randn(rng, 2, 2))),
                            Sample((randn(rng, 3), randn(rng, 2, 2)), desc="1-d, 2-d"),
                            Sample((np.array([1, 2]), np.array([[1], [3]])), desc="int64")],
               method="kron", check_grad_fn_name=False),
        OpInfo("cdist", lambda lib, a, b, *p: lib.cdist(a, b, *p),
               lambda rng: [Sample((randn(rng, 3, 2), randn(rng, 4, 2))),
                            Sample((randn(rng, 2, 3, 2), randn(rng, 2, 4, 2), 1.0),
                                   desc="batched, p=1"),
                            Sample((randn(rng, 3, 2), randn(rng, 2, 2), 3.0), desc="p=3")],
               check_grad_fn_name=False, atol=1e-5, rtol=1e-4,
               error_inputs=[err((np.ones((2, 3)), np.ones((2, 2))), RuntimeError,
                                 "X1 and X2 must have the same number of columns. X1: 3 X2: 2")]),
    ]


def _more_order_rows():
    """quantile, rot90, tensor_split."""
    with_nan = np.array([[1.0, 5.0, 2.0, 8.0], [3.0, np.nan, 1.0, 0.0]], FLOAT32)
    rows = [
        OpInfo(f"quantile_{mode}", lambda lib, a, q, *d, _m=mode, **kw:
               lib.quantile(a, q, *d, interpolation=_m, **kw),
               lambda rng: [Sample((distinct(rng, 3, 4), 0.3)),
                            Sample((distinct(rng, 3, 5), np.array([0.3, 0.55, 0.8], FLOAT32),
                                    1),
                                   desc="tensor q, dim"),
                            Sample((distinct(rng, 3, 4), 0.5, 0), {"keepdim": True},
                                   desc="keepdim"),
                            Sample((distinct(rng, 2, 3), np.array([0.1, 0.9], FLOAT32)),
                                   {"keepdim": True}, desc="all, keepdim")],
               method="quantile" if mode == "linear" else None, check_grad_fn_name=False,
               gradcheck=mode == "linear")
        for mode in ("linear", "lower", "higher", "midpoint", "nearest")]
    rows += [
        OpInfo("quantile_nan", lambda lib, a, q=0.5: lib.quantile(a, q, 1),
               lambda rng: [Sample((with_nan,)),
                            Sample((with_nan, 1.0), desc="q=1"),
                            Sample((with_nan, 0.0), desc="q=0")],
               check_grad_fn_name=False, gradcheck=False,
               xfail={"backward": F_QUANTILE_NAN, "noncontiguous": F_QUANTILE_NAN},
               error_inputs=[err((np.ones(3),), RuntimeError,
                                 "quantile() q must be in the range [0, 1] but got 1.5",
                                 {"q": 1.5}),
                             err((np.array([1, 2]),), RuntimeError,
                                 "quantile() input tensor must be either float or double "
                                 "dtype", {"q": 0.5})]),
        OpInfo("rot90", lambda lib, a, *args: lib.rot90(a, *args),
               lambda rng: [Sample((randn(rng, 2, 3),)), Sample((randn(rng, 2, 3), -1),
                                                               desc="k=-1"),
                            Sample((randn(rng, 2, 3, 4), 2, (2, 0)), desc="k=2, dims"),
                            Sample((randn(rng, 2, 3), 4), desc="k=4")],
               method="rot90", check_grad_fn_name=False,
               error_inputs=[err((np.ones(3),), RuntimeError,
                                 "expected total dims >= 2, but got total dims = 1")]),
        OpInfo("tensor_split", lambda lib, a, s, *d: lib.tensor_split(a, s, *d),
               lambda rng: [Sample((randn(rng, 7), 3)), Sample((randn(rng, 7), [1, 5]),
                                                              desc="indices"),
                            Sample((randn(rng, 2, 5), 2, 1), desc="dim 1"),
                            Sample((randn(rng, 4), [3, 1, 9]), desc="unordered, past the end")],
               method="tensor_split", check_grad_fn_name=False),
    ]
    return rows


def _more_put_rows():
    """Tensor.index_put(_) (with accumulate) and index_copy(_)."""
    rows_index = np.array([0, 2, 0])
    return [
        OpInfo("index_put", lambda lib, a, i, v, *acc: a.index_put((i,), v, *acc),
               lambda rng: [Sample((randn(rng, 3, 2), np.array([0, 2]), randn(rng, 2, 2))),
                            Sample((randn(rng, 3, 2), rows_index, randn(rng, 3, 2), True),
                                   desc="accumulate repeats"),
                            Sample((randn(rng, 3, 2), rows_index, randn(rng, 2), True),
                                   desc="accumulate, broadcast values"),
                            Sample((np.arange(4), np.array([1, 1]), np.array(5), True),
                                   desc="int64")]),
        OpInfo("index_put_errors", lambda lib, a, i, v: a.index_put(i, v),
               lambda rng: [Sample((randn(rng, 3), (np.array([1]),), randn(rng, 1)))],
               error_inputs=[err((np.ones(3), np.array([0]), np.ones(1)), TypeError,
                                 "index_put(): argument 'indices' (position 1) must be tuple of "
                                 "Tensors, not Tensor")]),
        OpInfo("index_put_", lambda lib, a, i, v, *acc: (a * 1).index_put_((i,), v, *acc),
               lambda rng: [Sample((randn(rng, 3, 2), np.array([0, 2]), randn(rng, 2, 2))),
                            Sample((randn(rng, 3, 2), rows_index, randn(rng, 3, 2), True),
                                   desc="accumulate repeats")]),
        OpInfo("index_put_pairs", lambda lib, a, i, j, v: a.index_put((i, j), v, True),
               lambda rng: [Sample((randn(rng, 3, 4), np.array([0, 0, 2]), np.array([1, 1, 3]),
                                    randn(rng, 3)))]),
        OpInfo("index_copy", lambda lib, a, d, i, s: a.index_copy(d, i, s),
               lambda rng: [Sample((randn(rng, 3, 2), 0, np.array([2, 0]), randn(rng, 2, 2))),
                            Sample((randn(rng, 3, 4), 1, np.array([3]), randn(rng, 3, 1)),
                                   desc="dim 1"),
                            Sample((np.arange(3), 0, np.array([1]), np.array([9])),
                                   desc="int64")],
               inplace="index_copy_",
               error_inputs=[err((np.ones((3, 2), FLOAT32), 0, np.array([2]), np.ones((1, 2))),
                                 RuntimeError, "index_copy_(): self and source expected to have "
                                 "the same dtype, but got (self) Float and (source) Double"),
                             err((np.ones((3, 2)), 0, np.array([5]), np.ones((1, 2))),
                                 IndexError, "index_copy_(): index 5 is out of bounds for "
                                 "dimension 0 with size 3")]),
    ]


def _more_combination_rows():
    """block_diag, cartesian_prod, logdet."""
    return [
        OpInfo("block_diag", lambda lib, *ts: lib.block_diag(*ts),
               lambda rng: [Sample((randn(rng, 2, 3), randn(rng, 1, 2))),
                            Sample((randn(rng, 2), np.asarray(randn(rng)), randn(rng, 2, 2)),
                                   desc="vector, 0-d, matrix"),
                            Sample((np.array([[1, 2]]), np.array(3)), desc="int64")],
               check_grad_fn_name=False,
               error_inputs=[err((np.ones((1, 1, 1)),), RuntimeError,
                                 "ember.block_diag: Input tensors must have 2 or fewer "
                                 "dimensions. Input 0 has 3 dimensions")]),
        OpInfo("cartesian_prod", lambda lib, *ts: lib.cartesian_prod(*ts),
               lambda rng: [Sample((randn(rng, 2), randn(rng, 3))),
                            Sample((randn(rng, 2), randn(rng, 2), randn(rng, 2)), desc="three"),
                            Sample((np.array([1, 2]), np.array([3])), desc="int64")],
               check_grad_fn_name=False),
        OpInfo("logdet", lambda lib, a: lib.logdet(a),
               lambda rng: [Sample((randn(rng, 3, 3) + 3 * np.eye(3, dtype=FLOAT32),)),
                            Sample((np.array([[2.0, 0.0], [0.0, -1.0]], FLOAT32),),
                                   desc="negative determinant")],
               method="logdet", check_grad_fn_name=False, gradcheck=False),
        OpInfo("logdet_singular", lambda lib, a: lib.logdet(a),
               lambda rng: [Sample((np.zeros((2, 2), FLOAT32),))], differentiable=False),
        OpInfo("logdet_smooth", lambda lib, a: lib.logdet(a),
               lambda rng: [Sample((randn(rng, 2, 3, 3) + 3 * np.eye(3, dtype=FLOAT32),))],
               check_grad_fn_name=False),
    ]


def _checkpoint_rows():
    """utils.checkpoint: values and gradients through the recomputation, both variants."""
    def segment(a, b):
        return (a * b).sin() + a

    def checkpointed(lib, a, b, use_reentrant, **kwargs):
        return lib.utils.checkpoint.checkpoint(segment, a, b, use_reentrant=use_reentrant,
                                               **kwargs)

    def samples(rng):
        return [Sample((randn(rng, 3, 4), randn(rng, 4), reentrant),
                       desc=f"use_reentrant={reentrant}") for reentrant in (True, False)] + [
            Sample((randn(rng), randn(rng), False), desc="0-d"),
            Sample((randn(rng, 0, 1), randn(rng, 1), True), desc="empty"),
            Sample((randn(rng, 2, 3), randn(rng, 3), False), grad=(1,),
                   desc="only the second argument requires grad"),
        ]

    # Non-reentrant outputs hang on ember's CheckpointFunctionBackward node, where PyTorch's
    # saved-tensor hooks leave the last op's (AddBackward0).
    return [OpInfo("utils.checkpoint", checkpointed, samples, check_grad_fn_name=False,
                   requires="utils.checkpoint.checkpoint",
                   error_inputs=[err((np.ones(2, FLOAT32), np.ones(2, FLOAT32), False),
                                     ValueError, "determinism_check should be one of "
                                     "['default', 'none'], but got bad",
                                     {"determinism_check": "bad"})])]


def _compiled_pool_rows():
    """max_pool2d and avg_pool2d beyond the plain samples, for the compiled kernels and the
    NumPy code alike: dilation, ceil_mode, indices, float64, NaN windows (the last NaN wins),
    -inf windows beside padding (the first element inside the input wins), relu's -0.0."""
    def F(lib):
        return lib.nn.functional

    tol = {"atol": 1e-5, "rtol": 1e-4, "grad_atol": 1e-4, "grad_rtol": 1e-4}
    nan_windows = np.array([[[[np.nan, 1.0, 3.0, np.nan], [2.0, np.nan, 1.0, 2.0],
                              [5.0, 5.0, -1.0, 0.5], [5.0, 4.0, 0.5, 0.5]]]], FLOAT32)
    minus_inf = np.array([[[[-np.inf, -np.inf, 1.0], [-np.inf, -np.inf, 2.0],
                            [3.0, 4.0, 5.0]]]], FLOAT32)

    def row(name, fn, samples, attribute, **kwargs):
        return OpInfo(name, fn, samples, requires=f"nn.functional.{attribute}",
                      **{**tol, **kwargs})

    return [
        row("max_pool2d_general", lambda lib, x, *a, **kw: F(lib).max_pool2d(x, *a, **kw),
            lambda rng: [Sample((distinct(rng, 2, 2, 7, 8), (2, 3)),
                                {"stride": (1, 2), "padding": (1, 1), "dilation": (2, 1),
                                 "ceil_mode": True}, desc="dilation, ceil_mode"),
                         Sample((distinct(rng, 3, 6, 5, dtype=np.float64), 3),
                                {"stride": 2, "padding": 1}, desc="unbatched float64"),
                         Sample((distinct(rng, 1, 1, 5, 7), 2), desc="odd sizes")],
            "max_pool2d",
            error_inputs=[err((np.ones((1, 1, 9, 9)), 2), RuntimeError,
                              "pad should be smaller than or equal to half of kernel size, but "
                              "got padW = 2, padH = 2, kW = 2, kH = 2",
                              {"padding": 2, "dilation": 3})]),
        row("max_pool2d_indices",
            lambda lib, x, *a, **kw: F(lib).max_pool2d(x, *a, return_indices=True, **kw),
            lambda rng: [Sample((distinct(rng, 2, 3, 6, 6), 2), desc="2x2"),
                         Sample((distinct(rng, 1, 2, 7, 7), 3), {"stride": 2, "padding": 1},
                                desc="3x3 stride 2 padding 1")],
            "max_pool2d"),
        row("max_pool2d_edges", lambda lib, x, *a, **kw: F(lib).max_pool2d(x, *a, **kw),
            lambda rng: [Sample((nan_windows, 2), desc="NaN windows"),
                         Sample((nan_windows, 3), {"stride": 1, "padding": 1},
                                desc="NaN windows, overlapping"),
                         Sample((minus_inf, 2), {"stride": 1, "padding": 1},
                                desc="-inf windows beside padding"),
                         Sample((np.zeros((0, 2, 4, 4), FLOAT32), 2), desc="empty batch"),
                         Sample((np.zeros((0, 2, 5, 5), FLOAT32), 3), {"padding": 1},
                                desc="empty batch, padding")],
            "max_pool2d", gradcheck=False, noncontiguous=False),
        row("avg_pool2d_options", lambda lib, x, *a, **kw: F(lib).avg_pool2d(x, *a, **kw),
            lambda rng: [Sample((randn(rng, 2, 2, 7, 8), (2, 3)),
                                {"stride": (1, 2), "padding": (1, 1), "ceil_mode": True,
                                 "count_include_pad": False}, desc="ceil_mode, padding left out"),
                         Sample((randn(rng, 3, 6, 5, dtype=np.float64), 3),
                                {"stride": 2, "padding": 1, "divisor_override": 4},
                                desc="unbatched float64, divisor_override")],
            "avg_pool2d"),
        row("avg_pool2d_empty", lambda lib, x, *a, **kw: F(lib).avg_pool2d(x, *a, **kw),
            lambda rng: [Sample((np.zeros((0, 2, 4, 4), FLOAT32), 2), desc="empty batch"),
                         Sample((np.zeros((0, 2, 5, 5), FLOAT32), 3), {"padding": 1},
                                desc="empty batch, padding")],
            "avg_pool2d", noncontiguous=False),
        row("relu_signed_zero", lambda lib, x: F(lib).relu(x),
            lambda rng: [Sample((np.array([-0.0, 0.0, -1.0, np.nan, np.inf], FLOAT32),),
                                desc="-0.0, NaN, inf")],
            "relu", gradcheck=False),
    ]

op_db = (_elementwise_rows() + _integer_rows() + _reduction_rows() + _shape_rows()
         + _indexing_rows() + _inplace_rows() + _linalg_rows() + _functional_rows()
         + _sorting_rows() + _attention_rows() + _recurrent_rows() + _layer_rows()
         + _more_elementwise_rows() + _more_indexing_rows()
         + _more_linalg_rows() + _more_shape_rows() + _more_reduction_rows()
         + _more_view_rows() + _more_misc_rows() + _more_scan_rows()
         + _more_nan_rows() + _more_decomposition_rows() + _more_order_rows()
         + _more_put_rows() + _more_combination_rows() + _checkpoint_rows()
         + _compiled_pool_rows())

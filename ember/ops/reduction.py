"""Reductions: sum, mean, prod, var/std, max/min (with and without dim), argmax, norm, logsumexp."""

import builtins
import math
import warnings
from collections import namedtuple

import numpy as np

from .. import _dtype
from .._backend import array_module
from .._dtype import type_name
from ..autograd.function import Function
from . import elementwise
from .elementwise import write_out, write_out_pair
from .indexing import take_along_backward
from .shape import normalize_dim


def _return_type(name: str):
    """The ``(values, indices)`` named tuple ``max``/``min`` return, printed as PyTorch does."""
    base = namedtuple(name, ["values", "indices"])

    def __repr__(self) -> str:
        return f"ember.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__,
                                "__module__": "ember.return_types"})


max_return = _return_type("max")
min_return = _return_type("min")


def _axes(dim, ndim):
    """``dim`` (None, an int or a sequence) as a tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        normalize_dim(dim, ndim)
        return (dim % ndim,) if ndim else ()  # a 0-d tensor's dim 0 or -1 reduces nothing
    if len(dim) == 0:  # an empty list or tuple reduces over all dimensions, as in PyTorch
        return tuple(range(ndim))
    axes = tuple(normalize_dim(d, ndim) for d in dim)
    return axes if ndim else ()


def _expand_back(grad, shape, axes, keepdim):
    """Put back the reduced axes of ``grad`` (as size 1) so it broadcasts against the input."""
    if not keepdim and len(shape):
        grad = grad.reshape([1 if i in axes else s for i, s in enumerate(shape)])
    return grad


class Sum(Function):
    contiguous_output = True

    @staticmethod
    def forward(ctx, a, axes, keepdim, dtype):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        if dtype is None and a.dtype.kind in "biu":
            dtype = np.int64
        return a.sum(axis=axes, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        grad = _expand_back(grad, ctx.shape, ctx.axes, ctx.keepdim)
        return array_module(grad).broadcast_to(grad, ctx.shape), None, None, None


class SumDim(Sum):
    node_name = "SumBackward1"


class Mean(Function):
    contiguous_output = True

    @staticmethod
    def forward(ctx, a, axes, keepdim, dtype):
        if dtype is not None:
            a = a.astype(dtype)
        if a.dtype.kind not in "fc":
            raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either "
                               f"a floating point or complex dtype. Got: {type_name(a.dtype)}")
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        count = int(np.prod([a.shape[i] for i in axes]))
        ctx.count = builtins.max(1, count)
        # The same sum as ndarray.mean, without its Python-level bookkeeping (2-3 us a call);
        # the mean of nothing is 0 / 0, NaN, as in PyTorch (and without NumPy's warning).
        return a.sum(axis=axes, keepdims=keepdim) / count

    @staticmethod
    def backward(ctx, grad):
        grad = _expand_back(grad, ctx.shape, ctx.axes, ctx.keepdim) / ctx.count
        return array_module(grad).broadcast_to(grad, ctx.shape), None, None, None


class MeanDim(Mean):
    node_name = "MeanBackward1"


class Prod(Function):
    contiguous_output = True

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        # Integers multiply in int64, as in PyTorch (NumPy would pick uint64 for uint8).
        out = a.prod(axis=axes, keepdims=keepdim,
                     dtype=np.int64 if a.dtype.kind in "biu" else None)
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out

    @classmethod
    def backward(cls, ctx, grad):
        # PyTorch's formulas, so that NaN and inf propagate as there: without a zero in the
        # tensor, prod / a_i (NaN at a NaN or inf element, where the product of the others
        # would be finite); with one, the product of the others from exclusive running
        # products on both sides; for the product of all elements with two or more zeros, 0.
        a, out = ctx.saved_tensors
        if a.ndim == 0:
            return grad, None, None
        xp = array_module(a)
        grad = _expand_back(grad, a.shape, ctx.axes, ctx.keepdim)
        zeros = int((a == 0).sum())
        if zeros == 0:
            return grad * (_expand_back(out, a.shape, ctx.axes, ctx.keepdim) / a), None, None
        if cls is Prod and zeros > 1:
            return xp.zeros(a.shape, dtype=grad.dtype), None, None
        kept = [i for i in range(a.ndim) if i not in ctx.axes]
        moved = xp.transpose(a, kept + list(ctx.axes))
        # the reduced elements' count spelled out: -1 is ambiguous when a kept dim is empty
        flat = moved.reshape(moved.shape[:len(kept)] + (math.prod(moved.shape[len(kept):]),))
        ones = xp.ones_like(flat[..., :1])
        left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([flat[..., 1:], ones], axis=-1), -1),
                                   axis=-1), -1)
        others = (left * right).reshape(moved.shape)
        others = xp.transpose(others, np.argsort(kept + list(ctx.axes)))
        return grad * others, None, None


class ProdDim(Prod):
    node_name = "ProdBackward1"


def centered(a, axes):
    """``a`` minus its mean over ``axes``, in float64 when ``a`` is float32 or float16.

    Variances of float32 data lose their digits in float32: the mean of values near 1000 is
    off by about 1e-4, and that error squared swamps a variance of 1e-7 (NumPy's float32 var
    of 1000 +- 1e-3 is 1% off; a constant row has a non-zero std). In float64 the mean is exact
    enough that the deviations keep every digit of float32, as PyTorch's accumulation keeps them.
    """
    wide = a if a.dtype.kind != "f" or a.dtype.itemsize >= 8 else a.astype(np.float64)
    count = builtins.max(1, int(np.prod([a.shape[i] for i in axes])))  # empty: no deviations
    return wide - wide.sum(axis=axes, keepdims=True) / count


def sum_of_squares(deviations, axes, keepdim):
    return (deviations * deviations).sum(axis=axes, keepdims=keepdim)


def _warn_if_no_degrees_of_freedom(name: str, divisor: int) -> None:
    if divisor <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly "
                      "less than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=6)


class Var(Function):
    contiguous_output = True

    @staticmethod
    def forward(ctx, a, axes, correction, keepdim, whole=False):
        count = int(np.prod([a.shape[i] for i in axes]))
        ctx.save_for_backward(a)
        ctx.axes, ctx.keepdim, ctx.whole = axes, keepdim, whole
        # PyTorch divides by max(0, n - correction) forward, but by n - correction backward
        # (the gradient of a single element's var with correction 2 is -0, not NaN).
        ctx.divisor = count - correction
        _warn_if_no_degrees_of_freedom("var", ctx.divisor)
        variance = sum_of_squares(centered(a, axes), axes, keepdim) / builtins.max(0,
                                                                                 ctx.divisor)
        return variance.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        grad = _expand_back(grad, a.shape, ctx.axes, ctx.keepdim)
        if ctx.whole and ctx.divisor <= 0:
            # PyTorch's rule for a variance of all elements (or of a 0-d tensor) without
            # degrees of freedom: 2 / 0 is inf, times a deviation of 0 NaN, so the gradient is
            # NaN where an element equals the mean and inf elsewhere (also for n < correction).
            xp = array_module(a)
            at_mean = a == a.mean(axis=ctx.axes, keepdims=True)
            return grad * xp.where(at_mean, a.dtype.type("nan"), a.dtype.type("inf")), None, \
                None, None, None
        deviations = centered(a, ctx.axes).astype(a.dtype, copy=False)
        scale = 2.0 / ctx.divisor if ctx.divisor else float("inf")  # as C's 2.0 / 0
        return scale * grad * deviations, None, None, None, None


class Std(Function):
    contiguous_output = True

    @staticmethod
    def forward(ctx, a, axes, correction, keepdim):
        count = int(np.prod([a.shape[i] for i in axes]))
        ctx.divisor = builtins.max(0, count - correction)
        _warn_if_no_degrees_of_freedom("std", count - correction)
        # The square root in float64 too: a float32 std of 1e20 is fine, its variance is not.
        variance = sum_of_squares(centered(a, axes), axes, keepdim) / ctx.divisor
        out = array_module(a).sqrt(variance).astype(a.dtype, copy=False)
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        grad = _expand_back(grad, a.shape, ctx.axes, ctx.keepdim)
        out = _expand_back(out, a.shape, ctx.axes, ctx.keepdim)
        deviations = centered(a, ctx.axes).astype(a.dtype, copy=False)
        # Where the std is 0 every deviation is 0 too; PyTorch's gradient there is 0.
        xp = array_module(a)
        zero = out == 0
        return xp.where(zero, 0, grad * deviations / (ctx.divisor * xp.where(zero, 1, out))), \
            None, None, None


class StdMean(Function):
    """``(std, mean)`` in one pass; the mean's gradient spreads evenly, the std's as ``Std``'s."""

    contiguous_output = True
    root = True  # VarMean sets False

    @classmethod
    def forward(cls, ctx, a, axes, correction, keepdim):
        count = int(np.prod([a.shape[i] for i in axes]))
        ctx.count, ctx.divisor = count, count - correction
        _warn_if_no_degrees_of_freedom("std_mean" if cls.root else "var_mean", ctx.divisor)
        deviations = centered(a, axes)
        spread = sum_of_squares(deviations, axes, keepdim) / builtins.max(0, ctx.divisor)
        if cls.root:
            spread = array_module(a).sqrt(spread)
        spread = spread.astype(a.dtype, copy=False)
        mean = a.mean(axis=axes, keepdims=keepdim)
        ctx.save_for_backward(a, spread)
        ctx.axes, ctx.keepdim = axes, keepdim
        return spread, mean.astype(a.dtype, copy=False)

    @classmethod
    def backward(cls, ctx, grad_spread, grad_mean):
        a, spread = ctx.saved_tensors
        xp = array_module(a)
        grad_input = _expand_back(grad_mean, a.shape, ctx.axes, ctx.keepdim) / ctx.count
        deviations = centered(a, ctx.axes).astype(a.dtype, copy=False)
        grad_spread = _expand_back(grad_spread, a.shape, ctx.axes, ctx.keepdim)
        if cls.root:
            spread = _expand_back(spread, a.shape, ctx.axes, ctx.keepdim)
            zero = spread == 0
            grad_input = grad_input + xp.where(
                zero, 0, grad_spread * deviations / (ctx.divisor * xp.where(zero, 1, spread)))
        else:
            grad_input = grad_input + grad_spread * deviations * (2.0 / ctx.divisor)
        return grad_input, None, None, None


class VarMean(StdMean):
    root = False


class Nansum(Function):
    """The sum with NaNs counted as zero; they get no gradient."""

    contiguous_output = True

    @staticmethod
    def forward(ctx, a, axes, keepdim, dtype):
        xp = array_module(a)
        ctx.save_for_backward(a)
        ctx.axes, ctx.keepdim = axes, keepdim
        return xp.nansum(a, axis=axes, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        grad = _expand_back(grad, a.shape, ctx.axes, ctx.keepdim)
        return grad * ~array_module(a).isnan(a), None, None, None


class Aminmax(Function):
    """``(min, max)`` at once; each one's gradient is shared by the elements equal to it."""

    contiguous_output = True

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        low = a.min(axis=axes, keepdims=keepdim)
        high = a.max(axis=axes, keepdims=keepdim)
        ctx.save_for_backward(a, low, high)
        ctx.axes, ctx.keepdim = axes, keepdim
        return low, high

    @staticmethod
    def backward(ctx, grad_low, grad_high):
        a, low, high = ctx.saved_tensors
        grad = 0
        for extreme, grad_extreme in ((low, grad_low), (high, grad_high)):
            chosen = a == _expand_back(extreme, a.shape, ctx.axes, ctx.keepdim)
            share = chosen / chosen.sum(axis=ctx.axes, keepdims=True)
            grad = grad + share * _expand_back(grad_extreme, a.shape, ctx.axes, ctx.keepdim)
        return grad, None, None


class CountNonzero(Function):
    differentiable = False
    contiguous_output = True

    @staticmethod
    def forward(ctx, a, axes):
        return (a != 0).sum(axis=axes).astype(np.int64)


class Bincount(Function):
    """How often each value 0, 1, ... occurs in a 1-d int tensor (the sum of ``weights`` at
    its positions, when given)."""

    differentiable = False

    @staticmethod
    def forward(ctx, a, weights, minlength):
        xp = array_module(a)
        out = xp.bincount(a, weights=weights, minlength=minlength)
        if weights is None:
            return out.astype(np.int64)
        return out.astype(weights.dtype if weights.dtype.kind == "f" else np.float64)


class Histc(Function):
    """A histogram of ``bins`` equal bins between ``low`` and ``high`` (the data's range when
    both are 0); values outside are not counted."""

    differentiable = False

    @staticmethod
    def forward(ctx, a, bins, low, high):
        xp = array_module(a)
        counts, _ = xp.histogram(a, bins=bins, range=(low, high))
        return counts.astype(a.dtype)


def _is_extremum(a, out):
    """Where ``a`` holds the reduction's result ``out``: a NaN result comes from the NaNs."""
    xp = array_module(a)
    mask = a == out
    if a.dtype.kind in "fc":
        mask |= xp.isnan(a) & xp.isnan(out)
    return mask


def evenly_distribute(grad, a, out):
    """The gradient of a reduction to one value ``out`` of ``a`` (max, min, median over all
    elements): shared evenly by the elements equal to it. Only they get it, even a NaN or
    infinite one (``grad * mask`` would spread NaN to every element), as in PyTorch."""
    mask = _is_extremum(a, out)
    share = grad / mask.sum(dtype=grad.dtype)
    return elementwise.zero_where(array_module(a).broadcast_to(share, a.shape), ~mask)


class _ExtremumAll(Function):
    """max() / min() over all elements; ties share the gradient evenly, as PyTorch does."""

    reduce = None

    @staticmethod
    def forward(ctx, a):
        raise NotImplementedError

    @classmethod
    def _forward(cls, ctx, a, reduce):
        if a.size == 0:
            raise RuntimeError(f"{reduce}(): Expected reduction dim to be specified for input."
                               "numel() == 0. Specify the reduction dim with the 'dim' argument.")
        out = getattr(a, reduce)()
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        return evenly_distribute(grad, a, out)


class MaxAll(_ExtremumAll):
    node_name = "MaxBackward1"

    @staticmethod
    def forward(ctx, a):
        return MaxAll._forward(ctx, a, "max")


class MinAll(_ExtremumAll):
    node_name = "MinBackward1"

    @staticmethod
    def forward(ctx, a):
        return MinAll._forward(ctx, a, "min")


class _ExtremumDim(Function):
    """max(dim) / min(dim): values and indices; the gradient goes to the chosen index."""

    contiguous_output = True

    @staticmethod
    def forward(ctx, a, axis, keepdim, reduce):
        xp = array_module(a)
        ctx.shape, ctx.axis, ctx.keepdim = a.shape, axis, keepdim
        if a.ndim == 0:  # the one element is the extremum
            indices = xp.zeros((), np.int64)
            ctx.mark_non_differentiable(indices)
            return a.copy(), indices
        if a.shape[axis] == 0:
            raise IndexError(f"{reduce}(): Expected reduction dim {axis} to have non-zero size.")
        indices = getattr(xp, "arg" + reduce)(a, axis=axis, keepdims=True)
        values = xp.take_along_axis(a, indices, axis=axis)
        ctx.save_for_backward(indices)
        if not keepdim:
            values, indices = values.squeeze(axis), indices.squeeze(axis)
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        if not ctx.shape:
            return grad_values, None, None, None
        indices, = ctx.saved_tensors
        xp = array_module(grad_values)
        if not ctx.keepdim and len(ctx.shape):
            grad_values = xp.expand_dims(grad_values, ctx.axis)
        return take_along_backward(grad_values, indices, ctx.axis, ctx.shape), None, None, None


class MaxDim(_ExtremumDim):
    node_name = "MaxBackward0"


class MinDim(_ExtremumDim):
    node_name = "MinBackward0"


class Amax(Function):
    contiguous_output = True

    @staticmethod
    def forward(ctx, a, axes, keepdim, reduce):
        out = getattr(a, reduce)(axis=axes, keepdims=keepdim)
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        out = _expand_back(out, a.shape, ctx.axes, ctx.keepdim)
        grad = _expand_back(grad, a.shape, ctx.axes, ctx.keepdim)
        mask = a == out  # a NaN slice gives NaN gradients, as in PyTorch
        return grad * mask / mask.sum(axis=ctx.axes, keepdims=True), None, None, None


class Amin(Amax):
    pass


class Logsumexp(Function):
    contiguous_output = True

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        xp = array_module(a)
        if a.dtype.kind in "biu":  # integers give the default float dtype, as in PyTorch
            a = a.astype(_dtype.get_default_dtype().numpy)
        # Shifted by the largest finite value so that exp cannot overflow; an empty reduction
        # has none (and sums to 0: log gives -inf, as in PyTorch).
        peak = a.max(axis=axes, keepdims=True) if a.size else xp.zeros(
            [1 if i in axes else n for i, n in enumerate(a.shape)], a.dtype)
        peak = xp.where(xp.isfinite(peak), peak, 0)
        out = xp.log(xp.exp(a - peak).sum(axis=axes, keepdims=True)) + peak
        out = out if keepdim else out.squeeze(axes)
        ctx.save_for_backward(a, out)  # the returned array itself: in-place changes are seen
        ctx.axes, ctx.keepdim = axes, keepdim
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        grad = _expand_back(grad, a.shape, ctx.axes, ctx.keepdim)
        out = _expand_back(out, a.shape, ctx.axes, ctx.keepdim)
        return grad * array_module(a).exp(a - out), None, None


class LinalgVectorNorm(Function):
    contiguous_output = True

    @staticmethod
    def forward(ctx, a, p, axes, keepdim):
        xp = array_module(a)
        if p == 2:
            out = xp.sqrt((a * a).sum(axis=axes, keepdims=keepdim))
        elif p == 0:  # the number of nonzero elements
            out = (a != 0).sum(axis=axes, keepdims=keepdim).astype(a.dtype)
        elif p == float("inf"):
            out = xp.abs(a).max(axis=axes, keepdims=keepdim)
        elif p == -float("inf"):
            out = xp.abs(a).min(axis=axes, keepdims=keepdim)
        else:
            out = (xp.abs(a) ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)
        ctx.save_for_backward(a, out)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        return out

    @staticmethod
    def backward(ctx, grad):
        # PyTorch's formulas for each order, so that NaN and inf give what PyTorch gives:
        # sgn(NaN) is 0 (a NaN element adds nothing to the 1-norm's gradient), and the terms
        # that divide by the norm are 0 where the norm is 0.
        a, out = ctx.saved_tensors
        xp = array_module(a)
        grad = _expand_back(grad, a.shape, ctx.axes, ctx.keepdim)
        out = _expand_back(out, a.shape, ctx.axes, ctx.keepdim)
        p = ctx.p
        if p == 0:
            return xp.zeros_like(a), None, None, None
        sign = xp.sign(a)
        sign = xp.where(xp.isnan(sign), 0, sign)
        if p == 1:
            return sign * grad, None, None, None
        if p == 2:
            return grad * xp.where(out == 0, 0, a / out), None, None, None
        if abs(p) == float("inf"):
            # every element at the max (or min) |a|, or NaN, shares the gradient
            magnitude = xp.abs(a)
            mask = (magnitude == out) | xp.isnan(magnitude)
            return (sign * ((grad / mask.sum(axis=ctx.axes, keepdims=True)) * mask),
                    None, None, None)
        if p < 1:
            scaled = sign * xp.where(a == 0, 0, xp.abs(a) ** (p - 1))
            return scaled * grad * out ** (1 - p), None, None, None
        scaled = sign * xp.abs(a) ** (p - 1) if p < 2 else a * xp.abs(a) ** (p - 2)
        return scaled * xp.where(out == 0, 0, grad / out ** (p - 1)), None, None, None


# ---- the plain functions -----------------------------------------------------------------



def _check_identity(name: str, input, dim) -> None:
    """PyTorch's errors for a max-like reduction (no identity) of an empty tensor or dim.

    With no ``dim`` (None or ``()``) an empty tensor is a RuntimeError; otherwise the first of
    the given dims (as given, negative ones too) that is empty is an IndexError.
    """
    shape = input.shape
    dims = () if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        if input.numel() == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        return
    for d in dims:
        if shape and shape[normalize_dim(d, len(shape))] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum of all elements, or over ``dim`` (an int or a tuple)."""
    axes = _axes(dim, input.ndim)
    numpy_dtype = dtype.numpy if dtype is not None else None
    function = Sum if dim is None else SumDim
    return function.apply(input, axes, keepdim, numpy_dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of all elements, or over ``dim``; floating-point input only."""
    axes = _axes(dim, input.ndim)
    numpy_dtype = dtype.numpy if dtype is not None else None
    function = Mean if dim is None else MeanDim
    return write_out("mean", function.apply(input, axes, keepdim, numpy_dtype), out)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of all elements, or along ``dim`` (of ``input`` cast to ``dtype`` when given)."""
    if dtype is not None:
        input = elementwise.to_dtype(input, dtype)
    function = Prod if dim is None else ProdDim
    return function.apply(input, _axes(dim, input.ndim), keepdim)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased else 0


def _check_floating(input) -> None:
    if input._data.dtype.kind not in "fc":
        raise RuntimeError("std and var only support floating point and complex dtypes")


def var(input, dim=None, unbiased=True, keepdim=False, *, correction=None, out=None):
    """Variance (Bessel-corrected unless ``unbiased=False`` or ``correction=0``).

    ``unbiased`` is the older spelling of ``correction`` that PyTorch still accepts, in this
    position: ``var(x, 0, False, True)``.
    """
    _check_floating(input)
    # Without a dim (or on a 0-d tensor) PyTorch's gradient differs where there are no degrees
    # of freedom (see Var.backward).
    whole = dim is None or input.ndim == 0
    result = Var.apply(input, _axes(dim, input.ndim), _correction(unbiased, correction), keepdim,
                       whole)
    return write_out("var", result, out)


def std(input, dim=None, unbiased=True, keepdim=False, *, correction=None, out=None):
    """Standard deviation (Bessel-corrected unless ``unbiased=False`` or ``correction=0``).

    ``unbiased`` is the older spelling of ``correction``, as in ``var``.
    """
    _check_floating(input)
    result = Std.apply(input, _axes(dim, input.ndim), _correction(unbiased, correction), keepdim)
    return write_out("std", result, out)


def max(input, dim=None, keepdim=False, *, out=None):
    """Largest element, ``(values, indices)`` along ``dim``, or ``maximum`` of two tensors."""
    if dim is None:
        return write_out("max", MaxAll.apply(input), out)
    if not isinstance(dim, int):  # torch.max(a, b) is the elementwise maximum
        return elementwise.maximum(input, dim, out=out)
    result = max_return(*MaxDim.apply(input, normalize_dim(dim, input.ndim), keepdim, "max"))
    return write_out_pair("max", result, out)


def min(input, dim=None, keepdim=False, *, out=None):
    """Smallest element, ``(values, indices)`` along ``dim``, or ``minimum`` of two tensors."""
    if dim is None:
        return write_out("min", MinAll.apply(input), out)
    if not isinstance(dim, int):
        return elementwise.minimum(input, dim, out=out)
    result = min_return(*MinDim.apply(input, normalize_dim(dim, input.ndim), keepdim, "min"))
    return write_out_pair("min", result, out)


def amax(input, dim=(), keepdim=False, *, out=None):
    """Largest elements over ``dim`` (all dims by default); ties share the gradient."""
    _check_identity("amax", input, dim)
    return write_out("amax", Amax.apply(input, _axes(dim, input.ndim), keepdim, "max"), out)


def amin(input, dim=(), keepdim=False, *, out=None):
    """Smallest elements over ``dim`` (all dims by default); ties share the gradient."""
    _check_identity("amin", input, dim)
    return write_out("amin", Amin.apply(input, _axes(dim, input.ndim), keepdim, "min"), out)


class ArgExtremum(Function):
    """The index of the largest (``argmax``) or smallest element, of the flattened array when
    ``axis`` is None; no gradient."""

    contiguous_output = True

    differentiable = False

    @staticmethod
    def forward(ctx, a, axis, keepdim, name):
        xp = array_module(a)
        if axis is None:
            result = getattr(xp, name)(a.reshape(-1))
            if keepdim:
                result = xp.asarray(result).reshape((1,) * a.ndim)
        else:
            result = getattr(xp, name)(a, axis=axis if a.ndim else None, keepdims=keepdim)
        return xp.asarray(result, dtype=np.int64)


class AllAny(Function):
    """Whether every (``all``) or some (``any``) element over ``axes`` is non-zero."""

    contiguous_output = True

    differentiable = False

    @staticmethod
    def forward(ctx, a, axes, keepdim, name):
        return getattr(a, name)(axis=axes, keepdims=keepdim)


def _arg(input, dim, keepdim, name):
    data = input._data
    axis = None
    if dim is None:
        if data.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                             "input.numel() == 0.")
    else:
        axis = normalize_dim(dim, data.ndim)
        if data.ndim and data.shape[axis] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    return ArgExtremum.apply(input, axis, keepdim, name)


def argmax(input, dim=None, keepdim=False):
    """Index of the largest element (of the flattened tensor when ``dim`` is None)."""
    return _arg(input, dim, keepdim, "argmax")


def argmin(input, dim=None, keepdim=False):
    """Index of the smallest element (of the flattened tensor when ``dim`` is None)."""
    return _arg(input, dim, keepdim, "argmin")


def all(input, dim=None, keepdim=False, *, out=None):
    """True when every element (over ``dim``) is non-zero."""
    result = AllAny.apply(input, _axes(dim, input.ndim), keepdim, "all")
    return write_out("all", result, out)


def any(input, dim=None, keepdim=False, *, out=None):
    """True when some element (over ``dim``) is non-zero."""
    result = AllAny.apply(input, _axes(dim, input.ndim), keepdim, "any")
    return write_out("any", result, out)


def logsumexp(input, dim, keepdim=False, *, out=None):
    """``log(sum(exp(input)))`` over ``dim``, computed without overflow."""
    result = Logsumexp.apply(input, _axes(dim, input.ndim), keepdim)
    return write_out("logsumexp", result, out)


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """Vector p-norm of all elements, or over ``dim`` (``"fro"`` is the 2-norm).

    ``dtype`` casts ``input`` first; ``out`` receives the result (see ``write_out``).
    """
    if p == "fro":
        p = 2
    if dtype is not None:
        input = elementwise.to_dtype(input, dtype)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {type_name(input._data.dtype)}")
    if abs(float(p)) == float("inf"):
        _check_inf_norm(input, float(p), dim)
    result = LinalgVectorNorm.apply(input, float(p), _axes(dim, input.ndim), keepdim)
    return write_out("norm", result, out)


def _check_inf_norm(input, p, dim) -> None:
    """The max (or min) of absolute values has no identity: PyTorch refuses empty input."""
    p_name = "inf" if p > 0 else "-inf"
    dims = () if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims and input.numel() == 0:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {p_name} norm on an empty "
                           "tensor because the operation does not have an identity")
    for d in dims:
        if input.shape and input.shape[normalize_dim(d, input.ndim)] == 0:
            # PyTorch's message has no space before "because".
            raise RuntimeError(f"linalg.vector_norm cannot compute the {p_name} norm on the "
                               f"dimension {d}because this dimension is empty and the operation "
                               "does not have an identity")


def std_mean(input, dim=None, *, correction=1, keepdim=False, out=None):
    """``(std, mean)`` over ``dim`` (all elements by default), with ``correction`` as ``std``.

    Example:
        >>> import ember
        >>> ember.std_mean(ember.tensor([1.0, 2.0, 3.0]))
        (tensor(1.), tensor(2.))
    """
    _check_floating(input)
    return StdMean.apply(input, _axes(dim, input.ndim), correction, keepdim)


def var_mean(input, dim=None, *, correction=1, keepdim=False, out=None):
    """``(var, mean)`` over ``dim`` (all elements by default), with ``correction`` as ``var``.

    Example:
        >>> import ember
        >>> ember.var_mean(ember.tensor([1.0, 2.0, 3.0]))
        (tensor(1.), tensor(2.))
    """
    _check_floating(input)
    return VarMean.apply(input, _axes(dim, input.ndim), correction, keepdim)


def count_nonzero(input, dim=None):
    """The number of non-zero elements (along ``dim``, an int or a tuple).

    Example:
        >>> import ember
        >>> ember.count_nonzero(ember.tensor([[0, 1], [2, 3]]), dim=0)
        tensor([1, 2])
    """
    return CountNonzero.apply(input, _axes(dim, input.ndim))


def bincount(input, weights=None, minlength: int = 0):
    """How often each of 0, 1, ... occurs in the 1-d non-negative int tensor ``input`` (summing
    ``weights`` instead of counting ones when given).

    Example:
        >>> import ember
        >>> ember.bincount(ember.tensor([0, 2, 2]))
        tensor([1, 0, 2])
    """
    data = input._data
    if data.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if data.dtype.kind not in "iub":
        raise NotImplementedError(f'"bincount_cpu" not implemented for '
                                  f"'{type_name(data.dtype)}'")
    if data.size and int(data.min()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    return Bincount.apply(input, weights, minlength)


def histc(input, bins: int = 100, min=0, max=0, *, out=None):
    """A histogram: counts of ``input`` in ``bins`` equal bins from ``min`` to ``max`` (the
    smallest and largest element when both are 0), in ``input``'s dtype.

    Example:
        >>> import ember
        >>> ember.histc(ember.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3)
        tensor([0., 2., 1., 0.])
    """
    data = input._data
    if data.dtype.kind != "f":
        raise NotImplementedError(f'"histogram_cpu" not implemented for '
                                  f"'{type_name(data.dtype)}'")
    low, high = float(min), float(max)
    if low == high and data.size:
        low, high = float(data.min()), float(data.max())
    if low == high:  # one value (or none): PyTorch widens the range by one each way
        low, high = low - 1, high + 1
    if low > high:
        raise RuntimeError("ember.histc: max must be larger than min")
    return write_out("histc", Histc.apply(input, bins, low, high), out)


aminmax_return = namedtuple("aminmax", ["min", "max"])


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """The sum of the elements that are not NaN (all, or along ``dim``).

    Example:
        >>> import ember
        >>> ember.nansum(ember.tensor([1.0, float("nan"), 2.0]))
        tensor(3.)
    """
    numpy_dtype = dtype.numpy if dtype is not None else (
        np.dtype(np.int64) if input._data.dtype.kind in "biu" else None)
    return Nansum.apply(input, _axes(dim, input.ndim), keepdim, numpy_dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """The mean of the elements that are not NaN (all, or along ``dim``).

    Example:
        >>> import ember
        >>> ember.nanmean(ember.tensor([1.0, float("nan"), 2.0]))
        tensor(1.5000)
    """
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex "
                           f"dtype but got {type_name(input._data.dtype)}")
    counts = sum(elementwise.logical_not(elementwise.isnan(input)), dim, keepdim)
    return write_out("nanmean", elementwise.div(nansum(input, dim, keepdim, dtype=dtype),
                                                counts), out)


def aminmax(input, *, dim=None, keepdim=False, out=None):
    """``(min, max)`` of all elements, or along ``dim``.

    Example:
        >>> import ember
        >>> ember.aminmax(ember.tensor([3, 1, 2])).max
        tensor(3)
    """
    empty = input.numel() == 0 if dim is None else input.ndim and input.shape[dim] == 0
    if empty:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    low, high = Aminmax.apply(input, _axes(dim, input.ndim), keepdim)
    if out is not None:
        low, high = write_out("aminmax", low, out[0]), write_out("aminmax", high, out[1])
    return aminmax_return(low, high)

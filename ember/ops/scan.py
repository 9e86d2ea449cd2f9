"""Scans: running sums and products along one dimension (cumsum, cumprod)."""

import numpy as np

from .._backend import array_module
from ..autograd.function import Function
from .elementwise import write_out
from .shape import normalize_dim


def _scan_dtype(a, dtype):
    """The result dtype: ``dtype`` when given, else integers and bools widen to int64."""
    if dtype is not None:
        return dtype.numpy
    return np.dtype(np.int64) if a.dtype.kind in "biu" else a.dtype


def _reverse_cumsum(xp, grad, axis):
    """``sum_{j >= i} grad[j]`` along ``axis``: the adjoint of a running sum."""
    return xp.flip(xp.cumsum(xp.flip(grad, axis), axis=axis), axis)


class Cumsum(Function):
    contiguous_output = True

    @staticmethod
    def forward(ctx, a, axis, dtype):
        ctx.axis = axis
        # A 0-d tensor scans its one element (its dim 0 or -1 is valid, as in PyTorch).
        return a.reshape(1).cumsum(dtype=dtype).reshape(()) if a.ndim == 0 else \
            a.cumsum(axis=axis, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        if grad.ndim == 0:
            return grad, None, None
        return _reverse_cumsum(array_module(grad), grad, ctx.axis), None, None


class Cumprod(Function):
    contiguous_output = True

    @staticmethod
    def forward(ctx, a, axis, dtype):
        out = a.reshape(1).cumprod(dtype=dtype).reshape(()) if a.ndim == 0 else \
            a.cumprod(axis=axis, dtype=dtype)
        ctx.save_for_backward(a, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        if grad.ndim == 0:
            return grad, None, None
        xp = array_module(grad)
        axis = ctx.axis
        a = a.astype(grad.dtype, copy=False)
        # d out[j] / d a[k] = prod_{i <= j, i != k} a[i] for j >= k. Without zeros that is
        # out[j] / a[k]; with a zero the division fails, so each k gets its own scan instead
        # (as PyTorch also does only when a zero is present).
        if bool((a != 0).all()):
            return _reverse_cumsum(xp, grad * out, axis) / a, None, None
        grad_input = xp.empty_like(grad)
        length = a.shape[axis]
        for k in range(length):
            others = a.copy()
            at_k = (slice(None),) * axis + (k,)
            others[at_k] = 1
            tail = (slice(None),) * axis + (slice(k, None),)
            products = xp.cumprod(others, axis=axis)[tail]
            grad_input[at_k] = (grad[tail] * products).sum(axis=axis)
        return grad_input, None, None


# ---- the plain functions -----------------------------------------------------------------

def cumsum(input, dim: int, *, dtype=None, out=None):
    """Running sum along ``dim``; integer and bool inputs give int64 (or ``dtype``).

    Example:
        >>> import ember
        >>> ember.cumsum(ember.tensor([1, 2, 3]), dim=0)
        tensor([1, 3, 6])
    """
    axis = normalize_dim(dim, input.ndim)
    return write_out("cumsum", Cumsum.apply(input, axis, _scan_dtype(input._data, dtype)), out)


def cumprod(input, dim: int, *, dtype=None, out=None):
    """Running product along ``dim``; integer and bool inputs give int64 (or ``dtype``).

    Example:
        >>> import ember
        >>> ember.cumprod(ember.tensor([1.0, 2.0, 3.0]), dim=0)
        tensor([1., 2., 6.])
    """
    axis = normalize_dim(dim, input.ndim)
    result = Cumprod.apply(input, axis, _scan_dtype(input._data, dtype))
    return write_out("cumprod", result, out)

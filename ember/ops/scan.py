"""Scans along one dimension: running sums and products (cumsum, cumprod), extremes
(cummax, cummin) and log-sum-exp (logcumsumexp)."""

import numpy as np

from .._backend import array_module
from ..autograd.function import Function
from .elementwise import write_out, write_out_pair
from .indexing import _scatter_add
from .reduction import _return_type
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
        if grad.ndim == 0 or a.shape[ctx.axis] <= 1:  # out is a: the gradient passes as is
            return grad, None, None
        xp = array_module(grad)
        axis = ctx.axis
        a = a.astype(grad.dtype, copy=False)
        # d out[j] / d a[k] = prod_{i <= j, i != k} a[i] for j >= k. PyTorch's formulas, so
        # that NaN and inf propagate as in PyTorch: without a zero (in the whole tensor) that
        # is out[j] / a[k], summed over j >= k.
        weighted = out * grad
        is_zero = a == 0
        if not bool(is_zero.any()):
            return _reverse_cumsum(xp, weighted, axis) / a, None, None
        # With zeros, per slice: before its first zero z1 the same formula on the terms before
        # z1 (the later ones are 0); at z1, prod_{i < z1} a[i] times the sum over z1 <= j < z2
        # (the second zero) of grad[j] * prod_{z1 < i <= j} a[i]; after z1, 0.
        zeros_so_far = xp.cumsum(is_zero, axis=axis)
        before = zeros_so_far == 0
        grad_input = xp.where(
            before, _reverse_cumsum(xp, xp.where(before, weighted, 0), axis) / a, 0)
        first_zero = is_zero & (zeros_so_far == 1)
        between = (zeros_so_far == 1) & ~first_zero  # after z1, before z2
        running = xp.cumprod(xp.where(between, a, 1), axis=axis)
        at_first = (running * xp.where(zeros_so_far == 1, grad, 0)).sum(axis=axis, keepdims=True)
        # prod_{i < k} a[i]: out shifted by one along the axis, 1 first
        exclusive = xp.concatenate(
            [xp.ones_like(xp.take(out, [0], axis=axis)),
             xp.take(out, range(a.shape[axis] - 1), axis=axis)], axis=axis)
        return xp.where(first_zero, at_first * exclusive, grad_input), None, None


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


# ---- running extremes and the running log-sum-exp ----------------------------------------------

cummax_return = _return_type("cummax")
cummin_return = _return_type("cummin")


class Cummax(Function):
    """The running maximum along ``axis`` and where it was last reached (ties take the later
    index, and a NaN stays the maximum from where it appears); the gradient goes there."""

    contiguous_output = True
    better = staticmethod(lambda value, best: value >= best)

    @classmethod
    def forward(cls, ctx, a, axis):
        xp = array_module(a)
        ctx.shape, ctx.axis = a.shape, axis
        if a.ndim == 0 or a.shape[axis] == 0:  # one element (at index 0), or none
            indices = xp.zeros(a.shape, np.int64)
            ctx.mark_non_differentiable(indices)
            return a.copy(), indices
        moved = xp.moveaxis(a, axis, 0)
        values = xp.empty_like(moved)
        indices = xp.empty(moved.shape, np.int64)
        best, where = moved[0], xp.zeros(moved.shape[1:], np.int64)
        for i in range(moved.shape[0]):
            value = moved[i]
            if i == 0:
                take = xp.ones(best.shape, bool)
            else:
                # A NaN wins, and once the extreme is NaN nothing replaces it.
                take = (best == best) & (cls.better(value, best) | (value != value))
            best = xp.where(take, value, best)
            where = xp.where(take, i, where)
            values[i], indices[i] = best, where
        values, indices = xp.moveaxis(values, 0, axis), xp.moveaxis(indices, 0, axis)
        ctx.save_for_backward(indices)
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        if grad_values.ndim == 0 or grad_values.size == 0:  # the input itself, or nothing
            return grad_values, None
        indices, = ctx.saved_tensors
        xp = array_module(grad_values)
        # An index repeats while the extreme stands: its gradients add up.
        grad = xp.zeros(ctx.shape, grad_values.dtype)
        key = list(xp.indices(indices.shape, sparse=True))
        key[ctx.axis] = indices
        _scatter_add(xp, grad, tuple(key), grad_values)
        return grad, None


class Cummin(Cummax):
    better = staticmethod(lambda value, best: value <= best)


def _running_logaddexp(xp, x, axis):
    """``log(cumsum(exp(x)))`` along ``axis`` as a running log-add-exp, which never
    overflows."""
    if xp is np:
        return np.logaddexp.accumulate(x, axis=axis)
    moved = xp.moveaxis(x, axis, 0).copy()  # CuPy has no ufunc.accumulate: step by step
    for i in range(1, moved.shape[0]):
        moved[i] = xp.logaddexp(moved[i - 1], moved[i])
    return xp.moveaxis(moved, 0, axis)


class Logcumsumexp(Function):
    """``log(cumsum(exp(a)))`` along ``axis``. Its gradient,
    ``grad_a[k] = sum_{j >= k} grad[j] exp(a[k] - out[j])``, is summed in log space too,
    the positive and negative parts of ``grad`` apart."""

    contiguous_output = True

    @staticmethod
    def forward(ctx, a, axis):
        xp = array_module(a)
        out = a.copy() if a.ndim == 0 else _running_logaddexp(xp, a, axis)
        ctx.save_for_backward(a, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        if grad.ndim == 0:
            return grad, None
        xp = array_module(grad)
        axis = ctx.axis

        def reverse_logsum(part):  # log(sum_{j >= k} part[j] exp(-out[j])), part >= 0
            return xp.flip(_running_logaddexp(xp, xp.flip(xp.log(part) - out, axis), axis),
                           axis)
        positive = xp.exp(a + reverse_logsum(xp.maximum(grad, 0)))
        negative = xp.exp(a + reverse_logsum(xp.maximum(-grad, 0)))
        return positive - negative, None


def cummax(input, dim: int, *, out=None):
    """``(values, indices)``: the running maximum along ``dim`` and where it was reached.

    Example:
        >>> import ember
        >>> ember.cummax(ember.tensor([1.0, 3.0, 2.0]), 0).values
        tensor([1., 3., 3.])
    """
    return _running_extreme(Cummax, cummax_return, "cummax", input, dim, out)


def cummin(input, dim: int, *, out=None):
    """``(values, indices)``: the running minimum along ``dim`` and where it was reached."""
    return _running_extreme(Cummin, cummin_return, "cummin", input, dim, out)


def _running_extreme(function, result_type, name, input, dim, out):
    dim = normalize_dim(dim, max(input.ndim, 1))
    return write_out_pair(name, result_type(*function.apply(input, dim)), out)


def logcumsumexp(input, dim: int, *, out=None):
    """``log(cumsum(exp(input)))`` along ``dim``, without overflow.

    Example:
        >>> import ember
        >>> ember.logcumsumexp(ember.tensor([0.0, 0.0]), 0)
        tensor([0.0000, 0.6931])
    """
    dim = normalize_dim(dim, max(input.ndim, 1))
    return write_out("logcumsumexp", Logcumsumexp.apply(input, dim), out)

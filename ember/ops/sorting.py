"""Sorting: sort, argsort and topk along one dimension; unique and unique_consecutive.

Sorts are stable (equal elements keep their order, also when descending) and put NaN after
every number when ascending and before when descending, as PyTorch's CPU sort does. The
gradient of the values goes back to the positions the indices name.
"""

import numpy as np

from .._backend import array_module
from ..autograd.function import Function
from .elementwise import write_out_pair
from .indexing import take_along_backward
from .reduction import _return_type
from .shape import normalize_dim

sort_return = _return_type("sort")
topk_return = _return_type("topk")


def _sorted_indices(a, axis: int, descending: bool):
    """Indices that sort ``a`` stably along ``axis``, as int64."""
    xp = array_module(a)
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable").astype(np.int64, copy=False)
    # Reversing, sorting ascending and reversing back orders equal elements by position
    # (as a stable descending sort must) and puts NaN first; it works for unsigned and bool
    # dtypes, where sorting -a would not.
    last = a.shape[axis] - 1
    reversed_order = xp.argsort(xp.flip(a, axis), axis=axis, kind="stable")
    return (last - xp.flip(reversed_order, axis)).astype(np.int64, copy=False)


class _SelectAlong(Function):
    """Values picked along one axis by ``indices``; their gradient scatters back."""

    @staticmethod
    def forward(ctx, a, axis, descending, k):
        xp = array_module(a)
        ctx.shape, ctx.axis = a.shape, axis
        if a.ndim == 0:  # one element: itself, at index 0
            indices = xp.zeros((), np.int64)
            ctx.mark_non_differentiable(indices)
            return a.copy(), indices
        indices = _sorted_indices(a, axis, descending)
        if k is not None:
            indices = indices[(slice(None),) * axis + (slice(0, k),)]
        values = xp.take_along_axis(a, indices, axis=axis)
        ctx.save_for_backward(indices)
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        if not ctx.shape:
            return grad_values, None, None, None
        indices, = ctx.saved_tensors
        return take_along_backward(grad_values, indices, ctx.axis, ctx.shape), None, None, None


class Sort(_SelectAlong):
    pass


class SortStable(_SelectAlong):
    """``sort`` called with ``stable=`` (PyTorch's other overload, hence its own node name)."""

    node_name = "SortBackward1"


class Topk(_SelectAlong):
    pass


# ---- the plain functions -----------------------------------------------------------------

def sort(input, dim: int = -1, descending: bool = False, *, stable: "bool | None" = None,
         out=None):
    """Sort along ``dim``: ``(values, indices)`` with ``input.gather(dim, indices) == values``.

    The sort is always stable, so ``stable`` changes nothing (but the node's name: PyTorch's
    has another overload for it).

    Example:
        >>> import ember
        >>> ember.sort(ember.tensor([3.0, 1.0, 2.0])).indices
        tensor([1, 2, 0])
    """
    axis = normalize_dim(dim, input.ndim)
    function = Sort if stable is None else SortStable
    result = sort_return(*function.apply(input, axis, bool(descending), None))
    return write_out_pair("sort", result, out)


def argsort(input, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """The indices that sort ``input`` along ``dim`` (stably).

    Example:
        >>> import ember
        >>> ember.argsort(ember.tensor([3.0, 1.0, 2.0]), descending=True)
        tensor([0, 2, 1])
    """
    return Argsort.apply(input, normalize_dim(dim, input.ndim), bool(descending))


class Argsort(Function):
    """The indices that sort an array along ``axis``; no gradient."""

    differentiable = False

    @staticmethod
    def forward(ctx, a, axis, descending):
        if a.ndim == 0:
            return array_module(a).zeros((), np.int64)
        return _sorted_indices(a, axis, descending)


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, *,
         out=None):
    """The ``k`` largest (or, with ``largest=False``, smallest) elements along ``dim``, as
    ``(values, indices)``, in sorted order.

    Example:
        >>> import ember
        >>> ember.topk(ember.tensor([1.0, 4.0, 2.0, 3.0]), 2).values
        tensor([4., 3.])
    """
    axis = normalize_dim(dim, input.ndim)
    size = input.shape[axis] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    return write_out_pair("topk", topk_return(*Topk.apply(input, axis, bool(largest), k)), out)


# ---- unique values ---------------------------------------------------------------------------

class Unique(Function):
    """The distinct values (or slices along ``dim``) in ascending order, and optionally where
    each element went (``inverse``) and how often each occurs (``counts``). NaNs stay apart,
    each its own value, as in PyTorch."""

    differentiable = False

    @staticmethod
    def forward(ctx, a, axis, return_inverse, return_counts):
        xp = array_module(a)
        if axis is None:
            values, inverse, counts = xp.unique(a.reshape(-1), return_inverse=True,
                                                return_counts=True, equal_nan=False)
            inverse = inverse.reshape(a.shape)
        else:
            values, inverse, counts = xp.unique(a, return_inverse=True, return_counts=True,
                                                axis=axis, equal_nan=False)
            inverse = inverse.reshape(-1)
        outputs = (values,)
        if return_inverse:
            outputs += (inverse.astype(np.int64),)
        if return_counts:
            outputs += (counts.astype(np.int64),)
        return outputs if len(outputs) > 1 else values


class UniqueConsecutive(Function):
    """Each run of equal consecutive values (or slices along ``dim``) kept once."""

    differentiable = False

    @staticmethod
    def forward(ctx, a, axis, return_inverse, return_counts):
        xp = array_module(a)
        flat = a.reshape(-1) if axis is None else xp.moveaxis(a, axis, 0)
        length = flat.shape[0]
        if length:
            changed = (flat[1:] != flat[:-1]).reshape(length - 1, -1).any(axis=1)
            starts = xp.concatenate([xp.ones(1, bool), changed])
        else:
            starts = xp.zeros(0, bool)
        values = flat[starts]
        if axis is not None:
            values = xp.moveaxis(values, 0, axis)
        outputs = (values,)
        if return_inverse:
            inverse = xp.cumsum(starts) - 1
            outputs += (inverse.reshape(a.shape if axis is None else -1).astype(np.int64),)
        if return_counts:
            boundaries = xp.concatenate([xp.flatnonzero(starts), xp.asarray([length])])
            outputs += (xp.diff(boundaries).astype(np.int64),)
        return outputs if len(outputs) > 1 else values


def _unique_dim(input, dim):
    return None if dim is None else normalize_dim(dim, max(input.ndim, 1))


def unique(input, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: "int | None" = None):
    """The distinct elements of ``input`` in ascending order (``sorted=False`` gives the same
    order), with the index of each element's value (``return_inverse``) and the number of
    times each occurs (``return_counts``); with ``dim``, the distinct slices along it.

    Example:
        >>> import ember
        >>> ember.unique(ember.tensor([3, 1, 3, 2]), return_counts=True)
        (tensor([1, 2, 3]), tensor([1, 1, 2]))
    """
    if dim is not None and input.ndim == 0:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got "
                         f"{dim})")
    return Unique.apply(input, _unique_dim(input, dim), return_inverse, return_counts)


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False,
                       dim: "int | None" = None):
    """Each run of equal consecutive elements of ``input`` (or slices along ``dim``) kept
    once, with the run each element belongs to and the runs' lengths when asked.

    Example:
        >>> import ember
        >>> ember.unique_consecutive(ember.tensor([1, 1, 2, 1]), return_counts=True)
        (tensor([1, 2, 1]), tensor([2, 1, 1]))
    """
    return UniqueConsecutive.apply(input, _unique_dim(input, dim), return_inverse,
                                   return_counts)

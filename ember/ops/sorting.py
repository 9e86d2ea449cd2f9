"""Sorting: sort, argsort and topk along one dimension; unique and unique_consecutive;
kthvalue and median; searchsorted, bucketize, isin and nonzero.

Sorts are stable (equal elements keep their order, also when descending) and put NaN after
every number when ascending and before when descending, as PyTorch's CPU sort does. The
gradient of the values goes back to the positions the indices name.
"""

import numpy as np

from .._backend import array_module
from .._tensor import Tensor
from ..autograd.function import Function
from . import elementwise
from .elementwise import where, write_out, write_out_pair
from .indexing import index_select, take_along_backward
from .reduction import _return_type, evenly_distribute
from .reduction import any as any_along
from .shape import flatten, movedim, normalize_dim, reshape, unsqueeze

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


# ---- order statistics: kthvalue, median --------------------------------------------------------

median_return = _return_type("median")
kthvalue_return = _return_type("kthvalue")


class Kthvalue(Function):
    """The ``k``-th smallest element along ``axis`` and its index; the gradient goes to that
    index. NaN sorts after every number."""

    contiguous_output = True

    @classmethod
    def forward(cls, ctx, a, axis, k, keepdim):
        xp = array_module(a)
        order = _sorted_indices(a, axis, False)
        position = cls._position(xp, a, axis, k)
        indices = xp.take_along_axis(order, position, axis=axis)
        values = xp.take_along_axis(a, indices, axis=axis)
        ctx.shape, ctx.axis = a.shape, axis
        ctx.save_for_backward(indices)
        ctx.mark_non_differentiable(indices)
        if not keepdim:
            values, indices = values.squeeze(axis), indices.squeeze(axis)
        return values, indices

    @staticmethod
    def _position(xp, a, axis, k):
        shape = list(a.shape)
        shape[axis] = 1
        return xp.full(shape, k - 1, np.int64)

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        indices, = ctx.saved_tensors
        grad = grad_values.reshape(indices.shape)
        return take_along_backward(grad, indices, ctx.axis, ctx.shape), None, None, None


class MedianDim(Kthvalue):
    """The lower median along ``axis``, or the first NaN where there is one, as PyTorch."""

    node_name = "MedianBackward1"

    @staticmethod
    def _position(xp, a, axis, k):
        count = a.shape[axis]
        if a.dtype.kind != "f":
            return xp.full(a.shape[:axis] + (1,) + a.shape[axis + 1:], (count - 1) // 2,
                           np.int64)
        numbers = (~xp.isnan(a)).sum(axis=axis, keepdims=True)
        return xp.where(numbers < count, numbers, (count - 1) // 2).astype(np.int64)


class Median(Function):
    """The lower median of all elements (NaN if there is one); the gradient is shared by the
    elements equal to it, as PyTorch shares it."""

    @staticmethod
    def forward(ctx, a):
        xp = array_module(a)
        flat = a.reshape(-1)
        if flat.size == 0:
            out = xp.asarray(np.nan, a.dtype)
        else:
            values, _ = MedianDim.forward(ctx, flat, 0, None, False)
            out = values
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        return evenly_distribute(grad, a, out)


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False, *, out=None):
    """``(values, indices)``: the ``k``-th smallest element along ``dim`` and where it is.

    Example:
        >>> import ember
        >>> ember.kthvalue(ember.tensor([3.0, 1.0, 2.0]), 2).values
        tensor(2.)
    """
    dim = normalize_dim(dim, max(input.ndim, 1))
    size = input.shape[dim] if input.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    if not input.ndim:
        return write_out_pair("kthvalue", kthvalue_return(*Kthvalue.apply(
            input.reshape(1), 0, k, False)), out)
    return write_out_pair("kthvalue", kthvalue_return(*Kthvalue.apply(input, dim, k, keepdim)),
                          out)


def median(input, dim=None, keepdim: bool = False, *, out=None):
    """The lower of the two middle values of all elements, or ``(values, indices)`` along
    ``dim``; NaN wherever there is a NaN.

    Example:
        >>> import ember
        >>> ember.median(ember.tensor([4.0, 1.0, 3.0, 2.0]))
        tensor(2.)
    """
    if dim is None:
        return write_out("median", Median.apply(input), out)
    dim = normalize_dim(dim, max(input.ndim, 1))
    if input.ndim and input.shape[dim] == 0:
        raise IndexError(f"median(): Expected reduction dim {dim} to have non-zero size.")
    if not input.ndim:
        values, indices = MedianDim.apply(input.reshape(1), 0, None, False)
        return write_out_pair("median", median_return(values, indices), out)
    return write_out_pair("median", median_return(*MedianDim.apply(input, dim, None, keepdim)),
                          out)


# ---- searching in sorted sequences, membership -------------------------------------------------

class Searchsorted(Function):
    """For each value, the index where it would go in the sorted ``sequence`` (the last
    dimension; rows pair with the values' rows when ``sequence`` has several)."""

    differentiable = False

    @staticmethod
    def forward(ctx, sequence, values, right, int32):
        xp = array_module(values)
        side = "right" if right else "left"
        dtype = np.int32 if int32 else np.int64
        if sequence.ndim == 1:
            return xp.searchsorted(sequence, values, side=side).astype(dtype)
        rows = sequence.reshape(-1, sequence.shape[-1])
        wanted = values.reshape(rows.shape[0], -1)
        out = xp.stack([xp.searchsorted(row, value, side=side)
                        for row, value in zip(rows, wanted)])
        return out.reshape(values.shape).astype(dtype)


class Isin(Function):
    differentiable = False

    @staticmethod
    def forward(ctx, elements, test_elements, invert):
        return array_module(elements).isin(elements, test_elements, invert=invert)


class Nonzero(Function):
    """The indices of the non-zero elements, one row each (an ``(n, ndim)`` int64 tensor)."""

    differentiable = False

    @staticmethod
    def forward(ctx, a):
        xp = array_module(a)
        return xp.argwhere(a).astype(np.int64, copy=False)


def searchsorted(sorted_sequence, values, *, out_int32: bool = False, right: bool = False,
                 side=None, out=None, sorter=None):
    """The indices at which ``values`` would be inserted into ``sorted_sequence`` (its last
    dimension) to keep it sorted: before equal elements, or after them with ``right=True`` (or
    ``side="right"``).

    Example:
        >>> import ember
        >>> ember.searchsorted(ember.tensor([1, 3, 5]), ember.tensor([3, 6]))
        tensor([1, 3])
    """
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    if sorter is not None:
        sorted_sequence = sorted_sequence.gather(-1, sorter)
    if not isinstance(values, Tensor):
        values = Tensor._wrap(array_module(sorted_sequence._data).asarray(values))
    if sorted_sequence.ndim > 1 and sorted_sequence.shape[:-1] != values.shape[:-1]:
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or "
                           f"the first N-1 dimensions of boundaries tensor and input value "
                           f"tensor must match, but we got boundaries tensor "
                           f"{list(sorted_sequence.shape)} and input value tensor "
                           f"{list(values.shape)}")
    result = Searchsorted.apply(sorted_sequence, values, right, out_int32)
    return write_out("searchsorted", result, out)


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False, out=None):
    """The bucket of each element of ``input`` between the sorted 1-d ``boundaries``: the index
    ``i`` with ``boundaries[i - 1] < x <= boundaries[i]`` (``<=`` and ``<`` with ``right``).

    Example:
        >>> import ember
        >>> ember.bucketize(ember.tensor([3, 6]), ember.tensor([1, 3, 5]))
        tensor([1, 3])
    """
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries.ndim})")
    if not isinstance(input, Tensor):
        input = Tensor._wrap(array_module(boundaries._data).asarray(input))
    return write_out("bucketize", Searchsorted.apply(boundaries, input, right, out_int32), out)


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False):
    """True where an element of ``elements`` is among ``test_elements`` (False with
    ``invert``); either may be a number.

    Example:
        >>> import ember
        >>> ember.isin(ember.tensor([1, 2, 3]), ember.tensor([2, 5]))
        tensor([False,  True, False])
    """
    def as_tensor(value, like):
        return value if isinstance(value, Tensor) else Tensor._wrap(
            array_module(like._data).asarray(value))
    if not isinstance(elements, Tensor):
        elements = as_tensor(elements, test_elements)
    return Isin.apply(elements, as_tensor(test_elements, elements), invert)


def nonzero(input, *, out=None, as_tuple: bool = False):
    """The indices of the non-zero elements: an ``(n, input.ndim)`` tensor, or with
    ``as_tuple`` one index tensor per dimension (``ember.where(input)``).

    Example:
        >>> import ember
        >>> ember.nonzero(ember.tensor([[0, 1], [1, 1]]))
        tensor([[0, 1],
                [1, 0],
                [1, 1]])
    """
    if as_tuple:
        if input.ndim == 0:
            return (Nonzero.apply(input.reshape(1)).reshape(-1),)
        return where(input)
    return write_out("nonzero", Nonzero.apply(input), out)


def argwhere(input):
    """``nonzero(input)``: the indices of the non-zero elements, one row each."""
    return Nonzero.apply(input)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _backend_cpu(array):
    """``array`` on the CPU (positions, read on the host to pick the sorted elements)."""
    return array if isinstance(array, np.ndarray) else array.get()


def quantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear",
             out=None):
    """The ``q``-quantiles (a number or a 1-d tensor of them, in [0, 1]) of all elements or
    along ``dim``, between the two nearest sorted values as ``interpolation`` says; NaN where
    a NaN is present. A tensor ``q`` adds a first dimension, one entry per quantile.

    Example:
        >>> import ember
        >>> ember.quantile(ember.tensor([1.0, 2.0, 3.0, 4.0]), 0.4)
        tensor(2.2000)
    """
    if input._data.dtype.kind != "f":
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"quantile() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    scalar_q = not isinstance(q, Tensor)
    if not scalar_q and q._data.dtype != input._data.dtype:
        raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
    xp = array_module(input._data)
    # q as a 1-d tensor of input's dtype: positions are computed in that precision, and a
    # tensor q receives the gradient of the linear interpolation's weight, as in PyTorch.
    q = reshape(q, (-1,)) if not scalar_q else Tensor._wrap(xp.asarray([q], input._data.dtype))
    qs = q._data
    if qs.size and (bool((qs < 0).any()) or bool((qs > 1).any())):
        bad = float(qs.min()) if bool((qs < 0).any()) else float(qs.max())
        raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {bad:g}")
    values = flatten(input) if dim is None else input
    axis = 0 if dim is None else normalize_dim(dim, input.ndim)
    count = values.shape[axis]
    if count == 0:
        raise IndexError("quantile() input tensor must be non-empty")
    ordered = sort(values, axis).values  # NaN last
    positions = elementwise.mul(q, count - 1)
    low = np.floor(_backend_cpu(positions._data))
    high = np.ceil(_backend_cpu(positions._data))
    if interpolation == "lower":
        high = low
    elif interpolation == "higher":
        low = high
    elif interpolation == "nearest":
        low = high = np.round(_backend_cpu(positions._data))

    def sorted_at(where):
        return index_select(ordered, axis, Tensor._wrap(xp.asarray(where.astype(np.int64))))
    lower_values, upper_values = sorted_at(low), sorted_at(high)
    if interpolation == "linear":
        weights = positions - Tensor._wrap(xp.asarray(low, input._data.dtype))
    else:
        weights = Tensor._wrap(xp.asarray(np.where(high > low, 0.5, 0.0), input._data.dtype))
    shape = [1] * ordered.ndim
    shape[axis] = qs.shape[0]
    result = lower_values + reshape(weights, tuple(shape)) * (upper_values - lower_values)
    has_nan = any_along(elementwise.isnan(values), axis, True)
    result = where(has_nan, float("nan"), result)
    result = movedim(result, axis, 0)  # the quantiles first
    if keepdim:
        result = reshape(result, (qs.shape[0],) + (1,) * input.ndim) if dim is None else \
            unsqueeze(result, axis + 1)
    if scalar_q:
        result = reshape(result, tuple(result.shape[1:]))
    return write_out("quantile", result, out)

"""Indexing: ``tensor[key]``, ``tensor[key] = value``, masked_fill, gather, index_select.

Basic indexing (integers, slices, None, ...) gives a view, as in PyTorch and NumPy; advanced
indexing (integer or boolean tensors and lists) gives a copy. Backward scatters the gradient
into zeros of the input's shape, adding where an index repeats.
"""

import numpy as np

from .._backend import array_module
from ..autograd.function import Function


def _scatter_add(xp, target, key, values):
    """``target[key] += values`` where ``key`` may repeat an index."""
    if xp is np:
        np.add.at(target, key, values)
    else:
        import cupyx
        cupyx.scatter_add(target, key, values)


class Select(Function):
    """Basic indexing with integers: ``x[0]``."""

    is_view = True

    @staticmethod
    def forward(ctx, a, key):
        ctx.shape, ctx.key = a.shape, key
        return a[key]

    @staticmethod
    def backward(ctx, grad):
        grad_input = array_module(grad).zeros(ctx.shape, grad.dtype)
        grad_input[ctx.key] = grad
        return grad_input, None


class Slice(Select):
    """Basic indexing with slices only: ``x[1:3]``."""


class Index(Function):
    """Advanced indexing with integer or boolean arrays: ``x[[0, 2]]``, ``x[x > 0]``."""

    @staticmethod
    def forward(ctx, a, key):
        ctx.shape, ctx.key = a.shape, key
        return a[key]

    @staticmethod
    def backward(ctx, grad):
        xp = array_module(grad)
        grad_input = xp.zeros(ctx.shape, grad.dtype)
        _scatter_add(xp, grad_input, ctx.key, grad)
        return grad_input, None


class IndexPut(Function):
    """``x[key] = value`` computed out of place; ``Tensor.__setitem__`` writes it back."""

    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, a, key, value):
        ctx.key = key
        out = a.copy()
        out[key] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_input = grad.copy()
        grad_input[ctx.key] = 0
        return grad_input, None, grad[ctx.key]


class MaskedFill(Function):
    @staticmethod
    def forward(ctx, a, mask, value):
        ctx.save_for_backward(mask)
        xp = array_module(a)
        return xp.where(mask, xp.asarray(value, dtype=a.dtype), a)

    @staticmethod
    def backward(ctx, grad):
        mask, = ctx.saved_tensors
        return grad * ~mask, None, (grad * mask).sum()


class Gather(Function):
    @staticmethod
    def forward(ctx, a, axis, index):
        ctx.shape, ctx.axis = a.shape, axis
        ctx.save_for_backward(index)
        return array_module(a).take_along_axis(a, index, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        xp = array_module(grad)
        grad_input = xp.zeros(ctx.shape, grad.dtype)
        key = list(xp.indices(index.shape, sparse=True))
        key[ctx.axis] = index
        _scatter_add(xp, grad_input, tuple(key), grad)
        return grad_input, None, None


class IndexSelect(Function):
    @staticmethod
    def forward(ctx, a, axis, index):
        ctx.shape, ctx.axis = a.shape, axis
        ctx.save_for_backward(index)
        return array_module(a).take(a, index, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        xp = array_module(grad)
        grad_input = xp.zeros(ctx.shape, grad.dtype)
        key = (slice(None),) * ctx.axis + (index,)
        _scatter_add(xp, grad_input, key, grad)
        return grad_input, None, None


# ---- the plain functions -----------------------------------------------------------------

def _raw_key(key):
    """The key with Tensors replaced by their arrays, and which kind of indexing it is."""
    from .._tensor import Tensor
    items = key if isinstance(key, tuple) else (key,)
    raw, kind = [], Slice
    for item in items:
        if isinstance(item, Tensor):
            if item._data.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            item = item._data if item._data.ndim else item._data.item()
        if isinstance(item, (list, np.ndarray)) or hasattr(item, "__cuda_array_interface__"):
            kind = Index
        elif isinstance(item, (bool, np.bool_)):
            kind = Index
        elif isinstance(item, int) and kind is Slice:
            kind = Select
        raw.append(item)
    return (tuple(raw) if isinstance(key, tuple) else raw[0]), kind


def _check_bounds(shape, key):
    """IndexError naming the dimension and size, as PyTorch words it."""
    items = key if isinstance(key, tuple) else (key,)
    dim = 0
    for item in items:
        if item is None:
            continue
        if item is Ellipsis:
            dim = len(shape) - (len(items) - items.index(Ellipsis) - 1)
            continue
        if isinstance(item, int) and dim < len(shape):
            if not -shape[dim] <= item < shape[dim]:
                raise IndexError(f"index {item} is out of bounds for dimension {dim} with size "
                                 f"{shape[dim]}")
        dim += 1


def getitem(input, key):
    raw, kind = _raw_key(key)
    if kind is not Index:
        _check_bounds(input._data.shape, raw)
    return kind.apply(input, raw)


def index_put(input, key, value):
    raw, _ = _raw_key(key)
    return IndexPut.apply(input, raw, value)


def masked_fill(input, mask, value):
    """``value`` where ``mask`` is True, ``input`` elsewhere."""
    from .._tensor import Tensor
    mask = mask._data if isinstance(mask, Tensor) else mask
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype}")
    return MaskedFill.apply(input, mask, value)


def gather(input, dim: int, index):
    """Values of ``input`` at ``index`` along ``dim``."""
    from .shape import normalize_dim
    return Gather.apply(input, normalize_dim(dim, input.ndim), index._data)


def index_select(input, dim: int, index):
    """The slices of ``input`` along ``dim`` at the positions in ``index``."""
    from .shape import normalize_dim
    return IndexSelect.apply(input, normalize_dim(dim, input.ndim), index._data)

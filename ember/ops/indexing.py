"""Indexing: ``tensor[key]``, ``tensor[key] = value``, masked_fill, gather, index_select.

Basic indexing (integers, slices, None, ...) gives a view, as in PyTorch and NumPy; advanced
indexing (integer or boolean tensors and lists) gives a copy. Backward scatters the gradient
into zeros of the input's shape, adding where an index repeats.
"""

import numpy as np

from .._backend import address, array_module
from .._dtype import C_TYPE_NAMES
from .._tensor import Tensor
from ..autograd import inplace
from ..autograd.function import Function
from .elementwise import write_out, zero_where
from .shape import expanded_shape, normalize_dim


def _scatter_add(xp, target, key, values):
    """``target[key] += values`` where ``key`` may repeat an index."""
    if xp is np:
        np.add.at(target, key, values)
    else:
        import cupyx
        cupyx.scatter_add(target, key, values)


class Select(Function):
    """Basic indexing (integers, slices, None, ...) whose last step is an integer: ``x[0]``.

    One node does the whole key; it is named after the step PyTorch would record last (PyTorch
    records one node per step), so ``grad_fn`` prints the same.
    """

    is_view = True

    @staticmethod
    def forward(ctx, a, key):
        ctx.shape, ctx.key = a.shape, key
        return a[view_key(key)]

    @staticmethod
    def backward(ctx, grad):
        grad_input = array_module(grad).zeros(ctx.shape, grad.dtype)
        grad_input[ctx.key] = grad
        return grad_input, None


def view_key(key) -> tuple:
    """A basic ``key`` as a tuple that holds an Ellipsis: NumPy returns a scalar, a copy, when
    integers select one element, but with an Ellipsis a 0-d view, which in-place ops must
    write through."""
    items = key if isinstance(key, tuple) else (key,)
    return items if any(item is Ellipsis for item in items) else (*items, Ellipsis)


class Slice(Select):
    """Basic indexing whose last step is a slice: ``x[1:3]``, ``x[0, :2]``."""


class UnsqueezeIndex(Select):
    """Basic indexing whose last step is a ``None``: ``x[:, None]``."""

    node_name = "UnsqueezeBackward0"


class Alias(Select):
    """Basic indexing that selects everything: ``x[...]``, ``x[:, :]``."""


def take_along_backward(grad_values, indices, axis: int, shape):
    """The gradient of ``take_along_axis(a, indices, axis)`` for an ``a`` of ``shape``: zeros,
    with each value's gradient put back where its index took it (sort, topk, max(dim))."""
    xp = array_module(grad_values)
    grad = xp.zeros(shape, grad_values.dtype)
    xp.put_along_axis(grad, indices, grad_values, axis=axis)
    return grad


class Index(Function):
    """Advanced indexing with integer or boolean arrays: ``x[[0, 2]]``, ``x[x > 0]``."""

    @staticmethod
    def forward(ctx, a, key):
        ctx.shape, ctx.steps = a.shape, integers_first(key)
        try:
            return _select(a, ctx.steps)
        except IndexError as error:
            raise _torch_index_error(error, a.shape, key) from None

    @staticmethod
    def backward(ctx, grad):
        xp = array_module(grad)
        grad_input = xp.zeros(ctx.shape, grad.dtype)
        basic, advanced = ctx.steps
        _scatter_add(xp, grad_input[basic], advanced, grad)
        return grad_input, None


def integers_first(key) -> tuple:
    """The key as two steps, (basic, advanced), applied one after the other.

    PyTorch takes the integers of a key before its index tensors: ``a[0, :, idx]`` is
    ``a[0][:, idx]``, of shape (3, 2) for a (2, 3, 4) tensor and two indices. NumPy counts the
    0 as one more index array, and index arrays apart from each other put their dimensions
    first: (2, 3). Basic indexing gives a view, so the advanced step can also write through it.
    """
    items = key if isinstance(key, tuple) else (key,)
    integers = [isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_))
                for item in items]
    if not any(integers) or not any(hasattr(item, "ndim") or isinstance(item, list)
                                    for item in items):
        return (Ellipsis,), key
    basic, advanced = [], []
    for item, integer in zip(items, integers):
        if integer:
            basic.append(item)
        elif item is None:
            basic.append(None)
            advanced.append(slice(None))
        elif item is Ellipsis:
            basic.append(Ellipsis)
            advanced.append(Ellipsis)
        else:
            dims = item.ndim if getattr(item, "dtype", None) == np.bool_ else 1
            basic.extend([slice(None)] * dims)
            advanced.append(item)
    return view_key(tuple(basic)), tuple(advanced)


def _select(array, steps):
    basic, advanced = steps
    return array[basic][advanced]


def _torch_index_error(error: IndexError, shape, key) -> IndexError:
    """NumPy's IndexError reworded as PyTorch words it (dimension, not axis)."""
    message = str(error)
    if message.startswith("too many indices"):
        return IndexError(f"too many indices for tensor of dimension {len(shape)}")
    if message.startswith("boolean index did not match"):
        dim = 0
        for item in key if isinstance(key, tuple) else (key,):
            if getattr(item, "dtype", None) == np.bool_:
                for k, size in enumerate(item.shape):
                    if size != shape[dim + k]:
                        return IndexError(
                            f"The shape of the mask {list(item.shape)} at index {k} does not "
                            f"match the shape of the indexed tensor {list(shape)} at index "
                            f"{dim + k}")
            dim += getattr(item, "ndim", 1) if item is not None else 0
    return IndexError(message.replace("axis", "dimension"))


class IndexPut(Function):
    """``x[key] = value`` computed out of place; ``Tensor.__setitem__`` writes it back."""

    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, a, key, value):
        ctx.steps = integers_first(key)
        out = a.copy()
        _write(out, key, value)
        return out

    @staticmethod
    def backward(ctx, grad):
        basic, advanced = ctx.steps
        grad_input = grad.copy()
        grad_input[basic][advanced] = 0
        return grad_input, None, _select(grad, ctx.steps)


class CopySlices(IndexPut):
    """``x[key] = value`` where ``key`` has integers or slices: PyTorch copies into a view."""

    node_name = "torch::autograd::CopySlices"


def view_indices(base, view):
    """Where ``view``'s elements sit in ``base`` (flat C-order positions), from the strides.

    None when ``base``'s memory has gaps (it is itself a strided slice of a larger array): the
    positions are read off a probe laid out like ``base``, which needs a dense layout.
    """
    xp = array_module(base)
    probe = xp.empty_like(base, dtype=np.int64)  # same order of strides as base
    for size, ours, theirs in zip(base.shape, base.strides, probe.strides):
        if size > 1 and ours // base.itemsize != theirs // probe.itemsize:
            return None
    probe[...] = xp.arange(base.size).reshape(base.shape)
    memory = probe.ravel(order="K")
    offset = (address(view) - address(base)) // base.itemsize
    strides = tuple(s // base.itemsize * probe.itemsize for s in view.strides)
    return xp.lib.stride_tricks.as_strided(memory[offset:], view.shape, strides).copy()


class ViewScatter(Function):
    """An in-place op on a view, as seen from the base: the base's new values.

    ``value`` is the op's result for the viewed elements, already written into the base's
    memory; backward splits the base's gradient between the viewed elements (to ``value``) and
    the others (to the base's old graph).
    """

    node_name = "torch::autograd::CopySlices"

    @staticmethod
    def forward(ctx, base, value, indices):
        ctx.indices = indices
        return base

    @staticmethod
    def backward(ctx, grad):
        # A copy that is an array also when grad is a NumPy scalar (0-d results), so the
        # flat view below writes into it.
        grad_base = array_module(grad).array(grad, order="C")
        flat = grad_base.reshape(-1)
        grad_value = flat[ctx.indices]
        flat[ctx.indices] = 0
        return grad_base, grad_value, None


class AsStrided(Function):
    """A view re-derived from its base after the base changed in place."""

    @staticmethod
    def forward(ctx, base, indices, view):
        ctx.shape, ctx.indices = base.shape, indices
        return view

    @staticmethod
    def backward(ctx, grad):
        xp = array_module(grad)
        grad_base = xp.zeros(ctx.shape, grad.dtype)
        _scatter_add(xp, grad_base.reshape(-1), ctx.indices, grad)  # repeats: expanded views
        return grad_base, None, None


class MaskedFill(Function):
    @staticmethod
    def forward(ctx, a, mask, value):
        ctx.save_for_backward(mask)
        xp = array_module(a)
        return xp.where(mask, xp.asarray(value, dtype=a.dtype), a)

    @staticmethod
    def backward(ctx, grad):
        mask, = ctx.saved_tensors
        # Zeros where filled, also where a NaN or inf gradient arrives (not a product).
        return zero_where(grad, mask), None, zero_where(grad, ~mask).sum()


class Gather(Function):
    @staticmethod
    def forward(ctx, a, axis, index):
        ctx.shape, ctx.axis = a.shape, axis
        ctx.save_for_backward(index)
        xp = array_module(a)
        # The index may be smaller than the input in the other dimensions: it reads from the
        # corner of the input of its own size.
        corner = tuple(slice(None) if d == axis else slice(0, size)
                       for d, size in enumerate(index.shape))
        return xp.take_along_axis(a[corner], index, axis=axis)

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


class OneHot(Function):
    """Class indices as one-hot int64 rows (``F.one_hot``); no gradient."""

    differentiable = False

    @staticmethod
    def forward(ctx, indices, num_classes):
        xp = array_module(indices)
        return (indices[..., None] == xp.arange(num_classes)).astype(xp.int64)


# ---- the plain functions -----------------------------------------------------------------

def _raw_key(key):
    """The key with Tensors replaced by arrays, and the Function that indexes with it.

    Also raises PyTorch's errors for negative slice steps and out-of-range integers, which
    NumPy would accept or word differently.
    """
    items = key if isinstance(key, tuple) else (key,)
    raw, kind, advanced, basic = [], Alias, False, False
    for item in items:
        if isinstance(item, Tensor):
            if item._data.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            item = item._data if item._data.ndim else item._data.item()
        if isinstance(item, (bool, np.bool_, list, np.ndarray)) or hasattr(
                item, "__cuda_array_interface__"):
            advanced = True
        elif isinstance(item, (int, np.integer)):
            kind, basic = Select, True
        elif isinstance(item, slice):
            if item.step is not None and item.step <= 0:
                raise ValueError("step must be greater than zero" if item.step else
                                 "slice step cannot be zero")
            if not isinstance(key, tuple) or item != slice(None):
                kind, basic = Slice, True
        elif item is None:
            kind = UnsqueezeIndex
        elif item is not Ellipsis:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or "
                             "byte Variables are valid indices (got "
                             f"{type(item).__name__})")
        raw.append(item)
    if advanced:
        kind = CopySlices if basic else Index
    return (tuple(raw) if isinstance(key, tuple) else raw[0]), kind


def _check_bounds(shape, key):
    """IndexError naming the dimension and size, as PyTorch words it (basic keys only)."""
    items = key if isinstance(key, tuple) else (key,)
    consuming = [item for item in items if item is not None and item is not Ellipsis]
    if not shape and any(isinstance(item, (int, np.integer)) for item in consuming):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                         "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    if len(consuming) > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    dim = 0
    for position, item in enumerate(items):
        if item is None:
            continue
        if item is Ellipsis:
            after = sum(1 for i in items[position + 1:] if i is not None and i is not Ellipsis)
            dim = len(shape) - after
            continue
        if isinstance(item, (int, np.integer)) and not -shape[dim] <= item < shape[dim]:
            raise IndexError(f"index {item} is out of bounds for dimension {dim} with size "
                             f"{shape[dim]}")
        dim += 1


def getitem(input, key):
    raw, kind = _raw_key(key)
    if kind is CopySlices:  # a read with mixed basic and advanced items is plain indexing
        kind = Index
    if kind is not Index:
        _check_bounds(input._data.shape, raw)
    return kind.apply(input, raw)


def region(array, key):
    """The view of ``array`` that a basic ``key`` selects (bounds checked as PyTorch does)."""
    raw = _raw_key(key)[0]
    _check_bounds(array.shape, raw)
    return array[view_key(raw)]


def is_advanced(key) -> bool:
    """Whether ``key`` indexes with tensors, lists or masks (a copy, not a view)."""
    return _raw_key(key)[1] in (Index, CopySlices)


def writes_view(key) -> bool:
    """Whether ``x[key] = value`` writes through a view (basic key) in PyTorch."""
    kind = _raw_key(key)[1]
    return kind is not Index and kind is not Alias


def index_put(input, key, value):
    """``input`` with ``input[key] = value`` applied, as a new tensor in the graph."""
    raw, kind = _raw_key(key)
    if kind is Index:
        return IndexPut.apply(input, raw, value)
    if kind is not CopySlices:  # basic keys only; NumPy checks the others' bounds
        _check_bounds(input._data.shape, raw)
    return CopySlices.apply(input, raw, value)


def assign(input, key, value) -> None:
    """``input[key] = value`` written straight into memory, for when no graph is recorded."""
    raw, kind = _raw_key(key)
    if kind is not Index and kind is not CopySlices:
        _check_bounds(input._data.shape, raw)
    if isinstance(value, Tensor):
        if array_module(value._data) is not array_module(input._data):
            raise RuntimeError("Expected all tensors to be on the same device, but found at "
                               f"least two devices, {input.device} and {value.device}!")
        value = value._data
    _write(input._data, raw, value)
    inplace.bump_version(input)


def _write(array, key, value) -> None:
    """``array[key] = value`` with PyTorch's rules and errors.

    The value broadcasts to the indexed shape, also after dropping leading size-1 dimensions
    (``x[0] = tensor([5.])`` works in PyTorch, not in NumPy).
    """
    basic, advanced = integers_first(key)
    try:
        array[basic][advanced] = value
        return
    except IndexError as error:
        raise _torch_index_error(error, array.shape, key) from None
    except ValueError:
        if not hasattr(value, "shape"):
            raise
    target = array[basic][advanced].shape
    while value.ndim > len(target) and value.shape[0] == 1:
        value = value[0]
    expanded_shape(value.shape, target, value.dtype)  # PyTorch's error when it cannot expand
    array[basic][advanced] = value


def masked_fill(input, mask, value):
    """``value`` where ``mask`` is True, ``input`` elsewhere."""
    mask = mask._data if isinstance(mask, Tensor) else mask
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{C_TYPE_NAMES[mask.dtype.name]}")
    return MaskedFill.apply(input, mask, value)


def gather(input, dim: int, index, *, sparse_grad: bool = False, out=None):
    """Values of ``input`` at ``index`` along ``dim``: ``out[i][j] = input[index[i][j]][j]``
    for ``dim=0``. ``index`` has ``input``'s number of dimensions and is no larger in the
    others; the result has ``index``'s shape."""
    shape, index = input._data.shape, index._data
    dim = normalize_dim(dim, len(shape))
    if index.dtype.kind not in "iu" or index.dtype.itemsize < 4:
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    if index.ndim != len(shape) and not (index.ndim <= 1 and len(shape) <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    index = index.reshape(index.shape if len(shape) else ())
    for d, size in enumerate(index.shape):
        if d != dim and size > shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(index.shape)} to be no larger than self {list(shape)} "
                               f"apart from dimension {dim}")
    bound = shape[dim] if shape else 1
    if index.size and (int(index.min()) < 0 or int(index.max()) >= bound):
        bad = int(index.min()) if int(index.min()) < 0 else int(index.max())
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {bound}")
    if sparse_grad:
        raise NotImplementedError("gather(sparse_grad=True): ember has no sparse tensors")
    if not shape:
        result = Gather.apply(input.reshape(1), 0, index.reshape(1)).reshape(())
    else:
        result = Gather.apply(input, dim, index)
    return write_out("gather", result, out)


def index_select(input, dim: int, index, *, out=None):
    """The slices of ``input`` along ``dim`` at the positions in ``index``."""
    index = index._data
    if index.ndim == 0:  # a 0-d index selects one slice and keeps its dimension
        index = index.reshape(1)
    dim = normalize_dim(dim, input.ndim)
    if input.ndim == 0:
        if index.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                               f"{index.size} value(s)")
        return IndexSelect.apply(input.reshape(1), 0, index).reshape(())
    size = input.shape[dim]
    if size == 0 and index.size and input.ndim > 1:  # (a 1-d one is out of range, below)
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    if index.size and (int(index.min()) < 0 or int(index.max()) >= size):
        if input.ndim == 2 and dim == 1 and int(index.min()) >= 0:
            # PyTorch's kernel for the columns of a matrix words it differently.
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={int(index.max())} "
                               f"axis_dim={size}")
        raise IndexError("index out of range in self")
    return write_out("index_select", IndexSelect.apply(input, dim, index), out)

"""Indexing: ``tensor[key]``, ``tensor[key] = value``, masked_fill, gather, index_select,
scatter and index_add/index_fill.

Basic indexing (integers, slices, None, ...) gives a view, as in PyTorch and NumPy; advanced
indexing (integer or boolean tensors and lists) gives a copy. Backward scatters the gradient
into zeros of the input's shape, adding where an index repeats.
"""

import warnings

import numpy as np

from .. import _recording
from .._backend import address, array_module
from .._dtype import C_TYPE_NAMES, type_name
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


def _writable_copy(grad):
    """A copy of ``grad`` to write into: an array also when grad is a NumPy scalar (the
    gradient of a 0-d result that several ops read), where ``grad.copy()`` is a scalar that
    refuses item assignment, and ``scalar[...]`` a new array whose zeros would go nowhere."""
    return array_module(grad).array(grad, order="C")


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
        grad_input = _writable_copy(grad)
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
        # The input too, as PyTorch saves it (backward needs only its shape): modifying it in
        # place before backward is then PyTorch's error.
        ctx.save_for_backward(index, a)
        xp = array_module(a)
        # The index may be smaller than the input in the other dimensions: it reads from the
        # corner of the input of its own size.
        corner = tuple(slice(None) if d == axis else slice(0, size)
                       for d, size in enumerate(index.shape))
        return xp.take_along_axis(a[corner], index, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        index, _ = ctx.saved_tensors
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


# ---- scatter and index_add: writes at index positions, out of place -----------------------

def _scatter_key(xp, index, axis: int) -> tuple:
    """The NumPy key of the positions ``scatter`` writes: ``index`` along ``axis``, and each
    element's own position in the other dimensions."""
    if index.ndim == 0:  # a 0-d input: its one element (the index was checked to be 0)
        return ()
    key = list(xp.indices(index.shape, sparse=True))
    key[axis] = index
    return tuple(key)


def _index_key(a, axis: int, index) -> tuple:
    """The key of the slices at ``index`` along ``axis`` (index_add, index_fill); a 0-d
    input's is its one element."""
    return (slice(None),) * axis + (index,) if a.ndim else ()


def _corner(shape) -> tuple:
    """The key of the leading block of ``shape`` (the part of ``src`` that scatter reads)."""
    return tuple(slice(0, size) for size in shape)


def _gather_to(grad, key, index_shape, src_shape):
    """``grad`` read at the scattered positions, in a zero array of ``src``'s shape."""
    xp = array_module(grad)
    grad_src = xp.zeros(src_shape, grad.dtype)
    grad_src[_corner(index_shape)] = grad[key]
    return grad_src


class Scatter(Function):
    """``out = input`` with ``out[index[i][j]][j] = src[i][j]`` (for dim 0); a position that
    several elements write keeps one of them."""

    @staticmethod
    def forward(ctx, a, axis, index, src):
        xp = array_module(a)
        key = _scatter_key(xp, index, axis)
        out = a.copy()
        out[key] = src[_corner(index.shape)]
        ctx.key, ctx.index_shape, ctx.src_shape = key, index.shape, src.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_input = None
        if ctx.needs_input_grad[0]:
            grad_input = _writable_copy(grad)
            grad_input[ctx.key] = 0  # overwritten elements do not reach the output
        grad_src = _gather_to(grad, ctx.key, ctx.index_shape, ctx.src_shape) \
            if ctx.needs_input_grad[3] else None
        return grad_input, None, None, grad_src


class ScatterValue(Function):
    """``scatter`` of one number to every indexed position."""

    node_name = "ScatterBackward1"

    @staticmethod
    def forward(ctx, a, axis, index, value):
        xp = array_module(a)
        ctx.key = _scatter_key(xp, index, axis)
        out = a.copy()
        out[ctx.key] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_input = _writable_copy(grad)
        grad_input[ctx.key] = 0
        return grad_input, None, None, None


class ScatterAdd(Function):
    """``out = input`` plus each ``src`` element added at its index (repeats add up)."""

    @staticmethod
    def forward(ctx, a, axis, index, src):
        xp = array_module(a)
        key = _scatter_key(xp, index, axis)
        out = a.copy()
        _scatter_add(xp, out, key, src[_corner(index.shape)])
        ctx.key, ctx.index_shape, ctx.src_shape = key, index.shape, src.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_src = _gather_to(grad, ctx.key, ctx.index_shape, ctx.src_shape) \
            if ctx.needs_input_grad[3] else None
        return grad, None, None, grad_src


class ScatterLegacyReduce(Function):
    """``scatter_(dim, index, src, reduce="add" or "multiply")``, PyTorch's older form, which
    has no derivative: its node raises in backward, as PyTorch's does."""

    node_name = "torch::autograd::NotImplemented"

    @staticmethod
    def forward(ctx, a, axis, index, src, reduce):
        xp = array_module(a)
        key = _scatter_key(xp, index, axis)
        out = a.copy()
        values = src[_corner(index.shape)] if hasattr(src, "shape") and src.ndim else \
            xp.broadcast_to(xp.asarray(src, a.dtype), index.shape)
        if reduce == "add":
            _scatter_add(xp, out, key, values)
        else:
            _scatter_reduce(xp, "multiply", out, key, values)
        return out

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::scatter_ is not implemented")


def _scatter_reduce(xp, ufunc: str, target, key, values):
    """``target[key] = ufunc(target[key], values)`` where ``key`` may repeat an index."""
    if xp is np:
        getattr(np, ufunc).at(target, key, values)
    else:
        import cupyx
        getattr(cupyx, f"scatter_{ufunc.replace('imum', '')}")(target, key, values)


class ScatterReduce(Function):
    """``scatter_reduce``: each position of the output reduces (sum, prod, mean, amax, amin)
    the ``src`` elements indexed to it, and its own value unless ``include_self=False``."""

    @staticmethod
    def forward(ctx, a, axis, index, src, reduce, include_self):
        xp = array_module(a)
        key = _scatter_key(xp, index, axis)
        values = src[_corner(index.shape)]
        out = a.copy()
        if not include_self:
            out[key] = _REDUCE_IDENTITY[reduce](a.dtype)
        ufunc = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum",
                 "amin": "minimum"}[reduce]
        _scatter_reduce(xp, ufunc, out, key, values)
        count = None
        if reduce == "mean":
            count = xp.ones(a.shape, a.dtype)
            if not include_self:
                count[key] = 0
            _scatter_add(xp, count, key, xp.ones(index.shape, a.dtype))
            count = xp.maximum(count, 1)
            out = out // count if a.dtype.kind in "iu" else out / count
        ctx.key, ctx.index_shape, ctx.src_shape = key, index.shape, src.shape
        ctx.reduce, ctx.include_self, ctx.count = reduce, include_self, count
        ctx.save_for_backward(a, src, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, src, out = ctx.saved_tensors
        xp = array_module(grad)
        key, reduce = ctx.key, ctx.reduce
        values = src[_corner(ctx.index_shape)]
        if reduce in ("sum", "mean"):
            scale = grad / ctx.count if reduce == "mean" else grad
            grad_input, grad_values = scale.copy(), scale[key]
        elif reduce == "prod":
            grad_input, grad_values = _prod_grads(xp, grad, a, values, key, ctx.include_self)
        else:
            # The gradient is shared equally by every element equal to the extremum.
            chosen_self = (a == out).astype(grad.dtype)
            if not ctx.include_self:
                chosen_self[key] = 0
            chosen_values = (values == out[key]).astype(grad.dtype)
            count = chosen_self.copy()
            _scatter_add(xp, count, key, chosen_values)
            share = grad / xp.maximum(count, 1)
            grad_input, grad_values = share * chosen_self, share[key] * chosen_values
        if not ctx.include_self:
            grad_input[key] = 0
        grad_src = xp.zeros(ctx.src_shape, grad.dtype)
        grad_src[_corner(ctx.index_shape)] = grad_values
        return grad_input, None, None, grad_src, None, None


_REDUCE_IDENTITY = {
    "sum": lambda dtype: 0, "mean": lambda dtype: 0, "prod": lambda dtype: 1,
    "amax": lambda dtype: -np.inf if dtype.kind == "f" else np.iinfo(dtype).min,
    "amin": lambda dtype: np.inf if dtype.kind == "f" else np.iinfo(dtype).max,
}


def _prod_grads(xp, grad, a, values, key, include_self):
    """Gradients of a scattered product: each factor's gradient is the product of the other
    factors at its position, counted without division so that zeros are exact (one zero
    factor: only it gets a gradient; two or more: none)."""
    nonzero_product = xp.where(a == 0, 1, a)
    zeros = (a == 0).astype(np.int64)
    if not include_self:  # the scattered positions start from the empty product
        nonzero_product[key] = 1
        zeros[key] = 0
    _scatter_reduce(xp, "multiply", nonzero_product, key, xp.where(values == 0, 1, values))
    _scatter_add(xp, zeros, key, (values == 0).astype(np.int64))

    def others(factor, product, zero_count):
        safe = xp.where(factor == 0, 1, factor)
        without = xp.where(zero_count == 0, product / safe, 0)
        return xp.where((factor == 0) & (zero_count == 1), product, without)

    grad_input = grad * others(a, nonzero_product, zeros)
    grad_values = grad[key] * others(values, nonzero_product[key], zeros[key])
    return grad_input, grad_values


class IndexAdd(Function):
    """``out = input`` with ``alpha * source``'s slices added at the positions ``index`` gives
    along ``dim`` (repeats add up)."""

    @staticmethod
    def forward(ctx, a, axis, index, source, alpha):
        xp = array_module(a)
        out = a.copy()
        ctx.key = _index_key(a, axis, index)
        ctx.axis, ctx.alpha = axis, alpha
        ctx.save_for_backward(index)
        _scatter_add(xp, out, ctx.key, source if alpha == 1 else source * alpha)
        return out

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        grad_source = None
        if ctx.needs_input_grad[3]:
            grad_source = array_module(grad).take(grad, index, axis=ctx.axis) if grad.ndim \
                else grad.reshape(1)
            if ctx.alpha != 1:
                grad_source = grad_source * ctx.alpha
        return grad, None, None, grad_source, None


class IndexFill(Function):
    """``out = input`` with the slices at ``index`` along ``dim`` set to a number."""

    @staticmethod
    def forward(ctx, a, axis, index, value):
        out = a.copy()
        ctx.key = _index_key(a, axis, index)
        out[ctx.key] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_input = _writable_copy(grad)
        grad_input[ctx.key] = 0
        return grad_input, None, None, None


class IndexFillTensor(IndexFill):
    """``index_fill`` with a 0-d tensor value, which receives the filled elements' gradient."""

    node_name = "IndexFillBackward1"

    @staticmethod
    def backward(ctx, grad):
        xp = array_module(grad)
        filled = xp.zeros(grad.shape, dtype=bool)
        filled[ctx.key] = True  # each position once, however often the index repeats it
        return zero_where(grad, filled), None, None, zero_where(grad, ~filled).sum()


class MaskedScatter(Function):
    """``input`` with the positions where ``mask`` holds (broadcast, in C order) taken from
    ``source``'s leading elements; the gradients split between the two by the mask."""

    @staticmethod
    def forward(ctx, a, mask, source):
        xp = array_module(a)
        mask = xp.broadcast_to(mask, a.shape)
        count = int(mask.sum())
        out = a.copy()
        out[mask] = source.reshape(-1)[:count]
        ctx.save_for_backward(mask)
        ctx.count, ctx.source_shape = count, source.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        mask, = ctx.saved_tensors
        xp = array_module(grad)
        grad_source = None
        if ctx.needs_input_grad[2]:
            grad_source = xp.zeros(int(np.prod(ctx.source_shape)), grad.dtype)
            grad_source[:ctx.count] = grad[mask]
            grad_source = grad_source.reshape(ctx.source_shape)
        return zero_where(grad, mask), None, grad_source


class MaskedSelect(Function):
    """The elements where ``mask`` (broadcast with ``input``) holds, as a 1-d tensor."""

    @staticmethod
    def forward(ctx, a, mask):
        xp = array_module(a)
        shape = np.broadcast_shapes(a.shape, mask.shape)
        mask = xp.broadcast_to(mask, shape)
        ctx.save_for_backward(mask)
        ctx.shape = a.shape
        return xp.broadcast_to(a, shape)[mask]

    @staticmethod
    def backward(ctx, grad):
        mask, = ctx.saved_tensors
        xp = array_module(grad)
        grad_input = xp.zeros(mask.shape, grad.dtype)
        grad_input[mask] = grad
        return grad_input, None


class IndexPutAccumulate(Function):
    """``index_put(indices, values, accumulate=True)``: ``values`` added at the indexed
    positions, repeats adding up."""

    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, a, key, values):
        xp = array_module(a)
        out = a.copy()
        target_shape = out[key].shape
        _scatter_add(xp, out, key, xp.broadcast_to(values, target_shape))
        ctx.key = key
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad, None, grad[ctx.key]


class IndexCopy(Function):
    """``input`` with the slices at ``index`` along ``dim`` replaced by ``source``'s."""

    @staticmethod
    def forward(ctx, a, axis, index, source):
        out = a.copy()
        ctx.key = _index_key(a, axis, index)
        ctx.axis = axis
        ctx.save_for_backward(index)
        out[ctx.key] = source
        return out

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        grad_input = _writable_copy(grad)
        grad_input[ctx.key] = 0
        grad_source = array_module(grad).take(grad, index, axis=ctx.axis) if grad.ndim else grad
        return grad_input, None, None, grad_source


# ---- the plain functions -----------------------------------------------------------------

def _raw_key(key):
    """The key with Tensors replaced by arrays, and the Function that indexes with it.

    Also raises PyTorch's errors for negative slice steps and out-of-range integers, which
    NumPy would accept or word differently.
    """
    if _sequence_as_tuple(key):
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated "
                      "and will be changed in pytorch 2.9; use x[tuple(seq)] instead of "
                      "x[seq]. In pytorch 2.9 this will be interpreted as tensor index, "
                      "x[torch.tensor(seq)], which will result either in an error or a "
                      "different result", UserWarning, stacklevel=4)
        key = tuple(key)
    items = key if isinstance(key, tuple) else (key,)
    raw, kind, advanced, basic = [], Alias, False, False
    for item in items:
        if isinstance(item, range):  # the indices it counts, as an index tensor
            item = list(item)
        if isinstance(item, Tensor):
            if item._data.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            if not item._data.ndim and _recording.recorder is not None:
                # ember.compile: an index read on the host would be frozen into the replay.
                _recording.recorder.unsupported("indexes with a 0-d tensor's value")
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


def _sequence_as_tuple(key) -> bool:
    """PyTorch's legacy rule: a list holding a slice, Ellipsis, None, a tensor or a sequence
    (``x[[0, slice(1, 3)]]``, ``x[[[0, 1], [1, 2]]]``) indexes as the tuple of its items."""
    return isinstance(key, list) and len(key) < 32 and any(
        isinstance(item, (slice, list, tuple, range, Tensor, np.ndarray)) or item is None
        or item is Ellipsis for item in key)


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


def _check_scatter(name: str, input, dim: int, index, src) -> int:
    """PyTorch's checks of a scatter's arguments; returns ``dim`` normalized."""
    shape = input._data.shape
    dim = normalize_dim(dim, len(shape))
    if index.dtype.kind not in "iu" or index.dtype.itemsize < 4:
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if isinstance(src, Tensor) and src._data.dtype != input._data.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    if index.ndim != len(shape) and not (index.ndim <= 1 and len(shape) <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    src_shape = src._data.shape if isinstance(src, Tensor) else None
    for d, size in enumerate(index.shape):
        too_big = (d != dim and size > shape[d]) or (src_shape and size > src_shape[d])
        if too_big:
            raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self "
                               f"{list(shape)} apart from dimension {dim}"
                               + (f" and to be no larger size than src {list(src_shape)}"
                                  if src_shape else ""))
    bound = shape[dim] if shape else 1
    if index.size and (int(index.min()) < 0 or int(index.max()) >= bound):
        bad = int(index.min()) if int(index.min()) < 0 else int(index.max())
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {bound}")
    return dim


def _scatter_call(function, input, dim, index, src, *rest):
    """``function.apply`` with the index shaped as the input (a 1-d input may take a 0-d
    index, and a 0-d input a 1-element one)."""
    if index.ndim <= 1:
        index = index.reshape(-1) if input.ndim else index.reshape(())
    return function.apply(input, dim, index, *((src,) if src is not None else ()), *rest)


def scatter(input, dim: int, index, src=None, *, value=None, reduce=None, out=None):
    """``input`` with ``src``'s elements (or the number ``value``) written at ``index`` along
    ``dim``: for a 2-d input and ``dim=0``, ``out[index[i][j]][j] = src[i][j]``.

    Example:
        >>> import ember
        >>> ember.scatter(ember.zeros(2, 3), 0, ember.tensor([[1, 0, 1]]),
        ...               ember.tensor([[1.0, 2.0, 3.0]]))
        tensor([[0., 2., 0.],
                [1., 0., 3.]])
    """
    if src is None:
        src = value
    index = index._data
    dim = _check_scatter("scatter", input, dim, index, src)
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        if isinstance(src, Tensor):
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated "
                          "and will be removed in a future PyTorch release. Use "
                          "torch.scatter_reduce instead for more reduction options.",
                          UserWarning, stacklevel=2)
        result = _scatter_call(ScatterLegacyReduce, input, dim, index, src, reduce)
    elif isinstance(src, Tensor):
        result = _scatter_call(Scatter, input, dim, index, src)
    else:
        result = _scatter_call(ScatterValue, input, dim, index, src)
    return write_out("scatter", result, out)


def scatter_add(input, dim: int, index, src, *, out=None):
    """``input`` plus ``src``'s elements added at ``index`` along ``dim`` (repeats add up).

    Example:
        >>> import ember
        >>> ember.scatter_add(ember.zeros(3), 0, ember.tensor([0, 0, 2]), ember.ones(3))
        tensor([2., 0., 1.])
    """
    index = index._data
    dim = _check_scatter("scatter", input, dim, index, src)
    return write_out("scatter_add", _scatter_call(ScatterAdd, input, dim, index, src), out)


def scatter_reduce(input, dim: int, index, src, reduce: str, *, include_self: bool = True,
                   out=None):
    """Each position of ``input`` reduced with the ``src`` elements indexed to it:
    ``reduce`` is "sum", "prod", "mean", "amax" or "amin"; ``include_self=False`` leaves the
    input's own value out where anything is indexed.

    Example:
        >>> import ember
        >>> ember.scatter_reduce(ember.zeros(2), 0, ember.tensor([0, 0, 1]),
        ...                      ember.tensor([1.0, 3.0, 5.0]), "amax", include_self=False)
        tensor([3., 5.])
    """
    if reduce not in _REDUCE_IDENTITY:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    index = index._data
    dim = _check_scatter("scatter", input, dim, index, src)
    result = _scatter_call(ScatterReduce, input, dim, index, src, reduce, include_self)
    return write_out("scatter_reduce", result, out)


def _check_index_vector(name: str, input, dim: int, index, prefix: str = ""):
    """``index`` as a 1-d integer array for index_add/index_fill/index_copy, with PyTorch's
    errors (``prefix`` starts the message for an index out of range)."""
    if index.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    index = index.reshape(-1)
    size = input.shape[dim] if input.ndim else 1
    if index.size and (int(index.min()) < -size or int(index.max()) >= size):
        bad = int(index.min()) if int(index.min()) < -size else int(index.max())
        raise IndexError(f"{prefix}index {bad} is out of bounds for dimension {dim} with size "
                         f"{size}")
    return index


def index_add(input, dim: int, index, source, *, alpha=1, out=None):
    """``input`` with ``alpha * source``'s slices added at the positions ``index`` lists along
    ``dim`` (repeated positions add up).

    Example:
        >>> import ember
        >>> ember.index_add(ember.zeros(3, 2), 0, ember.tensor([0, 2, 0]), ember.ones(3, 2))
        tensor([[2., 2.],
                [0., 0.],
                [1., 1.]])
    """
    dim = normalize_dim(dim, input.ndim)
    index = index._data
    if index.dtype.kind not in "iu" or index.dtype.itemsize < 4:
        raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but got: "
                           f"{type_name(index.dtype)}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_add_(): self ({type_name(input._data.dtype)}) and "
                           f"source ({type_name(source._data.dtype)}) must have the "
                           f"same scalar type")
    source_size = source.shape[dim] if source.ndim else 1
    if index.reshape(-1).size != source_size:
        raise RuntimeError(f"index_add_(): Number of indices ({index.size}) should be equal to "
                           f"source.size(dim): ({source_size}), for dim: {dim}")
    index = _check_index_vector("index_add", input, dim, index)
    return write_out("index_add", IndexAdd.apply(input, dim, index, source, alpha), out)


def index_fill(input, dim: int, index, value):
    """``input`` with the slices at the positions ``index`` lists along ``dim`` set to
    ``value`` (a number or a 0-d tensor).

    Example:
        >>> import ember
        >>> ember.index_fill(ember.zeros(2, 3), 1, ember.tensor([0, 2]), -1.0)
        tensor([[-1.,  0., -1.],
                [-1.,  0., -1.]])
    """
    dim = normalize_dim(dim, input.ndim)
    index = index._data
    if index.dtype != np.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    index = _check_index_vector("index_fill", input, dim, index)
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    function = IndexFillTensor if isinstance(value, Tensor) else IndexFill
    return function.apply(input, dim, index, value)


def narrow(input, dim: int, start, length: int):
    """The view of ``length`` elements of ``input`` along ``dim`` from ``start`` (an int or a
    0-d integer tensor; negative counts from the end).

    Example:
        >>> import ember
        >>> ember.narrow(ember.arange(6).reshape(2, 3), 1, 1, 2)
        tensor([[1, 2],
                [4, 5]])
    """
    if not input.ndim:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = normalize_dim(dim, input.ndim)
    start = int(start)
    size = input.shape[dim]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    start = start + size if start < 0 else start
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    return getitem(input, (slice(None),) * dim + (slice(start, start + length),))


def masked_scatter(input, mask, source):
    """``input`` with its elements where ``mask`` holds replaced, in order, by ``source``'s.

    Example:
        >>> import ember
        >>> ember.zeros(4).masked_scatter(ember.tensor([True, False, True, False]),
        ...                               ember.tensor([1.0, 2.0, 3.0]))
        tensor([1., 0., 2., 0.])
    """
    mask = mask._data
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {type_name(mask.dtype)}")
    if int(array_module(mask).broadcast_to(mask, input.shape).sum()) > source.numel():
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return MaskedScatter.apply(input, mask, source)


def masked_select(input, mask, *, out=None):
    """The elements of ``input`` where ``mask`` (broadcast with it) holds, as a 1-d tensor.

    Example:
        >>> import ember
        >>> ember.masked_select(ember.tensor([1, 2, 3]), ember.tensor([True, False, True]))
        tensor([1, 3])
    """
    mask = mask._data
    if mask.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    return write_out("masked_select", MaskedSelect.apply(input, mask), out)


def select(input, dim: int, index: int):
    """The view of ``input`` at ``index`` along ``dim``, which it drops.

    Example:
        >>> import ember
        >>> ember.select(ember.arange(6).reshape(2, 3), 1, -1)
        tensor([2, 5])
    """
    dim = normalize_dim(dim, input.ndim)
    return getitem(input, (slice(None),) * dim + (int(index),))


def take_along_dim(input, indices, dim=None, *, out=None):
    """The values of ``input`` at ``indices`` along ``dim`` (broadcasting the other dimensions;
    of the flattened input without ``dim``), as ``argsort``/``argmax`` results pick them.

    Example:
        >>> import ember
        >>> x = ember.tensor([[10, 30, 20]])
        >>> ember.take_along_dim(x, x.argsort(dim=1), dim=1)
        tensor([[10, 20, 30]])
    """
    if dim is None:
        return write_out("take_along_dim", gather(input.reshape(-1), 0, indices.reshape(-1)),
                         out)
    dim = normalize_dim(dim, input.ndim)
    # The other dimensions broadcast; along dim each keeps its own size.
    others = np.broadcast_shapes(_without(input.shape, dim), _without(indices.shape, dim))
    input_shape = others[:dim] + (input.shape[dim],) + others[dim:]
    index_shape = others[:dim] + (indices.shape[dim],) + others[dim:]
    return write_out("take_along_dim", gather(input.expand(*input_shape), dim,
                                              indices.expand(*index_shape)), out)


def _without(shape, dim: int) -> tuple:
    return tuple(shape[:dim]) + tuple(shape[dim + 1:])


def index_put_values(input, indices, values, accumulate: bool = False, *,
                     name: str = "index_put"):
    """``Tensor.index_put``: ``input`` with ``values`` written (or, with ``accumulate``,
    added) at the positions the tuple of index tensors ``indices`` names.

    Example:
        >>> import ember
        >>> ember.zeros(3).index_put((ember.tensor([0, 0]),), ember.tensor(1.0), accumulate=True)
        tensor([2., 0., 0.])
    """
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{name}(): argument 'indices' (position 1) must be tuple of Tensors, "
                        f"not {type(indices).__name__}")
    key = tuple(indices)
    if not accumulate:
        return index_put(input, key, values)
    raw, _ = _raw_key(key)
    return IndexPutAccumulate.apply(input, raw if isinstance(raw, tuple) else (raw,), values)


def index_copy(input, dim: int, index, source):
    """``input`` with the slices at ``index`` along ``dim`` replaced by ``source``'s slices.

    Example:
        >>> import ember
        >>> ember.zeros(3, 2).index_copy(0, ember.tensor([2]), ember.ones(1, 2))
        tensor([[0., 0.],
                [0., 0.],
                [1., 1.]])
    """
    dim = normalize_dim(dim, max(input.ndim, 1))
    index = _check_index_vector("index_copy", input, dim, index._data, "index_copy_(): ")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {type_name(input._data.dtype)} and (source) "
                           f"{type_name(source._data.dtype)}")
    return IndexCopy.apply(input, dim, index, source)

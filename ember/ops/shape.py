"""Shape ops: view/reshape, squeeze/unsqueeze, permute/transpose, expand, cat/stack, split.

Ops marked ``is_view`` return arrays that share memory with their input (NumPy views), so the
output shares the input's version counter: an in-place change through either is seen by both.
"""

import warnings

import numpy as np

from .._backend import array_module
from .._dtype import result_dtype, type_name
from .._tensor import Tensor
from .._tensor_types import preserve_format
from ..autograd import inplace
from ..autograd.function import Function
from . import elementwise
from .elementwise import write_out


def normalize_dim(dim: int, ndim: int) -> int:
    """``dim`` as a non-negative axis; IndexError as PyTorch words it when out of range."""
    low, high = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not low <= dim <= high:
        raise IndexError(f"Dimension out of range (expected to be in range of [{low}, {high}], "
                         f"but got {dim})")
    return dim % ndim if ndim else 0


def sizes_from(args) -> tuple:
    """``view(2, 3)``, ``view((2, 3))`` and ``view([2, 3])`` all give ``(2, 3)``."""
    if len(args) == 1 and not isinstance(args[0], int):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)


def infer_shape(shape: tuple, numel: int) -> tuple:
    """``shape`` with its one ``-1`` filled in; RuntimeError when it cannot hold ``numel``."""
    known, unknown = 1, None
    for i, size in enumerate(shape):
        if size == -1:
            if unknown is not None:
                raise RuntimeError("only one dimension can be inferred")
            unknown = i
        elif size < 0:
            raise RuntimeError(f"invalid shape dimension {size} at index {i} of shape "
                               f"{list(shape)}")
        else:
            known *= size
    if unknown is not None and known == 0 and numel == 0:
        raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} "
                           "because the unspecified dimension size -1 can be any value and is "
                           "ambiguous")
    if unknown is not None and known != 0 and numel % known == 0:
        return shape[:unknown] + (numel // known,) + shape[unknown + 1:]
    if unknown is None and known == numel:
        return shape
    raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")


def _view_of(a, shape):
    """``a`` reshaped without copying, or None when its strides do not allow it."""
    if a.flags.c_contiguous:
        return a.reshape(shape)
    if array_module(a) is np:
        try:
            return np.reshape(a, shape, copy=False)
        except ValueError:
            return None
    return None


class View(Function):
    is_view = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        out = _view_of(a, infer_shape(shape, a.size))
        if out is None:
            raise RuntimeError("view size is not compatible with input tensor's size and stride "
                               "(at least one dimension spans across two contiguous subspaces). "
                               "Use .reshape(...) instead.")
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class UnsafeView(Function):
    """A reshape that had to copy (the input's strides allow no view)."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class Squeeze(Function):
    is_view = True

    @staticmethod
    def forward(ctx, a):
        ctx.shape = a.shape
        return a.reshape([s for s in a.shape if s != 1]) if a.flags.c_contiguous else \
            a.squeeze()

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class SqueezeDim(Function):
    node_name = "SqueezeBackward1"
    is_view = True

    @staticmethod
    def forward(ctx, a, axis):
        ctx.shape = a.shape
        return a.squeeze(axis) if a.ndim and a.shape[axis] == 1 else a.view()

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class SqueezeDims(Function):
    """``squeeze`` of several dimensions at once (those of them that have size 1)."""

    node_name = "SqueezeBackward2"
    is_view = True

    @staticmethod
    def forward(ctx, a, axes):
        ctx.shape = a.shape
        return a.squeeze(tuple(axis for axis in axes if a.ndim and a.shape[axis] == 1))

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class SqueezeInplaceDim(SqueezeDim):
    """``squeeze_(dim)``'s node, which PyTorch's matmul records for a vector times a matrix."""

    node_name = "SqueezeBackward4"


class SqueezeProduct(SqueezeInplaceDim):
    """The squeeze of a vector-times-matrix product that matmul just made: PyTorch squeezes
    that product in place, so the result is no view of anything (an in-place op on it, after
    one that saved its output, is then caught as on any tensor); nothing else holds the
    product, so sharing its memory is safe."""

    node_name = "SqueezeBackward4"
    is_view = False


class Unsqueeze(Function):
    is_view = True

    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        return array_module(a).expand_dims(a, axis)

    @staticmethod
    def backward(ctx, grad):
        return grad.squeeze(ctx.axis), None


class Permute(Function):
    is_view = True

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(np.argsort(ctx.dims)), None


class Transpose(Function):
    is_view = True

    @staticmethod
    def forward(ctx, a, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return a.swapaxes(dim0, dim1) if a.ndim else a.view()  # a 0-d tensor has one "dim"

    @staticmethod
    def backward(ctx, grad):
        return grad.swapaxes(*ctx.dims) if grad.ndim else grad, None, None


class T(Function):
    is_view = True

    @staticmethod
    def forward(ctx, a):
        return a.T

    @staticmethod
    def backward(ctx, grad):
        return grad.T


# The in-place forms of the view ops (``x.unsqueeze_(0)``) change ``x``'s shape, not its
# values; PyTorch names their nodes apart.

class UnsqueezeInplace(Unsqueeze):
    node_name = "UnsqueezeBackward1"


class SqueezeInplace(Squeeze):
    node_name = "SqueezeBackward3"


class SqueezeInplaceDims(SqueezeDims):
    node_name = "SqueezeBackward5"


class TInplace(T):
    node_name = "TBackward1"


class TransposeInplace(Transpose):
    node_name = "TransposeBackward1"


class Expand(Function):
    is_view = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        xp = array_module(a)
        out = xp.broadcast_to(a, shape)
        # Writable, as in PyTorch (NumPy makes every broadcast read-only): in-place ops refuse
        # to write elements that share memory (``autograd.inplace.check_writable``), and the
        # others, such as one row of ``x.expand(3, 2)``, may be written.
        return xp.lib.stride_tricks.as_strided(a, out.shape, out.strides)

    @staticmethod
    def backward(ctx, grad):
        # The engine sums the gradient back to the input's shape.
        return grad, None


class Clone(Function):
    """A copy; ``order`` (the dimensions from outermost to innermost in memory) lays it out
    other than in C order: channels_last, or the input's own order."""

    @staticmethod
    def forward(ctx, a, order=None):
        if order is None:
            return a.copy()
        return a.transpose(order).copy().transpose(np.argsort(order))

    @staticmethod
    def backward(ctx, grad):
        return grad


class Repeat(Function):
    @staticmethod
    def forward(ctx, a, repeats):
        ctx.shape = a.shape
        ctx.repeats = repeats
        return array_module(a).tile(a.reshape((1,) * (len(repeats) - a.ndim) + a.shape),
                                    repeats)

    @staticmethod
    def backward(ctx, grad):
        repeats = ctx.repeats
        shape = (1,) * (len(repeats) - len(ctx.shape)) + ctx.shape
        interleaved = [n for pair in zip(repeats, shape) for n in pair]
        grad = grad.reshape(interleaved).sum(axis=tuple(range(0, 2 * len(shape), 2)))
        return grad.reshape(ctx.shape), None


class Cat(Function):
    """``cat``: every tensor is an input (so one that requires grad makes the result require
    it, as in PyTorch), but 1-d empty ones are skipped, as PyTorch skips them, unless all are;
    their gradient is empty."""

    @staticmethod
    def forward(ctx, axis, dtype, *arrays):
        ctx.axis = axis
        all_empty = all(a.shape == (0,) for a in arrays)
        ctx.skipped = [a.shape == (0,) and not all_empty for a in arrays]
        kept = [a for a, skip in zip(arrays, ctx.skipped) if not skip]
        ctx.sizes = [a.shape[axis] for a in kept]
        return array_module(arrays[0]).concatenate([a.astype(dtype, copy=False)
                                                    for a in kept], axis=axis)

    @staticmethod
    def backward(ctx, grad):
        xp = array_module(grad)
        pieces = iter(xp.split(grad, np.cumsum(ctx.sizes)[:-1].tolist(), axis=ctx.axis))
        return (None, None, *(xp.zeros((0,), grad.dtype) if skip else next(pieces)
                              for skip in ctx.skipped))


class Stack(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        dtype = result_dtype(*arrays)
        ctx.axis = axis
        return array_module(arrays[0]).stack([a.astype(dtype, copy=False) for a in arrays],
                                             axis=axis)

    @staticmethod
    def backward(ctx, grad):
        xp = array_module(grad)
        return (None, *(xp.squeeze(g, ctx.axis)
                        for g in xp.split(grad, grad.shape[ctx.axis], axis=ctx.axis)))


class Split(Function):
    is_view = True
    multiple_views = True

    @staticmethod
    def forward(ctx, a, sizes, axis):
        ctx.axis = axis
        # Slices, as NumPy's split makes them, without its own Python (a third of the op's
        # time for a transformer's q, k, v).
        lead = (slice(None),) * axis
        pieces, start = [], 0
        for size in sizes:
            pieces.append(a[lead + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        return array_module(grads[0]).concatenate(grads, axis=ctx.axis), None, None


class SplitWithSizes(Split):
    node_name = "SplitWithSizesBackward0"


class Unbind(Function):
    is_view = True
    multiple_views = True

    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        # The Ellipsis keeps each piece of a 1-d tensor a 0-d view (NumPy returns a copy, a
        # scalar, for a[i]).
        return tuple(a[(slice(None),) * axis + (i, Ellipsis)] for i in range(a.shape[axis]))

    @staticmethod
    def backward(ctx, *grads):
        return array_module(grads[0]).stack(grads, axis=ctx.axis), None


class Flip(Function):
    """The order of elements reversed along ``dims``: a copy, as in PyTorch (not a view)."""

    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return array_module(a).flip(a, axes).copy()

    @staticmethod
    def backward(ctx, grad):
        return array_module(grad).flip(grad, ctx.axes), None


class Roll(Function):
    """Elements shifted cyclically along ``dims`` (of the flattened tensor when ``dims`` is
    empty); the gradient rolls back the other way."""

    @staticmethod
    def forward(ctx, a, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        xp = array_module(a)
        if not axes:
            return xp.roll(a.reshape(-1), shifts[0]).reshape(a.shape)
        return xp.roll(a, shifts, axes)

    @staticmethod
    def backward(ctx, grad):
        xp = array_module(grad)
        back = tuple(-shift for shift in ctx.shifts)
        if not ctx.axes:
            return xp.roll(grad.reshape(-1), back[0]).reshape(grad.shape), None, None
        return xp.roll(grad, back, ctx.axes), None, None


class RepeatedIndices(Function):
    """``repeat_interleave(counts)``: each index ``i`` repeated ``counts[i]`` times."""

    differentiable = False

    @staticmethod
    def forward(ctx, counts):
        xp = array_module(counts)
        return xp.repeat(xp.arange(counts.shape[0]), counts)


class Tril(Function):
    """The lower triangle of the last two dimensions (on and below ``diagonal``), zeros
    above; the gradient keeps the same triangle."""

    @staticmethod
    def forward(ctx, a, diagonal):
        ctx.diagonal = diagonal
        return array_module(a).tril(a, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return array_module(grad).tril(grad, ctx.diagonal), None


class Triu(Function):
    """The upper triangle of the last two dimensions (on and above ``diagonal``)."""

    @staticmethod
    def forward(ctx, a, diagonal):
        ctx.diagonal = diagonal
        return array_module(a).triu(a, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return array_module(grad).triu(grad, ctx.diagonal), None


def diagonal_view(a, offset: int, axis1: int, axis2: int):
    """The writable view of ``a``'s diagonal ``offset`` in the plane (axis1, axis2), as the
    last dimension (NumPy's own ``diagonal`` is read-only)."""
    xp = array_module(a)
    if xp is not np:
        return xp.diagonal(a, offset, axis1, axis2)
    # Start at the diagonal's first element, then step along both axes at once.
    start = [slice(None)] * a.ndim
    if offset >= 0:
        start[axis2] = slice(offset, None)
    else:
        start[axis1] = slice(-offset, None)
    corner = a[tuple(start)]
    length = max(0, min(corner.shape[axis1], corner.shape[axis2]))
    others = [d for d in range(a.ndim) if d not in (axis1, axis2)]
    return np.lib.stride_tricks.as_strided(
        corner, tuple(a.shape[d] for d in others) + (length,),
        tuple(a.strides[d] for d in others) + (a.strides[axis1] + a.strides[axis2],))


class Diagonal(Function):
    """The diagonal ``offset`` of the plane (dim1, dim2), as the last dimension: a view."""

    is_view = True

    @staticmethod
    def forward(ctx, a, offset, axis1, axis2):
        ctx.shape, ctx.args = a.shape, (offset, axis1, axis2)
        return diagonal_view(a, offset, axis1, axis2)

    @staticmethod
    def backward(ctx, grad):
        grad_input = array_module(grad).zeros(ctx.shape, grad.dtype)
        diagonal_view(grad_input, *ctx.args)[...] = grad
        return grad_input, None, None, None


class DiagonalCopy(Diagonal):
    """``diag`` of a matrix: its diagonal as a new vector, not a view."""

    node_name = "DiagonalBackward0_copy"
    is_view = False

    @staticmethod
    def forward(ctx, a, offset, axis1, axis2):
        return Diagonal.forward(ctx, a, offset, axis1, axis2).copy()


class DiagEmbed(Function):
    """A vector placed on the diagonal ``offset`` of a square matrix of zeros."""

    @staticmethod
    def forward(ctx, v, offset):
        size = v.shape[0] + abs(offset)
        out = array_module(v).zeros((size, size), v.dtype)
        diagonal_view(out, offset, 0, 1)[...] = v
        ctx.offset = offset
        return out

    @staticmethod
    def backward(ctx, grad):
        return diagonal_view(grad, ctx.offset, 0, 1).copy(), None


class Trace(Function):
    """The sum of a matrix's main diagonal."""

    @staticmethod
    def forward(ctx, a):
        ctx.shape = a.shape
        return diagonal_view(a, 0, 0, 1).sum()

    @staticmethod
    def backward(ctx, grad):
        grad_input = array_module(grad).zeros(ctx.shape, grad.dtype)
        diagonal_view(grad_input, 0, 0, 1)[...] = grad
        return grad_input


# ---- the plain functions -----------------------------------------------------------------

def view(input, *shape):
    """The same memory seen with another shape (one size may be -1).

    Example:
        >>> import ember
        >>> ember.arange(6).view(2, -1).shape
        ember.Size([2, 3])
    """
    return View.apply(input, sizes_from(shape))


def reshape(input, shape):
    """Like ``view``, but copies when the input's memory layout allows no view."""
    shape = infer_shape(sizes_from((shape,)), input.numel())
    if _view_of(input._data, shape) is not None:
        return View.apply(input, shape)
    # As in PyTorch: a contiguous copy (CloneBackward0), then a view of it (UnsafeView).
    return UnsafeView.apply(Clone.apply(input), shape)


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    """Merge dimensions ``start_dim`` … ``end_dim`` into one."""
    ndim = input.ndim
    if ndim == 0:  # dims 0 and -1 are valid (as a 1-d tensor's), others raise IndexError
        normalize_dim(start_dim, 0), normalize_dim(end_dim, 0)
        return reshape(input, 1)
    start, end = normalize_dim(start_dim, ndim), normalize_dim(end_dim, ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    shape = input.shape
    merged = 1
    for size in shape[start:end + 1]:
        merged *= size
    return reshape(input, tuple(shape[:start]) + (merged,) + tuple(shape[end + 1:]))


def unflatten(input, dim: int, sizes):
    dim = normalize_dim(dim, input.ndim)
    shape = tuple(input.shape)
    sizes = infer_shape(tuple(sizes), shape[dim])
    return view(input, shape[:dim] + sizes + shape[dim + 1:])


def squeeze(input, dim=None):
    """Remove dimensions of size 1 (only ``dim`` when given)."""
    if dim is None:
        return Squeeze.apply(input)
    if isinstance(dim, (tuple, list)):
        return SqueezeDims.apply(input, tuple(normalize_dim(d, input.ndim) for d in dim))
    return SqueezeDim.apply(input, normalize_dim(dim, input.ndim))


def unsqueeze(input, dim: int):
    """Insert a dimension of size 1 at ``dim``."""
    return Unsqueeze.apply(input, normalize_dim(dim, input.ndim + 1))


def permute(input, dims):
    """Reorder the dimensions: ``dims[i]`` is the input dimension that becomes dimension i."""
    dims = tuple(normalize_dim(d, input.ndim) for d in sizes_from((dims,)))
    if sorted(dims) != list(range(input.ndim)):
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {input.ndim} is not equal to len(dims) = {len(dims)}"
                           if len(dims) != input.ndim else "permute(): duplicate dims are not "
                           "allowed.")
    return Permute.apply(input, dims)


def transpose(input, dim0: int, dim1: int):
    """Swap two dimensions."""
    ndim = input.ndim
    return Transpose.apply(input, normalize_dim(dim0, ndim), normalize_dim(dim1, ndim))


def t(input):
    """Transpose a tensor of at most 2 dimensions."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D")
    return T.apply(input)


def expand(input, *sizes):
    """A view with size-1 dimensions repeated (``-1`` keeps a size), without copying."""
    return Expand.apply(input, expanded_shape(input._data.shape, sizes_from(sizes),
                                              input._data.dtype))


def expanded_shape(shape: tuple, sizes: tuple, dtype) -> tuple:
    """The shape ``expand(*sizes)`` gives a tensor of ``shape``; PyTorch's errors if none."""
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand(ember.{type_name(dtype)}Tensor{{{list(shape)}}}, "
                           f"size={list(sizes)}): the number of sizes provided ({len(sizes)}) "
                           f"must be greater or equal to the number of dimensions in the tensor "
                           f"({len(shape)})")
    aligned = (None,) * (len(sizes) - len(shape)) + tuple(shape)
    target = []
    for i, (size, old) in enumerate(zip(sizes, aligned)):
        if size == -1:
            if old is None:
                raise RuntimeError("The expanded size of the tensor (-1) isn't allowed in a "
                                   "leading, non-existing dimension 0")
            size = old
        elif old is not None and old != 1 and old != size:
            raise RuntimeError(f"The expanded size of the tensor ({size}) must match the "
                               f"existing size ({old}) at non-singleton dimension {i}.  Target "
                               f"sizes: {list(sizes)}.  Tensor sizes: {list(shape)}")
        target.append(size)
    return tuple(target)


def memory_order(array, memory_format) -> "tuple | None":
    """The dimensions of ``array`` from outermost to innermost in memory for a layout in
    ``memory_format`` (None for C order); preserve_format keeps ``array``'s own order."""
    name = getattr(memory_format, "name", None)
    if name in (None, "contiguous_format"):
        return None
    if name == "preserve_format":
        # Outermost first: the dimensions by decreasing stride (ties keep their order).
        order = tuple(sorted(range(array.ndim), key=lambda d: -array.strides[d]))
        return None if order == tuple(range(array.ndim)) else order
    rank = {"channels_last": 4, "channels_last_3d": 5}[name]
    if array.ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {name} format")
    return (0,) + tuple(range(2, rank)) + (1,)


def is_contiguous(input, memory_format=None) -> bool:
    """Whether ``input``'s elements lie densely in ``memory_format``'s order (C order by
    default)."""
    order = memory_order(input._data, memory_format)
    array = input._data if order is None else input._data.transpose(order)
    return bool(array.flags.c_contiguous)


def contiguous(input, memory_format=None):
    """Self when already laid out in ``memory_format`` (C order by default), else a copy that
    is."""
    if memory_format is None:  # the common case, kept short: C order
        return input if input._data.flags.c_contiguous else Clone.apply(input)
    if is_contiguous(input, memory_format):
        return input
    return Clone.apply(input, memory_order(input._data, memory_format))


def clone(input, *, memory_format=None):
    """A copy that stays in the graph (its gradient flows to ``input``); laid out as
    ``input`` unless ``memory_format`` says otherwise (PyTorch's ``preserve_format``).

    Example:
        >>> import ember
        >>> ember.ones(2, 3).t().clone().stride()
        (1, 3)
    """
    if memory_format is None:
        if input._data.flags.c_contiguous:  # the common case: C order is the input's order
            return Clone.apply(input)
        memory_format = preserve_format
    return Clone.apply(input, memory_order(input._data, memory_format))


def repeat(input, *sizes):
    sizes = sizes_from(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    return Repeat.apply(input, sizes)


def cat(tensors, dim: int = 0, *, out=None):
    """Join tensors along an existing dimension.

    Example:
        >>> import ember
        >>> ember.cat([ember.zeros(2, 3), ember.ones(1, 3)]).shape
        ember.Size([3, 3])
    """
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    # PyTorch still skips 1-D empty tensors (the old way to start a concatenation).
    for i, tensor in enumerate(tensors):
        if tensor.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
    kept = [t for t in tensors if t._data.shape != (0,)] or tensors[:1]
    first = kept[0]
    axis = normalize_dim(dim, first.ndim)
    for i, tensor in enumerate(kept[1:], start=1):
        if tensor.ndim != first.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {first.ndim} "
                               f"and {tensor.ndim}")
        for d, (expected, got) in enumerate(zip(first.shape, tensor.shape)):
            if d != axis and expected != got:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {axis}. "
                                   f"Expected size {expected} but got size {got} for tensor "
                                   f"number {i} in the list.")
    # The dtype is promoted over every tensor, the skipped empty ones too, as in PyTorch.
    dtype = result_dtype(*(t._data for t in tensors))
    return write_out("cat", Cat.apply(axis, dtype, *tensors), out)


def stack(tensors, dim: int = 0, *, out=None):
    """Join tensors of the same shape along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, tensor in enumerate(tensors[1:], start=1):
        if tensor.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(tensors[0].shape)} at entry 0 and {list(tensor.shape)} "
                               f"at entry {i}")
    return write_out("stack", Stack.apply(normalize_dim(dim, tensors[0].ndim + 1), *tensors),
                     out)


def split(tensor, split_size_or_sections, dim: int = 0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes."""
    input = tensor
    if input.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    axis = normalize_dim(dim, input.ndim)
    length = input.shape[axis]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0 and length:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {length}")
        # An empty dimension (where split_size may be 0): PyTorch's one empty piece
        sizes = [size] * (length // size) + ([length % size] if length % size else []) \
            if length else [0]
        function = Split
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != length:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {length} "
                               f"(input tensor's size at dimension {axis}), but got "
                               f"split_sizes={sizes}")
        function = SplitWithSizes
    outputs = function.apply(input, sizes, axis)
    return outputs if isinstance(outputs, tuple) else (outputs,)


def chunk(input, chunks: int, dim: int = 0):
    """Split into ``chunks`` pieces of (nearly) equal size."""
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    length = input.shape[normalize_dim(dim, input.ndim)]
    if length == 0:  # PyTorch gives `chunks` empty pieces (split_with_sizes)
        return split(input, [0] * chunks, dim)
    return split(input, -(-length // chunks), dim)


def unbind(input, dim: int = 0):
    """The slices along ``dim``, as a tuple."""
    outputs = Unbind.apply(input, normalize_dim(dim, input.ndim))
    return outputs if isinstance(outputs, tuple) else (outputs,)


def flip(input, dims):
    """Reverse the order of elements along ``dims`` (a copy).

    Example:
        >>> import ember
        >>> ember.flip(ember.tensor([[1, 2], [3, 4]]), (1,))
        tensor([[2, 1],
                [4, 3]])
    """
    dims = sizes_from((dims,))
    axes = tuple(normalize_dim(d, input.ndim) for d in dims)
    for i, axis in enumerate(axes):
        if axis in axes[:i]:
            raise RuntimeError(f"dim {axis} appears multiple times in the list of dims")
    return Flip.apply(input, tuple(axis for axis in axes if input.ndim))


def roll(input, shifts, dims=None):
    """Shift elements cyclically by ``shifts`` along ``dims`` (both an int or a sequence);
    without ``dims`` the flattened tensor is rolled and the shape restored.

    Example:
        >>> import ember
        >>> ember.roll(ember.tensor([1, 2, 3, 4]), 1)
        tensor([4, 1, 2, 3])
    """
    shifts = (shifts,) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    dims = () if dims is None else (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims) and not (not dims and len(shifts) == 1):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    if dims and not input.ndim:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    axes = tuple(normalize_dim(d, input.ndim) for d in dims)
    return Roll.apply(input, shifts, axes)


def _check_matrix(name: str, input) -> None:
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")


def tril(input, diagonal: int = 0, *, out=None):
    """The lower triangle of each matrix in ``input`` (the last two dimensions): elements on
    and below ``diagonal`` (0 the main one, >0 above it, <0 below it), zeros elsewhere.

    Example:
        >>> import ember
        >>> ember.tril(ember.ones(3, 3), diagonal=-1)
        tensor([[0., 0., 0.],
                [1., 0., 0.],
                [1., 1., 0.]])
    """
    _check_matrix("tril", input)
    return write_out("tril", Tril.apply(input, int(diagonal)), out)


def triu(input, diagonal: int = 0, *, out=None):
    """The upper triangle of each matrix in ``input``: elements on and above ``diagonal``.

    Example:
        >>> import ember
        >>> ember.triu(ember.ones(2, 3), diagonal=1)
        tensor([[0., 1., 1.],
                [0., 0., 1.]])
    """
    _check_matrix("triu", input)
    return write_out("triu", Triu.apply(input, int(diagonal)), out)


def _restride(input, function, *args):
    """``input`` made the view ``function.apply(input, *args)`` of its own memory: the shape
    and strides change in place, and the view's node becomes ``input``'s."""
    inplace.check_leaf(input)
    result = function.apply(input, *args)
    input._data = result._data
    if result.grad_fn is not None:
        input.grad_fn, input._output_nr = result.grad_fn, result._output_nr
    inplace.bump_version(input)
    return input


def unsqueeze_(input, dim: int):
    """``unsqueeze`` in place: ``input`` gains a dimension of size 1 at ``dim``."""
    return _restride(input, UnsqueezeInplace, normalize_dim(dim, input.ndim + 1))


def squeeze_(input, dim=None):
    """``squeeze`` in place: ``input`` loses its dimensions of size 1 (only ``dim``'s)."""
    if dim is None:
        return _restride(input, SqueezeInplace)
    if isinstance(dim, (tuple, list)):
        return _restride(input, SqueezeInplaceDims,
                         tuple(normalize_dim(d, input.ndim) for d in dim))
    return _restride(input, SqueezeInplaceDim, normalize_dim(dim, input.ndim))


def t_(input):
    """``t`` in place: a matrix's dimensions swapped."""
    if input.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D")
    return _restride(input, TInplace)


def transpose_(input, dim0: int, dim1: int):
    """``transpose`` in place: two dimensions swapped."""
    ndim = input.ndim
    return _restride(input, TransposeInplace, normalize_dim(dim0, ndim),
                     normalize_dim(dim1, ndim))


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """The view of the diagonal ``offset`` (above the main one when positive) of the plane
    (``dim1``, ``dim2``), as the last dimension.

    Example:
        >>> import ember
        >>> ember.diagonal(ember.arange(9).reshape(3, 3), offset=1)
        tensor([1, 5])
    """
    axis1, axis2 = normalize_dim(dim1, input.ndim), normalize_dim(dim2, input.ndim)
    if axis1 == axis2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, int(offset), axis1, axis2)


def diag(input, diagonal: int = 0, *, out=None):
    """A vector's square diagonal matrix, or a matrix's diagonal as a vector (``diagonal``
    picks which: above the main one when positive).

    Example:
        >>> import ember
        >>> ember.diag(ember.tensor([1, 2]))
        tensor([[1, 0],
                [0, 2]])
    """
    if input.ndim == 1:
        return write_out("diag", DiagEmbed.apply(input, int(diagonal)), out)
    if input.ndim != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    return write_out("diag", DiagonalCopy.apply(input, int(diagonal), 0, 1), out)


def trace(input):
    """The sum of the main diagonal of a matrix.

    Example:
        >>> import ember
        >>> ember.trace(ember.arange(9.0).reshape(3, 3))
        tensor(12.)
    """
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return Trace.apply(input)


def outer(input, vec2, *, out=None):
    """The outer product of two vectors: ``out[i, j] = input[i] * vec2[j]``.

    Example:
        >>> import ember
        >>> ember.outer(ember.tensor([1, 2]), ember.tensor([3, 4]))
        tensor([[3, 4],
                [6, 8]])
    """
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input.ndim}-D"
                           if input.ndim != 1 else
                           f"outer: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    return write_out("outer", elementwise.mul(reshape(input, (-1, 1)), vec2), out)


def tile(input, dims):
    """``input`` repeated ``dims[i]`` times along each dimension (``dims`` shorter than the
    number of dimensions counts from the last).

    Example:
        >>> import ember
        >>> ember.tile(ember.tensor([1, 2]), (2, 2))
        tensor([[1, 2, 1, 2],
                [1, 2, 1, 2]])
    """
    dims = sizes_from((dims,))
    return repeat(input, *((1,) * (input.ndim - len(dims)) + tuple(dims)))


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place, a number or a
    tensor of counts; without ``dim``, of the flattened input. With only a tensor of counts,
    the indices repeated so.

    Example:
        >>> import ember
        >>> ember.repeat_interleave(ember.tensor([1, 2]), 2)
        tensor([1, 1, 2, 2])
    """
    from .indexing import index_select  # here: ember.ops.indexing imports this module
    if repeats is None:  # repeat_interleave(counts): 0, 1, ... each repeated counts[i] times
        return RepeatedIndices.apply(input)
    if dim is None:
        input, dim = flatten(input), 0
    dim = normalize_dim(dim, input.ndim)
    xp = array_module(input._data)
    counts = repeats._data if isinstance(repeats, Tensor) else int(repeats)
    if isinstance(repeats, Tensor) and counts.ndim and counts.shape[0] != input.shape[dim]:
        raise RuntimeError("repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {counts.shape[0]} and input.size({dim}) = "
                           f"{input.shape[dim]}")
    index = xp.repeat(xp.arange(input.shape[dim]), counts)
    return index_select(input, dim, Tensor._wrap(index))


def meshgrid(*tensors, indexing: "str | None" = None):
    """Coordinate grids from 1-d tensors: the i-th result varies along dimension i
    (``indexing="ij"``) or, for the first two, the other way round (``"xy"``).

    Example:
        >>> import ember
        >>> rows, columns = ember.meshgrid(ember.tensor([1, 2]), ember.tensor([3, 4, 5]),
        ...                                indexing="ij")
        >>> rows.shape
        ember.Size([2, 3])
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'ember.meshgrid: indexing must be one of "xy" or "ij", but '
                           f"received: {indexing}")
    swap = indexing == "xy" and len(tensors) >= 2
    ordered = list(tensors)
    if swap:
        ordered[0], ordered[1] = ordered[1], ordered[0]
    shape = tuple(t.numel() for t in ordered)
    grids = []
    for i, t in enumerate(ordered):
        view_shape = [1] * len(ordered)
        view_shape[i] = -1
        grids.append(expand(reshape(t, tuple(view_shape)), *shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim``: ``out[i] = input[i + 1] - input[i]``,
    after ``prepend`` and ``append`` are joined on.

    Example:
        >>> import ember
        >>> ember.diff(ember.tensor([1, 4, 9, 16]))
        tensor([3, 5, 7])
    """
    from .indexing import narrow  # here: ember.ops.indexing imports this module
    dim = normalize_dim(dim, input.ndim)
    if prepend is not None or append is not None:
        parts = [p for p in (prepend, input, append) if p is not None]
        input = cat(parts, dim)
    for _ in range(n):
        length = input.shape[dim]
        if length == 0:
            break
        later, earlier = narrow(input, dim, 1, length - 1), narrow(input, dim, 0, length - 1)
        input = elementwise.logical_xor(later, earlier) if input.dtype.numpy.kind == "b" \
            else elementwise.sub(later, earlier)
    return input


def movedim(input, source, destination):
    """``input`` with the dimensions ``source`` moved to ``destination`` (ints or sequences),
    the others keeping their order: a view.

    Example:
        >>> import ember
        >>> ember.movedim(ember.zeros(2, 3, 4), 0, -1).shape
        ember.Size([3, 4, 2])
    """
    source = [source] if isinstance(source, int) else list(source)
    destination = [destination] if isinstance(destination, int) else list(destination)
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({source} "
                           f"dims) should contain the same number of dims as destination "
                           f"({destination} dims)")
    ndim = input.ndim
    source = [normalize_dim(d, ndim) for d in source]
    destination = [normalize_dim(d, ndim) for d in destination]
    order = [d for d in range(ndim) if d not in source]
    for target, moved in sorted(zip(destination, source)):
        order.insert(target, moved)
    return permute(input, order)


def swapaxes(input, axis0: int, axis1: int):
    """``transpose`` under NumPy's name."""
    return transpose(input, axis0, axis1)


def swapdims(input, dim0: int, dim1: int):
    """``transpose`` under another name."""
    return transpose(input, dim0, dim1)


moveaxis = movedim


def ravel(input):
    """``input`` flattened to one dimension (a view when its memory allows)."""
    return reshape(input, (-1,))


def broadcast_to(input, shape):
    """``expand``: a view of ``input`` broadcast to ``shape``."""
    return expand(input, *sizes_from((shape,)))


def broadcast_tensors(*tensors):
    """The tensors expanded (as views) to their common broadcast shape.

    Example:
        >>> import ember
        >>> [t.shape for t in ember.broadcast_tensors(ember.ones(2, 1), ember.ones(3))]
        [ember.Size([2, 3]), ember.Size([2, 3])]
    """
    shape = ()
    for tensor in tensors:
        elementwise.check_broadcast(shape, tuple(tensor.shape))
        shape = np.broadcast_shapes(shape, tuple(tensor.shape))
    return tuple(expand(t, *shape) for t in tensors)


def atleast_1d(*tensors):
    """Each tensor with at least one dimension (a 0-d one becomes a 1-element vector)."""
    return _atleast(tensors, lambda t: reshape(t, (1,)) if t.ndim == 0 else t)


def atleast_2d(*tensors):
    """Each tensor with at least two dimensions (leading ones added)."""
    return _atleast(tensors, lambda t: unsqueeze(atleast_1d(t), 0) if t.ndim < 2 else t)


def atleast_3d(*tensors):
    """Each tensor with at least three dimensions (a matrix gains a trailing one)."""
    def grow(t):
        if t.ndim == 0:
            return reshape(t, (1, 1, 1))
        if t.ndim == 1:
            return unsqueeze(unsqueeze(t, 0), -1)
        return unsqueeze(t, -1) if t.ndim == 2 else t
    return _atleast(tensors, grow)


def _atleast(tensors, grow):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(grow(t) for t in tensors[0])
    return grow(tensors[0]) if len(tensors) == 1 else tuple(grow(t) for t in tensors)


def hstack(tensors, *, out=None):
    """Joined along the second dimension (the first for vectors)."""
    tensors = atleast_1d(list(tensors))
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    """Joined along the first dimension, vectors as rows."""
    return cat(atleast_2d(list(tensors)), 0, out=out)


def dstack(tensors, *, out=None):
    """Joined along the third dimension."""
    return cat(atleast_3d(list(tensors)), 2, out=out)


def column_stack(tensors, *, out=None):
    """Vectors as columns (matrices as they are), joined along the second dimension."""
    columns = [reshape(t, (-1, 1)) if t.ndim <= 1 else t for t in tensors]
    return cat(columns, 1, out=out)


def fliplr(input):
    """``flip`` of the second dimension (left to right)."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    """``flip`` of the first dimension (up to down)."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def fill_diagonal(input, fill_value, wrap: bool = False):
    """``input`` with its main diagonal (all dimensions' equal indices) set to ``fill_value``;
    a tall matrix restarts the diagonal every ``columns + 1`` rows when ``wrap``."""
    if input.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if input.ndim > 2 and len(set(input.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    xp = array_module(input._data)
    mask = xp.zeros(input.shape, bool)
    if input.ndim == 2:
        rows, columns = input.shape
        step = columns + 1
        flat = mask.reshape(-1)
        end = rows * columns if wrap else min(rows, columns) * columns
        flat[:end:step] = True
    else:
        index = xp.arange(input.shape[0])
        mask[(index,) * input.ndim] = True
    from .indexing import masked_fill  # here: ember.ops.indexing imports this module
    return masked_fill(input, Tensor._wrap(mask), fill_value)


def rot90(input, k: int = 1, dims=(0, 1)):
    """``input`` rotated by 90 degrees ``k`` times in the plane ``dims``, from the first
    towards the second.

    Example:
        >>> import ember
        >>> ember.rot90(ember.tensor([[1, 2], [3, 4]]))
        tensor([[2, 4],
                [1, 3]])
    """
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    first, second = (normalize_dim(d, input.ndim) for d in dims)
    if first == second:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {first} "
                           f"and dim1 = {second}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (second,)), first, second)
    if k == 2:
        return flip(input, (first, second))
    if k == 3:
        return flip(transpose(input, first, second), (second,))
    return clone(input)


def tensor_split(input, indices_or_sections, dim: int = 0):
    """Views of ``input`` split along ``dim`` into ``n`` nearly equal parts (the first ones one
    longer), or at the given indices.

    Example:
        >>> import ember
        >>> [t.tolist() for t in ember.tensor_split(ember.arange(5), 2)]
        [[0, 1, 2], [3, 4]]
    """
    from .indexing import narrow  # here: ember.ops.indexing imports this module
    dim = normalize_dim(dim, input.ndim)
    size = input.shape[dim]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        base, extra = divmod(size, sections)
        lengths = [base + 1] * extra + [base] * (sections - extra)
        bounds = list(np.cumsum([0] + lengths))
    else:
        bounds = [0] + [min(max(int(i), 0), size) for i in indices_or_sections] + [size]
    return tuple(narrow(input, dim, start, max(stop - start, 0))
                 for start, stop in zip(bounds[:-1], bounds[1:]))


def block_diag(*tensors):
    """The tensors (matrices; vectors as rows, numbers as 1 x 1) placed along the diagonal of
    a matrix of zeros.

    Example:
        >>> import ember
        >>> ember.block_diag(ember.tensor([[1, 2]]), ember.tensor(3))
        tensor([[1, 2, 0],
                [0, 0, 3]])
    """
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"ember.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.ndim} dimensions")
    blocks = [reshape(t, (1, -1)) if t.ndim < 2 else t for t in tensors]
    dtype = result_dtype(*(t._data for t in blocks)) if blocks else np.float32
    xp = array_module(blocks[0]._data) if blocks else np
    width = sum(t.shape[1] for t in blocks)
    rows, start = [], 0
    for t in blocks:
        left = Tensor._wrap(xp.zeros((t.shape[0], start), dtype))
        right = Tensor._wrap(xp.zeros((t.shape[0], width - start - t.shape[1]), dtype))
        rows.append(cat([left, t, right], 1))
        start += t.shape[1]
    if not rows:
        return Tensor._wrap(np.zeros((0, 0), np.float32))
    return cat(rows, 0)


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-d tensor, one combination a row (a single
    tensor comes back as it is).

    Example:
        >>> import ember
        >>> ember.cartesian_prod(ember.tensor([1, 2]), ember.tensor([3, 4]))
        tensor([[1, 3],
                [1, 4],
                [2, 3],
                [2, 4]])
    """
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)

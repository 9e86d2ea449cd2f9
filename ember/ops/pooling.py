"""Pooling over the last two dimensions: max_pool2d, avg_pool2d, adaptive_avg_pool2d,
adaptive_max_pool2d, max_unpool2d; and their 1-D forms, which pool an image of height 1 (as
PyTorch does: their nodes are the squeeze after the 2-D op).

Each works on input of shape (..., H, W), so batched (B, C, H, W) and unbatched (C, H, W)
input take the same path. A pooling window at output position (y, x) covers the rows
``y*sh - ph + i*dh`` and columns ``x*sw - pw + j*dw`` for the kernel offsets (i, j); for a
fixed offset, those pixels over all output positions form one strided slice of the padded
input. So every pooling op here is a short loop over the ``kh * kw`` kernel offsets, each step
a whole-array operation on one slice: no loop over images or pixels.

Max pooling follows PyTorch's tie rule: a window's gradient goes to one element only, the first
maximal one in scan order (row by row); a NaN counts as maximal, and the last NaN wins. Padding
never wins: a window of -inf keeps its first element inside the input.

Max and average pooling run compiled kernels (ember/_C/pool.c) on C-contiguous NumPy float32
and float64 arrays when the extension is built: one call each way, where the NumPy code makes
several whole-array operations per kernel offset. They add in the NumPy code's order and give
its results bit for bit. The general max kernel keeps each window's maximum position as
PyTorch's ``indices``, the 2x2 one only which corner (one byte).
"""

import math

import numpy as np

from .. import _C
from .._backend import array_module
from .._parallel import parallel_for
from .._tensor import type_name
from ..autograd.function import Function
from .conv import _single, kernel_offset_slices, pair
from .indexing import _scatter_add
from .reduction import mean
from .shape import squeeze, unsqueeze

# Pooling makes no matrix products: each parallel_for below passes product=0, so the split
# opens no OpenBLAS thread-count scope (its calls cost microseconds per op; see _parallel).


def _pad_last_two(input, padding, output_size, kernel_size, stride, dilation, value):
    """``input`` padded with ``value`` by ``padding`` on each side, and more at the end if the
    last window (``ceil_mode``) reaches past it; the input itself when no padding is needed."""
    needed = [stride[d] * (output_size[d] - 1) + dilation[d] * (kernel_size[d] - 1) + 1
              for d in range(2)]
    height, width = input.shape[-2:]
    extra = [max(0, needed[0] - height - 2 * padding[0]),
             max(0, needed[1] - width - 2 * padding[1])]
    if not (padding[0] or padding[1] or extra[0] or extra[1]):
        return input
    xp = array_module(input)
    shape = input.shape[:-2] + (height + 2 * padding[0] + extra[0],
                                width + 2 * padding[1] + extra[1])
    padded = xp.full(shape, value, dtype=input.dtype)
    padded[..., padding[0]:padding[0] + height, padding[1]:padding[1] + width] = input
    return padded


def _crop(padded, padding, input_shape):
    """The part of ``padded`` that lies over the unpadded input."""
    height, width = input_shape[-2:]
    return padded[..., padding[0]:padding[0] + height, padding[1]:padding[1] + width]


# ---- max pooling -------------------------------------------------------------------------

_CORNERS = ((0, 0), (0, 1), (1, 0), (1, 1))  # a 2x2 window's elements in scan order


class MaxPool2x2(Function):
    """``max_pool2d`` with a 2x2 kernel, stride 2, no padding: the common case, done fast.

    The output is the elementwise maximum of strided slices: of each window's two rows, then
    of the two columns of that; this is many times faster than reshaping into windows and
    reducing. Backward compares the window's four corners with it (computed again). Each window
    is independent, so the work is split over the leading dimension for ``parallel_for``. The
    compiled kernel keeps which corner holds the maximum instead, and backward reads it.
    """

    node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, input):
        xp = array_module(input)
        rows, columns = 2 * (input.shape[-2] // 2), 2 * (input.shape[-1] // 2)
        output = xp.empty(input.shape[:-2] + (rows // 2, columns // 2), dtype=input.dtype)
        work = 4 * math.prod(input.shape[1:])
        if _C.takes(input):
            # Which corner of each window holds its maximum, one byte each.
            corners = np.empty(output.shape, dtype=np.int8)

            def kernel_part(start, stop):
                _C.kernels.max_pool2x2_forward(input[start:stop], output[start:stop],
                                               corners[start:stop], input.shape[-2:])

            parallel_for(input.shape[0], kernel_part, work=work, like=input, product=0)
            # The input is saved for the in-place check PyTorch makes (it saves it too).
            ctx.save_for_backward(input, corners)
            ctx.compiled = True
            return output
        ctx.compiled = False

        def part(start, stop):
            _max_2x2(xp, input[start:stop], rows, columns, out=output[start:stop])

        parallel_for(input.shape[0], part, work=work, like=input, product=0)
        # Backward computes the maximum again rather than saving the output, which the caller
        # may change in place (as PyTorch allows: it saves the input only).
        ctx.save_for_backward(input)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, *corners = ctx.saved_tensors
        work = 4 * math.prod(input.shape[1:])
        if ctx.compiled:
            corners, grad_output = corners[0], np.ascontiguousarray(grad_output)
            grad_input = np.empty(input.shape, dtype=grad_output.dtype)

            def kernel_part(start, stop):
                _C.kernels.max_pool2x2_backward(grad_output[start:stop], corners[start:stop],
                                                grad_input[start:stop], input.shape[-2:])

            parallel_for(input.shape[0], kernel_part, work=work, like=input, product=0)
            return grad_input
        xp = array_module(input)
        height, width = input.shape[-2:]
        rows, columns = 2 * (height // 2), 2 * (width // 2)
        # An odd last row or column lies in no window and gets no gradient; otherwise the
        # four corners below write every element.
        allocate = xp.empty if (rows, columns) == (height, width) else xp.zeros
        grad_input = allocate(input.shape, dtype=grad_output.dtype)
        # Gradients are floats (integer tensors have none), masked by their bits below.
        bits = np.dtype(f"i{grad_output.dtype.itemsize}")

        def part(start, stop):
            maximum = _max_2x2(xp, input[start:stop], rows, columns)
            grad = grad_output[start:stop]
            corners = [input[start:stop, ..., i:rows:2, j:columns:2] for i, j in _CORNERS]
            # A window's first corner equal to its maximum takes it; no corner equals a NaN
            # maximum, and there the last NaN corner takes it. Both rules run on every window,
            # so that no value is read on the host.
            nan_wins = [None] * 4
            nan_wins[3] = xp.isnan(corners[3])
            later = nan_wins[3].copy()  # windows with a NaN corner after the current one
            for k in (2, 1, 0):
                is_nan = xp.isnan(corners[k])
                nan_wins[k] = xp.greater(is_nan, later)  # is_nan and not later
                if k:
                    xp.logical_or(later, is_nan, out=later)
            free = None  # the windows no earlier corner has taken
            for k, ((i, j), corner) in enumerate(zip(_CORNERS, corners)):
                wins = corner == maximum
                if free is not None:
                    xp.logical_and(wins, free, out=wins)
                if k < 3:
                    free = (xp.logical_not(wins) if free is None
                            else xp.logical_xor(free, wins, out=free))
                wins |= nan_wins[k]
                # The gradient where the corner wins, +0.0 elsewhere (also for an infinite or
                # NaN gradient, as in PyTorch): an AND with all ones or all zeros, as zero_where
                # does, 6x faster than copyto with where=.
                target = grad_input[start:stop, ..., i:rows:2, j:columns:2]
                xp.bitwise_and(grad.view(bits), xp.subtract(0, wins, dtype=bits),
                               out=target.view(bits))

        parallel_for(input.shape[0], part, work=work, like=input, product=0)
        return grad_input


def _max_2x2(xp, images, rows: int, columns: int, out=None):
    """The maximum of each 2x2 window (stride 2) of ``images``' first ``rows`` and ``columns``.

    The maximum of each window's two rows first: whole rows, read contiguously, then of each
    pair of columns (20% faster than four strided corner slices).
    """
    pairs = xp.maximum(images[..., 0:rows:2, :columns], images[..., 1:rows:2, :columns])
    return xp.maximum(pairs[..., 0::2], pairs[..., 1::2], out=out)


class MaxPool2DWithIndices(Function):
    """``max_pool2d`` for any kernel, stride, padding, dilation and ``ceil_mode``.

    A running maximum over the kernel offsets, replaced only by a strictly greater value (or a
    NaN), remembers which offset won each window: the first maximal one, as PyTorch picks. It
    starts from the padding's fill on the window's first element inside the input, so padding
    never wins.
    """

    @staticmethod
    def forward(ctx, input, kernel_size, stride, padding, dilation, output_size,
                return_indices):
        geometry = (input.shape[-2:], output_size, kernel_size, stride, padding, dilation)
        ctx.geometry = (input.shape,) + geometry
        ctx.compiled = _C.takes(input)
        if ctx.compiled:
            shape = input.shape[:-2] + tuple(output_size)
            output = np.empty(shape, dtype=input.dtype)
            indices = np.empty(shape, dtype=np.int64)

            def kernel_part(start, stop):
                _C.kernels.max_pool2d_forward(input[start:stop], output[start:stop],
                                              indices[start:stop], *geometry)

            parallel_for(input.shape[0], kernel_part, like=input,
                         work=math.prod(shape[1:]) * kernel_size[0] * kernel_size[1],
                         product=0)
            ctx.save_for_backward(indices, input)  # the input as PyTorch: see below
            return (output, indices) if return_indices else output
        xp = array_module(input)
        fill = -xp.inf if input.dtype.kind == "f" else xp.iinfo(input.dtype).min
        padded = _pad_last_two(input, padding, output_size, kernel_size, stride, dilation, fill)
        ctx.padded_shape = padded.shape
        shape = input.shape[:-2] + tuple(output_size)
        output = xp.full(shape, fill, dtype=input.dtype)
        winner = xp.empty(shape, dtype=np.int32)
        winner[...] = _first_inside(xp, kernel_size, stride, padding, dilation, output_size)
        slices = kernel_offset_slices(kernel_size, stride, dilation, output_size)
        for offset, (_, _, rows, columns) in enumerate(slices):
            candidate = padded[..., rows, columns]
            better = candidate > output
            if input.dtype.kind == "f":
                better |= xp.isnan(candidate)
            xp.copyto(output, candidate, where=better)
            xp.copyto(winner, offset, where=better)
        # The input too, which backward does not read: PyTorch saves it, so an in-place change
        # to it before backward is an error.
        ctx.save_for_backward(winner, input)
        if not return_indices:
            return output
        return output, _flat_indices(xp, winner, input.shape, kernel_size, stride, padding,
                                     dilation, output_size)

    @staticmethod
    def backward(ctx, grad_output, grad_indices=None):
        winner, _ = ctx.saved_tensors  # offsets (NumPy code), or positions (kernel)
        input_shape, _, output_size, kernel_size, stride, padding, dilation = ctx.geometry
        if ctx.compiled:
            grad_output = np.ascontiguousarray(grad_output)
            grad_input = np.empty(input_shape, dtype=grad_output.dtype)

            def kernel_part(start, stop):
                _C.kernels.max_pool2d_backward(grad_output[start:stop], winner[start:stop],
                                               grad_input[start:stop], *ctx.geometry[1:])

            parallel_for(input_shape[0], kernel_part, like=grad_input,
                         work=math.prod(input_shape[1:]) * kernel_size[0] * kernel_size[1],
                         product=0)
            return grad_input, None, None, None, None, None, None
        xp = array_module(grad_output)
        grad_padded = xp.zeros(ctx.padded_shape, dtype=grad_output.dtype)
        slices = kernel_offset_slices(kernel_size, stride, dilation, output_size)
        for offset, (_, _, rows, columns) in enumerate(slices):
            grad_padded[..., rows, columns] += xp.where(winner == offset, grad_output, 0)
        return (_crop(grad_padded, padding, input_shape),
                None, None, None, None, None, None)


def _first_inside(xp, kernel_size, stride, padding, dilation, output_size):
    """For each window (Ho, Wo), the kernel offset ``i * kw + j`` of its first element inside
    the input, whose position PyTorch gives a window that nothing in it beats."""
    first = [-(-np.maximum(padding[d] - np.arange(output_size[d]) * stride[d], 0)
               // dilation[d]) for d in range(2)]
    return xp.asarray(first[0].reshape(-1, 1) * kernel_size[1] + first[1], dtype=np.int32)


def _flat_indices(xp, winner, input_shape, kernel_size, stride, padding, dilation,
                  output_size):
    """The position of each window's maximum as ``row * W + column`` in the unpadded input."""
    row_offset, column_offset = xp.divmod(winner.astype(np.int64), kernel_size[1])
    rows = (xp.arange(output_size[0]).reshape(-1, 1) * stride[0] - padding[0]
            + row_offset * dilation[0])
    columns = (xp.arange(output_size[1]) * stride[1] - padding[1]
               + column_offset * dilation[1])
    return rows * input_shape[-1] + columns


# ---- average pooling ---------------------------------------------------------------------

def _window_sizes(xp, size, kernel, stride, padding, output_size, count_padding):
    """How many elements each window along one axis holds: the padding counted or not.

    A window reaching past the end of the padded input (``ceil_mode``) counts only what is
    inside the padded input, as PyTorch does.
    """
    start = np.arange(output_size) * stride - padding
    end = np.minimum(start + kernel, size + padding)
    if not count_padding:
        start, end = np.maximum(start, 0), np.minimum(end, size)
    return xp.asarray(end - start)


class AvgPool2D(Function):
    """``avg_pool2d``: the sum over kernel offsets of strided slices, over each window's size."""

    @staticmethod
    def forward(ctx, input, kernel_size, stride, padding, output_size, count_include_pad,
                divisor_override):
        ctx.geometry = (input.shape, kernel_size, stride, padding, output_size)
        ctx.save_for_backward(input)  # only to catch in-place changes to it, as PyTorch does
        # The kernel takes the divisor as a C integer: other numbers take the NumPy code.
        ctx.compiled = _C.takes(input) and type(divisor_override) in (int, type(None))
        if ctx.compiled:
            ctx.options = (input.shape[-2:], output_size, kernel_size, stride, padding,
                           count_include_pad, divisor_override or 0)
            output = np.empty(input.shape[:-2] + tuple(output_size), dtype=input.dtype)

            def kernel_part(start, stop):
                _C.kernels.avg_pool2d_forward(input[start:stop], output[start:stop],
                                              *ctx.options)

            parallel_for(input.shape[0], kernel_part, like=input,
                         work=math.prod(output.shape[1:]) * kernel_size[0] * kernel_size[1],
                         product=0)
            return output
        xp = array_module(input)
        dilation = (1, 1)
        padded = _pad_last_two(input, padding, output_size, kernel_size, stride, dilation, 0)
        ctx.padded_shape = padded.shape
        total = xp.zeros(input.shape[:-2] + tuple(output_size), dtype=input.dtype)
        for _, _, rows, columns in kernel_offset_slices(kernel_size, stride, dilation,
                                                        output_size):
            total += padded[..., rows, columns]
        if divisor_override:
            divisor = divisor_override
        else:
            heights, widths = (
                _window_sizes(xp, input.shape[-2 + d], kernel_size[d], stride[d], padding[d],
                              output_size[d], count_include_pad) for d in range(2))
            divisor = (heights.reshape(-1, 1) * widths).astype(input.dtype)
        ctx.divisor = divisor
        return total / divisor

    @staticmethod
    def backward(ctx, grad_output):
        _ = ctx.saved_tensors  # raises if the input changed in place since forward
        input_shape, kernel_size, stride, padding, output_size = ctx.geometry
        if ctx.compiled:
            grad_output = np.ascontiguousarray(grad_output)
            grad_input = np.empty(input_shape, dtype=grad_output.dtype)

            def kernel_part(start, stop):
                _C.kernels.avg_pool2d_backward(grad_output[start:stop], grad_input[start:stop],
                                               *ctx.options)

            parallel_for(input_shape[0], kernel_part, like=grad_input,
                         work=math.prod(input_shape[1:]) * kernel_size[0] * kernel_size[1],
                         product=0)
            return grad_input, None, None, None, None, None, None
        xp = array_module(grad_output)
        grad_window = grad_output / ctx.divisor
        grad_padded = xp.zeros(ctx.padded_shape, dtype=grad_output.dtype)
        for _, _, rows, columns in kernel_offset_slices(kernel_size, stride, (1, 1),
                                                        output_size):
            grad_padded[..., rows, columns] += grad_window
        return _crop(grad_padded, padding, input_shape), None, None, None, None, None, None


def _adaptive_windows(input_size: int, output_size: int) -> list:
    """(start, end) of each adaptive window along one dimension.

    Window i spans ``floor(i * n / m)`` to ``ceil((i + 1) * n / m)``: windows cover the input
    exactly and overlap by at most one element when ``m`` does not divide ``n``.
    """
    return [((i * input_size) // output_size, -((-(i + 1) * input_size) // output_size))
            for i in range(output_size)]


def _window_means(xp, array, axis: int, windows: list):
    """The mean of each window of ``array`` along ``axis`` (one output element per window).

    Each mean reads only its own window, so an inf or NaN stays in the windows that hold it
    (a product with an averaging matrix would spread 0 * inf = NaN to all of them).
    """
    means = [array[(slice(None),) * axis + (slice(start, end),)].mean(axis=axis)
             for start, end in windows]
    return xp.stack(means, axis=axis)


def _window_means_backward(xp, grad, axis: int, windows: list, input_size: int):
    """The gradient of ``_window_means``: each window's gradient shared among its elements."""
    shape = list(grad.shape)
    shape[axis] = input_size
    grad_input = xp.zeros(shape, grad.dtype)
    for i, (start, end) in enumerate(windows):
        inside = (slice(None),) * axis + (slice(start, end),)
        grad_input[inside] += grad[(slice(None),) * axis + (slice(i, i + 1),)] / (end - start)
    return grad_input


class AdaptiveAvgPool2D(Function):
    """``adaptive_avg_pool2d``: the mean of each adaptive window, rows then columns."""

    @staticmethod
    def forward(ctx, input, output_size):
        xp = array_module(input)
        height, width = input.shape[-2:]
        rows = _adaptive_windows(height, output_size[0])
        columns = _adaptive_windows(width, output_size[1])
        ctx.windows, ctx.sizes = (rows, columns), (height, width)
        ctx.save_for_backward(input)  # only to catch in-place changes to it, as PyTorch does
        row_axis = input.ndim - 2
        means = _window_means(xp, input, row_axis, rows)
        return _window_means(xp, means, row_axis + 1, columns).astype(input.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        _ = ctx.saved_tensors  # raises if the input changed in place since forward
        for dim in range(1, grad_output.ndim):  # PyTorch's backward refuses these (forward not)
            if grad_output.shape[dim] == 0:
                raise RuntimeError(
                    "adaptive_avg_pool2d_backward(): Expected grad_output to have non-zero size "
                    f"for non-batch dimensions, but grad_output has sizes "
                    f"{list(grad_output.shape)} with dimension {dim} being empty")
        xp = array_module(grad_output)
        (rows, columns), (height, width) = ctx.windows, ctx.sizes
        row_axis = grad_output.ndim - 2
        grad = _window_means_backward(xp, grad_output, row_axis + 1, columns, width)
        return _window_means_backward(xp, grad, row_axis, rows, height), None



class AdaptiveMaxPool2D(Function):
    """``adaptive_max_pool2d``: the maximum of each adaptive window (windows as
    adaptive_avg_pool2d's), and its position ``row * W + column`` in the input."""

    @staticmethod
    def forward(ctx, input, output_size, return_indices):
        xp = array_module(input)
        height, width = input.shape[-2:]
        rows = _adaptive_windows(height, output_size[0])
        columns = _adaptive_windows(width, output_size[1])
        lead = input.shape[:-2]
        output = xp.empty(lead + tuple(output_size), dtype=input.dtype)
        indices = xp.empty(lead + tuple(output_size), dtype=np.int64)
        for i, (top, bottom) in enumerate(rows):
            for j, (left, right) in enumerate(columns):
                window = input[..., top:bottom, left:right].reshape(lead + (-1,))
                # argmax picks the first maximum (and the first NaN), as PyTorch's scan does.
                position = xp.argmax(window, axis=-1)
                output[..., i, j] = xp.take_along_axis(window, position[..., None], -1)[..., 0]
                span = right - left
                indices[..., i, j] = (top + position // span) * width + left + position % span
        ctx.save_for_backward(indices, input)  # the input only to catch in-place changes
        ctx.input_shape = input.shape
        return (output, indices) if return_indices else output

    @staticmethod
    def backward(ctx, grad_output, grad_indices=None):
        indices, _ = ctx.saved_tensors
        xp = array_module(grad_output)
        input_shape = ctx.input_shape
        planes = math.prod(input_shape[:-2])
        grad_input = xp.zeros((planes, input_shape[-2] * input_shape[-1]), grad_output.dtype)
        # Windows overlap when the sizes do not divide: one element may win twice.
        flat_indices = indices.reshape(planes, -1)
        plane = xp.broadcast_to(xp.arange(planes)[:, None], flat_indices.shape)
        _scatter_add(xp, grad_input, (plane, flat_indices), grad_output.reshape(planes, -1))
        return grad_input.reshape(input_shape), None, None



class MaxUnpool2D(Function):
    """``max_unpool2d``: each value put back at its index (as max_pool2d's ``return_indices``
    gives them) in a zero plane of ``output_size``; the gradient is read back from there."""

    @staticmethod
    def forward(ctx, input, indices, output_size):
        xp = array_module(input)
        planes = math.prod(input.shape[:-2])
        flat_indices = indices.reshape(planes, -1)
        output = xp.zeros((planes, output_size[0] * output_size[1]), dtype=input.dtype)
        xp.put_along_axis(output, flat_indices, input.reshape(planes, -1), axis=1)
        ctx.save_for_backward(indices)
        return output.reshape(input.shape[:-2] + tuple(output_size))

    @staticmethod
    def backward(ctx, grad_output):
        indices, = ctx.saved_tensors
        xp = array_module(grad_output)
        planes = math.prod(indices.shape[:-2])
        grad = xp.take_along_axis(grad_output.reshape(planes, -1), indices.reshape(planes, -1),
                                  axis=1)
        return grad.reshape(indices.shape), None, None


# ---- the plain functions -----------------------------------------------------------------

def _pool_output_size(input_shape, kernel_size, stride, padding, dilation, ceil_mode) -> tuple:
    """Output (Ho, Wo), checking the arguments as PyTorch does."""
    if min(stride) == 0:
        raise RuntimeError("stride should not be zero")
    # Negative sizes would reach the kernels (which refuse them) or the NumPy code (which
    # computed numbers for dilation 0): PyTorch's checks, in its order.
    if min(padding) < 0:
        first = next(size for size in padding if size < 0)
        raise RuntimeError(f"pad must be non-negative, but got pad: {first}")
    if min(stride) < 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {stride[0]} "
                           f"dW: {stride[1]}")
    if min(dilation) < 1:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: "
                           f"{dilation[0]} dilationW: {dilation[1]}")
    for d in range(2):
        if padding[d] > (dilation[d] * (kernel_size[d] - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={padding[d]}, kernel_size={kernel_size[d]} and "
                               f"dilation={dilation[d]}")
    # PyTorch also bounds the padding by the undilated kernel (only stricter with dilation).
    if padding[0] > kernel_size[0] // 2 or padding[1] > kernel_size[1] // 2:
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got "
                           f"padW = {padding[1]}, padH = {padding[0]}, kW = {kernel_size[1]}, "
                           f"kH = {kernel_size[0]}")
    sizes = []
    for d in range(2):
        size = input_shape[-2 + d]
        span = size + 2 * padding[d] - dilation[d] * (kernel_size[d] - 1) - 1
        rounded = math.ceil(span / stride[d]) if ceil_mode else span // stride[d]
        out = rounded + 1
        # In ceil_mode, a last window that would start in the right padding is dropped.
        if ceil_mode and (out - 1) * stride[d] >= size + padding[d]:
            out -= 1
        sizes.append(out)
    if sizes[0] < 1 or sizes[1] < 1:
        channels = input_shape[-3]
        raise RuntimeError(f"Given input size: ({channels}x{input_shape[-2]}x{input_shape[-1]})"
                           f". Calculated output size: ({channels}x{sizes[0]}x{sizes[1]}). "
                           "Output size is too small")
    return tuple(sizes)


def _check_pool_input(input) -> None:
    """PyTorch's checks: 3-D or 4-D input, which may be empty along the batch dimension only."""
    if input.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    shape = list(input.shape)
    if 0 in shape[input.ndim - 3:]:
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
                           f"for input, but got:{shape}")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The maximum over each ``kernel_size`` window of the last two dimensions.

    Args:
        input: (B, C, H, W) or (C, H, W).
        kernel_size: the window, an int or (kh, kw).
        stride: step between windows; ``kernel_size`` when None.
        padding: implicit -inf added on each side (at most half the kernel).
        dilation: spacing between window elements.
        ceil_mode: round the output size up, so that a partial last window counts.
        return_indices: also return, for each window, the flat index ``row * W + column``
            of its maximum.

    Example:
        >>> import ember
        >>> x = ember.arange(16.0).reshape(1, 1, 4, 4)
        >>> ember.nn.functional.max_pool2d(x, 2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    _check_pool_input(input)
    kernel_size = pair(kernel_size, "kernel_size")
    stride = kernel_size if stride is None or stride == [] else pair(stride, "stride")
    padding, dilation = pair(padding, "padding"), pair(dilation, "dilation")
    output_size = _pool_output_size(input.shape, kernel_size, stride, padding, dilation,
                                    ceil_mode)
    plain_2x2 = (kernel_size == (2, 2) and stride == (2, 2) and padding == (0, 0)
                 and dilation == (1, 1) and not ceil_mode)
    if plain_2x2 and not return_indices:
        return MaxPool2x2.apply(input)
    return MaxPool2DWithIndices.apply(input, kernel_size, stride, padding, dilation,
                                      output_size, return_indices)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None):
    """The mean over each ``kernel_size`` window of the last two dimensions.

    Args:
        input: (B, C, H, W) or (C, H, W).
        kernel_size: the window, an int or (kh, kw).
        stride: step between windows; ``kernel_size`` when None.
        padding: implicit zeros added on each side (at most half the kernel).
        ceil_mode: round the output size up, so that a partial last window counts.
        count_include_pad: whether the padding zeros count in each window's size.
        divisor_override: divide every window's sum by this number instead.

    Example:
        >>> import ember
        >>> x = ember.arange(16.0).reshape(1, 1, 4, 4)
        >>> ember.nn.functional.avg_pool2d(x, 2)
        tensor([[[[ 2.5000,  4.5000],
                  [10.5000, 12.5000]]]])
    """
    _check_pool_input(input)
    kernel_size = pair(kernel_size, "kernel_size")
    stride = kernel_size if stride is None or stride == [] else pair(stride, "stride")
    padding = pair(padding, "padding")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    output_size = _pool_output_size(input.shape, kernel_size, stride, padding, (1, 1),
                                    ceil_mode)
    return AvgPool2D.apply(input, kernel_size, stride, padding, output_size,
                           count_include_pad, divisor_override)


def adaptive_avg_pool2d(input, output_size):
    """The mean over windows sized so that the last two dimensions become ``output_size``.

    Args:
        input: (B, C, H, W) or (C, H, W).
        output_size: (Ho, Wo), or one int for both; None in a place keeps the input's size.

    Example:
        >>> import ember
        >>> ember.nn.functional.adaptive_avg_pool2d(ember.ones(2, 3, 7, 7), 1).shape
        ember.Size([2, 3, 1, 1])
    """
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got "
                           f"{list(input.shape)}")
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    if len(output_size) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    output_size = tuple(input.shape[-2 + d] if size is None else int(size)
                        for d, size in enumerate(output_size))
    if output_size == (1, 1):
        # Global average pooling is a plain mean, and PyTorch records it as one.
        # (PyTorch's mean: so an empty image gives NaN here, where other sizes raise.)
        return mean(input, (-2, -1), keepdim=True)
    for d in (input.ndim - 2, input.ndim - 1):  # the batch and channels may be empty
        if input.shape[d] == 0:
            raise RuntimeError(f"adaptive_avg_pool2d(): Expected input to have non-zero size for "
                               f"non-batch dimensions, but input has sizes {list(input.shape)} "
                               f"with dimension {d} being empty")
    return AdaptiveAvgPool2D.apply(input, output_size)


def _adaptive_output_size(input, output_size, name: str) -> tuple:
    """``output_size`` as a pair, None entries filled with the input's sizes."""
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    if len(output_size) != 2:
        raise RuntimeError(f"{name}: output_size must be 2")
    return tuple(input.shape[-2 + d] if size is None else int(size)
                 for d, size in enumerate(output_size))


def adaptive_max_pool2d(input, output_size, return_indices: bool = False):
    """The maximum over windows sized so that the last two dimensions become
    ``output_size``; with ``return_indices``, also each maximum's flat position in its plane.

    Example:
        >>> import ember
        >>> x = ember.arange(16.0).reshape(1, 1, 4, 4)
        >>> ember.nn.functional.adaptive_max_pool2d(x, 2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: "
                           f"{list(input.shape)}")
    for d in (input.ndim - 2, input.ndim - 1):
        if input.shape[d] == 0:
            raise RuntimeError(f"adaptive_max_pool2d(): Expected input to have non-zero size for "
                               f"non-batch dimensions, but input has sizes {list(input.shape)} "
                               f"with dimension {d} being empty")
    output_size = _adaptive_output_size(input, output_size, "adaptive_max_pool2d")
    return AdaptiveMaxPool2D.apply(input, output_size, return_indices)


def _check_1d(input, name: str) -> None:
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor "
                           f"for argument #1 'self' (while checking arguments for {name})")


def _squeezed(result, return_indices: bool):
    """The 2-D op's result (and indices) with the unit height removed again."""
    if return_indices:
        output, indices = result
        return squeeze(output, -2), squeeze(indices, -2)
    return squeeze(result, -2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The maximum over each ``kernel_size`` window of the last dimension of (B, C, L) or
    (C, L) input; the arguments are max_pool2d's, one int each.

    Example:
        >>> import ember
        >>> ember.nn.functional.max_pool1d(ember.tensor([[1.0, 3.0, 2.0, 0.0]]), 2)
        tensor([[3., 2.]])
    """
    if input.ndim not in (2, 3) or 0 in tuple(input.shape)[-2:]:
        raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 "
                           f"dim batch size for input, but got:{list(input.shape)}")
    (kernel,) = _single(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == [] else _single(stride, "stride")[0]
    (padding,), (dilation,) = _single(padding, "padding"), _single(dilation, "dilation")
    for what, value, least in (("kernel_size", kernel, 1), ("stride", stride, 1),
                               ("padding", padding, 0), ("dilation", dilation, 1)):
        if value < least:  # PyTorch's own messages for max_pool1d, in its order
            rule = "be non-negative" if least == 0 else "be greater than zero"
            raise RuntimeError(f"max_pool1d() {what} must {rule}, but got {value}")
    result = max_pool2d(unsqueeze(input, -2), (1, kernel), (1, stride), (0, padding),
                        (1, dilation), ceil_mode, return_indices)
    return _squeezed(result, return_indices)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True):
    """The mean over each ``kernel_size`` window of the last dimension of (B, C, L) or (C, L)
    input; the arguments are avg_pool2d's, one int each.

    Example:
        >>> import ember
        >>> ember.nn.functional.avg_pool1d(ember.tensor([[1.0, 3.0, 2.0, 0.0]]), 2)
        tensor([[2., 1.]])
    """
    _check_1d(input, "avg_pool1d")
    (kernel,) = _single(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == [] else _single(stride, "stride")[0]
    (padding,) = _single(padding, "padding")
    return squeeze(avg_pool2d(unsqueeze(input, -2), (1, kernel), (1, stride), (0, padding),
                              ceil_mode, count_include_pad), -2)


def adaptive_avg_pool1d(input, output_size):
    """The mean over windows sized so that the last dimension becomes ``output_size``.

    Example:
        >>> import ember
        >>> ember.nn.functional.adaptive_avg_pool1d(ember.tensor([[1.0, 3.0, 2.0, 0.0]]), 2)
        tensor([[2., 1.]])
    """
    _check_1d(input, "adaptive_avg_pool1d")
    (size,) = _single(output_size, "output_size")
    return squeeze(AdaptiveAvgPool2D.apply(unsqueeze(input, -2), (1, size)), -2)


def adaptive_max_pool1d(input, output_size, return_indices: bool = False):
    """The maximum over windows sized so that the last dimension becomes ``output_size``.

    Example:
        >>> import ember
        >>> ember.nn.functional.adaptive_max_pool1d(ember.tensor([[1.0, 3.0, 2.0, 0.0]]), 2)
        tensor([[3., 2.]])
    """
    _check_1d(input, "adaptive_max_pool1d")
    (size,) = _single(output_size, "output_size")
    return _squeezed(AdaptiveMaxPool2D.apply(unsqueeze(input, -2), (1, size), return_indices),
                     return_indices)


def _unpool_output_size(input, kernel_size, stride, padding, output_size) -> tuple:
    """The default size ``(H - 1) * stride - 2 * padding + kernel_size``, or ``output_size``
    checked to lie strictly within one stride of it (as PyTorch checks)."""
    dims = len(kernel_size)
    default = [(input.shape[input.ndim - dims + d] - 1) * stride[d] - 2 * padding[d]
               + kernel_size[d] for d in range(dims)]
    if output_size is None:
        return tuple(default)
    wanted = list(output_size)[-dims:]
    for d in range(dims):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < wanted[d] < high:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between '
                             f"{low} and {high})")
    return tuple(int(size) for size in wanted)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: each value of ``input`` written at its ``indices``
    (from ``max_pool2d(..., return_indices=True)``) in an otherwise zero output.

    Example:
        >>> import ember
        >>> x = ember.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> pooled, indices = ember.nn.functional.max_pool2d(x, 2, return_indices=True)
        >>> ember.nn.functional.max_unpool2d(pooled, indices, 2)
        tensor([[[[0., 0.],
                  [0., 4.]]]])
    """
    kernel_size = pair(kernel_size, "kernel_size")
    stride = kernel_size if stride is None else pair(stride, "stride")
    padding = pair(padding, "padding")
    if indices._data.dtype != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{type_name(indices).removeprefix('ember.').removesuffix('Tensor')}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input to max_unpooling2d should be a 3d or 4d Tensor, but got a "
                           f"tensor with {input.ndim} dimensions.")
    size = _unpool_output_size(input, kernel_size, stride, padding, output_size)
    data = indices._data
    if data.size and (int(data.min()) < 0 or int(data.max()) >= size[0] * size[1]):
        bad = int(data.max()) if int(data.max()) >= size[0] * size[1] else int(data.min())
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{size[0]}x{size[1]})")
    return MaxUnpool2D.apply(input, data, size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d (max_unpool2d on a plane of height 1).

    Example:
        >>> import ember
        >>> x = ember.tensor([[[1.0, 3.0, 2.0, 0.0]]])
        >>> pooled, indices = ember.nn.functional.max_pool1d(x, 2, return_indices=True)
        >>> ember.nn.functional.max_unpool1d(pooled, indices, 2)
        tensor([[[0., 3., 2., 0.]]])
    """
    (kernel,) = _single(kernel_size, "kernel_size")
    stride = kernel if stride is None else _single(stride, "stride")[0]
    (padding,) = _single(padding, "padding")
    if output_size is not None:
        output_size = (1, list(output_size)[-1])
    return squeeze(max_unpool2d(unsqueeze(input, -2), unsqueeze(indices, -2), (1, kernel),
                                (1, stride), (0, padding), output_size), -2)

"""Two-dimensional convolution: im2col and one batched matrix product.

A convolution is a matrix product in disguise. For each image, every output pixel looks at a
``C x kh x kw`` patch of the (padded) input; laying those patches out as the columns of a
matrix of shape ``(C*kh*kw, Ho*Wo)`` ("im2col") turns the convolution into
``weight.reshape(O, C*kh*kw) @ columns``, whose result is already the ``(O, Ho, Wo)`` output.

The columns come from a strided view of the input that costs nothing to build: six dimensions
``(B, C, kh, kw, Ho, Wo)`` whose strides step through the kernel offsets and the output
positions. One contiguous copy of that view (the output width innermost, so the copy moves
runs of adjacent input pixels) gives the columns, which backward reuses for the weight's
gradient. The input's gradient goes the other way ("col2im"): the gradient of the columns is
added back into the input through ``kh * kw`` strided slices, one per kernel offset.

Groups split the channels into independent convolutions; they are one more batch dimension of
the same matrix product.

When ember's compiled kernels are built (ember/_C/conv.c), conv2d and conv1d run as one kernel
call each way per range of images (``_whole_forward``, ``_whole_backward``): image by image,
im2col into a buffer that stays in cache (reading the unpadded image: the padding is skipped,
never copied), the product through NumPy's own BLAS, the bias; backward makes each image's
columns again from the saved input instead of keeping every image's. Where the extension has
no BLAS to call (``_C.gemm_ready()`` False), the kernels do the memory passes and NumPy the
products between them. The NumPy code here stays the reference, what CuPy runs, and the
fallback.
"""

import numpy as np

from .. import _C
from .._backend import array_module
from .._parallel import parallel_for
from .._tensor import type_name
from ..autograd.function import Function
from .indexing import _scatter_add
from .shape import squeeze, unsqueeze


def _strided_windows(padded, kernel_size, stride, dilation, output_size):
    """A view of ``padded`` (B, C, Hp, Wp) with shape (B, C, kh, kw, Ho, Wo), sharing memory.

    ``windows[b, c, i, j, y, x]`` is ``padded[b, c, y*sh + i*dh, x*sw + j*dw]``.
    """
    xp = array_module(padded)
    batch_stride, channel_stride, row_stride, column_stride = padded.strides
    shape = padded.shape[:2] + tuple(kernel_size) + tuple(output_size)
    strides = (batch_stride, channel_stride,
               row_stride * dilation[0], column_stride * dilation[1],
               row_stride * stride[0], column_stride * stride[1])
    if xp is np and padded.flags.c_contiguous:
        # The same view as as_strided, built directly: as_strided costs ~6 us a call, which
        # matters at batch size 1.
        return np.ndarray(shape, padded.dtype, buffer=padded, strides=strides)
    return xp.lib.stride_tricks.as_strided(padded, shape, strides)


def kernel_offset_slices(kernel_size, stride, dilation, output_size):
    """For each kernel offset (i, j), the (rows, columns) slices of the padded input that it
    meets over all output positions: the pixels ``(y*sh + i*dh, x*sw + j*dw)``."""
    for i in range(kernel_size[0]):
        rows = slice(i * dilation[0], i * dilation[0] + stride[0] * (output_size[0] - 1) + 1,
                     stride[0])
        for j in range(kernel_size[1]):
            columns = slice(j * dilation[1],
                            j * dilation[1] + stride[1] * (output_size[1] - 1) + 1, stride[1])
            yield i, j, rows, columns


def pad_spatial(input, padding, value=0):
    """``input`` (B, C, H, W) with ``padding = ((top, bottom), (left, right))`` added around.

    Returns the input itself when there is nothing to pad.
    """
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return input
    xp = array_module(input)
    batch, channels, height, width = input.shape
    padded = xp.full((batch, channels, height + top + bottom, width + left + right), value,
                     dtype=input.dtype)
    padded[:, :, top:top + height, left:left + width] = input
    return padded


def im2col(padded, kernel_size, stride, dilation, output_size, out=None):
    """The patches of ``padded`` (B, C, Hp, Wp) as columns: an array (B, C*kh*kw, Ho*Wo),
    written into ``out`` (contiguous, of that size) when given."""
    batch, channels = padded.shape[:2]
    windows = _strided_windows(padded, kernel_size, stride, dilation, output_size)
    if out is not None:
        array_module(padded).copyto(out.reshape(windows.shape), windows)
        return out
    # reshape cannot view these overlapping windows, so it makes the one contiguous copy.
    return windows.reshape(batch, channels * kernel_size[0] * kernel_size[1],
                           output_size[0] * output_size[1])


def col2im(columns, image, kernel_size, stride, dilation, output_size):
    """The adjoint of ``im2col``: each column entry added back to the pixel it was copied from.

    ``columns`` has shape (B, C*kh*kw, Ho*Wo); ``image`` (B, C, Hp, Wp) receives the result
    (whatever it held is overwritten) and is returned.
    """
    batch, channels = image.shape[:2]
    columns = columns.reshape(batch, channels, kernel_size[0], kernel_size[1], *output_size)
    image[...] = 0
    # Windows overlap when the stride is smaller than the kernel, so one slice per kernel
    # offset: within one offset, the strided slice touches each pixel at most once.
    for i, j, rows, cols in kernel_offset_slices(kernel_size, stride, dilation, output_size):
        image[:, :, rows, cols] += columns[:, :, i, j]
    return image


def col2im_stride_1(grad_output, weight_t, image, dilation):
    """The input's gradient of a stride-1 convolution, written into ``image`` (b, C, Hp, Wp).

    ``grad_output`` is (b, O, Ho, Wo) and ``weight_t`` the weight as (groups, C/g*kh*kw, O/g).
    With stride 1, the padded image's rows laid end to end make each kernel offset's pixels one
    contiguous run: output position (y, x) meets flat pixel ``y*Wp + x + i*dh*Wp + j*dw`` at
    offset (i, j). So the output's gradient is first widened to the image's width Wp with zeros
    (no window sits at those extra columns), its columns' gradient computed at the widened
    positions, and col2im becomes ``kh * kw`` adds of long runs instead of short rows: 1.3 to
    1.5 times faster than ``col2im`` on the tutorial net's second convolution.
    """
    xp = array_module(grad_output)
    batch, channels, height, width = image.shape
    out_channels, rows, columns = grad_output.shape[1:]
    groups = weight_t.shape[0]
    kernel_height = (height - rows) // dilation[0] + 1
    kernel_width = (width - columns) // dilation[1] + 1
    widened = xp.zeros((batch, out_channels, rows, width), dtype=grad_output.dtype)
    widened[..., :columns] = grad_output
    # The widened positions whose windows stay inside the image: all but the last row's tail.
    span = rows * width - (kernel_width - 1) * dilation[1]
    grad_columns = weight_t @ widened.reshape(batch, groups, out_channels // groups,
                                                rows * width)[..., :span]
    grad_columns = grad_columns.reshape(batch, channels, kernel_height, kernel_width, span)
    flat = image.reshape(batch, channels, height * width)
    flat[...] = 0
    for i in range(kernel_height):
        for j in range(kernel_width):
            start = i * dilation[0] * width + j * dilation[1]
            flat[:, :, start:start + span] += grad_columns[:, :, i, j]
    return image


class ConstantPadNd(Function):
    """``F.pad`` in constant mode: ``pad`` lists (before, after) amounts from the last dimension
    backwards; a negative amount crops instead."""

    @staticmethod
    def forward(ctx, input, pad, value):
        xp = array_module(input)
        output_shape = list(input.shape)
        source, target = [slice(None)] * input.ndim, [slice(None)] * input.ndim
        for k in range(len(pad) // 2):
            dim = input.ndim - 1 - k
            before, after = pad[2 * k], pad[2 * k + 1]
            size = input.shape[dim]
            output_shape[dim] = size + before + after
            # Negative amounts crop the input; positive ones offset it inside the output.
            start = min(max(-before, 0), size)
            kept = max(0, size - start - max(-after, 0))
            source[dim] = slice(start, start + kept)
            target[dim] = slice(max(before, 0), max(before, 0) + kept)
        output = xp.full(output_shape, value, dtype=input.dtype)
        output[tuple(target)] = input[tuple(source)]
        ctx.regions = (input.shape, tuple(source), tuple(target))
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input_shape, source, target = ctx.regions
        grad_input = array_module(grad_output).zeros(input_shape, dtype=grad_output.dtype)
        grad_input[source] = grad_output[target]
        return grad_input, None, None


class _IndexPad(Function):
    """Non-constant ``F.pad``: each padded dimension is filled by taking input positions.

    ``sources`` holds, per padded axis, the input position each output position copies: a
    reflection, the nearest edge, or a wrap-around. Backward adds each output gradient back to
    its source, one axis at a time (a position may be the source of several outputs).
    """

    @staticmethod
    def forward(ctx, input, sources):
        xp = array_module(input)
        output = input
        for axis, source in sources:
            output = xp.take(output, xp.asarray(source), axis=axis)
        ctx.sources, ctx.shape = sources, input.shape
        return output if output is not input else input.copy()

    @staticmethod
    def backward(ctx, grad_output):
        xp = array_module(grad_output)
        grad = grad_output
        for axis, source in reversed(ctx.sources):
            shape = grad.shape[:axis] + (ctx.shape[axis],) + grad.shape[axis + 1:]
            summed = xp.zeros(shape, dtype=grad.dtype)
            _scatter_add(xp, summed, (slice(None),) * axis + (xp.asarray(source),), grad)
            grad = summed
        return grad, None


class ReflectionPad1D(_IndexPad):
    pass


class ReflectionPad2D(_IndexPad):
    pass


class ReflectionPad3D(_IndexPad):
    pass


class ReplicationPad1D(_IndexPad):
    pass


class ReplicationPad2D(_IndexPad):
    pass


class ReplicationPad3D(_IndexPad):
    pass


class CircularPad(_IndexPad):
    """PyTorch pads circularly by copying slices into the output: its node is CopySlices."""

    node_name = "torch::autograd::CopySlices"


_INDEX_PADS = {"reflect": (ReflectionPad1D, ReflectionPad2D, ReflectionPad3D),
               "replicate": (ReplicationPad1D, ReplicationPad2D, ReplicationPad3D),
               "circular": (CircularPad,) * 3}


def _pad_sources(mode: str, size: int, before: int, after: int) -> np.ndarray:
    """For one dimension of ``size``, the input position each of the ``size + before +
    after`` output positions copies (negative amounts crop)."""
    if mode == "circular":
        # PyTorch wraps around what is left after cropping, not around the whole input.
        start = max(-before, 0)
        period = size - start - max(-after, 0)
        offsets = np.arange(size + before + after) - max(before, 0)
        return start + offsets % period
    position = np.arange(size + before + after) - before
    if mode == "replicate":
        return np.clip(position, 0, size - 1)
    position = np.abs(position)  # reflect: around the first element ...
    return np.where(position > size - 1, 2 * (size - 1) - position, position)  # ... and last


def _check_index_pad(input, pad, mode: str) -> None:
    """PyTorch's checks for the reflect, replicate and circular modes."""
    shape, count = tuple(input.shape), len(pad) // 2
    if input.ndim not in (count + 1, count + 2) or count > 3:
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    padded_dims = range(input.ndim - count, input.ndim)
    if mode == "circular":
        for k, dim in enumerate(reversed(padded_dims)):
            before, after = pad[2 * k], pad[2 * k + 1]
            if before > shape[dim] or after > shape[dim]:
                raise RuntimeError("Padding value causes wrapping around more than once.")
            if shape[dim] + before + after < 0:
                raise RuntimeError("Negative padding value is resulting in an empty dimension")
            kept = shape[dim] - max(-before, 0) - max(-after, 0)
            if kept <= 0 < shape[dim] + before + after:
                # PyTorch returns uninitialised memory here; there is nothing to wrap around.
                raise RuntimeError(f"Circular padding ({before}, {after}) crops dimension {dim} "
                                   f"of input {list(shape)} to nothing, so there is nothing to "
                                   f"wrap around")
        return
    batched = input.ndim == count + 2
    if any(size == 0 for size in shape[1 if batched else 0:]):
        raise RuntimeError(f"Expected {count + 1}D or {count + 2}D (batch mode) tensor with "
                           f"possibly 0 batch size and other non-zero dimensions for input, but "
                           f"got: {list(shape)}")
    for k, dim in enumerate(reversed(padded_dims)):
        before, after = pad[2 * k], pad[2 * k + 1]
        if mode == "reflect" and (before >= shape[dim] or after >= shape[dim]):
            raise RuntimeError(f"Argument #{4 + 2 * k}: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({before}, "
                               f"{after}) at dimension {dim} of input {list(shape)}")
    outputs = [shape[dim] + pad[2 * k] + pad[2 * k + 1]
               for k, dim in enumerate(reversed(padded_dims))]
    if min(outputs) < 1:
        names = "DHW"[3 - count:]
        sizes = ", ".join(f"{name}: {shape[dim]}" for name, dim in zip(names, padded_dims))
        results = " ".join(f"{name}: {size}" for name, size in zip(names, reversed(outputs)))
        raise RuntimeError(f"input ({sizes}{' ' if count > 1 else ''}) is too small. "
                           f"Calculated output {results}")


class Convolution(Function):
    """``conv2d`` on a batch (B, C, H, W) with weight (O, C/groups, kh, kw) and optional bias.

    ``padding`` is ``((top, bottom), (left, right))``: ``padding='same'`` may pad unevenly.
    Forward and backward each handle a range of images at a time, so that ``parallel_for``
    can give the ranges to different threads.
    """

    @staticmethod
    def forward(ctx, input, weight, bias, stride, padding, dilation, groups):
        xp = array_module(input)
        # conv1d: (B, C, L) as an image of height 1; the result is shaped back below.
        ctx.shapes = (input.shape, weight.shape)
        weight_4d, ctx_input = weight, input
        if input.ndim == 3:
            input, weight_4d = input[:, :, None], weight[:, :, None]
        ctx.kernel_geometry = None
        if _C.takes(input, weight_4d, bias):
            if _C.gemm_ready():
                return _whole_forward(ctx, ctx_input, input, weight_4d, bias, stride, padding,
                                      dilation, groups)
            return _compiled_forward(ctx, input, weight_4d, bias, stride, padding, dilation,
                                     groups)
        batch = input.shape[0]
        out_channels = weight_4d.shape[0]
        kernel_size = weight_4d.shape[2:]
        padded = pad_spatial(input, padding)
        output_size = tuple(
            (padded.shape[2 + d] - dilation[d] * (kernel_size[d] - 1) - 1) // stride[d] + 1
            for d in range(2))
        positions = output_size[0] * output_size[1]
        patch = weight_4d[0].size  # C/groups * kh * kw: one column's share of one group

        # Groups become a batch dimension: (groups, O/g, K/g) @ (b, groups, K/g, Ho*Wo).
        grouped_weight = weight_4d.reshape(groups, out_channels // groups, patch)
        needs_input, needs_weight = ctx.needs_input_grad[:2]
        # Backward needs the columns for the weight's gradient: keep all of them then.
        columns = (xp.empty((batch, groups * patch, positions), dtype=input.dtype)
                   if needs_weight else None)
        output = xp.empty((batch, out_channels) + output_size, dtype=input.dtype)
        if bias is not None:
            # The bias repeated over one image's output: adding a whole (O, Ho, Wo) array is
            # twice as fast in NumPy as broadcasting (O, 1, 1), whose stride-0 loop is slow.
            bias_image = xp.repeat(bias, positions).reshape((out_channels,) + output_size)

        def images(start, stop):
            image_columns = im2col(padded[start:stop], kernel_size, stride, dilation,
                                   output_size, None if columns is None else columns[start:stop])
            xp.matmul(grouped_weight, image_columns.reshape(stop - start, groups, patch, positions),
                      out=output[start:stop].reshape(stop - start, groups, out_channels // groups,
                                                     positions))
            if bias is not None:
                output[start:stop] += bias_image

        parallel_for(batch, images, work=out_channels * patch * positions, like=input)
        ctx.save_for_backward(columns, weight if needs_input else None)
        ctx.geometry = (padded.shape, input.shape, kernel_size, stride, padding, dilation,
                        groups, output_size)
        return output if len(ctx.shapes[0]) == 4 else output[:, :, 0]

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.kernel_geometry is not None:
            if ctx.whole:
                return _whole_backward(ctx, grad_output)
            return _compiled_backward(ctx, grad_output)
        columns, weight = ctx.saved_tensors
        (padded_shape, input_shape, kernel_size, stride, padding, dilation, groups,
         output_size) = ctx.geometry
        needs_input, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        xp = array_module(grad_output)
        input_shape_nd, weight_shape_nd = ctx.shapes
        if grad_output.ndim == 3:
            grad_output = grad_output[:, :, None]
        batch, out_channels = grad_output.shape[:2]
        positions = output_size[0] * output_size[1]
        patch = padded_shape[1] // groups * kernel_size[0] * kernel_size[1]  # as in forward
        grad_grouped = grad_output.reshape(batch, groups, out_channels // groups, positions)
        grad_padded = xp.empty(padded_shape, dtype=grad_output.dtype) if needs_input else None
        if needs_input:
            weight_t = weight.reshape(groups, out_channels // groups, -1).swapaxes(-1, -2)

        def images(start, stop):
            """The input's gradient for these images, and their shares of the weight's and the
            bias's (summed over all images below)."""
            grad = grad_grouped[start:stop]
            grad_weight = grad_bias = None
            if needs_input and stride == (1, 1):
                col2im_stride_1(grad_output[start:stop], weight_t, grad_padded[start:stop],
                                dilation)
            elif needs_input:
                col2im(weight_t @ grad, grad_padded[start:stop], kernel_size, stride, dilation,
                       output_size)
            if needs_weight:
                # Per-image products grad (O/g, L) @ columns.T (L, K/g), summed.
                image_columns = columns[start:stop].reshape(stop - start, groups, patch,
                                                            positions)
                grad_weight = (grad @ image_columns.swapaxes(-1, -2)).sum(axis=0)
            if needs_bias:
                # Over the images first: whole-image adds are faster than a strided reduction.
                grad_bias = grad_output[start:stop].sum(axis=0).sum(axis=(1, 2))
            return grad_weight, grad_bias

        shares = parallel_for(batch, images, work=out_channels * patch * positions,
                              like=grad_output)
        grad_input = grad_weight = grad_bias = None
        if needs_input:
            (top, _), (left, _) = padding
            grad_input = grad_padded[:, :, top:top + input_shape[2], left:left + input_shape[3]]
            grad_input = grad_input.reshape(input_shape_nd)
        if needs_weight:
            grad_weight = sum(share[0] for share in shares)
            grad_weight = grad_weight.reshape(weight_shape_nd)
        if needs_bias:
            grad_bias = sum(share[1] for share in shares)
        return grad_input, grad_weight, grad_bias, None, None, None, None


def _kernel_geometry(input, weight, stride, padding, dilation) -> tuple:
    """The geometry tuple of the kernels in ember/_C/conv.c: (C, H, W, kh, kw, sh, sw, top,
    left, dh, dw, Ho, Wo), for a 4-d input and weight."""
    channels, height, width = input.shape[1:]
    kernel_size = weight.shape[2:]
    (top, bottom), (left, right) = padding
    output_size = tuple(
        (size - dilation[d] * (kernel_size[d] - 1) - 1) // stride[d] + 1
        for d, size in enumerate((height + top + bottom, width + left + right)))
    return (channels, height, width, *kernel_size, *stride, top, left, *dilation, *output_size)


def _whole_forward(ctx, original, input, weight, bias, stride, padding, dilation, groups):
    """``Convolution.forward`` as one kernel call per range of images (ember/_C/conv.inc):
    for each image, im2col into a buffer that stays in cache, the product through NumPy's own
    BLAS (the calls NumPy's matmul makes, so the NumPy code's bits), and the bias. Backward
    makes each image's columns again from the input, which it saves (``original``, the input
    as given, so that in-place edits of it are caught as PyTorch catches them) instead of
    every image's columns: nine times less to keep for a 3x3 kernel, read back from memory
    once instead of written and read. ``weight`` is 4-d."""
    geometry = _kernel_geometry(input, weight, stride, padding, dilation)
    batch, out_channels = input.shape[0], weight.shape[0]
    positions = geometry[11] * geometry[12]
    output = np.empty((batch, out_channels, geometry[11], geometry[12]), dtype=input.dtype)
    forward = _C.kernels.conv2d_forward

    def images(start, stop):
        forward(input[start:stop], weight, bias, output[start:stop], stop - start,
                out_channels, groups, geometry)

    # Each product is one image's and one group's.
    parallel_for(batch, images, work=weight.size * positions, like=input,
                 product=weight.size // groups * positions)
    needs_input, needs_weight = ctx.needs_input_grad[:2]
    ctx.save_for_backward(original if needs_weight else None, weight if needs_input else None)
    ctx.kernel_geometry, ctx.groups, ctx.whole = geometry, groups, True
    return output if len(ctx.shapes[0]) == 4 else output[:, :, 0]


def _whole_backward(ctx, grad_output):
    """``Convolution.backward`` as one kernel call per range of images: per image, the bias's
    plane sums, the columns' gradient (a product) added into the input's gradient by col2im,
    and the columns made again for the weight's gradient, whose per-image products add up in
    image order as the NumPy code's ``.sum(axis=0)`` does. The ranges' shares of the weight's
    and bias's gradients are summed after, as in the NumPy code."""
    input, weight = ctx.saved_tensors
    geometry, groups = ctx.kernel_geometry, ctx.groups
    needs_input, needs_weight, needs_bias = ctx.needs_input_grad[:3]
    input_shape_nd, weight_shape_nd = ctx.shapes
    channels, height, width = geometry[:3]
    batch, out_channels = grad_output.shape[:2]
    # A broadcast gradient (of a plain sum) has strides the kernel cannot read.
    grad_output = np.ascontiguousarray(grad_output)
    if needs_weight:
        input = input.reshape(batch, channels, height, width)
    grad_input = (np.empty((batch, channels, height, width), dtype=grad_output.dtype)
                  if needs_input else None)
    weight_size = out_channels * channels // groups * geometry[3] * geometry[4]
    backward = _C.kernels.conv2d_backward

    def images(start, stop):
        grad_weight = (np.empty(weight_shape_nd, dtype=grad_output.dtype)
                       if needs_weight else None)
        grad_bias = np.empty(out_channels, dtype=grad_output.dtype) if needs_bias else None
        backward(input[start:stop] if needs_weight else None, weight,
                 grad_output[start:stop], None if grad_input is None else grad_input[start:stop],
                 grad_weight, grad_bias, stop - start, out_channels, groups, geometry)
        return grad_weight, grad_bias

    work = weight_size * geometry[11] * geometry[12]
    shares = parallel_for(batch, images, work=work, like=grad_output, product=work // groups)
    grad_weight = grad_bias = None
    if needs_input:
        grad_input = grad_input.reshape(input_shape_nd)
    if needs_weight:
        grad_weight = shares[0][0] if len(shares) == 1 else sum(share[0] for share in shares)
    if needs_bias:
        grad_bias = shares[0][1] if len(shares) == 1 else sum(share[1] for share in shares)
    return grad_input, grad_weight, grad_bias, None, None, None, None


def _compiled_forward(ctx, input, weight, bias, stride, padding, dilation, groups):
    """``Convolution.forward`` with the kernels' memory passes, where the extension has no
    BLAS to call (ember/_C/conv.inc): im2col reads the unpadded input and writes zeros for the
    padding (no padded copy), the bias is added in one pass, and the products are NumPy's.
    ``weight`` is 4-d; the output is shaped as the NumPy code's."""
    batch, out_channels = input.shape[0], weight.shape[0]
    geometry = _kernel_geometry(input, weight, stride, padding, dilation)
    output_size = geometry[11:]
    positions = output_size[0] * output_size[1]
    patch = weight[0].size
    grouped_weight = weight.reshape(groups, out_channels // groups, patch)
    needs_input, needs_weight = ctx.needs_input_grad[:2]
    columns = (np.empty((batch, groups * patch, positions), dtype=input.dtype)
               if needs_weight else None)
    output = np.empty((batch, out_channels) + output_size, dtype=input.dtype)

    def images(start, stop):
        count = stop - start
        image_columns = (np.empty((count, groups * patch, positions), dtype=input.dtype)
                         if columns is None else columns[start:stop])
        _C.kernels.conv2d_im2col(input[start:stop], image_columns, count, geometry)
        np.matmul(grouped_weight, image_columns.reshape(count, groups, patch, positions),
                  out=output[start:stop].reshape(count, groups, out_channels // groups,
                                                 positions))
        if bias is not None:
            _C.kernels.conv2d_add_bias(output[start:stop], bias, positions)

    parallel_for(batch, images, work=out_channels * patch * positions, like=input)
    ctx.save_for_backward(columns, weight if needs_input else None)
    ctx.kernel_geometry, ctx.groups, ctx.whole = geometry, groups, False
    return output if len(ctx.shapes[0]) == 4 else output[:, :, 0]


def _compiled_backward(ctx, grad_output):
    """``Convolution.backward`` with the kernels' memory passes: col2im adds the columns' gradient
    straight into the unpadded input's gradient (no padded image, no crop), and the bias's
    gradient is one pass over the output's."""
    columns, weight = ctx.saved_tensors
    geometry, groups = ctx.kernel_geometry, ctx.groups
    needs_input, needs_weight, needs_bias = ctx.needs_input_grad[:3]
    input_shape_nd, weight_shape_nd = ctx.shapes
    if grad_output.ndim == 3:
        grad_output = grad_output[:, :, None]
    batch, out_channels = grad_output.shape[:2]
    channels, height, width = geometry[:3]
    positions = geometry[11] * geometry[12]
    patch = channels // groups * geometry[3] * geometry[4]
    grad_grouped = grad_output.reshape(batch, groups, out_channels // groups, positions)
    grad_input = (np.empty((batch, channels, height, width), dtype=grad_output.dtype)
                  if needs_input else None)
    if needs_input:
        weight_t = weight.reshape(groups, out_channels // groups, -1).swapaxes(-1, -2)
    # The bias's kernel reads grad_output only where it is C-contiguous.
    contiguous = grad_output.flags.c_contiguous

    def images(start, stop):
        """The input's gradient for these images, and their shares of the weight's and the
        bias's (summed over all images below)."""
        grad = grad_grouped[start:stop]
        grad_weight = grad_bias = None
        if needs_input:
            _C.kernels.conv2d_col2im(weight_t @ grad, grad_input[start:stop], stop - start,
                                     geometry)
        if needs_weight:
            image_columns = columns[start:stop].reshape(stop - start, groups, patch, positions)
            products = grad @ image_columns.swapaxes(-1, -2)
            # One image (batch 1, where every microsecond shows) needs no sum.
            grad_weight = products[0] if stop - start == 1 else products.sum(axis=0)
        if needs_bias and contiguous:
            grad_bias = np.empty(out_channels, dtype=grad_output.dtype)
            _C.kernels.conv2d_bias_grad(grad_output[start:stop], grad_bias, positions)
        elif needs_bias:
            grad_bias = grad_output[start:stop].sum(axis=(0, 2, 3))
        return grad_weight, grad_bias

    shares = parallel_for(batch, images, work=out_channels * patch * positions,
                          like=grad_output)
    grad_weight = grad_bias = None
    if needs_input:
        grad_input = grad_input.reshape(input_shape_nd)
    if needs_weight:
        grad_weight = sum(share[0] for share in shares).reshape(weight_shape_nd)
    if needs_bias:
        grad_bias = sum(share[1] for share in shares)
    return grad_input, grad_weight, grad_bias, None, None, None, None


def _batched_product(xp, matrix, axis: int, batch):
    """``matrix`` (contracted along ``axis``) times each ``batch[b]`` (its rows): a (B, M, N)
    result. One tensordot (a single BLAS product): NumPy's matmul runs a broadcast matrix
    against a stack several times slower."""
    return xp.tensordot(matrix, batch, axes=([axis], [1])).transpose(1, 0, 2)


class ConvolutionTranspose(Function):
    """``conv_transpose2d``: the adjoint of a convolution (the gradient of conv2d's input),
    which spreads each input pixel over a kernel-sized patch of a larger output.

    input (B, C_in, H, W), weight (C_in, C_out/groups, kh, kw); ``padding`` crops
    ``(ph, pw)`` from each side of the full result and ``output_padding`` adds rows and
    columns at the end. Forward is conv2d's input-gradient path (weight^T @ input, then
    col2im); backward is conv2d's forward (im2col of the output's gradient). PyTorch runs both
    directions through one op, so the node is ConvolutionBackward0 here too. A (B, C, L)
    input is a 1-D transposed convolution, run as an image of height 1.
    """

    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, input, weight, bias, stride, padding, output_padding, dilation, groups):
        xp = array_module(input)
        ctx.shapes = (input.shape, weight.shape)
        weight_4d = weight
        if input.ndim == 3:
            input, weight_4d = input[:, :, None], weight[:, :, None]
        batch, in_channels, height, width = input.shape
        kernel_size = weight_4d.shape[2:]
        out_channels = weight_4d.shape[1] * groups
        full_size = tuple((input.shape[2 + d] - 1) * stride[d]
                          + dilation[d] * (kernel_size[d] - 1) + 1 + output_padding[d]
                          for d in range(2))
        output_size = tuple(full_size[d] - 2 * padding[d] for d in range(2))
        # Each input pixel's contribution to its patch, weight^T @ input per group: the
        # columns (B, C_out*kh*kw, H*W) that col2im adds into the image.
        grouped_weight = weight_4d.reshape(groups, in_channels // groups, -1)
        grouped_input = input.reshape(batch, groups, in_channels // groups, height * width)
        patch = grouped_weight.shape[2]
        columns = xp.empty((batch, groups * patch, height * width), dtype=input.dtype)
        for group in range(groups):
            columns[:, group * patch:(group + 1) * patch] = _batched_product(
                xp, grouped_weight[group], 0, grouped_input[:, group])
        (top, left) = padding
        # The output is a col2im of the columns with the padding cropped: the kernel adds into
        # the cropped image directly.
        ctx.kernel_geometry = None
        if _C.takes(columns, bias):
            ctx.kernel_geometry = (out_channels, *output_size, *kernel_size, *stride, top, left,
                                   *dilation, height, width)
            output = np.empty((batch, out_channels) + output_size, dtype=input.dtype)
            _C.kernels.conv2d_col2im(columns, output, batch, ctx.kernel_geometry)
            if bias is not None:
                _C.kernels.conv2d_add_bias(output, bias, output_size[0] * output_size[1])
        else:
            image = xp.empty((batch, out_channels) + full_size, dtype=input.dtype)
            col2im(columns, image, kernel_size, stride, dilation, (height, width))
            output = image[:, :, top:top + output_size[0], left:left + output_size[1]]
            output = xp.ascontiguousarray(output)
            if bias is not None:
                output += bias.reshape(-1, 1, 1)
        needs_input, needs_weight = ctx.needs_input_grad[:2]
        ctx.save_for_backward(input if needs_weight else None, weight if needs_input else None)
        ctx.geometry = (kernel_size, stride, padding, dilation, groups)
        return output if len(ctx.shapes[0]) == 4 else output[:, :, 0]

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        kernel_size, stride, padding, dilation, groups = ctx.geometry
        input_shape_nd, weight_shape_nd = ctx.shapes
        if grad_output.ndim == 3:
            grad_output = grad_output[:, :, None]
        needs_input, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        batch, out_channels = grad_output.shape[:2]
        in_channels = input_shape_nd[1]
        input_size = (1,) * (4 - len(input_shape_nd)) + tuple(input_shape_nd[2:])
        (top, left) = padding
        xp = array_module(grad_output)
        if ctx.kernel_geometry is not None and grad_output.flags.c_contiguous:
            # The kernel reads zeros where the cropped border and the output padding were.
            columns = np.empty((batch, out_channels * kernel_size[0] * kernel_size[1],
                                input_size[0] * input_size[1]), dtype=grad_output.dtype)
            _C.kernels.conv2d_im2col(grad_output, columns, batch, ctx.kernel_geometry)
        else:
            # The cropped border and the output padding are back, as zeros: the full result.
            full = pad_spatial(grad_output, ((top, top), (left, left)))
            columns = im2col(full, kernel_size, stride, dilation, input_size)
        # Sizes spelled out, not -1: an empty batch cannot infer one.
        columns = columns.reshape(batch, groups, out_channels // groups * kernel_size[0]
                                  * kernel_size[1], input_size[0] * input_size[1])
        group_channels = in_channels // groups
        grad_input = grad_weight = grad_bias = None
        if needs_input:
            grouped_weight = weight.reshape(groups, group_channels, -1)
            grad_input = xp.empty((batch, in_channels, columns.shape[3]), grad_output.dtype)
            for group in range(groups):
                grad_input[:, group * group_channels:(group + 1) * group_channels] = \
                    _batched_product(xp, grouped_weight[group], 1, columns[:, group])
            grad_input = grad_input.reshape(input_shape_nd)
        if needs_weight:
            grouped_input = input.reshape(batch, groups, group_channels, columns.shape[3])
            # Summed over the images and positions: one tensordot per group.
            grad_weight = xp.stack([xp.tensordot(grouped_input[:, group], columns[:, group],
                                                 axes=([0, 2], [0, 2]))
                                    for group in range(groups)])
            grad_weight = grad_weight.reshape(weight_shape_nd)
        if needs_bias:
            grad_bias = grad_output.sum(axis=(0, 2, 3))
        return grad_input, grad_weight, grad_bias, None, None, None, None, None



class Im2Col(Function):
    """``unfold``: the sliding ``kernel_size`` blocks of (B, C, H, W) as columns
    (B, C*kh*kw, L), L the number of blocks; the im2col of a convolution, as an op."""

    @staticmethod
    def forward(ctx, input, kernel_size, dilation, padding, stride, blocks):
        # An unbatched (C, H, W) input is a batch of one, in the same node.
        batched = input.ndim == 4
        image = input if batched else input[None]
        geometry = (*image.shape[1:], *kernel_size, *stride, *padding, *dilation, *blocks)
        ctx.geometry = (input.shape, image.shape, geometry, padding)
        if _C.takes(image):  # the kernel writes the padding's zeros itself
            columns = np.empty((image.shape[0], image.shape[1] * kernel_size[0]
                                * kernel_size[1], blocks[0] * blocks[1]), dtype=image.dtype)
            _C.kernels.conv2d_im2col(image, columns, image.shape[0], geometry)
        else:
            padded = pad_spatial(image, tuple((p, p) for p in padding))
            columns = im2col(padded, kernel_size, stride, dilation, blocks)
        return columns if batched else columns[0]

    @staticmethod
    def backward(ctx, grad_output):
        input_shape, image_shape, geometry, (top, left) = ctx.geometry
        grad = grad_output.reshape(image_shape[0], -1, grad_output.shape[-1])
        kernel_size, stride, dilation = geometry[3:5], geometry[5:7], geometry[9:11]
        if _C.takes(grad):
            grad_input = np.empty(image_shape, dtype=grad.dtype)
            _C.kernels.conv2d_col2im(grad, grad_input, image_shape[0], geometry)
            return grad_input.reshape(input_shape), None, None, None, None, None
        (height, width) = image_shape[2:]
        image = array_module(grad).empty(image_shape[:2] + (height + 2 * top, width + 2 * left),
                                         dtype=grad.dtype)
        col2im(grad, image, kernel_size, stride, dilation, geometry[11:])
        grad_input = image[:, :, top:top + height, left:left + width].reshape(input_shape)
        return grad_input, None, None, None, None, None


class Col2Im(Function):
    """``fold``: columns (B, C*kh*kw, L) added back into (B, C, H, W) at their blocks; the
    adjoint of unfold (overlapping blocks sum)."""

    @staticmethod
    def forward(ctx, input, output_size, kernel_size, dilation, padding, stride, blocks):
        xp = array_module(input)
        batched = input.ndim == 3  # else one unbatched (C*kh*kw, L), in the same node
        columns = input if batched else input[None]
        channels = columns.shape[1] // (kernel_size[0] * kernel_size[1])
        (top, left) = padding
        geometry = (channels, *output_size, *kernel_size, *stride, *padding, *dilation, *blocks)
        ctx.geometry = (input.shape, geometry)
        if _C.takes(columns):  # the kernel drops what falls in the padding itself
            output = np.empty((columns.shape[0], channels) + tuple(output_size), input.dtype)
            _C.kernels.conv2d_col2im(columns, output, columns.shape[0], geometry)
            return output if batched else output[0]
        image = xp.empty((columns.shape[0], channels, output_size[0] + 2 * top,
                          output_size[1] + 2 * left), dtype=input.dtype)
        col2im(columns, image, kernel_size, stride, dilation, blocks)
        output = xp.ascontiguousarray(image[:, :, top:top + output_size[0],
                                            left:left + output_size[1]])
        return output if batched else output[0]

    @staticmethod
    def backward(ctx, grad_output):
        input_shape, geometry = ctx.geometry
        kernel_size, stride, (top, left) = geometry[3:5], geometry[5:7], geometry[7:9]
        dilation, blocks = geometry[9:11], geometry[11:]
        grad = grad_output if grad_output.ndim == 4 else grad_output[None]
        if _C.takes(grad):
            columns = np.empty((grad.shape[0], geometry[0] * kernel_size[0] * kernel_size[1],
                                blocks[0] * blocks[1]), dtype=grad.dtype)
            _C.kernels.conv2d_im2col(grad, columns, grad.shape[0], geometry)
            return columns.reshape(input_shape), None, None, None, None, None, None
        padded = pad_spatial(grad, ((top, top), (left, left)))
        grad_input = im2col(padded, kernel_size, stride, dilation, blocks).reshape(input_shape)
        return grad_input, None, None, None, None, None, None


# ---- the plain functions -----------------------------------------------------------------

def pair(value, name: str) -> tuple:
    """An int, or a sequence of one or two ints, as a pair for the two spatial dimensions:
    3 -> (3, 3); RuntimeError as PyTorch words it for anything longer. ``name`` is the
    argument's, for the message."""
    if isinstance(value, int):
        return (value, value)
    values = tuple(int(v) for v in value)
    if len(values) == 1:
        return values * 2
    if len(values) != 2:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of 2 values "
                           f"to match the convolution dimensions, but got {name}={list(values)}")
    return values


def _padding_amounts(padding, kernel_size, stride, dilation) -> tuple:
    """``padding`` (an int, a pair, ``'valid'`` or ``'same'``) as ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if stride != (1, 1):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        amounts = []
        for size, rate in zip(kernel_size, dilation):
            total = rate * (size - 1)
            # An odd total cannot be split evenly; PyTorch puts the extra row or column last.
            amounts.append((total // 2, total - total // 2))
        return tuple(amounts)
    height, width = pair(padding, "padding")
    if height < 0 or width < 0:
        raise RuntimeError("negative padding is not supported")
    return ((height, height), (width, width))


def _shape_list(shape) -> str:
    return str(list(shape))


def _scalar_type(tensor) -> str:
    """PyTorch's scalar type name in messages: ``Float`` for float32, ``Double`` for float64."""
    return type_name(tensor).removeprefix("ember.").removesuffix("Tensor")


def _check_conv2d(input, weight, bias, groups, padding, dilation) -> None:
    """The argument checks of PyTorch's convolution, with its messages."""
    # Raw array shapes: Tensor.shape builds a Size each time, and this runs on every call.
    weight_shape = weight._data.shape
    if len(weight_shape) != 4:
        raise RuntimeError(f"Expected 4-dimensional weight for conv2d, but got "
                           f"{len(weight_shape)}-dimensional weight of size "
                           f"{_shape_list(weight_shape)}")
    _check_convolution(input, weight, bias, groups, padding, dilation)


def _check_convolution(input, weight, bias, groups, padding, dilation,
                       transposed: bool = False) -> None:
    """The checks PyTorch's convolutions share, for any number of spatial dimensions (that of
    ``padding``, a (before, after) pair per dimension)."""
    input_shape, weight_shape = input._data.shape, weight._data.shape
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    out_channels, group_channels = weight_shape[:2]
    if out_channels % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size "
                           f"[{_shape_list(weight_shape)}] instead")
    given = "transposed=1" if transposed else f"groups={groups}"
    # A transposed convolution's weight is (C_in, C_out / groups, ...).
    in_channels = out_channels if transposed else group_channels * groups
    if input_shape[1] != in_channels:
        raise RuntimeError(f"Given {given}, weight of size {_shape_list(weight_shape)}, "
                           f"expected input{_shape_list(input_shape)} to have "
                           f"{in_channels} channels, but got {input_shape[1]} "
                           f"channels instead")
    bias_size = group_channels * groups if transposed else out_channels
    if bias is not None and bias._data.shape != (bias_size,):
        prefix = f"Given {given}, weight" if transposed else "Given weight"
        raise RuntimeError(f"{prefix} of size {_shape_list(weight_shape)}, expected bias to "
                           f"be 1-dimensional with {bias_size} elements, but got bias of "
                           f"size {_shape_list(bias._data.shape)} instead")
    for tensor in (weight, bias):
        if tensor is not None and tensor._data.dtype != input._data.dtype:
            raise RuntimeError(f"expected scalar type {_scalar_type(input)} but found "
                               f"{_scalar_type(tensor)}")
    if transposed:
        return
    dims = range(len(padding))
    padded_size = [input_shape[2 + d] + sum(padding[d]) for d in dims]
    kernel_extent = [dilation[d] * (weight_shape[2 + d] - 1) + 1 for d in dims]
    if any(size < extent for size, extent in zip(padded_size, kernel_extent)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded_size))}). Kernel size: "
                           f"({' x '.join(map(str, kernel_extent))}). Kernel size can't be "
                           f"greater than actual input size")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """2-D convolution (cross-correlation, as in every deep-learning framework).

    Args:
        input: (B, C, H, W), or (C, H, W) for one unbatched image.
        weight: (O, C/groups, kh, kw).
        bias: (O,) or None.
        stride: step between windows, an int or (sh, sw).
        padding: zeros added on each side, an int, (ph, pw), ``'valid'`` (none) or ``'same'``
            (the output keeps the input's size; stride 1 only).
        dilation: spacing between kernel elements, an int or (dh, dw).
        groups: split the channels into this many independent convolutions.

    Returns:
        (B, O, Ho, Wo) with ``Ho = (H + 2*ph - dh*(kh-1) - 1) // sh + 1`` (likewise Wo).

    Example:
        >>> import ember
        >>> ember.nn.functional.conv2d(ember.ones(1, 3, 32, 32), ember.ones(6, 3, 5, 5)).shape
        ember.Size([1, 6, 28, 28])
    """
    if input.ndim not in (3, 4):
        raise RuntimeError("Expected 3D (unbatched) or 4D (batched) input to conv2d, but got "
                           f"input of size: {_shape_list(input.shape)}")
    if input.ndim == 3:
        return squeeze(conv2d(unsqueeze(input, 0), weight, bias, stride, padding, dilation,
                              groups), 0)
    if input._data.size == 0 and min(input.shape[:2]) > 0:
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got input "
                           f"shape: {_shape_list(input.shape)}")
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) <= 0:
        raise RuntimeError("dilation should be greater than zero")
    kernel_size = weight._data.shape[2:] if weight.ndim == 4 else (1, 1)
    padding = _padding_amounts(padding, kernel_size, stride, dilation)
    _check_conv2d(input, weight, bias, groups, padding, dilation)
    return Convolution.apply(input, weight, bias, stride, padding, dilation, groups)


def _single(value, name: str) -> tuple:
    """An int or a one-element sequence as a 1-tuple, for the one dimension of conv1d."""
    if isinstance(value, int):
        return (value,)
    values = tuple(int(v) for v in value)
    if len(values) != 1:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of 1 values "
                           f"to match the convolution dimensions, but got {name}={list(values)}")
    return values


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """1-D convolution over (B, C, L) or (C, L): conv2d on an image of height 1, in one op.

    Args:
        input: (B, C, L), or (C, L) unbatched.
        weight: (O, C/groups, k).
        bias: (O,) or None.
        stride, padding, dilation: ints (or one-element tuples); ``padding`` may also be
            ``'valid'`` or ``'same'``.
        groups: split the channels into this many independent convolutions.

    Returns:
        (B, O, Lo) with ``Lo = (L + 2*p - d*(k-1) - 1) // s + 1``.

    Example:
        >>> import ember
        >>> ember.nn.functional.conv1d(ember.ones(1, 2, 5), ember.ones(3, 2, 3)).shape
        ember.Size([1, 3, 3])
    """
    if input.ndim not in (2, 3):
        raise RuntimeError("Expected 2D (unbatched) or 3D (batched) input to conv1d, but got "
                           f"input of size: {_shape_list(input.shape)}")
    if weight.ndim != 3:
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-"
                           f"dimensional weight {_shape_list(weight.shape)}, but got "
                           f"{input.ndim + (input.ndim == 2)}-dimensional input of size "
                           f"{_shape_list(input.shape if input.ndim == 3 else (1, *input.shape))}"
                           f" instead")
    if input.ndim == 2:
        return squeeze(conv1d(unsqueeze(input, 0), weight, bias, stride, padding, dilation,
                              groups), 0)
    (stride,), (dilation,) = _single(stride, "stride"), _single(dilation, "dilation")
    if stride <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if dilation <= 0:
        raise RuntimeError("dilation should be greater than zero")
    kernel = weight._data.shape[2]
    if isinstance(padding, str):
        amounts = _padding_amounts(padding, (1, kernel), (1, stride), (1, dilation))[1]
    else:
        (amount,) = _single(padding, "padding")
        if amount < 0:
            raise RuntimeError("negative padding is not supported")
        amounts = (amount, amount)
    _check_convolution(input, weight, bias, groups, (amounts,), (dilation,))
    return Convolution.apply(input, weight, bias, (1, stride), ((0, 0), amounts), (1, dilation),
                             groups)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                    dims: int):
    """The checks and the call shared by conv_transpose1d and conv_transpose2d."""
    name = f"conv_transpose{dims}d"
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to "
                           f"{name}, but got input of size: {_shape_list(input.shape)}")
    if input.ndim == dims + 1:
        return squeeze(_conv_transpose(unsqueeze(input, 0), weight, bias, stride, padding,
                                       output_padding, groups, dilation, dims), 0)
    if weight.ndim != dims + 2:
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-"
                           f"dimensional weight {_shape_list(weight.shape)}, but got "
                           f"{input.ndim}-dimensional input of size "
                           f"{_shape_list(input.shape)} instead")
    convert = _single if dims == 1 else pair
    stride, padding = convert(stride, "stride"), convert(padding, "padding")
    output_padding = convert(output_padding, "output_padding")
    dilation = convert(dilation, "dilation")
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) <= 0:
        raise RuntimeError("dilation should be greater than zero")
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")
    if min(output_padding) < 0:
        raise RuntimeError("negative output_padding is not supported")
    if any(extra >= max(step, rate) for extra, step, rate in zip(output_padding, stride,
                                                                 dilation)):
        # PyTorch words this check for two dimensions, also for conv_transpose1d.
        shown = [(0,) * (2 - dims) + tuple(values) for values in (output_padding, stride,
                                                                  dilation)]
        raise RuntimeError(
            f"output padding must be smaller than either stride or dilation, but got "
            f"output_padding_height: {shown[0][0]} output_padding_width: {shown[0][1]} "
            f"stride_height: {shown[1][0]} stride_width: {shown[1][1]} dilation_height: "
            f"{shown[2][0]} dilation_width: {shown[2][1]}")
    _check_convolution(input, weight, bias, groups, tuple((p, p) for p in padding), dilation,
                       transposed=True)
    kernel_size = weight._data.shape[2:]
    output_size = [(input.shape[2 + d] - 1) * stride[d] - 2 * padding[d]
                   + dilation[d] * (kernel_size[d] - 1) + output_padding[d] + 1
                   for d in range(dims)]
    if min(output_size) < 1:
        sizes = " x ".join(str(size) for size in input.shape[2:])
        raise RuntimeError(f"Given input size per channel: ({sizes}). Calculated output size "
                           f"per channel: ({' x '.join(map(str, output_size))}). Output size "
                           f"is too small")
    if dims == 1:
        stride, padding = (1,) + stride, (0,) + padding
        output_padding, dilation = (0,) + output_padding, (1,) + dilation
    return ConvolutionTranspose.apply(input, weight, bias, stride, padding, output_padding,
                                      dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups: int = 1, dilation=1):
    """The transposed 1-D convolution (sometimes called a deconvolution): the adjoint of
    conv1d, which makes a longer sequence from a shorter one.

    ``weight`` is (C_in, C_out/groups, k). The output length is
    ``(L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``.

    Example:
        >>> import ember
        >>> ember.nn.functional.conv_transpose1d(ember.ones(1, 2, 4), ember.ones(2, 3, 3),
        ...                                      stride=2).shape
        ember.Size([1, 3, 9])
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups: int = 1, dilation=1):
    """The transposed 2-D convolution: the adjoint of conv2d, which upsamples an image (the
    generator of a DCGAN is a stack of these).

    ``weight`` is (C_in, C_out/groups, kh, kw). Each output side is
    ``(H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``.

    Example:
        >>> import ember
        >>> ember.nn.functional.conv_transpose2d(ember.ones(1, 4, 5, 5), ember.ones(4, 2, 4, 4),
        ...                                      stride=2, padding=1).shape
        ember.Size([1, 2, 10, 10])
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 2)


def _sliding_blocks(spatial, kernel_size, dilation, padding, stride, what: str) -> tuple:
    """The number of blocks along each dimension, with PyTorch's checks and messages."""
    if min(kernel_size) <= 0 or min(dilation) <= 0 or min(stride) <= 0 or min(padding) < 0:
        raise RuntimeError(f"kernel_size, dilation and stride should be greater than zero and "
                           f"padding non-negative, but got kernel_size={kernel_size}, dilation="
                           f"{dilation}, padding={padding}, stride={stride}")
    blocks = tuple((spatial[d] + 2 * padding[d] - dilation[d] * (kernel_size[d] - 1) - 1)
                   // stride[d] + 1 for d in range(2))
    if min(blocks) < 1:
        raise RuntimeError(f"Given {what} spatial size {tuple(spatial)}, kernel_size="
                           f"{kernel_size}, dilation={dilation}, padding={padding}, calculated "
                           f"shape of the array of sliding blocks as {blocks}, but its "
                           f"components must be at least one.")
    return blocks


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding ``kernel_size`` blocks of (B, C, H, W) (or (C, H, W)) as columns:
    (B, C*kh*kw, L) with L the number of blocks, each column one block (im2col).

    Example:
        >>> import ember
        >>> ember.nn.functional.unfold(ember.arange(9.0).reshape(1, 1, 3, 3), 2)
        tensor([[[0., 1., 3., 4.],
                 [1., 2., 4., 5.],
                 [3., 4., 6., 7.],
                 [4., 5., 7., 8.]]])
    """
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                           f"{input.ndim}D)")
    kernel_size, dilation = pair(kernel_size, "kernel_size"), pair(dilation, "dilation")
    padding, stride = pair(padding, "padding"), pair(stride, "stride")
    blocks = _sliding_blocks(tuple(input.shape[-2:]), kernel_size, dilation, padding, stride,
                             "input with")
    return Im2Col.apply(input, kernel_size, dilation, padding, stride, blocks)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of unfold: columns (B, C*kh*kw, L) (or (C*kh*kw, L)) summed back into
    (B, C, H, W) with ``(H, W) = output_size``; where blocks overlap, their values add.

    Example:
        >>> import ember
        >>> ember.nn.functional.fold(ember.ones(1, 4, 4), (3, 3), 2)
        tensor([[[[1., 2., 1.],
                  [2., 4., 2.],
                  [1., 2., 1.]]]])
    """
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are "
                           f"supported (got {input.ndim}D)")
    output_size, kernel_size = pair(output_size, "output_size"), pair(kernel_size, "kernel_size")
    dilation, padding, stride = (pair(dilation, "dilation"), pair(padding, "padding"),
                                 pair(stride, "stride"))
    channel_dim = input.ndim - 2
    if input.shape[channel_dim] % (kernel_size[0] * kernel_size[1]):
        raise RuntimeError(f"Expected size of input's dimension {channel_dim} to be divisible by "
                           f"the product of kernel_size, but got input.size({channel_dim})="
                           f"{input.shape[channel_dim]} and kernel_size={kernel_size}.")
    blocks = _sliding_blocks(output_size, kernel_size, dilation, padding, stride, "output with")
    if input.shape[-1] != blocks[0] * blocks[1]:
        raise RuntimeError(f"Given output_size={output_size}, kernel_size={kernel_size}, "
                           f"dilation={dilation}, padding={padding}, stride={stride}, expected "
                           f"size of input's dimension {input.ndim - 1} to match the calculated "
                           f"number of sliding blocks {blocks[0]} * {blocks[1]} = "
                           f"{blocks[0] * blocks[1]}, but got input.size({input.ndim - 1})="
                           f"{input.shape[-1]}.")
    return Col2Im.apply(input, output_size, kernel_size, dilation, padding, stride, blocks)


def pad(input, pad, mode: str = "constant", value=None):
    """Pad the last ``len(pad) // 2`` dimensions: ``pad = (left, right, top, bottom, ...)``,
    starting from the last dimension; negative amounts crop.

    ``mode='constant'`` fills with ``value`` (default 0) and pads any number of dimensions.
    ``'reflect'`` mirrors the input around its edge elements, ``'replicate'`` repeats the edge
    elements and ``'circular'`` wraps around; these pad the last 1, 2 or 3 dimensions of an
    input with one or two more (an unbatched or batched input).

    Example:
        >>> import ember
        >>> ember.nn.functional.pad(ember.ones(1, 2), (1, 2), value=0.5)
        tensor([[0.5000, 1.0000, 1.0000, 0.5000, 0.5000]])
        >>> ember.nn.functional.pad(ember.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
        tensor([[3., 2., 1., 2., 3., 2.]])
    """
    pad = tuple(int(amount) for amount in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input.ndim}")
    if mode != "constant":
        if mode not in _INDEX_PADS:
            raise NotImplementedError(f"Unrecognised padding mode {mode}")
        if value is not None and value != 0:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
        _check_index_pad(input, pad, mode)
        count = len(pad) // 2
        sources = tuple((input.ndim - 1 - k, _pad_sources(mode, input.shape[input.ndim - 1 - k],
                                                          pad[2 * k], pad[2 * k + 1]))
                        for k in range(count))
        return _INDEX_PADS[mode][count - 1].apply(input, sources)
    for k in range(len(pad) // 2):
        dim = input.ndim - 1 - k
        size = input.shape[dim]
        if size + pad[2 * k] + pad[2 * k + 1] < 0:
            raise RuntimeError(f"The input size {size}, plus negative padding {pad[2 * k]} and "
                               f"{pad[2 * k + 1]} resulted in a negative output size, which is "
                               f"invalid. Check dimension {dim} of your input.")
    return ConstantPadNd.apply(input, pad, 0 if value is None else value)

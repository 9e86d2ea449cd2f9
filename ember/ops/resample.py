"""Resampling: interpolate (nearest, linear and cubic, along one or two dimensions),
pixel_shuffle and pixel_unshuffle; and the spatial transformer's affine_grid and grid_sample.

Interpolation is separable: bilinear is linear along the width, then along the height, which
computes each output exactly as PyTorch's kernel does,
``h0 * (w0 * x00 + w1 * x01) + h1 * (w0 * x10 + w1 * x11)``. Along one dimension each output
takes its two neighbours ``low`` and ``high`` with weights ``1 - lam`` and ``lam``; nearest
takes one source and cubic four. The source positions are computed in the input's dtype, as
PyTorch's CPU kernels do, so that rounding picks the same neighbours. Backward adds each
output's gradient back to its sources (``_scatter_add``: sources repeat when upsampling).
"""

import math
import numbers
import warnings

import numpy as np

from .._backend import array_module
from ..autograd.function import Function
from .indexing import _scatter_add
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d


def _nearest_sources(input_size: int, output_size: int, scale) -> np.ndarray:
    """The input position each output position copies, as PyTorch's ``nearest`` picks it:
    ``floor(i * input_size / output_size)`` (or ``i / scale_factor``), in float32."""
    if output_size == input_size:
        return np.arange(output_size)
    if output_size == 2 * input_size:
        return np.arange(output_size) >> 1
    step = np.float32(1.0 / scale if scale is not None else input_size / output_size)
    positions = np.floor(np.arange(output_size, dtype=np.float32) * step).astype(np.int64)
    return np.minimum(positions, input_size - 1)


def _linear_sources(input_size: int, output_size: int, scale, align_corners: bool, dtype):
    """The taps ``((low, 1 - lam), (high, lam))`` per output position: its two input
    neighbours and their weights, as PyTorch's linear modes compute them (in the input's
    dtype)."""
    dtype = np.dtype(dtype).type
    source = _source_positions(input_size, output_size, scale, align_corners, dtype)
    # Pixel centres below the first one clamp to it (the cubic mode extrapolates instead).
    source = np.maximum(source, dtype(0))
    low = source.astype(np.int64)
    high = low + (low < input_size - 1)
    lam = (source - low.astype(dtype)).astype(dtype)
    return ((low, (dtype(1) - lam).astype(dtype)), (high, lam))


def _source_positions(input_size: int, output_size: int, scale, align_corners: bool, dtype):
    """Where each output position sits in the input's coordinates (PyTorch's
    ``area_pixel_compute_source_index``): corners aligned, or pixel centres,
    ``(i + 0.5) * step - 0.5``."""
    if align_corners:
        step = (input_size - 1) / (output_size - 1) if output_size > 1 else 0.0
    else:
        step = 1.0 / scale if scale is not None else input_size / output_size
    step = dtype(step)
    index = np.arange(output_size, dtype=dtype)
    if align_corners:
        return step * index
    return step * (index + dtype(0.5)) - dtype(0.5)


# Keys' cubic convolution kernel with a = -0.75, as PyTorch's bicubic mode uses.
_CUBIC_A = -0.75


def _cubic_sources(input_size: int, output_size: int, scale, align_corners: bool, dtype):
    """The four taps of each output position for bicubic interpolation: the input positions
    ``floor(x) - 1 ... floor(x) + 2`` (clamped to the edges) and Keys' weights."""
    dtype = np.dtype(dtype).type
    source = _source_positions(input_size, output_size, scale, align_corners, dtype)
    floor = np.floor(source)
    t = (source - floor).astype(dtype)
    a = dtype(_CUBIC_A)

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weights = (far(t + 1), near(t), near(1 - t), far(2 - t))
    start = floor.astype(np.int64) - 1
    return tuple((np.clip(start + k, 0, input_size - 1), weights[k].astype(dtype))
                 for k in range(4))


class _Resample(Function):
    """Interpolation along the last ``len(plans)`` dimensions, one dimension at a time.

    ``plans`` holds, per dimension from the last one back, the taps of every output
    position: ``(sources, weights)`` pairs (one pair for nearest, with no weights; two for
    linear; four for cubic), each output the sum of ``weights * input[sources]``.
    """

    @staticmethod
    def forward(ctx, input, plans):
        xp = array_module(input)
        output = input
        for offset, taps in enumerate(plans):
            output = _resample_axis(xp, output, input.ndim - 1 - offset, taps)
        ctx.plans, ctx.shape = plans, input.shape
        return output

    @staticmethod
    def backward(ctx, grad_output):
        xp = array_module(grad_output)
        grad = grad_output
        for offset, taps in reversed(list(enumerate(ctx.plans))):
            axis = grad.ndim - 1 - offset
            grad = _resample_axis_backward(xp, grad, axis, taps, ctx.shape[axis])
        return grad, None


def _shaped_along(xp, values, axis: int, ndim: int):
    """``values`` (1-D) as an array that broadcasts along ``axis`` of an ``ndim`` array."""
    return xp.asarray(values).reshape((-1,) + (1,) * (ndim - 1 - axis))


def _resample_axis(xp, array, axis: int, taps):
    output = None
    for sources, weights in taps:
        term = xp.take(array, xp.asarray(sources), axis=axis)
        if weights is not None:
            term = _shaped_along(xp, weights, axis, array.ndim) * term
        # Summed in tap order, as PyTorch's kernels add them.
        output = term if output is None else output + term
    return output


def _resample_axis_backward(xp, grad, axis: int, taps, input_size: int):
    shape = grad.shape[:axis] + (input_size,) + grad.shape[axis + 1:]
    grad_input = xp.zeros(shape, dtype=grad.dtype)
    before = (slice(None),) * axis
    for sources, weights in taps:
        share = grad if weights is None else grad * _shaped_along(xp, weights, axis, grad.ndim)
        _scatter_add(xp, grad_input, before + (xp.asarray(sources),), share)
    return grad_input


class UpsampleNearest1D(_Resample):
    pass


class UpsampleNearest2D(_Resample):
    pass


class UpsampleLinear1D(_Resample):
    pass


class UpsampleBilinear2D(_Resample):
    pass


class UpsampleBicubic2D(_Resample):
    pass


_INTERPOLATION_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area",
                        "nearest-exact")
_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest",
                align_corners=None, recompute_scale_factor=None, antialias: bool = False):
    """Resize the spatial dimensions (all after the first two) of (N, C, L) or (N, C, H, W).

    Args:
        input: (N, C, L) for ``'nearest'``, ``'linear'`` and ``'area'``; (N, C, H, W) for
            ``'nearest'``, ``'bilinear'`` and ``'area'``.
        size: the output's spatial size (an int for all, or one per dimension).
        scale_factor: or a multiplier of each spatial size (the output size is rounded down).
        mode: ``'nearest'``, ``'linear'``, ``'bilinear'``, ``'bicubic'`` (Keys' cubic
            convolution, a = -0.75; values may overshoot the input's range) or ``'area'``
            (adaptive average pooling).
        align_corners: for the linear modes: whether the corner pixels of input and output
            line up (True) or their outer edges do (False, the default).
        recompute_scale_factor: compute the scale from the output size, rather than using
            ``scale_factor``, when placing sources.

    Example:
        >>> import ember
        >>> ember.nn.functional.interpolate(ember.tensor([[[1.0, 2.0]]]), scale_factor=2)
        tensor([[[1., 1., 2., 2.]]])
        >>> ember.nn.functional.interpolate(ember.tensor([[[1.0, 2.0]]]), size=4, mode="linear",
        ...                                 align_corners=True)
        tensor([[[1.0000, 1.3333, 1.6667, 2.0000]]])
    """
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if align_corners is None:
        align_corners = False
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.ndim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | lanczos | area | nearest-exact (got "
                                  f"{mode})")
    dims = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    spatial = list(input.shape[2:])
    if size is not None:
        sizes = [size] * dims if isinstance(size, numbers.Integral) else list(size)
        if len(sizes) != dims:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of {spatial} "
                             f"and output size of {size}. Please provide input tensor in (N, C, "
                             f"d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                             f"format.")
        output_size, scales = [int(s) for s in sizes], [None] * dims
    else:
        scales = [scale_factor] * dims if isinstance(scale_factor, numbers.Real) \
            else list(scale_factor)
        if len(scales) != dims:
            raise ValueError(f"Input and scale_factor must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of {spatial} "
                             f"and scale_factor of shape {scale_factor}. Please provide input "
                             f"tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, "
                             f"s2, ...,sK) format.")
        output_size = [math.floor(float(n) * float(s)) for n, s in zip(spatial, scales)]
        if recompute_scale_factor:
            scales = [None] * dims
    if antialias:
        raise NotImplementedError("ember's interpolate has no anti-aliasing (antialias=True)")
    if mode == "area":
        pool = {1: adaptive_avg_pool1d, 2: adaptive_avg_pool2d}.get(dims)
        if pool is None:
            raise NotImplementedError(f"ember's interpolate supports mode 'area' on 3D and 4D "
                                      f"input, got {input.ndim}D")
        return pool(input, output_size)
    if mode == "nearest" and dims in (1, 2):
        plans = tuple(((_nearest_sources(spatial[d], output_size[d], scales[d]), None),)
                      for d in reversed(range(dims)))
        return (UpsampleNearest1D if dims == 1 else UpsampleNearest2D).apply(input, plans)
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] == dims and dims in (1, 2):
        dtype = input._data.dtype if input._data.dtype.kind == "f" else np.float32
        plans = tuple(_linear_sources(spatial[d], output_size[d], scales[d], align_corners,
                                      dtype) for d in reversed(range(dims)))
        return (UpsampleLinear1D if dims == 1 else UpsampleBilinear2D).apply(input, plans)
    if mode == "bicubic" and dims == 2:
        dtype = input._data.dtype if input._data.dtype.kind == "f" else np.float32
        plans = tuple(_cubic_sources(spatial[d], output_size[d], scales[d], align_corners,
                                     dtype) for d in reversed(range(dims)))
        return UpsampleBicubic2D.apply(input, plans)
    if mode in _LINEAR_MODES or mode == "bicubic":
        needed = _LINEAR_MODES.get(mode, 2) + 2
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{needed}D input")
    if mode not in _INTERPOLATION_MODES:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.ndim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | lanczos | area | nearest-exact (got "
                                  f"{mode})")
    raise NotImplementedError(f"ember's interpolate supports nearest, linear, bilinear, bicubic "
                              f"and area on 3D and 4D input; got mode {mode!r} on {input.ndim}D "
                              f"input")


def upsample(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None):
    """The deprecated name of ``interpolate`` (it warns, as PyTorch's does).

    Example:
        >>> import warnings
        >>> import ember
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.nn.functional.upsample(ember.ones(1, 1, 2), scale_factor=2).shape
        ember.Size([1, 1, 4])
    """
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


class PixelShuffle(Function):
    """(*, C r^2, H, W) -> (*, C, H r, W r): channel blocks become spatial blocks."""

    @staticmethod
    def forward(ctx, input, factor):
        *lead, channels, height, width = input.shape
        ctx.factor = factor
        blocks = input.reshape(*lead, channels // factor ** 2, factor, factor, height, width)
        depth = len(lead)
        # (..., C, r, r, H, W) -> (..., C, H, r, W, r)
        order = tuple(range(depth)) + tuple(depth + i for i in (0, 3, 1, 4, 2))
        return blocks.transpose(order).reshape(*lead, channels // factor ** 2, height * factor,
                                               width * factor)

    @staticmethod
    def backward(ctx, grad_output):
        return _unshuffle(grad_output, ctx.factor), None


def _unshuffle(array, factor: int):
    *lead, channels, height, width = array.shape
    blocks = array.reshape(*lead, channels, height // factor, factor, width // factor, factor)
    depth = len(lead)
    # (..., C, H, r, W, r) -> (..., C, r, r, H, W)
    order = tuple(range(depth)) + tuple(depth + i for i in (0, 2, 4, 1, 3))
    return blocks.transpose(order).reshape(*lead, channels * factor * factor, height // factor,
                                           width // factor)


class PixelUnshuffle(Function):
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of pixel_shuffle."""

    @staticmethod
    def forward(ctx, input, factor):
        ctx.factor = factor
        return _unshuffle(input, factor)

    @staticmethod
    def backward(ctx, grad_output):
        return PixelShuffle.forward(ctx, grad_output, ctx.factor), None


def pixel_shuffle(input, upscale_factor: int):
    """Rearrange (*, C r^2, H, W) into (*, C, H r, W r) (sub-pixel convolution's upsampling).

    Example:
        >>> import ember
        >>> ember.nn.functional.pixel_shuffle(ember.arange(4.0).reshape(1, 4, 1, 1), 2)
        tensor([[[[0., 1.],
                  [2., 3.]]]])
    """
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    if upscale_factor <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got "
                           f"{upscale_factor}")
    channels = input.shape[-3]
    if channels % (upscale_factor * upscale_factor):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)="
                           f"{channels} is not divisible by {upscale_factor * upscale_factor}")
    return PixelShuffle.apply(input, upscale_factor)


def pixel_unshuffle(input, downscale_factor: int):
    """Rearrange (*, C, H r, W r) into (*, C r^2, H, W), the inverse of pixel_shuffle.

    Example:
        >>> import ember
        >>> ember.nn.functional.pixel_unshuffle(ember.arange(4.0).reshape(1, 1, 2, 2), 2).shape
        ember.Size([1, 4, 1, 1])
    """
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    if downscale_factor <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got "
                           f"{downscale_factor}")
    for name, dim in (("height", -2), ("width", -1)):
        if input.shape[dim] % downscale_factor:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by "
                               f"downscale_factor, but input.size({dim})={input.shape[dim]} is "
                               f"not divisible by {downscale_factor}")
    return PixelUnshuffle.apply(input, downscale_factor)


# ---- spatial transformers: affine_grid and grid_sample -----------------------------------

_ALIGN_CORNERS_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                          "align_corners=False since 1.3.0. Please specify align_corners=True if "
                          "the old behavior is desired. See the documentation of grid_sample for "
                          "details.")


def _base_grid(xp, height: int, width: int, align_corners: bool, dtype):
    """(H*W, 3) rows ``[x, y, 1]`` of each pixel's normalized coordinates in [-1, 1]."""
    def axis(size):
        values = xp.linspace(-1, 1, size, dtype=dtype) if size > 1 else xp.zeros(1, dtype)
        return values if align_corners else values * dtype((size - 1) / size)

    ys, xs = xp.meshgrid(axis(height), axis(width), indexing="ij")
    return xp.stack([xs.ravel(), ys.ravel(), xp.ones(height * width, dtype)], axis=1)


class AffineGridGenerator(Function):
    """``affine_grid``: each output pixel's normalized coordinates ``[x, y, 1]`` mapped by
    ``theta`` (N, 2, 3) to where grid_sample should read."""

    @staticmethod
    def forward(ctx, theta, size, align_corners):
        xp = array_module(theta)
        batch, _, height, width = size
        base = _base_grid(xp, height, width, align_corners, theta.dtype.type)
        ctx.base = base
        grid = xp.matmul(base, theta.swapaxes(1, 2))  # (N, H*W, 2)
        return grid.reshape(batch, height, width, 2)

    @staticmethod
    def backward(ctx, grad_output):
        batch = grad_output.shape[0]
        grad = grad_output.reshape(batch, -1, 2)
        return grad.swapaxes(1, 2) @ ctx.base, None, None


def _unnormalize(coordinate, size: int, align_corners: bool):
    """Normalized [-1, 1] coordinates as pixel positions, and d(position)/d(coordinate)."""
    if align_corners:
        return (coordinate + 1) / 2 * (size - 1), (size - 1) / 2
    return ((coordinate + 1) * size - 1) / 2, size / 2


def _reflect(xp, position, size: int, align_corners: bool):
    """Positions reflected into the image (PyTorch's ``reflect_coordinates``), and the sign of
    d(reflected)/d(position)."""
    low, span = (0.0, 2.0 * (size - 1)) if align_corners else (-0.5, 2.0 * size)
    if span <= 0:
        return xp.zeros_like(position), xp.zeros_like(position)
    half = span / 2
    shifted = xp.abs(position - low)
    sign = xp.where(position < low, -1.0, 1.0)
    flips = xp.floor(shifted / half)
    extra = shifted - flips * half
    even = flips % 2 == 0
    reflected = xp.where(even, extra + low, half - extra + low)
    return reflected, sign * xp.where(even, 1.0, -1.0)


def _source_coordinates(xp, coordinate, size: int, padding_mode: str, align_corners: bool):
    """Pixel positions to sample for normalized coordinates, and their derivative."""
    position, slope = _unnormalize(coordinate, size, align_corners)
    slope = xp.full_like(position, slope)
    if padding_mode == "reflection":
        position, sign = _reflect(xp, position, size, align_corners)
        slope = slope * sign
    if padding_mode in ("border", "reflection"):
        inside = (position > 0) & (position < size - 1)
        slope = xp.where(inside, slope, 0.0)
        position = xp.clip(position, 0, size - 1)
    return position.astype(coordinate.dtype, copy=False), slope.astype(coordinate.dtype,
                                                                       copy=False)


def _corner_values(xp, planes, rows, columns, height: int, width: int):
    """``planes[n, c, rows, columns]`` for (N, P) integer positions, 0 outside the image;
    also the flat positions and the in-image mask for the backward scatter."""
    inside = (rows >= 0) & (rows < height) & (columns >= 0) & (columns < width)
    flat = xp.where(inside, rows * width + columns, 0)
    values = xp.take_along_axis(planes, flat[:, None, :], axis=2)
    return xp.where(inside[:, None, :], values, 0), flat, inside


class GridSampler2D(Function):
    """``grid_sample`` on (N, C, H, W): the input read at each grid point (normalized
    coordinates in [-1, 1]), by bilinear interpolation of the 4 nearest pixels or the nearest
    one; outside the image by ``padding_mode``."""

    @staticmethod
    def forward(ctx, input, grid, mode, padding_mode, align_corners):
        xp = array_module(input)
        batch, channels, height, width = input.shape
        out_height, out_width = grid.shape[1:3]
        points = grid.reshape(batch, -1, 2)
        x, _ = _source_coordinates(xp, points[..., 0], width, padding_mode, align_corners)
        y, _ = _source_coordinates(xp, points[..., 1], height, padding_mode, align_corners)
        planes = input.reshape(batch, channels, height * width)
        ctx.save_for_backward(input, grid)
        ctx.options = (mode, padding_mode, align_corners)
        if mode == "nearest":
            rows, columns = xp.rint(y).astype(np.int64), xp.rint(x).astype(np.int64)
            output, _, _ = _corner_values(xp, planes, rows, columns, height, width)
        else:
            output = 0
            for weight, rows, columns in _bilinear_corners(xp, x, y):
                values, _, _ = _corner_values(xp, planes, rows, columns, height, width)
                output = output + values * weight[:, None, :]
        return output.reshape(batch, channels, out_height, out_width).astype(input.dtype,
                                                                              copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        input, grid = ctx.saved_tensors
        mode, padding_mode, align_corners = ctx.options
        xp = array_module(input)
        batch, channels, height, width = input.shape
        points = grid.reshape(batch, -1, 2)
        x, dx = _source_coordinates(xp, points[..., 0], width, padding_mode, align_corners)
        y, dy = _source_coordinates(xp, points[..., 1], height, padding_mode, align_corners)
        planes = input.reshape(batch, channels, height * width)
        grad = grad_output.reshape(batch, channels, -1)
        grad_planes = xp.zeros_like(planes) if ctx.needs_input_grad[0] else None
        grad_grid = xp.zeros_like(points)
        batch_index = xp.arange(batch)[:, None, None]
        channel_index = xp.arange(channels)[None, :, None]
        if mode == "nearest":
            corners = [(None, xp.rint(y).astype(np.int64), xp.rint(x).astype(np.int64))]
        else:
            corners = _bilinear_corners(xp, x, y, with_slopes=True)
        for corner in corners:
            weight, rows, columns = corner[:3]
            values, flat, inside = _corner_values(xp, planes, rows, columns, height, width)
            if grad_planes is not None:
                share = grad if weight is None else grad * weight[:, None, :]
                share = xp.where(inside[:, None, :], share, 0)
                _scatter_add(xp, grad_planes, (batch_index, channel_index, flat[:, None, :]),
                             share)
            if weight is not None:
                slope_x, slope_y = corner[3:]
                along = (grad * values).sum(axis=1)
                grad_grid[..., 0] += along * slope_x
                grad_grid[..., 1] += along * slope_y
        grad_grid[..., 0] *= dx
        grad_grid[..., 1] *= dy
        grad_input = None if grad_planes is None else grad_planes.reshape(input.shape)
        return grad_input, grad_grid.reshape(grid.shape), None, None, None


def _bilinear_corners(xp, x, y, with_slopes: bool = False):
    """The 4 pixels around each position (x, y) with their bilinear weights (and, with
    ``with_slopes``, each weight's derivatives along x and y)."""
    west, north = xp.floor(x), xp.floor(y)
    east, south = west + 1, north + 1
    corners = []
    for column, row, wx, wy, sx, sy in (
            (west, north, east - x, south - y, -1, -1), (east, north, x - west, south - y, 1, -1),
            (west, south, east - x, y - north, -1, 1), (east, south, x - west, y - north, 1, 1)):
        corner = (wx * wy, row.astype(np.int64), column.astype(np.int64))
        if with_slopes:
            corner += (sx * wy, sy * wx)
        corners.append(corner)
    return corners


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of an affine transform: for each pixel of an output of ``size``
    (N, C, H, W), ``theta`` (N, 2, 3) applied to its normalized coordinates ``[x, y, 1]``.

    With grid_sample this is the spatial transformer (Jaderberg et al., 2015).

    Example:
        >>> import ember
        >>> identity = ember.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
        >>> ember.nn.functional.affine_grid(identity, (1, 1, 1, 2), align_corners=True)
        tensor([[[[-1.,  0.],
                  [ 1.,  0.]]]])
    """
    if align_corners is None:
        warnings.warn(_ALIGN_CORNERS_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) != 4:
        raise NotImplementedError(f"ember's affine_grid supports 4-D sizes (N, C, H, W) only, "
                                  f"got size {list(size)}")
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (2, 3):
        raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                         f"{size}. Got {theta.shape}.")
    if min(size[2:]) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    return AffineGridGenerator.apply(theta, size, align_corners)


def grid_sample(input, grid, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners=None):
    """Read ``input`` (N, C, H, W) at the positions ``grid`` (N, Ho, Wo, 2) gives in
    normalized coordinates (-1 the left or top edge, 1 the right or bottom one).

    Args:
        mode: ``'bilinear'`` or ``'nearest'``.
        padding_mode: outside the image, ``'zeros'``, the nearest ``'border'`` pixel, or the
            ``'reflection'`` of the image.
        align_corners: whether -1 and 1 are the centres of the corner pixels (True) or their
            outer edges (False).

    Example:
        >>> import ember
        >>> image = ember.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> ember.nn.functional.grid_sample(image, ember.zeros(1, 1, 1, 2), align_corners=True)
        tensor([[[[2.5000]]]])
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_CORNERS_WARNING, stacklevel=2)
        align_corners = False
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[0] != input.shape[0] \
            or grid.shape[-1] != 2:
        raise RuntimeError(f"grid_sampler(): expected 4-D input and grid (N, H, W, 2) of the "
                           f"same batch size, but got input with sizes {list(input.shape)} and "
                           f"grid with sizes {list(grid.shape)}")
    if mode == "bicubic":
        raise NotImplementedError("ember's grid_sample supports modes 'bilinear' and 'nearest'")
    return GridSampler2D.apply(input, grid, mode, padding_mode, align_corners)

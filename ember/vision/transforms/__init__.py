"""Image transforms, as torchvision's: ``Compose``, ``ToTensor``, ``PILToTensor``,
``ToPILImage``, ``ConvertImageDtype``, ``Normalize``, ``Resize``, ``CenterCrop``,
``RandomCrop``, ``RandomResizedCrop``, ``RandomHorizontalFlip``, ``RandomVerticalFlip``,
``ColorJitter``, ``Grayscale``, ``Pad``, ``Lambda``, ``RandomApply``, ``RandomChoice``,
``RandomOrder``; their functional forms are in ``transforms.functional``.

ember has no PIL dependency. An *image* is a PIL image, a NumPy array laid out as one (H x W,
or H x W x C: CIFAR's images), or a tensor whose last two dimensions are H x W (MNIST's uint8
images, the float C x H x W tensor images that ``ToTensor`` makes and models take). The
geometric transforms give back the kind of image they get: a PIL image stays a PIL image (as
in torchvision), an array an array, a tensor a tensor. The random ones draw from ember's
default generator, so ``ember.manual_seed`` repeats them.

Example:
    >>> import numpy as np
    >>> from ember.vision import transforms
    >>> pipeline = transforms.Compose([transforms.ToTensor(), transforms.Pad(2),
    ...                                transforms.Normalize((0.5,), (0.5,))])
    >>> pipeline(np.zeros((28, 28), dtype=np.uint8)).shape
    ember.Size([1, 32, 32])
"""

import enum
import math
import numbers
import random
import sys
import warnings
from typing import Callable, Sequence

import numpy as np

from ... import _dtype
from ..._backend import array_module
from ..._tensor import Tensor
from ...ops.creation import rand, randint, randperm


class Compose:
    """Apply several transforms one after the other.

    Example:
        >>> from ember.vision import transforms
        >>> print(transforms.Compose([transforms.ToTensor(),
        ...                           transforms.Normalize((0.5,), (0.5,))]))
        Compose(
            ToTensor()
            Normalize(mean=(0.5,), std=(0.5,))
        )
    """

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = transforms

    def __call__(self, image):
        for transform in self.transforms:
            image = transform(image)
        return image

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}("]
        lines += [f"    {transform}" for transform in self.transforms]
        return "\n".join(lines) + "\n)"


class ToTensor:
    """An image (H x W or H x W x C) as a float tensor C x H x W.

    uint8 values are scaled to [0, 1] (divided by 255) in the default float dtype; other dtypes
    keep their values and dtype, as in torchvision.

    Example:
        >>> import numpy as np
        >>> from ember.vision import transforms
        >>> transforms.ToTensor()(np.full((2, 2), 255, dtype=np.uint8))
        tensor([[[1., 1.],
                 [1., 1.]]])
    """

    def __call__(self, pic) -> Tensor:
        return _float_image(_chw_array(pic))

    def _apply_batch(self, batch: Tensor) -> Tensor:
        """``__call__`` on each image of a batch (N x H x W or N x H x W x C), stacked."""
        images = batch._data
        if images.ndim not in (3, 4):
            raise ValueError(f"pic should be 2/3 dimensional. Got {images.ndim - 1} dimensions.")
        images = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
        return _float_image(images)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _image_array(pic):
    """The array behind an image: a tensor's data, an ndarray, or a PIL-like image's pixels."""
    if isinstance(pic, Tensor):
        return pic._data
    if isinstance(pic, np.ndarray):
        return pic
    if hasattr(pic, "__array_interface__"):
        return np.asarray(pic)
    raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")


def _chw_array(pic):
    """ToTensor's and PILToTensor's reading of an H x W x C (or grey H x W) picture: its
    array as C x H x W, a view."""
    image = _image_array(pic)
    if image.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {image.ndim} dimensions.")
    if image.ndim == 2:
        image = image[:, :, None]
    return image.transpose(2, 0, 1)


def _pillow(image):
    """Pillow's ``PIL.Image`` module when ``image`` is a PIL image, else None (holding a PIL
    image, the program has imported Pillow: ember never needs to)."""
    pil = sys.modules.get("PIL.Image")
    return pil if pil is not None and isinstance(image, pil.Image) else None


def _like(image, array):
    """``array``, a transform's result for ``image``, as the kind of image ``image`` is: a PIL
    image for a PIL image (torchvision's transforms return one, and a program's own transforms
    may call its methods), the array otherwise."""
    pil = _pillow(image)
    return array if pil is None else pil.fromarray(np.ascontiguousarray(array))


def _float_image(image) -> Tensor:
    """A new contiguous tensor of ``image``: uint8 scaled to [0, 1], other dtypes as they are."""
    if image.dtype != np.uint8:
        return Tensor._wrap(array_module(image).array(image, order="C"))
    values = image.astype(_dtype.get_default_dtype().numpy, order="C")
    values /= 255
    return Tensor._wrap(values)


class Normalize:
    """``(image - mean) / std`` per channel, for a float tensor image (…, C, H, W).

    Args:
        mean: one mean per channel.
        std: one standard deviation per channel.
        inplace: overwrite the input tensor instead of returning a new one.

    Example:
        >>> import ember
        >>> from ember.vision import transforms
        >>> transforms.Normalize((0.5,), (0.25,))(ember.ones(1, 1, 2))
        tensor([[[2., 2.]]])
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float],
                 inplace: bool = False) -> None:
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, tensor: Tensor) -> Tensor:
        _check_tensor_image(tensor, tensor.ndim)
        return self._normalize(tensor)

    def _apply_batch(self, batch: Tensor) -> Tensor:
        _check_tensor_image(batch, batch.ndim - 1)
        return self._normalize(batch)

    def _normalize(self, tensor: Tensor) -> Tensor:
        xp = array_module(tensor._data)
        mean = xp.asarray(self.mean, dtype=tensor._data.dtype)
        std = xp.asarray(self.std, dtype=tensor._data.dtype)
        if (std == 0).any():
            raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, "
                             f"leading to division by zero.")
        if mean.ndim == 1:  # one value per channel: broadcast over H and W
            mean = mean.reshape(-1, 1, 1)
        if std.ndim == 1:
            std = std.reshape(-1, 1, 1)
        mean, std = Tensor._wrap(mean), Tensor._wrap(std)
        if self.inplace:
            return tensor.sub_(mean).div_(std)
        return (tensor - mean) / std

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


def _check_tensor_image(tensor, image_ndim: int) -> None:
    """Normalize's input checks; ``image_ndim`` is the dimensions of one image in ``tensor``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if image_ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tensor.size()}")


class Pad:
    """Pad an image on its four sides.

    A tensor is padded in its last two dimensions (…, H, W); a NumPy array in its first two
    (H, W, as an image H x W or H x W x C), and stays a NumPy array.

    Args:
        padding: one width for all sides, ``(left_right, top_bottom)``, or
            ``(left, top, right, bottom)``.
        fill: the value of new pixels when ``padding_mode`` is "constant".
        padding_mode: "constant", "edge" (repeat the border pixel), "reflect" (mirror without
            repeating the border pixel) or "symmetric" (mirror repeating it).

    Example:
        >>> import ember
        >>> from ember.vision import transforms
        >>> transforms.Pad(2)(ember.zeros(1, 28, 28)).shape
        ember.Size([1, 32, 32])
    """

    # The same names, with the same meanings, as NumPy's np.pad modes.
    _modes = ("constant", "edge", "reflect", "symmetric")

    def __init__(self, padding, fill: float = 0, padding_mode: str = "constant") -> None:
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate padding arg")
        if not isinstance(fill, numbers.Number):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode not in self._modes:
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                             f"{len(padding)} element tuple")
        widths = list(padding) if isinstance(padding, (tuple, list)) else [padding]
        if not all(isinstance(w, int) and w >= 0 for w in widths):
            raise ValueError(f"padding must be non-negative integers, got {padding}")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode
        if len(widths) == 1:
            widths = widths * 4
        elif len(widths) == 2:
            widths = widths * 2
        self._left, self._top, self._right, self._bottom = widths

    def __call__(self, image):
        if isinstance(image, Tensor):
            data = image._data
            before = [(0, 0)] * (data.ndim - 2)
            return Tensor._wrap(self._pad(data, before + self._height_width()))
        array = _image_array(image)
        after = [(0, 0)] * (array.ndim - 2)
        return _like(image, self._pad(array, self._height_width() + after))

    _apply_batch = __call__  # tensors are padded in their last two dimensions, batch or not

    def _height_width(self) -> list:
        return [(self._top, self._bottom), (self._left, self._right)]

    def _pad(self, array, widths: list):
        xp = array_module(array)
        if self.padding_mode != "constant":
            return xp.pad(array, widths, self.padding_mode)
        # Filling a new array and copying the image into its middle is several times faster
        # than np.pad, which matters when every image of an epoch goes through here.
        shape = tuple(size + before + after for size, (before, after) in zip(array.shape, widths))
        padded = xp.full(shape, self.fill, dtype=array.dtype)
        middle = tuple(slice(before, before + size)
                       for size, (before, _) in zip(array.shape, widths))
        padded[middle] = array
        return padded

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class Lambda:
    """Apply a function as a transform.

    Example:
        >>> from ember.vision import transforms
        >>> transforms.Lambda(lambda x: x * 2)(21)
        42
    """

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, image):
        return self.lambd(image)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class PILToTensor:
    """An image (H x W or H x W x C: a PIL image or an array) as a tensor C x H x W of its own
    dtype, values unchanged (``ToTensor`` scales uint8 to [0, 1]; this does not).

    Example:
        >>> import numpy as np
        >>> from ember.vision import transforms
        >>> transforms.PILToTensor()(np.full((1, 2), 255, dtype=np.uint8))
        tensor([[[255, 255]]], dtype=ember.uint8)
    """

    def __call__(self, pic) -> Tensor:
        image = _chw_array(pic)
        return Tensor._wrap(array_module(image).array(image, order="C"))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ConvertImageDtype:
    """Convert a tensor image to ``dtype``, rescaling its values: floats span [0, 1], integers
    0 … their maximum (255 for uint8), as in torchvision.

    Float to integer multiplies by (maximum + 1 - 0.001) and truncates, so 1.0 becomes the
    maximum; integer to integer shifts by the ratio of the ranges.

    Args:
        dtype: the dtype to convert to.

    Raises:
        RuntimeError: float32 to int32 or int64, or float64 to int64: the float can't hold
            every integer of the range, so the conversion is not safe.

    Example:
        >>> import ember
        >>> from ember.vision import transforms
        >>> transforms.ConvertImageDtype(ember.float32)(ember.tensor([0, 51, 255],
        ...                                                          dtype=ember.uint8))
        tensor([0.0000, 0.2000, 1.0000])
    """

    def __init__(self, dtype: _dtype.dtype) -> None:
        self.dtype = dtype

    def __call__(self, image: Tensor) -> Tensor:
        if not isinstance(image, Tensor):
            raise TypeError(f"Input img should be Tensor Image. Got {type(image)}")
        dtype = self.dtype
        if image.dtype == dtype:
            return image
        if image.is_floating_point():
            if dtype.is_floating_point:
                return image.to(dtype)
            if (image.dtype == _dtype.float32 and dtype in (_dtype.int32, _dtype.int64)) or (
                    image.dtype == _dtype.float64 and dtype == _dtype.int64):
                raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed "
                                   "safely.")
            # 1 - 0.001 below the next integer: 1.0 maps to the maximum, not one past it.
            return image.mul(_integer_max(dtype) + 1.0 - 1e-3).to(dtype)
        input_max = _integer_max(image.dtype)
        if dtype.is_floating_point:
            return image.to(dtype) / input_max
        output_max = _integer_max(dtype)
        if input_max > output_max:
            factor = (input_max + 1) // (output_max + 1)
            return image.div(factor, rounding_mode="floor").to(dtype)
        return image.to(dtype) * ((output_max + 1) // (input_max + 1))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _integer_max(dtype: _dtype.dtype) -> int:
    """The largest value of an integer dtype (1 for bool)."""
    return 1 if dtype == _dtype.bool else int(np.iinfo(dtype.numpy).max)


def _size_pair(size, name: str = "size") -> tuple:
    """``size`` as (height, width): an int is a square, a one-element sequence too."""
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return size[0], size[0]
    if not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(f"Please provide only two dimensions (h, w) for {name}.")
    return tuple(size)


def _image_size(image) -> tuple:
    """(height, width): a tensor's last two dimensions, an array's first two."""
    if isinstance(image, Tensor):
        if image.ndim < 2:
            raise TypeError(f"Tensor is not a torch image. Got {image.ndim} dimensions.")
        return tuple(image.shape[-2:])
    if _pillow(image) is not None:  # without copying its pixels into an array
        width, height = image.size
        return height, width
    return tuple(_image_array(image).shape[:2])


def _crop(image, top: int, left: int, height: int, width: int):
    """The region of ``image`` (a view of a tensor, or of an array's first two dimensions)."""
    if isinstance(image, Tensor):
        return image[..., top:top + height, left:left + width]
    return _like(image, _image_array(image)[top:top + height, left:left + width])


class InterpolationMode(enum.Enum):
    """How ``Resize`` computes new pixels; the values are the modes' names in torchvision.

    Example:
        >>> from ember.vision.transforms import InterpolationMode
        >>> InterpolationMode.BILINEAR.value
        'bilinear'
    """

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


class Resize:
    """Resize an image to ``size``, as torchvision does.

    Bilinear resizing with ``antialias`` (the default) averages over all the input pixels each
    output pixel covers when shrinking (the triangle filter widened by the scale, as Pillow
    and PyTorch's ``interpolate(..., antialias=True)`` do); without it, from the two nearest
    pixels only. A tensor is resized as ``interpolate`` resizes it; integer tensors are
    computed in float32, rounded and clamped to their dtype. A PIL image is resized by Pillow,
    as torchvision resizes it; a uint8 array, which stands for one, as Pillow would (always
    antialiased, in fixed point; its nearest takes the pixel under each new pixel's centre):
    Pillow's numbers when one side changes, and nearly always when both do (see
    ``_resize_like_pillow``).

    Args:
        size: (height, width), or one number: the shorter side becomes ``size`` and the
            longer keeps the aspect ratio (rounded down).
        interpolation: ``InterpolationMode.BILINEAR``, ``NEAREST`` or ``NEAREST_EXACT``.
        max_size: with a single ``size``, the most the longer side may become; the image is
            then made smaller than ``size`` on its shorter side.
        antialias: filter when shrinking, for bilinear resizing.

    Raises:
        ValueError: a ``size`` of other than one or two numbers, or ``max_size`` not above a
            single ``size``.
        NotImplementedError: another interpolation mode.

    Example:
        >>> import ember
        >>> from ember.vision import transforms
        >>> transforms.Resize(16)(ember.zeros(3, 32, 48)).shape
        ember.Size([3, 16, 24])
    """

    _modes = (InterpolationMode.BILINEAR, InterpolationMode.NEAREST,
              InterpolationMode.NEAREST_EXACT)

    def __init__(self, size, interpolation: InterpolationMode = InterpolationMode.BILINEAR,
                 max_size: "int | None" = None, antialias: "bool | None" = True) -> None:
        if not isinstance(size, (int, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        if isinstance(interpolation, int) or not isinstance(interpolation, InterpolationMode):
            raise TypeError("Argument interpolation should be of type InterpolationMode")
        if interpolation not in self._modes:
            known = ", ".join(mode.value for mode in self._modes)
            raise NotImplementedError(f"ember's Resize interpolates {known}, not "
                                      f"{interpolation.value}")
        self.size = size
        self.max_size = max_size
        self.interpolation = interpolation
        self.antialias = antialias

    def __call__(self, image):
        height, width = _image_size(image)
        new_height, new_width = self._output_size(height, width)
        pil = _pillow(image)
        if pil is not None:  # as torchvision: Pillow resizes it (nearest-exact is its nearest)
            bilinear = self.interpolation is InterpolationMode.BILINEAR
            return image.resize((new_width, new_height), pil.Resampling.BILINEAR if bilinear
                                else pil.Resampling.NEAREST)
        if not isinstance(image, Tensor):
            array = _image_array(image)
            if array.dtype == np.uint8:
                return self._resize_like_pillow(array, new_height, new_width)
            return self._resize(array, (0, 1), (new_height, new_width))
        data = image._data
        return Tensor._wrap(self._resize(data, (data.ndim - 2, data.ndim - 1),
                                         (new_height, new_width)))

    def _resize(self, data, axes: tuple, new_sizes: tuple):
        """``data`` resized along ``axes``, as PyTorch's interpolate resizes a tensor."""
        xp = array_module(data)
        float_dtype = data.dtype if data.dtype.kind == "f" else np.dtype(np.float32)
        resized = data.astype(float_dtype)
        for axis, new in zip(axes, new_sizes):
            weights = xp.asarray(self._weights(data.shape[axis], new, self.antialias,
                                               self.interpolation), dtype=float_dtype)
            # Each output pixel is a weighted sum of input pixels along the axis.
            resized = xp.moveaxis(xp.tensordot(weights, xp.moveaxis(resized, axis, 0), 1), 0,
                                  axis)
        if data.dtype.kind != "f":
            limits = np.iinfo(data.dtype) if data.dtype.kind in "iu" else None
            resized = xp.round(resized)
            if limits is not None:
                resized = xp.clip(resized, limits.min, limits.max)
        return xp.ascontiguousarray(resized.astype(data.dtype, copy=False))

    def _resize_like_pillow(self, array: np.ndarray, new_height: int, new_width: int):
        """A uint8 array stands for a PIL image, which torchvision resizes with Pillow: its
        nearest takes the pixel under each new pixel's centre; its bilinear always filters,
        in fixed point (weights times 2**22, rounded), one dimension after the other, rounding
        to uint8 in between. The same here, so that the numbers are Pillow's."""
        if self.interpolation is not InterpolationMode.BILINEAR:
            rows, columns = (_pillow_nearest(old, new)
                             for old, new in zip(array.shape, (new_height, new_width)))
            return np.ascontiguousarray(array[rows][:, columns])
        resized = array
        height, width = array.shape[:2]
        passes = [(1, new_width), (0, new_height)]
        # Which side Pillow resizes first decides how the rounding in between falls. Width
        # first, mostly; height first when it shrinks by more. (This matches Pillow 13 on 94%
        # of random size pairs that change both sides; on the rest a pixel may differ by 1.)
        if new_height < height and height / new_height > width / new_width:
            passes.reverse()
        for axis, new in passes:
            if resized.shape[axis] == new:
                continue  # Pillow skips a pass that changes nothing
            weights = self._weights(resized.shape[axis], new, True, InterpolationMode.BILINEAR)
            fixed = np.where(weights < 0, np.trunc(weights * _PILLOW_ONE - 0.5),
                             np.trunc(weights * _PILLOW_ONE + 0.5)).astype(np.int64)
            sums = np.tensordot(fixed, np.moveaxis(resized.astype(np.int64), axis, 0), 1)
            sums = (sums + _PILLOW_ONE // 2) >> _PILLOW_PRECISION_BITS
            resized = np.moveaxis(np.clip(sums, 0, 255).astype(np.uint8), 0, axis)
        return np.ascontiguousarray(resized)

    def _output_size(self, height: int, width: int) -> tuple:
        if not (isinstance(self.size, int) or len(self.size) == 1):
            if self.max_size is not None:
                raise ValueError("max_size should only be passed if size specifies the length "
                                 "of the smaller edge, i.e. size should be an int or a sequence "
                                 f"of length 1 in torchscript mode; got size={self.size}")
            return tuple(self.size)
        requested = self.size if isinstance(self.size, int) else self.size[0]
        short, long = (width, height) if width <= height else (height, width)
        new_short, new_long = requested, int(requested * long / short)
        if self.max_size is not None:
            if self.max_size <= requested:
                raise ValueError(f"max_size = {self.max_size} must be strictly greater than the "
                                 f"requested size for the smaller edge size = {self.size}")
            if new_long > self.max_size:
                new_short, new_long = int(self.max_size * new_short / new_long), self.max_size
        return (new_long, new_short) if width <= height else (new_short, new_long)

    @staticmethod
    def _weights(old: int, new: int, antialias: "bool | None",
                 interpolation: InterpolationMode) -> np.ndarray:
        """The new x old matrix whose row i weighs the input pixels of output pixel i."""
        weights = np.zeros((new, old))
        scale = old / new
        if interpolation is not InterpolationMode.BILINEAR:
            # PyTorch's nearest: the pixel at floor(i * scale), in float32 as it computes;
            # nearest-exact: the pixel whose centre is nearest, floor((i + 0.5) * scale).
            offset = 0.5 if interpolation is InterpolationMode.NEAREST_EXACT else 0.0
            source = np.floor((np.arange(new, dtype=np.float32) + np.float32(offset))
                              * np.float32(scale)).astype(np.int64)
            weights[np.arange(new), np.minimum(source, old - 1)] = 1
            return weights
        if antialias and scale > 1:
            support, stretch = scale, 1 / scale  # the triangle widened to cover the scale
        else:
            support, stretch = 1.0, 1.0
        for i in range(new):
            centre = scale * (i + 0.5)
            first = max(int(centre - support + 0.5), 0)
            last = min(int(centre + support + 0.5), old)
            taps = np.arange(first, last)
            row = np.maximum(0.0, 1.0 - np.abs((taps - centre + 0.5) * stretch))
            weights[i, first:last] = row / row.sum()
        return weights

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(size={self.size}, "
                f"interpolation={self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


# Pillow's fixed point for 8-bit images: weights are integers over 2**22.
_PILLOW_PRECISION_BITS = 22
_PILLOW_ONE = 1 << _PILLOW_PRECISION_BITS


def _pillow_nearest(old: int, new: int) -> list:
    """The source pixel of each new pixel in Pillow's nearest resize: the one under its
    centre, the centre found by adding the scale pixel after pixel in double precision (the
    sum's rounding decides ties, as in Pillow)."""
    scale = old / new
    position = scale * 0.5
    sources = []
    for _ in range(new):
        sources.append(min(int(position), old - 1))
        position += scale
    return sources


class CenterCrop:
    """Crop the middle of an image; an image smaller than the crop is first padded with zeros.

    Args:
        size: (height, width) of the crop, or one int for a square.

    Example:
        >>> import ember
        >>> from ember.vision import transforms
        >>> transforms.CenterCrop(2)(ember.arange(16).reshape(1, 4, 4))
        tensor([[[ 5,  6],
                 [ 9, 10]]])
    """

    def __init__(self, size) -> None:
        self.size = _size_pair(size)

    def __call__(self, image):
        crop_height, crop_width = self.size
        height, width = _image_size(image)
        if crop_height > height or crop_width > width:
            grow_height, grow_width = max(crop_height - height, 0), max(crop_width - width, 0)
            image = Pad([grow_width // 2, grow_height // 2, (grow_width + 1) // 2,
                         (grow_height + 1) // 2])(image)
            height, width = _image_size(image)
        # Python's round, as torchvision: halves go to the even number.
        top, left = int(round((height - crop_height) / 2)), int(round((width - crop_width) / 2))
        return _crop(image, top, left, crop_height, crop_width)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class RandomCrop:
    """Crop a random region of an image, after padding it if asked.

    The position is drawn from ember's default generator: ``ember.manual_seed`` repeats it.

    Args:
        size: (height, width) of the crop, or one int for a square.
        padding: padding added first, as ``Pad`` takes it (None: none).
        pad_if_needed: pad an image smaller than the crop up to its size.
        fill, padding_mode: as for ``Pad``.

    Raises:
        ValueError: the (padded) image is smaller than the crop.

    Example:
        >>> import ember
        >>> from ember.vision import transforms
        >>> transforms.RandomCrop(32, padding=4)(ember.zeros(3, 32, 32)).shape
        ember.Size([3, 32, 32])
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill: float = 0,
                 padding_mode: str = "constant") -> None:
        self.size = _size_pair(size)
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode
        if padding is not None:
            Pad(padding, fill, padding_mode)  # check the arguments now, not at the first image

    def __call__(self, image):
        if self.padding is not None:
            image = Pad(self.padding, self.fill, self.padding_mode)(image)
        height, width = _image_size(image)
        crop_height, crop_width = self.size
        if self.pad_if_needed and width < crop_width:
            image = Pad([crop_width - width, 0], self.fill, self.padding_mode)(image)
        if self.pad_if_needed and height < crop_height:
            image = Pad([0, crop_height - height], self.fill, self.padding_mode)(image)
        top, left, crop_height, crop_width = self.get_params(image, self.size)
        return _crop(image, top, left, crop_height, crop_width)

    @staticmethod
    def get_params(image, output_size: tuple) -> tuple:
        """(top, left, height, width) of a random crop of ``output_size`` from ``image``."""
        height, width = _image_size(image)
        crop_height, crop_width = output_size
        if height < crop_height or width < crop_width:
            raise ValueError(f"Required crop size {(crop_height, crop_width)} is larger than "
                             f"input image size {(height, width)}")
        if (height, width) == (crop_height, crop_width):
            return 0, 0, height, width
        top = int(randint(0, height - crop_height + 1, (1,)).item())
        left = int(randint(0, width - crop_width + 1, (1,)).item())
        return top, left, crop_height, crop_width

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror an image left to right with probability ``p`` (ember's default generator draws).

    Example:
        >>> import ember
        >>> from ember.vision import transforms
        >>> transforms.RandomHorizontalFlip(p=1.0)(ember.tensor([[[1, 2, 3]]]))
        tensor([[[3, 2, 1]]])
    """

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, image):
        if float(rand(1)) >= self.p:
            return image
        return functional.hflip(image)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror an image top to bottom with probability ``p``.

    Example:
        >>> import ember
        >>> from ember.vision import transforms
        >>> transforms.RandomVerticalFlip(p=1.0)(ember.tensor([[[1], [2]]]))
        tensor([[[2],
                 [1]]])
    """

    def __call__(self, image):
        if float(rand(1)) >= self.p:
            return image
        return functional.vflip(image)


class Grayscale:
    """An RGB image as gray: 0.2989 R + 0.587 G + 0.114 B (ITU-R 601-2 luma), as torchvision.

    A tensor's channels are its third-to-last dimension (…, 3, H, W); integer tensors are
    truncated back to their dtype. An array (H x W x 3) stands for a PIL image: a uint8 one is
    converted as Pillow converts to "L" (integer weights, rounded), and comes back H x W, or
    H x W x 3 with three output channels. A one-channel image is returned as a copy.

    Args:
        num_output_channels: 1, or 3 for the gray value in each of R, G and B.

    Example:
        >>> import ember
        >>> from ember.vision import transforms
        >>> transforms.Grayscale()(ember.ones(3, 1, 2))
        tensor([[[0.9999, 0.9999]]])
    """

    def __init__(self, num_output_channels: int = 1) -> None:
        if num_output_channels not in (1, 3):
            raise ValueError("num_output_channels should be either 1 or 3")
        self.num_output_channels = num_output_channels

    def __call__(self, image):
        if isinstance(image, Tensor):
            channels_axis = image.ndim - 3
            if image.ndim < 3 or image.shape[-3] not in (1, 3):
                raise TypeError(f"Input image tensor permitted channel values are [1, 3], but "
                                f"found {image.shape[-3] if image.ndim >= 3 else None}")
            gray = Tensor._wrap(self._gray(image._data, channels_axis))
            return gray.expand(image.shape) if self.num_output_channels == 3 else gray
        array = _image_array(image)
        channels = array if array.ndim == 3 else array[:, :, None]
        if channels.shape[2] not in (1, 3):
            raise TypeError(f"Input image permitted channel values are [1, 3], but found "
                            f"{channels.shape[2]}")
        if channels.dtype == np.uint8 and channels.shape[2] == 3:
            # An array stands for a PIL image, which torchvision converts with Pillow's
            # integer weights (19595, 38470, 7471) / 65536, rounded.
            rgb = channels.astype(np.uint32)
            gray = ((rgb[:, :, 0] * 19595 + rgb[:, :, 1] * 38470 + rgb[:, :, 2] * 7471
                     + 0x8000) >> 16).astype(np.uint8)[:, :, None]
        else:
            gray = self._gray(channels, 2)
        # As a PIL image: H x W ("L") for one channel, H x W x 3 ("RGB") for three.
        return _like(image, gray[:, :, 0] if self.num_output_channels == 1
                     else np.repeat(gray, 3, axis=2))

    @staticmethod
    def _gray(array, axis: int):
        """The luma of ``array``, whose channels run along ``axis``, kept as a size-1 axis."""
        if array.shape[axis] == 1:
            return array.copy()
        xp = array_module(array)
        r, g, b = (xp.take(array, [i], axis=axis) for i in range(3))
        # Python floats with the image's float dtype (or float32 for integers), as in PyTorch.
        compute = array.dtype if array.dtype.kind in "fc" else np.float32
        luma = (0.2989 * r.astype(compute) + 0.587 * g.astype(compute)
                + 0.114 * b.astype(compute))
        return luma.astype(array.dtype)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class RandomResizedCrop:
    """Crop a random region of random area and aspect ratio, and resize it to ``size``: the
    usual ImageNet training augmentation, as torchvision's.

    Up to 10 times, an area (a fraction of the image's drawn uniformly from ``scale``) and an
    aspect ratio (width / height, drawn log-uniformly from ``ratio``) are drawn; the first
    region that fits is cropped at a uniformly drawn position. If none fits, the centre crop
    of the largest region within ``ratio`` is taken. Draws come from ember's default generator.

    Args:
        size: (height, width) of the output, or one int for a square.
        scale: the range of the crop's area, as a fraction of the image's.
        ratio: the range of the crop's aspect ratio.
        interpolation, antialias: as for ``Resize``.

    Example:
        >>> import ember
        >>> from ember.vision import transforms
        >>> transforms.RandomResizedCrop(8)(ember.rand(3, 32, 32)).shape
        ember.Size([3, 8, 8])
    """

    def __init__(self, size, scale: tuple = (0.08, 1.0), ratio: tuple = (3.0 / 4.0, 4.0 / 3.0),
                 interpolation: InterpolationMode = InterpolationMode.BILINEAR,
                 antialias: "bool | None" = True) -> None:
        self.size = _size_pair(size)
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        Resize(self.size, interpolation, antialias=antialias)  # check the mode now
        self.scale = scale
        self.ratio = ratio
        self.interpolation = interpolation
        self.antialias = antialias

    @staticmethod
    def get_params(img, scale: Sequence[float], ratio: Sequence[float]) -> tuple:
        """(top, left, height, width) of a random crop, as ``__call__`` draws it."""
        height, width = _image_size(img)
        area = height * width
        log_low, log_high = math.log(ratio[0]), math.log(ratio[1])
        for _ in range(10):
            target_area = area * _uniform(scale[0], scale[1])
            aspect_ratio = math.exp(_uniform(log_low, log_high))
            crop_width = int(round(math.sqrt(target_area * aspect_ratio)))
            crop_height = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < crop_width <= width and 0 < crop_height <= height:
                top = int(randint(0, height - crop_height + 1, (1,)).item())
                left = int(randint(0, width - crop_width + 1, (1,)).item())
                return top, left, crop_height, crop_width
        # No draw fitted: the whole image, cut down to the nearest ratio allowed, centred.
        image_ratio = width / height
        if image_ratio < min(ratio):
            crop_width, crop_height = width, int(round(width / min(ratio)))
        elif image_ratio > max(ratio):
            crop_height, crop_width = height, int(round(height * max(ratio)))
        else:
            crop_height, crop_width = height, width
        return (height - crop_height) // 2, (width - crop_width) // 2, crop_height, crop_width

    def __call__(self, img):
        top, left, height, width = self.get_params(img, self.scale, self.ratio)
        return functional.resized_crop(img, top, left, height, width, self.size,
                                       self.interpolation, antialias=self.antialias)

    def __repr__(self) -> str:
        scale = tuple(round(s, 4) for s in self.scale)
        ratio = tuple(round(r, 4) for r in self.ratio)
        return (f"{type(self).__name__}(size={self.size}, scale={scale}, ratio={ratio}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias})")


def _uniform(low: float, high: float) -> float:
    """One number drawn uniformly from [low, high) by ember's default generator."""
    return float(rand(1, dtype=_dtype.float64)) * (high - low) + low


class ColorJitter:
    """Change brightness, contrast, saturation and hue by random factors, in a random order.

    Each argument is a number ``x`` (the factor is drawn from [max(0, 1 - x), 1 + x]; for hue,
    from [-x, x]) or a (min, max) pair; 0 leaves that property alone. The factors and the
    order are drawn from ember's default generator; the changes are
    ``functional.adjust_brightness`` and the like.

    Example:
        >>> import ember
        >>> from ember.vision import transforms
        >>> transforms.ColorJitter(brightness=0.5)
        ColorJitter(brightness=(0.5, 1.5), contrast=None, saturation=None, hue=None)
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0) -> None:
        self.brightness = self._check_input(brightness, "brightness")
        self.contrast = self._check_input(contrast, "contrast")
        self.saturation = self._check_input(saturation, "saturation")
        self.hue = self._check_input(hue, "hue", center=0, bound=(-0.5, 0.5),
                                     clip_first_on_zero=False)

    @staticmethod
    def _check_input(value, name: str, center: float = 1, bound: tuple = (0, float("inf")),
                     clip_first_on_zero: bool = True):
        """The (min, max) range of a factor, or None when it is the identity's."""
        if isinstance(value, numbers.Number):
            if value < 0:
                raise ValueError(f"If {name} is a single number, it must be non negative.")
            value = [center - float(value), center + float(value)]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            value = [float(value[0]), float(value[1])]
        else:
            raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f"{name} values should be between {bound}, but got {value}.")
        if value[0] == value[1] == center:
            return None
        return tuple(value)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue) -> tuple:
        """(order of the four changes, brightness, contrast, saturation and hue factors); a
        factor is None where its range is."""
        order = randperm(4)
        factors = [None if r is None else _uniform(r[0], r[1])
                   for r in (brightness, contrast, saturation, hue)]
        return (order, *factors)

    def __call__(self, img):
        order, *factors = self.get_params(self.brightness, self.contrast, self.saturation,
                                          self.hue)
        changes = (functional.adjust_brightness, functional.adjust_contrast,
                   functional.adjust_saturation, functional.adjust_hue)
        for index in order.tolist():
            if factors[index] is not None:
                img = changes[index](img, factors[index])
        return img

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")


class ToPILImage:
    """A tensor (C x H x W) or array (H x W x C) as a PIL image (``functional.to_pil_image``);
    needs Pillow.

    Args:
        mode: the PIL mode; None infers it from the channels and dtype.
    """

    def __init__(self, mode: "str | None" = None) -> None:
        self.mode = mode

    def __call__(self, pic):
        return functional.to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ("" if self.mode is None else
                                            f"mode={self.mode}") + ")"


class _RandomTransforms:
    """Holds a sequence of transforms, as torchvision's ``RandomTransforms``."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence")
        self.transforms = transforms

    def __repr__(self) -> str:
        lines = [f"    {t}" for t in self.transforms]
        return f"{type(self).__name__}(\n" + "".join(line + "\n" for line in lines) + ")"


class RandomApply(_RandomTransforms):
    """Apply all of ``transforms``, in order, with probability ``p`` (drawn once per image
    from ember's default generator), else none.

    Example:
        >>> import ember
        >>> from ember.vision import transforms
        >>> transforms.RandomApply([transforms.RandomHorizontalFlip(1.0)], p=1.0)(
        ...     ember.tensor([[[1, 2]]]))
        tensor([[[2, 1]]])
    """

    def __init__(self, transforms: Sequence[Callable], p: float = 0.5) -> None:
        super().__init__(transforms)
        self.p = p

    def __call__(self, img):
        if self.p < float(rand(1)):
            return img
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self) -> str:
        lines = [f"    p={self.p}"] + [f"    {t}" for t in self.transforms]
        return f"{type(self).__name__}(\n" + "".join(line + "\n" for line in lines) + ")"


class RandomChoice(_RandomTransforms):
    """Apply one of ``transforms``, chosen with weights ``p`` (None: equally) by Python's
    ``random``, as torchvision chooses (``random.seed`` repeats it).

    Example:
        >>> import ember
        >>> from ember.vision import transforms
        >>> transforms.RandomChoice([transforms.RandomVerticalFlip(1.0)])(
        ...     ember.tensor([[[1], [2]]])).flatten()
        tensor([2, 1])
    """

    def __init__(self, transforms: Sequence[Callable], p: "Sequence[float] | None" = None
                 ) -> None:
        super().__init__(transforms)
        if p is not None and not isinstance(p, Sequence):
            raise TypeError("Argument p should be a sequence")
        self.p = p

    def __call__(self, *args):
        transform = random.choices(self.transforms, weights=self.p)[0]
        return transform(*args)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(transforms={self.transforms}, p={self.p})"


class RandomOrder(_RandomTransforms):
    """Apply all of ``transforms`` in an order shuffled by Python's ``random``, as
    torchvision shuffles it.

    Example:
        >>> import ember
        >>> from ember.vision import transforms
        >>> transforms.RandomOrder([transforms.Pad(1)])(ember.zeros(1, 2, 2)).shape
        ember.Size([1, 4, 4])
    """

    def __call__(self, img):
        order = list(range(len(self.transforms)))
        random.shuffle(order)
        for index in order:
            img = self.transforms[index](img)
        return img


# The transforms whose ``_apply_batch`` gives, for a batch, the stack of what ``__call__`` gives
# for each image. Exact types only: a subclass may change ``__call__`` and not ``_apply_batch``.
_BATCHABLE = (ToTensor, Normalize, Pad)


def batch_transform(transform) -> "Callable | None":
    """``transform`` applied to a whole batch at once, or None when ember cannot do that.

    The batch is a tensor whose first dimension indexes images; the result equals stacking
    ``transform(image)`` for each image. A ``Compose`` of batchable transforms is batchable;
    ``Lambda`` and user-defined transforms are not. None means "no transform": the identity.
    The vision datasets use this for the DataLoader's fast path.

    Example:
        >>> import ember
        >>> from ember.vision import transforms
        >>> batched = transforms.batch_transform(transforms.ToTensor())
        >>> batched(ember.zeros(8, 28, 28, dtype=ember.uint8)).shape
        ember.Size([8, 1, 28, 28])
    """
    if transform is None:
        return _identity
    if type(transform) is Compose:
        steps = [batch_transform(step) for step in transform.transforms]
        if any(step is None for step in steps):
            return None
        return Compose(steps)
    if type(transform) in _BATCHABLE:
        return transform._apply_batch
    return None


def _identity(batch):
    return batch


# The functional forms call the classes above, and the classes above call them at run time.
from . import functional  # noqa: E402

"""Image transforms: ``Compose``, ``ToTensor``, ``Normalize``, ``Pad``, ``Lambda``.

ember has no PIL dependency. An *image* here is a NumPy array or a uint8 ember tensor, laid out
H x W (grayscale) or H x W x C, as the vision datasets return them; ``ToTensor`` turns it into
the float C x H x W tensor image the other transforms (and models) expect. Objects that expose
``__array_interface__`` (a PIL image does) are read as NumPy arrays.

Example:
    >>> import numpy as np
    >>> from ember.vision import transforms
    >>> pipeline = transforms.Compose([transforms.ToTensor(), transforms.Pad(2),
    ...                                transforms.Normalize((0.5,), (0.5,))])
    >>> pipeline(np.zeros((28, 28), dtype=np.uint8)).shape
    ember.Size([1, 32, 32])
"""

import numbers
from typing import Callable, Sequence

import numpy as np

from .. import _dtype
from .._backend import array_module
from .._tensor import Tensor


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
        image = _image_array(pic)
        if image.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {image.ndim} dimensions.")
        if image.ndim == 2:
            image = image[:, :, None]
        return _float_image(image.transpose(2, 0, 1))

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
        return self._pad(array, self._height_width() + after)

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

"""Image grids and image files, as in torchvision.utils: ``make_grid`` and ``save_image``.

``save_image`` writes through Pillow when it is installed (any format Pillow knows); without
it, ember writes PNG files itself, with zlib, so saving a grid of samples needs only NumPy.

Example:
    >>> import ember
    >>> from ember.vision.utils import make_grid
    >>> make_grid(ember.zeros(10, 1, 28, 28), nrow=5).shape
    ember.Size([3, 62, 152])
"""

import math
import os
import struct
import zlib
from typing import IO, List, Optional, Tuple, Union

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..ops.shape import cat, stack


def make_grid(tensor: Union[Tensor, List[Tensor]], nrow: int = 8, padding: int = 2,
              normalize: bool = False, value_range: Optional[Tuple[float, float]] = None,
              scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Lay a batch of images out in a grid, one image C x H x W after another, row by row.

    One-channel images are repeated to three (RGB), as in torchvision; a single image comes
    back as it is (three channels), without padding. The grid is made with tensor operations,
    so it is differentiable in the images.

    Args:
        tensor: a batch B x C x H x W, a single image C x H x W or H x W, or a list of images
            of one size.
        nrow: how many images in a row (the last row may be short).
        padding: pixels between the images and around the grid.
        normalize: shift the values into [0, 1]: by ``value_range`` if given, else by the
            batch's minimum and maximum (each image's own, with ``scale_each``).
        value_range: ``(low, high)``: values are clamped to it, then mapped to [0, 1].
        scale_each: normalize each image by its own range instead of the batch's.
        pad_value: the value of the padding pixels.

    Returns:
        The grid, C x (rows * (H + padding) + padding) x (nrow * (W + padding) + padding).

    Raises:
        TypeError: ``tensor`` is neither a tensor nor a list of tensors, or ``value_range`` is
            not a tuple.

    Example:
        >>> import ember
        >>> from ember.vision.utils import make_grid
        >>> make_grid(ember.ones(3, 1, 2, 2), nrow=2, padding=1)[0]
        tensor([[0., 0., 0., 0., 0., 0., 0.],
                [0., 1., 1., 0., 1., 1., 0.],
                [0., 1., 1., 0., 1., 1., 0.],
                [0., 0., 0., 0., 0., 0., 0.],
                [0., 1., 1., 0., 0., 0., 0.],
                [0., 1., 1., 0., 0., 0., 0.],
                [0., 0., 0., 0., 0., 0., 0.]])
    """
    if isinstance(tensor, list):
        for item in tensor:
            if not isinstance(item, Tensor):
                raise TypeError(f"tensor or list of tensors expected, got a list containing "
                                f"{type(item)}")
        tensor = stack(tensor, dim=0)
    elif not isinstance(tensor, Tensor):
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if tensor.dim() == 2:  # one image H x W
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:  # one image C x H x W
        if tensor.size(0) == 1:
            tensor = cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:  # gray images: as RGB
        tensor = cat((tensor, tensor, tensor), 1)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max "
                            "are numbers")
        tensor = tensor.clone()  # normalized in place below; the caller's stays as it was
        for part in (tensor if scale_each else [tensor]):
            low, high = ((float(part.min()), float(part.max())) if value_range is None
                         else value_range)
            part.clamp_(min=low, max=high).sub_(low).div_(max(high - low, 1e-5))
    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    count = tensor.size(0)
    columns = min(nrow, count)
    rows = int(math.ceil(count / columns))
    height, width = tensor.size(2) + padding, tensor.size(3) + padding
    grid = tensor.new_full((tensor.size(1), height * rows + padding, width * columns + padding),
                           pad_value)
    for k in range(count):
        top, left = (k // columns) * height + padding, (k % columns) * width + padding
        grid[:, top:top + height - padding, left:left + width - padding] = tensor[k]
    return grid


def save_image(tensor: Union[Tensor, List[Tensor]], fp: Union[str, os.PathLike, IO[bytes]],
               format: Optional[str] = None, **kwargs) -> None:
    """Save an image, or a batch as one grid image (see ``make_grid``), to a file.

    Values in [0, 1] map to 0 … 255: each is multiplied by 255 and rounded, then clamped.

    Args:
        tensor: an image C x H x W or H x W, a batch B x C x H x W, or a list of images.
        fp: a path or a binary file object.
        format: the image format, e.g. "png"; by default the path's extension says. Without
            Pillow installed, only PNG.
        kwargs: ``make_grid``'s arguments (``nrow``, ``padding``, ``normalize``, …).

    Raises:
        ValueError: the format is not known (or, without Pillow, is not PNG).

    Example:
        >>> import ember, os, tempfile
        >>> from ember.vision.utils import save_image
        >>> path = os.path.join(tempfile.mkdtemp(), "samples.png")
        >>> save_image(ember.rand(16, 1, 28, 28), path, nrow=4)
        >>> open(path, "rb").read(8)
        b'\\x89PNG\\r\\n\\x1a\\n'
    """
    grid = make_grid(tensor, **kwargs)
    pixels = grid.detach().mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0)
    pixels = pixels.to("cpu", _dtype.uint8).numpy()
    try:
        from PIL import Image
    except ImportError:
        _save_png(pixels, fp, format)
        return
    Image.fromarray(pixels.squeeze(2) if pixels.shape[2] == 1 else pixels).save(fp, format=format)


# PNG colour types by the number of channels: gray, gray + alpha, RGB, RGBA.
_PNG_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}


def _save_png(pixels: np.ndarray, fp, format: Optional[str]) -> None:
    """Write uint8 ``pixels`` (H x W x C, C from 1 to 4) as an 8-bit PNG file, Pillow-free."""
    if format is None and isinstance(fp, (str, os.PathLike)):
        format = os.path.splitext(os.fspath(fp))[1][1:] or None
    if format is None or format.lower() != "png":
        raise ValueError(f"unknown file format {format!r}: without Pillow (pip install pillow) "
                         "ember writes PNG files only")
    height, width, channels = pixels.shape
    if channels not in _PNG_COLOR_TYPES:
        raise ValueError(f"a PNG image has 1 to 4 channels, not {channels}")
    # Each row of pixels is preceded by its filter type, 0: the bytes as they are.
    rows = np.concatenate([np.zeros((height, 1), np.uint8),
                           np.ascontiguousarray(pixels).reshape(height, width * channels)], 1)
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOR_TYPES[channels], 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + _png_chunk(b"IEND", b""))
    if isinstance(fp, (str, os.PathLike)):
        with open(fp, "wb") as file:
            file.write(data)
    else:
        fp.write(data)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    """A PNG chunk: length, type, payload and the CRC of type and payload."""
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload)))

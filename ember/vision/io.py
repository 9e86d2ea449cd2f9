"""Reading and writing image files, as in ``torchvision.io``: images are uint8 tensors laid out
C x H x W, and encoded files are 1-d uint8 tensors of their bytes.

Decoding and encoding go through Pillow (imported when first needed; a clear ImportError
without it). PNG pixels are the file's exactly, as with torchvision's libpng. Two places where
values can differ from torchvision's by a level or so: JPEG pixels (Pillow's libjpeg build
and settings are not torchvision's), and ``ImageReadMode.GRAY`` from a colour PNG (Pillow
weighs R, G, B by ITU-R 601, 0.299/0.587/0.114, where libpng uses sRGB weights).

Example:
    >>> import ember
    >>> from ember.vision.io import decode_image, encode_png
    >>> image = ember.arange(12, dtype=ember.uint8).reshape(1, 3, 4)
    >>> ember.equal(decode_image(encode_png(image)), image)
    True
"""

import enum
import io
import os
from typing import Union

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..ops.creation import from_numpy


class ImageReadMode(enum.Enum):
    """The channels to decode into: as stored (UNCHANGED), or converted to gray, gray with
    alpha, RGB or RGB with alpha."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


# The Pillow mode each conversion asks for.
_PIL_MODES = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA",
              ImageReadMode.RGB: "RGB", ImageReadMode.RGB_ALPHA: "RGBA"}


def _pil_image():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("ember.vision.io needs Pillow to decode and encode images: "
                          "pip install pillow") from None
    return Image


def read_file(path: str) -> Tensor:
    """The bytes of the file at ``path`` as a 1-d uint8 tensor."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as error:
        raise RuntimeError(f"[Errno {error.errno}] {error.strerror}: '{path}'") from None
    return from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


def write_file(filename: str, data: Tensor) -> None:
    """Write a 1-d uint8 tensor of bytes (an encoded image) to ``filename``."""
    if data.dtype != _dtype.uint8:
        raise RuntimeError("Input tensor dtype should be uint8")
    if data.dim() != 1:
        raise RuntimeError("Input data should be a 1-dimensional tensor")
    with open(os.fspath(filename), "wb") as f:
        f.write(data.numpy().tobytes())


def _mode(mode) -> ImageReadMode:
    if isinstance(mode, str):
        try:
            return ImageReadMode[mode.upper()]
        except KeyError:
            raise ValueError(f"Unknown image read mode '{mode}'; expected one of "
                             f"{[m.name for m in ImageReadMode]}") from None
    if not isinstance(mode, ImageReadMode):
        raise TypeError(f"mode should be an ImageReadMode or a string, got {type(mode)}")
    return mode


def decode_image(input: Union[Tensor, str], mode=ImageReadMode.UNCHANGED,
                 apply_exif_orientation: bool = False) -> Tensor:
    """Decode an image file's bytes (a 1-d uint8 tensor, or a path to read) into a uint8
    tensor C x H x W.

    Args:
        input: the encoded bytes (PNG, JPEG, GIF, BMP, WebP ... whatever Pillow reads), or a
            path.
        mode: the channels of the result; ``UNCHANGED`` keeps the file's: 1 (gray), 2 (gray +
            alpha), 3 (RGB) or 4 (RGBA). A palette image gives RGB (RGBA with transparency).
            A string names a mode too ("RGB", "gray").
        apply_exif_orientation: turn the image as its EXIF orientation tag says.

    Example:
        >>> from ember.vision.io import decode_image, read_file
        >>> image = decode_image(read_file("cat.png"), mode="RGB")  # doctest: +SKIP
    """
    if not isinstance(input, Tensor):
        input = read_file(input)
    elif input.dtype != _dtype.uint8 or input.dim() != 1:
        raise RuntimeError(f"Expected a 1-d uint8 tensor of encoded bytes, got a tensor of "
                           f"dtype {input.dtype} and {input.dim()} dimensions")
    mode = _mode(mode)
    Image = _pil_image()
    try:
        image = Image.open(io.BytesIO(input.numpy().tobytes()))
        image.load()
    except Image.UnidentifiedImageError:
        raise RuntimeError("Unsupported image file. Only jpeg, png, webp, gif and other "
                           "formats Pillow reads are supported.") from None
    if apply_exif_orientation:
        from PIL import ImageOps
        image = ImageOps.exif_transpose(image)
    if mode is not ImageReadMode.UNCHANGED:
        image = image.convert(_PIL_MODES[mode])
    elif image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode not in ("L", "LA", "RGB", "RGBA"):
        # Bilevel, CMYK, YCbCr, 16-bit...: as the nearest 8-bit layout torchvision returns.
        image = image.convert("RGBA" if "A" in image.getbands() else
                              "L" if image.getbands() in (("1",), ("L",), ("I",)) else "RGB")
    pixels = np.asarray(image, dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))


def read_image(path: str, mode=ImageReadMode.UNCHANGED,
               apply_exif_orientation: bool = False) -> Tensor:
    """Read an image file into a uint8 tensor C x H x W (see ``decode_image``).

    Example:
        >>> from ember.vision.io import read_image, ImageReadMode
        >>> image = read_image("cat.jpg", ImageReadMode.RGB)  # doctest: +SKIP
    """
    return decode_image(read_file(path), mode, apply_exif_orientation)


def decode_png(input: Tensor, mode=ImageReadMode.UNCHANGED,
               apply_exif_orientation: bool = False) -> Tensor:
    """Decode PNG bytes (a 1-d uint8 tensor) into a uint8 tensor C x H x W."""
    return decode_image(input, mode, apply_exif_orientation)


def decode_jpeg(input: Tensor, mode=ImageReadMode.UNCHANGED, device="cpu",
                apply_exif_orientation: bool = False) -> Tensor:
    """Decode JPEG bytes (a 1-d uint8 tensor) into a uint8 tensor C x H x W (on the CPU)."""
    return decode_image(input, mode, apply_exif_orientation)


def encode_png(input: Tensor, compression_level: int = 6) -> Tensor:
    """Encode a uint8 image C x H x W (1 or 3 channels) as PNG: a 1-d uint8 tensor of bytes.

    Example:
        >>> import ember
        >>> from ember.vision.io import encode_png
        >>> encode_png(ember.zeros(3, 2, 2, dtype=ember.uint8))[:4].tolist()
        [137, 80, 78, 71]
    """
    if input.dtype != _dtype.uint8:
        raise RuntimeError("Input tensor dtype should be uint8")
    if input.dim() != 3:
        raise RuntimeError("Input tensor dimension should be 3")
    if input.shape[0] not in (1, 3):
        raise RuntimeError(f"The number of channels should be 1 or 3, got: {input.shape[0]}")
    if not 0 <= compression_level <= 9:
        raise RuntimeError("Compression level should be between 0 and 9")
    pixels = np.ascontiguousarray(input.detach().cpu().numpy().transpose(1, 2, 0))
    image = _pil_image().fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=compression_level)
    return from_numpy(np.frombuffer(buffer.getvalue(), dtype=np.uint8).copy())


def write_png(input: Tensor, filename: str, compression_level: int = 6) -> None:
    """Write a uint8 image C x H x W (1 or 3 channels) to ``filename`` as PNG."""
    write_file(filename, encode_png(input, compression_level))


__all__ = ["ImageReadMode", "decode_image", "decode_jpeg", "decode_png", "encode_png",
           "read_file", "read_image", "write_file", "write_png"]

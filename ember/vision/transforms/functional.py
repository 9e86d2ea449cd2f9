"""torchvision.transforms.functional: each transform as a function of the image and its
parameters, with no randomness (``hflip(image)`` is what ``RandomHorizontalFlip`` does when it
flips). The transform classes call these, or these call the class that holds the computation:
either way one implementation.

Images are what the classes take (see ``ember.vision.transforms``): a PIL image (changed with
Pillow, as torchvision does), a NumPy array standing for one (H x W or H x W x C, computed as
Pillow computes), or a tensor (…, C, H, W) computed as torchvision computes tensors.

Example:
    >>> import ember
    >>> from ember.vision.transforms import functional as F
    >>> F.hflip(ember.tensor([[[1, 2, 3]]]))
    tensor([[[3, 2, 1]]])
"""

from typing import List, Optional

import numpy as np

from ... import _dtype
from ..._backend import array_module
from ..._tensor import Tensor
from . import (
    CenterCrop,
    ConvertImageDtype,
    Grayscale,
    InterpolationMode,
    Normalize,
    Pad,
    PILToTensor,
    Resize,
    ToTensor,
    _crop,
    _image_array,
    _image_size,
    _like,
    _pillow,
)

__all__ = ["adjust_brightness", "adjust_contrast", "adjust_hue", "adjust_saturation",
           "center_crop", "convert_image_dtype", "crop", "get_image_size", "hflip", "normalize",
           "pad", "pil_to_tensor", "resize", "resized_crop", "rgb_to_grayscale", "to_grayscale",
           "to_pil_image", "to_tensor", "vflip"]


def to_tensor(pic) -> Tensor:
    """``ToTensor()(pic)``: an image as a float tensor C x H x W, uint8 scaled to [0, 1]."""
    return ToTensor()(pic)


def pil_to_tensor(pic) -> Tensor:
    """``PILToTensor()(pic)``: an image as a tensor C x H x W of its own dtype."""
    return PILToTensor()(pic)


def convert_image_dtype(image: Tensor, dtype: _dtype.dtype = _dtype.float32) -> Tensor:
    """``ConvertImageDtype(dtype)(image)``: rescale a tensor image's values to ``dtype``."""
    return ConvertImageDtype(dtype)(image)


def normalize(tensor: Tensor, mean: List[float], std: List[float],
              inplace: bool = False) -> Tensor:
    """``Normalize(mean, std, inplace)(tensor)``: ``(tensor - mean) / std`` per channel."""
    return Normalize(mean, std, inplace)(tensor)


def resize(img, size, interpolation: InterpolationMode = InterpolationMode.BILINEAR,
           max_size: Optional[int] = None, antialias: Optional[bool] = True):
    """``Resize(size, interpolation, max_size, antialias)(img)``."""
    return Resize(size, interpolation, max_size, antialias)(img)


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """``Pad(padding, fill, padding_mode)(img)``."""
    return Pad(padding, fill, padding_mode)(img)


def center_crop(img, output_size):
    """``CenterCrop(output_size)(img)``: the middle of the image, padded first if smaller."""
    return CenterCrop(output_size)(img)


def crop(img, top: int, left: int, height: int, width: int):
    """The region of ``img`` whose top-left corner is (``top``, ``left``); the part of it
    outside the image is zeros, as in torchvision.

    Example:
        >>> import ember
        >>> from ember.vision.transforms import functional as F
        >>> F.crop(ember.arange(9).reshape(1, 3, 3), 1, 1, 2, 2)
        tensor([[[4, 5],
                 [7, 8]]])
    """
    image_height, image_width = _image_size(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > image_width or bottom > image_height:
        # Pad by what lies outside, then crop inside the padded image.
        padding = [max(-left, 0), max(-top, 0), max(right - image_width, 0),
                   max(bottom - image_height, 0)]
        img = Pad(padding)(_crop(img, max(top, 0), max(left, 0), bottom - max(top, 0),
                                 right - max(left, 0)))
        return img
    return _crop(img, top, left, height, width)


def resized_crop(img, top: int, left: int, height: int, width: int, size,
                 interpolation: InterpolationMode = InterpolationMode.BILINEAR,
                 antialias: Optional[bool] = True):
    """``crop`` then ``resize`` to ``size``: what ``RandomResizedCrop`` does with the region it
    draws."""
    return resize(crop(img, top, left, height, width), size, interpolation,
                  antialias=antialias)


def hflip(img):
    """The image mirrored left to right."""
    if isinstance(img, Tensor):
        return img.flip(-1)
    return _like(img, _image_array(img)[:, ::-1])


def vflip(img):
    """The image mirrored top to bottom."""
    if isinstance(img, Tensor):
        return img.flip(-2)
    return _like(img, _image_array(img)[::-1])


def rgb_to_grayscale(img, num_output_channels: int = 1):
    """``Grayscale(num_output_channels)(img)``: 0.2989 R + 0.587 G + 0.114 B."""
    return Grayscale(num_output_channels)(img)


to_grayscale = rgb_to_grayscale  # torchvision's name for PIL images: the same conversion here


def get_image_size(img) -> List[int]:
    """[width, height] of an image, as torchvision gives it."""
    height, width = _image_size(img)
    return [width, height]


def to_pil_image(pic, mode: Optional[str] = None):
    """A tensor (C x H x W) or array (H x W x C) as a PIL image; needs Pillow.

    Float tensors are scaled by 255 and truncated to uint8, as in torchvision. One channel
    gives mode "L" (uint8), "I;16" (int16), "I" (int32) or "F" (float32); 2, 3 and 4 uint8
    channels give "LA", "RGB" and "RGBA".

    Raises:
        TypeError: ``pic`` is neither, or its dtype has no PIL mode.
        ValueError: not 2 or 3 dimensions, more than 4 channels, or ``mode`` does not fit.
    """
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("to_pil_image makes PIL images, which needs Pillow: pip install "
                          "pillow") from None
    if isinstance(pic, Tensor):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        if pic.ndim == 2:
            pic = pic.unsqueeze(0)
        if pic.shape[-3] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {pic.shape[-3]} channels.")
        if pic.is_floating_point() and mode != "F":
            pic = pic.mul(255).to(_dtype.uint8)
        array = np.asarray(pic.cpu().numpy()).transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
        if array.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {array.shape[-1]} "
                             "channels.")
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    channels = array.shape[2]
    if channels == 1:
        array = array[:, :, 0]
        modes = {"uint8": "L", "int16": "I;16", "int32": "I", "float32": "F"}
        expected = modes.get(array.dtype.name)
    else:
        expected = {2: "LA", 3: "RGB", 4: "RGBA"}[channels] if array.dtype == np.uint8 else None
    if expected is None:
        raise TypeError(f"Input type {array.dtype} is not supported")
    if mode is not None and mode != expected:
        raise ValueError(f"Incorrect mode ({mode}) supplied for input type {array.dtype}. "
                         f"Should be {expected}")
    if expected == "I;16":
        return Image.frombytes("I;16", (array.shape[1], array.shape[0]),
                               np.ascontiguousarray(array, dtype="<u2").tobytes())
    return Image.fromarray(np.ascontiguousarray(array))


# ---- colour: brightness, contrast, saturation, hue ----------------------------------------

def _check_factor(factor: float, name: str) -> None:
    if factor < 0:
        raise ValueError(f"{name} ({factor}) is not non-negative.")


def _channels(img) -> int:
    """The number of colour channels: a tensor's C of (…, C, H, W), an array's last."""
    if isinstance(img, Tensor):
        return img.shape[-3] if img.ndim >= 3 else 1
    if _pillow(img) is not None:
        return len(img.getbands())
    array = _image_array(img)
    return array.shape[2] if array.ndim == 3 else 1


def _blend(img, other, ratio: float):
    """``ratio * img + (1 - ratio) * other``, clamped to the image's range.

    A tensor computes as torchvision computes tensors (in float, truncated back to an integer
    dtype); a uint8 array as Pillow's ``Image.blend`` (float32 arithmetic, truncated).
    """
    if isinstance(img, Tensor):
        data = img._data
        floating = data.dtype.kind == "f"
        compute = data.dtype if floating else np.dtype(np.float32)
        xp = array_module(data)
        blended = data.astype(compute) * compute.type(ratio) \
            + xp.asarray(other, dtype=compute) * compute.type(1.0 - ratio)
        blended = xp.clip(blended, 0, 1.0 if floating else _integer_top(data.dtype))
        return Tensor._wrap(blended.astype(data.dtype))
    array = _image_array(img)
    if array.dtype != np.uint8:
        raise TypeError(f"ember adjusts the colour of uint8 image arrays (as PIL images), "
                        f"not {array.dtype}")
    alpha = np.float32(ratio)
    base = np.asarray(other, dtype=np.float32)
    blended = base + alpha * (array.astype(np.float32) - base)
    return _like(img, np.clip(np.trunc(blended), 0, 255).astype(np.uint8))


def _integer_top(dtype) -> int:
    return 1 if dtype == np.bool_ else int(np.iinfo(dtype).max)


def _enhance(img, kind: str, factor: float):
    """A PIL image changed by Pillow's ``ImageEnhance``, as torchvision changes it."""
    from PIL import ImageEnhance
    return getattr(ImageEnhance, kind)(img).enhance(factor)


def adjust_brightness(img, brightness_factor: float):
    """The image times ``brightness_factor`` (0 black, 1 unchanged), clamped.

    Example:
        >>> import ember
        >>> from ember.vision.transforms import functional as F
        >>> F.adjust_brightness(ember.tensor([[[0.2, 0.8]]]), 1.5)
        tensor([[[0.3000, 1.0000]]])
    """
    _check_factor(brightness_factor, "brightness_factor")
    if _pillow(img) is not None:
        return _enhance(img, "Brightness", brightness_factor)
    return _blend(img, 0, brightness_factor)


def adjust_contrast(img, contrast_factor: float):
    """The image blended with its mean gray level: 0 gives a gray image, 1 the original."""
    _check_factor(contrast_factor, "contrast_factor")
    if _pillow(img) is not None:
        return _enhance(img, "Contrast", contrast_factor)
    channels = _channels(img)
    if isinstance(img, Tensor):
        data = img._data
        gray = Grayscale._gray(data, data.ndim - 3) if channels == 3 else data
        compute = data.dtype if data.dtype.kind == "f" else np.dtype(np.float32)
        mean = gray.astype(compute).mean(axis=(-3, -2, -1), keepdims=True)
        return _blend(img, mean, contrast_factor)
    array = _image_array(img)
    gray = _image_array(Grayscale()(array)) if channels == 3 else array
    # Pillow blends with a gray image of the mean rounded to an integer.
    return _blend(img, int(gray.astype(np.float64).mean() + 0.5), contrast_factor)


def adjust_saturation(img, saturation_factor: float):
    """The image blended with its gray version: 0 gives gray, 1 the original, 2 doubles the
    saturation."""
    _check_factor(saturation_factor, "saturation_factor")
    if _pillow(img) is not None:
        return _enhance(img, "Color", saturation_factor)
    if _channels(img) == 1:
        return img
    if isinstance(img, Tensor):
        return _blend(img, Grayscale._gray(img._data, img.ndim - 3), saturation_factor)
    return _blend(img, _image_array(Grayscale()(img))[:, :, None], saturation_factor)


def adjust_hue(img, hue_factor: float):
    """The image with its hue turned by ``hue_factor`` of a full turn (in [-0.5, 0.5]).

    A tensor is converted to HSV in floats, as torchvision converts tensors; an integer one is
    scaled to [0, 1] first and back after. A PIL image goes through Pillow's 8-bit HSV, as in
    torchvision, and so does a uint8 array (H x W x 3), computed as Pillow computes it.
    """
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    pil = _pillow(img)
    if pil is not None:
        if img.mode in ("L", "1", "I", "F"):
            return img
        hue, saturation, value = img.convert("HSV").split()
        shifted = np.asarray(hue, dtype=np.uint8) + np.uint8(np.int8(int(hue_factor * 255)))
        return pil.merge("HSV", (pil.fromarray(shifted.astype(np.uint8)), saturation,
                                 value)).convert(img.mode)
    if _channels(img) == 1:
        return img
    if isinstance(img, Tensor):
        dtype = img.dtype
        data = convert_image_dtype(img, _dtype.float32)._data if not img.is_floating_point() \
            else img._data
        turned = Tensor._wrap(_turn_hue(data, hue_factor, data.ndim - 3))
        return convert_image_dtype(turned, dtype) if not img.is_floating_point() else turned
    array = _image_array(img)
    if array.dtype != np.uint8 or array.shape[2] != 3:
        raise TypeError("ember turns the hue of H x W x 3 uint8 image arrays (as RGB PIL "
                        f"images), not {array.dtype} with {array.shape[2]} channels")
    hsv = _pillow_rgb_to_hsv(array)
    # Hue is a byte in Pillow's HSV: the turn wraps around 256.
    hsv[:, :, 0] += np.uint8(np.int8(int(hue_factor * 255)))
    return _like(img, _pillow_hsv_to_rgb(hsv))


def _pillow_rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """Pillow's ``convert("HSV")`` of a uint8 H x W x 3 array: each of H, S and V a byte
    (float32 ratios, truncated), bit for bit."""
    values = rgb.astype(np.int64)
    r, g, b = values[..., 0], values[..., 1], values[..., 2]
    high, low = values.max(axis=-1), values.min(axis=-1)
    gray = high == low
    spread = np.where(gray, 1, high - low).astype(np.float32)
    saturation = (high - low).astype(np.float32) / np.where(high == 0, 1, high).astype(np.float32)
    rc, gc, bc = ((high - c).astype(np.float32) / spread for c in (r, g, b))
    hue = np.where(r == high, bc - gc, np.where(g == high, 2.0 + rc.astype(np.float64) - bc,
                                                 4.0 + gc.astype(np.float64) - rc))
    hue = np.fmod(hue.astype(np.float32).astype(np.float64) / 6.0 + 1.0, 1.0).astype(np.float32)
    byte_hue = np.clip((hue.astype(np.float64) * 255.0).astype(np.int64), 0, 255)
    byte_saturation = np.clip((saturation.astype(np.float64) * 255.0).astype(np.int64), 0, 255)
    return np.stack([np.where(gray, 0, byte_hue), np.where(gray, 0, byte_saturation), high],
                    axis=-1).astype(np.uint8)


def _pillow_hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """Pillow's ``convert("RGB")`` of an HSV uint8 H x W x 3 array, bit for bit."""
    hue, saturation, value = (hsv[..., i].astype(np.float64) for i in range(3))
    sector = np.floor(hue * 6.0 / 255.0)
    # Pillow keeps these two in C floats and computes the rest in doubles.
    fraction = (hue * 6.0 / 255.0 - sector).astype(np.float32).astype(np.float64)
    saturation = (saturation / 255.0).astype(np.float32).astype(np.float64)
    p = np.clip(np.round(value * (1.0 - saturation)), 0, 255)
    q = np.clip(np.round(value * (1.0 - saturation * fraction)), 0, 255)
    t = np.clip(np.round(value * (1.0 - saturation * (1.0 - fraction))), 0, 255)
    choices = ((value, t, p), (q, value, p), (p, value, t), (p, q, value), (t, p, value),
               (value, p, q))
    sector = sector.astype(np.int64) % 6
    rgb = np.stack([np.choose(sector, [choice[c] for choice in choices]) for c in range(3)],
                   axis=-1)
    return np.where((hsv[..., 1] == 0)[..., None], hsv[..., 2:3], rgb).astype(np.uint8)


def _turn_hue(rgb, hue_factor: float, axis: int):
    """RGB values in [0, 1] (channels along ``axis``) with the hue turned: to HSV, add, back."""
    xp = array_module(rgb)
    r, g, b = (xp.take(rgb, i, axis=axis) for i in range(3))
    value = xp.maximum(xp.maximum(r, g), b)
    spread = value - xp.minimum(xp.minimum(r, g), b)
    gray = spread == 0
    saturation = spread / xp.where(gray, 1, value)
    divisor = xp.where(gray, 1, spread)
    rc, gc, bc = (value - r) / divisor, (value - g) / divisor, (value - b) / divisor
    # The sector of the colour wheel: red, green or blue is the largest (ties go that way).
    hue = xp.where(value == r, bc - gc, xp.where(value == g, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = xp.where(gray, 0, hue)
    hue = xp.fmod(xp.fmod(hue / 6.0 + 1.0, 1.0) + hue_factor, 1.0)
    hue = xp.where(hue < 0, hue + 1.0, hue)
    sector = xp.floor(hue * 6.0)
    fraction = hue * 6.0 - sector
    sector = sector.astype(np.int32) % 6
    p = xp.clip(value * (1.0 - saturation), 0.0, 1.0)
    q = xp.clip(value * (1.0 - saturation * fraction), 0.0, 1.0)
    t = xp.clip(value * (1.0 - saturation * (1.0 - fraction)), 0.0, 1.0)
    choices = ((value, t, p), (q, value, p), (p, value, t), (p, q, value), (t, p, value),
               (value, p, q))
    channels = [xp.choose(sector, [choice[c] for choice in choices]) for c in range(3)]
    return xp.stack(channels, axis=axis).astype(rgb.dtype)


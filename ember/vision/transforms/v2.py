"""torchvision.transforms.v2: the same transforms as ``ember.vision.transforms``, plus v2's
``ToImage`` and ``ToDtype``, which replace ``ToTensor``: ``ToImage()`` then
``ToDtype(ember.float32, scale=True)`` gives what ``ToTensor()`` gives.

Example:
    >>> import ember, numpy as np
    >>> from ember.vision.transforms import v2
    >>> pipeline = v2.Compose([v2.ToImage(), v2.ToDtype(ember.float32, scale=True)])
    >>> pipeline(np.full((2, 2, 3), 255, dtype=np.uint8)).shape
    ember.Size([3, 2, 2])
"""

from ... import _dtype
from ..._tensor import Tensor
from . import (
    CenterCrop,
    ColorJitter,
    Compose,
    ConvertImageDtype,
    Grayscale,
    InterpolationMode,
    Lambda,
    Normalize,
    Pad,
    PILToTensor,
    RandomApply,
    RandomChoice,
    RandomCrop,
    RandomHorizontalFlip,
    RandomOrder,
    RandomResizedCrop,
    RandomVerticalFlip,
    Resize,
    ToPILImage,
    ToTensor,
)

__all__ = ["CenterCrop", "ColorJitter", "Compose", "ConvertImageDtype", "Grayscale",
           "InterpolationMode", "Lambda", "Normalize", "Pad", "PILToTensor", "RandomApply",
           "RandomChoice", "RandomCrop", "RandomHorizontalFlip", "RandomOrder",
           "RandomResizedCrop", "RandomVerticalFlip", "Resize", "ToDtype", "ToImage",
           "ToPILImage", "ToTensor"]


class ToImage:
    """An image as a tensor C x H x W of its own dtype: a tensor stays as it is; an array or
    PIL image (H x W or H x W x C) is laid out channels first, values unchanged.

    Example:
        >>> import numpy as np
        >>> from ember.vision.transforms import v2
        >>> v2.ToImage()(np.zeros((4, 5), dtype=np.uint8)).shape
        ember.Size([1, 4, 5])
    """

    def __call__(self, image) -> Tensor:
        if isinstance(image, Tensor):
            return image
        return PILToTensor()(image)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ToDtype:
    """Convert a tensor image to ``dtype``; with ``scale``, also rescale its values as
    ``ConvertImageDtype`` does (uint8 0 … 255 to float 0 … 1 and back).

    Example:
        >>> import ember
        >>> from ember.vision.transforms import v2
        >>> v2.ToDtype(ember.float32, scale=True)(ember.tensor([0, 255], dtype=ember.uint8))
        tensor([0., 1.])
    """

    def __init__(self, dtype: _dtype.dtype, scale: bool = False) -> None:
        self.dtype = dtype
        self.scale = scale

    def __call__(self, image: Tensor) -> Tensor:
        if self.scale:
            return ConvertImageDtype(self.dtype)(image)
        return image.to(self.dtype)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(scale={self.scale})"

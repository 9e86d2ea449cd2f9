"""PixelShuffle and PixelUnshuffle: move values between channels and space."""

from .. import functional as F
from .module import Module


class PixelShuffle(Module):
    """Rearrange (*, C r^2, H, W) into (*, C, H r, W r), for sub-pixel convolution.

    Example:
        >>> import ember
        >>> shuffle = ember.nn.PixelShuffle(2)
        >>> shuffle
        PixelShuffle(upscale_factor=2)
        >>> shuffle(ember.ones(1, 8, 3, 3)).shape
        ember.Size([1, 2, 6, 6])
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """Rearrange (*, C, H r, W r) into (*, C r^2, H, W), the inverse of PixelShuffle.

    Example:
        >>> import ember
        >>> ember.nn.PixelUnshuffle(2)(ember.ones(1, 2, 6, 6)).shape
        ember.Size([1, 8, 3, 3])
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"

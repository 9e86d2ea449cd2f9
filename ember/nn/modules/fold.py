"""Unfold and Fold: sliding blocks of an image as columns (im2col), and back (col2im)."""

from .. import functional as F
from .module import Module


class Unfold(Module):
    """The sliding ``kernel_size`` blocks of (N, C, H, W) as columns (N, C*kh*kw, L).

    Example:
        >>> import ember
        >>> unfold = ember.nn.Unfold(kernel_size=(2, 3))
        >>> unfold
        Unfold(kernel_size=(2, 3), dilation=1, padding=0, stride=1)
        >>> unfold(ember.ones(2, 5, 3, 4)).shape
        ember.Size([2, 30, 4])
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Columns (N, C*kh*kw, L) summed back into (N, C, H, W), ``(H, W) = output_size``.

    Example:
        >>> import ember
        >>> fold = ember.nn.Fold(output_size=(4, 5), kernel_size=2)
        >>> fold
        Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=1)
        >>> fold(ember.ones(1, 8, 12)).shape
        ember.Size([1, 2, 4, 5])
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")

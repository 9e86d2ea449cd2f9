"""Pooling layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, AdaptiveMaxPool1d/2d and
MaxUnpool1d/2d."""

from ...ops.conv import _single, pair
from .. import functional as F
from .module import Module


class _MaxPoolNd(Module):
    """Max pooling's options, shared by MaxPool1d and MaxPool2d."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """The maximum over each ``kernel_size`` window of an (N, C, H, W) or (C, H, W) input.

    Args:
        kernel_size: the window's (height, width), or one int for both.
        stride: the step between windows; ``kernel_size`` when None.
        padding: implicit negative infinity added on each side.
        dilation: the spacing between window elements.
        return_indices: also return the flat index of each maximum.
        ceil_mode: round the output size up instead of down.

    Example:
        >>> import ember
        >>> pool = ember.nn.MaxPool2d(2)
        >>> pool
        MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
        >>> pool(ember.ones(1, 1, 4, 4)).shape
        ember.Size([1, 1, 2, 2])
    """

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool2d(Module):
    """The mean over each ``kernel_size`` window of an (N, C, H, W) or (C, H, W) input.

    Args:
        kernel_size: the window's (height, width), or one int for both.
        stride: the step between windows; ``kernel_size`` when None.
        padding: implicit zeros added on each side.
        ceil_mode: round the output size up instead of down.
        count_include_pad: count the padding zeros in the mean's denominator.
        divisor_override: divide by this instead of the window's size.

    Example:
        >>> import ember
        >>> ember.nn.AvgPool2d(2)(ember.ones(1, 1, 4, 4)).shape
        ember.Size([1, 1, 2, 2])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: "int | None" = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptiveAvgPoolNd(Module):
    """Adaptive average pooling's option, shared by the 1-D and 2-D layers."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling whose windows are chosen to give an output of ``output_size``.

    Args:
        output_size: the output's (height, width), or one int for both; None keeps that
            dimension of the input.

    Example:
        >>> import ember
        >>> ember.nn.AdaptiveAvgPool2d((1, 1))(ember.ones(2, 3, 7, 5)).shape
        ember.Size([2, 3, 1, 1])
    """

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)


class MaxPool1d(_MaxPoolNd):
    """The maximum over each ``kernel_size`` window of an (N, C, L) or (C, L) input; the
    arguments are MaxPool2d's, one int each.

    Example:
        >>> import ember
        >>> pool = ember.nn.MaxPool1d(2)
        >>> pool
        MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
        >>> pool(ember.ones(1, 3, 8)).shape
        ember.Size([1, 3, 4])
    """

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool1d(Module):
    """The mean over each ``kernel_size`` window of an (N, C, L) or (C, L) input.

    Example:
        >>> import ember
        >>> pool = ember.nn.AvgPool1d(3, stride=2)
        >>> pool
        AvgPool1d(kernel_size=(3,), stride=(2,), padding=(0,))
        >>> pool(ember.ones(1, 3, 9)).shape
        ember.Size([1, 3, 4])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size, "kernel_size")
        self.stride = _single(stride if stride is not None else kernel_size, "stride")
        self.padding = _single(padding, "padding")
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average pooling whose windows give an output of length ``output_size``.

    Example:
        >>> import ember
        >>> ember.nn.AdaptiveAvgPool1d(4)(ember.ones(2, 3, 10)).shape
        ember.Size([2, 3, 4])
    """

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)


class _AdaptiveMaxPoolNd(Module):
    """Adaptive max pooling's options, shared by the 1-D and 2-D layers."""

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling whose windows are chosen to give an output of ``output_size``.

    Args:
        output_size: the output's (height, width), or one int for both; None keeps that
            dimension of the input.
        return_indices: also return each maximum's flat position in its plane.

    Example:
        >>> import ember
        >>> ember.nn.AdaptiveMaxPool2d((2, 3))(ember.ones(1, 3, 7, 5)).shape
        ember.Size([1, 3, 2, 3])
    """

    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling whose windows give an output of length ``output_size``.

    Example:
        >>> import ember
        >>> ember.nn.AdaptiveMaxPool1d(2)(ember.tensor([[1.0, 3.0, 2.0, 0.0]]))
        tensor([[3., 2.]])
    """

    def forward(self, input):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    """max_unpool's options: ``kernel_size``, ``stride`` (default: the kernel) and
    ``padding``."""

    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        convert = _single if self._dims == 1 else pair
        self.kernel_size = convert(kernel_size, "kernel_size")
        self.stride = convert(stride if stride is not None else kernel_size, "stride")
        self.padding = convert(padding, "padding")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpoolNd):
    """Put each value back where MaxPool2d found it (``return_indices=True``); zeros elsewhere.

    Example:
        >>> import ember
        >>> pool, unpool = ember.nn.MaxPool2d(2, return_indices=True), ember.nn.MaxUnpool2d(2)
        >>> unpool(*pool(ember.ones(1, 1, 4, 4))).shape
        ember.Size([1, 1, 4, 4])
    """

    def forward(self, input, indices, output_size=None):
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class MaxUnpool1d(_MaxUnpoolNd):
    """Put each value back where MaxPool1d found it; zeros elsewhere.

    Example:
        >>> import ember
        >>> ember.nn.MaxUnpool1d(2)
        MaxUnpool1d(kernel_size=(2,), stride=(2,), padding=(0,))
    """

    _dims = 1

    def forward(self, input, indices, output_size=None):
        return F.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

"""Convolutions: Conv1d and Conv2d (cross-correlation), ConvTranspose1d and ConvTranspose2d."""

import math

from ...ops.conv import _single, pair
from ...ops.creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

_PADDING_STRINGS = ("valid", "same")
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """The layer anatomy of the convolutions; ``_dims`` spatial dimensions."""

    _dims = 2
    _transposed = False

    def _tuple(self, value, name: str) -> tuple:
        return (_single if self._dims == 1 else pair)(value, name)

    def reset_parameters(self) -> None:
        """PyTorch's default initialisation (kaiming-uniform with a = sqrt(5))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self._dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            text += f", dilation={self.dilation}"
        if self._transposed and self.output_padding != (0,) * self._dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class _Conv(_ConvNd):
    """A convolution: the layer anatomy Conv1d and Conv2d share."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        kernel_size, stride, dilation = (self._tuple(kernel_size, "kernel_size"),
                                          self._tuple(stride, "stride"),
                                          self._tuple(dilation, "dilation"))
        if isinstance(padding, str):
            if padding not in _PADDING_STRINGS:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(step != 1 for step in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = self._tuple(padding, "padding")
        if padding_mode not in _PADDING_MODES:
            raise ValueError("padding_mode must be one of {'zeros', 'reflect', 'replicate', "
                             f"'circular'}}, but got padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.padding_mode = padding_mode
        self._reversed_padding_repeated_twice = self._explicit_padding()
        self.weight = Parameter(empty(out_channels, in_channels // groups, *kernel_size,
                                      device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _explicit_padding(self) -> list:
        """The padding as ``F.pad`` takes it: (left, right, top, bottom), for non-zero modes."""
        amounts = []
        for index in reversed(range(self._dims)):  # F.pad lists the last dimension first
            if self.padding == "valid":
                before = after = 0
            elif self.padding == "same":
                total = self.dilation[index] * (self.kernel_size[index] - 1)
                before = total // 2
                after = total - before
            else:
                before = after = self.padding[index]
            amounts += [before, after]
        return amounts

    def forward(self, input):
        convolution = F.conv1d if self._dims == 1 else F.conv2d
        if self.padding_mode != "zeros":
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return convolution(input, self.weight, self.bias, self.stride, 0, self.dilation,
                               self.groups)
        return convolution(input, self.weight, self.bias, self.stride, self.padding,
                           self.dilation, self.groups)


class Conv2d(_Conv):
    """A 2-D convolution over input of shape (N, C_in, H, W), or (C_in, H, W).

    Args:
        in_channels: channels of the input.
        out_channels: channels the convolution produces.
        kernel_size: the kernel's (height, width), or one int for both.
        stride: the step between kernel positions.
        padding: zeros added on each side, or ``"valid"`` (none) or ``"same"`` (output as large
            as the input; stride 1 only).
        dilation: the spacing between kernel elements.
        groups: split the channels into this many independent convolutions.
        bias: whether to learn an additive bias per output channel.
        padding_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        device, dtype: where and of what type to create the parameters.

    Example:
        >>> import ember
        >>> conv = ember.nn.Conv2d(1, 6, 3)
        >>> conv
        Conv2d(1, 6, kernel_size=(3, 3), stride=(1, 1))
        >>> conv(ember.ones(2, 1, 32, 32)).shape
        ember.Size([2, 6, 30, 30])
    """


class Conv1d(_Conv):
    """A 1-D convolution over input of shape (N, C_in, L), or (C_in, L): the arguments of
    Conv2d, each one int (or a one-element tuple).

    Example:
        >>> import ember
        >>> conv = ember.nn.Conv1d(4, 8, 3, padding=1)
        >>> conv
        Conv1d(4, 8, kernel_size=(3,), stride=(1,), padding=(1,))
        >>> conv(ember.ones(2, 4, 10)).shape
        ember.Size([2, 8, 10])
    """

    _dims = 1


class _ConvTransposeNd(_ConvNd):
    """A transposed convolution: what ConvTranspose1d and ConvTranspose2d share."""

    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f'{type(self).__name__}')
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = self._tuple(kernel_size, "kernel_size")
        self.stride = self._tuple(stride, "stride")
        self.padding = self._tuple(padding, "padding")
        self.dilation = self._tuple(dilation, "dilation")
        self.output_padding = self._tuple(output_padding, "output_padding")
        self.groups = groups
        self.padding_mode = padding_mode
        self.weight = Parameter(empty(in_channels, out_channels // groups, *self.kernel_size,
                                      device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _output_padding(self, input, output_size) -> tuple:
        """``output_padding``, or the one that gives ``output_size`` (PyTorch's checks)."""
        if output_size is None:
            return self.output_padding
        output_size = list(output_size)[-self._dims:]
        padding = []
        for d in range(self._dims):
            smallest = ((input.shape[input.ndim - self._dims + d] - 1) * self.stride[d]
                        - 2 * self.padding[d] + self.dilation[d] * (self.kernel_size[d] - 1)
                        + 1)
            largest = smallest + self.stride[d] - 1
            if not smallest <= output_size[d] <= largest:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                                 f"range from {smallest} to {largest} (for an input of "
                                 f"{list(input.shape[-self._dims:])})")
            padding.append(output_size[d] - smallest)
        return tuple(padding)

    def forward(self, input, output_size=None):
        transposed = F.conv_transpose1d if self._dims == 1 else F.conv_transpose2d
        return transposed(input, self.weight, self.bias, self.stride, self.padding,
                          self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """A transposed 2-D convolution (the gradient of Conv2d with respect to its input): it
    upsamples, as in the generator of a DCGAN.

    Args:
        in_channels, out_channels, kernel_size, stride, dilation, groups, bias, device, dtype:
            as Conv2d's; the weight is (in_channels, out_channels / groups, kh, kw).
        padding: rows and columns cropped from each side of the full result
            (``dilation * (kernel_size - 1) - padding`` of zero padding in the equivalent
            convolution).
        output_padding: rows and columns added at the end, to pick among the output sizes
            that a strided Conv2d maps to the same input size.
        padding_mode: only ``"zeros"``.

    ``forward(input, output_size=None)`` also takes the wanted output size, from which
    ``output_padding`` is computed.

    Example:
        >>> import ember
        >>> up = ember.nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1)
        >>> up
        ConvTranspose2d(8, 4, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1))
        >>> up(ember.ones(1, 8, 16, 16)).shape
        ember.Size([1, 4, 32, 32])
    """


class ConvTranspose1d(_ConvTransposeNd):
    """A transposed 1-D convolution over (N, C_in, L) or (C_in, L): the arguments of
    ConvTranspose2d, each one int (or a one-element tuple).

    Example:
        >>> import ember
        >>> up = ember.nn.ConvTranspose1d(4, 2, 3, stride=2)
        >>> up
        ConvTranspose1d(4, 2, kernel_size=(3,), stride=(2,))
        >>> up(ember.ones(1, 4, 5)).shape
        ember.Size([1, 2, 11])
    """

    _dims = 1

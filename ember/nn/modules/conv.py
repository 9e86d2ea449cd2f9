"""Conv2d: 2-D convolution (cross-correlation) over a batch of images."""

import math

from ...ops.conv import pair
from ...ops.creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

_PADDING_STRINGS = ("valid", "same")
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(Module):
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
        kernel_size, stride, dilation = (pair(kernel_size, "kernel_size"), pair(stride, "stride"),
                                          pair(dilation, "dilation"))
        if isinstance(padding, str):
            if padding not in _PADDING_STRINGS:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(step != 1 for step in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = pair(padding, "padding")
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
        for index in (1, 0):  # F.pad lists the last dimension first
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

    def reset_parameters(self) -> None:
        """PyTorch's default initialisation (kaiming-uniform with a = sqrt(5))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if self.padding_mode != "zeros":
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return F.conv2d(input, self.weight, self.bias, self.stride, (0, 0), self.dilation,
                            self.groups)
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text

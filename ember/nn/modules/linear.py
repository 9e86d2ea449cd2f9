"""Identity, Linear (y = x Wᵀ + b) and Bilinear (y = x1ᵀ W x2 + b)."""

import math

from ...ops.creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


class Identity(Module):
    """Returns its input; accepts and ignores any constructor arguments.

    Example:
        >>> import ember
        >>> ember.nn.Identity(54, unused="ok")(ember.ones(2))
        tensor([1., 1.])
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """A fully connected layer: ``y = x @ weight.T + bias``.

    Args:
        in_features: size of each input sample (the last dimension).
        out_features: size of each output sample.
        bias: whether to learn an additive bias.
        device, dtype: where and of what type to create the parameters.

    The weight, of shape (out_features, in_features), and the bias start uniform on
    [-1/sqrt(in_features), 1/sqrt(in_features)], as in PyTorch.

    Example:
        >>> import ember
        >>> fc = ember.nn.Linear(576, 120)
        >>> fc
        Linear(in_features=576, out_features=120, bias=True)
        >>> fc(ember.ones(4, 576)).shape
        ember.Size([4, 120])
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default initialisation (kaiming-uniform with a = sqrt(5))."""
        # With a = sqrt(5) the kaiming bound is gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in).
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class NonDynamicallyQuantizableLinear(Linear):
    """A ``Linear`` under PyTorch's name for MultiheadAttention's output projection, which
    ``print(model)`` shows; it lives here, in ``nn.modules.linear``, as in PyTorch, so that
    pickles and ``add_safe_globals`` name it where PyTorch does."""


class Bilinear(Module):
    """A bilinear layer: ``y[o] = x1 @ weight[o] @ x2 + bias[o]``.

    Args:
        in1_features, in2_features: sizes of the two inputs' last dimensions.
        out_features: size of the output's last dimension.
        bias: whether to learn an additive bias.
        device, dtype: where and of what type to create the parameters.

    The weight (out_features, in1_features, in2_features) and the bias start uniform on
    [-1/sqrt(in1_features), 1/sqrt(in1_features)], as in PyTorch.

    Example:
        >>> import ember
        >>> layer = ember.nn.Bilinear(3, 4, 5)
        >>> layer
        Bilinear(in1_features=3, in2_features=4, out_features=5, bias=True)
        >>> layer(ember.ones(2, 3), ember.ones(2, 4)).shape
        ember.Size([2, 5])
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in1_features, in2_features, device=device,
                                      dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weight and bias uniform on [-1/sqrt(in1_features), 1/sqrt(in1_features)]."""
        if self.in1_features <= 0:
            raise ValueError(f"in1_features must be > 0, but got (in1_features="
                             f"{self.in1_features})")
        bound = 1 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")

"""Identity and Linear: y = x Wᵀ + b."""

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

"""Activation layers: thin modules around the functions of ``ember.nn.functional``.

MultiheadAttention lives here too, as in PyTorch (``torch.nn.modules.activation``).
"""

import warnings

from ...ops.creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import NonDynamicallyQuantizableLinear
from .module import Module


def _inplace_suffix(inplace: bool) -> str:
    return ", inplace=True" if inplace else ""


class ReLU(Module):
    """max(0, x), elementwise.

    Args:
        inplace: overwrite the input instead of allocating the output.

    Example:
        >>> import ember
        >>> ember.nn.ReLU()(ember.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x >= 0, ``negative_slope * x`` otherwise.

    Example:
        >>> import ember
        >>> ember.nn.LeakyReLU(0.1)(ember.tensor([-1.0, 2.0]))
        tensor([-0.1000,  2.0000])
    """

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_suffix(self.inplace)}"


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise.

    Example:
        >>> import ember
        >>> ember.nn.Sigmoid()(ember.zeros(2))
        tensor([0.5000, 0.5000])
    """

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """The hyperbolic tangent, elementwise.

    Example:
        >>> import ember
        >>> ember.nn.Tanh()(ember.zeros(2))
        tensor([0., 0.])
    """

    def forward(self, input):
        return F.tanh(input)


class GELU(Module):
    """x * Φ(x), Φ the standard normal CDF; ``approximate="tanh"`` uses the tanh formula.

    Example:
        >>> import ember
        >>> ember.nn.GELU()(ember.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8413])
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x), elementwise (also called swish).

    Example:
        >>> import ember
        >>> ember.nn.SiLU()(ember.tensor([0.0, 1.0]))
        tensor([0.0000, 0.7311])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ELU(Module):
    """x for x > 0, ``alpha * (exp(x) - 1)`` otherwise.

    Example:
        >>> import ember
        >>> ember.nn.ELU()(ember.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_suffix(self.inplace)}"


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta; linear where ``beta * x > threshold``.

    Example:
        >>> import ember
        >>> ember.nn.Softplus()(ember.zeros(1))
        tensor([0.6931])
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim``: each slice becomes a probability distribution.

    Example:
        >>> import ember
        >>> ember.nn.Softmax(dim=1)(ember.zeros(1, 4))
        tensor([[0.2500, 0.2500, 0.2500, 0.2500]])
    """

    def __init__(self, dim: "int | None" = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably.

    Example:
        >>> import ember
        >>> ember.nn.LogSoftmax(dim=1)(ember.zeros(1, 2))
        tensor([[-0.6931, -0.6931]])
    """

    def __init__(self, dim: "int | None" = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class _Pointwise(Module):
    """An activation with only an ``inplace`` option; ``_function`` names the F function and
    ``_shows_inplace`` whether PyTorch's repr prints the option."""

    _function = ""
    _shows_inplace = True

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return getattr(F, self._function)(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace and self._shows_inplace else ""


class Mish(_Pointwise):
    """``x * tanh(softplus(x))``, elementwise.

    Example:
        >>> import ember
        >>> ember.nn.Mish()(ember.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8651])
    """

    _function = "mish"


class Hardswish(_Pointwise):
    """``x * relu6(x + 3) / 6``, elementwise.

    Example:
        >>> import ember
        >>> ember.nn.Hardswish()(ember.tensor([0.0, 1.0]))
        tensor([0.0000, 0.6667])
    """

    _function = "hardswish"
    _shows_inplace = False  # as PyTorch's repr


class Hardsigmoid(_Pointwise):
    """``relu6(x + 3) / 6``, elementwise.

    Example:
        >>> import ember
        >>> ember.nn.Hardsigmoid()(ember.tensor([0.0, 1.5]))
        tensor([0.5000, 0.7500])
    """

    _function = "hardsigmoid"
    _shows_inplace = False  # as PyTorch's repr


class SELU(_Pointwise):
    """``1.0507 * elu(x, alpha=1.6733)``: self-normalizing units.

    Example:
        >>> import ember
        >>> ember.nn.SELU()(ember.tensor([1.0]))
        tensor([1.0507])
    """

    _function = "selu"


class CELU(Module):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``, elementwise.

    Example:
        >>> import ember
        >>> ember.nn.CELU(alpha=2.0)(ember.tensor([-1.0, 1.0]))
        tensor([-0.7869,  1.0000])
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_suffix(self.inplace)}"


class Hardtanh(Module):
    """``x`` clipped to ``[min_val, max_val]``.

    Example:
        >>> import ember
        >>> ember.nn.Hardtanh()(ember.tensor([-2.0, 0.5]))
        tensor([-1.0000,  0.5000])
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: "float | None" = None, max_value: "float | None" = None) -> None:
        super().__init__()
        if min_value is not None or max_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and rename to `min_val`"
                          if min_value is not None else
                          "keyword argument `max_value` is deprecated and rename to `max_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_val if min_value is None else min_value
            max_val = max_val if max_value is None else max_value
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace
        if self.max_val <= self.min_val:
            raise AssertionError("max_val must be greater than min_val")

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_suffix(self.inplace)}"


class ReLU6(Hardtanh):
    """``min(max(0, x), 6)``, elementwise: Hardtanh between 0 and 6, as in PyTorch.

    Example:
        >>> import ember
        >>> ember.nn.ReLU6()(ember.tensor([-1.0, 8.0]))
        tensor([0., 6.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class PReLU(Module):
    """``x`` where positive, ``weight * x`` elsewhere, with a learned slope: one for all
    channels, or one per channel (dimension 1).

    Args:
        num_parameters: 1, or the number of channels.
        init: the slopes' starting value.

    Example:
        >>> import ember
        >>> ember.nn.PReLU()(ember.tensor([-2.0, 3.0]))
        tensor([-0.5000,  3.0000], grad_fn=<PreluKernelBackward0>)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None,
                 dtype=None) -> None:
        self.num_parameters = num_parameters
        super().__init__()
        self.init = init
        self.weight = Parameter(empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every slope set to ``init``."""
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Threshold(Module):
    """``x`` where ``x > threshold``, else ``value``.

    Example:
        >>> import ember
        >>> ember.nn.Threshold(1.0, -1.0)(ember.tensor([0.5, 2.0]))
        tensor([-1.,  2.])
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return (f"threshold={self.threshold}, value={self.value}"
                f"{_inplace_suffix(self.inplace)}")


class _Stateless(Module):
    """An activation without options: ``_function`` names the F function."""

    _function = ""

    def forward(self, input):
        return getattr(F, self._function)(input)


class LogSigmoid(_Stateless):
    """``log(sigmoid(x))``, elementwise.

    Example:
        >>> import ember
        >>> ember.nn.LogSigmoid()(ember.zeros(1))
        tensor([-0.6931])
    """

    _function = "logsigmoid"


class Softsign(_Stateless):
    """``x / (1 + |x|)``, elementwise.

    Example:
        >>> import ember
        >>> ember.nn.Softsign()(ember.tensor([1.0]))
        tensor([0.5000])
    """

    _function = "softsign"


class Tanhshrink(_Stateless):
    """``x - tanh(x)``, elementwise.

    Example:
        >>> import ember
        >>> ember.nn.Tanhshrink()(ember.tensor([1.0]))
        tensor([0.2384])
    """

    _function = "tanhshrink"


class _Shrink(Module):
    """A shrinkage with its threshold ``lambd``."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Hardshrink(_Shrink):
    """``x`` where ``|x| > lambd``, else 0.

    Example:
        >>> import ember
        >>> ember.nn.Hardshrink()(ember.tensor([0.3, 0.7]))
        tensor([0.0000, 0.7000])
    """

    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class Softshrink(_Shrink):
    """``x`` moved ``lambd`` towards 0; 0 where ``|x| <= lambd``.

    Example:
        >>> import ember
        >>> ember.nn.Softshrink()(ember.tensor([0.3, 0.7]))
        tensor([0.0000, 0.2000])
    """

    def forward(self, input):
        return F.softshrink(input, self.lambd)


class GLU(Module):
    """The gated linear unit: ``a * sigmoid(b)`` for the two halves of ``dim``.

    Example:
        >>> import ember
        >>> ember.nn.GLU()(ember.tensor([[2.0, 0.0]]))
        tensor([[1.]])
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(Module):
    """``softmax(-x)`` along ``dim``.

    Example:
        >>> import ember
        >>> ember.nn.Softmin(dim=0)(ember.tensor([1.0, 2.0]))
        tensor([0.7311, 0.2689])
    """

    def __init__(self, dim: "int | None" = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels at each position of a (N, C, H, W) or (C, H, W) input.

    Example:
        >>> import ember
        >>> ember.nn.Softmax2d()(ember.zeros(2, 1, 1))
        tensor([[[0.5000]],
        <BLANKLINE>
                [[0.5000]]])
    """

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D "
                             "instead")
        return F.softmax(input, -3)


# ---- multi-head attention ----------------------------------------------------------------

class MultiheadAttention(Module):
    """Attention over several heads: project query, key and value, attend in each head
    (``embed_dim / num_heads`` features), concatenate and project again.

    Args:
        embed_dim: features of the query (and of the output).
        num_heads: heads; must divide ``embed_dim``.
        dropout: dropout probability on the attention weights in training.
        bias: whether the projections have biases.
        add_bias_kv: append a learned key and value to the sequence.
        add_zero_attn: append a zero key and value to the sequence.
        kdim, vdim: features of key and value (``embed_dim`` by default); when either differs,
            the projections are three weights ``q_proj_weight``, ``k_proj_weight`` and
            ``v_proj_weight`` instead of one packed ``in_proj_weight``.
        batch_first: inputs are (N, L, E) rather than (L, N, E).

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(attn_output, attn_weights)``
    (see ``F.multi_head_attention_forward`` for the masks).

    Example:
        >>> import ember
        >>> attention = ember.nn.MultiheadAttention(8, 2, batch_first=True)
        >>> x = ember.ones(3, 5, 8)
        >>> output, weights = attention(x, x, x)
        >>> output.shape, weights.shape
        (ember.Size([3, 5, 8]), ember.Size([3, 5, 5]))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        factory = {"device": device, "dtype": dtype}
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, **factory))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, **factory))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, **factory))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, **factory))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        **factory)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, **factory))
            self.bias_v = Parameter(empty(1, 1, embed_dim, **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's: xavier-uniform projections, zero biases, xavier-normal ``bias_k/v``."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        if self.batch_first and query.ndim == 3:
            # Self-attention stays one tensor, so the packed projection does one product.
            if query is key is value:
                query = key = value = query.transpose(1, 0)
            elif key is value:
                query, key = query.transpose(1, 0), key.transpose(1, 0)
                value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        attn_output, attn_weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and query.ndim == 3:
            attn_output = attn_output.transpose(1, 0)
        return attn_output, attn_weights

"""Weight initialisation: fill a tensor in place with values drawn as a scheme prescribes.

Every function here works under ``no_grad``, so it can fill a module's Parameters (leaves that
require grad), and returns the tensor it filled. The optional ``generator`` draws from an
``ember.Generator`` instead of the default one.
"""

import math
import warnings

import numpy as np

from .. import _backend, random
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad

_LINEAR_NONLINEARITIES = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                          "conv_transpose2d", "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: "float | None" = None) -> float:
    """The recommended scale of the weights in front of a nonlinearity.

    Args:
        nonlinearity: the function's name: ``"linear"``, ``"conv2d"``, ``"sigmoid"``, ``"tanh"``,
            ``"relu"``, ``"leaky_relu"``, ``"selu"``, ...
        param: the negative slope of ``"leaky_relu"`` (0.01 when None).

    Example:
        >>> import ember
        >>> round(ember.nn.init.calculate_gain("relu"), 4)
        1.4142
    """
    if nonlinearity in _LINEAR_NONLINEARITIES:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> "tuple[int, int]":
    """Inputs and outputs one weight connects: dim 1 and dim 0, times the kernel's size."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive_field_size = 1
    for size in tensor.shape[2:]:
        receptive_field_size *= size
    fan_in = tensor.shape[1] * receptive_field_size
    fan_out = tensor.shape[0] * receptive_field_size
    return fan_in, fan_out


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Tensor, values) -> Tensor:
    """Copy the array ``values`` into ``tensor`` without recording a graph."""
    with no_grad():
        return tensor.copy_(Tensor._wrap(values))


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill ``tensor`` with samples of the uniform distribution on [a, b).

    Example:
        >>> import ember
        >>> w = ember.nn.init.uniform_(ember.empty(2, 3), -0.1, 0.1)
        >>> bool((w.abs() <= 0.1).all())
        True
    """
    return _fill(tensor, random.uniform_array(tensor, a, b, generator))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill ``tensor`` with samples of the normal distribution N(mean, std²).

    Example:
        >>> import ember
        >>> ember.nn.init.normal_(ember.empty(2, 3), std=0.02).shape
        ember.Size([2, 3])
    """
    return _fill(tensor, random.normal_array(tensor, mean, std, generator))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` with ``val``.

    Example:
        >>> import ember
        >>> ember.nn.init.constant_(ember.empty(2), 0.5)
        tensor([0.5000, 0.5000])
    """
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with zeros.

    Example:
        >>> import ember
        >>> ember.nn.init.zeros_(ember.empty(2))
        tensor([0., 0.])
    """
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with ones.

    Example:
        >>> import ember
        >>> ember.nn.init.ones_(ember.empty(2))
        tensor([1., 1.])
    """
    return constant_(tensor, 1.0)


def _is_empty(tensor: Tensor) -> bool:
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot initialisation: uniform on [-a, a] with a = gain * sqrt(6 / (fan_in + fan_out)).

    Example:
        >>> import ember
        >>> w = ember.nn.init.xavier_uniform_(ember.empty(3, 5))
        >>> bool((w.abs() <= (6 / 8) ** 0.5).all())
        True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std  # a uniform on [-bound, bound] has this standard deviation
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot initialisation: N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out)).

    Example:
        >>> import ember
        >>> ember.nn.init.xavier_normal_(ember.empty(3, 5)).shape
        ember.Size([3, 5])
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He initialisation: uniform on [-bound, bound] with bound = gain * sqrt(3 / fan).

    Args:
        tensor: the tensor to fill, at least 2-D.
        a: the negative slope of the leaky ReLU that follows (for ``"leaky_relu"``).
        mode: ``"fan_in"`` keeps the variance of the forward pass, ``"fan_out"`` of backward.
        nonlinearity: the function that follows, for ``calculate_gain``.
        generator: an ``ember.Generator`` to draw from.

    Example:
        >>> import ember, math
        >>> w = ember.nn.init.kaiming_uniform_(ember.empty(4, 3), a=math.sqrt(5))
        >>> bool((w.abs() <= 1 / math.sqrt(3)).all())
        True
    """
    if _is_empty(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He initialisation: N(0, std²) with std = gain / sqrt(fan).

    Example:
        >>> import ember
        >>> ember.nn.init.kaiming_normal_(ember.empty(4, 3), nonlinearity="relu").shape
        ember.Size([4, 3])
    """
    if _is_empty(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


_ERFINV_LIMIT = 1.0 - 2.0 ** -24  # the largest |x| for which _erfinv is accurate


def _erfinv(x: np.ndarray) -> np.ndarray:
    """The inverse error function for |x| <= _ERFINV_LIMIT, to about 3e-7.

    M. Giles, "Approximating the erfinv function", GPU Computing Gems (2010): a polynomial in
    w = -log(1 - x²), one for each range of w. NumPy has no erfinv of its own.
    """
    w = -np.log((1.0 - x) * (1.0 + x))
    central = w - 2.5
    p_central = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p_central = c + p_central * central
    tail = np.sqrt(w) - 3.0
    p_tail = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        p_tail = c + p_tail * tail
    return np.where(w < 5.0, p_central, p_tail) * x


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """Fill ``tensor`` with N(mean, std²) samples conditioned to lie in [a, b].

    Samples come from the inverse of the normal CDF applied to uniform samples between the
    CDF's values at ``a`` and ``b``; this is exact where rejection sampling would loop for long.

    Example:
        >>> import ember
        >>> w = ember.nn.init.trunc_normal_(ember.empty(100), std=0.02, a=-0.04, b=0.04)
        >>> bool((w.abs() <= 0.04).all())
        True
    """
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)

    def normal_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    low = normal_cdf((a - mean) / std)
    high = normal_cdf((b - mean) / std)
    # erf(z / sqrt(2)) = 2 * cdf(z) - 1, so z = sqrt(2) * erfinv(u) for u uniform on that range.
    # Keeping u where the approximation holds cuts the normal's tails at 5.4 std, no closer.
    uniform = random.uniform(tensor.shape, 2 * low - 1, 2 * high - 1, np.float64, _backend.CPU,
                             generator)
    uniform = np.clip(uniform, -_ERFINV_LIMIT, _ERFINV_LIMIT)
    values = np.clip(_erfinv(uniform) * (std * math.sqrt(2.0)) + mean, a, b)
    return _fill(tensor, values.astype(tensor._data.dtype))

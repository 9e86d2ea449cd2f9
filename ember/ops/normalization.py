"""Normalizations beyond batch_norm and layer_norm (those live in ``activation``):
group_norm, instance_norm, rms_norm and local_response_norm; and channel-wise dropout
(dropout1d, dropout2d, dropout3d), alpha_dropout and feature_alpha_dropout.

group_norm is one op (PyTorch's NativeGroupNorm); the others are compositions, as PyTorch
writes them: instance_norm is batch_norm on a (1, N*C, ...) view, rms_norm and
local_response_norm are a few elementwise ops, and the dropouts multiply by a random mask.
"""

import math
import warnings

import numpy as np

from .. import random
from .._backend import array_module
from .._tensor import Tensor
from ..autograd import inplace
from ..autograd.function import Function
from .activation import _normalization_backward, _normalized_dims, batch_norm
from .conv import pad
from .pooling import avg_pool2d
from .reduction import sum_of_squares


class NativeGroupNorm(Function):
    """Normalize each sample's channels in ``groups`` groups (over the group's channels and
    all positions), then scale and shift per channel."""

    @staticmethod
    def forward(ctx, input, weight, bias, groups, eps):
        xp = array_module(input)
        batch = input.shape[0]
        grouped = input.reshape(batch, groups, -1)
        count = grouped.shape[2]
        # Accumulated in float64 for float32 input, as layer_norm does.
        wide = np.float64 if input.dtype.kind == "f" and input.dtype.itemsize < 8 else None
        mean = grouped.mean(axis=2, keepdims=True, dtype=wide)
        deviations = grouped - mean
        variance = sum_of_squares(deviations, (2,), True) / max(count, 1)
        inverse_std = (1 / xp.sqrt(variance + eps)).astype(input.dtype, copy=False)
        normalized = (deviations * inverse_std).astype(input.dtype, copy=False)
        channel_shape = (1, -1) + (1,) * (input.ndim - 2)
        output = normalized.reshape(input.shape)
        if weight is not None:
            output = output * weight.reshape(channel_shape)
        if bias is not None:
            output = output + bias.reshape(channel_shape)
        ctx.save_for_backward(input, mean, inverse_std, weight)
        ctx.groups = groups
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, mean, inverse_std, weight = ctx.saved_tensors
        batch, groups = input.shape[0], ctx.groups
        channel_shape = (1, -1) + (1,) * (input.ndim - 2)
        normalized = ((input.reshape(batch, groups, -1) - mean) * inverse_std).astype(
            input.dtype, copy=False)
        needs_input, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        # Every dimension but the channels: the batch and the positions.
        other = (0,) + tuple(range(2, input.ndim))
        grad_input = grad_weight = grad_bias = None
        if needs_input:
            grad_normalized = grad_output if weight is None else \
                grad_output * weight.reshape(channel_shape)
            grad_input = _normalization_backward(grad_normalized.reshape(batch, groups, -1),
                                                 normalized, inverse_std, (2,))
            grad_input = grad_input.reshape(input.shape)
        if needs_weight:
            grad_weight = (grad_output * normalized.reshape(input.shape)).sum(axis=other)
        if needs_bias:
            grad_bias = grad_output.sum(axis=other)
        return grad_input, grad_weight, grad_bias, None, None


# ---- the plain functions -----------------------------------------------------------------

def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Normalize over groups of channels: each sample's C channels fall in ``num_groups``
    groups, each normalized to zero mean and unit variance; then ``weight`` and ``bias``
    (one per channel) scale and shift.

    Example:
        >>> import ember
        >>> ember.nn.functional.group_norm(ember.tensor([[1.0, 3.0, 5.0, 9.0]]), 2)
        tensor([[-1.0000,  1.0000, -1.0000,  1.0000]])
    """
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    channels = input.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and (tensor.ndim != 1 or tensor.shape[0] != channels):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape "
                               f"{list(tensor.shape)} and input of shape {list(input.shape)}")
    return NativeGroupNorm.apply(input, weight, bias, num_groups, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5):
    """Normalize each channel of each sample over its positions (batch_norm with every
    (sample, channel) pair its own channel); running statistics average over the batch.

    Example:
        >>> import ember
        >>> ember.nn.functional.instance_norm(ember.tensor([[[1.0, 3.0], [2.0, 6.0]]]))
        tensor([[[-1.0000,  1.0000],
                 [-1.0000,  1.0000]]])
    """
    if input.ndim < 3:
        raise ValueError(f"Expected more than 2 dimensions for instance_norm, got input of size "
                         f"{list(input.shape)}")
    batch, channels = input.shape[:2]
    if use_input_stats and math.prod(input.shape[2:]) <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{input.shape!r}")
    flat = input.reshape(1, batch * channels, *input.shape[2:])
    repeated = [None if tensor is None else tensor.repeat(batch)
                for tensor in (running_mean, running_var, weight, bias)]
    output = batch_norm(flat, repeated[0], repeated[1], repeated[2], repeated[3],
                        use_input_stats, momentum, eps)
    # Each running statistic moved once per sample: average those moves over the batch.
    for stat, moved in ((running_mean, repeated[0]), (running_var, repeated[1])):
        if stat is not None and use_input_stats:
            stat._data[...] = moved._data.reshape(batch, channels).mean(axis=0)
            inplace.bump_version(stat)
    return output.reshape(input.shape)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``input / sqrt(mean(input^2) + eps)`` over the last dimensions (``normalized_shape``),
    times ``weight``; ``eps`` defaults to the dtype's machine epsilon.

    Example:
        >>> import ember
        >>> ember.nn.functional.rms_norm(ember.tensor([[3.0, 4.0]]), (2,))
        tensor([[0.8485, 1.1314]])
    """
    count = _normalized_dims(input, normalized_shape)
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(-count, 0))
    output = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return output if weight is None else output * weight


def local_response_norm(input, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0):
    """Divide each value by ``(k + alpha * mean of the squares of the ``size`` neighbouring
    channels) ** beta`` (AlexNet's normalization).

    Example:
        >>> import ember
        >>> ember.nn.functional.local_response_norm(ember.ones(1, 2, 1), 2, alpha=1.0, beta=1.0)
        tensor([[[0.6667],
                 [0.5000]]])
    """
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} "
                         f"dimensions)")
    if input.numel() == 0:
        return input
    batch, channels = input.shape[:2]
    # The squares as one plane (N, 1, C, positions): the neighbours' mean is a pooling
    # along the channels, with the window centred (zeros beyond the edges count).
    squares = (input * input).reshape(batch, 1, channels, -1)
    squares = pad(squares, (0, 0, size // 2, (size - 1) // 2))
    average = avg_pool2d(squares, (size, 1), stride=1).reshape(input.shape)
    return input / (average * alpha + k) ** beta


def _feature_dropout(input, p: float, training: bool, inplace: bool, batched: bool):
    """Zero whole channels (dimension 1 of batched input, 0 of unbatched) with probability
    ``p``, scaling the others by ``1 / (1 - p)``."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    data = input._data
    lead = 2 if batched else 1
    mask_shape = data.shape[:lead] + (1,) * (data.ndim - lead)
    if p == 1.0:
        mask = array_module(data).zeros(mask_shape, dtype=data.dtype)
    else:
        mask = random.dropout_mask(mask_shape, p, data.dtype, input.device)
    mask = Tensor._wrap(mask)
    return input.mul_(mask) if inplace else input * mask


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, L) or (C, L) input with probability ``p``.

    Example:
        >>> import ember
        >>> ember.nn.functional.dropout1d(ember.ones(2, 3, 4), training=False).shape
        ember.Size([2, 3, 4])
    """
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           f"input. Note that dropout1d exists to provide channel-wise dropout "
                           f"on inputs with 1 spatial dimension, a channel dimension, and an "
                           f"optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, input.ndim == 3)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, H, W) input with probability ``p``.

    As PyTorch, 3-D input counts as batched (N, C, L), with a warning.

    Example:
        >>> import ember
        >>> ember.nn.functional.dropout2d(ember.ones(2, 3, 4, 4), training=False).shape
        ember.Size([2, 3, 4, 4])
    """
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      f"deprecated and will result in an error in a future release. To retain "
                      f"the behavior and silence this warning, please use dropout instead. Note "
                      f"that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      f"spatial dimensions, a channel dimension, and an optional batch "
                      f"dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-"
                      "wise 1D dropout behavior is desired - input is interpreted as shape (N, "
                      "C, L), where C is the channel dim. This behavior will change in a future "
                      "release to interpret the input as one without a batch dimension, i.e. "
                      "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                      "please switch to using dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, True)


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability ``p``.

    Example:
        >>> import ember
        >>> ember.nn.functional.dropout3d(ember.ones(2, 3, 2, 2, 2), training=False).shape
        ember.Size([2, 3, 2, 2, 2])
    """
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is "
                      f"deprecated and will result in an error in a future release. To retain "
                      f"the behavior and silence this warning, please use dropout instead. Note "
                      f"that dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      f"spatial dimensions, a channel dimension, and an optional batch "
                      f"dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, input.ndim != 4)


# The SELU activation's negative saturation value, -scale * alpha: alpha_dropout sets dropped
# values to it, so that a SELU network keeps its mean and variance.
_ALPHA_PRIME = 1.7580993408473766


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Dropout for SELU networks: dropped values become SELU's saturation value and an affine
    map restores the mean and variance.

    Example:
        >>> import ember
        >>> ember.nn.functional.alpha_dropout(ember.ones(3), 0.5)
        tensor([1., 1., 1.])
    """
    return _alpha_dropout(input, p, training, inplace, feature=False)


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False,
                          inplace: bool = False):
    """alpha_dropout of whole channels (dimension 1): each channel is kept or set to SELU's
    saturation value as a whole.

    Example:
        >>> import ember
        >>> ember.nn.functional.feature_alpha_dropout(ember.ones(2, 3), 0.5)
        tensor([[1., 1., 1.],
                [1., 1., 1.]])
    """
    return _alpha_dropout(input, p, training, inplace, feature=True)


def _alpha_dropout(input, p: float, training: bool, inplace: bool, feature: bool):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.mul(0.0) if not inplace else input.mul_(0.0)
    data = input._data
    # One draw per (sample, channel) for the feature form, broadcast over the positions.
    shape = data.shape[:2] + (1,) * (data.ndim - 2) if feature else data.shape
    keep = (random.uniform(shape, 0.0, 1.0, np.float32, input.device) >= p).astype(
        data.dtype)
    scale = 1.0 / math.sqrt((_ALPHA_PRIME ** 2 * p + 1) * (1 - p))
    shift = Tensor._wrap(((keep - 1) * (_ALPHA_PRIME * scale) + _ALPHA_PRIME * scale * p)
                         .astype(data.dtype, copy=False))
    mask = Tensor._wrap((keep * scale).astype(data.dtype, copy=False))
    if inplace:
        return input.mul_(mask).add_(shift)
    return input * mask + shift

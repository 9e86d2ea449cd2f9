"""The functional API: layers as plain functions, ``import ember.nn.functional as F``.

Every function has PyTorch's name, signature and defaults. Most are the plain functions of
``ember.ops`` (where their Functions live); the few defined here compose ops, as PyTorch's do:
``linear`` is ``addmm`` with the weight transposed, ``relu`` with ``inplace=True`` is
``relu_``.

Example:
    >>> import ember
    >>> import ember.nn.functional as F
    >>> x = ember.randn(8, 1, 32, 32)
    >>> F.max_pool2d(F.relu(F.conv2d(x, ember.randn(6, 1, 5, 5))), 2).shape
    ember.Size([8, 6, 14, 14])
"""

import math

from .. import _dtype
from .._tensor import Tensor
from ..ops import elementwise, indexing, linalg, shape
from ..ops.activation import (
    batch_norm,
    dropout,
    elu,
    gelu,
    hardtanh,
    layer_norm,
    leaky_relu,
    log_softmax,
    relu6,
    silu,
    softmax,
    softplus,
)
from ..ops.attention import multi_head_attention_forward, scaled_dot_product_attention
from ..ops.conv import conv2d, pad
from ..ops.embedding import embedding
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from ..ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d

__all__ = [
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv2d", "cross_entropy", "dropout", "elu",
    "embedding", "gelu",
    "hardtanh", "l1_loss", "layer_norm", "leaky_relu", "linear", "log_softmax", "max_pool2d",
    "mse_loss", "nll_loss", "one_hot", "pad", "relu", "relu6", "sigmoid", "silu", "softmax",
    "softplus", "tanh",
    "multi_head_attention_forward", "scaled_dot_product_attention",
]


def linear(input: Tensor, weight: Tensor, bias: "Tensor | None" = None) -> Tensor:
    """``input @ weight.T + bias``: a fully connected layer.

    On a batch of vectors (2-D input) with a bias this is one ``addmm(bias, input, weight.t())``,
    so the graph is PyTorch's: ``AddmmBackward0`` over the bias, the input and ``TBackward0``.
    Other input is flattened to 2-D around the same product and shaped back.

    Args:
        input: (*, in_features).
        weight: (out_features, in_features).
        bias: (out_features,) or None.

    Example:
        >>> import ember
        >>> import ember.nn.functional as F
        >>> F.linear(ember.ones(2, 3), ember.ones(4, 3), ember.zeros(4))
        tensor([[3., 3., 3., 3.],
                [3., 3., 3., 3.]])
    """
    weight_t = shape.t(weight)
    if input.ndim == 2:
        if bias is None:
            return linalg.mm(input, weight_t)
        return linalg.addmm(bias, input, weight_t)
    leading = tuple(input.shape[:-1])
    rows = shape.reshape(input, (math.prod(leading), input.shape[-1]))
    output = linalg.mm(rows, weight_t) if bias is None else linalg.addmm(bias, rows, weight_t)
    return shape.reshape(output, leading + (weight.shape[0],))


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``; with ``inplace=True`` it overwrites ``input``.

    Example:
        >>> import ember
        >>> import ember.nn.functional as F
        >>> F.relu(ember.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    return input.relu_() if inplace else elementwise.relu(input)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``.

    Example:
        >>> import ember
        >>> import ember.nn.functional as F
        >>> F.sigmoid(ember.tensor([0.0]))
        tensor([0.5000])
    """
    return elementwise.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """The hyperbolic tangent.

    Example:
        >>> import ember
        >>> import ember.nn.functional as F
        >>> F.tanh(ember.tensor([0.0]))
        tensor([0.])
    """
    return elementwise.tanh(input)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (int64, any shape) as one-hot rows: shape (*, num_classes), int64.

    ``num_classes=-1`` takes one more than the largest index.

    Example:
        >>> import ember
        >>> import ember.nn.functional as F
        >>> F.one_hot(ember.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    data = tensor._data
    if data.dtype != _dtype.int64.numpy:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(data.max()) + 1
    if data.size and int(data.min()) < 0:
        raise RuntimeError("Class values must be non-negative.")
    if data.size and int(data.max()) >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return indexing.OneHot.apply(tensor, num_classes)

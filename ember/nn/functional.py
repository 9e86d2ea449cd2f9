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
    celu,
    dropout,
    elu,
    gelu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    layer_norm,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    prelu,
    relu6,
    selu,
    silu,
    softmax,
    softmin,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
)
from ..ops.attention import multi_head_attention_forward, scaled_dot_product_attention
from ..ops.conv import (
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    fold,
    pad,
    unfold,
)
from ..ops.embedding import embedding
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_embedding_loss,
    cosine_similarity,
    cross_entropy,
    gaussian_nll_loss,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    mse_loss,
    multi_margin_loss,
    multilabel_soft_margin_loss,
    nll_loss,
    normalize,
    pairwise_distance,
    poisson_nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from ..ops.normalization import (
    alpha_dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
    group_norm,
    instance_norm,
    local_response_norm,
    rms_norm,
)
from ..ops.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    max_unpool1d,
    max_unpool2d,
)
from ..ops.resample import (
    affine_grid,
    grid_sample,
    interpolate,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
)

__all__ = [
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv2d", "cross_entropy", "dropout", "elu",
    "embedding", "gelu",
    "hardtanh", "l1_loss", "layer_norm", "leaky_relu", "linear", "log_softmax", "max_pool2d",
    "mse_loss", "nll_loss", "one_hot", "pad", "relu", "relu6", "sigmoid", "silu", "softmax",
    "softplus", "tanh",
    # activations, losses and layers that programs beyond the tutorial use
    "celu", "glu", "hardshrink", "hardsigmoid", "hardswish", "logsigmoid", "mish", "prelu",
    "selu", "softmin", "softshrink", "softsign", "tanhshrink", "threshold",
    "cosine_embedding_loss", "cosine_similarity", "gaussian_nll_loss", "hinge_embedding_loss",
    "huber_loss", "kl_div", "margin_ranking_loss", "multi_margin_loss",
    "multilabel_soft_margin_loss", "normalize", "pairwise_distance", "poisson_nll_loss",
    "smooth_l1_loss", "soft_margin_loss", "triplet_margin_loss",
    "conv1d", "conv_transpose1d", "conv_transpose2d",
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d", "avg_pool1d",
    "interpolate", "max_pool1d", "pixel_shuffle", "pixel_unshuffle", "upsample",
    "alpha_dropout", "dropout1d", "dropout2d", "dropout3d", "group_norm", "instance_norm",
    "local_response_norm", "rms_norm", "bilinear", "fold", "unfold", "affine_grid",
    "grid_sample", "feature_alpha_dropout", "max_unpool1d", "max_unpool2d",
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


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: "Tensor | None" = None) -> Tensor:
    """``y[o] = x1 @ weight[o] @ x2 + bias[o]``: a bilinear form per output feature.

    ``weight`` is (out, in1, in2); the inputs (..., in1) and (..., in2) share their leading
    dimensions. One matrix product gives ``x1 @ weight[o]`` for every o at once.

    Example:
        >>> import ember
        >>> import ember.nn.functional as F
        >>> F.bilinear(ember.ones(1, 2), ember.ones(1, 3), ember.ones(4, 2, 3)).shape
        ember.Size([1, 4])
    """
    leading = tuple(input1.shape[:-1])
    if leading != tuple(input2.shape[:-1]):
        dim = next(d for d, (a, b) in enumerate(zip(input1.shape, input2.shape)) if a != b)
        raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {dim}: got "
                           f"{input1.shape[dim]} and {input2.shape[dim]}")
    out_features, in1, in2 = weight.shape
    for index, (name, size) in enumerate((("input1", in1), ("input2", in2))):
        given = (input1, input2)[index].shape[-1]
        if given != size:
            raise RuntimeError(f"bilinear(): {name} size does not match weight size: got "
                               f"{given} but expected {size}")
    rows1 = shape.reshape(input1, (math.prod(leading), in1))
    rows2 = shape.reshape(input2, (math.prod(leading), 1, in2))
    # (B, in1) @ (in1, out * in2): every x1 @ weight[o], then the dot with x2 for each o.
    stacked = shape.reshape(shape.permute(weight, (1, 0, 2)), (in1, out_features * in2))
    products = shape.reshape(linalg.mm(rows1, stacked), (-1, out_features, in2))
    output = shape.reshape((products * rows2).sum(-1), leading + (out_features,))
    return output if bias is None else output + bias


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

"""Scaled dot-product attention: ``softmax(q kᵀ * scale + mask) v`` as one op.

One Function does the whole product, forward and backward side by side, and keeps the attention
weights for backward: a transformer calls it once per layer and step, and a composition of
matmul, masking, softmax and dropout would pay each op's Python path and a pass over the
(L, S) weights for each of them, twice.
"""

import math

import numpy as np

from .. import random
from .._backend import array_module
from .._dtype import C_TYPE_NAMES
from ..autograd.function import Function
from .linalg import _check_batch_broadcast
from .shape import UnsafeView


class ScaledDotProductFlashAttentionForCpu(Function):
    """``softmax(query @ keyᵀ * scale + mask) @ value`` over the last two dimensions.

    ``mask`` is None, a boolean array (True takes part) or an additive float array, broadcast
    to the weights (..., L, S); ``is_causal`` also masks each query's later keys (upper-left
    aligned: query i sees keys 0..i). A row with no key taking part gives zeros, as PyTorch's
    does. ``groups`` > 1 shares each key and value head among that many query heads
    (``enable_gqa``). ``keep``, when given, multiplies the weights (dropout: 0 or 1/(1-p)).
    """

    @staticmethod
    def forward(ctx, query, key, value, mask, is_causal, scale, groups, keep):
        xp = array_module(query)
        shared_key, shared_value = _shared(key, groups), _shared(value, groups)
        weights = xp.matmul(query, shared_key.swapaxes(-1, -2))
        weights *= scale
        if mask is not None:
            if mask.dtype == np.bool_:
                weights = xp.where(mask, weights, -math.inf).astype(weights.dtype, copy=False)
            else:
                weights = weights + mask
        if is_causal:
            later = ~xp.tri(weights.shape[-2], weights.shape[-1], dtype=bool)
            xp.copyto(weights, -math.inf, where=later)
        # Softmax over the keys, in place. A fully masked row has maximum -inf; shifting it by
        # 0 instead gives exp = 0 everywhere, and dividing by 1 keeps its weights 0, not NaN.
        row_max = weights.max(axis=-1, keepdims=True) if weights.shape[-1] else \
            xp.zeros(weights.shape[:-1] + (1,), weights.dtype)
        row_max[row_max == -math.inf] = 0
        weights -= row_max
        xp.exp(weights, out=weights)
        total = weights.sum(axis=-1, keepdims=True)
        total[total == 0] = 1
        weights /= total
        ctx.save_for_backward(query, key, value, weights, keep)
        ctx.scale, ctx.groups = scale, groups
        return xp.matmul(weights if keep is None else weights * keep, shared_value)

    @staticmethod
    def backward(ctx, grad_output):
        query, key, value, weights, keep = ctx.saved_tensors
        groups = ctx.groups
        key, value = _shared(key, groups), _shared(value, groups)
        needs_query, needs_key, needs_value, needs_mask = ctx.needs_input_grad[:4]
        grad_query = grad_key = grad_value = grad_mask = None
        if needs_value:
            used = weights if keep is None else weights * keep
            grad_value = _summed_over_group(used.swapaxes(-1, -2) @ grad_output, groups)
        if needs_query or needs_key or needs_mask:
            grad_weights = grad_output @ value.swapaxes(-1, -2)
            if keep is not None:
                grad_weights *= keep
            # The softmax's Jacobian diag(w) - w wᵀ applied to g: w * (g - <g, w>).
            grad_weights -= (grad_weights * weights).sum(axis=-1, keepdims=True)
            grad_weights *= weights
            if needs_mask:
                grad_mask = grad_weights.copy()
            grad_weights *= ctx.scale
            if needs_query:
                grad_query = grad_weights @ key
            if needs_key:
                grad_key = _summed_over_group(grad_weights.swapaxes(-1, -2) @ query, groups)
        return grad_query, grad_key, grad_value, grad_mask, None, None, None, None


def _shared(heads, groups):
    """Key or value heads, each repeated for the ``groups`` query heads that share it."""
    return heads if groups == 1 else array_module(heads).repeat(heads, groups, axis=-3)


def _summed_over_group(grad, groups):
    """The gradient of a key or value head shared by ``groups`` query heads: their sum."""
    if groups == 1:
        return grad
    heads = grad.shape[-3] // groups
    return grad.reshape(grad.shape[:-3] + (heads, groups) + grad.shape[-2:]).sum(axis=-3)


# ---- the plain functions -----------------------------------------------------------------

def _check_attention(query, key, value, attn_mask, enable_gqa) -> int:
    """PyTorch's errors for attention inputs; returns how many query heads share a key head."""
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, "
                           f"but got query.dim: {query.ndim} key.dim: {key.ndim} and value.dim: "
                           f"{value.ndim} instead.")
    if not query.dtype == key.dtype == value.dtype:
        names = [C_TYPE_NAMES[t.dtype.numpy.name] for t in (query, key, value)]
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {names[0]} key.dtype: {names[1]} and value.dtype: "
                           f"{names[2]} instead.")
    if attn_mask is not None and attn_mask.dtype.numpy != np.bool_ \
            and attn_mask.dtype != query.dtype:
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                           f"dtype, but got attn_mask.dtype: "
                           f"{C_TYPE_NAMES[attn_mask.dtype.numpy.name]} and  query.dtype: "
                           f"{C_TYPE_NAMES[query.dtype.numpy.name]} instead.")
    if query.shape[-1] != key.shape[-1]:
        batch = math.prod(key.shape[:-2])
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{batch}, {query.shape[-1]}] but got: [{batch}, {key.shape[-1]}].")
    groups = 1
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3 and query.shape[-3] != key.shape[-3]:
        if query.shape[-3] % key.shape[-3] or query.shape[-3] % value.shape[-3] \
                or key.shape[-3] != value.shape[-3]:
            raise RuntimeError("Number of heads in key and value must divide the number of "
                               "heads in ")
        groups = query.shape[-3] // key.shape[-3]
    grouped = tuple(key.shape[:-3]) + (key.shape[-3] * groups,) if key.ndim >= 3 else ()
    _check_batch_broadcast(tuple(query.shape[:-2]), grouped or tuple(key.shape[:-2]))
    return groups


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale=None, enable_gqa: bool = False):
    """Attention: ``softmax(query @ key.T * scale + attn_mask) @ value``.

    Args:
        query: (..., L, E); key: (..., S, E); value: (..., S, Ev); their batch dimensions
            broadcast.
        attn_mask: boolean (True: the query may attend to the key) or float (added to the
            scores), broadcastable to (..., L, S).
        dropout_p: probability of zeroing each attention weight (the others scaled by
            1 / (1 - p)); pass 0 in evaluation.
        is_causal: query i attends to keys 0..i only (upper-left aligned when L != S); with
            ``attn_mask``, a key must pass both (as PyTorch's fused CPU kernel does; its
            composed path, for other inputs, refuses the pair).
        scale: the factor on the scores, ``1 / sqrt(E)`` by default.
        enable_gqa: key and value may have fewer heads (dimension -3) than query, each shared
            by a group of query heads.

    A query row that may attend to no key gives zeros.

    Example:
        >>> import ember
        >>> import ember.nn.functional as F
        >>> q = k = v = ember.ones(1, 2, 3, 4)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        ember.Size([1, 2, 3, 4])
    """
    groups = _check_attention(query, key, value, attn_mask, enable_gqa)
    if scale is None:
        scale = 1 / math.sqrt(query.shape[-1])
    keep = None
    if dropout_p > 0.0:
        shape = tuple(query.shape[:-1]) + (key.shape[-2],)
        if dropout_p >= 1.0:
            keep = array_module(query._data).zeros(shape, query._data.dtype)
        else:
            drawn = random.uniform(shape, 0.0, 1.0, np.float32, query.device) >= dropout_p
            keep = drawn.astype(query._data.dtype) * (1.0 / (1.0 - dropout_p))
    output = ScaledDotProductFlashAttentionForCpu.apply(query, key, value, attn_mask,
                                                        is_causal, float(scale), groups, keep)
    # PyTorch's fused kernel takes 4-D inputs of one batch and head count, without dropout,
    # and a 2-D or 4-D mask that needs no gradient; for the rest it composes ops that end in a
    # reshape of a product, and its graph's top node is that reshape.
    fused = (query.ndim == key.ndim == value.ndim == 4 and keep is None
             and query.shape[0] == key.shape[0] == value.shape[0]
             and query.shape[1] == key.shape[1] * groups and key.shape[1] == value.shape[1]
             and value.shape[-1] == query.shape[-1]
             and (attn_mask is None or attn_mask.ndim in (2, 4) and not attn_mask.requires_grad))
    return output if fused else UnsafeView.apply(output, tuple(output.shape))

"""Scaled dot-product attention: ``softmax(q kᵀ * scale + mask) v`` as one op.

One Function does the whole product, forward and backward side by side, and keeps the attention
weights for backward: a transformer calls it once per layer and step, and a composition of
matmul, masking, softmax and dropout would pay each op's Python path and a pass over the
(L, S) weights for each of them, twice.
"""

import math
import warnings

import numpy as np

from .. import _C, _dtype, random
from .._backend import array_module
from .._dtype import C_TYPE_NAMES
from .._parallel import kernel_parts
from ..autograd.function import Function
from . import creation
from .activation import dropout, softmax
from .conv import pad
from .linalg import _check_batch_broadcast, addmm, matmul, mm
from .shape import UnsafeView, cat, reshape, t


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
        if mask is None and groups == 1 and _compiled(query, key, value):
            return _forward_compiled(ctx, query, key, value, is_causal, scale, keep)
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
        if not ctx.needs_input_grad[3] and groups == 1 and _compiled(query, key, value) \
                and type(grad_output) is np.ndarray and grad_output.dtype == query.dtype \
                and weights.shape[:-1] == query.shape[:-1]:  # not broadcast by a mask
            return _backward_compiled(ctx, grad_output, query, key, value, weights, keep)
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


# The compiled path (ember/_C/attention.inc): the whole op, forward or backward, is one call
# that takes the (batch, head) matrices one at a time over ember's threads (each matrix's
# results do not depend on the split), with ember's own products (ember/_C/panel.c) and the
# softmax and its backward in one pass a row. The NumPy code above is its twin: the results
# agree within float rounding (another order of sums in the products, and vexp.h's exp).
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _compiled(query, key, value) -> bool:
    """Whether the compiled path takes these inputs: the extension is built, they are NumPy
    arrays of one dtype (float32 or float64), at least 3-D, with one batch shape (no
    broadcasting between them), none empty (the NumPy code gives those their zeros)."""
    return (_C.kernels is not None and type(query) is np.ndarray
            and type(key) is np.ndarray and type(value) is np.ndarray
            and query.dtype in _KERNEL_DTYPES and key.dtype == query.dtype == value.dtype
            and query.ndim >= 3 and query.shape[:-2] == key.shape[:-2] == value.shape[:-2]
            and query.size > 0 and key.size > 0 and value.size > 0)


def _matrices(array):
    """``array`` (..., rows, columns) as the 4-D stack of matrices the kernels take, a view
    where it can be: 3-D gets a head dimension of 1, and more than 4 dimensions are merged
    into the batch. Rows need contiguous elements; a view without them is copied."""
    if array.ndim == 3:
        array = array[:, None]
    elif array.ndim > 4:
        array = array.reshape((-1,) + array.shape[-3:])
    if array.strides[-1] != array.itemsize and array.shape[-1] > 1:
        array = np.ascontiguousarray(array)  # inputs only: outputs are made with such rows
    return array


def _call_sizes(query, key, value) -> tuple:
    """(B, H, L, S, D, Dv) of the kernels' call (B, H as ``_matrices`` makes them), and the
    work of one matrix (multiply-adds of its products, about 20 operations per weight for the
    softmax)."""
    heads = query.shape[-3] if query.ndim > 3 else 1
    length, keys = query.shape[-2], key.shape[-2]
    features, value_features = query.shape[-1], value.shape[-1]
    work = length * keys * (features + value_features + 20)
    return (query.size // (heads * length * features), heads, length, keys, features,
            value_features), work


def _empty_in_layout(like, last: int):
    """An empty array of ``like.shape[:-1] + (last,)``, laid out as ``like`` is: for 4-D
    heads split out of one projection, ``(batch, length, heads, features)`` in memory, so
    that the transpose back that follows attention is contiguous and its copy free. PyTorch's
    attention lays out its output and gradients the same way."""
    shape = like.shape[:-1] + (last,)
    if like.ndim == 4 and like.strides[1] < like.strides[2] and like.shape[1] > 1:
        batch, heads, length = shape[:3]
        return np.empty((batch, length, heads, last), like.dtype).transpose(0, 2, 1, 3)
    return np.empty(shape, like.dtype)


def _keep_of(keep):
    """Dropout's factors as the kernels read them (C-contiguous), or None."""
    return None if keep is None else np.ascontiguousarray(keep)


def _forward_compiled(ctx, query, key, value, is_causal, scale, keep):
    sizes, work = _call_sizes(query, key, value)
    weights = np.empty(query.shape[:-1] + (key.shape[-2],), query.dtype)
    out = _empty_in_layout(query, value.shape[-1])
    _C.kernels.attention_forward(_matrices(query), _matrices(key), _matrices(value), weights,
                                 _matrices(out), _keep_of(keep), sizes, scale, is_causal,
                                 kernel_parts(sizes[0] * sizes[1], work))
    ctx.save_for_backward(query, key, value, weights, keep)
    ctx.scale, ctx.groups = scale, 1
    return out


def _backward_compiled(ctx, grad_output, query, key, value, weights, keep):
    needs_query, needs_key, needs_value = ctx.needs_input_grad[:3]
    grads = [_empty_in_layout(like, like.shape[-1]) if needed else None
             for like, needed in ((query, needs_query), (key, needs_key), (value, needs_value))]
    sizes, work = _call_sizes(query, key, value)
    _C.kernels.attention_backward(
        _matrices(grad_output), _matrices(query), _matrices(key), _matrices(value), weights,
        _keep_of(keep), *(None if grad is None else _matrices(grad) for grad in grads), sizes,
        ctx.scale, kernel_parts(sizes[0] * sizes[1], 2 * work))
    return (*grads, None, None, None, None, None)


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
            keep = random.dropout_mask(shape, dropout_p, query._data.dtype, query.device)
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


# ---- multi-head attention, composed ------------------------------------------------------

def _canonical_mask(mask, mask_name: str, other_type, other_name: str, target_type,
                    check_other: bool = True):
    """A boolean mask (True: masked out) as an additive float one (-inf where masked) of
    ``target_type``; a float mask as it is. ``other_type`` is the other mask's dtype, which
    PyTorch wants equal (it warns otherwise)."""
    if mask is None:
        return None
    is_float = mask.dtype.is_floating_point
    if mask.dtype != _dtype.bool and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      "same type for both instead.", UserWarning, stacklevel=3)
    if is_float:
        return mask
    return creation.zeros(tuple(mask.shape), dtype=target_type,
                          device=mask.device).masked_fill(mask, -math.inf)


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """PyTorch's checks of the inputs' dimensions; True for batched (3-D) input."""
    if query.ndim not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                             f"{query.ndim}-D query tensor")
    batched = query.ndim == 3
    name = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f"For {name} `query`, expected `key` and `value` to be "
                             f"{query.ndim}-D but found {key.ndim}-D and {value.ndim}-D tensors "
                             "respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise AssertionError(f"For {name} `query`, expected `key_padding_mask` to be `None` or "
                             f"{query.ndim - 1}-D but found {key_padding_mask.ndim}-D tensor "
                             "instead")
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise AssertionError(f"For {name} `query`, expected `attn_mask` to be `None`, 2-D "
                                 f"or 3-D but found {attn_mask.ndim}-D tensor instead")
        expected = (num_heads, query.shape[0], key.shape[0])
        if not batched and attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
            raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                 f"{attn_mask.shape}")
    return batched


def linear(input, weight, bias):
    """``input @ weight.T + bias`` on (..., in_features) input: ``F.linear``, whose graph
    (``addmm`` on the rows) it repeats, written here since ``ember.nn`` imports this file."""
    rows = reshape(input, (-1, input.shape[-1]))
    product = mm(rows, t(weight)) if bias is None else addmm(bias, rows, t(weight))
    return reshape(product, tuple(input.shape[:-1]) + (weight.shape[0],))


def _in_projection(query, key, value, weights, biases):
    """``(q, k, v)``: each input through its projection. Self-attention (one tensor for all
    three) with one packed weight does a single product and splits it."""
    if query is key is value and len(weights) == 1:
        return linear(query, weights[0], biases[0]).chunk(3, dim=-1)
    if len(weights) == 1:
        weights = weights[0].chunk(3)
    biases = (None,) * 3 if biases[0] is None else (
        biases[0].chunk(3) if len(biases) == 1 else biases)
    return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))


def multi_head_attention_forward(
        query, key, value, embed_dim_to_check: int, num_heads: int, in_proj_weight,
        in_proj_bias, bias_k, bias_v, add_zero_attn: bool, dropout_p: float, out_proj_weight,
        out_proj_bias, training: bool = True, key_padding_mask=None, need_weights: bool = True,
        attn_mask=None, use_separate_proj_weight: bool = False, q_proj_weight=None,
        k_proj_weight=None, v_proj_weight=None, static_k=None, static_v=None,
        average_attn_weights: bool = True, is_causal: bool = False):
    """Multi-head attention on (L, N, E) query and (S, N, E) key and value (sequence first),
    or unbatched (L, E) and (S, E): what ``nn.MultiheadAttention`` computes.

    Masks: ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S) or (N * num_heads, L, S);
    boolean ones are True where a position is masked out, float ones are added to the scores.
    With ``need_weights`` the weights are computed as a softmax of their own (a query that
    may attend to no key gives NaN, as in PyTorch) and returned, averaged over the heads if
    ``average_attn_weights``; otherwise the product is ``scaled_dot_product_attention``'s.

    Returns:
        ``(attn_output, attn_weights)``; the weights are None without ``need_weights``.

    Example:
        >>> import ember
        >>> import ember.nn.functional as F
        >>> x, w = ember.ones(3, 2, 4), ember.ones(12, 4)
        >>> out, weights = F.multi_head_attention_forward(
        ...     x, x, x, 4, 2, w, None, None, None, False, 0.0, ember.ones(4, 4), None)
        >>> out.shape, weights.shape
        (ember.Size([3, 2, 4]), ember.Size([2, 3, 3]))
    """
    batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       None if attn_mask is None else attn_mask.dtype,
                                       "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint stands for the mask: the product masks causally itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
        weights = (q_proj_weight, k_proj_weight, v_proj_weight)
        biases = (None,) if in_proj_bias is None else in_proj_bias.chunk(3)
    else:
        if key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape "
                                 f"{value.shape}")
        weights, biases = (in_proj_weight,), (in_proj_bias,)
    q, k, v = _in_projection(query, key, value, weights, biases)

    if attn_mask is not None:
        expected = (tgt_len, key.shape[0]) if attn_mask.ndim == 2 else \
            (bsz * num_heads, tgt_len, key.shape[0])
        if attn_mask.ndim not in (2, 3):
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")
        if tuple(attn_mask.shape) != expected:
            raise RuntimeError(f"The shape of the {attn_mask.ndim}D attn_mask is "
                               f"{attn_mask.shape}, but should be {expected}.")
        if attn_mask.ndim == 2:
            attn_mask = attn_mask.unsqueeze(0)
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))

    # Heads become batch entries: (sequence, batch * heads, head_dim) -> (batch * heads, ...).
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
         if static_k is None else static_k)
    v = (v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
         if static_v is None else static_v)
    if add_zero_attn:
        zeros = creation.zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k, v = cat([k, zeros], dim=1), cat([v, zeros], dim=1)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"expected key_padding_mask of shape {(bsz, src_len)}, but "
                                 f"got {tuple(key_padding_mask.shape)}")
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(
            -1, num_heads, -1, -1).reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = matmul(q * math.sqrt(1.0 / head_dim), k.transpose(-2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        attn_weights = softmax(scores, dim=-1)
        if dropout_p > 0.0:
            attn_weights = dropout(attn_weights, p=dropout_p)
        attn_output = matmul(attn_weights, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        attn_weights = attn_weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            attn_weights = attn_weights.mean(dim=1)
    else:
        if attn_mask is not None:
            attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else \
                attn_mask.reshape(bsz, num_heads, -1, src_len)
        attn_output = scaled_dot_product_attention(
            q.reshape(bsz, num_heads, tgt_len, head_dim),
            k.reshape(bsz, num_heads, src_len, head_dim),
            v.reshape(bsz, num_heads, src_len, head_dim), attn_mask, dropout_p, is_causal)
        attn_output = attn_output.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
        attn_weights = None
    attn_output = linear(attn_output, out_proj_weight, out_proj_bias)
    attn_output = attn_output.reshape(tgt_len, bsz, attn_output.shape[1])
    if not batched:
        attn_output = attn_output.squeeze(1)
        if attn_weights is not None:
            attn_weights = attn_weights.squeeze(0)
    return attn_output, attn_weights

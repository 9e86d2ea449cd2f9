"""Embedding lookup: rows of a weight matrix picked by integer indices (``F.embedding``).

The forward is one ``take``; the backward adds each output row's gradient into the weight row
it came from. Indices repeat (every occurrence of a character or token), so the backward is a
scatter-add, and NumPy's ``np.add.at`` is slow at it (it loops in C per index, without
vectorising over the embedding dimension; ``np.add.reduceat`` over rows is little better).
Here the indices are sorted once and the gradient rows gathered in that order (``take``), so
the rows of each index lie together, and then:

- an index with many rows (more than sqrt(n)) gets one contiguous ``sum``;
- the others, with few rows each, are added rank by rank: the first row of every such index in
  one vectorised assignment, then the second rows, and so on.

Each loop runs at most sqrt(n) times, whatever the distribution of indices (a small vocabulary,
a large one, one padding index repeated everywhere). Tiny lookups (a makemore batch) skip the
sorting: a one-hot matrix (vocabulary x indices) times the gradient is one small product.
"""

import math

import numpy as np

from .._backend import array_module
from .._tensor import Tensor, type_name
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from .linalg import matrix_product

# Up to this many one-hot entries (vocabulary x indices), the one-hot product beats sorting.
_ONE_HOT_ENTRIES = 1 << 16


def _scatter_rows(xp, index, grad, num_rows: int):
    """A (num_rows, D) array whose row ``k`` sums ``grad[j]`` over every ``j`` with
    ``index[j] == k``; ``index`` is 1-d, ``grad`` is (len(index), D)."""
    out = xp.zeros((num_rows, grad.shape[1]), grad.dtype)
    if index.size == 0:
        return out
    if xp is not np:
        import cupyx
        cupyx.scatter_add(out, index, grad)
        return out
    if num_rows * index.size <= _ONE_HOT_ENTRIES:
        one_hot = np.zeros((num_rows, index.size), grad.dtype)
        one_hot[index, np.arange(index.size)] = 1
        return matrix_product(one_hot, grad)
    order = np.argsort(index, kind="stable")
    sorted_index = index[order]
    rows = np.take(grad, order, axis=0)  # (take is several times faster than rows[order])
    starts = np.flatnonzero(np.concatenate(([True], sorted_index[1:] != sorted_index[:-1])))
    counts = np.diff(np.append(starts, index.size))
    targets = sorted_index[starts]
    limit = math.isqrt(index.size) + 1
    heavy = counts > limit
    for target, start, count in zip(targets[heavy].tolist(), starts[heavy].tolist(),
                                    counts[heavy].tolist()):
        np.sum(rows[start:start + count], axis=0, out=out[target])
    light = np.flatnonzero(~heavy)
    light = light[np.argsort(-counts[light], kind="stable")]  # most rows first
    light_counts = counts[light]
    light_starts, light_targets = starts[light], targets[light]
    for rank in range(int(light_counts[0]) if light.size else 0):
        # the indices with more than ``rank`` rows: a prefix, as they are sorted by count
        present = int(np.searchsorted(-light_counts, -rank, side="left"))
        out[light_targets[:present]] += rows[light_starts[:present] + rank]
    return out


class Embedding(Function):
    """``weight[indices]``; the weight's gradient sums the rows' gradients per index, skipping
    ``padding_idx`` and dividing by each index's count under ``scale_grad_by_freq``."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx: int, scale_grad_by_freq: bool):
        ctx.num_rows, ctx.padding_idx = weight.shape[0], padding_idx
        ctx.scale_grad_by_freq = scale_grad_by_freq
        ctx.save_for_backward(indices)
        return array_module(weight).take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, grad):
        indices, = ctx.saved_tensors
        xp = array_module(grad)
        index = indices.reshape(-1)
        rows = grad.reshape(index.size, grad.shape[-1])
        grad_weight = _scatter_rows(xp, index, rows, ctx.num_rows)
        if ctx.scale_grad_by_freq:
            counts = xp.bincount(index, minlength=ctx.num_rows)
            grad_weight /= xp.maximum(counts, 1)[:, None].astype(grad.dtype)
        if ctx.padding_idx >= 0:
            grad_weight[ctx.padding_idx] = 0
        return grad_weight, None, None, None


# ---- the plain functions -----------------------------------------------------------------

def check_indices(input: Tensor, num_embeddings: int) -> None:
    """PyTorch's errors for indices that are not int64/int32, or out of ``[0, num_embeddings)``.

    Reads the indices' values (min and max), so it runs before the op, outside the kernels.
    """
    data = input._data
    if data.dtype.kind != "i" or data.dtype.itemsize not in (4, 8):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"{type_name(data)} instead (while checking "
                           "arguments for embedding)")
    if data.size and (int(data.min()) < 0 or int(data.max()) >= num_embeddings):
        raise IndexError("index out of range in self")


def renorm_rows(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    """Scale, in place, each row of ``weight`` that ``input`` names and whose ``norm_type``-norm
    exceeds ``max_norm`` down to norm ``max_norm`` (PyTorch's ``embedding_renorm_``)."""
    data = weight._data
    xp = array_module(data)
    rows = xp.unique(input._data.reshape(-1))
    norms = xp.linalg.norm(data[rows].astype(np.float64), ord=norm_type, axis=1)
    too_long = norms > max_norm
    rows = rows[too_long]
    # PyTorch adds 1e-7 to the norm, so a renormed row ends just under max_norm.
    scale = (max_norm / (norms[too_long] + 1e-7)).astype(data.dtype)
    data[rows] *= scale[:, None]
    weight._version[0] += 1


def embedding(input: Tensor, weight: Tensor, padding_idx: "int | None" = None,
              max_norm: "float | None" = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of ``weight`` (num_embeddings, embedding_dim) at the integer ``input``.

    Args:
        input: int64 or int32 indices, any shape; the result has shape (*input.shape, dim).
        weight: the embedding matrix.
        padding_idx: a row that gets no gradient (negative counts from the end).
        max_norm: rows looked up whose norm exceeds it are rescaled in ``weight``, in place.
        norm_type: the p of the p-norm for ``max_norm``.
        scale_grad_by_freq: divide each row's gradient by how often it occurs in ``input``.
        sparse: sparse gradients; ember has none, so True raises.

    Example:
        >>> import ember
        >>> import ember.nn.functional as F
        >>> F.embedding(ember.tensor([[0, 2]]), ember.eye(3))
        tensor([[[1., 0., 0.],
                 [0., 0., 1.]]])
    """
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if sparse:
        raise NotImplementedError("ember has no sparse tensors: embedding(sparse=True) is not "
                                  "supported; use sparse=False (a dense gradient)")
    num_rows = weight.shape[0]
    if padding_idx is None:
        padding_idx = -1
    elif padding_idx < 0:
        if padding_idx < -num_rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx += num_rows
    elif padding_idx >= num_rows:
        raise AssertionError("Padding_idx must be within num_embeddings")
    check_indices(input, num_rows)
    if max_norm is not None:
        with no_grad():
            renorm_rows(weight, input, max_norm, norm_type)
    return Embedding.apply(weight, input, padding_idx, scale_grad_by_freq)

"""Matrix products: mm, addmm (Linear's op), mv, dot, bmm and the general matmul."""

import numpy as np

from .. import _blas
from .._backend import array_module
from .._dtype import C_TYPE_NAMES, type_name
from .._parallel import parallel_for, worth_splitting
from .._tensor import Tensor
from ..autograd.function import Function
from .elementwise import write_out
from .shape import SqueezeInplaceDim, UnsafeView, reshape, unsqueeze


def _shape_str(shape) -> str:
    return "x".join(str(s) for s in shape)


def _check_mm(a, b) -> None:
    # PyTorch multiplies matrices of one dtype only (no promotion), and says so.
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{C_TYPE_NAMES[a.dtype.name]} != {C_TYPE_NAMES[b.dtype.name]}")
    if a.shape[-1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(a.shape)} and "
                           f"{_shape_str(b.shape)})")


def matrix_product(a, b):
    """``a @ b`` for 2-D arrays, with two special cases.

    The outer-product case (inner size 1) is a broadcast multiply: OpenBLAS's gemm is about 5x
    slower than that when k is 1, which is every weight gradient of a Linear layer at batch
    size 1. A large product is split into bands of rows for ``parallel_for``, each on one
    OpenBLAS thread; a product too small to split but large enough for OpenBLAS to use its
    threads runs with ember's BLAS thread count (see ``_blas``). Its work counts an eighth per
    multiply-add: a plain product does them several times faster than a convolution, whose
    work includes copying its columns, so splitting pays only from about 8 million (a batch of
    256 through the tutorial net's first Linear layer; at 64, waking a thread costs what it
    saves).
    """
    if a.shape[-1] == 1:
        return a * b
    (rows, inner), columns = a.shape, b.shape[1]
    work = inner * columns // 8
    if type(a) is not np.ndarray or not worth_splitting(rows, work):
        if type(a) is np.ndarray and rows * inner * columns >= _blas.MIN_SCOPED_WORK:
            return _blas.limited(np.matmul, a, b)  # on ember's BLAS threads, see ``_blas``
        return a @ b
    out = np.empty((rows, columns), dtype=np.result_type(a, b))

    def band(start, stop):
        np.matmul(a[start:stop], b, out=out[start:stop])

    parallel_for(rows, band, work, like=a)
    return out


def weight_gradient(mat1, grad):
    """``mat1.T @ grad``, the gradient of ``mat2`` in ``mat1 @ mat2``, computed as the
    transpose of ``grad.T @ mat1``: Linear's ``mat2`` is ``weight.t()``, so the transpose that
    carries this gradient back to the weight then gives a contiguous array."""
    return matrix_product(grad.T, mat1).T


class Mm(Function):
    @staticmethod
    def forward(ctx, a, b):
        _check_mm(a, b)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return matrix_product(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (matrix_product(grad, b.T) if ctx.needs_input_grad[0] else None,
                weight_gradient(a, grad) if ctx.needs_input_grad[1] else None)


class Addmm(Function):
    """``bias + mat1 @ mat2``: ``F.linear`` on a batch of vectors, with ``mat2 = weight.t()``."""

    @staticmethod
    def forward(ctx, bias, mat1, mat2):
        for matrix in (mat1, mat2):
            if bias.dtype != matrix.dtype:
                raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                                   f"{type_name(bias.dtype)} and {type_name(matrix.dtype)}")
        _check_mm(mat1, mat2)
        ctx.save_for_backward(mat1 if ctx.needs_input_grad[2] else None,
                              mat2 if ctx.needs_input_grad[1] else None)
        out = matrix_product(mat1, mat2)
        out += bias
        return out

    @staticmethod
    def backward(ctx, grad):
        mat1, mat2 = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (grad if needs[0] else None,
                matrix_product(grad, mat2.T) if needs[1] else None,
                weight_gradient(mat1, grad) if needs[2] else None)


class Mv(Function):
    @staticmethod
    def forward(ctx, a, v):
        if a.dtype != v.dtype:
            raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                               f"{type_name(a.dtype)}, {type_name(v.dtype)}")
        if a.shape[1] != v.shape[0]:
            raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat "
                               f"({_shape_str(a.shape)}), vec ({v.shape[0]})")
        ctx.save_for_backward(a, v)
        return a @ v

    @staticmethod
    def backward(ctx, grad):
        a, v = ctx.saved_tensors
        xp = array_module(grad)
        return xp.outer(grad, v), a.T @ grad


class Dot(Function):
    @staticmethod
    def forward(ctx, a, b):
        if a.dtype != b.dtype:
            raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                               f"{type_name(a.dtype)} and {type_name(b.dtype)}")
        if a.shape != b.shape:
            raise RuntimeError("inconsistent tensor size, expected tensor [{}] and src [{}] to "
                               "have the same number of elements, but got {} and {} elements "
                               "respectively".format(a.shape[0], b.shape[0], a.size, b.size))
        ctx.save_for_backward(a, b)
        return array_module(a).dot(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a


class Bmm(Function):
    """Batched (broadcasting) matrix product of arrays with at least 2 dimensions."""

    @staticmethod
    def forward(ctx, a, b):
        if a.dtype != b.dtype:
            raise RuntimeError(f"expected scalar type {type_name(a.dtype)} but found "
                               f"{type_name(b.dtype)}")
        if a.shape[-1] != b.shape[-2]:
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                               f"[{b.shape[0] if b.ndim > 2 else 1}, {a.shape[-1]}] but got: "
                               f"[{b.shape[0] if b.ndim > 2 else 1}, {b.shape[-2]}].")
        ctx.save_for_backward(a, b)
        return array_module(a).matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad @ b.swapaxes(-1, -2), a.swapaxes(-1, -2) @ grad


# ---- the plain functions -----------------------------------------------------------------

def _write_product(name: str, result, out):
    """``write_out`` for matrix products, which PyTorch writes only into ``out`` of their dtype."""
    if getattr(out, "dtype", result.dtype) != result.dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {C_TYPE_NAMES[result.dtype.name]}, "
                           f"but got {C_TYPE_NAMES[out.dtype.name]} instead")
    return write_out(name, result, out)


def mm(input, mat2, *, out=None):
    """Product of two matrices (into ``out`` when given, see ``elementwise.write_out``)."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError("self must be a matrix" if input.ndim != 2 else "mat2 must be a matrix")
    result = Mm.apply(input, mat2)
    return result if out is None else _write_product("mm", result, out)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` (the bias) broadcasts."""
    if beta != 1 or alpha != 1:
        result = input * beta + mm(mat1, mat2) * alpha
    else:
        result = Addmm.apply(input, mat1, mat2)
    return result if out is None else _write_product("addmm", result, out)


def mv(input, vec, *, out=None):
    """Product of a matrix and a vector, ``(n, m) @ (m,)``."""
    if input.ndim != 2 or vec.ndim != 1:
        # PyTorch's mv is addmv into an empty result: the 1 is that result's dimension count.
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    result = Mv.apply(input, vec)
    return result if out is None else _write_product("mv", result, out)


def dot(input, tensor, *, out=None):
    """The inner product of two 1-D tensors of one size and dtype."""
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D "
                           "tensors")
    result = Dot.apply(input, tensor)
    return result if out is None else _write_product("dot", result, out)


def bmm(input, mat2, *, out=None):
    """Products of two batches of matrices, ``(b, n, k) @ (b, k, m)``, without broadcasting."""
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if mat2.shape[0] != input.shape[0] or mat2.shape[1] != input.shape[2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, "
                           f"{mat2.shape[1]}].")
    result = Bmm.apply(input, mat2)
    return result if out is None else _write_product("bmm", result, out)


def matmul(input, other, *, out=None):
    """Matrix product with NumPy's rules for 1-D and batched operands.

    The graph has PyTorch's shape at its top: a batched product ends in ``UnsafeViewBackward0``
    (the product's result reshaped), and a stack of matrices times one matrix is a single
    ``mm`` on the stack folded into rows.

    Example:
        >>> import ember
        >>> (ember.ones(2, 3) @ ember.ones(3, 4)).shape
        ember.Size([2, 4])

    With ``out``, the product is stored there (see ``elementwise.write_out``).
    """
    result = _matmul(input, other)
    return result if out is None else _write_product("matmul", result, out)


def _check_batch_broadcast(batch_a, batch_b) -> None:
    """PyTorch's error when the batch dimensions of a matmul do not broadcast."""
    for offset in range(1, min(len(batch_a), len(batch_b)) + 1):
        size_a, size_b = batch_a[-offset], batch_b[-offset]
        if size_a != size_b and size_a != 1 and size_b != 1:
            dim = max(len(batch_a), len(batch_b)) - offset
            raise RuntimeError(f"The size of tensor a ({size_a}) must match the size of tensor "
                               f"b ({size_b}) at non-singleton dimension {dim}")


def _matmul(a, b):
    if not isinstance(b, Tensor) or not isinstance(a, Tensor):
        raise TypeError("matmul(): argument 'other' must be Tensor")
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    if a.ndim == 2 and b.ndim == 2:
        return Mm.apply(a, b)
    if a.ndim == 1 and b.ndim == 1:
        return Dot.apply(a, b)
    if a.ndim == 2 and b.ndim == 1:
        return Mv.apply(a, b)
    if a.ndim == 1 and b.ndim == 2:
        return SqueezeInplaceDim.apply(Mm.apply(unsqueeze(a, 0), b), 0)
    if b.ndim <= 2:  # (..., n, k) @ (k, m) or (k,): one product on the rows of all matrices
        rows = reshape(a, (-1, a.shape[-1]))
        product = Mm.apply(rows, b) if b.ndim == 2 else Mv.apply(rows, b)
        return UnsafeView.apply(product, tuple(a.shape[:-1]) + tuple(b.shape[1:]))
    left = unsqueeze(a, 0) if a.ndim == 1 else a
    _check_batch_broadcast(left.shape[:-2], b.shape[:-2])
    product = Bmm.apply(left, b)
    shape = product.shape[:-2] + (product.shape[-1],) if a.ndim == 1 else product.shape
    return UnsafeView.apply(product, tuple(shape))

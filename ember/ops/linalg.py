"""Matrix products: mm, addmm (Linear's op), mv, dot, bmm and the general matmul."""

import math
import warnings
from collections import namedtuple

import numpy as np

from .. import _C, _blas, _parallel, _recording
from .._backend import array_module
from .._dtype import C_TYPE_NAMES, result_dtype, type_name
from .._parallel import parallel_for, worth_splitting
from .._tensor import Tensor
from ..autograd.function import Function
from . import creation, reduction
from .elementwise import broadcast_error, promote, where, write_out
from .shape import SqueezeProduct, UnsafeView, reshape, unsqueeze


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


# The compiled linear kernels (ember/_C/linear.inc) run a layer's forward or backward in one
# call where the NumPy code below makes two to four; a small layer's step is mostly the cost of
# those calls. The checks that choose them are written out (not ``_C.takes``): they run twice
# per layer and step, and cost as much as the kernel itself on such layers.
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # native byte order only
_NUMPY_ARRAY = np.ndarray  # the array type they take (not CuPy's; a test swaps in a subclass)


def _stored(matrix):
    """``matrix`` as BLAS reads it: ``(matrix, False)`` when it is C-contiguous, ``(matrix.T,
    True)`` when its transpose is (``weight.t()``), else ``(None, False)`` (a strided view)."""
    flags = matrix.flags
    if flags.c_contiguous:
        return matrix, False
    if flags.f_contiguous:
        return matrix.T, True
    return None, False


def _splits(m: int, n: int, k: int) -> bool:
    """Whether ``matrix_product`` would split a product of a linear layer, (m, k) @ (k, n)
    forward or one of its two backward, over ember's threads: the kernels then leave it to
    it. Each product's work is m * n * k / 8, so below that nothing is split."""
    return m * n * k >= 8 * _parallel.MIN_PARALLEL_WORK and (
        worth_splitting(m, n * k // 8) or worth_splitting(n, m * k // 8))


def _run_linear(kernel, args, work: int, fresh: tuple) -> None:
    """A linear kernel call, on ember's BLAS threads when it is large (see ``_blas``).

    ``fresh``: the positions of the arrays the caller just made for the kernel to write.
    While ``ember.compile`` captures a step, a direct call is reported as the op's whole
    computation, so that a replay can call the kernel itself (``ember/_recording.py``)."""
    if work >= _blas.MIN_SCOPED_WORK:
        _blas.limited(kernel, *args)
        return
    kernel(*args)
    if _recording.recorder is not None:
        _recording.recorder.kernel(kernel, args, fresh)


def _operand(matrix, dtype):
    """``_stored(matrix)`` for a kernel of ``dtype``: (None, False) for no matrix, or one the
    kernel cannot take (CuPy's, another dtype, strided)."""
    if matrix is None or type(matrix) is not _NUMPY_ARRAY or matrix.dtype != dtype:
        return None, False
    return _stored(matrix)


def linear_forward_compiled(mat1, mat2, bias):
    """``mat1 @ mat2 (+ bias)`` in one compiled call (``ember/_C/linear.inc``), with the bits
    of ``matrix_product`` and ``out += bias``; None when the kernel does not apply: no
    extension or BLAS for it, CuPy, other dtypes, strided views, a bias other than one value
    per column, or a product ``matrix_product`` would split over threads. The caller checked
    that the operands have one dtype."""
    if type(mat1) is not _NUMPY_ARRAY or mat1.dtype not in _KERNEL_DTYPES \
            or type(mat2) is not _NUMPY_ARRAY or mat1.ndim != 2 or mat2.ndim != 2 \
            or _C.kernels is None or not _C.gemm_ready():
        return None
    (m, k), n = mat1.shape, mat2.shape[1]
    if bias is not None and (type(bias) is not _NUMPY_ARRAY or bias.shape != (n,)
                             or not bias.flags.c_contiguous):
        return None
    a, trans_a = _stored(mat1)
    b, trans_b = _stored(mat2)
    if a is None or b is None:
        return None
    parts = 1
    if _splits(m, n, k):
        # Bands of rows, as matrix_product splits them, on ember's threads in the kernel.
        if trans_a or not worth_splitting(m, n * k // 8):
            return None
        parts = _parallel.kernel_parts(m, n * k // 8)
    out = np.empty((m, n), mat1.dtype)
    _run_linear(_C.kernels.linear_forward, (a, b, bias, out, (m, n, k), trans_a, trans_b, parts),
                m * n * k, (3,))
    return out


def linear_backward_compiled(grad, mat1, mat2, needs_bias: bool):
    """The gradients of ``mat1 @ mat2 (+ bias)`` in one compiled call: ``(bias's, mat1's,
    mat2's)``, each None unless wanted (``mat1`` is saved only when ``mat2``'s gradient is
    wanted, and the other way round; ``needs_bias``: the bias is one value per column and its
    gradient is wanted). The bias's gradient is already summed over the rows, as the engine's
    ``sum_to_shape`` would. Same bits as ``matrix_product`` and ``weight_gradient``; None when
    the kernel does not apply (as ``linear_forward_compiled``)."""
    if type(grad) is not _NUMPY_ARRAY or grad.dtype not in _KERNEL_DTYPES \
            or not grad.flags.c_contiguous or _C.kernels is None or not _C.gemm_ready():
        return None
    dtype = grad.dtype
    (m, n), k = grad.shape, (mat1.shape[1] if mat1 is not None else
                             mat2.shape[0] if mat2 is not None else 0)
    split = mat1 is not None and mat2 is not None and _two_tasks(grad, k)
    if not split and _splits(m, n, k):
        return None  # matrix_product splits each product into bands, one per thread
    (a, trans_a), (b, trans_b) = _operand(mat1, dtype), _operand(mat2, dtype)
    if (mat1 is not None and a is None) or (mat2 is not None and b is None):
        return None
    grad_bt = np.empty((n, k), dtype) if mat1 is not None else None
    grad_a = np.empty((m, k), dtype) if mat2 is not None else None
    grad_bias = np.empty(n, dtype) if needs_bias else None
    # Split: the input's gradient on one thread, the weight's (and the bias's) on another,
    # in the kernel: two products of m * n * k multiply-adds each, whole, in one split where
    # bands of each would take two.
    parts = _parallel.kernel_parts(2, m * n * k // 8) if split else 1
    _run_linear(_C.kernels.linear_backward,
                (grad, a, b, grad_a, grad_bt, grad_bias, (m, n, k), trans_a, trans_b, parts),
                m * n * k, (3, 4, 5))
    return grad_bias, grad_a, None if grad_bt is None else grad_bt.T


def _two_tasks(grad, inner: int) -> bool:
    """Whether a linear layer's backward, wanting both the input's and the weight's gradients
    from ``grad`` (m, n) and operands of inner size ``inner``, makes them as two tasks on two
    threads, each product whole (``_linear_gradients``, and the compiled kernel alike): on
    ember's two threads and when the products are large enough to split. The two products
    have the same m * n * inner multiply-adds, so the threads share the work evenly, in one
    split where bands of each product take two; with more threads, bands use them all."""
    m, n = grad.shape
    return (type(grad) is _NUMPY_ARRAY and _parallel.get_num_threads() == 2
            and worth_splitting(2, m * n * inner // 8))


def _linear_gradients(grad, mat1, mat2):
    """``(grad @ mat2.T, mat1.T @ grad)``, each whole on one of two threads (``_two_tasks``);
    inside a split, ``matrix_product`` runs on the calling thread, unsplit."""
    def tasks(start, stop):  # the weight's on the calling thread (_split_linear_backward)
        return [weight_gradient(mat1, grad) if task == 0 else matrix_product(grad, mat2.T)
                for task in range(start, stop)]

    (m, n), k = grad.shape, mat1.shape[1]
    parts = parallel_for(2, tasks, m * n * k // 8, like=grad)
    weight, input_ = [gradient for part in parts for gradient in part]
    return [input_, weight]


class Mm(Function):
    @staticmethod
    def forward(ctx, a, b):
        _check_mm(a, b)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        out = linear_forward_compiled(a, b, None)
        return matrix_product(a, b) if out is None else out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grads = linear_backward_compiled(grad, a, b, False)
        if grads is not None:
            return grads[1:]
        if a is not None and b is not None and _two_tasks(grad, a.shape[1]):
            return tuple(_linear_gradients(grad, a, b))
        return (matrix_product(grad, b.T) if ctx.needs_input_grad[0] else None,
                weight_gradient(a, grad) if ctx.needs_input_grad[1] else None)


class Addmm(Function):
    """``bias + mat1 @ mat2``: ``F.linear`` on a batch of vectors, with ``mat2 = weight.t()``.

    With the compiled kernels, forward and backward are one call each (``ember/_C/linear.inc``,
    the NumPy code below is its twin), and a bias of one value per column gets its gradient
    summed over the rows there rather than by the engine: the same numbers, one step fewer.
    """

    @staticmethod
    def forward(ctx, bias, mat1, mat2):
        for matrix in (mat1, mat2):
            if bias.dtype != matrix.dtype:
                raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                                   f"{type_name(bias.dtype)} and {type_name(matrix.dtype)}")
        _check_mm(mat1, mat2)
        needs = ctx.needs_input_grad
        ctx.save_for_backward(mat1 if needs[2] else None, mat2 if needs[1] else None)
        ctx.bias_per_column = needs[0] and bias.shape == (mat2.shape[1],)
        out = linear_forward_compiled(mat1, mat2, bias)
        if out is not None:
            return out
        out = matrix_product(mat1, mat2)
        out += bias
        return out

    @staticmethod
    def backward(ctx, grad):
        mat1, mat2 = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grads = linear_backward_compiled(grad, mat1, mat2, ctx.bias_per_column)
        if grads is not None:
            bias_grad = grads[0] if ctx.bias_per_column else grad if needs[0] else None
            return (bias_grad,) + grads[1:]
        if needs[1] and needs[2] and _two_tasks(grad, mat1.shape[1]):
            return (grad if needs[0] else None, *_linear_gradients(grad, mat1, mat2))
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
        # Each operand only for the other's gradient, as PyTorch saves them (an in-place change
        # to one whose gradient nobody needs is then no error, as there).
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              v if ctx.needs_input_grad[0] else None)
        return a @ v

    @staticmethod
    def backward(ctx, grad):
        a, v = ctx.saved_tensors
        xp = array_module(grad)
        return (xp.outer(grad, v) if ctx.needs_input_grad[0] else None,
                a.T @ grad if ctx.needs_input_grad[1] else None)


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
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,  # as Mv's
                              b if ctx.needs_input_grad[0] else None)
        return array_module(a).dot(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad * b if ctx.needs_input_grad[0] else None,
                grad * a if ctx.needs_input_grad[1] else None)


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
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,  # as Mv's
                              b if ctx.needs_input_grad[0] else None)
        return array_module(a).matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad @ b.swapaxes(-1, -2) if ctx.needs_input_grad[0] else None,
                a.swapaxes(-1, -2) @ grad if ctx.needs_input_grad[1] else None)


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
        return SqueezeProduct.apply(Mm.apply(unsqueeze(a, 0), b), 0)
    if b.ndim <= 2:  # (..., n, k) @ (k, m) or (k,): one product on the rows of all matrices
        # The number of rows spelled out: -1 is ambiguous when a row is empty (k == 0).
        rows = reshape(a, (math.prod(a.shape[:-1]), a.shape[-1]))
        product = Mm.apply(rows, b) if b.ndim == 2 else Mv.apply(rows, b)
        return UnsafeView.apply(product, tuple(a.shape[:-1]) + tuple(b.shape[1:]))
    left = unsqueeze(a, 0) if a.ndim == 1 else a
    _check_batch_broadcast(left.shape[:-2], b.shape[:-2])
    product = Bmm.apply(left, b)
    shape = product.shape[:-2] + (product.shape[-1],) if a.ndim == 1 else product.shape
    return UnsafeView.apply(product, tuple(shape))


# ---- torch.linalg: inverses, determinants, solves, decompositions, cross, einsum ------------
# Batched over leading dimensions as PyTorch's are. The backward formulas are the standard ones
# (Giles, "An extended collection of matrix derivative results", 2008).

def _mT(x):
    return x.swapaxes(-1, -2)


def _check_square(name: str, a) -> None:
    if a.ndim < 2:
        raise RuntimeError(f"linalg.{name}: The input tensor A must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")


def _check_floating(name: str, a) -> None:
    if a.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as "
                           f"input. Got {type_name(a.dtype)}")


class LinAlgError(RuntimeError):
    """A matrix that the operation cannot handle: singular, not positive-definite (as
    ``torch.linalg.LinAlgError``)."""


def _batch_prefix(matrices, bad) -> "tuple[str, int]":
    """("(Batch element i): " or "", i) for the first matrix ``bad(matrix)`` holds for."""
    flat = _to_cpu(matrices).reshape(-1, *matrices.shape[-2:])
    index = next((i for i, matrix in enumerate(flat) if bad(matrix)), 0)
    return (f"(Batch element {index}): " if matrices.ndim > 2 else ""), index


def _singular(name: str, a):
    """PyTorch's error for a singular matrix: the first zero pivot of its LU factorization
    (1-based, as LAPACK reports it), in the first singular matrix of the batch."""
    prefix, index = _batch_prefix(a, lambda m: _zero_pivot(m) is not None)
    pivot = _zero_pivot(_to_cpu(a).reshape(-1, *a.shape[-2:])[index])
    return LinAlgError(f"linalg.{name}: {prefix}The diagonal element {pivot} is zero, the "
                       f"inversion could not be completed because the input matrix is "
                       f"singular.")


def _zero_pivot(matrix) -> "int | None":
    """The 1-based column of the first zero pivot of partial-pivoting LU, or None."""
    matrix = np.array(matrix, dtype=np.float64)
    n = matrix.shape[0]
    for k in range(n):
        pivot = k + int(np.argmax(np.abs(matrix[k:, k])))
        if matrix[pivot, k] == 0:
            return k + 1
        matrix[[k, pivot]] = matrix[[pivot, k]]
        matrix[k + 1:] -= np.outer(matrix[k + 1:, k] / matrix[k, k], matrix[k])
    return None


def _to_cpu(a):
    return a if isinstance(a, np.ndarray) else a.get()


class LinalgInvEx(Function):
    """``inv(A)``; the gradient is ``-inv(A)^T G inv(A)^T``."""

    @staticmethod
    def forward(ctx, a):
        xp = array_module(a)
        try:
            out = xp.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise _singular("inv", a) from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        out_t = _mT(out)
        return -(out_t @ grad @ out_t)


class LinalgDet(Function):
    """``det(A)``; the gradient is ``G det(A) inv(A)^T``."""

    @staticmethod
    def forward(ctx, a):
        out = array_module(a).linalg.det(a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        xp = array_module(grad)
        # solve(A^T, det * G * I) is det * inv(A)^T without forming the inverse.
        scale = (grad * out)[..., None, None] * xp.eye(a.shape[-1], dtype=a.dtype)
        return _solve_transposed("det", xp, a, scale)


def _solve_transposed(name: str, xp, a, rhs):
    """``solve(A^T, rhs)`` for the gradients of det and slogdet, which ember does not take
    at a singular matrix (PyTorch's there come from an SVD)."""
    try:
        return xp.linalg.solve(_mT(a), rhs)
    except np.linalg.LinAlgError:
        raise NotImplementedError(f"ember: the derivative of linalg.{name} at a singular "
                                  f"matrix is not implemented") from None


class LinalgSlogdet(Function):
    """``(sign, log|det A|)``; the gradient of ``log|det A|`` is ``inv(A)^T``, and the sign
    has none."""

    @staticmethod
    def forward(ctx, a):
        sign, logabsdet = array_module(a).linalg.slogdet(a)
        ctx.save_for_backward(a)
        return sign.astype(a.dtype), logabsdet.astype(a.dtype)

    @staticmethod
    def backward(ctx, grad_sign, grad_logabsdet):
        a, = ctx.saved_tensors
        xp = array_module(grad_logabsdet)
        scale = grad_logabsdet[..., None, None] * xp.eye(a.shape[-1], dtype=a.dtype)
        return _solve_transposed("slogdet", xp, a, scale)


class LinalgSolveEx(Function):
    """``X = solve(A, B)`` (``A X = B``); ``B`` is a batch of vectors when ``vector``. The
    gradients are ``G_B = solve(A^T, G)`` and ``G_A = -G_B X^T``."""

    @staticmethod
    def forward(ctx, a, b, vector, left):
        xp = array_module(a)
        if not left:  # X A = B is A^T X^T = B^T
            a, b = _mT(a), _mT(b)
        rhs = b[..., None] if vector else b
        try:
            out = xp.linalg.solve(a, rhs)
        except np.linalg.LinAlgError:
            raise LinAlgError("ember.linalg.solve: The solver failed because the input matrix "
                              "is singular.") from None
        ctx.save_for_backward(a, out)
        ctx.vector, ctx.left = vector, left
        out = out[..., 0] if vector else out
        return out if left else _mT(out)

    @staticmethod
    def backward(ctx, grad):
        # a and out are those of the left-sided system A X = B that forward solved.
        a, out = ctx.saved_tensors
        xp = array_module(grad)
        grad = grad if ctx.left else _mT(grad)
        grad = grad[..., None] if ctx.vector else grad
        grad_b = xp.linalg.solve(_mT(a), grad)
        grad_a = -(grad_b @ _mT(out)) if ctx.needs_input_grad[0] else None
        grad_b = grad_b[..., 0] if ctx.vector else grad_b
        if not ctx.left:
            grad_a = None if grad_a is None else _mT(grad_a)
            grad_b = _mT(grad_b)
        return grad_a, grad_b, None, None


class LinalgCholeskyEx(Function):
    """The lower triangular ``L`` with ``L L^T = A``. Its gradient, with ``P`` the lower
    triangle of ``L^T G`` with the diagonal halved: ``L^-T P L^-1``, symmetrized."""

    @staticmethod
    def forward(ctx, a, upper):
        xp = array_module(a)
        try:
            out = xp.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise _not_positive_definite(a) from None
        ctx.save_for_backward(out)
        ctx.upper = upper
        return _mT(out) if upper else out

    @staticmethod
    def backward(ctx, grad):
        low, = ctx.saved_tensors
        xp = array_module(grad)
        grad = _mT(grad) if ctx.upper else grad
        phi = xp.tril(_mT(low) @ grad)
        phi = phi - 0.5 * xp.eye(low.shape[-1], dtype=low.dtype) * phi
        # L^-T phi L^-1 through two triangular solves.
        inner = xp.linalg.solve(_mT(low), phi)
        grad_a = _mT(xp.linalg.solve(_mT(low), _mT(inner)))
        return 0.5 * (grad_a + _mT(grad_a)), None


def _not_positive_definite(a):
    def minor(matrix) -> "int | None":
        for k in range(1, matrix.shape[-1] + 1):
            try:
                np.linalg.cholesky(matrix[:k, :k])
            except np.linalg.LinAlgError:
                return k
        return None
    prefix, index = _batch_prefix(a, lambda m: minor(m) is not None)
    order = minor(_to_cpu(a).reshape(-1, *a.shape[-2:])[index])
    return LinAlgError(f"linalg.cholesky: {prefix}The factorization could not be completed "
                       f"because the input is not positive-definite (the leading minor of "
                       f"order {order} is not positive-definite).")


class LinalgSvd(Function):
    """``U, S, Vh`` with ``A = U diag(S) Vh``; with ``values_only``, ``S`` alone (svdvals,
    whose gradient is ``U diag(G_S) Vh``). The full gradient is PyTorch's formula for the
    reduced decomposition, which assumes distinct singular values."""

    @staticmethod
    def forward(ctx, a, full_matrices, values_only):
        xp = array_module(a)
        u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
        ctx.save_for_backward(u, s, vh)
        ctx.values_only, ctx.full_matrices = values_only, full_matrices
        return s if values_only else (u, s, vh)

    @staticmethod
    def backward(ctx, *grads):
        u, s, vh = ctx.saved_tensors
        xp = array_module(s)
        if ctx.values_only:
            grad_u, grad_s, grad_vh = None, grads[0], None
        else:
            grad_u, grad_s, grad_vh = grads
        # With full_matrices, the columns past min(m, n) are arbitrary (any orthonormal
        # completion): only the first k carry a gradient.
        k = s.shape[-1]
        u, vh = u[..., :, :k], vh[..., :k, :]
        grad_u = None if grad_u is None else grad_u[..., :, :k]
        grad_vh = None if grad_vh is None else grad_vh[..., :k, :]
        v = _mT(vh)
        result = 0
        if grad_s is not None:
            result = (u * grad_s[..., None, :]) @ vh
        if grad_u is None and grad_vh is None:
            return result, None, None
        s_squared = s * s
        gap = s_squared[..., None, :] - s_squared[..., :, None]
        eye = xp.eye(k, dtype=bool)
        inverse_gap = xp.where(eye, 0, 1 / xp.where(eye, 1, gap))
        sigma = s[..., None, :]
        inner = 0
        if grad_u is not None:
            ut_gu = _mT(u) @ grad_u
            inner = inner + (ut_gu - _mT(ut_gu)) * inverse_gap * sigma
        if grad_vh is not None:
            gv = _mT(grad_vh)
            vt_gv = _mT(v) @ gv
            inner = inner + sigma.swapaxes(-1, -2) * (vt_gv - _mT(vt_gv)) * inverse_gap
        result = result + u @ inner @ vh
        m, n = u.shape[-2], v.shape[-2]
        if grad_u is not None and m > k:
            projection = grad_u - u @ (_mT(u) @ grad_u)
            result = result + (projection / s[..., None, :]) @ vh
        if grad_vh is not None and n > k:
            gv = _mT(grad_vh)
            projection = gv - v @ (_mT(v) @ gv)
            result = result + u @ _mT(projection / s[..., None, :])
        return result, None, None


class LinalgCross(Function):
    """The cross product of 3-vectors along ``axis``; the gradients are ``b x G`` and
    ``G x a``."""

    @staticmethod
    def forward(ctx, a, b, axis):
        a, b = promote(a, b)
        xp = array_module(a)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        ctx.axis = axis
        try:
            return xp.cross(a, b, axis=axis)
        except ValueError:
            raise broadcast_error(a.shape, b.shape) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        xp = array_module(grad)
        return (xp.cross(b, grad, axis=ctx.axis) if ctx.needs_input_grad[0] else None,
                xp.cross(grad, a, axis=ctx.axis) if ctx.needs_input_grad[1] else None, None)


class Einsum(Function):
    """``einsum`` over explicit subscripts (``"ij,jk->ik"``, the ellipses spelled out). The
    gradient of each operand is the einsum of the output's gradient with the other operands
    into that operand's subscripts; a letter only that operand has (summed away) comes back
    broadcast, and a letter it repeats (a diagonal) back on the diagonal."""

    @staticmethod
    def forward(ctx, equation, *operands):
        xp = array_module(operands[0])
        operands = _promoted(operands)
        ctx.equation, ctx.shapes = equation, [o.shape for o in operands]
        ctx.save_for_backward(*operands)
        return xp.einsum(equation, *operands, optimize=len(operands) > 2)

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        xp = array_module(grad)
        inputs, output = ctx.equation.split("->")
        subscripts = inputs.split(",")
        grads = [None]
        for k, (letters, shape) in enumerate(zip(subscripts, ctx.shapes)):
            if not ctx.needs_input_grad[k + 1]:
                grads.append(None)
                continue
            others = [s for j, s in enumerate(subscripts) if j != k]
            available = set(output).union(*others)
            wanted = "".join(dict.fromkeys(c for c in letters if c in available))
            equation = ",".join([output] + others) + "->" + wanted
            partial = xp.einsum(equation, grad, *(o for j, o in enumerate(operands) if j != k),
                                optimize=len(operands) > 2)
            grads.append(_to_subscripts(xp, partial, wanted, letters, shape, grad.dtype))
        return tuple(grads)


def _promoted(operands):
    dtype = result_dtype(*operands)
    return [o.astype(dtype, copy=False) for o in operands]


def _to_subscripts(xp, partial, wanted: str, letters: str, shape, dtype):
    """``partial`` (indexed by ``wanted``, unique letters) as an array indexed by ``letters``:
    missing letters broadcast, repeated ones only on their diagonal."""
    sizes = dict(zip(letters, shape))
    unique = "".join(dict.fromkeys(letters))
    full = xp.broadcast_to(
        partial.transpose([wanted.index(c) for c in unique if c in wanted]).reshape(
            [sizes[c] if c in wanted else 1 for c in unique]),
        [sizes[c] for c in unique])
    if len(unique) == len(letters):
        return xp.ascontiguousarray(full.transpose([unique.index(c) for c in letters]))
    # A repeated letter: the gradient lives on the diagonal, zeros elsewhere.
    result = xp.zeros(shape, dtype)
    grids = xp.indices([sizes[c] for c in unique], sparse=True)
    result[tuple(grids[unique.index(c)] for c in letters)] = full
    return result


# The plain functions of torch.linalg (ember.linalg re-exports them).

slogdet_return = namedtuple("slogdet", ["sign", "logabsdet"])
svd_return = namedtuple("svd", ["U", "S", "Vh"])


def _square_float(name: str, A) -> None:
    _check_square(name, A._data)
    _check_floating(name, A._data)


def inv(A, *, out=None):
    """The inverse of each square matrix in ``A``.

    Example:
        >>> import ember
        >>> ember.linalg.inv(ember.tensor([[2.0, 0.0], [0.0, 4.0]]))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.2500]])
    """
    _square_float("inv", A)
    return write_out("linalg.inv", LinalgInvEx.apply(A), out)


def det(A, *, out=None):
    """The determinant of each square matrix in ``A``.

    Example:
        >>> import ember
        >>> ember.linalg.det(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor(-2.)
    """
    _square_float("det", A)
    return write_out("linalg.det", LinalgDet.apply(A), out)


def slogdet(A, *, out=None):
    """``(sign, logabsdet)``: the sign of the determinant and the log of its absolute value,
    which does not overflow where the determinant would.

    Example:
        >>> import ember
        >>> ember.linalg.slogdet(ember.tensor([[-2.0, 0.0], [0.0, 1.0]])).sign
        tensor(-1.)
    """
    _square_float("slogdet", A)
    sign, logabsdet = LinalgSlogdet.apply(A)
    if out is not None:
        sign, logabsdet = (write_out("linalg.slogdet", sign, out[0]),
                           write_out("linalg.slogdet", logabsdet, out[1]))
    return slogdet_return(sign, logabsdet)


def solve(A, B, *, left: bool = True, out=None):
    """``X`` with ``A X = B`` (``X A = B`` when ``left=False``); ``B`` may be a batch of
    vectors.

    Example:
        >>> import ember
        >>> ember.linalg.solve(ember.tensor([[2.0, 0.0], [0.0, 4.0]]), ember.tensor([2.0, 2.0]))
        tensor([1.0000, 0.5000])
    """
    _square_float("solve", A)
    n = A.shape[-1]
    # B is a batch of vectors when it has one dimension, or one less than A and A's batch.
    vector = left and (B.ndim == 1 or (B.ndim == A.ndim - 1
                                       and tuple(B.shape) == tuple(A.shape[:-1])))
    rows = B.shape[-1] if vector or not left else B.shape[-2]
    if rows != n:
        columns = 1 if vector else B.shape[-1]
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({n}x{n} and {rows}x{columns})")
    return write_out("linalg.solve", LinalgSolveEx.apply(A, B, vector, left), out)


def cholesky(A, *, upper: bool = False, out=None):
    """The Cholesky factor of each symmetric positive-definite matrix in ``A``: lower ``L``
    with ``A = L L^T`` (or upper ``L^T`` when ``upper``).

    Example:
        >>> import ember
        >>> ember.linalg.cholesky(ember.tensor([[4.0, 2.0], [2.0, 2.0]]))
        tensor([[2., 0.],
                [1., 1.]])
    """
    _square_float("cholesky", A)
    return write_out("linalg.cholesky", LinalgCholeskyEx.apply(A, upper), out)


def svd(A, full_matrices: bool = True, *, driver=None, out=None):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``, singular values descending; the gradient
    needs ``full_matrices=False`` for non-square ``A`` (as in PyTorch).

    Example:
        >>> import ember
        >>> ember.linalg.svd(ember.tensor([[3.0, 0.0], [0.0, -2.0]])).S
        tensor([3., 2.])
    """
    if A.ndim < 2:
        raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
    _check_floating("svd", A._data)
    u, s, vh = LinalgSvd.apply(A, full_matrices, False)
    if out is not None:
        u, s, vh = (write_out("linalg.svd", value, into) for value, into in zip((u, s, vh), out))
    return svd_return(u, s, vh)


def svdvals(A, *, driver=None, out=None):
    """The singular values of each matrix in ``A``, descending.

    Example:
        >>> import ember
        >>> ember.linalg.svdvals(ember.tensor([[3.0, 0.0], [0.0, -2.0]]))
        tensor([3., 2.])
    """
    if A.ndim < 2:
        raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
    _check_floating("svd", A._data)
    return write_out("linalg.svdvals", LinalgSvd.apply(A, False, True), out)


legacy_svd_return = namedtuple("svd", ["U", "S", "V"])


def legacy_svd(input, some: bool = True, compute_uv: bool = True, *, out=None):
    """``torch.svd``, the older form of ``linalg.svd``: ``(U, S, V)`` with
    ``input = U diag(S) V^T`` (V itself, not its transpose), reduced unless ``some=False``.
    With ``compute_uv=False`` only S is computed, and U and V are square zero matrices.

    Example:
        >>> import ember
        >>> ember.svd(ember.tensor([[3.0, 0.0], [0.0, -2.0]])).V
        tensor([[ 1.,  0.],
                [-0.,  1.]])
    """
    if compute_uv:
        U, S, Vh = svd(input, full_matrices=not some)
        result = (U, S, Vh.transpose(-2, -1))
    else:
        batch, (m, n) = input.shape[:-2], input.shape[-2:]
        result = (creation.zeros(*batch, m, m, dtype=input.dtype, device=input.device),
                  svdvals(input),
                  creation.zeros(*batch, n, n, dtype=input.dtype, device=input.device))
    if out is not None:
        result = tuple(write_out("svd", value, into) for value, into in zip(result, out))
    return legacy_svd_return(*result)


def cross(input, other, *, dim: int = -1, out=None):
    """The cross product of the 3-vectors along ``dim`` (broadcasting the rest).

    Example:
        >>> import ember
        >>> ember.linalg.cross(ember.tensor([1.0, 0.0, 0.0]), ember.tensor([0.0, 1.0, 0.0]))
        tensor([0., 0., 1.])
    """
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    axis = dim + input.ndim if dim < 0 else dim
    if input.shape[axis] != 3 or other.shape[axis] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[axis]} and {other.shape[axis]}")
    return write_out("linalg.cross", LinalgCross.apply(input, other, axis), out)


def torch_cross(input, other, dim=None, *, out=None):
    """``torch.cross``: ``linalg.cross`` along ``dim``, by default the first of size 3."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                      "either pass the dim explicitly or simply use torch.linalg.cross.\nThe "
                      "default value of dim will change to agree with that of linalg.cross in "
                      "a future release.", UserWarning, stacklevel=2)
        dim = next((d for d, size in enumerate(input.shape) if size == 3), -1)
    return cross(input, other, dim=dim, out=out)


def einsum(*args):
    """Einstein summation: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``; the operands may also
    come as one list. Letters name dimensions, ``...`` the broadcast ones; without ``->`` the
    output has the letters that appear once, in alphabetical order.

    Example:
        >>> import ember
        >>> ember.einsum("i,i->", ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0]))
        tensor(11.)
    """
    equation, operands = args[0], args[1:]
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    equation = equation.replace(" ", "")
    terms = len(equation.split("->")[0].split(","))
    if terms != len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation" if len(operands) > terms else
                           "einsum(): fewer operands were provided than specified in the "
                           "equation")
    equation = _explicit_equation(equation, [o.ndim for o in operands])
    inputs = equation.split("->")[0].split(",")
    for index, (letters, operand) in enumerate(zip(inputs, operands)):
        if len(letters) != operand.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(letters)}) does not match the number of dimensions "
                               f"({operand.ndim}) for operand {index} and no ellipsis was "
                               f"given")
    return Einsum.apply(equation, *operands)


def _explicit_equation(equation: str, ndims) -> str:
    """The equation with every ``...`` spelled out as letters and the output written."""
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    used = set(equation) - set(".,->")
    spare = [c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in used]
    broadcast = max((ndim - len(term.replace("...", "")) for term, ndim in zip(terms, ndims)
                     if "..." in term), default=0)
    ellipsis = "".join(spare[:broadcast][::-1])
    expanded = []
    for term, ndim in zip(terms, ndims):
        if "..." in term:
            count = ndim - len(term.replace("...", ""))
            term = term.replace("...", ellipsis[broadcast - count:] if count else "")
        expanded.append(term)
    if not arrow:
        letters = "".join(expanded)
        output = ellipsis + "".join(sorted(c for c in set(letters) - set(ellipsis)
                                           if letters.count(c) == 1))
    else:
        output = output.replace("...", ellipsis)
    return ",".join(expanded) + "->" + output


class Baddbmm(Function):
    """``beta * input + alpha * (batch1 @ batch2)`` for batches of matrices."""

    @staticmethod
    def forward(ctx, bias, batch1, batch2, beta, alpha):
        ctx.save_for_backward(batch1 if ctx.needs_input_grad[2] else None,
                              batch2 if ctx.needs_input_grad[1] else None)
        ctx.beta, ctx.alpha = beta, alpha
        product = array_module(batch1).matmul(batch1, batch2)
        if alpha != 1:
            product = product * alpha
        if beta == 0:  # PyTorch ignores input then, NaN and inf included
            return product + array_module(bias).zeros_like(bias)
        return product + (bias if beta == 1 else beta * bias)

    @staticmethod
    def backward(ctx, grad):
        batch1, batch2 = ctx.saved_tensors
        scaled = grad * ctx.alpha if ctx.alpha != 1 else grad
        return (grad * ctx.beta if ctx.beta != 1 else grad,
                scaled @ _mT(batch2) if ctx.needs_input_grad[1] else None,
                _mT(batch1) @ scaled if ctx.needs_input_grad[2] else None, None, None)


class Addmv(Baddbmm):
    """``beta * input + alpha * (mat @ vec)``: Baddbmm's algebra on a matrix and a vector."""

    @staticmethod
    def backward(ctx, grad):
        mat, vec = ctx.saved_tensors
        xp = array_module(grad)
        scaled = grad * ctx.alpha if ctx.alpha != 1 else grad
        return (grad * ctx.beta if ctx.beta != 1 else grad,
                xp.outer(scaled, vec) if ctx.needs_input_grad[1] else None,
                mat.T @ scaled if ctx.needs_input_grad[2] else None, None, None)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (batch1 @ batch2)``, batched matrix products (``input``
    broadcast); with ``beta=0`` ``input`` is ignored.

    Example:
        >>> import ember
        >>> ember.baddbmm(ember.ones(1, 2, 2), ember.ones(1, 2, 3), ember.ones(1, 3, 2),
        ...               alpha=0.5)
        tensor([[[2.5000, 2.5000],
                 [2.5000, 2.5000]]])
    """
    if batch1.ndim != 3 or batch2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if batch1.ndim != 3 else
                           "batch2 must be a 3D tensor")
    _check_batch_matrices(batch1, batch2)
    return write_out("baddbmm", Baddbmm.apply(input, batch1, batch2, beta, alpha), out)


def _check_batch_matrices(batch1, batch2) -> None:
    if batch1.shape[0] != batch2.shape[0] or batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{batch1.shape[0]}, {batch1.shape[2]}] but got: "
                           f"[{batch2.shape[0]}, {batch2.shape[1]}].")


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat @ vec)``.

    Example:
        >>> import ember
        >>> ember.addmv(ember.ones(2), ember.ones(2, 3), ember.ones(3), beta=2)
        tensor([5., 5.])
    """
    if mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, "
                           f"{vec.ndim}")
    if mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0] if input.ndim else 1}), "
                           f"mat ({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    return write_out("addmv", Addmv.apply(input, mat, vec, beta, alpha), out)


class LinalgEigh(Function):
    """Eigenvalues (ascending) and orthonormal eigenvectors of symmetric matrices, from the
    triangle ``UPLO`` names. The gradient is ``V (skew(V^T G_V) / E + diag(G_L)) V^T`` with
    ``E[i, j] = L[j] - L[i]`` (PyTorch's formula; it assumes distinct eigenvalues)."""

    @staticmethod
    def forward(ctx, a, uplo, values_only):
        xp = array_module(a)
        values, vectors = xp.linalg.eigh(a, UPLO=uplo)
        ctx.save_for_backward(values, vectors)
        ctx.values_only = values_only
        return values if values_only else (values, vectors)

    @staticmethod
    def backward(ctx, *grads):
        values, vectors = ctx.saved_tensors
        xp = array_module(values)
        grad_values, grad_vectors = (grads[0], None) if ctx.values_only else grads
        n = values.shape[-1]
        if grad_vectors is not None:
            inner = _mT(vectors) @ grad_vectors
            inner = 0.5 * (inner - _mT(inner))
            gaps = values[..., None, :] - values[..., :, None]
            eye = xp.eye(n, dtype=bool)
            inner = xp.where(eye, 0, inner / xp.where(eye, 1, gaps))
        else:
            inner = xp.zeros(vectors.shape, vectors.dtype)
        if grad_values is not None:
            inner = inner + grad_values[..., None, :] * xp.eye(n, dtype=vectors.dtype)
        return vectors @ inner @ _mT(vectors), None, None


eigh_return = namedtuple("eigh", ["eigenvalues", "eigenvectors"])


def eigh(A, UPLO: str = "L", *, out=None):
    """``(eigenvalues, eigenvectors)`` of each symmetric matrix in ``A`` (read from its lower
    triangle, or the upper one with ``UPLO="U"``), eigenvalues ascending.

    Example:
        >>> import ember
        >>> ember.linalg.eigh(ember.tensor([[2.0, 1.0], [1.0, 2.0]])).eigenvalues
        tensor([1., 3.])
    """
    _square_float("eigh", A)
    values, vectors = LinalgEigh.apply(A, UPLO, False)
    return eigh_return(values, vectors)


def eigvalsh(A, UPLO: str = "L", *, out=None):
    """The eigenvalues of each symmetric matrix in ``A``, ascending.

    Example:
        >>> import ember
        >>> ember.linalg.eigvalsh(ember.tensor([[2.0, 1.0], [1.0, 2.0]]))
        tensor([1., 3.])
    """
    _square_float("eigvalsh", A)
    return write_out("linalg.eigvalsh", LinalgEigh.apply(A, UPLO, True), out)


def matrix_power(A, n: int, *, out=None):
    """``A`` multiplied by itself ``n`` times (the identity for 0, the inverse's powers for
    negative ``n``), by repeated squaring.

    Example:
        >>> import ember
        >>> ember.linalg.matrix_power(ember.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
        tensor([[1., 3.],
                [0., 1.]])
    """
    _check_square("matrix_power", A._data)
    if n == 0:
        identity = array_module(A._data).eye(A.shape[-1], dtype=A._data.dtype)
        result = A * 0 + Tensor._wrap(identity)
        return write_out("linalg.matrix_power", result, out)
    base = inv(A) if n < 0 else A
    result, power = None, abs(n)
    while power:
        if power & 1:
            result = base if result is None else matmul(result, base)
        power >>= 1
        if power:
            base = matmul(base, base)
    return write_out("linalg.matrix_power", result, out)


def kron(input, other, *, out=None):
    """The Kronecker product: every element of ``input`` times the whole of ``other``, laid out
    in blocks.

    Example:
        >>> import ember
        >>> ember.kron(ember.eye(2), ember.ones(1, 2))
        tensor([[1., 1., 0., 0.],
                [0., 0., 1., 1.]])
    """
    ndim = max(input.ndim, other.ndim)
    a = reshape(input, (1,) * (ndim - input.ndim) + tuple(input.shape))
    b = reshape(other, (1,) * (ndim - other.ndim) + tuple(other.shape))
    # a's dimension i and b's dimension i interleaved: (a0, b0, a1, b1, ...), then merged.
    a = reshape(a, tuple(s for size in a.shape for s in (size, 1)))
    b = reshape(b, tuple(s for size in b.shape for s in (1, size)))
    shape = tuple(x * y for x, y in zip(a.shape[::2], b.shape[1::2]))
    return write_out("kron", reshape(a * b, shape), out)


def cdist(x1, x2, p: float = 2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The ``p``-norm distance between each row of ``x1`` and each row of ``x2`` (batched over
    leading dimensions): ``out[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p``.

    Example:
        >>> import ember
        >>> ember.cdist(ember.tensor([[0.0, 0.0]]), ember.tensor([[3.0, 4.0], [0.0, 1.0]]))
        tensor([[5., 1.]])
    """
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X{1 if x1.ndim < 2 else 2} "
                           f"got: {x1.ndim if x1.ndim < 2 else x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    differences = unsqueeze(x1, -2) - unsqueeze(x2, -3)
    return reduction.norm(differences, p, -1)


class LinalgQr(Function):
    """``Q, R`` with ``A = Q R``, ``Q`` with orthonormal columns and ``R`` upper triangular
    (``mode="reduced"``; ``"complete"`` gives square ``Q``). The gradient, for reduced
    factors of a matrix with at least as many rows as columns, is
    ``(G_Q + Q copyltu(M)) R^-T`` with ``M = R G_R^T - G_Q^T Q`` and ``copyltu`` the
    symmetric matrix with ``M``'s lower triangle."""

    @staticmethod
    def forward(ctx, a, mode):
        q, r = array_module(a).linalg.qr(a, mode=mode)
        ctx.save_for_backward(q, r)
        ctx.mode = mode
        return q, r

    @staticmethod
    def backward(ctx, grad_q, grad_r):
        q, r = ctx.saved_tensors
        xp = array_module(q)
        if q.shape[-1] != r.shape[-2] or r.shape[-2] > r.shape[-1]:
            raise NotImplementedError("ember's linalg.qr gradient needs mode='reduced' and at "
                                      "least as many rows as columns")
        grad_q = xp.zeros_like(q) if grad_q is None else grad_q
        grad_r = xp.zeros_like(r) if grad_r is None else grad_r
        m = r @ _mT(grad_r) - _mT(grad_q) @ q
        lower = xp.tril(m, -1)
        symmetric = lower + _mT(lower) + xp.tril(xp.triu(m))  # + the diagonal
        b = grad_q + q @ symmetric
        # b R^-T, as the solve of R X^T = b^T.
        return _mT(xp.linalg.solve(r, _mT(b))), None


qr_return = namedtuple("qr", ["Q", "R"])


def qr(A, mode: str = "reduced", *, out=None):
    """``(Q, R)`` with ``A = Q R`` for each matrix in ``A``: ``Q`` with orthonormal columns,
    ``R`` upper triangular (``mode="complete"`` makes ``Q`` square).

    Example:
        >>> import ember
        >>> Q, R = ember.linalg.qr(ember.tensor([[3.0, 0.0], [4.0, 1.0]]))
        >>> R.abs()
        tensor([[5.0000, 0.8000],
                [0.0000, 0.6000]])
    """
    if A.ndim < 2:
        raise RuntimeError("linalg.qr: The input tensor A must have at least 2 dimensions.")
    _check_floating("qr", A._data)
    if mode not in ("reduced", "complete"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    return qr_return(*LinalgQr.apply(A, mode))


def logdet(input):
    """The log of the determinant of each square matrix in ``input``: NaN where the
    determinant is negative, -inf where it is 0.

    Example:
        >>> import ember
        >>> ember.logdet(ember.tensor([[2.0, 0.0], [0.0, 3.0]]))
        tensor(1.7918)
    """
    sign, logabsdet = slogdet(input)
    return where(sign < 0, float("nan"), logabsdet)

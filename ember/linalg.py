"""``ember.linalg``, as ``torch.linalg``: norms, inverses, determinants, solves, decompositions
(Cholesky, QR, SVD, symmetric eigendecomposition), matrix powers, the cross product and matmul.

Example:
    >>> import ember
    >>> A = ember.tensor([[2.0, 1.0], [1.0, 3.0]])
    >>> ember.linalg.solve(A, ember.tensor([3.0, 4.0]))
    tensor([1., 1.])
"""

from ._dtype import type_name
from .ops import reduction
from .ops.elementwise import to_dtype, write_out
from .ops.linalg import (
    LinAlgError,
    cholesky,
    cross,
    det,
    eigh,
    eigvalsh,
    inv,
    matmul,
    matrix_power,
    qr,
    slogdet,
    solve,
    svd,
    svdvals,
)

__all__ = ["LinAlgError", "cholesky", "cross", "det", "eigh", "eigvalsh", "inv", "matmul",
           "matrix_norm", "matrix_power", "norm", "qr", "slogdet", "solve", "svd", "svdvals",
           "vector_norm"]


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None, out=None):
    """The ``ord``-norm of ``x`` seen as a vector (all its elements, or those along ``dim``):
    ``sum(|x| ** ord) ** (1 / ord)``; ``inf``/``-inf`` the largest/smallest ``|x|``, 0 the
    number of non-zeros.

    Example:
        >>> import ember
        >>> ember.linalg.vector_norm(ember.tensor([3.0, -4.0]))
        tensor(5.)
    """
    if dtype is not None:
        x = to_dtype(x, dtype)
    if x._data.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor "
                           f"as input. Got {type_name(x._data.dtype)}")
    return write_out("linalg.vector_norm", reduction.norm(x, ord, dim, keepdim), out)


_MATRIX_ORDERS = ("fro", "nuc", float("inf"), -float("inf"), 1, -1, 2, -2)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None, out=None):
    """A matrix norm of each matrix in ``A`` (over the two dimensions ``dim``): ``"fro"``
    (Frobenius), ``"nuc"`` (the sum of singular values), 2/-2 (the largest/smallest singular
    value), 1/-1 and inf/-inf (the largest/smallest column and row sums of ``|A|``).

    Example:
        >>> import ember
        >>> ember.linalg.matrix_norm(ember.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=1)
        tensor(6.)
    """
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    if ord not in _MATRIX_ORDERS:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if dtype is not None:
        A = to_dtype(A, dtype)
    rows, columns = (d % A.ndim for d in dim)
    if ord == "fro":
        result = reduction.norm(A, 2, (rows, columns), keepdim)
    elif ord in ("nuc", 2, -2):
        # The singular values of the matrices, with the two dimensions moved last.
        order = [d for d in range(A.ndim) if d not in (rows, columns)] + [rows, columns]
        values = svdvals(A.permute(order))
        reduce = {"nuc": reduction.sum, 2: reduction.amax, -2: reduction.amin}[ord]
        result = reduce(values, -1, keepdim)
        if keepdim:  # the two reduced dimensions back in their places, as PyTorch puts them
            result = result.unsqueeze(-1).permute([order.index(d) for d in range(A.ndim)])
    else:
        # 1: the largest column sum of |A| (over rows); inf: the largest row sum.
        summed, kept = (rows, columns) if abs(ord) == 1 else (columns, rows)
        sums = reduction.norm(A, 1, summed, keepdim)
        if not keepdim and summed < kept:
            kept -= 1
        result = (reduction.amax if ord > 0 else reduction.amin)(sums, kept, keepdim)
    return write_out("linalg.matrix_norm", result, out)


def norm(input, ord=None, dim=None, keepdim: bool = False, *, out=None, dtype=None):
    """``vector_norm`` or ``matrix_norm``, chosen as PyTorch chooses: by ``dim`` (one
    dimension or two), else by ``input``'s number of dimensions when ``ord`` is given; without
    either, the 2-norm of all elements.

    Example:
        >>> import ember
        >>> ember.linalg.norm(ember.ones(2, 2))
        tensor(2.)
    """
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 2:
            return matrix_norm(input, "fro" if ord is None else ord, dims, keepdim,
                               dtype=dtype, out=out)
        return vector_norm(input, 2 if ord is None else ord, dims, keepdim, dtype=dtype,
                           out=out)
    if ord is None:
        return vector_norm(input, 2, None, keepdim, dtype=dtype, out=out)
    if input.ndim == 2:
        return matrix_norm(input, ord, (-2, -1), keepdim, dtype=dtype, out=out)
    if input.ndim == 1:
        return vector_norm(input, ord, None, keepdim, dtype=dtype, out=out)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D "
                       f"or 2D. Got {input.ndim}D.")

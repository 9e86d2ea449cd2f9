"""Matrix products: mm, addmm (Linear's op), mv, dot, bmm and the general matmul."""

from .._backend import array_module
from ..autograd.function import Function
from .elementwise import promote


def _shape_str(shape) -> str:
    return "x".join(str(s) for s in shape)


def _check_mm(a, b) -> None:
    if a.shape[-1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(a.shape)} and "
                           f"{_shape_str(b.shape)})")


class Mm(Function):
    @staticmethod
    def forward(ctx, a, b):
        a, b = promote(a, b)
        _check_mm(a, b)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad @ b.T if ctx.needs_input_grad[0] else None,
                a.T @ grad if ctx.needs_input_grad[1] else None)


class Addmm(Function):
    """``bias + mat1 @ mat2``: ``F.linear`` on a batch of vectors, with ``mat2 = weight.t()``."""

    @staticmethod
    def forward(ctx, bias, mat1, mat2):
        _check_mm(mat1, mat2)
        ctx.save_for_backward(mat1 if ctx.needs_input_grad[2] else None,
                              mat2 if ctx.needs_input_grad[1] else None)
        out = mat1 @ mat2
        out += bias
        return out

    @staticmethod
    def backward(ctx, grad):
        mat1, mat2 = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (grad if needs[0] else None,
                grad @ mat2.T if needs[1] else None,
                mat1.T @ grad if needs[2] else None)


class Mv(Function):
    @staticmethod
    def forward(ctx, a, v):
        a, v = promote(a, v)
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
        a, b = promote(a, b)
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
        a, b = promote(a, b)
        if a.shape[-1] != b.shape[-2]:
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                               f"[{b.shape[0]}, {a.shape[-1]}] but got: [{b.shape[0]}, "
                               f"{b.shape[-2]}].")
        ctx.save_for_backward(a, b)
        return array_module(a).matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad @ b.swapaxes(-1, -2), a.swapaxes(-1, -2) @ grad


# ---- the plain functions -----------------------------------------------------------------

def mm(a, b):
    """Product of two matrices."""
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"self must be a matrix" if a.ndim != 2 else "mat2 must be a matrix")
    return Mm.apply(a, b)


def addmm(bias, mat1, mat2, beta=1, alpha=1):
    """``beta * bias + alpha * (mat1 @ mat2)``."""
    if beta != 1 or alpha != 1:
        return bias * beta + mm(mat1, mat2) * alpha
    return Addmm.apply(bias, mat1, mat2)


def mv(a, v):
    return Mv.apply(a, v)


def dot(a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    return Dot.apply(a, b)


def bmm(a, b):
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor")
    return Bmm.apply(a, b)


def matmul(a, b):
    """Matrix product with NumPy's rules for 1-D and batched operands.

    Example:
        >>> import ember
        >>> (ember.ones(2, 3) @ ember.ones(3, 4)).shape
        ember.Size([2, 4])
    """
    from .._tensor import Tensor
    from .shape import squeeze, unsqueeze
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
    if a.ndim == 1:
        return squeeze(Bmm.apply(unsqueeze(a, 0), b), -2)
    if b.ndim == 1:
        return squeeze(Bmm.apply(a, unsqueeze(b, -1)), -1)
    return Bmm.apply(a, b)

"""Elementwise ops: arithmetic, math functions, comparisons, dtype and device conversion.

Binary ops broadcast; their backward returns gradients of the broadcast shape and the engine
sums them back to each input's shape. Operands are promoted as PyTorch promotes them: a
float32 tensor plus an int64 tensor, or an int tensor times a Python float, gives float32.
"""

import warnings

import numpy as np

from .. import _C, _backend, _dtype, _parallel, _recording
from .._dtype import C_TYPE_NAMES, CATEGORY, result_dtype, type_name
from .._tensor import Tensor
from ..autograd import inplace
from ..autograd.function import Function


def broadcast_error(shape_a, shape_b) -> RuntimeError:
    """PyTorch's error for shapes that do not broadcast, naming the first dimension at fault."""
    ndim = max(len(shape_a), len(shape_b))
    a = (1,) * (ndim - len(shape_a)) + tuple(shape_a)
    b = (1,) * (ndim - len(shape_b)) + tuple(shape_b)
    for dim in range(ndim - 1, -1, -1):
        if a[dim] != b[dim] and a[dim] != 1 and b[dim] != 1:
            return RuntimeError(f"The size of tensor a ({a[dim]}) must match the size of tensor "
                                f"b ({b[dim]}) at non-singleton dimension {dim}")
    return RuntimeError(f"shapes {list(shape_a)} and {list(shape_b)} do not broadcast")


def _broadcast_error(a, b) -> RuntimeError:
    """The error for a NumPy ValueError from ``a op b``: PyTorch's when shapes do not match."""
    return broadcast_error(getattr(a, "shape", ()), getattr(b, "shape", ()))


def check_broadcast(shape_a, shape_b) -> None:
    """Raise PyTorch's RuntimeError when the shapes do not broadcast (NumPy's is a ValueError)."""
    for size_a, size_b in zip(reversed(shape_a), reversed(shape_b)):
        if size_a != size_b and size_a != 1 and size_b != 1:
            raise broadcast_error(shape_a, shape_b)


def result_type(tensor1, tensor2):
    """The dtype ``tensor1 op tensor2`` gives (tensors or Python numbers), as PyTorch promotes.

    Example:
        >>> import ember
        >>> ember.result_type(ember.tensor([1, 2]), 1.0)
        ember.float32
    """
    operands = [t._data if isinstance(t, Tensor) else t for t in (tensor1, tensor2)]
    return _dtype.from_numpy(result_dtype(*operands))


def promote(a, b):
    """``a`` and ``b`` (arrays or Python numbers) converted to their common dtype."""
    a_is_array, b_is_array = hasattr(a, "dtype"), hasattr(b, "dtype")
    if a_is_array and b_is_array:
        if type(a) is not type(b):
            if isinstance(a, np.generic) or isinstance(b, np.generic):
                # A NumPy scalar (np.float64(2)) counts as a Python number, as in PyTorch.
                return promote(a.item() if isinstance(a, np.generic) else a,
                               b.item() if isinstance(b, np.generic) else b)
            raise RuntimeError("Expected all tensors to be on the same device, but found at "
                               f"least two devices, {_backend.device_of(a)} and "
                               f"{_backend.device_of(b)}!")
        if a.dtype == b.dtype:
            return a, b
    dtype = result_dtype(a, b)
    if a_is_array and a.dtype != dtype:
        a = a.astype(dtype)
    if b_is_array and b.dtype != dtype:
        b = b.astype(dtype)
    if dtype.kind in "iu":
        a, b = _wrapped(a, dtype), _wrapped(b, dtype)
    if not a_is_array and not b_is_array:
        a = np.asarray(a, dtype)
    return a, b


_INTEGER_LIMITS = {}  # dtype -> np.iinfo(dtype), which costs a microsecond to make


def _wrapped(value, dtype):
    """A Python int outside ``dtype``'s range wrapped around into it, as PyTorch casts it
    (``uint8 + 300`` adds 44); NumPy refuses such a number with OverflowError."""
    if type(value) is not int:
        return value
    limits = _INTEGER_LIMITS.get(dtype) or _INTEGER_LIMITS.setdefault(dtype, np.iinfo(dtype))
    if limits.min <= value <= limits.max:
        return value
    return np.asarray(value, dtype=np.int64).astype(dtype)


def _float_operands(a, b):
    """Like ``promote``, but integers become the default float dtype (true division)."""
    a, b = promote(a, b)
    array = a if hasattr(a, "dtype") else b
    if array.dtype.kind in "biu":
        default = _dtype.get_default_dtype().numpy
        a = a.astype(default) if hasattr(a, "dtype") else a
        b = b.astype(default) if hasattr(b, "dtype") else b
    return a, b


def _as_float(x):
    if x.dtype.kind in "biu":
        return x.astype(_dtype.get_default_dtype().numpy)
    return x


# ---- arithmetic ----------------------------------------------------------------------------

class Add(Function):
    scalar_operands = (0, 1)

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        a, b = promote(a, b)
        try:
            return a + b if alpha == 1 else a + alpha * b
        except ValueError:  # shapes that do not broadcast
            raise _broadcast_error(a, b) from None

    @staticmethod
    def backward(ctx, grad):
        return grad, grad if ctx.alpha == 1 else grad * ctx.alpha, None


def _check_bool_subtraction(a, b) -> None:
    """PyTorch refuses ``-`` with any bool tensor operand: it is almost always a mask bug."""
    a_bool = a.dtype.kind == "b" if hasattr(a, "dtype") else isinstance(a, bool)
    b_bool = b.dtype.kind == "b" if hasattr(b, "dtype") else isinstance(b, bool)
    if a_bool and b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if a_bool or b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


class Sub(Function):
    scalar_operands = (0, 1)

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        _check_bool_subtraction(a, b)
        a, b = promote(a, b)
        try:
            return a - b if alpha == 1 else a - alpha * b
        except ValueError:
            raise _broadcast_error(a, b) from None

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad if ctx.alpha == 1 else grad * -ctx.alpha, None


class Rsub(Function):
    """``other - self``, for ``2 - tensor``."""

    node_name = "RsubBackward1"

    @staticmethod
    def forward(ctx, a, other):
        _check_bool_subtraction(a, other)
        a, other = promote(a, other)
        return other - a

    @staticmethod
    def backward(ctx, grad):
        return -grad, None


class Mul(Function):
    scalar_operands = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        # The operands as given are saved, not their promoted copies, so that an in-place
        # change to a float32 operand of a float64 product is still caught.
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        a, b = promote(a, b)
        try:
            return a * b
        except ValueError:
            raise _broadcast_error(a, b) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad * _like(b, grad) if ctx.needs_input_grad[0] else None,
                grad * _like(a, grad) if ctx.needs_input_grad[1] else None)


def _like(operand, grad):
    """A saved operand in the gradient's dtype (the product's), as forward promoted it."""
    return operand.astype(grad.dtype, copy=False) if hasattr(operand, "dtype") else operand


class Div(Function):
    scalar_operands = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        # The inputs as given, as PyTorch saves them (not the output, which in-place ops may
        # change, nor promoted copies, whose versions nothing tracks).
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        a, b = _float_operands(a, b)
        try:
            return a / b
        except ValueError:
            raise _broadcast_error(a, b) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        b = _like(b, grad)
        grad_a = grad / b if ctx.needs_input_grad[0] else None
        # PyTorch's order of operations, -grad * ((a / b) / b), for the same rounding.
        grad_b = -grad * ((_like(a, grad) / b) / b) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        if a.dtype == np.bool_:
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                               "If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Reciprocal(Function):
    @staticmethod
    def forward(ctx, a):
        out = 1 / _as_float(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return -grad * out * out


class Pow(Function):
    """``tensor ** number``."""

    @staticmethod
    def forward(ctx, a, exponent):
        if a.dtype.kind in "iu" and isinstance(exponent, int) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        a, _ = promote(a, exponent)
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        return _power(a, exponent)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        exponent = ctx.exponent
        if exponent == 0:  # zeros, as PyTorch's, even where the gradient is NaN or inf
            return _backend.array_module(grad).zeros_like(grad), None
        if exponent == 2:
            return grad * 2 * a, None
        return grad * exponent * _power(a, exponent - 1), None


def _power(a, exponent):
    """``a ** exponent``, with PyTorch's kernels for square roots: ``sqrt(-0.0)`` is -0.0 and
    ``1 / sqrt(-0.0)`` is -inf, where NumPy's power gives 0.0 and inf."""
    xp = _backend.array_module(a)
    if exponent == 0.5:
        return xp.sqrt(a)
    if exponent == -0.5:
        return 1 / xp.sqrt(a)
    return a ** exponent


class PowTensor(Function):
    """``tensor ** tensor``.

    Both gradients are PyTorch's: ``b * a ** (b - 1)`` but 0 where ``b == 0``, and
    ``a ** b * log(a)`` but 0 where ``a == 0 and b >= 0``, each chosen before it meets the
    incoming gradient, so a NaN or inf gradient is kept where the local one is 0
    (``grad * 0``), and zeroed where the exponent is 0.
    """

    node_name = "PowBackward1"

    @staticmethod
    def forward(ctx, a, b):
        given = a, b
        a, b = promote(a, b)
        try:
            out = a ** b
        except ValueError:
            raise _broadcast_error(a, b) from None
        # The operands as given, as PyTorch saves them: promoted copies have no versions to
        # check (a 0-d float64 exponent of a float32 base would be one).
        ctx.save_for_backward(*given, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        a, b = promote(a, b)
        xp = _backend.array_module(grad)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = xp.where(b == 0, 0, grad * (b * a ** (b - 1)))
        if ctx.needs_input_grad[1]:
            grad_b = grad * xp.where((a == 0) & (b >= 0), 0, out * xp.log(a))
        return grad_a, grad_b


class PowScalarBase(Function):
    """``number ** tensor``."""

    node_name = "PowBackward2"

    @staticmethod
    def forward(ctx, exponent, base):
        exponent = _as_float(exponent) if isinstance(base, float) else exponent
        if exponent.dtype.kind in "iu" and (exponent < 0).any():
            # Integer powers with negative exponents truncate toward zero in PyTorch (2 ** -1
            # is 0); NumPy refuses them.
            xp = _backend.array_module(exponent)
            real = float(base) ** exponent.astype(np.float64)
            out = xp.trunc(real).astype(exponent.dtype)
        else:
            out = base ** exponent
        # Saving the exponent (as PyTorch does) also makes changing it in place before backward
        # an error rather than a silently wrong gradient.
        ctx.save_for_backward(exponent, out)
        ctx.base = base
        return out

    @staticmethod
    def backward(ctx, grad):
        exponent, out = ctx.saved_tensors
        local = out * np.log(ctx.base)
        if ctx.base == 0:  # d(0 ** x)/dx is taken as 0 where x >= 0, as PyTorch does: before
            # the product, so that a NaN gradient stays NaN there (NaN * 0)
            local = _backend.array_module(grad).where(exponent >= 0, 0, local)
        return grad * local, None


# ---- unary math ------------------------------------------------------------------------------

class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        out = _backend.array_module(a).exp(_as_float(a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * out


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        a = _as_float(a)
        ctx.save_for_backward(a)
        return _backend.array_module(a).log(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / a


class Log1p(Function):
    """``log(1 + x)``, accurate where ``x`` is small."""

    node_name = "Log1PBackward0"  # PyTorch spells this node with a capital P

    @staticmethod
    def forward(ctx, a):
        a = _as_float(a)
        ctx.save_for_backward(a)
        return _backend.array_module(a).log1p(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / (1 + a)


class Expm1(Function):
    """``exp(x) - 1``, accurate where ``x`` is small; its derivative is ``out + 1``."""

    @staticmethod
    def forward(ctx, a):
        out = _backend.array_module(a).expm1(_as_float(a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * (out + 1)


class Log2(Function):
    @staticmethod
    def forward(ctx, a):
        a = _as_float(a)
        ctx.save_for_backward(a)
        return _backend.array_module(a).log2(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / (a * np.log(2.0))


class Log10(Function):
    @staticmethod
    def forward(ctx, a):
        a = _as_float(a)
        ctx.save_for_backward(a)
        return _backend.array_module(a).log10(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / (a * np.log(10.0))


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        out = _backend.array_module(a).sqrt(_as_float(a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad / (2 * out)


class Rsqrt(Function):
    @staticmethod
    def forward(ctx, a):
        out = 1 / _backend.array_module(a).sqrt(_as_float(a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * -0.5 * out * out * out


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _backend.array_module(a).abs(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        # PyTorch's sgn: 1, -1, or 0 (also at NaN, where NumPy's sign is NaN).
        return grad * ((a > 0).astype(grad.dtype) - (a < 0).astype(grad.dtype))


class Sign(Function):
    @staticmethod
    def forward(ctx, a):
        xp = _backend.array_module(a)
        out = xp.sign(a)
        if a.dtype.kind == "f":  # PyTorch's sign of NaN is 0; NumPy's is NaN
            out = xp.where(xp.isnan(out), out.dtype.type(0), out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # Zeros, as PyTorch's, whatever arrives: ``grad * 0`` would be NaN for a NaN or inf.
        return _backend.array_module(grad).zeros_like(grad)


def _check_rounding_dtype(a, kernel: str, integers: bool = True) -> None:
    """PyTorch has no floor/ceil/round kernels for bool, nor ``round(decimals=...)`` ones for
    integers (``integers=False``): NotImplementedError naming the kernel, as it raises."""
    if a.dtype.kind == "b" or (not integers and a.dtype.kind in "iu"):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{type_name(a.dtype)}\'')


class _Rounding(Function):
    """Floor, ceil, round and trunc: NumPy's function named ``op``; integer tensors come back
    unchanged. Piecewise constant, so PyTorch's gradient is zero everywhere."""

    op = None

    @classmethod
    def forward(cls, ctx, a):
        _check_rounding_dtype(a, f"{cls.op}_vml_cpu")
        return getattr(_backend.array_module(a), cls.op)(a) if a.dtype.kind in "fc" else a.copy()

    @staticmethod
    def backward(ctx, grad):
        return _backend.array_module(grad).zeros_like(grad)


class Floor(_Rounding):
    """Round down."""

    op = "floor"


class Ceil(_Rounding):
    """Round up."""

    op = "ceil"


class Round(_Rounding):
    """Round half to even (as NumPy and PyTorch both do)."""

    op = "round"


class RoundDecimals(Function):
    """``round(x, decimals=d)``: to a multiple of ``10 ** -d``."""

    node_name = "RoundBackward1"

    @staticmethod
    def forward(ctx, a, decimals):
        _check_rounding_dtype(a, "round_cpu" if decimals else "round_vml_cpu", integers=False)
        return _backend.array_module(a).round(a, decimals)

    @staticmethod
    def backward(ctx, grad):
        return _backend.array_module(grad).zeros_like(grad), None


class Sin(Function):
    @staticmethod
    def forward(ctx, a):
        a = _as_float(a)
        ctx.save_for_backward(a)
        return _backend.array_module(a).sin(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * _backend.array_module(a).cos(a)


class Cos(Function):
    @staticmethod
    def forward(ctx, a):
        a = _as_float(a)
        ctx.save_for_backward(a)
        return _backend.array_module(a).cos(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return -grad * _backend.array_module(a).sin(a)


# ---- the unary math family: trigonometric, hyperbolic, error functions ---------------------
# Each is ``ufunc`` of a float input (integers become the default float dtype, as in PyTorch)
# with its derivative written from the saved input or, where that is simpler, the output.

class _UnaryMath(Function):
    """``ufunc(a)`` elementwise; ``derivative(saved)`` times the gradient in backward, where
    ``saved`` is the input, or the output when ``saves_output``."""

    saves_output = False

    @staticmethod
    def ufunc(xp, a):
        raise NotImplementedError

    @staticmethod
    def derivative(xp, saved):
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, a):
        a = _as_float(a)
        xp = _backend.array_module(a)
        out = cls.ufunc(xp, a)
        ctx.save_for_backward(out if cls.saves_output else a)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        saved, = ctx.saved_tensors
        return grad * cls.derivative(_backend.array_module(grad), saved)


class Tan(_UnaryMath):
    saves_output = True
    ufunc = staticmethod(lambda xp, a: xp.tan(a))
    derivative = staticmethod(lambda xp, out: 1 + out * out)


class Asin(_UnaryMath):
    ufunc = staticmethod(lambda xp, a: xp.arcsin(a))
    derivative = staticmethod(lambda xp, a: 1 / xp.sqrt(1 - a * a))


class Acos(_UnaryMath):
    ufunc = staticmethod(lambda xp, a: xp.arccos(a))
    derivative = staticmethod(lambda xp, a: -1 / xp.sqrt(1 - a * a))


class Atan(_UnaryMath):
    ufunc = staticmethod(lambda xp, a: xp.arctan(a))
    derivative = staticmethod(lambda xp, a: 1 / (1 + a * a))


class Sinh(_UnaryMath):
    ufunc = staticmethod(lambda xp, a: xp.sinh(a))
    derivative = staticmethod(lambda xp, a: xp.cosh(a))


class Cosh(_UnaryMath):
    ufunc = staticmethod(lambda xp, a: xp.cosh(a))
    derivative = staticmethod(lambda xp, a: xp.sinh(a))


class Asinh(_UnaryMath):
    ufunc = staticmethod(lambda xp, a: xp.arcsinh(a))
    derivative = staticmethod(lambda xp, a: 1 / xp.sqrt(a * a + 1))


class Acosh(_UnaryMath):
    ufunc = staticmethod(lambda xp, a: xp.arccosh(a))
    derivative = staticmethod(lambda xp, a: 1 / xp.sqrt((a - 1) * (a + 1)))


class Atanh(_UnaryMath):
    ufunc = staticmethod(lambda xp, a: xp.arctanh(a))
    derivative = staticmethod(lambda xp, a: 1 / (1 - a * a))


class Exp2(_UnaryMath):
    saves_output = True
    ufunc = staticmethod(lambda xp, a: xp.exp2(a))
    derivative = staticmethod(lambda xp, out: out * np.log(2.0))


def _sinc(xp, a):
    """``sin(pi a) / (pi a)``, 1 at 0 (NumPy's sinc is this normalized one)."""
    return xp.sinc(a)


class Sinc(_UnaryMath):
    ufunc = staticmethod(_sinc)

    @staticmethod
    def derivative(xp, a):
        # (cos(pi a) - sinc(a)) / a, whose limit at 0 is 0.
        safe = xp.where(a == 0, 1, a)
        return xp.where(a == 0, 0, (xp.cos(np.pi * a) - xp.sinc(a)) / safe).astype(a.dtype)


def _erf(xp, a):
    """erf in float64: its Maclaurin series below 0.5 (where ``1 - erfc`` would cancel to an
    absolute error of 1e-14, wrong in sign for tiny values), gelu's erfc series above."""
    # Imported here, not at the top, because ember.ops.activation imports this module. Its
    # series works on 1-d (or larger) float64 arrays, in their own memory: a flat copy.
    from .activation import _erf as erf_series
    wide = a.astype(np.float64).reshape(-1)
    squared = wide * wide
    term, series = wide.copy(), wide.copy()
    for n in range(1, 14):  # |z| < 0.5: the 14th term is below 1e-19
        term *= -squared / n
        series += term / (2 * n + 1)
    small = _TWO_OVER_SQRT_PI * series
    result = xp.where(xp.abs(wide) < 0.5, small, erf_series(wide.copy()))
    return result.reshape(a.shape).astype(a.dtype, copy=False)


def _erfc(xp, a):
    from .activation import _erfc_nonnegative
    wide = a.astype(np.float64).reshape(-1)
    tail = _erfc_nonnegative(xp.abs(wide)).reshape(a.shape)
    return xp.where(a >= 0, tail, 2.0 - tail).astype(a.dtype, copy=False)


_TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)


class Erf(_UnaryMath):
    ufunc = staticmethod(_erf)
    derivative = staticmethod(lambda xp, a: _TWO_OVER_SQRT_PI * xp.exp(-a * a))


class Erfc(_UnaryMath):
    ufunc = staticmethod(_erfc)
    derivative = staticmethod(lambda xp, a: -_TWO_OVER_SQRT_PI * xp.exp(-a * a))


def _erfinv(xp, y):
    """The inverse of erf: a first guess from the logistic-like approximation
    ``sqrt(-2/(pi a) - l/2 + sqrt((2/(pi a) + l/2)^2 - l/a))`` with ``l = log(1 - y^2)``
    (a = 0.147), then Newton steps on erf, each of which roughly doubles the digits."""
    wide = y.astype(np.float64)
    a = 0.147
    log_term = xp.log1p(-wide * wide)
    first = 2 / (np.pi * a) + log_term / 2
    x = xp.sign(wide) * xp.sqrt(xp.sqrt(first * first - log_term / a) - first)
    inside = xp.abs(wide) < 1
    x = xp.where(inside, x, xp.where(xp.abs(wide) == 1, xp.sign(wide) * np.inf, np.nan))
    step_at = xp.where(inside, x, 0.0)
    for _ in range(3):
        step = (_erf(xp, step_at) - xp.where(inside, wide, 0.0)) / (
            _TWO_OVER_SQRT_PI * xp.exp(-step_at * step_at))
        step_at = step_at - step
    return xp.where(inside, step_at, x).astype(y.dtype, copy=False)


class Erfinv(_UnaryMath):
    saves_output = True
    ufunc = staticmethod(_erfinv)
    derivative = staticmethod(lambda xp, out: (np.sqrt(np.pi) / 2) * xp.exp(out * out))


class Logit(Function):
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given
    (the gradient is then zero outside that range)."""

    @staticmethod
    def forward(ctx, a, eps):
        a = _as_float(a)
        xp = _backend.array_module(a)
        ctx.save_for_backward(a)
        ctx.eps = eps
        p = a if eps is None else xp.clip(a, eps, 1 - eps)
        return xp.log(p / (1 - p))

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        xp = _backend.array_module(grad)
        result = grad / (a * (1 - a))
        if ctx.eps is None:  # no derivative outside [0, 1]
            return xp.where((a < 0) | (a > 1), np.nan, result).astype(result.dtype), None
        return zero_where(result, (a < ctx.eps) | (a > 1 - ctx.eps)), None


class Xlogy(Function):
    """``x * log(y)``, 0 where ``x`` is 0 (unless ``y`` is NaN)."""

    scalar_operands = (0, 1)

    @staticmethod
    def forward(ctx, x, y):
        x, y = _float_operands(x, y)
        array = x if hasattr(x, "dtype") else y
        xp = _backend.array_module(array)
        # A number operand in the tensor's dtype (NumPy's log of a Python int is float64).
        x, y = (xp.asarray(v, array.dtype) if not hasattr(v, "dtype") else v for v in (x, y))
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, y)
        try:
            product = x * xp.log(y)
        except ValueError:
            raise _broadcast_error(x, y) from None
        return xp.where((x == 0) & ~xp.isnan(y), 0, product).astype(product.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        xp = _backend.array_module(grad)
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = xp.where((x == 0) & ~xp.isnan(y), 0, grad * xp.log(y)) if x is not None \
                else grad * xp.log(y)
        grad_y = grad * x / y if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


class _NoInplaceDerivative:
    """PyTorch has no derivative for the in-place forms of asinh, acosh and atanh: their node
    (``...Backward1``) raises in backward, and ember's does the same."""

    op = None

    @classmethod
    def backward(cls, ctx, grad):
        raise NotImplementedError(f"the derivative for 'inplace version of {cls.op}' is not "
                                  f"implemented.")


class Deg2Rad(_UnaryMath):
    ufunc = staticmethod(lambda xp, a: a * (np.pi / 180))
    derivative = staticmethod(lambda xp, a: np.pi / 180)


class Rad2Deg(_UnaryMath):
    ufunc = staticmethod(lambda xp, a: a * (180 / np.pi))
    derivative = staticmethod(lambda xp, a: 180 / np.pi)


class NanToNum(Function):
    """NaN, +inf and -inf replaced by numbers (by default 0 and the dtype's largest and
    smallest finite values); the gradient flows only where the input was finite."""

    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        xp = _backend.array_module(a)
        ctx.save_for_backward(a)
        if a.dtype.kind != "f":
            return a.copy()
        return xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return zero_where(grad, ~_backend.array_module(a).isfinite(a)), None, None, None


class AsinhInplace(_NoInplaceDerivative, Asinh):
    node_name = "AsinhBackward1"
    op = "asinh"


class AcoshInplace(_NoInplaceDerivative, Acosh):
    node_name = "AcoshBackward1"
    op = "acosh"


class AtanhInplace(_NoInplaceDerivative, Atanh):
    node_name = "AtanhBackward1"
    op = "atanh"


class Trunc(_Rounding):
    """Round toward zero."""

    op = "trunc"


class Frac(Function):
    """``a - trunc(a)``: the fractional part, with ``a``'s sign; its gradient is 1."""

    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind not in "fc":
            raise NotImplementedError(f'"frac_cpu" not implemented for '
                                      f"'{type_name(a.dtype)}'")
        return a - _backend.array_module(a).trunc(a)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Sgn(Sign):
    """``sgn``: the sign for real tensors (``x / |x|`` for complex ones, which ember lacks)."""


class Tanh(Function):
    @staticmethod
    def forward(ctx, a):
        out = _backend.array_module(a).tanh(_as_float(a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * (1 - out * out)


def stable_sigmoid(x):
    """``1 / (1 + exp(-x))``, PyTorch's formula, with its small relative error for every x.
    Below about -88.7 in float32 (-709 in float64) exp(-x) overflows to inf and the result is
    0, as PyTorch's is; NumPy's warning about that overflow is silenced.

    The tanh form ``0.5 * tanh(x / 2) + 0.5`` (ember's before) has an absolute error of half
    an ulp of 1, which is most of a tiny sigmoid: in float32 sigmoid(-17) came out 44% off,
    silu(-20) as 0, mish's gradient at -20 with the wrong sign, and sigmoid(-210) in float64
    as 0 where PyTorch gives 2.6e-92 (fuzz finding 82)."""
    xp = _backend.array_module(x)
    if xp is not np:  # CuPy: no floating-point warnings to silence
        return 1 / (1 + xp.exp(-x))
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        a = _as_float(a)
        # The very object returned is saved: backward checks an in-place change to the output
        # by finding it among the outputs (for 0-d input NumPy gives a scalar, and astype
        # makes another).
        out = stable_sigmoid(a).astype(a.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        return grad * out * (1 - out)


def zero_where(grad, drop):
    """``grad`` with zeros where the bool array ``drop`` holds, also where ``grad`` is inf or
    NaN there: a backward that blocks the gradient (relu below 0, clamp outside its bounds)
    must give 0, and ``grad * ~drop`` would give NaN for inf * 0.

    ``xp.where(drop, 0, grad)`` says the same but runs 10-15x slower than a multiply in NumPy
    (no vectorized loop for it), so floats are masked by their bits instead: AND with all ones
    keeps a number, AND with all zeros makes it +0.0.
    """
    xp = _backend.array_module(grad)
    if grad.dtype.kind != "f":
        return xp.where(drop, 0, grad)
    bits = np.dtype(f"i{grad.dtype.itemsize}")
    keep = xp.subtract(drop, 1, dtype=bits)  # True -> 0, False -> -1 (every bit set)
    return xp.bitwise_and(xp.asarray(grad).view(bits), keep).view(grad.dtype)


def _split_relu_forward(a, out) -> None:
    """ReLU's compiled forward split over ember's threads, as ``ember.compile`` replays a
    forward the capture split: the same split again (its thread count is among the guards;
    split or not, the bits are the same), into the plan's buffer rather than a new array at
    each step (a large activation's new pages cost as much as the kernel)."""
    if not _parallel.split_flat(_C.kernels.relu_forward, (a, out), 1):
        _C.kernels.relu_forward(a, out)


def _split_relu_backward(out, grad, grad_input) -> None:
    """ReLU's compiled backward, split as ``_split_relu_forward``."""
    if not _parallel.split_flat(_C.kernels.relu_backward, (out, grad, grad_input), 1):
        _C.kernels.relu_backward(out, grad, grad_input)


class Relu(Function):
    @staticmethod
    def forward(ctx, a):
        if a.dtype == bool:
            raise RuntimeError("Boolean inputs not supported for relu")
        if _C.takes(a):
            out = np.empty(a.shape, dtype=a.dtype)
            # Split from about a million elements (work 1 per element): a split costs tens
            # of microseconds.
            if _parallel.split_flat(_C.kernels.relu_forward, (a, out), 1):
                kernel = _split_relu_forward
            else:
                kernel = _C.kernels.relu_forward
                kernel(a, out)
            if _recording.recorder is not None:  # the whole forward: a replay calls it
                _recording.recorder.kernel(kernel, (a, out), (1,))
        else:
            xp = _backend.array_module(a)
            # The maximum of an array of zeros and ``a``, written over those zeros: NumPy
            # vectorizes an array-array maximum but not one against the scalar 0, which is
            # twice as slow. Zeros first, so that -0.0 stays -0.0, as in PyTorch.
            out = xp.zeros(a.shape, dtype=a.dtype)
            xp.maximum(out, a, out=out)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, = ctx.saved_tensors
        # PyTorch passes the gradient wherever the output is not <= 0, NaNs included; elsewhere
        # the gradient is 0, also where an infinite one arrives (a product with a mask of
        # zeros would make that NaN).
        if _C.takes(out, grad):
            grad_input = np.empty(out.shape, dtype=out.dtype)
            arrays = (out, grad, grad_input)
            if _parallel.split_flat(_C.kernels.relu_backward, arrays, 1):
                kernel = _split_relu_backward
            else:
                kernel = _C.kernels.relu_backward
                kernel(*arrays)
            if _recording.recorder is not None:
                _recording.recorder.kernel(kernel, arrays, (2,))
            return grad_input
        return zero_where(grad, out <= 0)


class Clamp(Function):
    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, a, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        xp = _backend.array_module(a)
        ctx.save_for_backward(a)
        ctx.bounds = (min, max)
        if isinstance(min, float) or isinstance(max, float):
            a = _as_float(a)
        # The bound first: NumPy's maximum and minimum return their second operand where the
        # two compare equal, and PyTorch keeps the input there (clamp(-0.0, min=0.0) is -0.0).
        out = a
        if min is not None:
            out = xp.maximum(min, out)
        if max is not None:
            out = xp.minimum(max, out)
        return out.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        low, high = ctx.bounds
        inside = True
        if low is not None:
            inside = a >= low
        if high is not None:
            inside = inside & (a <= high)
        return zero_where(grad, ~inside), None, None


class Lerp(Function):
    """``start + weight * (end - start)`` with a number ``weight``.

    PyTorch's formula: that one for ``|weight| < 0.5``, else ``end - (end - start) * (1 -
    weight)``, exact at ``weight == 1``. The two differ beyond rounding where an operand is
    infinite (``lerp(inf, -0.7, 0.5)`` is inf, not NaN) and in the sign of a zero result.
    """

    @staticmethod
    def forward(ctx, start, end, weight):
        _check_lerp_dtypes(start, end)
        ctx.weight = weight
        try:
            if abs(weight) < 0.5:
                return start + weight * (end - start)
            return end - (end - start) * (1 - weight)
        except ValueError:
            raise _broadcast_error(start, end) from None

    @staticmethod
    def backward(ctx, grad):
        weight = ctx.weight
        return (grad * (1 - weight) if ctx.needs_input_grad[0] else None,
                grad * weight if ctx.needs_input_grad[1] else None, None)


class LerpTensor(Function):
    """``start + weight * (end - start)`` with a tensor ``weight``, all three broadcast; each
    element by the formula that Lerp's weight would choose."""

    node_name = "LerpBackward1"

    @staticmethod
    def forward(ctx, start, end, weight):
        _check_lerp_dtypes(start, end)
        weight = weight.astype(start.dtype, copy=False)
        xp = _backend.array_module(start)
        try:
            difference = end - start
            out = xp.where(xp.abs(weight) < 0.5, start + weight * difference,
                           end - difference * (1 - weight))
        except ValueError:
            shapes = (start.shape, end.shape) if start.shape != end.shape else \
                (start.shape, weight.shape)
            raise broadcast_error(*shapes) from None
        ctx.save_for_backward(weight if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
                              else None,
                              difference if ctx.needs_input_grad[2] else None)
        return out

    @staticmethod
    def backward(ctx, grad):
        weight, difference = ctx.saved_tensors
        return (grad * (1 - weight) if ctx.needs_input_grad[0] else None,
                grad * weight if ctx.needs_input_grad[1] else None,
                grad * difference if ctx.needs_input_grad[2] else None)


def _check_lerp_dtypes(start, end) -> None:
    if start.dtype.kind not in "fc":
        raise NotImplementedError(f'"lerp_kernel_scalar" not implemented for '
                                  f"'{type_name(start.dtype)}'")
    if end.dtype != start.dtype:
        raise RuntimeError(f"expected dtype {C_TYPE_NAMES[start.dtype.name]} for `end` but got "
                           f"dtype {C_TYPE_NAMES[end.dtype.name]}")


def extremum_grads(grad, a, b, a_loses, b_loses):
    """The gradients of ``maximum``/``minimum`` for inputs ``a`` and ``b``: each input gets the
    gradient except where it loses, and ties share it equally, as PyTorch's formula has it.
    Where either is NaN neither loses, so both get the whole gradient (PyTorch's too)."""
    at_ties = 1 - 0.5 * (a == b).astype(grad.dtype)
    return zero_where(grad, a_loses) * at_ties, zero_where(grad, b_loses) * at_ties


class Addcmul(Function):
    """``input + value * tensor1 * tensor2``, broadcast (the optimizers' moment updates)."""

    @staticmethod
    def forward(ctx, a, t1, t2, value):
        ctx.save_for_backward(t1 if ctx.needs_input_grad[2] else None,
                              t2 if ctx.needs_input_grad[1] else None)
        ctx.value = value
        t1, t2 = promote(t1, t2)
        try:
            product = t1 * t2
            a, product = promote(a, product)
            return a + value * product if value != 1 else a + product
        except ValueError:
            raise _broadcast_error(t1, t2) from None

    @staticmethod
    def backward(ctx, grad):
        t1, t2 = ctx.saved_tensors
        scaled = grad * ctx.value if ctx.value != 1 else grad
        return (grad, scaled * t2 if ctx.needs_input_grad[1] else None,
                scaled * t1 if ctx.needs_input_grad[2] else None, None)


class Addcdiv(Function):
    """``input + value * tensor1 / tensor2``, broadcast (Adam's step)."""

    @staticmethod
    def forward(ctx, a, t1, t2, value):
        if t1.dtype.kind in "biu" and t2.dtype.kind in "biu":
            raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                               "future  release addcdiv will perform a true division of tensor1 "
                               "and tensor2. The historic addcdiv behavior can be implemented as "
                               "(input + value * ember.trunc(tensor1 / tensor2)).to(input.dtype) "
                               "for integer inputs and as (input + value * tensor1 / tensor2) for"
                               " float inputs. The future addcdiv behavior is just the latter "
                               "implementation: (input + value * tensor1 / tensor2), for all "
                               "dtypes.")
        ctx.save_for_backward(t1 if ctx.needs_input_grad[2] else None, t2)
        ctx.value = value
        t1, t2 = promote(t1, t2)
        try:
            quotient = t1 / t2
            a, quotient = promote(a, quotient)
            return a + value * quotient if value != 1 else a + quotient
        except ValueError:
            raise _broadcast_error(t1, t2) from None

    @staticmethod
    def backward(ctx, grad):
        t1, t2 = ctx.saved_tensors
        scaled = grad * ctx.value if ctx.value != 1 else grad
        scaled = scaled / t2
        return (grad, scaled if ctx.needs_input_grad[1] else None,
                -scaled * t1 / t2 if ctx.needs_input_grad[2] else None, None)


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)  # as given, so that in-place changes to them are caught
        a, b = promote(a, b)
        try:
            return _backend.array_module(a).maximum(a, b)
        except ValueError:
            raise _broadcast_error(a, b) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = (_like(operand, grad) for operand in ctx.saved_tensors)
        return extremum_grads(grad, a, b, a_loses=a < b, b_loses=a > b)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)  # as given, so that in-place changes to them are caught
        a, b = promote(a, b)
        try:
            return _backend.array_module(a).minimum(a, b)
        except ValueError:
            raise _broadcast_error(a, b) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = (_like(operand, grad) for operand in ctx.saved_tensors)
        return extremum_grads(grad, a, b, a_loses=a > b, b_loses=a < b)


class ClampTensor(Function):
    """``clamp`` with tensor bounds (either may be None), all broadcast together. The gradient
    goes to the input where it lies within the bounds (ties included), else to the bound."""

    node_name = "ClampBackward0"

    @staticmethod
    def forward(ctx, a, low, high):
        xp = _backend.array_module(a)
        dtype = result_dtype(*(x for x in (a, low, high) if x is not None))
        out = a.astype(dtype, copy=False)
        try:
            if low is not None:
                out = xp.maximum(out, low.astype(dtype, copy=False))
            if high is not None:
                out = xp.minimum(out, high.astype(dtype, copy=False))
        except ValueError:
            bound = low if low is not None else high
            raise _broadcast_error(a, bound) from None
        ctx.save_for_backward(a, low, high)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, low, high = ctx.saved_tensors
        # PyTorch's rule: the input's gradient where it lies within both bounds (so a NaN
        # anywhere blocks it); the lower bound's where the input is below it and the bounds
        # don't cross; the upper bound's where the input is above it or the bounds cross
        # (min > max gives max everywhere).
        inside, below, above = True, False, False
        if low is not None:
            inside = a >= low
            below = a < low if high is None else (a < low) & (low < high)
        if high is not None:
            inside = inside & (a <= high)
            above = a > high if low is None else (a > high) | (high < low)
        grad_low = zero_where(grad, ~below) if ctx.needs_input_grad[1] else None
        grad_high = zero_where(grad, ~above) if ctx.needs_input_grad[2] else None
        return zero_where(grad, ~inside), grad_low, grad_high


class ClampMin(Function):
    """``clamp_min(a, number)``: the gradient flows where ``a >= min``."""

    @staticmethod
    def forward(ctx, a, low):
        ctx.save_for_backward(a)
        ctx.low = low
        if isinstance(low, float):
            a = _as_float(a)
        # The bound first, so that the input is kept where they tie (see Clamp).
        return _backend.array_module(a).maximum(low, a).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return zero_where(grad, ~(a >= ctx.low)), None


class ClampMax(Function):
    """``clamp_max(a, number)``: the gradient flows where ``a <= max``."""

    @staticmethod
    def forward(ctx, a, high):
        ctx.save_for_backward(a)
        ctx.high = high
        if isinstance(high, float):
            a = _as_float(a)
        # The bound first, so that the input is kept where they tie (see Clamp).
        return _backend.array_module(a).minimum(high, a).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return zero_where(grad, ~(a <= ctx.high)), None


class ClampMinTensor(ClampTensor):
    node_name = "ClampMinBackward1"


class ClampMaxTensor(ClampTensor):
    node_name = "ClampMaxBackward1"


def _check_floating(kernel: str, a, b) -> None:
    """PyTorch's error for ops that have float kernels only (hypot, logaddexp) on integers."""
    dtype = result_dtype(a, b)
    if dtype.kind not in "fc":
        raise NotImplementedError(f'"{kernel}_cpu" not implemented for \'{type_name(dtype)}\'')


class Atan2(Function):
    """``atan2(a, b)``: the angle of the point (b, a); integers give the default float."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)  # as given, so that in-place changes to them are caught
        a, b = _float_operands(a, b)
        try:
            return _backend.array_module(a).arctan2(a, b)
        except ValueError:
            raise _broadcast_error(a, b) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = _float_operands(*ctx.saved_tensors)
        scale = grad / (a * a + b * b)
        return scale * b, -scale * a


class Hypot(Function):
    """``sqrt(a^2 + b^2)`` without overflow in the squares."""

    @staticmethod
    def forward(ctx, a, b):
        _check_floating("hypot", a, b)
        # Each operand as given, and only for its own gradient, as PyTorch saves them (so that
        # in-place changes to them are caught, and only those).
        given = (a if ctx.needs_input_grad[0] else None, b if ctx.needs_input_grad[1] else None)
        a, b = promote(a, b)
        try:
            out = _backend.array_module(a).hypot(a, b)
        except ValueError:
            raise _broadcast_error(a, b) from None
        ctx.save_for_backward(*given, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        return (grad * _like(a, grad) / out if ctx.needs_input_grad[0] else None,
                grad * _like(b, grad) / out if ctx.needs_input_grad[1] else None)


class Logaddexp(Function):
    """``log(exp(a) + exp(b))``, computed without overflow."""

    @staticmethod
    def forward(ctx, a, b):
        _check_floating("logaddexp", a, b)
        given = a, b  # saved as given, so that in-place changes to them are caught
        a, b = promote(a, b)
        try:
            out = _backend.array_module(a).logaddexp(a, b)
        except ValueError:
            raise _broadcast_error(a, b) from None
        ctx.save_for_backward(*given, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        a, b = promote(a, b)
        xp = _backend.array_module(grad)
        return grad * xp.exp(a - out), grad * xp.exp(b - out)


class Fmod(Function):
    """``fmod(a, number)``: the remainder with the sign of ``a`` (C's fmod), gradient 1."""

    scalar_operands = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad[1]:  # as given, so that in-place changes are caught
            ctx.save_for_backward(a, b)
        a, b = promote(a, b)
        _check_integer_divisor(a, b)
        try:
            out = _backend.array_module(a).fmod(a, b)
        except ValueError:
            raise _broadcast_error(a, b) from None
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_b = None
        if ctx.needs_input_grad[1]:
            a, b = promote(*ctx.saved_tensors)
            grad_b = -grad * _backend.array_module(grad).trunc(a / b)
        return grad, grad_b


class FmodTensor(Fmod):
    """``fmod(a, b)`` with a tensor ``b``: PyTorch's other overload, and node name."""

    node_name = "FmodBackward1"


class Where(Function):
    scalar_operands = (1, 2)

    @staticmethod
    def forward(ctx, condition, a, b):
        a, b = promote(a, b)
        ctx.save_for_backward(condition)
        try:
            return _backend.array_module(condition).where(condition, a, b)
        except ValueError:  # PyTorch names the first pair that does not broadcast
            shapes = [getattr(x, "shape", ()) for x in (condition, a, b)]
            try:
                np.broadcast_shapes(shapes[0], shapes[1])
            except ValueError:
                raise broadcast_error(shapes[0], shapes[1]) from None
            raise broadcast_error(np.broadcast_shapes(shapes[0], shapes[1]), shapes[2]) from None

    @staticmethod
    def backward(ctx, grad):
        condition, = ctx.saved_tensors
        # Each branch gets the gradient where it was chosen and 0 elsewhere, as PyTorch's: not
        # ``grad * condition``, which is NaN where an infinite gradient meets a False.
        return (None, *_split_where(grad, condition))


def _split_where(grad, condition):
    """``grad`` where ``condition`` holds (else +0.0), and where it does not: zero_where's
    masking by bits for both, from one mask and its complement (about 1.3x the two products
    ``grad * condition`` and ``grad * ~condition``, where zero_where twice is 1.8x)."""
    if grad.dtype.kind != "f":
        return zero_where(grad, ~condition), zero_where(grad, condition)
    xp = _backend.array_module(grad)
    bits = np.dtype(f"i{grad.dtype.itemsize}")
    as_bits = xp.asarray(grad).view(bits)
    # True -> -1 (every bit set), False -> 0; an array also for 0-d operands
    mask = xp.asarray(xp.subtract(0, condition, dtype=bits))
    chosen = xp.bitwise_and(as_bits, mask).view(grad.dtype)
    # The complement in place: a new mask here made the whole call 10x slower at a million
    # elements (measured; one more large allocation per call).
    xp.invert(mask, out=mask)
    other = xp.bitwise_and(as_bits, mask).view(grad.dtype)
    return chosen, other


class Fill(Function):
    """The values of ``value`` broadcast to ``a``'s shape (for ``fill_``, ``uniform_`` …)."""

    node_name = "FillBackward2"  # PyTorch's fill_ with a number

    @staticmethod
    def forward(ctx, a, value):
        xp = _backend.array_module(a)
        return xp.broadcast_to(xp.asarray(value, dtype=a.dtype), a.shape)

    @staticmethod
    def backward(ctx, grad):
        # The old values are gone: their gradient is zeros (not None, so a parameter behind
        # them still gets a .grad, as in PyTorch, and optimizers do not skip it).
        return _backend.array_module(grad).zeros_like(grad), grad


class FillTensor(Fill):
    """``fill_`` with a 0-d tensor value, which receives the gradient's sum."""

    node_name = "FillBackward3"


class CopyFrom(Function):
    node_name = "torch::autograd::CopyBackwards"

    @staticmethod
    def forward(ctx, a, src):
        ctx.src_dtype = src.dtype
        return _backend.array_module(a).broadcast_to(src.astype(a.dtype, copy=False), a.shape)

    @staticmethod
    def backward(ctx, grad):
        return _backend.array_module(grad).zeros_like(grad), grad


class ToCopy(Function):
    """A change of dtype and/or device."""

    @staticmethod
    def forward(ctx, a, dtype=None, device=None):
        ctx.source = (a.dtype, _backend.device_of(a))
        if device is not None:
            a = _backend.move(a, device)
        if dtype is not None:
            a = a.astype(dtype.numpy)
        return a

    @staticmethod
    def backward(ctx, grad):
        dtype, device = ctx.source
        return _backend.move(grad, device).astype(dtype, copy=False), None, None


# ---- the plain functions -----------------------------------------------------------------

def write_out(name: str, result, out):
    """PyTorch's ``out=`` argument: ``result`` stored into ``out``, which is returned.

    ``out`` keeps its dtype, which must be able to hold the result's (floats do not go into an
    integer tensor), and takes the result's shape: a tensor with elements is resized with
    PyTorch's deprecation warning, an empty one silently. Nothing is differentiated through
    ``out=``, so an input that requires grad is an error, as in PyTorch.

    Example:
        >>> import ember
        >>> result = ember.empty(2)
        >>> ember.add(ember.ones(2), 1, out=result)
        tensor([2., 2.])
    """
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if result.requires_grad or out._grad_recorded:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           f"differentiation, but one of the arguments requires grad.")
    if CATEGORY[result._data.dtype.kind] > CATEGORY[out._data.dtype.kind]:
        raise RuntimeError(f"result type {type_name(result._data.dtype)} can't be cast to the "
                           f"desired output type {type_name(out._data.dtype)}")
    if out._data.shape != result._data.shape:
        if out._data.size:
            warnings.warn(f"An output with one or more elements was resized since it had shape "
                          f"{list(out._data.shape)}, which does not match the required output "
                          f"shape {list(result._data.shape)}. This behavior is deprecated, and "
                          f"in a future PyTorch release outputs will not be resized unless they "
                          f"have zero elements. You can explicitly reuse an out tensor t by "
                          f"resizing it, inplace, to zero elements with t.resize_(0).",
                          UserWarning, stacklevel=3)
        # New memory of the new shape, as PyTorch's resize gives: out is no longer a view.
        xp = _backend.array_module(out._data)
        out._data = xp.empty(result._data.shape, dtype=out._data.dtype)
        out._base = None
        out._version = [out._version[0]]
    out._data[...] = result._data
    inplace.bump_version(out)
    return out


def write_out_pair(name: str, result, out):
    """``write_out`` for ops that return ``(values, indices)``: ``out`` is a pair of tensors."""
    if out is None:
        return result
    values, indices = out
    return type(result)(write_out(name, result[0], values), write_out(name, result[1], indices))


def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other``, broadcasting (into ``out`` when given, see ``write_out``).

    Example:
        >>> import ember
        >>> ember.add(input=ember.ones(2), other=ember.ones(2), alpha=3)
        tensor([4., 4.])
    """
    return write_out("add", Add.apply(input, other, alpha), out)


def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other``, broadcasting (into ``out`` when given, see ``write_out``)."""
    return write_out("sub", Sub.apply(input, other, alpha), out)


def rsub(input, other):
    """``other - input``: ``number - tensor``."""
    return Rsub.apply(input, other)


def mul(input, other, *, out=None):
    """``input * other``, broadcasting (into ``out`` when given, see ``write_out``)."""
    return write_out("mul", Mul.apply(input, other), out)


def div(input, other, *, rounding_mode=None, out=None):
    """``input / other`` (true division; integers give floats), broadcasting.

    ``rounding_mode="floor"`` or ``"trunc"`` rounds the quotient, keeping integer dtypes; the
    rounded result has no gradient, as in PyTorch. With ``out``, see ``write_out``.
    """
    return write_out("div", _divide(input, other, rounding_mode), out)


def true_divide(input, other, *, out=None):
    """``input / other``: ``div`` without rounding."""
    return write_out("true_divide", Div.apply(input, other), out)


def _divide(a, b, rounding_mode):
    if rounding_mode is None:
        return Div.apply(a, b)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found '{rounding_mode}'")
    return DivRounded.apply(a, b, rounding_mode)


def neg(input, *, out=None):
    return write_out("neg", Neg.apply(input), out)


def reciprocal(input, *, out=None):
    return write_out("reciprocal", Reciprocal.apply(input), out)


def pow(input, exponent, *, out=None):
    """``input ** exponent`` for a number or a tensor exponent (or a number ``input``)."""
    if not isinstance(input, Tensor):  # torch.pow(2, tensor)
        return write_out("pow", PowScalarBase.apply(exponent, input), out)
    if isinstance(exponent, Tensor):
        return write_out("pow", PowTensor.apply(input, exponent), out)
    return write_out("pow", Pow.apply(input, exponent), out)


def rpow(exponent, base):
    """``base ** exponent`` where base is a Python number."""
    return PowScalarBase.apply(exponent, base)


def exp(input, *, out=None):
    return write_out("exp", Exp.apply(input), out)


def log(input, *, out=None):
    return write_out("log", Log.apply(input), out)


def log1p(input, *, out=None):
    """``log(1 + input)``, elementwise; accurate where ``input`` is small.

    Example:
        >>> import ember
        >>> ember.log1p(ember.tensor([0.0, 1.0]))
        tensor([0.0000, 0.6931])
    """
    return write_out("log1p", Log1p.apply(input), out)


def expm1(input, *, out=None):
    """``exp(input) - 1``, elementwise; accurate where ``input`` is small.

    Example:
        >>> import ember
        >>> ember.expm1(ember.tensor([0.0, 1.0]))
        tensor([0.0000, 1.7183])
    """
    return write_out("expm1", Expm1.apply(input), out)


def log2(input, *, out=None):
    """Base-2 logarithm, elementwise.

    Example:
        >>> import ember
        >>> ember.log2(ember.tensor([1.0, 8.0]))
        tensor([0., 3.])
    """
    return write_out("log2", Log2.apply(input), out)


def log10(input, *, out=None):
    """Base-10 logarithm, elementwise.

    Example:
        >>> import ember
        >>> ember.log10(ember.tensor([1.0, 10.0]))
        tensor([0., 1.])
    """
    return write_out("log10", Log10.apply(input), out)


def floor(input, *, out=None):
    """The largest integer not above each element (integer tensors come back unchanged).

    Example:
        >>> import ember
        >>> ember.floor(ember.tensor([-1.5, 1.5]))
        tensor([-2.,  1.])
    """
    return write_out("floor", Floor.apply(input), out)


def ceil(input, *, out=None):
    """The smallest integer not below each element (integer tensors come back unchanged).

    Example:
        >>> import ember
        >>> ember.ceil(ember.tensor([-1.5, 1.5]))
        tensor([-1.,  2.])
    """
    return write_out("ceil", Ceil.apply(input), out)


def round(input, *, decimals: "int | None" = None, out=None):
    """Round to the nearest integer (or to ``decimals`` places), halves to even.

    Example:
        >>> import ember
        >>> ember.round(ember.tensor([0.5, 1.5, 2.567]))
        tensor([0., 2., 3.])
    """
    if decimals is None:
        return write_out("round", Round.apply(input), out)
    return write_out("round", RoundDecimals.apply(input, decimals), out)


def sqrt(input, *, out=None):
    return write_out("sqrt", Sqrt.apply(input), out)


def rsqrt(input, *, out=None):
    """``1 / sqrt(input)``."""
    return write_out("rsqrt", Rsqrt.apply(input), out)


def abs(input, *, out=None):
    return write_out("abs", Abs.apply(input), out)


def sign(input, *, out=None):
    return write_out("sign", Sign.apply(input), out)


def sin(input, *, out=None):
    return write_out("sin", Sin.apply(input), out)


def cos(input, *, out=None):
    return write_out("cos", Cos.apply(input), out)


def tanh(input, *, out=None):
    return write_out("tanh", Tanh.apply(input), out)


def sigmoid(input, *, out=None):
    return write_out("sigmoid", Sigmoid.apply(input), out)


def relu(input):
    return Relu.apply(input)


def clamp(input, min=None, max=None, *, out=None):
    """Limit values to ``[min, max]``; the gradient flows where the input is inside.

    The bounds are both numbers (or None), or both tensors (or None) that broadcast with
    ``input``.

    Example:
        >>> import ember
        >>> ember.clamp(ember.tensor([-2.0, 0.5, 3.0]), min=ember.zeros(3), max=ember.ones(3))
        tensor([0.0000, 0.5000, 1.0000])
    """
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if not all(bound is None or isinstance(bound, Tensor) for bound in (min, max)):
            raise TypeError(f"clamp() received an invalid combination of arguments - got "
                            f"(Tensor, {type(min).__name__}, {type(max).__name__}): the bounds "
                            f"must be both tensors or both numbers")
        return write_out("clamp", ClampTensor.apply(input, min, max), out)
    return write_out("clamp", Clamp.apply(input, min, max), out)


def _unary_function(name: str, function, summary: str, example: str):
    """The plain function ``name(input, *, out=None)`` of a unary Function, with its docstring."""
    def unary(input, *, out=None):
        return write_out(name, function.apply(input), out)
    unary.__name__ = unary.__qualname__ = name
    unary.__doc__ = (f"{summary}\n\n    Example:\n        >>> import ember\n"
                     f"        >>> ember.{name}({example[0]})\n        {example[1]}\n    ")
    return unary


tan = _unary_function("tan", Tan, "The tangent, elementwise.",
                      ("ember.tensor([0.0, 1.0])", "tensor([0.0000, 1.5574])"))
asin = _unary_function("asin", Asin, "The inverse sine, elementwise (NaN outside [-1, 1]).",
                       ("ember.tensor([0.0, 1.0])", "tensor([0.0000, 1.5708])"))
acos = _unary_function("acos", Acos, "The inverse cosine, elementwise (NaN outside [-1, 1]).",
                       ("ember.tensor([0.0, 1.0])", "tensor([1.5708, 0.0000])"))
atan = _unary_function("atan", Atan, "The inverse tangent, elementwise.",
                       ("ember.tensor([0.0, 1.0])", "tensor([0.0000, 0.7854])"))
sinh = _unary_function("sinh", Sinh, "The hyperbolic sine, elementwise.",
                       ("ember.tensor([0.0, 1.0])", "tensor([0.0000, 1.1752])"))
cosh = _unary_function("cosh", Cosh, "The hyperbolic cosine, elementwise.",
                       ("ember.tensor([0.0, 1.0])", "tensor([1.0000, 1.5431])"))
asinh = _unary_function("asinh", Asinh, "The inverse hyperbolic sine, elementwise.",
                        ("ember.tensor([0.0, 1.0])", "tensor([0.0000, 0.8814])"))
acosh = _unary_function("acosh", Acosh, "The inverse hyperbolic cosine (NaN below 1).",
                        ("ember.tensor([1.0, 2.0])", "tensor([0.0000, 1.3170])"))
atanh = _unary_function("atanh", Atanh, "The inverse hyperbolic tangent (NaN outside [-1, 1]).",
                        ("ember.tensor([0.0, 0.5])", "tensor([0.0000, 0.5493])"))
exp2 = _unary_function("exp2", Exp2, "``2 ** input``, elementwise.",
                       ("ember.tensor([0.0, 3.0])", "tensor([1., 8.])"))
sinc = _unary_function("sinc", Sinc, "``sin(pi x) / (pi x)``, elementwise, 1 at 0.",
                       ("ember.tensor([0.0, 0.5])", "tensor([1.0000, 0.6366])"))
erf = _unary_function("erf", Erf, "The error function, elementwise.",
                      ("ember.tensor([0.0, 1.0])", "tensor([0.0000, 0.8427])"))
erfc = _unary_function("erfc", Erfc, "``1 - erf(input)``, accurate where erf is near 1.",
                       ("ember.tensor([0.0, 1.0])", "tensor([1.0000, 0.1573])"))
erfinv = _unary_function("erfinv", Erfinv, "The inverse of erf, on (-1, 1).",
                         ("ember.tensor([0.0, 0.5])", "tensor([0.0000, 0.4769])"))
trunc = _unary_function("trunc", Trunc, "Round toward zero (integer tensors are unchanged).",
                        ("ember.tensor([-1.5, 1.5])", "tensor([-1.,  1.])"))
frac = _unary_function("frac", Frac, "The fractional part ``input - trunc(input)``.",
                       ("ember.tensor([-1.5, 2.25])", "tensor([-0.5000,  0.2500])"))
sgn = _unary_function("sgn", Sgn, "The sign (-1, 0 or 1); as ``sign`` for real tensors.",
                      ("ember.tensor([-2.0, 0.0, 3.0])", "tensor([-1.,  0.,  1.])"))
deg2rad = _unary_function("deg2rad", Deg2Rad, "Degrees to radians, elementwise.",
                          ("ember.tensor([180.0, 90.0])", "tensor([3.1416, 1.5708])"))
rad2deg = _unary_function("rad2deg", Rad2Deg, "Radians to degrees, elementwise.",
                          ("ember.tensor([3.1415927])", "tensor([180.])"))


def nan_to_num(input, nan: float = 0.0, posinf=None, neginf=None, *, out=None):
    """``input`` with NaN replaced by ``nan`` and infinities by ``posinf``/``neginf`` (by
    default the largest and smallest finite values of its dtype).

    Example:
        >>> import ember
        >>> ember.nan_to_num(ember.tensor([float("nan"), 1.0]), nan=-1.0)
        tensor([-1.,  1.])
    """
    return write_out("nan_to_num", NanToNum.apply(input, nan, posinf, neginf), out)


# PyTorch names the nodes of these ops' in-place forms ``...Backward1``: Tensor's ``name_``
# methods apply these Functions instead of the plain ones.
INPLACE_FUNCTIONS = {"asinh": AsinhInplace, "arcsinh": AsinhInplace,
                     "acosh": AcoshInplace, "arccosh": AcoshInplace,
                     "atanh": AtanhInplace, "arctanh": AtanhInplace}
arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh
fix = trunc


class XlogySelfScalar(Xlogy):
    node_name = "XlogyBackward1"  # PyTorch's overload with a number x


class XlogyOtherScalar(Xlogy):
    node_name = "XlogyBackward2"  # ... and with a number y


def logit(input, eps=None, *, out=None):
    """``log(p / (1 - p))``, the inverse of sigmoid; ``eps`` clamps ``p`` to
    ``[eps, 1 - eps]`` first.

    Example:
        >>> import ember
        >>> ember.logit(ember.tensor([0.5, 0.75]))
        tensor([0.0000, 1.0986])
    """
    return write_out("logit", Logit.apply(input, eps), out)


def xlogy(input, other, *, out=None):
    """``input * log(other)``, taken as 0 where ``input`` is 0 (unless ``other`` is NaN).

    Example:
        >>> import ember
        >>> ember.xlogy(ember.tensor([0.0, 2.0]), ember.tensor([0.0, 1.0]))
        tensor([0., 0.])
    """
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("xlogy(): expected a tensor argument")
    function = (Xlogy if isinstance(input, Tensor) and isinstance(other, Tensor) else
                XlogySelfScalar if isinstance(other, Tensor) else XlogyOtherScalar)
    return write_out("xlogy", function.apply(input, other), out)


def atan2(input, other, *, out=None):
    """The angle of the point ``(other, input)`` in radians, elementwise, broadcasting.

    Example:
        >>> import ember
        >>> ember.atan2(ember.tensor([1.0]), ember.tensor([-1.0]))
        tensor([2.3562])
    """
    return write_out("atan2", Atan2.apply(input, other), out)


arctan2 = atan2


def hypot(input, other, *, out=None):
    """``sqrt(input ** 2 + other ** 2)``, elementwise, broadcasting.

    Example:
        >>> import ember
        >>> ember.hypot(ember.tensor([3.0]), ember.tensor([4.0]))
        tensor([5.])
    """
    _check_tensor_argument("hypot", "other", other)
    return write_out("hypot", Hypot.apply(input, other), out)


def logaddexp(input, other, *, out=None):
    """``log(exp(input) + exp(other))``, elementwise, without overflow.

    Example:
        >>> import ember
        >>> ember.logaddexp(ember.tensor([1000.0]), ember.tensor([1000.0]))
        tensor([1000.6932])
    """
    _check_tensor_argument("logaddexp", "other", other)
    return write_out("logaddexp", Logaddexp.apply(input, other), out)


def _check_tensor_argument(name: str, parameter: str, value) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument '{parameter}' (position 2) must be Tensor, not "
                        f"{type(value).__name__}")


def fmod(input, other, *, out=None):
    """The remainder of ``input / other`` with the sign of ``input`` (C's fmod).

    Example:
        >>> import ember
        >>> ember.fmod(ember.tensor([-3.0, 3.0]), 2)
        tensor([-1.,  1.])
    """
    function = FmodTensor if isinstance(other, Tensor) else Fmod
    return write_out("fmod", function.apply(input, other), out)


def clamp_min(input, min, *, out=None):
    """``clamp(input, min=min)``.

    Example:
        >>> import ember
        >>> ember.clamp_min(ember.tensor([-1.0, 2.0]), 0.0)
        tensor([0., 2.])
    """
    if isinstance(min, Tensor):
        return write_out("clamp_min", ClampMinTensor.apply(input, min, None), out)
    return write_out("clamp_min", ClampMin.apply(input, min), out)


def clamp_max(input, max, *, out=None):
    """``clamp(input, max=max)``.

    Example:
        >>> import ember
        >>> ember.clamp_max(ember.tensor([-1.0, 2.0]), 0.0)
        tensor([-1.,  0.])
    """
    if isinstance(max, Tensor):
        return write_out("clamp_max", ClampMaxTensor.apply(input, None, max), out)
    return write_out("clamp_max", ClampMax.apply(input, max), out)


def lerp(input, end, weight, *, out=None):
    """``input + weight * (end - input)``; ``weight`` is a number or a tensor (broadcast).

    Example:
        >>> import ember
        >>> ember.lerp(ember.zeros(2), ember.tensor([2.0, 4.0]), 0.25)
        tensor([0.5000, 1.0000])
    """
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp(): argument 'end' must be Tensor, not {type(end).__name__}")
    if isinstance(weight, Tensor):
        return write_out("lerp", LerpTensor.apply(input, end, weight), out)
    return write_out("lerp", Lerp.apply(input, end, weight), out)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """``input + value * tensor1 * tensor2``, elementwise and broadcasting.

    Example:
        >>> import ember
        >>> ember.addcmul(ember.ones(2), ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0]),
        ...               value=0.5)
        tensor([2.5000, 5.0000])
    """
    return write_out("addcmul", Addcmul.apply(input, tensor1, tensor2, value), out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """``input + value * tensor1 / tensor2``, elementwise and broadcasting.

    Example:
        >>> import ember
        >>> ember.addcdiv(ember.ones(2), ember.tensor([1.0, 2.0]), ember.tensor([4.0, 4.0]),
        ...               value=2)
        tensor([1.5000, 2.0000])
    """
    return write_out("addcdiv", Addcdiv.apply(input, tensor1, tensor2, value), out)


def maximum(input, other, *, out=None):
    """The larger of ``input`` and ``other``, elementwise (NaN wins)."""
    return write_out("maximum", Maximum.apply(input, other), out)


def minimum(input, other, *, out=None):
    """The smaller of ``input`` and ``other``, elementwise (NaN wins)."""
    return write_out("minimum", Minimum.apply(input, other), out)


def where(condition, input=None, other=None, *, out=None):
    """``input`` where ``condition`` holds, else ``other``; alone, the indices where it holds.

    Example:
        >>> import ember
        >>> ember.where(ember.tensor([True, False]), 1.0, 0.0)
        tensor([1., 0.])
    """
    condition = condition._data if isinstance(condition, Tensor) else condition
    if input is None and other is None:  # torch.where(condition): one index tensor per dim
        return NonzeroTuple.apply(condition)
    return write_out("where", Where.apply(condition, input, other), out)


def fill(a, value):
    return (FillTensor if isinstance(value, Tensor) else Fill).apply(a, value)


def copy_from(a, src):
    return CopyFrom.apply(a, src)


def to_dtype(a, dtype):
    return ToCopy.apply(a, dtype, None)


def to_device(a, device):
    if _backend.device_of(a._data) == device or (device.type == "cuda" and device.index is None
                                                 and a.device.type == "cuda"):
        return a
    return ToCopy.apply(a, None, device)


# ---- ops without a gradient: comparisons, logic, integer division, tests of values ---------

class _BinaryUfunc(Function):
    """NumPy's (or CuPy's) function ``ufunc`` of two promoted operands, without a gradient:
    the comparisons and the bitwise ops."""

    differentiable = False
    ufunc = None

    @classmethod
    def forward(cls, ctx, a, b):
        a, b = promote(a, b)
        try:
            return getattr(_backend.array_module(a), cls.ufunc)(a, b)
        except ValueError:
            raise _broadcast_error(a, b) from None


class NonzeroTuple(Function):
    """The indices of the non-zero elements, one index tensor per dimension."""

    differentiable = False

    @staticmethod
    def forward(ctx, a):
        xp = _backend.array_module(a)
        return tuple(index.astype(np.int64, copy=False) for index in xp.nonzero(a))


class Eq(_BinaryUfunc):
    ufunc = "equal"


class Ne(_BinaryUfunc):
    ufunc = "not_equal"


class Lt(_BinaryUfunc):
    ufunc = "less"


class Le(_BinaryUfunc):
    ufunc = "less_equal"


class Gt(_BinaryUfunc):
    ufunc = "greater"


class Ge(_BinaryUfunc):
    ufunc = "greater_equal"


def _check_integral(kernel: str, *operands) -> None:
    """PyTorch's error for a bitwise op on a floating-point operand."""
    for operand in operands:
        kind = operand.dtype.kind if hasattr(operand, "dtype") else (
            "f" if isinstance(operand, (float, complex)) else "i")
        if kind in "fc":
            dtype = operand.dtype if hasattr(operand, "dtype") else _dtype.get_default_dtype().numpy
            raise NotImplementedError(f'"{kernel}_cpu" not implemented for '
                                      f"'{type_name(dtype)}'")


class BitwiseAnd(_BinaryUfunc):
    """``&``: logical and of bools, bitwise and of integers."""

    ufunc = "bitwise_and"
    kernel = "bitwise_and"  # the name of PyTorch's kernel, in its error for floats

    @classmethod
    def forward(cls, ctx, a, b):
        _check_integral(cls.kernel, a, b)
        return super().forward(ctx, a, b)


class BitwiseOr(BitwiseAnd):
    ufunc = "bitwise_or"
    kernel = "bitwise_or"


class BitwiseXor(BitwiseAnd):
    ufunc = "bitwise_xor"
    kernel = "bitwise_xor"


class BitwiseLeftShift(BitwiseAnd):
    """``<<`` of integers: bits shifted in are zeros, and shifts past the width give 0."""

    ufunc = "left_shift"
    kernel = "lshift"


class BitwiseRightShift(BitwiseAnd):
    """``>>`` of integers: arithmetic, so negative numbers stay negative."""

    ufunc = "right_shift"
    kernel = "rshift"


class LogicalAnd(_BinaryUfunc):
    """True where both operands are non-zero; any dtypes, a bool result."""

    ufunc = "logical_and"


class LogicalOr(_BinaryUfunc):
    ufunc = "logical_or"


class LogicalXor(_BinaryUfunc):
    ufunc = "logical_xor"


class BitwiseNot(Function):
    """``~``: logical not of bools, bitwise not of integers."""

    differentiable = False

    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind not in "biu":
            raise NotImplementedError(f'"bitwise_not_cpu" not implemented for '
                                      f"'{type_name(a.dtype)}'")
        return _backend.array_module(a).invert(a)


class LogicalNot(Function):
    differentiable = False

    @staticmethod
    def forward(ctx, a):
        return _backend.array_module(a).logical_not(a)


class IsNan(Function):
    differentiable = False

    @staticmethod
    def forward(ctx, a):
        return _backend.array_module(a).isnan(a)


class IsFinite(Function):
    differentiable = False

    @staticmethod
    def forward(ctx, a):
        return _backend.array_module(a).isfinite(a)


class IsInf(Function):
    differentiable = False

    @staticmethod
    def forward(ctx, a):
        return _backend.array_module(a).isinf(a)


class IsClose(Function):
    """``|a - b| <= atol + rtol * |b|``, and NaN equal to NaN with ``equal_nan``."""

    differentiable = False

    @staticmethod
    def forward(ctx, a, b, rtol, atol, equal_nan):
        if a.dtype != b.dtype:
            raise RuntimeError(f"{type_name(a.dtype)} did not match {type_name(b.dtype)}")
        try:
            return _backend.array_module(a).isclose(a, b, rtol, atol, equal_nan)
        except ValueError:
            raise _broadcast_error(a, b) from None


def _check_integer_divisor(a, b) -> None:
    """PyTorch raises for an integer division by zero, where NumPy returns 0 and warns."""
    if a.dtype.kind in "biu" and bool((b == 0).any() if hasattr(b, "dtype") else b == 0):
        raise RuntimeError("ZeroDivisionError")


class FloorDivide(Function):
    """``a // b``: the quotient rounded down. PyTorch records a node whose backward raises."""

    node_name = "torch::autograd::NotImplemented"
    scalar_operands = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote(a, b)
        if a.dtype.kind == "b":
            raise NotImplementedError("\"div_floor_cpu\" not implemented for 'Bool'")
        _check_integer_divisor(a, b)
        try:
            return _backend.array_module(a).floor_divide(a, b)
        except ValueError:
            raise _broadcast_error(a, b) from None

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


class DivRounded(Function):
    """``div(a, b, rounding_mode="trunc" or "floor")``: a step function, so the gradient is
    zero (PyTorch's ``DivBackward2``)."""

    node_name = "DivBackward2"
    scalar_operands = (0, 1)

    @staticmethod
    def forward(ctx, a, b, rounding_mode):
        a, b = promote(a, b)
        _check_integer_divisor(a, b)
        xp = _backend.array_module(a)
        try:
            if rounding_mode == "floor":
                return xp.floor_divide(a, b)
            if a.dtype.kind in "biu":  # integer division that rounds toward zero
                quotient = xp.floor_divide(a, b)
                return quotient + ((a % b != 0) & ((a < 0) != (b < 0)))
            return xp.trunc(a / b)
        except ValueError:
            raise _broadcast_error(a, b) from None

    @staticmethod
    def backward(ctx, grad):
        zeros = _backend.array_module(grad).zeros_like(grad)
        return zeros, zeros, None


class Remainder(Function):
    """``a % b``, with the sign of ``b`` (Python's modulo). The gradient is 1 for ``a`` and
    ``-floor(a / b)`` for ``b``.

    A zero result keeps the sign of ``a``, as PyTorch's (C's ``fmod``, then ``+ b`` only where
    the remainder is non-zero with the wrong sign); NumPy gives it the sign of ``b``, which
    shows once something divides by it (``1 / (1.5 % -0.75)``: PyTorch inf, NumPy -inf)."""

    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad[1]:  # as given, so that in-place changes are caught
            ctx.save_for_backward(a, b)
        a, b = promote(a, b)
        _check_integer_divisor(a, b)
        xp = _backend.array_module(a)
        try:
            out = xp.remainder(a, b)
        except ValueError:
            raise _broadcast_error(a, b) from None
        if out.dtype.kind == "f":
            zero = out == 0
            if zero.any():
                out = xp.where(zero, xp.copysign(out, a), out)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_b = None
        if ctx.needs_input_grad[1]:
            a, b = promote(*ctx.saved_tensors)
            grad_b = -grad * _backend.array_module(grad).floor_divide(a, b)
        return grad, grad_b


class RemainderTensor(Remainder):
    """``a % b`` with a tensor ``b``: PyTorch's other overload, and node name."""

    node_name = "RemainderBackward1"


def eq(input, other, *, out=None):
    """``input == other``, elementwise, as a bool tensor."""
    return write_out("eq", Eq.apply(input, other), out)


def ne(input, other, *, out=None):
    """``input != other``, elementwise, as a bool tensor."""
    return write_out("ne", Ne.apply(input, other), out)


def lt(input, other, *, out=None):
    """``input < other``, elementwise, as a bool tensor."""
    return write_out("lt", Lt.apply(input, other), out)


def le(input, other, *, out=None):
    """``input <= other``, elementwise, as a bool tensor."""
    return write_out("le", Le.apply(input, other), out)


def gt(input, other, *, out=None):
    """``input > other``, elementwise, as a bool tensor."""
    return write_out("gt", Gt.apply(input, other), out)


def ge(input, other, *, out=None):
    """``input >= other``, elementwise, as a bool tensor."""
    return write_out("ge", Ge.apply(input, other), out)


def bitwise_and(input, other, *, out=None):
    """``input & other``: and of bools, bitwise and of integers."""
    return write_out("bitwise_and", BitwiseAnd.apply(input, other), out)


def bitwise_or(input, other, *, out=None):
    """``input | other``: or of bools, bitwise or of integers."""
    return write_out("bitwise_or", BitwiseOr.apply(input, other), out)


def bitwise_xor(input, other, *, out=None):
    """``input ^ other``: exclusive or of bools, bitwise of integers."""
    return write_out("bitwise_xor", BitwiseXor.apply(input, other), out)


def bitwise_not(input, *, out=None):
    """``~input``: not of bools, bitwise not of integers."""
    return write_out("bitwise_not", BitwiseNot.apply(input), out)


def bitwise_left_shift(input, other, *, out=None):
    """``input << other`` for integers: each shifted left by ``other`` bits.

    Example:
        >>> import ember
        >>> ember.bitwise_left_shift(ember.tensor([1, 3]), 2)
        tensor([ 4, 12])
    """
    return write_out("bitwise_left_shift", BitwiseLeftShift.apply(input, other), out)


def bitwise_right_shift(input, other, *, out=None):
    """``input >> other`` for integers: arithmetic shift right by ``other`` bits.

    Example:
        >>> import ember
        >>> ember.bitwise_right_shift(ember.tensor([-8, 12]), 2)
        tensor([-2,  3])
    """
    return write_out("bitwise_right_shift", BitwiseRightShift.apply(input, other), out)


def logical_and(input, other, *, out=None):
    """True where both are non-zero (or True).

    Example:
        >>> import ember
        >>> ember.logical_and(ember.tensor([1.0, 0.0]), ember.tensor([2, 3]))
        tensor([ True, False])
    """
    return write_out("logical_and", LogicalAnd.apply(input, other), out)


def logical_or(input, other, *, out=None):
    """True where either is non-zero (or True)."""
    return write_out("logical_or", LogicalOr.apply(input, other), out)


def logical_xor(input, other, *, out=None):
    """True where exactly one of them is non-zero (or True)."""
    return write_out("logical_xor", LogicalXor.apply(input, other), out)


def logical_not(input, *, out=None):
    """True where ``input`` is zero (or False)."""
    return write_out("logical_not", LogicalNot.apply(input), out)


def isnan(input):
    """True where ``input`` is NaN.

    Example:
        >>> import ember
        >>> ember.isnan(ember.tensor([1.0, float("nan")]))
        tensor([False,  True])
    """
    return IsNan.apply(input)


def isfinite(input):
    """True where ``input`` is neither infinite nor NaN."""
    return IsFinite.apply(input)


def isinf(input):
    """True where ``input`` is infinite."""
    return IsInf.apply(input)


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """True where ``|input - other| <= atol + rtol * |other|``, elementwise."""
    return IsClose.apply(input, other, rtol, atol, equal_nan)


def floor_divide(input, other, *, out=None):
    """``input // other``: the quotient rounded down (integers stay integers)."""
    return write_out("floor_divide", FloorDivide.apply(input, other), out)


def remainder(input, other, *, out=None):
    """``input % other``, with the sign of ``other``, as Python's ``%``.

    Example:
        >>> import ember
        >>> ember.remainder(ember.tensor([5.0, -3.0]), 2)
        tensor([1., 1.])
    """
    function = RemainderTensor if isinstance(other, Tensor) else Remainder
    return write_out("remainder", function.apply(input, other), out)

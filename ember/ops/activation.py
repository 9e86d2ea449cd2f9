"""Activations and normalizations: softmax, log_softmax, leaky_relu, elu, gelu, silu, softplus,
hardtanh, dropout, batch_norm and layer_norm.

relu, sigmoid and tanh are elementwise ops (``ember.ops.elementwise``); the functions here
complete what ``ember.nn.functional`` offers. Each backward uses what forward already computed:
softmax saves its output, the normalizations save the normalized input and the inverse
standard deviation.
"""

import functools
import math
import warnings

import numpy as np

from .. import _C, random
from .._backend import array_module
from .._parallel import kernel_parts
from .._tensor import Tensor, type_name
from ..autograd import inplace
from ..autograd.function import Function
from .elementwise import stable_sigmoid, to_dtype, zero_where
from .shape import normalize_dim

# ---- softmax -----------------------------------------------------------------------------


def shifted_by_maximum(input, dim):
    """``input`` minus its maximum along ``dim`` (a new array, also for 0-d input), so that
    ``exp`` of it never overflows. A dimension of size 0 has no maximum: nothing is shifted."""
    xp = array_module(input)
    if input.size == 0:
        return input.copy()
    return xp.subtract(input, input.max(axis=dim, keepdims=True),
                       out=xp.empty(input.shape, input.dtype))


class Softmax(Function):
    """``exp(x) / sum(exp(x))`` along ``dim``, after subtracting the maximum so exp never
    overflows (the result is the same: the factor ``exp(-max)`` cancels)."""

    contiguous_output = True

    @staticmethod
    def forward(ctx, input, dim):
        xp = array_module(input)
        output = shifted_by_maximum(input, dim)
        xp.exp(output, out=output)
        output /= output.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(output)
        ctx.dim = dim
        return output

    @staticmethod
    def backward(ctx, grad_output):
        output, = ctx.saved_tensors
        # The Jacobian is diag(s) - s s^T: applied to g it gives s * (g - <g, s>).
        weighted = grad_output * output
        return weighted - output * weighted.sum(axis=ctx.dim, keepdims=True), None


def _compiled_softmax_shape(array, dim):
    """``(outer, classes, inner)``, the sizes the compiled log_softmax kernels see ``array`` as
    (``dim`` in the middle), when they can run on it: the extension is built and ``array`` is a
    non-empty C-contiguous NumPy float32 or float64 array of at least one dimension. Else None,
    and the NumPy code runs."""
    if (_C.kernels is None or type(array) is not np.ndarray or dim is None or not array.size
            or array.dtype.char not in "fd" or not array.flags.c_contiguous):
        return None
    shape = array.shape
    return math.prod(shape[:dim]), shape[dim], math.prod(shape[dim + 1:])


class LogSoftmax(Function):
    """``x - log(sum(exp(x)))`` along ``dim``, computed as ``shifted - log(sum(exp(shifted)))``
    with ``shifted = x - max`` so that no exp overflows.

    With the compiled extension, forward and backward are one kernel call each (one pass per
    row where NumPy makes six); the NumPy code below is their reference."""

    contiguous_output = True

    @staticmethod
    def forward(ctx, input, dim):
        ctx.dim = dim
        ctx.sizes = sizes = _compiled_softmax_shape(input, dim)
        if sizes is not None:
            output = np.empty_like(input)
            _C.kernels.log_softmax_forward(input, output, *sizes)
            ctx.save_for_backward(output)
            return output
        xp = array_module(input)
        output = shifted_by_maximum(input, dim)
        output -= xp.log(xp.exp(output).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        output, = ctx.saved_tensors
        if ctx.sizes is not None and _C.kernels is not None \
                and type(grad_output) is np.ndarray and grad_output.dtype == output.dtype \
                and grad_output.flags.c_contiguous:
            grad_input = np.empty_like(output)
            _C.kernels.log_softmax_backward(grad_output, output, grad_input, *ctx.sizes)
            return grad_input, None
        xp = array_module(output)
        return grad_output - xp.exp(output) * grad_output.sum(axis=ctx.dim, keepdims=True), None


# ---- pointwise activations ---------------------------------------------------------------

class LeakyRelu(Function):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""

    @staticmethod
    def forward(ctx, input, negative_slope):
        ctx.save_for_backward(input)
        ctx.negative_slope = negative_slope
        return array_module(input).where(input > 0, input, input * negative_slope)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        xp = array_module(input)
        return xp.where(input > 0, grad_output, grad_output * ctx.negative_slope), None


class LeakyReluInplace(LeakyRelu):
    """``leaky_relu(..., inplace=True)``: the same op, named as PyTorch names its in-place node."""

    node_name = "LeakyReluBackward1"


class Elu(Function):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""

    @staticmethod
    def forward(ctx, input, alpha):
        xp = array_module(input)
        ctx.save_for_backward(input)
        ctx.alpha = alpha
        return xp.where(input > 0, input, alpha * xp.expm1(input)).astype(input.dtype,
                                                                         copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        xp = array_module(input)
        # The exponential branch where input <= 0; elsewhere (NaN included) the slope is 1.
        slope = xp.where(input <= 0, ctx.alpha * xp.exp(input), 1).astype(input.dtype,
                                                                          copy=False)
        return grad_output * slope, None


class EluInplace(Elu):
    """``elu(..., inplace=True)``, named as PyTorch names its in-place node."""

    node_name = "EluBackward1"


# erfc by a Chebyshev series in t = 2 / (2 + z): log(erfc(z) * exp(z^2) / t) is smooth on
# z >= 0 including infinity, so few terms give high accuracy. NumPy has no erf; the series is
# fitted once per (terms, range), from math.erfc. For float64 results, 21 terms give about
# 1e-13 relative error up to z = 26, where erfc underflows float64. Float32 (and float16)
# results are computed in float32 with 9 terms up to z = 6 (about 1e-7; beyond 6, 1 - erfc
# rounds to 1): a quarter of the passes over half the bytes, which matters because GELU's
# erf dominated a small transformer's training step.
_ERFC_SERIES = {np.dtype(np.float64): (21, 26.0), np.dtype(np.float32): (9, 6.0)}


@functools.cache
def _erfc_coefficients(terms: int, largest: float) -> tuple:
    """The series' coefficients as a polynomial in u (t mapped to [-1, 1]), highest power
    first. Horner's rule on them takes two passes a term where Clenshaw's recurrence takes
    three; the conversion from the Chebyshev basis costs no accuracy here, since the
    coefficients fall faster (by 4x or more a term) than the power basis grows (2.4x)."""
    def log_scaled_erfc(t):
        z = 2.0 / t - 2.0
        return np.log(np.vectorize(math.erfc)(z) / t) + z * z

    series = np.polynomial.Chebyshev.interpolate(log_scaled_erfc, terms - 1,
                                                 domain=[2.0 / (2.0 + largest), 1.0])
    return tuple(np.polynomial.chebyshev.cheb2poly(series.coef)[::-1].tolist())


def _erfc_nonnegative(z):
    """erfc(z) for z >= 0, a float64 or float32 array, by the series for its dtype.

    Overwrites ``z``'s own memory (callers pass a temporary).
    """
    xp = array_module(z)
    terms, largest = _ERFC_SERIES[z.dtype]
    coefficients = _erfc_coefficients(terms, largest)
    smallest_t = 2.0 / (2.0 + largest)
    xp.minimum(z, largest, out=z)  # past the fitted range the series diverges; erfc is ~0
    t = z + 2.0
    xp.divide(2.0, t, out=t)
    u = t * (2.0 / (1.0 - smallest_t))  # t's domain mapped to [-1, 1]
    u -= (1.0 + smallest_t) / (1.0 - smallest_t)
    series = u * coefficients[0]
    series += coefficients[1]
    for c in coefficients[2:]:
        series *= u
        series += c
    z *= z
    series -= z
    xp.exp(series, out=series)
    series *= t
    return series


def _erf(z):
    """erf(z) for a float64 or float32 array (erf is odd)."""
    xp = array_module(z)
    result = _erfc_nonnegative(xp.abs(z))
    xp.subtract(1.0, result, out=result)
    result *= xp.sign(z)  # not copysign: erf(0) is exactly 0, where 1 - erfc(0) is ~1e-14
    return result


# Elements per piece of ``_normal_cdf``: the series makes a dozen temporaries, and at this
# size they stay in cache and malloc hands the same blocks back for the next piece, where
# whole-array temporaries of a transformer's activations are mapped afresh (page faults) each
# time; pieces were 5x faster for a (12, 64, 512) float32 input.
_CDF_PIECE = 1 << 16


def _normal_cdf(x):
    """The standard normal CDF ``0.5 * (1 + erf(x / sqrt(2)))`` in x's dtype.

    Formed as PyTorch forms it, so that far in the lower tail it rounds to exactly 0 as
    PyTorch's does (and ``gelu`` gives -0.0 there, not a tiny number).
    """
    flat = x.reshape(-1)
    cdf = array_module(x).empty(flat.shape, x.dtype)
    for start in range(0, flat.size, _CDF_PIECE):
        piece = flat[start:start + _CDF_PIECE]
        z = piece.astype(np.float64 if x.dtype.itemsize >= 8 else np.float32)
        z *= 1.0 / math.sqrt(2.0)
        erf = _erf(z).astype(x.dtype, copy=False)
        erf += 1
        erf *= 0.5
        cdf[start:start + _CDF_PIECE] = erf
    return cdf.reshape(x.shape)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_TANH_CUBIC = 0.044715


@functools.cache
def _erf_series(dtype) -> np.ndarray:
    """``_erfc_nonnegative``'s constants for ``dtype``'s series, as the compiled GELU kernel
    (ember/_C/gelu.inc) takes them: the largest argument, u's scale and offset, then the
    coefficients. One source for both paths, so they compute the same polynomial."""
    terms, largest = _ERFC_SERIES[dtype]
    smallest_t = 2.0 / (2.0 + largest)
    return np.array((largest, 2.0 / (1.0 - smallest_t), (1.0 + smallest_t) / (1.0 - smallest_t))
                    + _erfc_coefficients(terms, largest))


# The work per element of the compiled GELU kernels, for ``parallel_for``, in its unit (about
# a quarter of a nanosecond): erf's series and exp make GELU compute-bound (1.3-3.4 ns an
# element on one core, backward and forward), unlike most elementwise ops, which memory
# bandwidth limits and threads do not speed up. Arrays from 100,000 elements are split, where
# the kernel's time is several times a split's cost (30-60 us to wake a worker and hand the
# lock back and forth on this 2-core virtual machine).
_GELU_WORK = 10


def _gelu_kernel(kernel, arrays, *constants) -> None:
    """A compiled GELU kernel over ``arrays``, in ranges over ember's threads when they are
    large (the kernel splits itself, ``kernel_parts``), else whole."""
    kernel(*arrays, *constants, kernel_parts(arrays[0].size, _GELU_WORK))


class Gelu(Function):
    """``x * Phi(x)`` with Phi the standard normal CDF, or its tanh approximation."""

    @staticmethod
    def forward(ctx, input, approximate):
        xp = array_module(input)
        ctx.approximate = approximate
        if _C.takes(input):  # one pass in C (gelu.inc), the code below its twin
            out = np.empty_like(input)
            if approximate == "tanh":
                _gelu_kernel(_C.kernels.gelu_tanh_forward, (input, out))
                ctx.save_for_backward(input, None)
            else:
                cdf = np.empty_like(input)
                _gelu_kernel(_C.kernels.gelu_erf_forward, (input, out, cdf),
                                   _erf_series(input.dtype))
                ctx.save_for_backward(input, cdf)
            return out
        if approximate == "tanh":
            ctx.save_for_backward(input, None)
            inner = _SQRT_2_OVER_PI * (input + _GELU_TANH_CUBIC * input * input * input)
            return 0.5 * input * (1 + xp.tanh(inner))
        # The CDF is kept for backward's slope: computing erf is most of GELU's time.
        cdf = _normal_cdf(input)
        ctx.save_for_backward(input, cdf)
        return input * cdf

    @staticmethod
    def backward(ctx, grad_output):
        input, cdf = ctx.saved_tensors
        xp = array_module(input)
        if _C.takes(input, cdf, grad_output):
            grad_input = np.empty_like(input)
            if ctx.approximate == "tanh":
                _gelu_kernel(_C.kernels.gelu_tanh_backward, (input, grad_output, grad_input))
            else:
                _gelu_kernel(_C.kernels.gelu_erf_backward,
                                   (input, cdf, grad_output, grad_input))
            return grad_input, None
        if ctx.approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (input + _GELU_TANH_CUBIC * input * input * input)
            tanh = xp.tanh(inner)
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * _GELU_TANH_CUBIC * input * input)
            slope = 0.5 * (1 + tanh) + 0.5 * input * (1 - tanh * tanh) * d_inner
        else:
            # cdf + input * density, in one temporary (an array also for 0-d input).
            slope = xp.multiply(input, input, out=xp.empty_like(input))
            slope *= -0.5
            xp.exp(slope, out=slope)
            slope *= input
            slope *= 1.0 / math.sqrt(2.0 * math.pi)
            slope += cdf
        slope *= grad_output
        return slope, None


class Silu(Function):
    """``x * sigmoid(x)`` (also called swish)."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input * stable_sigmoid(input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        sigmoid = stable_sigmoid(input)
        return grad_output * sigmoid * (1 + input * (1 - sigmoid))


class Softplus(Function):
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``."""

    @staticmethod
    def forward(ctx, input, beta, threshold):
        xp = array_module(input)
        scaled = input * beta
        ctx.save_for_backward(input)
        ctx.beta, ctx.threshold = beta, threshold
        # logaddexp(0, s) is log(1 + exp(s)) without overflow.
        smooth = xp.logaddexp(0, scaled) / beta
        return xp.where(scaled > threshold, input, smooth).astype(input.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        xp = array_module(input)
        scaled = input * ctx.beta
        below = grad_output * stable_sigmoid(scaled)
        return xp.where(scaled > ctx.threshold, grad_output, below), None, None


class Hardtanh(Function):
    """``x`` clipped to ``[min_val, max_val]``; the gradient flows strictly inside."""

    @staticmethod
    def forward(ctx, input, min_val, max_val):
        xp = array_module(input)
        ctx.save_for_backward(input)
        ctx.bounds = (min_val, max_val)
        return xp.clip(input, min_val, max_val).astype(input.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        min_val, max_val = ctx.bounds
        # The gradient passes except where the input is at or beyond a bound (NaN passes).
        outside = (input <= min_val) | (input >= max_val)
        return zero_where(grad_output, outside), None, None



class Mish(Function):
    """``x * tanh(softplus(x))``."""

    @staticmethod
    def forward(ctx, input):
        xp = array_module(input)
        ctx.save_for_backward(input)
        return input * xp.tanh(xp.logaddexp(0, input)).astype(input.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        xp = array_module(input)
        tanh = xp.tanh(xp.logaddexp(0, input)).astype(input.dtype, copy=False)
        # d/dx [x * tanh(sp(x))] = tanh(sp) + x * (1 - tanh(sp)^2) * sigmoid(x)
        return grad_output * (tanh + input * stable_sigmoid(input) * (1 - tanh * tanh))


class MishInplace(Mish):
    node_name = "MishBackward0"  # PyTorch's in-place mish keeps the out-of-place node name


class Hardswish(Function):
    """``x * relu6(x + 3) / 6``: 0 below -3, x above 3, a quadratic in between."""

    @staticmethod
    def forward(ctx, input):
        xp = array_module(input)
        ctx.save_for_backward(input)
        return input * xp.clip(input + 3, 0, 6).astype(input.dtype, copy=False) / 6

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        xp = array_module(input)
        middle = grad_output * (input / 3 + 0.5)
        return xp.where(input < -3, 0, xp.where(input <= 3, middle, grad_output))


class Hardsigmoid(Function):
    """``relu6(x + 3) / 6``: a piecewise-linear sigmoid."""

    @staticmethod
    def forward(ctx, input):
        xp = array_module(input)
        ctx.save_for_backward(input)
        return xp.clip(input + 3, 0, 6).astype(input.dtype, copy=False) / 6

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return zero_where(grad_output / 6, (input <= -3) | (input >= 3))


class ScaledElu(Function):
    """``scale * elu(x * input_scale, alpha)``: selu and celu are PyTorch's ``elu`` with
    these extra factors, so their nodes are named after elu (selu) or celu."""

    node_name = "EluBackward0"

    @staticmethod
    def forward(ctx, input, alpha, scale, input_scale):
        xp = array_module(input)
        ctx.save_for_backward(input)
        ctx.factors = (alpha, scale, input_scale)
        negative = alpha * xp.expm1(input * input_scale)
        return (scale * xp.where(input > 0, input, negative)).astype(input.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        xp = array_module(input)
        alpha, scale, input_scale = ctx.factors
        slope = xp.where(input <= 0, scale * alpha * input_scale * xp.exp(input * input_scale),
                         scale).astype(input.dtype, copy=False)
        return grad_output * slope, None, None, None


class ScaledEluInplace(ScaledElu):
    node_name = "EluBackward1"


class Celu(ScaledElu):
    node_name = "CeluBackward0"


class CeluInplace(ScaledElu):
    node_name = "CeluBackward1"


class Threshold(Function):
    """``x`` where ``x > threshold``, else ``value``."""

    @staticmethod
    def forward(ctx, input, threshold, value):
        xp = array_module(input)
        ctx.save_for_backward(input)
        ctx.threshold = threshold
        return xp.where(input > threshold, input, value).astype(input.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return zero_where(grad_output, input <= ctx.threshold), None, None


class ThresholdInplace(Threshold):
    node_name = "ThresholdBackward1"


class LogSigmoid(Function):
    """``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))``, which never overflows."""

    @staticmethod
    def forward(ctx, input):
        xp = array_module(input)
        ctx.save_for_backward(input)
        return (xp.minimum(input, 0) - xp.log1p(xp.exp(-xp.abs(input)))).astype(
            input.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * stable_sigmoid(-input)


class Glu(Function):
    """The gated linear unit: ``a * sigmoid(b)`` for the halves a, b of ``dim``."""

    @staticmethod
    def forward(ctx, input, dim):
        xp = array_module(input)
        first, second = xp.split(input, 2, axis=dim)
        gate = stable_sigmoid(second)
        ctx.save_for_backward(input)
        ctx.dim = dim
        return first * gate

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        xp = array_module(input)
        first, second = xp.split(input, 2, axis=ctx.dim)
        gate = stable_sigmoid(second)
        grad_first = grad_output * gate
        grad_second = grad_first * first * (1 - gate)
        return xp.concatenate([grad_first, grad_second], axis=ctx.dim), None


class Hardshrink(Function):
    """``x`` where ``|x| > lambd``, else 0."""

    @staticmethod
    def forward(ctx, input, lambd):
        xp = array_module(input)
        ctx.save_for_backward(input)
        ctx.lambd = lambd
        return xp.where((input >= -lambd) & (input <= lambd), 0, input).astype(input.dtype,
                                                                              copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return zero_where(grad_output, (input >= -ctx.lambd) & (input <= ctx.lambd)), None


class Softshrink(Function):
    """``x`` moved ``lambd`` towards 0, and 0 where ``|x| <= lambd``."""

    @staticmethod
    def forward(ctx, input, lambd):
        xp = array_module(input)
        ctx.save_for_backward(input)
        ctx.lambd = lambd
        shrunk = xp.where(input > lambd, input - lambd, xp.where(input < -lambd,
                                                                 input + lambd, 0))
        return shrunk.astype(input.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return zero_where(grad_output, (input >= -ctx.lambd) & (input <= ctx.lambd)), None


class PreluKernel(Function):
    """``x`` where positive, ``weight * x`` elsewhere, with one weight per channel (dim 1)
    or one for all."""

    @staticmethod
    def forward(ctx, input, weight):
        xp = array_module(input)
        shape = (1, -1) + (1,) * (input.ndim - 2) if input.ndim >= 2 and weight.size > 1 \
            else (1,) * max(input.ndim, 1)
        slope = weight.reshape(shape)
        ctx.save_for_backward(input, weight)
        ctx.shape = shape
        return xp.where(input > 0, input, slope * input).astype(input.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        xp = array_module(input)
        positive = input > 0
        grad_input = grad_weight = None
        if ctx.needs_input_grad[0]:
            grad_input = xp.where(positive, grad_output, weight.reshape(ctx.shape) * grad_output)
        if ctx.needs_input_grad[1]:
            negative_part = xp.where(positive, 0, grad_output * input)
            axes = tuple(d for d in range(input.ndim) if ctx.shape[d] == 1) \
                if weight.size > 1 else None
            grad_weight = negative_part.sum(axis=axes).reshape(weight.shape)
        return grad_input, grad_weight


# ---- normalization -----------------------------------------------------------------------

def _normalization_backward(grad_normalized, normalized, inverse_std, axes):
    """d(loss)/d(input) of ``normalized = (input - mean) * inverse_std`` over ``axes``.

    The mean and variance depend on every input in their group, which adds the two
    correction terms: ``inverse_std * (g - mean(g) - normalized * mean(g * normalized))``.
    """
    mean_grad = grad_normalized.mean(axis=axes, keepdims=True)
    mean_projection = (grad_normalized * normalized).mean(axis=axes, keepdims=True)
    grad_input = normalized * mean_projection
    array_module(grad_input).subtract(grad_normalized, grad_input, out=grad_input)
    grad_input -= mean_grad
    grad_input *= inverse_std
    return grad_input


class NativeBatchNorm(Function):
    """Batch normalization over all dimensions but the channels (dimension 1).

    In training, normalizes with the batch's statistics and updates ``running_mean`` and
    ``running_var`` in place (the variance Bessel-corrected, as PyTorch does); in evaluation,
    normalizes with the running statistics.
    """

    @staticmethod
    def forward(ctx, input, weight, bias, running_mean, running_var, training, momentum, eps):
        xp = array_module(input)
        axes = (0,) + tuple(range(2, input.ndim))
        channel_shape = (1, -1) + (1,) * (input.ndim - 2)
        if training:
            mean = input.mean(axis=axes, keepdims=True)
            centered = input - mean
            variance = (centered * centered).mean(axis=axes, keepdims=True)
            count = input.size // input.shape[1]
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mean.reshape(-1)
            if running_var is not None:
                running_var *= 1 - momentum
                running_var += (momentum * count / (count - 1)) * variance.reshape(-1)
        else:
            centered = input - running_mean.reshape(channel_shape)
            variance = running_var.reshape(channel_shape)
        inverse_std = 1 / xp.sqrt(variance + eps)
        normalized = centered * inverse_std
        output = normalized if weight is None else normalized * weight.reshape(channel_shape)
        if bias is not None:
            output = output + bias.reshape(channel_shape)
        ctx.save_for_backward(normalized, inverse_std, weight)
        ctx.training, ctx.axes = training, axes
        return output

    @staticmethod
    def backward(ctx, grad_output):
        normalized, inverse_std, weight = ctx.saved_tensors
        needs_input, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        axes = ctx.axes
        grad_input = grad_weight = grad_bias = None
        if needs_input:
            grad_normalized = grad_output if weight is None else \
                grad_output * weight.reshape((1, -1) + (1,) * (grad_output.ndim - 2))
            if ctx.training:
                grad_input = _normalization_backward(grad_normalized, normalized, inverse_std,
                                                     axes)
            else:
                grad_input = grad_normalized * inverse_std
        if needs_weight:
            grad_weight = (grad_output * normalized).sum(axis=axes)
        if needs_bias:
            grad_bias = grad_output.sum(axis=axes)
        return grad_input, grad_weight, grad_bias, None, None, None, None, None


class NativeLayerNorm(Function):
    """Layer normalization over the last ``len(normalized_shape)`` dimensions.

    Written with as few whole-array temporaries as the arithmetic allows (in-place steps,
    the sums of squares as a row-wise dot product): a transformer calls it twice per block,
    and at its sizes each temporary costs more than the arithmetic on it.
    """

    @staticmethod
    def forward(ctx, input, weight, bias, normalized_ndim, eps):
        xp = array_module(input)
        axes = tuple(range(input.ndim - normalized_ndim, input.ndim))
        ctx.axes = axes
        if input.size and _C.takes(input, weight, bias):  # norm.inc, the code below its twin
            return _layer_norm_compiled(ctx, input, weight, bias, normalized_ndim, eps)
        count = int(np.prod(input.shape[input.ndim - normalized_ndim:]))
        # Accumulated in float64 for float32 input (see ``reduction.centered`` for why).
        wide = np.float64 if input.dtype.kind == "f" and input.dtype.itemsize < 8 else None
        mean = input.mean(axis=axes, keepdims=True, dtype=wide)
        deviations = input - mean
        variance = _row_sums_of_squares(deviations, normalized_ndim).reshape(mean.shape)
        variance /= count
        variance += eps
        inverse_std = (1 / xp.sqrt(variance)).astype(input.dtype, copy=False)
        deviations *= inverse_std
        output = deviations.astype(input.dtype, copy=False)
        if weight is not None:
            output *= weight
        if bias is not None:
            output += bias
        # As PyTorch: the input, its mean and 1/std, from which backward rebuilds
        # ``normalized``; an in-place change to the input is then caught, and one to the
        # output does no harm. The bias too, which backward does not read: PyTorch saves it,
        # so changing it in place before backward is its error here too.
        ctx.save_for_backward(input, mean, inverse_std, weight, bias)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, mean, inverse_std, weight, _ = ctx.saved_tensors
        if input.size and _C.takes(input, inverse_std, weight, grad_output) \
                and mean.dtype == np.float64:  # the forward's condition, for either forward
            return _layer_norm_backward_compiled(ctx, grad_output, input, mean, inverse_std,
                                                 weight)
        normalized = input - mean
        normalized *= inverse_std
        normalized = normalized.astype(input.dtype, copy=False)
        needs_input, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        leading = tuple(range(grad_output.ndim - len(ctx.axes)))
        grad_input = grad_weight = grad_bias = None
        if needs_weight:
            grad_weight = (grad_output * normalized).sum(axis=leading)
        if needs_bias:
            grad_bias = grad_output.sum(axis=leading)
        if needs_input:
            grad_normalized = grad_output if weight is None else grad_output * weight
            grad_input = _normalization_backward(grad_normalized, normalized, inverse_std,
                                                 ctx.axes)
        return grad_input, grad_weight, grad_bias, None, None


# The work per normalized value of the compiled LayerNorm kernels, for ``parallel_for``
# (as ``_GELU_WORK``: about 1.4 ns a value forward and backward together, on one core).
# A GPT's (768, 128) activations, 0.1-0.3 ms a call, stay on one thread: a split would cost
# about what it saves. Twice that is split.
_LAYER_NORM_WORK = 5


def _layer_norm_compiled(ctx, input, weight, bias, normalized_ndim: int, eps: float):
    """NativeLayerNorm's forward in C (ember/_C/norm.inc), its rows split over ember's
    threads; saves what the NumPy code saves (the mean in float64, 1/std in the input's
    dtype), so either backward can follow either forward."""
    cols = math.prod(input.shape[input.ndim - normalized_ndim:])
    rows = input.size // cols
    stats_shape = input.shape[:input.ndim - normalized_ndim] + (1,) * normalized_ndim
    output = np.empty_like(input)
    mean = np.empty(stats_shape, np.float64)
    inverse_std = np.empty(stats_shape, input.dtype)
    _C.kernels.layer_norm_forward(input, weight, bias, output, mean, inverse_std, rows, cols,
                                  eps, kernel_parts(rows, cols * _LAYER_NORM_WORK))
    ctx.save_for_backward(input, mean, inverse_std, weight, bias)
    return output


def _layer_norm_backward_compiled(ctx, grad_output, input, mean, inverse_std, weight):
    """NativeLayerNorm's backward in C (ember/_C/norm.inc), rows split over ember's threads:
    each range of rows adds its part of the weight's and bias's gradients (summed in float64)
    to sums of its own, which are added here in the order of the ranges."""
    needs_input, needs_weight, needs_bias = ctx.needs_input_grad[:3]
    cols = math.prod(input.shape[input.ndim - len(ctx.axes):])
    rows = input.size // cols
    grad_input = np.empty_like(input) if needs_input else None
    weight_sums = np.zeros(cols) if needs_weight else None
    bias_sums = np.zeros(cols) if needs_bias else None
    _C.kernels.layer_norm_backward(input, mean, inverse_std, weight, grad_output, grad_input,
                                   weight_sums, bias_sums, rows, cols,
                                   kernel_parts(rows, cols * _LAYER_NORM_WORK))
    shape = input.shape[input.ndim - len(ctx.axes):]
    grad_weight = grad_bias = None
    if needs_weight:
        grad_weight = weight_sums.astype(input.dtype).reshape(shape)
    if needs_bias:
        grad_bias = bias_sums.astype(input.dtype).reshape(shape)
    return grad_input, grad_weight, grad_bias, None, None


def _row_sums_of_squares(deviations, normalized_ndim: int):
    """Each sum of squares over the last ``normalized_ndim`` dimensions, as a dot product of
    the rows with themselves (no array of squares)."""
    leading = deviations.shape[:deviations.ndim - normalized_ndim]
    rows = deviations.reshape(math.prod(leading), -1 if deviations.size else 0)
    return array_module(rows).einsum("ij,ij->i", rows, rows)


# ---- the plain functions -----------------------------------------------------------------

def _softmax_arguments(input, dim, dtype, name: str):
    """``(input, dim)`` for softmax and log_softmax: input in ``dtype`` if one is given, and
    ``dim`` a non-negative dimension, or None for a 0-d input.

    Without ``dim`` it is chosen as PyTorch's deprecated implicit choice does, with its warning.
    """
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                      "call to include dim=X as an argument.", UserWarning, stacklevel=3)
    dim = normalize_dim(dim, input.ndim)
    if dtype is not None:
        input = to_dtype(input, dtype)
    if input.ndim == 0:
        dim = None
    return input, dim


def softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``exp(x) / exp(x).sum(dim)``: non-negative values that sum to 1 along ``dim``.

    Args:
        input: any shape.
        dim: the dimension that sums to 1.
        dtype: convert the input to this dtype first (e.g. float64 for more precision).

    Example:
        >>> import ember
        >>> ember.nn.functional.softmax(ember.tensor([1.0, 2.0, 3.0]), dim=0)
        tensor([0.0900, 0.2447, 0.6652])
    """
    input, dim = _softmax_arguments(input, dim, dtype, "softmax")
    return Softmax.apply(input, dim)


def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``log(softmax(x))`` along ``dim``, computed stably (never ``log`` of an underflowed 0).

    Example:
        >>> import ember
        >>> ember.nn.functional.log_softmax(ember.tensor([1.0, 2.0, 3.0]), dim=0)
        tensor([-2.4076, -1.4076, -0.4076])
    """
    input, dim = _softmax_arguments(input, dim, dtype, "log_softmax")
    return LogSoftmax.apply(input, dim)



def softmax_along(input, dim: int, *, dtype=None):
    """``ember.softmax`` (``torch.softmax``): ``nn.functional.softmax`` with ``dim`` required.

    Example:
        >>> import ember
        >>> ember.softmax(ember.zeros(2), 0)
        tensor([0.5000, 0.5000])
    """
    return softmax(input, dim, dtype=dtype)


def log_softmax_along(input, dim: int, *, dtype=None):
    """``ember.log_softmax`` (``torch.log_softmax``): ``nn.functional.log_softmax`` with
    ``dim`` required."""
    return log_softmax(input, dim, dtype=dtype)

def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """``x`` where positive, ``negative_slope * x`` elsewhere.

    Example:
        >>> import ember
        >>> ember.nn.functional.leaky_relu(ember.tensor([-2.0, 3.0]), 0.1)
        tensor([-0.2000,  3.0000])
    """
    if inplace:
        return input._inplace(LeakyReluInplace.apply, negative_slope)
    return LeakyRelu.apply(input, negative_slope)


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere.

    Example:
        >>> import ember
        >>> ember.nn.functional.elu(ember.tensor([-1.0, 2.0]))
        tensor([-0.6321,  2.0000])
    """
    if inplace:
        return input._inplace(EluInplace.apply, alpha)
    return Elu.apply(input, alpha)


def gelu(input, approximate: str = "none"):
    """Gaussian error linear unit, ``x * Phi(x)``; ``approximate='tanh'`` uses
    ``0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))``.

    Example:
        >>> import ember
        >>> ember.nn.functional.gelu(ember.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.1587,  0.0000,  0.8413])
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return Gelu.apply(input, approximate)


def silu(input, inplace: bool = False):
    """``x * sigmoid(x)``.

    Example:
        >>> import ember
        >>> ember.nn.functional.silu(ember.tensor([0.0, 1.0]))
        tensor([0.0000, 0.7311])
    """
    if inplace:
        return input._inplace(Silu.apply)
    return Silu.apply(input)


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """``log(1 + exp(beta * x)) / beta``, a smooth relu; linear where ``beta * x > threshold``.

    Example:
        >>> import ember
        >>> ember.nn.functional.softplus(ember.tensor([0.0, 30.0]))
        tensor([ 0.6931, 30.0000])
    """
    return Softplus.apply(input, beta, threshold)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """``x`` clipped to ``[min_val, max_val]``.

    Example:
        >>> import ember
        >>> ember.nn.functional.hardtanh(ember.tensor([-3.0, 0.5, 3.0]))
        tensor([-1.0000,  0.5000,  1.0000])
    """
    if inplace:
        return input._inplace(Hardtanh.apply, min_val, max_val)
    return Hardtanh.apply(input, min_val, max_val)


def relu6(input, inplace: bool = False):
    """``min(max(x, 0), 6)``.

    Example:
        >>> import ember
        >>> ember.nn.functional.relu6(ember.tensor([-1.0, 3.0, 8.0]))
        tensor([0., 3., 6.])
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability ``p`` and scale the others by ``1 / (1 - p)``.

    The expected value of every element is unchanged, so evaluation (``training=False``)
    simply returns the input.

    Example:
        >>> import ember
        >>> x = ember.ones(1000)
        >>> y = ember.nn.functional.dropout(x, 0.5)
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    data = input._data
    if p == 1.0:
        mask = array_module(data).zeros(data.shape, dtype=data.dtype)
    else:
        mask = random.dropout_mask(data.shape, p, data.dtype, input.device)
    mask = Tensor._wrap(mask)
    return input.mul_(mask) if inplace else input * mask


def batch_norm(input, running_mean, running_var, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5):
    """Normalize each channel (dimension 1) to zero mean and unit variance, then scale and
    shift by ``weight`` and ``bias``.

    In training, the batch's statistics are used and ``running_mean`` / ``running_var`` are
    updated in place: ``running = (1 - momentum) * running + momentum * batch`` (with the
    Bessel-corrected batch variance). In evaluation, the running statistics are used.

    Example:
        >>> import ember
        >>> x = ember.tensor([[1.0], [3.0]])
        >>> mean, var = ember.zeros(1), ember.ones(1)
        >>> ember.nn.functional.batch_norm(x, mean, var, training=True)
        tensor([[-1.0000],
                [ 1.0000]])
        >>> mean, var
        (tensor([0.2000]), tensor([1.1000]))
    """
    channels = input.shape[1] if input.ndim > 1 else 0
    if training:
        count = input.numel() // max(channels, 1)
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {input.shape!r}")
    elif running_mean is None or running_var is None:
        name = "running_mean" if running_mean is None else "running_var"
        raise RuntimeError(f"{name} must be defined in evaluation mode")
    for name, stat in (("running_mean", running_mean), ("running_var", running_var),
                       ("weight", weight), ("bias", bias)):
        if stat is not None and stat.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {stat.numel()}")
    running_arrays = [None if stat is None else stat._data
                      for stat in (running_mean, running_var)]
    output = NativeBatchNorm.apply(input, weight, bias, *running_arrays, training, momentum,
                                   eps)
    if training:
        for stat in (running_mean, running_var):
            if stat is not None:
                inplace.bump_version(stat)  # updated in place, like any in-place op
    return output


def _normalized_dims(input, normalized_shape) -> int:
    """How many trailing dimensions layer_norm and rms_norm normalise over: those of
    ``normalized_shape`` (an int or a sequence), which must end ``input``'s shape."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    count = len(normalized_shape)
    if count == 0 or tuple(input.shape[-count:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input "
                           f"with shape [*, {', '.join(str(s) for s in normalized_shape)}], "
                           f"but got input of size{list(input.shape)}")
    return count


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalize over the last dimensions (``normalized_shape``) of each sample, then scale
    and shift by ``weight`` and ``bias`` (both of ``normalized_shape``).

    Example:
        >>> import ember
        >>> ember.nn.functional.layer_norm(ember.tensor([[1.0, 3.0]]), (2,))
        tensor([[-1.0000,  1.0000]])
    """
    count = _normalized_dims(input, normalized_shape)
    for parameter in (weight, bias):
        # PyTorch's CPU kernel takes float32 parameters with lower-precision input only.
        if parameter is not None and parameter.dtype != input.dtype and \
                input.dtype.itemsize >= 4:
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float"
                               if input.dtype.itemsize == 4 else
                               "mixed dtype (CPU): all inputs must share same datatype.")
    return NativeLayerNorm.apply(input, weight, bias, count, eps)


def mish(input, inplace: bool = False):
    """``x * tanh(softplus(x))``, a smooth self-gated activation.

    Example:
        >>> import ember
        >>> ember.nn.functional.mish(ember.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.3034,  0.0000,  0.8651])
    """
    if inplace:
        return input._inplace(MishInplace.apply)
    return Mish.apply(input)


def hardswish(input, inplace: bool = False):
    """``x * relu6(x + 3) / 6``, MobileNetV3's cheap swish.

    Example:
        >>> import ember
        >>> ember.nn.functional.hardswish(ember.tensor([-4.0, 1.0, 4.0]))
        tensor([-0.0000, 0.6667, 4.0000])
    """
    if inplace:
        return input._inplace(Hardswish.apply)
    return Hardswish.apply(input)


def hardsigmoid(input, inplace: bool = False):
    """``relu6(x + 3) / 6``.

    Example:
        >>> import ember
        >>> ember.nn.functional.hardsigmoid(ember.tensor([-4.0, 0.0, 1.5]))
        tensor([0.0000, 0.5000, 0.7500])
    """
    if inplace:
        return input._inplace(Hardsigmoid.apply)
    return Hardsigmoid.apply(input)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace: bool = False):
    """``scale * elu(x, alpha)`` with the self-normalizing constants (Klambauer et al., 2017)
    ``alpha = 1.6733`` and ``scale = 1.0507``.

    Example:
        >>> import ember
        >>> ember.nn.functional.selu(ember.tensor([-1.0, 1.0]))
        tensor([-1.1113,  1.0507])
    """
    if inplace:
        return input._inplace(ScaledEluInplace.apply, _SELU_ALPHA, _SELU_SCALE, 1.0)
    return ScaledElu.apply(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input, alpha: float = 1.0, inplace: bool = False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Example:
        >>> import ember
        >>> ember.nn.functional.celu(ember.tensor([-1.0, 1.0]), alpha=2.0)
        tensor([-0.7869,  1.0000])
    """
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    if inplace:
        return input._inplace(CeluInplace.apply, alpha, 1.0, 1.0 / alpha)
    return Celu.apply(input, alpha, 1.0, 1.0 / alpha)


def threshold(input, threshold: float, value: float, inplace: bool = False):
    """``x`` where ``x > threshold``, else ``value``.

    Example:
        >>> import ember
        >>> ember.nn.functional.threshold(ember.tensor([0.5, 2.0]), 1.0, -1.0)
        tensor([-1.,  2.])
    """
    if inplace:
        return input._inplace(ThresholdInplace.apply, threshold, value)
    return Threshold.apply(input, threshold, value)


def logsigmoid(input):
    """``log(sigmoid(x))``, computed without overflow.

    Example:
        >>> import ember
        >>> ember.nn.functional.logsigmoid(ember.tensor([0.0, -100.0]))
        tensor([  -0.6931, -100.0000])
    """
    return LogSigmoid.apply(input)


def glu(input, dim: int = -1):
    """The gated linear unit: split ``dim`` in halves a and b, return ``a * sigmoid(b)``.

    Example:
        >>> import ember
        >>> ember.nn.functional.glu(ember.tensor([2.0, 0.0]))
        tensor([1.])
    """
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = normalize_dim(dim, input.ndim)
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size "
                           f"{input.shape[dim]}")
    return Glu.apply(input, dim)


def hardshrink(input, lambd: float = 0.5):
    """``x`` where ``|x| > lambd``, else 0.

    Example:
        >>> import ember
        >>> ember.nn.functional.hardshrink(ember.tensor([-1.0, 0.3, 0.7]))
        tensor([-1.0000,  0.0000,  0.7000])
    """
    return Hardshrink.apply(input, lambd)


def softshrink(input, lambd: float = 0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0.

    Example:
        >>> import ember
        >>> ember.nn.functional.softshrink(ember.tensor([-1.0, 0.3, 0.7]))
        tensor([-0.5000,  0.0000,  0.2000])
    """
    if lambd < 0:
        largest = float(np.finfo(input._data.dtype).max)
        dtype = type_name(input).removeprefix("ember.").removesuffix("Tensor")
        raise RuntimeError(f"lambda must be in range [0, {largest:g}] for input dtype {dtype}, "
                           f"but found {lambd:g}")
    return Softshrink.apply(input, lambd)


def prelu(input, weight):
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` holds one slope, or one per
    channel (dimension 1).

    Example:
        >>> import ember
        >>> ember.nn.functional.prelu(ember.tensor([-2.0, 3.0]), ember.tensor([0.25]))
        tensor([-0.5000,  3.0000])
    """
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {weight.numel()} and channel size = "
                           f"{channels}.")
    return PreluKernel.apply(input, weight)


def softsign(input):
    """``x / (1 + |x|)``.

    Example:
        >>> import ember
        >>> ember.nn.functional.softsign(ember.tensor([-3.0, 1.0]))
        tensor([-0.7500,  0.5000])
    """
    return input / (input.abs() + 1)


def tanhshrink(input):
    """``x - tanh(x)``.

    Example:
        >>> import ember
        >>> ember.nn.functional.tanhshrink(ember.tensor([0.0, 1.0]))
        tensor([0.0000, 0.2384])
    """
    return input - input.tanh()


def softmin(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``softmax(-x)`` along ``dim``: the smallest entries get the largest weights.

    Example:
        >>> import ember
        >>> ember.nn.functional.softmin(ember.tensor([1.0, 2.0]), dim=0)
        tensor([0.7311, 0.2689])
    """
    input, dim = _softmax_arguments(input, dim, dtype, "softmin")
    return Softmax.apply(-input, dim)

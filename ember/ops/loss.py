"""Loss functions: mse_loss, l1_loss, nll_loss, cross_entropy, binary_cross_entropy,
binary_cross_entropy_with_logits, smooth_l1_loss, huber_loss, kl_div, the margin and
embedding losses, and the distances they use (pairwise_distance, cosine_similarity,
normalize).

Each takes ``reduction``: ``'none'`` keeps one loss per element (or per sample), ``'sum'``
adds them and ``'mean'`` averages them (for nll_loss with class weights, a weighted average).
The losses PyTorch implements as one op are one Function here, so the graph has the same
nodes; l1_loss and cross_entropy are compositions, as in PyTorch.
"""

import math
import warnings

import numpy as np

from .. import _C, _recording
from .._backend import array_module
from .._dtype import promote_types
from .._tensor import type_name
from ..autograd.function import Function
from . import elementwise
from .activation import log_softmax, logsigmoid
from .creation import ones_like
from .elementwise import stable_sigmoid
from .indexing import masked_fill
from .reduction import mean as mean_of
from .reduction import sum as sum_of
from .shape import reshape

_REDUCTIONS = ("none", "mean", "sum")


def _reduce(losses, reduction):
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        # sum / size is ndarray.mean without its Python-level bookkeeping; empty gives 0 / 0,
        # NaN, as in PyTorch.
        return losses.sum() / losses.dtype.type(losses.size)
    return losses


class MseLoss(Function):
    """``(input - target) ** 2``, reduced; input and target broadcast against each other.

    Forward and backward are one compiled call each (``ember/_C/loss.inc``) when input and
    target are C-contiguous NumPy arrays of one shape and dtype (float32, float64), with the
    NumPy code's bits: the sum is NumPy's pairwise one. The NumPy code is the reference."""

    @staticmethod
    def forward(ctx, input, target, reduction):
        # The inputs, not their difference, as PyTorch saves them: an in-place change to
        # either before backward is then caught instead of giving a stale gradient.
        ctx.save_for_backward(input, target)
        ctx.reduction = reduction
        if _mse_kernel_applies(input, target):
            out = np.empty(input.shape if reduction == "none" else (), input.dtype)
            args = (input, target, out, _REDUCTION_CODES[reduction])
            _C.kernels.mse_loss_forward(*args)
            if _recording.recorder is not None:  # the whole forward: a replay calls it alone
                _recording.recorder.kernel(_C.kernels.mse_loss_forward, args, (2,))
            return out
        difference = input - target
        return _reduce(difference * difference, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        reduction, needs_target = ctx.reduction, ctx.needs_input_grad[1]
        if _mse_kernel_applies(input, target) and type(grad_output) is _NUMPY_ARRAY \
                and grad_output.dtype == input.dtype and grad_output.flags.c_contiguous \
                and grad_output.shape == (input.shape if reduction == "none" else ()):
            grad_input = np.empty_like(input)
            grad_target = np.empty_like(input) if needs_target else None
            args = (grad_output, input, target, grad_input, grad_target,
                    _mse_scale(reduction, input.size), _REDUCTION_CODES[reduction])
            _C.kernels.mse_loss_backward(*args)
            if _recording.recorder is not None:
                _recording.recorder.kernel(_C.kernels.mse_loss_backward, args, (3, 4))
            return grad_input, grad_target, None
        difference = input - target
        grad_input = grad_output * difference * _mse_scale(reduction, difference.size)
        grad_target = -grad_input if needs_target else None
        return grad_input, grad_target, None


_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # native byte order only
_NUMPY_ARRAY = np.ndarray  # the array type they take (not CuPy's; a test swaps in a subclass)


def _mse_kernel_applies(input, target) -> bool:
    """Whether mse_loss runs its compiled kernels: built, and input and target C-contiguous
    NumPy arrays of one shape and dtype, float32 or float64 (``_C.takes`` written out: this
    runs at every step of a small model, where each check counts)."""
    return _C.kernels is not None and type(input) is _NUMPY_ARRAY \
        and type(target) is _NUMPY_ARRAY and input.dtype in _KERNEL_DTYPES \
        and target.dtype == input.dtype and input.shape == target.shape \
        and input.flags.c_contiguous and target.flags.c_contiguous


def _mse_scale(reduction: str, size: int) -> float:
    """The factor of mse_loss's gradient: 2, over the element count for 'mean'. (The mean of
    nothing is NaN, and so is its gradient: there are no elements to get it.)"""
    return 2.0 / size if reduction == "mean" and size else 2.0


_REDUCTION_CODES = {"none": 0, "mean": 1, "sum": 2}  # as the compiled kernels number them
_INT64_MIN, _INT64_MAX = -2 ** 63, 2 ** 63 - 1


def _compiled_nll_applies(input, target, weight, ignore_index) -> bool:
    """Whether nll_loss runs its compiled kernels: the extension is built, input is (N, C), a
    C-contiguous NumPy float32 or float64 array, weight (if any) is one of the same dtype,
    and the targets are C-contiguous int64 (ignore_index fits in one too)."""
    if _C.kernels is None or type(input) is not np.ndarray or input.ndim != 2:
        return False
    if input.dtype.char not in "fd" or not input.flags.c_contiguous:
        return False
    if type(target) is not np.ndarray or target.dtype.kind != "i" or target.itemsize != 8 \
            or not target.flags.c_contiguous or not _INT64_MIN <= ignore_index <= _INT64_MAX:
        return False
    return weight is None or (type(weight) is np.ndarray and weight.dtype == input.dtype
                              and weight.flags.c_contiguous)


def _out_of_bounds(target, counted, classes) -> str:
    """PyTorch's message for the first target that is neither ignored nor a class."""
    bad = ((target < 0) | (target >= classes)) & counted
    return f"Target {int(target[bad].reshape(-1)[0])} is out of bounds."


class NllLoss(Function):
    """``-weight[t] * input[t]`` for each sample's target class t, reduced.

    input is (N, C) or (N, C, d1, ...) with the classes in dimension 1; target is (N) or
    (N, d1, ...). Samples whose target is ``ignore_index`` contribute nothing, and ``'mean'``
    divides by the total weight of the samples that count.
    """

    @staticmethod
    def forward(ctx, input, target, weight, reduction, ignore_index):
        xp = array_module(input)
        ctx.input_shape = input.shape
        if input.ndim == 1:  # one sample: a batch of one
            input, target = input.reshape(1, -1), target.reshape(1)
        ctx.compiled = _compiled_nll_applies(input, target, weight, ignore_index)
        if ctx.compiled:
            return NllLoss._forward_compiled(ctx, input, target, weight, reduction,
                                             ignore_index)
        classes = input.shape[1]
        # No host read of the targets here (a step that reads none can be captured and
        # replayed): ignored samples point at class 0 and negative targets past the last
        # class, so that NumPy's own bounds check of the indexing below finds a bad target.
        counted = target != ignore_index
        safe_target = xp.where(counted, xp.where(target < 0, xp.int64(classes), target), 0)
        if xp is not np and bool((safe_target >= classes).any()):  # CuPy checks no bounds
            raise IndexError(_out_of_bounds(target, counted, classes))
        try:
            sample_weight = counted.astype(input.dtype) if weight is None \
                else weight.take(safe_target) * counted
            if input.ndim == 2:  # (N, C): one fancy index, cheaper than take_along_axis
                picked = input[xp.arange(input.shape[0]), safe_target]
            else:
                picked = xp.take_along_axis(input, xp.expand_dims(safe_target, 1),
                                            axis=1).squeeze(1)
        except IndexError:
            raise IndexError(_out_of_bounds(target, counted, classes)) from None
        # An ignored sample's loss is 0 (not -0 * input).
        losses = xp.where(counted, -sample_weight * picked, 0)
        ctx.save_for_backward(safe_target, sample_weight)
        ctx.reduction, ctx.counted = reduction, counted
        if reduction == "none":
            return losses.reshape(target.shape) if len(ctx.input_shape) > 1 else losses[0]
        total = losses.sum()
        if reduction == "sum":
            return total
        ctx.total_weight = sample_weight.sum()  # 0 when nothing counts: the mean is NaN
        return total / ctx.total_weight

    @staticmethod
    def _forward_compiled(ctx, input, target, weight, reduction, ignore_index):
        """The forward in one kernel call, which also checks the targets: it returns the
        first bad one's position (no host read unless there is one)."""
        rows, classes = input.shape
        out = np.empty(rows if reduction == "none" else (), input.dtype)
        bad, total_weight = _C.kernels.nll_loss_forward(
            input, target, weight, out, rows, classes, ignore_index, _REDUCTION_CODES[reduction])
        if bad >= 0:
            raise IndexError(f"Target {int(target[bad])} is out of bounds.")
        ctx.save_for_backward(target, weight)
        ctx.reduction, ctx.ignore_index, ctx.total_weight = reduction, ignore_index, total_weight
        ctx.dtype = input.dtype
        if reduction == "none":
            return out.reshape(target.shape) if len(ctx.input_shape) > 1 else out.reshape(())
        return out

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.compiled:
            target, weight = ctx.saved_tensors
            grad_input = np.empty(ctx.input_shape, ctx.dtype)
            # 'none' gives one gradient per sample, perhaps broadcast: the kernel reads them
            # from one contiguous array.
            _C.kernels.nll_loss_backward(
                grad_input, target, weight, np.ascontiguousarray(grad_output, ctx.dtype),
                target.size, ctx.input_shape[-1], ctx.ignore_index,
                _REDUCTION_CODES[ctx.reduction], ctx.total_weight)
            return grad_input, None, None, None, None
        safe_target, sample_weight = ctx.saved_tensors
        xp = array_module(safe_target)
        coefficient = -sample_weight * grad_output
        if ctx.reduction == "mean":
            coefficient = coefficient / ctx.total_weight
        # An ignored sample gets no gradient at all (not 0 times an infinite one).
        coefficient = xp.where(ctx.counted, coefficient, 0)
        # The gradient is zero but for each sample's target class, which gets the coefficient.
        input_shape = ctx.input_shape
        classes = input_shape[1] if len(input_shape) > 1 else input_shape[0]
        batch = safe_target.shape[0]
        coefficient = xp.broadcast_to(coefficient, safe_target.shape)
        if safe_target.ndim == 1:  # (N, C): one fancy index
            grad_input = xp.zeros((batch, classes), dtype=coefficient.dtype)
            grad_input[xp.arange(batch), safe_target] = coefficient
            return grad_input.reshape(input_shape), None, None, None, None
        positions = math.prod(safe_target.shape[1:])
        grad_input = xp.zeros((batch, classes, positions), dtype=coefficient.dtype)
        xp.put_along_axis(grad_input, safe_target.reshape(batch, 1, positions),
                          coefficient.reshape(batch, 1, positions), axis=1)
        return grad_input.reshape(input_shape), None, None, None, None


class NllLoss2D(NllLoss):
    """``nll_loss`` on (N, C, H, W) input: the same op, with PyTorch's name for its node."""


def _clamped_log(xp, x):
    # PyTorch clamps log to >= -100, so that a probability of exactly 0 or 1 gives a finite
    # loss and gradient.
    return xp.maximum(xp.log(x), -100)


class BinaryCrossEntropy(Function):
    """``-weight * (t * log(p) + (1 - t) * log(1 - p))`` for probabilities p, reduced."""

    @staticmethod
    def forward(ctx, input, target, weight, reduction):
        xp = array_module(input)
        log_p, log_not_p = _clamped_log(xp, input), _clamped_log(xp, 1 - input)
        losses = -(target * log_p + (1 - target) * log_not_p)
        if weight is not None:
            losses = losses * weight
        ctx.save_for_backward(input, target, weight)
        ctx.reduction = reduction
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        input, target, weight = ctx.saved_tensors
        xp = array_module(input)
        if ctx.reduction == "mean":
            grad_output = grad_output / input.size
        if weight is not None:
            grad_output = grad_output * weight
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            # d/dp = (p - t) / (p (1 - p)), its denominator kept away from 0 as PyTorch does.
            grad_input = grad_output * (input - target) / xp.maximum(input * (1 - input), 1e-12)
        if ctx.needs_input_grad[1]:
            grad_target = grad_output * (_clamped_log(xp, 1 - input) - _clamped_log(xp, input))
        return grad_input, grad_target, None, None


class BinaryCrossEntropyWithLogits(Function):
    """Binary cross-entropy of ``sigmoid(x)``, computed from the logits x without overflow.

    With ``pos_weight`` w+ multiplying the positive term:
    ``loss = (1 - t) * x + (1 + (w+ - 1) * t) * log(1 + exp(-x))``,
    where ``log(1 + exp(-x)) = log1p(exp(-|x|)) + max(-x, 0)`` never overflows.
    """

    @staticmethod
    def forward(ctx, input, target, weight, pos_weight, reduction):
        xp = array_module(input)
        softplus_negative = xp.log1p(xp.exp(-xp.abs(input))) + xp.maximum(-input, 0)
        positive_scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
        losses = (1 - target) * input + positive_scale * softplus_negative
        if weight is not None:
            losses = losses * weight
        ctx.save_for_backward(input, target, weight, pos_weight)
        ctx.reduction = reduction
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        input, target, weight, pos_weight = ctx.saved_tensors
        xp = array_module(input)
        if ctx.reduction == "mean":
            grad_output = grad_output / input.size
        if weight is not None:
            grad_output = grad_output * weight
        sigmoid = stable_sigmoid(input)
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            if pos_weight is None:
                grad_input = grad_output * (sigmoid - target)
            else:
                weighted_target = pos_weight * target
                grad_input = grad_output * (sigmoid * (1 - target + weighted_target)
                                            - weighted_target)
        if ctx.needs_input_grad[1]:
            if pos_weight is None:
                grad_target = -grad_output * input
            else:
                softplus_negative = xp.log1p(xp.exp(-xp.abs(input))) + xp.maximum(-input, 0)
                grad_target = grad_output * ((pos_weight - 1) * softplus_negative - input)
        return grad_input, grad_target, None, None, None



class SmoothL1Loss(Function):
    """``0.5 * d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta``, for
    ``d = input - target``, reduced."""

    @staticmethod
    def forward(ctx, input, target, reduction, beta):
        xp = array_module(input)
        ctx.save_for_backward(input, target)
        ctx.reduction, ctx.beta = reduction, beta
        distance = xp.abs(input - target)
        losses = xp.where(distance < beta, 0.5 * distance * distance / beta,
                          distance - 0.5 * beta).astype(distance.dtype, copy=False)
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        xp = array_module(input)
        difference = input - target
        beta = ctx.beta
        if ctx.reduction == "mean":
            grad_output = grad_output / difference.size
        slope = xp.where(difference < -beta, -1.0, xp.where(difference > beta, 1.0,
                                                            difference / beta))
        grad_input = (grad_output * slope).astype(difference.dtype, copy=False)
        grad_target = -grad_input if ctx.needs_input_grad[1] else None
        return grad_input, grad_target, None, None


class HuberLoss(Function):
    """``0.5 * d^2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)``, for
    ``d = input - target``, reduced: smooth_l1 scaled by ``delta``."""

    @staticmethod
    def forward(ctx, input, target, reduction, delta):
        xp = array_module(input)
        ctx.save_for_backward(input, target)
        ctx.reduction, ctx.delta = reduction, delta
        distance = xp.abs(input - target)
        losses = xp.where(distance < delta, 0.5 * distance * distance,
                          delta * (distance - 0.5 * delta)).astype(distance.dtype, copy=False)
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        xp = array_module(input)
        difference = input - target
        delta = ctx.delta
        if ctx.reduction == "mean":
            grad_output = grad_output / difference.size
        slope = xp.clip(difference, -delta, delta)
        grad_input = (grad_output * slope).astype(difference.dtype, copy=False)
        grad_target = -grad_input if ctx.needs_input_grad[1] else None
        return grad_input, grad_target, None, None


class SoftMarginLoss(Function):
    """``log(1 + exp(-target * input))`` for targets of +1 or -1, reduced."""

    @staticmethod
    def forward(ctx, input, target, reduction):
        xp = array_module(input)
        ctx.save_for_backward(input, target)
        ctx.reduction = reduction
        return _reduce(xp.logaddexp(0, -target * input).astype(input.dtype, copy=False),
                       reduction)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        if ctx.reduction == "mean":
            grad_output = grad_output / input.size
        # d/dx log(1 + exp(-y x)) = -y * sigmoid(-y x)
        return -target * stable_sigmoid(-target * input) * grad_output, None, None


class MultiMarginLoss(Function):
    """The multi-class hinge loss: for each sample with target class y,
    ``sum over i != y of max(0, margin - x[y] + x[i]) ** p * weight[y]``, divided by the
    number of classes, then reduced."""

    @staticmethod
    def forward(ctx, input, target, p, margin, weight, reduction):
        xp = array_module(input)
        batched = input.reshape(-1, input.shape[-1])
        rows = xp.arange(batched.shape[0])
        target = target.reshape(-1)
        picked = batched[rows, target][:, None]
        hinge = xp.maximum(margin - picked + batched, 0)
        hinge[rows, target] = 0
        per_class = hinge if p == 1 else hinge * hinge
        if weight is not None:
            per_class = per_class * weight[target][:, None]
        losses = per_class.sum(axis=1) / batched.shape[1]
        # Backward uses the hinges; the input is saved so that an in-place change to it (which
        # would make them stale) raises, as in PyTorch.
        ctx.save_for_backward(input, weight)
        ctx.hinge, ctx.target, ctx.options = hinge, target, (p, reduction)
        if reduction == "none":
            return losses.reshape(input.shape[:-1])
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        xp = array_module(input)
        hinge, target = ctx.hinge, ctx.target
        p, reduction = ctx.options
        samples, classes = hinge.shape
        scale = grad_output.reshape(-1, 1) if reduction == "none" else grad_output
        if reduction == "mean":
            scale = scale / samples
        slope = (hinge > 0).astype(input.dtype) if p == 1 else 2 * hinge
        if weight is not None:
            slope = slope * weight[target][:, None]
        grad = slope * (scale / classes)
        rows = xp.arange(samples)
        grad[rows, target] = -grad.sum(axis=1)
        return grad.reshape(input.shape).astype(input.dtype, copy=False), None, None, None, \
            None, None


# ---- the plain functions -----------------------------------------------------------------

def _reduction(size_average, reduce, reduction: str, stacklevel: int = 3) -> str:
    """The ``reduction`` string, from the deprecated ``size_average``/``reduce`` if given.

    The deprecation warning names the line ``stacklevel - 1`` calls up: by default, the line
    that called the loss function that calls this.
    """
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      f"reduction='{reduction}' instead.", UserWarning, stacklevel=stacklevel)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _warn_if_broadcast(input, target) -> None:
    # stacklevel=4: the warning names the line that called mse_loss or l1_loss.
    if input.shape != target.shape:
        warnings.warn(f"Using a target size ({target.shape!r}) that is different to the input "
                      f"size ({input.shape!r}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", UserWarning,
                      stacklevel=4)


def _broadcast_shape(input, target) -> None:
    """RuntimeError as PyTorch words it when input and target do not broadcast."""
    a, b = tuple(input.shape), tuple(target.shape)
    width = max(len(a), len(b))
    a, b = (1,) * (width - len(a)) + a, (1,) * (width - len(b)) + b
    for dim, (size_a, size_b) in enumerate(zip(a, b)):
        if size_a != size_b and size_a != 1 and size_b != 1:
            raise RuntimeError(f"The size of tensor a ({size_a}) must match the size of tensor b "
                               f"({size_b}) at non-singleton dimension {dim}")


def _elementwise_reduction(input, target, size_average, reduce, reduction: str) -> str:
    """The ``reduction`` of mse_loss and l1_loss, after the checks both make in PyTorch's order.

    A target of another shape only warns (it broadcasts, which is rarely what was meant); one
    that does not broadcast against input at all is an error.
    """
    _warn_if_broadcast(input, target)
    reduction = _reduction(size_average, reduce, reduction, stacklevel=4)
    _broadcast_shape(input, target)
    return reduction


def _weighted(losses, weight, reduction: str):
    """``losses * weight`` reduced; ``'mean'`` is the weighted mean ``sum(w * l) / sum(w)``."""
    if weight.shape != losses.shape:
        raise ValueError("Weights and input must have the same size.")
    weighted = losses * weight
    if reduction == "none":
        return weighted
    return sum_of(weighted) if reduction == "sum" else sum_of(weighted) / sum_of(weight)


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
             weight=None):
    """Mean squared error: ``(input - target) ** 2``, averaged (or summed, or kept).

    ``weight`` (the input's shape) weighs each element; its ``'mean'`` is a weighted mean.

    Example:
        >>> import ember
        >>> ember.nn.functional.mse_loss(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 4.0]))
        tensor(2.)
    """
    reduction = _elementwise_reduction(input, target, size_average, reduce, reduction)
    input, target = _promoted(input, target)
    if weight is not None:
        return _weighted((input - target) ** 2, weight, reduction)
    return MseLoss.apply(input, target, reduction)


def _promoted(input, target):
    """``input`` and ``target`` in their common dtype, as PyTorch's elementwise losses have
    them: it broadcasts the two first, so a 0-d operand's dtype counts as a tensor's
    (float32 and a 0-d float64 give float64; float32 and a 0-d int64, float32), not as a
    number's as in ``a - b``."""
    if input.dtype == target.dtype:
        return input, target
    common = promote_types(input.dtype, target.dtype)
    return input.to(common), target.to(common)


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
            weight=None):
    """Mean absolute error: ``|input - target|``, averaged (or summed, or kept).

    ``weight`` (the input's shape) weighs each element; its ``'mean'`` is a weighted mean.

    Example:
        >>> import ember
        >>> ember.nn.functional.l1_loss(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 4.0]))
        tensor(1.)
    """
    reduction = _elementwise_reduction(input, target, size_average, reduce, reduction)
    input, target = _promoted(input, target)
    losses = elementwise.abs(elementwise.sub(input, target))
    if weight is not None:
        return _weighted(losses, weight, reduction)
    if reduction == "none":
        return losses
    return mean_of(losses) if reduction == "mean" else sum_of(losses)


def _target_type_name(target) -> str:
    return type_name(target).removeprefix("ember.").removesuffix("Tensor")


def _check_nll_shapes(input, target, weight) -> None:
    """PyTorch's argument checks for nll_loss, with its exception types and messages."""
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    if target._data.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_target_type_name(target)}")
    if input.ndim == 1:
        if target.ndim > 1 or target.numel() != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: "
                             f"{target.numel()}")
    elif input.shape[0] != (target.shape[0] if target.ndim else 1):
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0] if target.ndim else 1}).")
    elif input.ndim == 2 and target.ndim != 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    elif input.ndim > 2:
        expected = [input.shape[0]] + list(input.shape[2:])
        if list(target.shape) != expected:
            if input.ndim == 3:
                raise RuntimeError(f"Expected target size {expected}, got {list(target.shape)}")
            raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: "
                               f"{list(target.shape)}")
    classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    if weight is not None and weight.numel() != classes:
        raise RuntimeError(f"weight tensor should be defined either for all {classes} classes "
                           f"or no classes but got weight tensor of shape: {list(weight.shape)}")


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean"):
    """Negative log-likelihood: ``-input[n, target[n]]`` (times ``weight[target[n]]``).

    ``input`` holds log-probabilities, (N, C) or (N, C, d1, ...) or (C,); ``target`` holds
    class indices, (N) or (N, d1, ...) or a scalar.

    Example:
        >>> import ember
        >>> log_probs = ember.tensor([[-0.5, -1.0], [-2.0, -0.1]])
        >>> ember.nn.functional.nll_loss(log_probs, ember.tensor([0, 1]))
        tensor(0.3000)
    """
    reduction = _reduction(size_average, reduce, reduction)
    _check_nll_shapes(input, target, weight)
    if input.ndim <= 2:
        return NllLoss.apply(input, target._data, weight, reduction, ignore_index)
    if input.ndim == 4:
        return NllLoss2D.apply(input, target._data, weight, reduction, ignore_index)
    # Like PyTorch, other spatial shapes go through the 2-D op: (N, C, d1, rest) and back.
    batch, classes, first = input.shape[:3]
    loss = NllLoss2D.apply(reshape(input, (batch, classes, first, -1)),
                           target._data.reshape(batch, first, -1), weight, reduction,
                           ignore_index)
    return reshape(loss, target.shape) if reduction == "none" else loss


def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100,
                  reduce=None, reduction: str = "mean", label_smoothing: float = 0.0):
    """``nll_loss(log_softmax(input, 1), target)``: the loss of a classifier's logits.

    ``target`` holds class indices (N) or, with the same shape as ``input``, class
    probabilities. ``label_smoothing`` mixes the target with the uniform distribution.

    Example:
        >>> import ember
        >>> logits = ember.tensor([[2.0, 0.0], [0.0, 2.0]])
        >>> ember.nn.functional.cross_entropy(logits, ember.tensor([0, 1]))
        tensor(0.1269)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    class_dim = 0 if input.ndim == 1 else 1
    if target._data.dtype.kind == "f":
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing,
                                            class_dim)
    if input.ndim > 1 and input.shape[0] != (target.shape[0] if target.ndim else 1):
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0] if target.ndim else 1}).")
    log_probabilities = log_softmax(input, class_dim)
    loss = nll_loss(log_probabilities, target, weight, None, ignore_index, None, reduction)
    if label_smoothing == 0.0:
        return loss
    return _label_smoothed(loss, log_probabilities, target, weight, ignore_index, reduction,
                           label_smoothing, class_dim)


def _class_weight_shape(input, class_dim) -> tuple:
    return tuple(-1 if d == class_dim else 1 for d in range(input.ndim))


def _label_smoothed(nll, log_probabilities, target, weight, ignore_index, reduction,
                    label_smoothing, class_dim):
    """Mix ``nll`` with the loss against the uniform distribution over the classes."""
    classes = log_probabilities.shape[class_dim]
    weighted = log_probabilities if weight is None else \
        log_probabilities * weight.reshape(_class_weight_shape(log_probabilities, class_dim))
    uniform_loss = masked_fill(-sum_of(weighted, class_dim), target == ignore_index, 0.0)
    if reduction == "sum":
        uniform_loss = sum_of(uniform_loss)
    elif reduction == "mean":
        # The weight of the samples that count, as an array: no host read (see NllLoss).
        counted = target._data != ignore_index
        dtype = log_probabilities._data.dtype
        if weight is None:
            denominator = counted.sum(dtype=dtype)
        else:
            xp = array_module(counted)
            denominator = (weight._data.take(xp.where(counted, target._data, 0))
                           * counted).sum()
        uniform_loss = sum_of(uniform_loss) / denominator
    return nll * (1 - label_smoothing) + uniform_loss * (label_smoothing / classes)


def _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing,
                                 class_dim):
    """Cross-entropy against a full distribution over the classes per sample."""
    if target.shape != input.shape:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    classes = input.shape[class_dim]
    if label_smoothing > 0.0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    products = log_softmax(input, class_dim) * target
    if weight is not None:
        products = products * weight.reshape(_class_weight_shape(input, class_dim))
    losses = -sum_of(products, class_dim)
    if reduction == "none":
        return losses
    total = -sum_of(products)
    if reduction == "sum":
        return total
    return total / (input.numel() // classes)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """``-(t * log(p) + (1 - t) * log(1 - p))`` for probabilities p (e.g. from a sigmoid).

    Example:
        >>> import ember
        >>> p = ember.tensor([0.9, 0.2])
        >>> ember.nn.functional.binary_cross_entropy(p, ember.tensor([1.0, 0.0]))
        tensor(0.1643)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape!r}) that is different to the "
                         f"input size ({input.shape!r}) is deprecated. Please ensure they have "
                         "the same size.")
    data = input._data
    if ((data < 0) | (data > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    if weight is not None:
        weight = weight.expand(input.shape)
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction: str = "mean", pos_weight=None):
    """``binary_cross_entropy(sigmoid(input), target)``, computed stably from the logits.

    ``pos_weight`` (one per class, the last dimension) scales the loss of positive targets.

    Example:
        >>> import ember
        >>> logits = ember.tensor([2.0, -1.0])
        >>> ember.nn.functional.binary_cross_entropy_with_logits(logits, ember.tensor([1.0, 0.0]))
        tensor(0.2201)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape!r}) must be the same as input size "
                         f"({input.shape!r})")
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0):
    """A squared error for small differences and an absolute one for large:
    ``0.5 * d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta``.

    Less sensitive to outliers than mse_loss (Fast R-CNN's box regression loss); ``beta=0``
    is l1_loss.

    Example:
        >>> import ember
        >>> ember.nn.functional.smooth_l1_loss(ember.tensor([0.5, 3.0]), ember.zeros(2))
        tensor(1.3125)
    """
    reduction = _elementwise_reduction(input, target, size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return l1_loss(input, target, reduction=reduction)
    return SmoothL1Loss.apply(input, target, reduction, beta)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """``0.5 * d^2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)``.

    ``weight`` (the input's shape) weighs each element's loss before the reduction.

    Example:
        >>> import ember
        >>> ember.nn.functional.huber_loss(ember.tensor([0.5, 3.0]), ember.zeros(2), delta=2.0)
        tensor(2.0625)
    """
    reduction = _elementwise_reduction(input, target, None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is None:
        return HuberLoss.apply(input, target, reduction, delta)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    weighted = HuberLoss.apply(input, target, "none", delta) * weight
    return _apply_reduction(weighted, reduction)


def _apply_reduction(losses, reduction: str):
    if reduction == "mean":
        return mean_of(losses)
    return sum_of(losses) if reduction == "sum" else losses


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False):
    """The Kullback-Leibler divergence ``target * (log(target) - input)``, with ``input`` log
    probabilities (and ``target`` too when ``log_target``).

    ``reduction='batchmean'`` divides the sum by the batch size, which is the divergence's
    definition; ``'mean'`` divides by the number of elements (and warns, as PyTorch does).

    Example:
        >>> import ember
        >>> log_q = ember.tensor([[0.5, 0.5]]).log()
        >>> ember.nn.functional.kl_div(log_q, ember.tensor([[0.9, 0.1]]), reduction="batchmean")
        tensor(0.3681)
    """
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    elif reduction not in ("batchmean", "none", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        losses = elementwise.exp(target) * (target - input)
    else:
        # xlogy: 0 * log(0) counts as 0, so a target of 0 adds nothing.
        entropy = masked_fill(target * elementwise.log(target), target == 0, 0.0)
        losses = entropy - target * input
    if reduction == "batchmean":
        total = sum_of(losses)
        return total / input.shape[0] if input.ndim else total
    return _apply_reduction(losses, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """The two-class logistic loss ``log(1 + exp(-target * input))`` for targets of +1 or -1.

    Example:
        >>> import ember
        >>> ember.nn.functional.soft_margin_loss(ember.tensor([2.0, -1.0]),
        ...                                      ember.tensor([1.0, 1.0]))
        tensor(0.7201)
    """
    reduction = _reduction(size_average, reduce, reduction)
    _broadcast_shape(input, target)
    return SoftMarginLoss.apply(input, target, reduction)


def margin_ranking_loss(input1, input2, target, margin: float = 0, size_average=None,
                        reduce=None, reduction: str = "mean"):
    """``max(0, -target * (input1 - input2) + margin)``: target 1 asks for ``input1`` to rank
    higher, -1 for ``input2``.

    Example:
        >>> import ember
        >>> ember.nn.functional.margin_ranking_loss(ember.tensor([1.0]), ember.tensor([2.0]),
        ...                                         ember.tensor([1.0]))
        tensor(1.)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.shape}, input2: {input2.shape}, "
                           f"target: {target.shape} ")
    losses = (-target * (input1 - input2) + margin).clamp(min=0)
    return _apply_reduction(losses, reduction)


def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """``input`` where ``target`` is 1 and ``max(0, margin - input)`` where it is -1: for
    distances that should be small between similar pairs and large between others.

    Example:
        >>> import ember
        >>> ember.nn.functional.hinge_embedding_loss(ember.tensor([0.3, 0.4]),
        ...                                          ember.tensor([1.0, -1.0]))
        tensor(0.4500)
    """
    reduction = _reduction(size_average, reduce, reduction)
    below_margin = masked_fill((margin - input).clamp(min=0), target == 1, 0.0)
    kept = masked_fill(input, target == -1, 0.0)
    return _apply_reduction(below_margin + kept, reduction)


# Added to each squared norm, as PyTorch's cosine_embedding_loss does, so that 0 / 0 is 0.
_COSINE_EPSILON = 1e-12


def cosine_embedding_loss(input1, input2, target, margin: float = 0, size_average=None,
                          reduce=None, reduction: str = "mean"):
    """``1 - cos(x1, x2)`` where ``target`` is 1, ``max(0, cos(x1, x2) - margin)`` where it
    is -1; the cosine is taken along the last dimension.

    Example:
        >>> import ember
        >>> ember.nn.functional.cosine_embedding_loss(ember.tensor([[1.0, 0.0]]),
        ...                                           ember.tensor([[1.0, 1.0]]),
        ...                                           ember.tensor([1.0]))
        tensor(0.2929)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"cosine_embedding_loss : All input tensors should have same "
                           f"dimension but got sizes: input1: {input1.shape}, input2: "
                           f"{input2.shape}, target: {target.shape} ")
    dim = input1.ndim - 1
    if target.ndim != dim:
        raise RuntimeError(f"{dim}D target tensor expects {dim + 1}D input tensors, but found "
                           f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    products = sum_of(input1 * input2, dim)
    squares1 = sum_of(input1 * input1, dim) + _COSINE_EPSILON
    squares2 = sum_of(input2 * input2, dim) + _COSINE_EPSILON
    cosine = products / elementwise.sqrt(squares1 * squares2)
    similar = masked_fill(1 - cosine, target != 1, 0.0)
    dissimilar = masked_fill((cosine - margin).clamp(min=0), target != -1, 0.0)
    return _apply_reduction(similar + dissimilar, reduction)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """The p-norm of ``x1 - x2 + eps`` along the last dimension.

    Example:
        >>> import ember
        >>> ember.nn.functional.pairwise_distance(ember.tensor([[3.0, 0.0]]),
        ...                                       ember.tensor([[0.0, 4.0]]))
        tensor([5.])
    """
    dim = max(x1.ndim, x2.ndim) - 1
    return (x1 - x2 + eps).norm(p, dim, keepdim)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """The cosine of the angle between ``x1`` and ``x2`` along ``dim``; each norm is taken
    as at least ``eps``.

    Example:
        >>> import ember
        >>> ember.nn.functional.cosine_similarity(ember.tensor([[1.0, 0.0]]),
        ...                                       ember.tensor([[1.0, 1.0]]))
        tensor([0.7071])
    """
    x1, x2 = x1.expand(_broadcast_sizes(x1, x2)), x2.expand(_broadcast_sizes(x1, x2))
    # As PyTorch: the norms are raised to eps without the clamp taking part in the gradient.
    norm1, norm2 = x1.norm(2, dim, True), x2.norm(2, dim, True)
    norm1 = norm1 + (norm1.clamp(min=eps) - norm1).detach()
    norm2 = norm2 + (norm2.clamp(min=eps) - norm2).detach()
    return sum_of((x1 / norm1) * (x2 / norm2), dim)


def _broadcast_sizes(a, b) -> tuple:
    _broadcast_shape(a, b)
    width = max(a.ndim, b.ndim)
    left = (1,) * (width - a.ndim) + tuple(a.shape)
    right = (1,) * (width - b.ndim) + tuple(b.shape)
    return tuple(max(m, n) for m, n in zip(left, right))


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None):
    """``input`` divided by its p-norm along ``dim`` (at least ``eps``).

    Example:
        >>> import ember
        >>> ember.nn.functional.normalize(ember.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """
    denominator = input.norm(p, dim, True).clamp(min=eps).expand_as(input)
    if out is None:
        return input / denominator
    return elementwise.div(input, denominator, out=out)


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean"):
    """``max(0, d(anchor, positive) - d(anchor, negative) + margin)`` with ``d`` the
    pairwise p-norm distance; ``swap`` also uses ``d(positive, negative)`` when it is smaller.

    Example:
        >>> import ember
        >>> a, pos, neg = ember.tensor([[0.0, 0.0]]), ember.tensor([[1.0, 0.0]]), ember.zeros(1, 2)
        >>> ember.nn.functional.triplet_margin_loss(a, pos, neg)
        tensor(2.0000)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if len(set(dims)) != 1:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {dims[0]}D, positive "
                           f"{dims[1]}D, and negative {dims[2]}D inputs")
    positive_distance = pairwise_distance(anchor, positive, p, eps)
    negative_distance = pairwise_distance(anchor, negative, p, eps)
    if swap:
        negative_distance = negative_distance.minimum(pairwise_distance(positive, negative, p,
                                                                        eps))
    losses = (margin + positive_distance - negative_distance).clamp(min=0)
    return _apply_reduction(losses, reduction)


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean"):
    """The negative log-likelihood of ``target`` under a Poisson distribution of rate
    ``exp(input)`` (``log_input``) or ``input``: ``exp(x) - t * x`` or ``x - t * log(x + eps)``.

    ``full`` adds Stirling's approximation of ``log(t!)`` for targets above 1.

    Example:
        >>> import ember
        >>> ember.nn.functional.poisson_nll_loss(ember.zeros(2), ember.tensor([1.0, 2.0]))
        tensor(1.)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        losses = elementwise.exp(input) - target * input
    else:
        losses = input - target * elementwise.log(input + eps)
    if full:
        stirling = (target * elementwise.log(target) - target
                    + 0.5 * elementwise.log(2 * math.pi * target))
        losses = losses + masked_fill(stirling, target <= 1, 0.0)
    return _apply_reduction(losses, reduction)


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean"):
    """The negative log-likelihood of ``target`` under normal distributions of mean ``input``
    and variance ``var``: ``0.5 * (log(var) + (input - target)^2 / var)``.

    ``var`` has the input's shape, or one fewer dimension (one variance per sample), or a size
    of 1 in one dimension (shared); values below ``eps`` count as ``eps``.

    Example:
        >>> import ember
        >>> ember.nn.functional.gaussian_nll_loss(ember.tensor([1.0]), ember.tensor([3.0]),
        ...                                       ember.tensor([4.0]))
        tensor(1.1931)
    """
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = elementwise.mul(ones_like(input), var)
    elif bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(
                size for size, other in zip(var.shape, input.shape) if size != other) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not valid")
    # As PyTorch: the clamp takes no part in the gradient.
    var = var + (var.clamp(min=eps) - var).detach()
    losses = 0.5 * (elementwise.log(var) + (input - target) ** 2 / var)
    if full:
        losses = losses + 0.5 * math.log(2 * math.pi)
    return _apply_reduction(losses, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean"):
    """Binary cross-entropy of ``sigmoid(input)`` for each of C labels, averaged over the
    labels (the last dimension); targets are 0 or 1.

    Example:
        >>> import ember
        >>> ember.nn.functional.multilabel_soft_margin_loss(ember.zeros(1, 2),
        ...                                                 ember.tensor([[1.0, 0.0]]))
        tensor(0.6931)
    """
    reduction = _reduction(size_average, reduce, reduction)
    losses = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        losses = losses * weight
    class_dim = input.ndim - 1
    losses = sum_of(losses, class_dim) / input.shape[class_dim]
    return _apply_reduction(losses, reduction)


def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None,
                      size_average=None, reduce=None, reduction: str = "mean"):
    """The multi-class hinge loss: ``max(0, margin - x[y] + x[i]) ** p`` summed over the
    classes i other than the target y (times ``weight[y]``), divided by the class count.

    Example:
        >>> import ember
        >>> ember.nn.functional.multi_margin_loss(ember.tensor([[0.1, 0.2, 0.4, 0.8]]),
        ...                                       ember.tensor([3]))
        tensor(0.3250)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    if input.ndim > 2 or (input.ndim == 2 and (target.ndim != 1
                                                or target.shape[0] != input.shape[0])):
        raise RuntimeError(f"inconsistent target size, expected {input.shape[0]} but got "
                           f"{list(target.shape)}")
    classes = input.shape[-1] if input.ndim else 1
    data = target._data
    if data.size and (int(data.min()) < 0 or int(data.max()) >= classes):
        raise RuntimeError("target out of range")
    return MultiMarginLoss.apply(input if input.ndim else input.reshape(1), data, p, margin,
                                 weight, reduction)

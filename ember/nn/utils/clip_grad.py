"""Gradient clipping: rescale (by norm) or clamp (by value) the gradients in place."""

import math

import numpy as np

from ... import _recording
from ..._tensor import Tensor
from ...autograd.function import QUIET, numpy_errors
from ...autograd.grad_mode import no_grad
from ...autograd.inplace import bump_versions
from ...ops.creation import tensor
from ...ops.shape import stack


def _grads(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [param.grad for param in parameters if param.grad is not None]


_DIRECT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _direct_arrays(grads) -> "list | None":
    """The gradients' NumPy arrays when the 2-norm clipping can run on them directly: all
    float32 or all float64, each writable and laid out in one block (C or Fortran order, as a
    transposed weight's gradient is), none part of an autograd graph, and no step being
    captured by ``ember.compile`` (which must see the ops). Else None: the ops path."""
    if _recording.recorder is not None:
        return None
    arrays = [grad._data for grad in grads]
    dtype = arrays[0].dtype
    if dtype not in _DIRECT_DTYPES:
        return None
    for grad, array in zip(grads, arrays):
        flags = array.flags if type(array) is np.ndarray else None
        if flags is None or array.dtype != dtype or not flags.writeable \
                or not (flags.c_contiguous or flags.f_contiguous) \
                or grad.grad_fn is not None or grad._requires_grad:
            return None
    return arrays


def _two_norm(array):
    """The 2-norm of all of ``array``'s elements, as ``Tensor.norm()`` computes it
    (``LinalgVectorNorm``), so that both paths give the same bits."""
    return np.sqrt((array * array).sum(axis=tuple(range(array.ndim))))


def _quietly(function, *args):
    """``function(*args)`` with NumPy's floating-point warnings off, as ops run (an inf
    gradient scaled by a NaN coefficient warns nothing in PyTorch)."""
    token = numpy_errors.set(QUIET)
    try:
        return function(*args)
    finally:
        numpy_errors.reset(token)


def _total_two_norm(arrays):
    return _two_norm(np.stack([_two_norm(array) for array in arrays]))


def _scale(arrays, coefficient) -> None:
    for array in arrays:
        np.multiply(array, coefficient, out=array)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale the gradients so that their joint norm is at most ``max_norm``.

    The norm is taken over all gradients together, as if they were one vector.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` to clip.
        max_norm: the largest norm allowed.
        norm_type: the p of the p-norm; ``float("inf")`` for the largest magnitude.
        error_if_nonfinite: raise RuntimeError when the norm is nan or infinite.
        foreach: accepted for PyTorch compatibility; ignored.

    Returns:
        The joint norm of the gradients before clipping.

    Example:
        >>> import ember
        >>> w = ember.nn.Parameter(ember.zeros(2))
        >>> w.grad = ember.tensor([3.0, 4.0])
        >>> ember.nn.utils.clip_grad_norm_([w], max_norm=1.0)
        tensor(5.)
        >>> w.grad
        tensor([0.6000, 0.8000])
    """
    grads = _grads(parameters)
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if not grads:
        return tensor(0.0)
    # A model's step clips dozens of gradients: for the usual 2-norm, the per-gradient norms,
    # their stack and the scaling run on the arrays directly, where the ops path pays each
    # op's Python overhead (about 1 ms a step for a small GPT's 50 parameters). Same numbers.
    arrays = _direct_arrays(grads) if norm_type == 2.0 else None
    with no_grad():
        if arrays is not None:
            total_norm = Tensor._wrap(_quietly(_total_two_norm, arrays))
        elif norm_type == math.inf:
            norms = [grad.abs().max() for grad in grads]
            total_norm = norms[0] if len(norms) == 1 else stack(norms).max()
        else:
            total_norm = stack([grad.norm(norm_type) for grad in grads]).norm(norm_type)
        if error_if_nonfinite and not math.isfinite(total_norm.item()):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is "
                "non-finite, so it cannot be clipped. To disable this error and scale the "
                "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
        # The epsilon keeps a zero norm from dividing by zero; the clamp never scales up.
        clip_coef = (max_norm / (total_norm + 1e-6)).clamp(max=1.0)
        if arrays is not None:
            _quietly(_scale, arrays, clip_coef._data)
            bump_versions(grads)
        else:
            for grad in grads:
                grad.mul_(clip_coef.to(grad.device))
    return total_norm


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value].

    Example:
        >>> import ember
        >>> w = ember.nn.Parameter(ember.zeros(2))
        >>> w.grad = ember.tensor([-3.0, 0.5])
        >>> ember.nn.utils.clip_grad_value_([w], 1.0)
        >>> w.grad
        tensor([-1.0000,  0.5000])
    """
    clip_value = float(clip_value)
    with no_grad():
        for grad in _grads(parameters):
            grad.clamp_(-clip_value, clip_value)

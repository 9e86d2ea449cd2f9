"""SGD: stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay."""

import functools
import operator
from typing import Any, Callable, Iterable, Optional

import numpy as np

from .. import _C
from .._tensor import Tensor
from ..autograd.inplace import bump_version, bump_versions
from .optimizer import Optimizer, _check_non_negative, _gradients, compiled_update_applies


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum).

    For each parameter :math:`\theta` with gradient :math:`g_t` at step :math:`t`::

        if maximize:          g_t = -g_t
        if weight_decay != 0: g_t = g_t + weight_decay * theta
        if momentum != 0:
            b_t = g_t                                            (first step)
            b_t = momentum * b_{t-1} + (1 - dampening) * g_t     (later steps)
            g_t = g_t + momentum * b_t  if nesterov  else  b_t
        theta = theta - lr * g_t

    The momentum buffer :math:`b` is kept in ``state[p]["momentum_buffer"]``. Parameters whose
    ``.grad`` is None are skipped.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate.
        momentum: momentum factor.
        dampening: dampening applied to the gradient added to the momentum buffer.
        weight_decay: L2 penalty coefficient.
        nesterov: use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
        maximize: ascend the objective instead of descending it.
        foreach, differentiable, fused: accepted for compatibility with PyTorch programs and
            recorded in the parameter groups; ember has a single implementation.

    Example:
        >>> import ember
        >>> w = ember.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = ember.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> loss = (w * w).sum()
        >>> loss.backward()
        >>> opt.step()
        >>> w
        tensor([0.8000, 1.6000], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: Optional[bool] = None,
                 differentiable: bool = False, fused: Optional[bool] = None) -> None:
        _check_non_negative("learning rate", lr)
        _check_non_negative("momentum value", momentum)
        _check_non_negative("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def step(self, closure: Optional[Callable[[], Any]] = None):
        """Update every parameter that has a gradient; return the closure's loss, if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            params = [param for param in group["params"] if param._grad is not None]
            if not params:
                continue
            buffers = [self.state[param].get("momentum_buffer") for param in params] \
                if group["momentum"] != 0 else []
            if not self._update_compiled(group, params, buffers):
                self._update(group, params)
        return loss

    def _update(self, group: dict, params: list) -> None:
        """The update, parameter by parameter, in NumPy (or CuPy) calls."""
        lr = group["lr"]
        momentum = group["momentum"]
        dampening = group["dampening"]
        nesterov = group["nesterov"]
        for param, xp, grad in _gradients(group, group["weight_decay"]):
            if momentum != 0:
                state = self.state[param]
                buffer_tensor = state.get("momentum_buffer")
                if buffer_tensor is None:
                    # xp.array copies, and keeps a 0-d result an array (NumPy arithmetic on
                    # 0-d arrays returns scalars, which cannot be updated in place).
                    buffer = xp.array(grad)
                    state["momentum_buffer"] = Tensor._wrap(buffer)
                else:
                    buffer = buffer_tensor._data
                    buffer *= momentum
                    # Skip the multiplication by one in the common undampened case.
                    buffer += grad if dampening == 0 else (1 - dampening) * grad
                grad = grad + momentum * buffer if nesterov else buffer

            param._data -= lr * grad
            bump_version(param)

    def _update_compiled(self, group: dict, params: list, buffers: list) -> bool:
        """The same update in one call of the compiled kernel per group: one pass over each
        parameter (``_update`` makes four or five), with the same roundings. False when it
        does not apply (no extension, arrays the kernel cannot read): nothing was updated.

        Once every parameter has its momentum buffer (all steps but the first), the kernel
        checks the arrays itself, all before writing any, and declines (``fallback``) rather
        than raise: the common step makes no checks in Python."""
        if _C.kernels is None:
            return False
        hyper = (group["lr"], group["momentum"], group["dampening"], group["weight_decay"],
                 group["nesterov"], group["maximize"])
        arrays = [p._data for p in params]
        gradients = [p._grad._data for p in params]
        if not buffers:  # no momentum
            applied = _C.kernels.sgd_step(arrays, gradients, [None] * len(params), *hyper,
                                          False, True)
        elif not any(map(_is_none, buffers)):
            applied = _C.kernels.sgd_step(arrays, gradients, [b._data for b in buffers],
                                          *hyper, False, True)
        elif not compiled_update_applies(params, buffers):
            return False  # checked before new buffers are made: a refusal must change nothing
        else:
            # Parameters at their first step get a new buffer, which the kernel fills with g.
            for first in (False, True):
                chosen = [(p, b) for p, b in zip(params, buffers) if (b is None) == first]
                if not chosen:
                    continue
                buffer_arrays = []
                for param, buffer in chosen:
                    if first:
                        buffer = Tensor._wrap(np.empty_like(param._data))
                        self.state[param]["momentum_buffer"] = buffer
                    buffer_arrays.append(buffer._data)
                _C.kernels.sgd_step([p._data for p, _ in chosen],
                                    [p._grad._data for p, _ in chosen], buffer_arrays, *hyper,
                                    first)
            applied = True
        if applied:
            bump_versions(params)
        return applied


# ``any(map(_is_none, buffers))`` asks "is a buffer missing?" without ``None in buffers``,
# which would compare tensors with ``==``.
_is_none = functools.partial(operator.is_, None)

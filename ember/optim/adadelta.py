"""Adadelta: an adaptive learning rate method (Zeiler, 2012)."""

from typing import Any, Callable, Iterable, Optional

from ..autograd.inplace import bump_version
from .optimizer import Optimizer, _check_non_negative, _gradients, _new_step_tensor, _zeros_state


class Adadelta(Optimizer):
    r"""Adadelta: step sizes from the ratio of running RMS of past updates to that of gradients.

    For each parameter :math:`\theta` with gradient :math:`g_t` at step :math:`t`::

        if maximize:          g_t = -g_t
        if weight_decay != 0: g_t = g_t + weight_decay * theta
        v_t = rho * v_{t-1} + (1 - rho) * g_t * g_t
        delta_t = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) * g_t
        u_t = rho * u_{t-1} + (1 - rho) * delta_t * delta_t
        theta = theta - lr * delta_t

    The units of the update are those of the parameter (the ratio of two RMS values), which is
    why the default ``lr`` is 1. ``state[p]`` holds ``"step"``, ``"square_avg"`` (v) and
    ``"acc_delta"`` (u). Parameters whose ``.grad`` is None are skipped.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: coefficient that scales delta before it is applied.
        rho: decay rate of the running averages.
        eps: added inside both square roots for numerical stability.
        weight_decay: L2 penalty coefficient.
        maximize: ascend the objective instead of descending it.
        foreach, capturable, differentiable: accepted for compatibility with PyTorch programs
            and recorded in the parameter groups; ember has a single implementation.

    Example:
        >>> import ember
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = ember.optim.Adadelta([w])
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([ 0.9968, -1.9968], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: Optional[bool] = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_non_negative("learning rate", lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_non_negative("epsilon value", eps)
        _check_non_negative("weight_decay value", weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Optional[Callable[[], Any]] = None):
        """Update every parameter that has a gradient; return the closure's loss, if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, rho, eps = group["lr"], group["rho"], group["eps"]
            for param, xp, grad in _gradients(group, group["weight_decay"]):
                state = self.state[param]
                if not state:
                    state["step"] = _new_step_tensor()
                    state["square_avg"] = _zeros_state(param)
                    state["acc_delta"] = _zeros_state(param)
                state["step"]._data += 1
                square_avg = state["square_avg"]._data
                acc_delta = state["acc_delta"]._data
                square_avg *= rho
                square_avg += (1 - rho) * grad * grad
                std = xp.sqrt(square_avg + eps)
                delta = xp.sqrt(acc_delta + eps)
                delta /= std
                delta *= grad
                acc_delta *= rho
                acc_delta += (1 - rho) * delta * delta
                delta *= lr
                param._data -= delta
                bump_version(param)
        return loss

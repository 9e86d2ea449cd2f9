"""RMSprop: divide the gradient by a running root mean square of its recent values (Hinton)."""

from typing import Any, Callable, Iterable, Optional

from ..autograd.inplace import bump_version
from .optimizer import Optimizer, _check_non_negative, _gradients, _new_step_tensor, _zeros_state


class RMSprop(Optimizer):
    r"""RMSprop: per-element step sizes from a running average of the squared gradient.

    For each parameter :math:`\theta` with gradient :math:`g_t` at step :math:`t`::

        if maximize:          g_t = -g_t
        if weight_decay != 0: g_t = g_t + weight_decay * theta
        v_t = alpha * v_{t-1} + (1 - alpha) * g_t * g_t
        if centered:
            a_t = alpha * a_{t-1} + (1 - alpha) * g_t
            denom = sqrt(v_t - a_t * a_t) + eps
        else:
            denom = sqrt(v_t) + eps
        if momentum > 0:
            b_t = momentum * b_{t-1} + g_t / denom
            theta = theta - lr * b_t
        else:
            theta = theta - lr * g_t / denom

    ``state[p]`` holds ``"step"``, ``"square_avg"`` (v), ``"momentum_buffer"`` (b, when
    momentum > 0) and ``"grad_avg"`` (a, when centered). Parameters whose ``.grad`` is None are
    skipped.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate.
        alpha: smoothing constant of the running averages.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty coefficient.
        momentum: momentum factor.
        centered: normalize by an estimate of the gradient's variance instead of its second
            moment.
        maximize: ascend the objective instead of descending it.
        capturable, foreach, differentiable: accepted for compatibility with PyTorch programs
            and recorded in the parameter groups; ember has a single implementation.

    Example:
        >>> import ember
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = ember.optim.RMSprop([w], lr=0.01)
        >>> loss = (w * w).sum()
        >>> loss.backward()
        >>> opt.step()
        >>> w
        tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False,
                 foreach: Optional[bool] = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_non_negative("learning rate", lr)
        _check_non_negative("epsilon value", eps)
        _check_non_negative("momentum value", momentum)
        _check_non_negative("weight_decay value", weight_decay)
        _check_non_negative("alpha value", alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Optional[Callable[[], Any]] = None):
        """Update every parameter that has a gradient; return the closure's loss, if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = group["lr"]
            alpha = group["alpha"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            momentum = group["momentum"]
            centered = group["centered"]
            for param, xp, grad in _gradients(group, weight_decay):
                state = self.state[param]
                if not state:
                    state["step"] = _new_step_tensor()
                    state["square_avg"] = _zeros_state(param)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_state(param)
                    if centered:
                        state["grad_avg"] = _zeros_state(param)
                state["step"]._data += 1

                # Every intermediate goes through one scratch array: no other temporaries.
                scratch = xp.empty_like(param._data)
                square_avg = state["square_avg"]._data
                square_avg *= alpha
                xp.multiply(grad, grad, out=scratch)
                scratch *= 1 - alpha
                square_avg += scratch
                if centered:
                    grad_avg = state["grad_avg"]._data
                    grad_avg *= alpha
                    grad_avg += xp.multiply(grad, 1 - alpha, out=scratch)
                    xp.multiply(grad_avg, grad_avg, out=scratch)
                    denom = xp.subtract(square_avg, scratch, out=scratch)
                    xp.sqrt(denom, out=denom)
                else:
                    denom = xp.sqrt(square_avg, out=scratch)
                denom += eps

                if momentum > 0:
                    buffer = state["momentum_buffer"]._data
                    buffer *= momentum
                    buffer += xp.divide(grad, denom, out=scratch)
                    param._data -= xp.multiply(buffer, lr, out=scratch)
                else:
                    update = xp.divide(grad, denom, out=scratch)
                    update *= lr
                    param._data -= update
                bump_version(param)
        return loss

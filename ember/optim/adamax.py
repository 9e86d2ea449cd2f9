"""Adamax: Adam with the infinity norm in place of the second moment (Kingma and Ba, 2015)."""

from typing import Any, Callable, Iterable, Optional, Tuple

from ..autograd.inplace import bump_version
from .optimizer import (
    Optimizer,
    _check_adam_hyperparameters,
    _gradients,
    _lerp,
    _new_step_tensor,
    _zeros_state,
)


class Adamax(Optimizer):
    r"""Adamax: Adam whose denominator is a decaying maximum of ``|g|`` instead of an RMS.

    For each parameter :math:`\theta` with gradient :math:`g_t` at step :math:`t = 1, 2, ...`::

        if maximize:          g_t = -g_t
        if weight_decay != 0: g_t = g_t + weight_decay * theta
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        u_t = max(beta2 * u_{t-1}, |g_t| + eps)
        theta = theta - lr / (1 - beta1^t) * m_t / u_t

    ``state[p]`` holds ``"step"``, ``"exp_avg"`` (m) and ``"exp_inf"`` (u). Parameters whose
    ``.grad`` is None are skipped.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate.
        betas: decay rates of the running average of the gradient and of the maximum.
        eps: added to ``|g|`` so the denominator is never zero.
        weight_decay: L2 penalty coefficient.
        maximize: ascend the objective instead of descending it.
        foreach, differentiable, capturable: accepted for compatibility with PyTorch programs
            and recorded in the parameter groups; ember has a single implementation.

    Example:
        >>> import ember
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = ember.optim.Adamax([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 2e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: Optional[bool] = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_adam_hyperparameters(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure: Optional[Callable[[], Any]] = None):
        """Update every parameter that has a gradient; return the closure's loss, if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps = group["lr"], group["eps"]
            beta1, beta2 = group["betas"]
            for param, xp, grad in _gradients(group, group["weight_decay"]):
                state = self.state[param]
                if not state:
                    state["step"] = _new_step_tensor()
                    state["exp_avg"] = _zeros_state(param)
                    state["exp_inf"] = _zeros_state(param)
                state["step"]._data += 1
                step = float(state["step"]._data)
                exp_avg, exp_inf = state["exp_avg"]._data, state["exp_inf"]._data
                _lerp(exp_avg, grad, 1 - beta1)
                exp_inf *= beta2
                xp.maximum(exp_inf, xp.abs(grad) + eps, out=exp_inf)
                step_size = lr / (1 - beta1 ** step)
                param._data -= step_size * (exp_avg / exp_inf)
                bump_version(param)
        return loss

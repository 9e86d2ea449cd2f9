"""RAdam: Adam with a rectified adaptive learning rate (Liu et al., 2020)."""

import math
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


class RAdam(Optimizer):
    r"""RAdam: momentum SGD while the variance estimate is unreliable, then rectified Adam.

    For each parameter :math:`\theta` with gradient :math:`g_t` at step :math:`t = 1, 2, ...`::

        if maximize:          g_t = -g_t
        if weight_decay != 0:
            if decoupled_weight_decay: theta = theta * (1 - lr * weight_decay)
            else:                      g_t = g_t + weight_decay * theta
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t * g_t
        m_hat = m_t / (1 - beta1^t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        if rho_t > 5:
            r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            theta = theta - lr * m_hat * sqrt(1 - beta2^t) / (sqrt(v_t) + eps) * r_t
        else:
            theta = theta - lr * m_hat

    ``state[p]`` holds ``"step"``, ``"exp_avg"`` (m) and ``"exp_avg_sq"`` (v). Parameters whose
    ``.grad`` is None are skipped.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate.
        betas: decay rates of the running averages of the gradient and of its square.
        eps: added to the denominator for numerical stability.
        weight_decay: weight decay coefficient (an L2 penalty unless decoupled).
        decoupled_weight_decay: shrink the weights directly, as AdamW does.
        maximize: ascend the objective instead of descending it.
        foreach, capturable, differentiable: accepted for compatibility with PyTorch programs
            and recorded in the parameter groups; ember has a single implementation.

    Example:
        >>> import ember
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = ember.optim.RAdam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: Optional[bool] = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _check_adam_hyperparameters(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Optional[Callable[[], Any]] = None):
        """Update every parameter that has a gradient; return the closure's loss, if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps = group["lr"], group["eps"]
            beta1, beta2 = group["betas"]
            weight_decay = group["weight_decay"]
            decoupled = group["decoupled_weight_decay"]
            for param, xp, grad in _gradients(group, 0 if decoupled else weight_decay):
                state = self.state[param]
                if not state:
                    state["step"] = _new_step_tensor()
                    state["exp_avg"] = _zeros_state(param)
                    state["exp_avg_sq"] = _zeros_state(param)
                state["step"]._data += 1
                step = float(state["step"]._data)
                if decoupled and weight_decay != 0:
                    param._data *= 1 - lr * weight_decay
                exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
                _lerp(exp_avg, grad, 1 - beta1)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * grad * grad
                bias_correction2 = 1 - beta2 ** step
                update = exp_avg / (1 - beta1 ** step) * lr
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * beta2 ** step / bias_correction2
                # Below 5 the variance of the adaptive rate is not defined: plain momentum.
                if rho_t > 5.0:
                    rectification = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                                              / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                    update *= math.sqrt(bias_correction2) / (xp.sqrt(exp_avg_sq) + eps)
                    update *= rectification
                param._data -= update
                bump_version(param)
        return loss

"""NAdam: Adam with Nesterov momentum (Dozat, 2016)."""

from typing import Any, Callable, Iterable, Optional, Tuple

import numpy as np

from .._tensor import Tensor
from ..autograd.inplace import bump_version
from .optimizer import (
    Optimizer,
    _check_adam_hyperparameters,
    _check_non_negative,
    _gradients,
    _lerp,
    _new_step_tensor,
    _zeros_state,
)


class NAdam(Optimizer):
    r"""NAdam: Adam whose momentum step looks ahead, with a warming-up momentum schedule.

    For each parameter :math:`\theta` with gradient :math:`g_t` at step :math:`t = 1, 2, ...`::

        if maximize:          g_t = -g_t
        if weight_decay != 0:
            if decoupled_weight_decay: theta = theta * (1 - lr * weight_decay)
            else:                      g_t = g_t + weight_decay * theta
        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))
        P_t = mu_1 * mu_2 * ... * mu_t
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t * g_t
        denom = sqrt(v_t / (1 - beta2^t)) + eps
        theta = theta - lr * (1 - mu_t) / (1 - P_t) * g_t / denom
                      - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m_t / denom

    ``state[p]`` holds ``"step"``, ``"mu_product"`` (P, a 0-d float32 tensor as in PyTorch),
    ``"exp_avg"`` (m) and ``"exp_avg_sq"`` (v). Parameters whose ``.grad`` is None are skipped.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate.
        betas: decay rates of the running averages of the gradient and of its square.
        eps: added to the denominator for numerical stability.
        weight_decay: weight decay coefficient (an L2 penalty unless decoupled).
        momentum_decay: how fast the momentum warms up to ``beta1``.
        decoupled_weight_decay: shrink the weights directly, as AdamW does (NAdamW).
        maximize: ascend the objective instead of descending it.
        foreach, capturable, differentiable: accepted for compatibility with PyTorch programs
            and recorded in the parameter groups; ember has a single implementation.

    Example:
        >>> import ember
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = ember.optim.NAdam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([ 0.8944, -1.8944], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 2e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: Optional[bool] = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_adam_hyperparameters(lr, eps, betas, weight_decay)
        _check_non_negative("momentum_decay value", momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Optional[Callable[[], Any]] = None):
        """Update every parameter that has a gradient; return the closure's loss, if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps = group["lr"], group["eps"]
            beta1, beta2 = group["betas"]
            weight_decay, momentum_decay = group["weight_decay"], group["momentum_decay"]
            decoupled = group["decoupled_weight_decay"]
            for param, xp, grad in _gradients(group, 0 if decoupled else weight_decay):
                state = self.state[param]
                if not state:
                    state["step"] = _new_step_tensor()
                    state["mu_product"] = Tensor._wrap(np.ones((), dtype=np.float32))
                    state["exp_avg"] = _zeros_state(param)
                    state["exp_avg_sq"] = _zeros_state(param)
                state["step"]._data += 1
                step = float(state["step"]._data)
                if decoupled and weight_decay != 0:
                    param._data *= 1 - lr * weight_decay
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
                # The product is kept in the counter's dtype and read back, as PyTorch does.
                mu_product = state["mu_product"]._data
                mu_product *= mu
                product = float(mu_product)
                exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
                _lerp(exp_avg, grad, 1 - beta1)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * grad * grad
                denom = xp.sqrt(exp_avg_sq / (1 - beta2 ** step))
                denom += eps
                param._data += (-lr * (1.0 - mu) / (1.0 - product)) * (grad / denom)
                param._data += (-lr * mu_next / (1.0 - product * mu_next)) * (exp_avg / denom)
                bump_version(param)
        return loss

"""AdamW: Adam with decoupled weight decay (Loshchilov and Hutter, 2019)."""

from typing import Iterable, Optional, Tuple

from .adam import Adam


class AdamW(Adam):
    r"""Adam whose weight decay shrinks the weights directly instead of adding to the gradient.

    For each parameter :math:`\theta` with gradient :math:`g_t` at step :math:`t = 1, 2, ...`::

        if maximize: g_t = -g_t
        theta = theta * (1 - lr * weight_decay)
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t * g_t
        if amsgrad: v_max = max(v_max, v_t), and v_max replaces v_t below
        theta = theta - lr / (1 - beta1^t) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)

    With an L2 penalty (plain Adam) the decay term is divided by ``sqrt(v)`` like the gradient,
    so weights with large gradients are barely regularized; decoupling decays every weight at the
    same rate. This is ``Adam(..., decoupled_weight_decay=True)`` with a default weight decay of
    0.01; the state is Adam's.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate.
        betas: decay rates of the running averages of the gradient and of its square.
        eps: added to the denominator for numerical stability.
        weight_decay: decoupled weight decay coefficient.
        amsgrad: use the maximum of past squared-gradient averages.
        maximize: ascend the objective instead of descending it.
        foreach, capturable, differentiable, fused: accepted for compatibility with PyTorch
            programs and recorded in the parameter groups; ember has a single implementation.

    Example:
        >>> import ember
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = ember.optim.AdamW([w], lr=0.1, weight_decay=0.5)
        >>> loss = (w * w).sum()
        >>> loss.backward()
        >>> opt.step()
        >>> w
        tensor([ 0.8500, -1.8000], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: Optional[bool] = None,
                 capturable: bool = False, differentiable: bool = False,
                 fused: Optional[bool] = None) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

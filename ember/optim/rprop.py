"""Rprop: resilient backpropagation (Riedmiller and Braun, 1993)."""

from typing import Any, Callable, Iterable, Optional, Tuple

from .._tensor import Tensor
from ..autograd.inplace import bump_version
from .optimizer import Optimizer, _check_non_negative, _gradients, _new_step_tensor, _zeros_state


class Rprop(Optimizer):
    r"""Rprop: per-element step sizes that grow while the gradient keeps its sign and shrink
    when it flips; only the gradient's sign is used.

    For each parameter :math:`\theta` with gradient :math:`g_t` at step :math:`t`::

        if maximize: g_t = -g_t
        s = sign(g_t * g_{t-1})
        step_size = clamp(step_size * (etaplus if s > 0, etaminus if s < 0, 1 if s == 0),
                          step_size_min, step_size_max)
        where s < 0: g_t = 0          (a flipped sign: no move, and no flip test next time)
        theta = theta - sign(g_t) * step_size
        g_{t-1} = g_t

    ``state[p]`` holds ``"step"``, ``"prev"`` (the last gradient used) and ``"step_size"``
    (starting at ``lr``). Parameters whose ``.grad`` is None are skipped. Rprop suits
    full-batch training: mini-batch noise flips signs at random.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: the initial step size.
        etas: (etaminus, etaplus), the factors that shrink and grow a step size.
        step_sizes: (minimal, maximal) step size.
        maximize: ascend the objective instead of descending it.
        capturable, foreach, differentiable: accepted for compatibility with PyTorch programs
            and recorded in the parameter groups; ember has a single implementation.

    Example:
        >>> import ember
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = ember.optim.Rprop([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1e-2,
                 etas: Tuple[float, float] = (0.5, 1.2),
                 step_sizes: Tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: Optional[bool] = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_non_negative("learning rate", lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure: Optional[Callable[[], Any]] = None):
        """Update every parameter that has a gradient; return the closure's loss, if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for param, xp, grad in _gradients(group, 0):
                state = self.state[param]
                if not state:
                    state["step"] = _new_step_tensor()
                    state["prev"] = _zeros_state(param)
                    state["step_size"] = Tensor._wrap(xp.full_like(param._data, group["lr"]))
                state["step"]._data += 1
                prev, step_size = state["prev"]._data, state["step_size"]._data
                agreement = xp.sign(grad * prev)
                factor = xp.where(agreement > 0, etaplus,
                                  xp.where(agreement < 0, etaminus, 1)).astype(grad.dtype)
                step_size *= factor
                xp.clip(step_size, step_size_min, step_size_max, out=step_size)
                grad = xp.where(agreement < 0, 0, grad).astype(grad.dtype, copy=False)
                param._data -= xp.sign(grad) * step_size
                prev[...] = grad
                bump_version(param)
        return loss

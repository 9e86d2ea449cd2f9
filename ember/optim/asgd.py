"""ASGD: averaged stochastic gradient descent (Polyak and Juditsky, 1992)."""

from typing import Any, Callable, Iterable, Optional

import numpy as np

from .._tensor import Tensor
from ..autograd.inplace import bump_version
from .optimizer import Optimizer, _check_non_negative, _gradients, _new_step_tensor, _zeros_state


class ASGD(Optimizer):
    r"""ASGD: SGD with a decaying step size that also keeps a running average of the iterates.

    For each parameter :math:`\theta` with gradient :math:`g_t` at step :math:`t = 1, 2, ...`::

        if maximize:          g_t = -g_t
        if weight_decay != 0: g_t = g_t + weight_decay * theta
        theta = theta * (1 - lambd * eta_t) - eta_t * g_t
        ax_t = ax_{t-1} + mu_t * (theta - ax_{t-1})       (ax_t = theta while mu_t = 1)
        eta_{t+1} = lr / (1 + lambd * lr * t)^alpha
        mu_{t+1} = 1 / max(1, t - t0)

    The average ``ax`` starts at step ``t0``; until then it follows the parameter. ``state[p]``
    holds ``"step"``, ``"eta"`` and ``"mu"`` (0-d float32 tensors) and ``"ax"``. Parameters
    whose ``.grad`` is None are skipped.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate.
        lambd: decay term.
        alpha: power of the step-size decay.
        t0: the step at which averaging starts.
        weight_decay: L2 penalty coefficient.
        maximize: ascend the objective instead of descending it.
        foreach, differentiable, capturable: accepted for compatibility with PyTorch programs
            and recorded in the parameter groups; ember has a single implementation.

    Example:
        >>> import ember
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = ember.optim.ASGD([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: Optional[bool] = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_non_negative("learning rate", lr)
        _check_non_negative("weight_decay value", weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure: Optional[Callable[[], Any]] = None):
        """Update every parameter that has a gradient; return the closure's loss, if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
            for param, _, grad in _gradients(group, group["weight_decay"]):
                state = self.state[param]
                if not state:
                    state["step"] = _new_step_tensor()
                    state["eta"] = Tensor._wrap(np.array(lr, dtype=np.float32))
                    state["mu"] = Tensor._wrap(np.ones((), dtype=np.float32))
                    state["ax"] = _zeros_state(param)
                state["step"]._data += 1
                step = float(state["step"]._data)
                # eta and mu are float32 tensors, as in PyTorch: read back after rounding.
                eta, mu = float(state["eta"]._data), float(state["mu"]._data)
                param._data *= 1 - lambd * eta
                param._data -= eta * grad
                ax = state["ax"]._data
                if mu != 1:
                    ax += (param._data - ax) * mu
                else:
                    ax[...] = param._data
                state["eta"]._data[...] = lr / (1 + lambd * lr * step) ** alpha
                state["mu"]._data[...] = 1 / max(1, step - t0)
                bump_version(param)
        return loss

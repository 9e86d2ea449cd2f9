"""RMSprop: divide the gradient by a running root mean square of its recent values (Hinton)."""

from typing import Any, Callable, Iterable, Optional

from .. import _C
from ..autograd.inplace import bump_version, bump_versions
from .optimizer import (
    Optimizer,
    _check_non_negative,
    _gradients,
    _new_step_tensor,
    _zeros_state,
    compiled_counters_apply,
    compiled_update_applies,
)


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
            params = [param for param in group["params"] if param._grad is not None]
            states = [self.state[param] for param in params]
            keys = ("square_avg",) + (("grad_avg",) if group["centered"] else ()) \
                + (("momentum_buffer",) if group["momentum"] > 0 else ())
            if compiled_update_applies(params, [state.get(key) for state in states
                                                for key in keys]) \
                    and compiled_counters_apply([state.get("step") for state in states]):
                self._update_compiled(group, params, states)
            else:
                self._update(group)
        return loss

    @staticmethod
    def _init_state(state: dict, param, group: dict) -> None:
        """A parameter's state at its first step: the step count and zero averages."""
        state["step"] = _new_step_tensor()
        state["square_avg"] = _zeros_state(param)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_state(param)
        if group["centered"]:
            state["grad_avg"] = _zeros_state(param)

    def _update(self, group: dict) -> None:
        """The update, parameter by parameter, in NumPy (or CuPy) calls."""
        lr = group["lr"]
        alpha = group["alpha"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        momentum = group["momentum"]
        centered = group["centered"]
        for param, xp, grad in _gradients(group, weight_decay):
            state = self.state[param]
            if not state:
                self._init_state(state, param, group)
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

    def _update_compiled(self, group: dict, params: list, states: list) -> None:
        """The same update in one call of the compiled kernel per group: one pass over each
        parameter (``_update`` makes about ten), its step count included, with the same
        roundings."""
        for param, state in zip(params, states):
            if not state:
                self._init_state(state, param, group)
        unused = [None] * len(params)
        grad_avgs = [state["grad_avg"]._data for state in states] if group["centered"] \
            else unused
        buffers = [state["momentum_buffer"]._data for state in states] \
            if group["momentum"] > 0 else unused
        _C.kernels.rmsprop_step(
            [p._data for p in params], [p._grad._data for p in params],
            [state["square_avg"]._data for state in states], grad_avgs, buffers,
            [state["step"]._data for state in states], group["lr"], group["alpha"],
            group["eps"], group["weight_decay"], group["momentum"], group["centered"],
            group["maximize"])
        bump_versions(params)

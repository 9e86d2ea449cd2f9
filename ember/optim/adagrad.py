"""Adagrad: step sizes that shrink with the accumulated squared gradient (Duchi et al.)."""

from typing import Any, Callable, Iterable, Optional

from .. import _C
from .._backend import array_module
from .._tensor import Tensor
from ..autograd.inplace import bump_version, bump_versions
from .optimizer import (
    Optimizer,
    _check_non_negative,
    _gradients,
    _new_step_tensor,
    compiled_counters_apply,
    compiled_update_applies,
)


class Adagrad(Optimizer):
    r"""Adagrad: divide each step by the root of the sum of all past squared gradients.

    For each parameter :math:`\theta` with gradient :math:`g_t` at step :math:`t = 1, 2, ...`::

        if maximize:          g_t = -g_t
        if weight_decay != 0: g_t = g_t + weight_decay * theta
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s_t = s_{t-1} + g_t * g_t                   (s_0 = initial_accumulator_value)
        theta = theta - lr_t * g_t / (sqrt(s_t) + eps)

    ``state[p]`` holds ``"step"`` and ``"sum"`` (s); as in PyTorch it is created with the
    optimizer, so ``state_dict()`` lists it before the first step. Parameters whose ``.grad`` is
    None are skipped.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate.
        lr_decay: learning rate decay per step.
        weight_decay: L2 penalty coefficient.
        initial_accumulator_value: starting value of the sum of squared gradients.
        eps: added to the denominator for numerical stability.
        maximize: ascend the objective instead of descending it.
        foreach, differentiable, fused: accepted for compatibility with PyTorch programs and
            recorded in the parameter groups; ember has a single implementation.

    Example:
        >>> import ember
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = ember.optim.Adagrad([w], lr=0.1)
        >>> loss = (w * w).sum()
        >>> loss.backward()
        >>> opt.step()
        >>> w
        tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: Optional[bool] = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 fused: Optional[bool] = None) -> None:
        _check_non_negative("learning rate", lr)
        _check_non_negative("lr_decay value", lr_decay)
        _check_non_negative("weight_decay value", weight_decay)
        _check_non_negative("initial_accumulator_value value", initial_accumulator_value)
        _check_non_negative("epsilon value", eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                self._init_state(param, group["initial_accumulator_value"])

    def _init_state(self, param: Tensor, initial_accumulator_value: float) -> None:
        xp = array_module(param._data)
        state = self.state[param]
        state["step"] = _new_step_tensor()
        state["sum"] = Tensor._wrap(xp.full_like(param._data, initial_accumulator_value))

    def step(self, closure: Optional[Callable[[], Any]] = None):
        """Update every parameter that has a gradient; return the closure's loss, if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            params = [param for param in group["params"] if param._grad is not None]
            states = [self.state[param] for param in params]
            if compiled_update_applies(params, [state.get("sum") for state in states]) \
                    and compiled_counters_apply([state.get("step") for state in states]):
                self._update_compiled(group, params, states)
            else:
                self._update(group)
        return loss

    def _update(self, group: dict) -> None:
        """The update, parameter by parameter, in NumPy (or CuPy) calls."""
        lr = group["lr"]
        lr_decay = group["lr_decay"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        for param, xp, grad in _gradients(group, weight_decay):
            state = self.state[param]
            if not state:  # a group added after construction
                self._init_state(param, group["initial_accumulator_value"])
            step_counter = state["step"]._data
            step_counter += 1
            decayed_lr = lr / (1 + (float(step_counter) - 1) * lr_decay)

            # Every intermediate goes through one scratch array: no other temporaries.
            scratch = xp.empty_like(param._data)
            sum_of_squares = state["sum"]._data
            sum_of_squares += xp.multiply(grad, grad, out=scratch)
            denom = xp.sqrt(sum_of_squares, out=scratch)
            denom += eps
            update = xp.divide(grad, denom, out=scratch)
            update *= decayed_lr
            param._data -= update
            bump_version(param)

    def _update_compiled(self, group: dict, params: list, states: list) -> None:
        """The same update in one call of the compiled kernel per group: one pass over each
        parameter, its step count and decayed rate included, with the same roundings."""
        for param, state in zip(params, states):
            if not state:  # a group added after construction
                self._init_state(param, group["initial_accumulator_value"])
        _C.kernels.adagrad_step(
            [p._data for p in params], [p._grad._data for p in params],
            [state["sum"]._data for state in states], [state["step"]._data for state in states],
            group["lr"], group["lr_decay"], group["weight_decay"], group["eps"],
            group["maximize"])
        bump_versions(params)

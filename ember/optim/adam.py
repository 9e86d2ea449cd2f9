"""Adam: adaptive moment estimation (Kingma and Ba, 2015)."""

import math
from typing import Any, Callable, Iterable, Optional, Tuple

from .. import _C
from .._parallel import get_num_threads, parallel_for
from ..autograd.inplace import bump_version, bump_versions
from .optimizer import (
    Optimizer,
    _check_adam_hyperparameters,
    _gradients,
    _new_step_tensor,
    _zeros_state,
    compiled_counters_apply,
    compiled_update_applies,
)

# The compiled update's work per element for ``parallel_for``: about ten arithmetic
# operations, and seven arrays read or written (parameter, gradient, two averages).
_ADAM_WORK = 10


def _even_cuts(sizes: list, parts: int) -> list:
    """Indices cutting ``sizes`` into ``parts`` runs (at least one item each) whose sums are
    about equal: run ``j`` is ``sizes[cuts[j]:cuts[j + 1]]``."""
    total, cuts, running = sum(sizes), [0], 0
    for index, size in enumerate(sizes[:-1], start=1):
        running += size
        if len(cuts) < parts and running * parts >= total * len(cuts) \
                and len(sizes) - index >= parts - len(cuts):
            cuts.append(index)
    while len(cuts) < parts:  # too few items past the middle: cut the last ones singly
        cuts.append(len(sizes) - (parts - len(cuts)))
    return cuts + [len(sizes)]

class Adam(Optimizer):
    r"""Adam: per-element step sizes from running averages of the gradient and its square.

    For each parameter :math:`\theta` with gradient :math:`g_t` at step :math:`t = 1, 2, ...`::

        if maximize:          g_t = -g_t
        if weight_decay != 0:
            if decoupled_weight_decay: theta = theta * (1 - lr * weight_decay)   (AdamW)
            else:                      g_t = g_t + weight_decay * theta          (L2 penalty)
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t * g_t
        if amsgrad: v_max = max(v_max, v_t), and v_max replaces v_t below
        theta = theta - lr / (1 - beta1^t) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)

    ``state[p]`` holds ``"step"`` (a 0-d CPU tensor), ``"exp_avg"`` (m), ``"exp_avg_sq"`` (v)
    and, with amsgrad, ``"max_exp_avg_sq"``. Parameters whose ``.grad`` is None are skipped.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate.
        betas: decay rates of the running averages of the gradient and of its square.
        eps: added to the denominator for numerical stability.
        weight_decay: weight decay coefficient (an L2 penalty unless decoupled).
        amsgrad: use the maximum of past squared-gradient averages (Reddi et al., 2018).
        maximize: ascend the objective instead of descending it.
        decoupled_weight_decay: shrink the weights directly, as AdamW does.
        foreach, capturable, differentiable, fused: accepted for compatibility with PyTorch
            programs and recorded in the parameter groups; ember has a single implementation.

    Example:
        >>> import ember
        >>> w = ember.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = ember.optim.Adam([w], lr=0.1)
        >>> loss = (w * w).sum()
        >>> loss.backward()
        >>> opt.step()
        >>> w
        tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: Optional[bool] = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False,
                 fused: Optional[bool] = None, decoupled_weight_decay: bool = False) -> None:
        _check_adam_hyperparameters(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def step(self, closure: Optional[Callable[[], Any]] = None):
        """Update every parameter that has a gradient; return the closure's loss, if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            params = [param for param in group["params"] if param._grad is not None]
            states = [self.state[param] for param in params]
            keys = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if group["amsgrad"] \
                else ("exp_avg", "exp_avg_sq")
            if compiled_update_applies(params, [state.get(key) for state in states
                                                for key in keys]) \
                    and compiled_counters_apply([state.get("step") for state in states]):
                self._update_compiled(group, params, states)
            else:
                self._update(group)
        return loss

    @staticmethod
    def _init_state(state: dict, param, amsgrad: bool) -> None:
        """A parameter's state at its first step: the step count and zero averages."""
        state["step"] = _new_step_tensor()
        state["exp_avg"] = _zeros_state(param)
        state["exp_avg_sq"] = _zeros_state(param)
        if amsgrad:
            state["max_exp_avg_sq"] = _zeros_state(param)

    def _update(self, group: dict) -> None:
        """The update, parameter by parameter, in NumPy (or CuPy) calls."""
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        amsgrad = group["amsgrad"]
        decoupled = group["decoupled_weight_decay"]
        # AdamW's decoupled decay shrinks the weights themselves, not through the gradient.
        l2_penalty = 0 if decoupled else weight_decay
        for param, xp, grad in _gradients(group, l2_penalty):
            if decoupled and weight_decay != 0:
                param._data *= 1 - lr * weight_decay

            state = self.state[param]
            if not state:
                self._init_state(state, param, amsgrad)
            step_counter = state["step"]._data
            step_counter += 1
            step = float(step_counter)

            # Every intermediate goes through one scratch array: no other temporaries.
            scratch = xp.empty_like(param._data)
            exp_avg = state["exp_avg"]._data
            exp_avg *= beta1
            xp.multiply(grad, 1 - beta1, out=scratch)
            exp_avg += scratch
            exp_avg_sq = state["exp_avg_sq"]._data
            exp_avg_sq *= beta2
            xp.multiply(grad, grad, out=scratch)
            scratch *= 1 - beta2
            exp_avg_sq += scratch
            if amsgrad:
                max_exp_avg_sq = state["max_exp_avg_sq"]._data
                xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                exp_avg_sq = max_exp_avg_sq

            # The bias corrections are Python floats: computing them needs no array ops.
            step_size = lr / (1 - beta1 ** step)
            bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
            denom = xp.sqrt(exp_avg_sq, out=scratch)
            denom /= bias_correction2_sqrt
            denom += eps
            update = xp.divide(exp_avg, denom, out=scratch)
            update *= step_size
            param._data -= update
            bump_version(param)

    def _update_compiled(self, group: dict, params: list, states: list) -> None:
        """The same update in one call of the compiled kernel per group: one pass over each
        parameter (``_update`` makes a dozen), its step count and bias corrections included,
        with the same roundings."""
        amsgrad = group["amsgrad"]
        for param, state in zip(params, states):
            if not state:
                self._init_state(state, param, amsgrad)
        beta1, beta2 = group["betas"]
        maxima = [state["max_exp_avg_sq"]._data for state in states] if amsgrad \
            else [None] * len(params)
        arrays = ([p._data for p in params], [p._grad._data for p in params],
                  [state["exp_avg"]._data for state in states],
                  [state["exp_avg_sq"]._data for state in states],
                  maxima, [state["step"]._data for state in states])
        settings = (group["lr"], beta1, beta2, group["eps"], group["weight_decay"], amsgrad,
                    group["maximize"], group["decoupled_weight_decay"])

        # A large group's parameters split over ember's threads, in runs of about equal
        # numbers of elements; each parameter's update is computed alone, so a split changes
        # no bits.
        sizes = [array.size for array in arrays[0]]
        cuts = _even_cuts(sizes, min(get_num_threads(), len(sizes)))

        def update(start, stop):  # the runs [start, stop) of parameters, each on its own
            first, last = cuts[start], cuts[stop]
            _C.kernels.adam_step(*[column[first:last] for column in arrays], *settings)

        parallel_for(len(cuts) - 1, update, _ADAM_WORK * sum(sizes) // (len(cuts) - 1),
                     like=arrays[0][0], product=0)
        bump_versions(params)

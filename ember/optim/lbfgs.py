"""L-BFGS: a quasi-Newton method with limited memory (Liu and Nocedal, 1989)."""

from typing import Callable, Iterable, List, Optional

import numpy as np

from .. import _backend
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad
from ..autograd.inplace import bump_version
from .optimizer import Optimizer, _check_non_negative


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer of the cubic through ``(x1, f1)`` and ``(x2, f2)`` with slopes ``g1`` and
    ``g2``, clamped to ``bounds`` (default: between the two points); the middle of the bounds
    when the cubic has no minimum."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = d2_square ** 0.5
    if x1 <= x2:
        position = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        position = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(position, low), high)


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """A step ``t`` along ``d`` that satisfies the strong Wolfe conditions (Nocedal and Wright,
    Numerical Optimization, algorithms 3.5 and 3.6).

    ``evaluate(t)`` returns the loss and flat gradient at ``x + t * d``; ``f``, ``g`` and
    ``gtd`` are the loss, gradient and directional derivative at ``t = 0``. First the step
    grows until an interval is known to hold an acceptable point ("bracketing"); then cubic
    interpolation shrinks the interval ("zoom"). Returns ``(loss, gradient, t, evaluations)``.
    """
    d_norm = abs(d).max()
    f_new, g_new = evaluate(t)
    evaluations = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    iteration = 0
    bracket = None
    while iteration < max_ls:
        # Sufficient decrease fails, or the loss rose again: a minimum lies in between.
        if f_new > f + c1 * t * gtd or (iteration > 1 and f_new >= f_prev):
            bracket = [(t_prev, f_prev, g_prev, gtd_prev), (t, f_new, g_new, gtd_new)]
            break
        if abs(gtd_new) <= -c2 * gtd:  # the curvature condition holds too: done
            bracket = [(t, f_new, g_new, gtd_new)]
            done = True
            break
        if gtd_new >= 0:  # the slope turned upwards: a minimum lies in between
            bracket = [(t_prev, f_prev, g_prev, gtd_prev), (t, f_new, g_new, gtd_new)]
            break
        # Still descending: extrapolate, between a little and ten times further.
        t_next = _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evaluations += 1
        gtd_new = g_new.dot(d)
        iteration += 1
    if iteration == max_ls:
        bracket = [(0, f, g, None), (t, f_new, g_new, None)]

    # Zoom: entries are (t, loss, gradient, directional derivative); ``low`` has the lower loss.
    insufficient_progress = False
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    while not done and iteration < max_ls:
        (t_a, f_a, _, gtd_a), (t_b, f_b, _, gtd_b) = bracket
        if abs(t_b - t_a) * d_norm < tolerance_change:
            break
        t = _cubic_minimum(t_a, f_a, gtd_a, t_b, f_b, gtd_b)
        smallest, largest = min(t_a, t_b), max(t_a, t_b)
        # Keep the trial point away from the ends, where interpolation makes little progress.
        margin = 0.1 * (largest - smallest)
        if min(largest - t, t - smallest) < margin:
            if insufficient_progress or t >= largest or t <= smallest:
                t = largest - margin if abs(t - largest) < abs(t - smallest) else smallest + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evaluations += 1
        gtd_new = g_new.dot(d)
        iteration += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket[low][1]:
            bracket[high] = (t, f_new, g_new, gtd_new)
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = (t, f_new, g_new, gtd_new)
    t, f_new, g_new, _ = bracket[low]
    return f_new, g_new, t, evaluations


def _array(value):
    """A state value as the step uses it: a Tensor's array, anything else as it is."""
    return value._data if isinstance(value, Tensor) else value


def _tensor(value):
    """A state value as it is kept: arrays and array scalars become Tensors, Python numbers
    stay numbers."""
    if type(value) in (int, float):
        return value
    return Tensor._wrap(value if isinstance(value, np.ndarray) or not isinstance(
        value, np.generic) else np.asarray(value))


class LBFGS(Optimizer):
    r"""L-BFGS: Newton-like steps with an inverse Hessian estimated from recent gradients.

    ``step(closure)`` runs up to ``max_iter`` iterations; the closure re-evaluates the model
    and returns the loss (after ``zero_grad`` and ``backward``). Each iteration, on the
    flattened parameters :math:`x` and gradient :math:`g`::

        y = g - g_prev, s = t_prev * d_prev; keep (y, s) if y.s > 1e-10 (the last history_size)
        d = -H g      by the two-loop recursion over the kept pairs, H_0 = (y.s / y.y) I
        t = lr        (the first iteration ever: min(1, 1 / sum|g|) * lr)
        x = x + t * d, with t from a strong Wolfe line search if line_search_fn='strong_wolfe'

    and stops early when ``max|g| <= tolerance_grad``, the step or the change of the loss is
    below ``tolerance_change``, or ``max_eval`` evaluations are spent. ``state`` is kept under
    the first parameter, with PyTorch's keys: ``"func_evals"``, ``"n_iter"``, ``"d"``, ``"t"``,
    ``"old_dirs"``, ``"old_stps"``, ``"ro"``, ``"H_diag"``, ``"prev_flat_grad"``,
    ``"prev_loss"`` and ``"al"``.

    Args:
        params: tensors to optimize (a single group: L-BFGS treats them as one vector).
        lr: learning rate (the step length tried first).
        max_iter: iterations per ``step``.
        max_eval: closure evaluations per ``step`` (default ``max_iter * 5 // 4``).
        tolerance_grad: stop when the largest gradient entry is at most this.
        tolerance_change: stop when the step or the loss changes less than this.
        history_size: how many (y, s) pairs to keep.
        line_search_fn: None (a fixed step ``lr``) or ``'strong_wolfe'``.

    Example:
        >>> import ember
        >>> x = ember.tensor([3.0, -1.0], requires_grad=True)
        >>> opt = ember.optim.LBFGS([x], line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = ((x - ember.tensor([1.0, 2.0])) ** 2).sum()
        ...     loss.backward()
        ...     return loss
        >>> loss = opt.step(closure)
        >>> [round(value, 4) for value in x.tolist()]
        [1.0, 2.0]
    """

    def __init__(self, params: Iterable, lr: float = 1, max_iter: int = 20,
                 max_eval: Optional[int] = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: Optional[str] = None) -> None:
        _check_non_negative("learning rate", lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params: List[Tensor] = self.param_groups[0]["params"]

    def _flat_grad(self):
        """Every parameter's gradient in one vector (zeros for a parameter without one)."""
        xp = _backend.array_module(self._params[0]._data)
        return xp.concatenate([
            xp.zeros(param._data.size, param._data.dtype) if param._grad is None
            else param._grad._data.reshape(-1) for param in self._params])

    def _move(self, step_size, direction) -> None:
        """``x += step_size * direction``, the flat direction split over the parameters."""
        offset = 0
        for param in self._params:
            size = param._data.size
            param._data += step_size * direction[offset:offset + size].reshape(param.shape)
            bump_version(param)
            offset += size

    def _set(self, values) -> None:
        for param, value in zip(self._params, values):
            param._data[...] = value
            bump_version(param)

    def step(self, closure: Callable[[], Tensor]):
        """Run up to ``max_iter`` iterations; return the loss of the closure's first call.

        Args:
            closure: zeroes the gradients, computes the loss, calls ``backward`` and returns
                the loss.
        """
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        if line_search_fn not in (None, "strong_wolfe"):
            raise RuntimeError("only 'strong_wolfe' is supported")

        def evaluate():
            with enable_grad():
                return closure()

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        first_loss = evaluate()
        loss = float(first_loss)
        evaluations = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if abs(flat_grad).max() <= tolerance_grad:
            return first_loss

        # Scalars stay 0-d arrays of the parameters' dtype, rounded as PyTorch's 0-d tensors.
        d, t = _array(state.get("d")), _array(state.get("t"))
        old_dirs = [_array(y) for y in state.get("old_dirs", [])]
        old_stps = [_array(s) for s in state.get("old_stps", [])]
        ro = [_array(r) for r in state.get("ro", [])]
        h_diag = _array(state.get("H_diag"))
        prev_flat_grad, prev_loss = _array(state.get("prev_flat_grad")), state.get("prev_loss")

        iteration = 0
        while iteration < max_iter:
            iteration += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, h_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:  # keep the pair only while the curvature estimate is positive
                    if len(old_dirs) == history_size:
                        del old_dirs[0], old_stps[0], ro[0]
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y)
                # The two-loop recursion: d = -H g without forming H.
                alphas = [None] * len(old_dirs)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    alphas[i] = old_stps[i].dot(q) * ro[i]
                    q = q - alphas[i] * old_dirs[i]
                d = q * h_diag
                for i in range(len(old_dirs)):
                    beta = old_dirs[i].dot(d) * ro[i]
                    d += (alphas[i] - beta) * old_stps[i]
                state["al"] = [_tensor(a) for a in alphas] + [None] * (history_size - len(alphas))
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            # The first step is scaled down by the gradient's size; later ones trust H.
            t = min(1.0, 1.0 / abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:  # not a descent direction any more
                break

            step_evaluations = 0
            if line_search_fn is not None:
                start = [param._data.copy() for param in self._params]

                def along(step_size, d=d, start=start):
                    self._move(step_size, d)
                    value = float(evaluate())
                    gradient = self._flat_grad()
                    self._set(start)
                    return value, gradient

                loss, flat_grad, t, step_evaluations = _strong_wolfe(
                    along, t, d, loss, flat_grad, gtd, max_ls=max_eval - evaluations)
                self._move(t, d)
                converged = abs(flat_grad).max() <= tolerance_grad
            else:
                self._move(t, d)
                converged = False
                if iteration != max_iter:
                    loss = float(evaluate())
                    flat_grad = self._flat_grad()
                    converged = abs(flat_grad).max() <= tolerance_grad
                    step_evaluations = 1
            evaluations += step_evaluations
            state["func_evals"] += step_evaluations

            if iteration == max_iter or evaluations >= max_eval or converged:
                break
            if abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break

        state["d"], state["t"] = _tensor(d), _tensor(t)
        state["old_dirs"] = [_tensor(y) for y in old_dirs]
        state["old_stps"] = [_tensor(s) for s in old_stps]
        state["ro"] = [_tensor(r) for r in ro]
        state["H_diag"] = _tensor(h_diag)
        state["prev_flat_grad"] = _tensor(prev_flat_grad)
        state["prev_loss"] = prev_loss
        return first_loss

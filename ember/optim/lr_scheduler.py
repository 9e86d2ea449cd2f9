"""Learning-rate schedulers: each ``step()`` sets ``group["lr"]`` of every parameter group.

A scheduler is called once per epoch (or per batch, for OneCycleLR) *after* the optimizer's
``step``. Most schedules are written in PyTorch's chainable form: the new rate is computed from
the rate currently in the group, so that two schedulers on one optimizer compose. The
numbers, including their floating-point rounding, follow PyTorch's formulas.
"""

import math
import types
import warnings
from bisect import bisect_right
from collections import Counter
from typing import Callable, Iterable, List, Sequence, Union

from .optimizer import Optimizer

_EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if "
    "epoch is different from None, the closed form is used instead of the new chainable form, "
    "where available.")

_ORDER_WARNING = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. You should call them in "
    "the opposite order: `optimizer.step()` before `lr_scheduler.step()`.  Failure to do this "
    "will result in skipping the first value of the learning rate schedule.")


def _check_optimizer(optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _per_group(name: str, optimizer: Optimizer, value) -> list:
    """One value per parameter group: ``value`` repeated, or a list checked for its length."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"expected {len(optimizer.param_groups)} values for {name}, "
                             f"got {len(value)}")
        return list(value)
    return [value] * len(optimizer.param_groups)


class LRScheduler:
    """Base class of learning-rate schedulers.

    Subclasses implement ``get_lr``, the rates for the epoch ``self.last_epoch`` just reached,
    and may implement ``_get_closed_form_lr`` for the deprecated ``step(epoch)``. Creating a
    scheduler records each group's starting rate as ``group["initial_lr"]`` and takes the first
    step, to epoch 0.

    Args:
        optimizer: the optimizer whose learning rates this scheduler sets.
        last_epoch: index of the last epoch seen; -1 (the default) starts a new schedule. Other
            values resume one, and need ``"initial_lr"`` in every group.

    Attributes:
        base_lrs: each group's ``initial_lr``.
        last_epoch: the epoch count, 0 after construction.

    Example:
        >>> import ember
        >>> w = ember.ones(1, requires_grad=True)
        >>> opt = ember.optim.SGD([w], lr=1.0)
        >>> scheduler = ember.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        >>> rates = []
        >>> for epoch in range(5):
        ...     opt.step()
        ...     rates.append(scheduler.get_last_lr()[0])
        ...     scheduler.step()
        >>> rates
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for index, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in "
                                   f"param_groups[{index}] when resuming scheduler with "
                                   "last_epoch >= 0")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        # The optimizer records its steps from here, to notice a scheduler stepped before it.
        optimizer._opt_called = False
        self._step_count = 0
        # The first step only reaches the starting epoch: the chainable forms of some schedules
        # must leave the rates as they are then, also when resuming from a later epoch.
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self) -> List[float]:
        """The learning rate of each group for epoch ``self.last_epoch``."""
        raise NotImplementedError

    def get_last_lr(self) -> List[float]:
        """The learning rates the last ``step`` set, one per parameter group."""
        return self._last_lr

    def step(self, epoch: Union[int, None] = None) -> None:
        """Advance one epoch and set each group's learning rate.

        Args:
            epoch: deprecated; jump to this epoch, using the closed form where there is one.
        """
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", True):
            warnings.warn(_ORDER_WARNING, UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            rates = self.get_lr()
        else:
            warnings.warn(_EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            rates = closed_form() if closed_form is not None else self.get_lr()
        for group, rate in zip(self.optimizer.param_groups, rates):
            group["lr"] = rate
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Every attribute except the optimizer (save the optimizer's state separately)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the attributes saved by ``state_dict``."""
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    ``lr = initial_lr * gamma ** (epoch // step_size)``.

    Args:
        optimizer: the optimizer whose learning rates this scheduler sets.
        step_size: epochs between two decays.
        gamma: multiplicative factor of each decay.
        last_epoch: index of the last epoch seen (-1 starts a new schedule).

    Example:
        >>> import ember
        >>> opt = ember.optim.SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> scheduler = ember.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.1)
        >>> for epoch in range(3):
        ...     opt.step()
        ...     scheduler.step()
        >>> scheduler.get_last_lr()
        [0.1]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        decay = self.last_epoch != 0 and self.last_epoch % self.step_size == 0
        return [group["lr"] * self.gamma if decay else group["lr"]
                for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> List[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size)
                for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each milestone epoch.

    A milestone listed twice decays twice.

    Args:
        optimizer: the optimizer whose learning rates this scheduler sets.
        milestones: epochs at which to decay.
        gamma: multiplicative factor of each decay.
        last_epoch: index of the last epoch seen (-1 starts a new schedule).

    Example:
        >>> import ember
        >>> opt = ember.optim.SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> scheduler = ember.optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
        >>> rates = []
        >>> for epoch in range(4):
        ...     opt.step()
        ...     scheduler.step()
        ...     rates.append(scheduler.get_last_lr()[0])
        >>> rates
        [0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        if self.last_epoch not in self.milestones:
            return [group["lr"] for group in self.optimizer.param_groups]
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> List[float]:
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base_lr * self.gamma ** passed for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch: ``lr = initial_lr * gamma ** epoch``.

    Args:
        optimizer: the optimizer whose learning rates this scheduler sets.
        gamma: multiplicative factor per epoch.
        last_epoch: index of the last epoch seen (-1 starts a new schedule).

    Example:
        >>> import ember
        >>> opt = ember.optim.SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> scheduler = ember.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        >>> opt.step()
        >>> scheduler.step()
        >>> scheduler.get_last_lr()
        [0.5]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> List[float]:
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Anneal the learning rate along a half cosine from ``initial_lr`` to ``eta_min``.

    The closed form is ``eta_min + (initial_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2`` at
    epoch ``t``; after ``T_max`` epochs the rate climbs back along the cosine. Like PyTorch, each
    step applies the recursive form::

        lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi * t / T_max))
                                              / (1 + cos(pi * (t - 1) / T_max))

    so that a change made to ``group["lr"]`` by something else carries through.

    Args:
        optimizer: the optimizer whose learning rates this scheduler sets.
        T_max: epochs of one half period.
        eta_min: the lowest learning rate.
        last_epoch: index of the last epoch seen (-1 starts a new schedule).

    Example:
        >>> import ember
        >>> opt = ember.optim.SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> scheduler = ember.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)
        >>> for epoch in range(2):
        ...     opt.step()
        ...     scheduler.step()
        >>> scheduler.get_last_lr()
        [0.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        groups = self.optimizer.param_groups
        epoch, period, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return [group["lr"] for group in groups]
        if (epoch - 1 - period) % (2 * period) == 0:
            # Leaving the trough: the recursive ratio would divide by 1 + cos(pi) = 0, so add
            # the closed form's first increment instead.
            return [group["lr"] + (base_lr - eta_min) * (1 - math.cos(math.pi / period)) / 2
                    for base_lr, group in zip(self.base_lrs, groups)]
        ratio = ((1 + math.cos(math.pi * epoch / period))
                 / (1 + math.cos(math.pi * (epoch - 1) / period)))
        return [ratio * (group["lr"] - eta_min) + eta_min for group in groups]

    def _get_closed_form_lr(self) -> List[float]:
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class LambdaLR(LRScheduler):
    """Set the learning rate to ``initial_lr * lr_lambda(epoch)``.

    Args:
        optimizer: the optimizer whose learning rates this scheduler sets.
        lr_lambda: a function of the epoch returning a factor, or a list with one per group.
        last_epoch: index of the last epoch seen (-1 starts a new schedule).

    Example:
        >>> import ember
        >>> opt = ember.optim.SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> scheduler = ember.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (epoch + 1))
        >>> opt.step()
        >>> scheduler.step()
        >>> scheduler.get_last_lr()
        [0.5]
    """

    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Union[Callable[[int], float], Sequence[Callable[[int], float]]],
                 last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got "
                                 f"{len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        return [base_lr * lr_lambda(self.last_epoch)
                for lr_lambda, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict:
        """The scheduler's attributes; of the lambdas, only callable objects' attributes.

        Functions and lambdas cannot be saved; they are stored as None and the ones given to the
        constructor stay in place when loading.
        """
        state = {key: value for key, value in self.__dict__.items()
                 if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else fn.__dict__.copy()
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the attributes saved by ``state_dict``, and those of callable objects."""
        state = dict(state_dict)
        saved_lambdas = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, saved_lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith and Topin, 2017), stepped after every batch.

    The learning rate rises from ``max_lr / div_factor`` to ``max_lr`` over the first
    ``pct_start`` of ``total_steps``, then anneals to ``initial_lr / final_div_factor``; the
    momentum (or Adam's beta1) moves the opposite way, between ``max_momentum`` and
    ``base_momentum``. With ``three_phase``, the rate first returns to ``initial_lr``
    symmetrically and only then anneals to the minimum. Each phase interpolates along a half
    cosine (``anneal_strategy="cos"``) or a line (``"linear"``).

    Args:
        optimizer: the optimizer whose learning rates this scheduler sets.
        max_lr: the peak learning rate (or one per group).
        total_steps: the number of steps in the cycle; or give ``epochs`` and
            ``steps_per_epoch``.
        epochs, steps_per_epoch: their product is ``total_steps`` when that is None.
        pct_start: fraction of the cycle spent increasing the learning rate.
        anneal_strategy: ``"cos"`` or ``"linear"``.
        cycle_momentum: cycle the momentum (or beta1) inversely to the learning rate.
        base_momentum, max_momentum: the momentum's range (or one value per group).
        div_factor: ``initial_lr = max_lr / div_factor``.
        final_div_factor: ``min_lr = initial_lr / final_div_factor``.
        three_phase: use the three-phase schedule described above.
        last_epoch: index of the last step taken (-1 starts a new schedule).

    Example:
        >>> import ember
        >>> opt = ember.optim.SGD([ember.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
        >>> scheduler = ember.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
        >>> rates = []
        >>> for batch in range(10):
        ...     opt.step()
        ...     rates.append(round(scheduler.get_last_lr()[0], 4))
        ...     scheduler.step()
        >>> rates
        [0.04, 0.52, 1.0, 0.9505, 0.8117, 0.6113, 0.3887, 0.1883, 0.0495, 0.0]
    """

    def __init__(self, optimizer: Optimizer, max_lr: Union[float, List[float]],
                 total_steps: Union[int, None] = None, epochs: Union[int, None] = None,
                 steps_per_epoch: Union[int, None] = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: Union[float, List[float]] = 0.85,
                 max_momentum: Union[float, List[float]] = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer

        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError("Expected positive integer steps_per_epoch, but got "
                                 f"{steps_per_epoch}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")

        # Each phase runs until step ``end_step`` between two group entries named here.
        warmup_end = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                self._phase(warmup_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                self._phase(float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                            "base_momentum", "max_momentum"),
                self._phase(self.total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                            "max_momentum"),
            ]
        else:
            self._schedule_phases = [
                self._phase(warmup_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                self._phase(self.total_steps - 1, "max_lr", "min_lr", "base_momentum",
                            "max_momentum"),
            ]
        self._anneal_func_type = anneal_strategy

        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, group_max_lr in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = group_max_lr / div_factor
                group["max_lr"] = group_max_lr
                group["min_lr"] = group["initial_lr"] / final_div_factor

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("optimizer must support momentum or beta1 with "
                                 "`cycle_momentum` option enabled")
            self.use_beta1 = "betas" in optimizer.defaults
            max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for group, group_max, group_base in zip(optimizer.param_groups, max_momentums,
                                                        base_momentums):
                    self._set_momentum(group, group_max)
                    group["max_momentum"] = group_max
                    group["base_momentum"] = group_base
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _phase(end_step: float, start_lr: str, end_lr: str, start_momentum: str,
               end_momentum: str) -> dict:
        return {"end_step": end_step, "start_lr": start_lr, "end_lr": end_lr,
                "start_momentum": start_momentum, "end_momentum": end_momentum}

    def _set_momentum(self, group: dict, momentum: float) -> None:
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def _anneal(self, start: float, end: float, pct: float) -> float:
        """The value ``pct`` of the way from ``start`` to ``end``."""
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> List[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps "
                             f"is {self.total_steps}")
        rates = []
        for group in self.optimizer.param_groups:
            # Find the phase this step is in; steps past the end stay in the last phase.
            start_step = 0.0
            for index, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step <= end_step or index == len(self._schedule_phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    break
                start_step = end_step
            rates.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                self._set_momentum(group, self._anneal(group[phase["start_momentum"]],
                                                       group[phase["end_momentum"]], pct))
        return rates

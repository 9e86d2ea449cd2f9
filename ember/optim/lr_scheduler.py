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


def _check_schedulers(name: str, schedulers, optimizer: Optimizer) -> None:
    """SequentialLR's and ChainedScheduler's check of the schedulers they drive: each one an
    LR scheduler of ``optimizer`` that steps without arguments (so not ReduceLROnPlateau)."""
    for index, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{name} at index {index} should have `optimizer` as its "
                            "attribute.")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"{name} does not support `ReduceLROnPlateau` scheduler as it "
                             "requires additional kwargs to be specified when calling "
                             f"`step`, but got one at index {index} in the given "
                             "schedulers sequence.")
        if scheduler.optimizer is not optimizer:
            raise ValueError(f"{name} expects all schedulers to belong to the same "
                             f"optimizer, but got scheduler {type(scheduler).__name__} at "
                             f"index {index} has {scheduler.optimizer}, which is different "
                             f"from {type(optimizer).__name__}.")


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
        self._initial_step()

    def _initial_step(self) -> None:
        """The step that reaches the starting epoch (SequentialLR repeats it at a milestone)."""
        self._step_count = 0
        # The chainable forms of some schedules must leave the rates as they are then, also
        # when resuming from a later epoch.
        self._is_initial = True
        try:
            self.step()
        finally:
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
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: Union[int, None] = None) -> None:
        """Set the rates for the next epoch, or for ``epoch`` by the closed form."""
        if epoch is None:
            self.last_epoch += 1
            rates = self.get_lr()
        else:
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


class ConstantLR(LRScheduler):
    """Multiply the learning rate by ``factor`` for the first ``total_iters`` epochs.

    Args:
        optimizer: the optimizer whose learning rates this scheduler sets.
        factor: the multiplier until epoch ``total_iters``, in [0, 1].
        total_iters: epochs with the reduced rate.
        last_epoch: index of the last epoch seen (-1 starts a new schedule).

    Example:
        >>> import ember
        >>> opt = ember.optim.SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> scheduler = ember.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=2)
        >>> rates = []
        >>> for epoch in range(3):
        ...     rates.append(scheduler.get_last_lr()[0])
        ...     opt.step()
        ...     scheduler.step()
        >>> rates
        [0.5, 0.5, 1.0]
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        rates = [group["lr"] for group in self.optimizer.param_groups]
        if self.last_epoch == 0:
            return [rate * self.factor for rate in rates]
        if self.last_epoch != self.total_iters:
            return rates
        return [rate * (1.0 / self.factor) for rate in rates]

    def _get_closed_form_lr(self) -> List[float]:
        reached = self.last_epoch >= self.total_iters
        return [base_lr * (self.factor + reached * (1 - self.factor))
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the learning rate by a factor that moves linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` epochs, then stays (a warm-up, typically).

    Args:
        optimizer: the optimizer whose learning rates this scheduler sets.
        start_factor: the multiplier at epoch 0, in (0, 1].
        end_factor: the multiplier from epoch ``total_iters`` on, in [0, 1].
        total_iters: epochs of the linear change.
        last_epoch: index of the last epoch seen (-1 starts a new schedule).

    Example:
        >>> import ember
        >>> opt = ember.optim.SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> scheduler = ember.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=3)
        >>> rates = []
        >>> for epoch in range(5):
        ...     rates.append(scheduler.get_last_lr()[0])
        ...     opt.step()
        ...     scheduler.step()
        >>> rates
        [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and "
                             "less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        rates = [group["lr"] for group in self.optimizer.param_groups]
        if self.last_epoch == 0:
            return [rate * self.start_factor for rate in rates]
        if self._is_initial or self.last_epoch > self.total_iters:
            return rates
        # The chainable form: the ratio of this epoch's factor to the previous one's.
        change = self.end_factor - self.start_factor
        ratio = 1.0 + change / (self.total_iters * self.start_factor
                                + (self.last_epoch - 1) * change)
        return [rate * ratio for rate in rates]

    def _get_closed_form_lr(self) -> List[float]:
        progress = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)
                for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay the learning rate to 0 over ``total_iters`` epochs along a polynomial:
    ``lr = initial_lr * (1 - epoch / total_iters) ** power``.

    Args:
        optimizer: the optimizer whose learning rates this scheduler sets.
        total_iters: epochs until the rate reaches 0.
        power: the polynomial's power.
        last_epoch: index of the last epoch seen (-1 starts a new schedule).

    Example:
        >>> import ember
        >>> opt = ember.optim.SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> scheduler = ember.optim.lr_scheduler.PolynomialLR(opt, total_iters=4)
        >>> opt.step()
        >>> scheduler.step()
        >>> scheduler.get_last_lr()
        [0.75]
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        rates = [group["lr"] for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return rates
        factor = ((1.0 - self.last_epoch / self.total_iters)
                  / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return [rate * factor for rate in rates]

    def _get_closed_form_lr(self) -> List[float]:
        remaining = 1.0 - min(self.total_iters, self.last_epoch) / self.total_iters
        return [base_lr * remaining ** self.power for base_lr in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing from ``initial_lr`` to ``eta_min`` that restarts every ``T_i`` epochs
    (SGDR, Loshchilov and Hutter, 2017), each period ``T_mult`` times the last.

    ``lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``, with
    ``T_cur`` the epochs since the last restart. ``step(epoch)`` accepts a fractional epoch, to
    anneal within an epoch: ``scheduler.step(epoch + batch / batches)``.

    Args:
        optimizer: the optimizer whose learning rates this scheduler sets.
        T_0: epochs until the first restart.
        T_mult: factor by which each period is longer than the last (an int >= 1).
        eta_min: the smallest learning rate.
        last_epoch: index of the last epoch seen (-1 starts a new schedule).

    Example:
        >>> import ember
        >>> opt = ember.optim.SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> scheduler = ember.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2)
        >>> rates = []
        >>> for epoch in range(4):
        ...     rates.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> rates
        [1.0, 0.5, 1.0, 0.5]
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type "
                             f"{type(eta_min)}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self, epoch: Union[float, None] = None) -> None:
        """Advance one epoch, or go to ``epoch`` (which may be fractional).

        As in PyTorch, this schedule neither counts its steps nor warns about their order.
        """
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        elif epoch < 0:
            raise ValueError(f"Expected non-negative epoch, but got {epoch}")
        elif epoch < self.T_0:
            self.T_i, self.T_cur = self.T_0, epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            # Periods T_0, T_0 m, T_0 m^2, ...: n whole periods end at T_0 (m^n - 1) / (m - 1).
            n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult ** n
        self.last_epoch = math.floor(epoch)
        for group, rate in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = rate
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another, switching at each epoch in ``milestones``.

    At a milestone the next scheduler starts again from its first epoch. The schedulers must
    all belong to ``optimizer``; ReduceLROnPlateau cannot be one of them.

    Args:
        optimizer: the optimizer of every scheduler.
        schedulers: the schedulers, in order.
        milestones: the epochs at which to switch, one fewer than the schedulers.
        last_epoch: index of the last epoch seen (-1 starts a new schedule).

    Example:
        >>> import ember
        >>> from ember.optim import lr_scheduler
        >>> opt = ember.optim.SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> warmup = lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
        >>> decay = lr_scheduler.ExponentialLR(opt, gamma=0.5)
        >>> scheduler = lr_scheduler.SequentialLR(opt, [warmup, decay], milestones=[2])
        >>> rates = []
        >>> for epoch in range(5):
        ...     rates.append(scheduler.get_last_lr()[0])
        ...     opt.step()
        ...     scheduler.step()
        >>> rates
        [0.5, 0.75, 1.0, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, schedulers: List[LRScheduler],
                 milestones: List[int], last_epoch: int = -1) -> None:
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler, but got no scheduler.")
        _check_schedulers(name, schedulers, optimizer)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError("Sequential Schedulers expects number of schedulers provided to be "
                             "one more than the number of milestone points, but got number of "
                             f"schedulers {len(schedulers)} and the number of milestones to be "
                             f"equal to {len(milestones)}")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # Each scheduler's construction took a step: undo them, then start the first one.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in schedulers:
            scheduler.last_epoch -= 1
        first = schedulers[bisect_right(milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        """Advance one epoch with the scheduler whose turn it is."""
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)  # its turn begins: from its own epoch 0
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict:
        """The attributes, with each scheduler's own state dict in ``"_schedulers"``."""
        state = {key: value for key, value in self.__dict__.items()
                 if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the attributes and every scheduler's state."""
        saved = {key: value for key, value in state_dict.items() if key != "_schedulers"}
        self.__dict__.update(saved)
        for scheduler, state in zip(self._schedulers, state_dict["_schedulers"]):
            scheduler.load_state_dict(state)


class ReduceLROnPlateau(LRScheduler):
    """Reduce the learning rate by ``factor`` when a metric has stopped improving.

    ``step(metric)`` is called with the metric (a validation loss, say) after each epoch. When
    more than ``patience`` epochs in a row bring no improvement beyond ``threshold``, each
    group's rate becomes ``max(lr * factor, min_lr)``; then ``cooldown`` epochs pass before
    bad epochs count again.

    Args:
        optimizer: the optimizer whose learning rates this scheduler sets.
        mode: ``'min'`` (the metric should fall) or ``'max'`` (it should rise).
        factor: multiplier of each reduction, below 1.
        patience: bad epochs tolerated before a reduction.
        threshold: the improvement that counts.
        threshold_mode: ``'rel'`` (``best * (1 - threshold)`` in min mode) or ``'abs'``
            (``best - threshold``).
        cooldown: epochs to wait after a reduction.
        min_lr: the lowest rate, one for all groups or one per group.
        eps: reductions smaller than this are skipped.

    Example:
        >>> import ember
        >>> opt = ember.optim.SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> scheduler = ember.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1)
        >>> for loss in [1.0, 0.5, 0.6, 0.7, 0.8]:
        ...     opt.step()
        ...     scheduler.step(loss)
        >>> scheduler.get_last_lr()
        [0.1]
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: Union[List[float], float] = 0,
                 eps: float = 1e-8) -> None:
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        self.factor = factor
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"expected {len(optimizer.param_groups)} min_lrs, got "
                                 f"{len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode} is unknown!")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _is_better(self, current: float, best: float) -> bool:
        """Whether ``current`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            bound = best * (1.0 - self.threshold) if self.threshold_mode == "rel" \
                else best - self.threshold
            return current < bound
        bound = best * (self.threshold + 1.0) if self.threshold_mode == "rel" \
            else best + self.threshold
        return current > bound

    def step(self, metrics, epoch: Union[int, None] = None) -> None:
        """Record this epoch's metric; reduce the rates after ``patience`` bad epochs."""
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(_EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the `optimizer` ({len(groups)}) differs "
                    f"from when `ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), "
                    "usually due to a new param group being added to the optimizer. Please "
                    "modify the `min_lrs` field to match the length of the `optimizer` param "
                    "groups.")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr


class MultiplicativeLR(LambdaLR):
    """Multiply the learning rate by ``lr_lambda(epoch)`` at every epoch (after the first).

    Args:
        optimizer: the optimizer whose learning rates this scheduler sets.
        lr_lambda: a function of the epoch returning a factor, or a list with one per group.
        last_epoch: index of the last epoch seen (-1 starts a new schedule).

    Example:
        >>> import ember
        >>> opt = ember.optim.SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> scheduler = ember.optim.lr_scheduler.MultiplicativeLR(opt, lambda epoch: 0.5)
        >>> for epoch in range(2):
        ...     opt.step()
        ...     scheduler.step()
        >>> scheduler.get_last_lr()
        [0.25]
    """

    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Union[Callable[[int], float], Sequence[Callable[[int], float]]],
                 last_epoch: int = -1) -> None:
        for fn in lr_lambda if isinstance(lr_lambda, (list, tuple)) else [lr_lambda]:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, lr_lambda, last_epoch)

    def get_lr(self) -> List[float]:
        rates = [group["lr"] for group in self.optimizer.param_groups]
        if self._is_initial:
            return rates
        return [rate * fn(self.last_epoch) for fn, rate in zip(self.lr_lambdas, rates)]


class ChainedScheduler(LRScheduler):
    """Step several schedulers of one optimizer together, each applying its change to the
    rates the previous ones set (their chainable forms compose).

    Example:
        >>> import ember
        >>> from ember.optim import lr_scheduler
        >>> opt = ember.optim.SGD([ember.ones(1, requires_grad=True)], lr=1.0)
        >>> scheduler = lr_scheduler.ChainedScheduler([
        ...     lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=2),
        ...     lr_scheduler.ExponentialLR(opt, gamma=0.9)])
        >>> opt.step()
        >>> scheduler.step()
        >>> [round(rate, 4) for rate in scheduler.get_last_lr()]
        [0.45]
    """

    def __init__(self, schedulers: Sequence[LRScheduler],
                 optimizer: Union[Optimizer, None] = None) -> None:
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler to be chained, but got no "
                             "scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        _check_schedulers(name, schedulers, optimizer)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def step(self) -> None:
        """Step every scheduler, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    state_dict = SequentialLR.state_dict
    load_state_dict = SequentialLR.load_state_dict


class CyclicLR(LRScheduler):
    """Cycle the learning rate between ``base_lr`` and ``max_lr`` (Smith, 2017), stepped
    after every batch; the momentum (or Adam's beta1) cycles the opposite way.

    Each cycle rises for ``step_size_up`` steps and falls for ``step_size_down``. ``mode``
    scales the amplitude per cycle: ``'triangular'`` keeps it, ``'triangular2'`` halves it
    each cycle, ``'exp_range'`` multiplies it by ``gamma ** step``; or ``scale_fn`` (of the
    cycle number, or of the step with ``scale_mode='iterations'``) does.

    Example:
        >>> import ember
        >>> opt = ember.optim.SGD([ember.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
        >>> scheduler = ember.optim.lr_scheduler.CyclicLR(opt, 0.1, 0.5, step_size_up=2)
        >>> rates = []
        >>> for batch in range(5):
        ...     rates.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> rates
        [0.1, 0.3, 0.5, 0.3, 0.1]
    """

    def __init__(self, optimizer: Optimizer, base_lr: Union[float, List[float]],
                 max_lr: Union[float, List[float]], step_size_up: int = 2000,
                 step_size_down: Union[int, None] = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Union[Callable[[float], float], None] = None,
                 scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum: float = 0.8, max_momentum: float = 0.9,
                 last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for rate, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = rate
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else \
            {"triangular": "cycle", "triangular2": "cycle", "exp_range": "iterations"}[mode]
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("optimizer must support momentum or beta1 with "
                                 "`cycle_momentum` option enabled")
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            self.max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            if last_epoch == -1:
                for group, group_max, group_base in zip(optimizer.param_groups,
                                                        self.max_momentums,
                                                        self.base_momentums):
                    self._set_momentum(group, group_max)
                    group["max_momentum"] = group_max
                    group["base_momentum"] = group_base
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    _set_momentum = OneCycleLR._set_momentum

    def scale_fn(self, x: float) -> float:
        """The amplitude's factor for cycle (or step) ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self) -> List[float]:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        rates = [base_lr + (max_lr - base_lr) * scale_factor * scale
                 for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, base, top in zip(self.optimizer.param_groups, self.base_momentums,
                                        self.max_momentums):
                self._set_momentum(group, top - (top - base) * scale_factor * scale)
        return rates

    def state_dict(self) -> dict:
        """The attributes; a custom ``scale_fn`` only if it is a callable object."""
        state = {key: value for key, value in self.__dict__.items()
                 if key not in ("optimizer", "_scale_fn_custom")}
        fn = self._scale_fn_custom
        state["_scale_fn_custom"] = None if fn is None or isinstance(fn, types.FunctionType) \
            else fn.__dict__.copy()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the attributes, and those of a callable ``scale_fn`` object."""
        state = dict(state_dict)
        saved_fn = state.pop("_scale_fn_custom")
        self.__dict__.update(state)
        if saved_fn is not None:
            self._scale_fn_custom.__dict__.update(saved_fn)

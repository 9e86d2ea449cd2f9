"""Optimizer: the base class that holds parameter groups and per-parameter state.

A subclass passes its hyperparameters as ``defaults`` and implements ``step``, which reads each
parameter's ``.grad`` and updates the parameter's array in place. Everything else lives here:
parameter groups (each with its own hyperparameters), the ``state`` dictionary keyed by
parameter, ``zero_grad``, and saving and restoring with ``state_dict``/``load_state_dict`` in
PyTorch's layout.
"""

import functools
import warnings
from collections import defaultdict
from copy import deepcopy
from itertools import chain
from typing import Any, Callable, Iterable, Iterator, Optional, Tuple

import numpy as np

from .. import _C, _backend, _dtype, _recording
from .._tensor import Tensor, type_name
from ..autograd.function import QUIET, numpy_errors
from ..autograd.grad_mode import enable_grad


class _RequiredParameter:
    """Marks a hyperparameter in ``defaults`` that every parameter group must set itself."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj) -> str:
    """The type name PyTorch's messages use: ``ember.FloatTensor`` for tensors, else the class."""
    if isinstance(obj, Tensor):
        return type_name(obj)
    cls = type(obj)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _marks_step_called(step: Callable) -> Callable:
    """Wrap a subclass's ``step`` so that learning-rate schedulers can tell it has run."""

    @functools.wraps(step)
    def step_and_mark(self, *args, **kwargs):
        # ember.compile replays the whole update as one
        if _recording.recorder is not None and _recording.here():
            return _recording.recorder.call(step_and_mark, self, *args, **kwargs)
        self._opt_called = True
        for group in self.param_groups:
            # A NumPy float64 rate (a scheduler's lambda using np.cos) would make NumPy compute
            # the update in float64 (NEP 50), not in the parameters' float32 as PyTorch does.
            if isinstance(group.get("lr"), np.floating):
                group["lr"] = float(group["lr"])
        token = numpy_errors.set(QUIET)  # an update that overflows gives inf, silently
        try:
            return step(self, *args, **kwargs)
        finally:
            numpy_errors.reset(token)

    return step_and_mark


def _check_non_negative(description: str, value: float) -> None:
    """PyTorch's ValueError for a hyperparameter below zero: ``Invalid <description>: <value>``."""
    if value < 0.0:
        raise ValueError(f"Invalid {description}: {value}")


def _check_adam_hyperparameters(lr: float, eps: float, betas, weight_decay: float) -> None:
    """The checks Adam and its variants share, in PyTorch's order: ValueErrors for a negative
    rate, epsilon or weight decay, and for a beta outside ``[0, 1)`` (naming its index)."""
    _check_non_negative("learning rate", lr)
    _check_non_negative("epsilon value", eps)
    for index, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
    _check_non_negative("weight_decay value", weight_decay)


def _lerp(start, end, weight: float) -> None:
    """``start += weight * (end - start)`` in place, rounded as PyTorch's ``lerp_`` rounds:
    from the nearer end, so that the result is exact at ``weight`` 0 and 1."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


def _gradients(group: dict, weight_decay: float) -> Iterator[Tuple[Tensor, Any, Any]]:
    """``(param, xp, grad)`` for each parameter of ``group`` that has a gradient.

    ``grad`` is the array a step descends along, after the first lines every algorithm shares::

        if maximize:          g_t = -g_t
        if weight_decay != 0: g_t = g_t + weight_decay * theta     (an L2 penalty)

    Each makes a new array, so ``param.grad`` is never changed; without them ``grad`` is
    ``param.grad``'s own array, to read but not to write. ``xp`` is the parameter's array module.
    """
    maximize = group["maximize"]
    for param in group["params"]:
        if param._grad is None:  # _grad: parameters are leaves, no warning to give
            continue
        grad = param._grad._data
        if maximize:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * param._data
        yield param, _backend.array_module(param._data), grad


def compiled_update_applies(params: list, states: list) -> bool:
    """Whether an optimizer's compiled kernel (ember/_C) can update ``params`` in one call:
    the extension is built, and every parameter, its gradient and each state tensor in
    ``states`` (None entries are new state the caller will create) are C-contiguous NumPy
    arrays of one float dtype, float32 or float64. Otherwise the optimizer runs its NumPy code.
    """
    if _C.kernels is None or not params:
        return False
    dtype = params[0]._data.dtype
    if dtype != np.float32 and dtype != np.float64:
        return False
    arrays = [param._data for param in params]
    arrays += [param._grad._data for param in params]
    arrays += [state._data for state in states if state is not None]
    # A plain loop, each array's flags read once: this runs at every step, over every
    # parameter, gradient and state array (a generator under all() costs twice as much, and
    # so do maps of attrgetters). Dtypes by identity first: arrays of one dtype almost always
    # share the very dtype object, and ``!=`` on dtypes costs three times as much.
    ndarray = np.ndarray
    for array in arrays:
        if type(array) is not ndarray or array.dtype is not dtype and array.dtype != dtype:
            return False
        flags = array.flags
        if not (flags.c_contiguous and flags.writeable):
            return False
    return True


def compiled_counters_apply(counters: list) -> bool:
    """Whether a compiled optimizer kernel can advance these step counters (None entries are
    new ones the caller will create): each is a one-element NumPy float32 or float64 array."""
    return all(c is None or (type(c._data) is np.ndarray and c._data.size == 1
                             and c._data.dtype.char in "fd" and c._data.flags.writeable)
               for c in counters)


def _new_step_tensor() -> Tensor:
    """A 0-d step counter on the CPU, as PyTorch keeps it: reading it never syncs a GPU."""
    return Tensor._wrap(np.zeros((), dtype=_dtype.get_default_dtype().numpy))


def _zeros_state(param: Tensor) -> Tensor:
    """A new running buffer of ``param``'s state: zeros of its shape and dtype, on its device."""
    return Tensor._wrap(_backend.array_module(param._data).zeros_like(param._data))


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts, each dict one
            parameter group: ``{"params": [...], "lr": ...}`` with hyperparameters overriding
            ``defaults`` for that group.
        defaults: the hyperparameters of groups that do not set their own.

    Attributes:
        param_groups: list of dicts, each with ``"params"`` (a list of tensors) and every
            hyperparameter of the optimizer.
        state: per-parameter state (momentum buffers, running averages), a dict of dicts keyed
            by the parameter tensor.

    Example:
        >>> import ember
        >>> w = ember.ones(2, requires_grad=True)
        >>> b = ember.zeros(1, requires_grad=True)
        >>> opt = ember.optim.SGD([{"params": [w]}, {"params": [b], "lr": 1.0}], lr=0.1)
        >>> [group["lr"] for group in opt.param_groups]
        [0.1, 1.0]
    """

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        # Every optimizer's step records that it ran, so that a scheduler stepped first can warn
        # (that order skips the schedule's first learning rate).
        if "step" in cls.__dict__:
            cls.step = _marks_step_called(cls.__dict__["step"])

    def __init__(self, params: Iterable, defaults: dict) -> None:
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_typename(params)}")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (e.g. a layer to fine-tune).

        Hyperparameters the group does not set are taken from ``defaults``. The dict itself
        becomes the group, as in PyTorch.

        Args:
            param_group: ``{"params": tensors or (name, tensor) pairs, **hyperparameters}``.

        Raises:
            TypeError: ``param_group`` is not a dict, its params are a set, or one is no tensor.
            ValueError: a parameter is not a leaf, is already in another group, a required
                hyperparameter is missing, or groups mix named and unnamed parameters.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)

        named = [isinstance(param, tuple) for param in params]
        if any(named):
            if not all(named):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = [name for name, _ in params]
            params = [param for _, param in params]
        param_group["params"] = params

        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        if len({id(param) for param in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)

        if self.param_groups:
            groups_named = "param_names" in self.param_groups[0]
            if groups_named != ("param_names" in param_group):
                which = "without" if groups_named else "with"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} names to the optimizer")

        seen = {id(param) for group in self.param_groups for param in group["params"]}
        if any(id(param) in seen for param in params):
            raise ValueError("some parameters appear in more than one parameter group")

        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters.

        Args:
            set_to_none: drop the gradients (``p.grad = None``, the default: saves memory and
                lets ``step`` skip parameters that get no gradient) instead of filling them
                with zeros.
        """
        # ember.compile replays it as one call
        if _recording.recorder is not None and _recording.here():
            return _recording.recorder.call(Optimizer.zero_grad, self, set_to_none)
        for group in self.param_groups:
            for param in group["params"]:
                grad = param._grad
                if grad is None:
                    continue
                if set_to_none:
                    param._grad = None
                    continue
                # A gradient computed with create_graph=True is part of a graph: cut it loose
                # so that zeroing it in place is allowed and records nothing.
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                grad.zero_()

    def step(self, closure: Optional[Callable[[], Any]] = None):
        """Perform one optimization step; subclasses implement it.

        Args:
            closure: re-evaluates the model and returns the loss (needed by some algorithms).
        """
        raise NotImplementedError

    @staticmethod
    def _evaluate(closure: Optional[Callable[[], Any]]):
        """The closure's loss (None without one), computed with gradients enabled."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ---- saving and restoring -------------------------------------------------------------

    def state_dict(self) -> dict:
        """The optimizer's state as a dict, in PyTorch's layout.

        Parameters are replaced by their index, counting through the groups in order:
        ``{"state": {0: {...}, 1: {...}}, "param_groups": [{..., "params": [0, 1]}]}``. The state
        dicts are the optimizer's own (not copies), as in PyTorch.

        Example:
            >>> import ember
            >>> w = ember.ones(2, requires_grad=True)
            >>> opt = ember.optim.SGD([w], lr=0.1, momentum=0.9)
            >>> w.grad = ember.ones(2)
            >>> opt.step()
            >>> opt.state_dict()["state"]
            {0: {'momentum_buffer': tensor([1., 1.])}}
        """
        index_of: dict = {}
        packed_groups = []
        for group in self.param_groups:
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = [index_of[id(param)] for param in group["params"]]
            packed_groups.append(packed)
        packed_state = {(index_of[id(key)] if isinstance(key, Tensor) else key): value
                        for key, value in self.state.items()}
        return {"state": packed_state, "param_groups": packed_groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the state saved by ``state_dict``.

        Hyperparameters come from the saved groups; state tensors are copied onto each
        parameter's device (and, when floating point, cast to its dtype).

        Args:
            state_dict: the dict returned by ``state_dict()``.

        Raises:
            ValueError: the saved groups differ in number or size from this optimizer's.
        """
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(group["params"]) != len(saved["params"])
               for group, saved in zip(self.param_groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")

        param_of = dict(zip(chain.from_iterable(saved["params"] for saved in saved_groups),
                            chain.from_iterable(group["params"] for group in self.param_groups)))
        state: defaultdict = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in param_of:
                param = param_of[key]
                state[param] = {name: _cast_state(param, name, item)
                                for name, item in value.items()}
            else:
                state[key] = value

        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.state = state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for index, group in enumerate(self.param_groups):
            if index > 0:
                lines.append("")
            lines.append(f"Parameter Group {index}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        lines.append(")")
        return "\n".join(lines)


def _cast_state(param: Tensor, name: str, value):
    """A copy of one saved state value, placed to match ``param``.

    The step counter stays a CPU tensor of its own dtype; other floating-point state takes the
    parameter's device and dtype, so that a checkpoint saved on one device loads on another.
    """
    if isinstance(value, dict):
        return {key: _cast_state(param, key, item) for key, item in value.items()}
    if not isinstance(value, Tensor):
        return value
    if name == "step":
        return Tensor._wrap(_backend.move(value._data, _backend.CPU).copy())
    data = _backend.move(value._data, param.device)
    if param.is_floating_point() and data.dtype.kind == "f":
        return Tensor._wrap(data.astype(param._data.dtype, copy=True))
    return Tensor._wrap(data.copy())

"""``GradScaler``: loss scaling for float16 training, as ``torch.amp.GradScaler``."""

import math
import warnings

import numpy as np

from .. import _backend, _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..ops.shape import stack

# Where an optimizer is in one iteration: scale → (unscale_) → step → update.
READY, UNSCALED, STEPPED = "ready", "unscaled", "stepped"

_NO_SCALE = ("This may indicate your script did not use scaler.scale(loss or outputs) earlier "
             "in the iteration.")


def _float32(value: float) -> float:
    """``value`` rounded to float32, the type PyTorch keeps the scale in."""
    return float(np.float32(value))


class GradScaler:
    """Multiplies the loss by a scale factor so that small float16 gradients do not flush to
    zero, divides the gradients back before the optimizer's step, skips steps whose gradients
    overflowed, and adapts the scale: ``backoff_factor`` after an overflow, ``growth_factor``
    after ``growth_interval`` steps without one.

    As PyTorch's: for ``device="cuda"`` without CUDA it warns and disables itself, and a
    disabled scaler returns outputs unscaled and calls ``optimizer.step()`` as is.

    Example:
        >>> import ember
        >>> model = ember.nn.Linear(2, 1)
        >>> opt = ember.optim.SGD(model.parameters(), lr=0.1)
        >>> scaler = ember.amp.GradScaler("cpu")
        >>> scaler.scale(model(ember.ones(1, 2)).sum()).backward()
        >>> scaler.step(opt); scaler.update(); scaler.get_scale()
        65536.0
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled and not _backend.cuda_available():
            warnings.warn("GradScaler is enabled, but CUDA is not available.  Disabling.",
                          stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        self._init_scale = init_scale
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._init_growth_tracker = 0
        # The scale and the count of steps since the last overflow or growth: None until the
        # first scale(), as PyTorch makes them then.
        self._scale: "float | None" = None
        self._growth_tracker: "int | None" = None
        self._states: dict = {}  # id(optimizer) -> {"stage": ..., "found_inf": bool | None}

    def _state(self, optimizer) -> dict:
        return self._states.setdefault(id(optimizer), {"stage": READY, "found_inf": None})

    def _check_scaled(self, funcname: str) -> None:
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + _NO_SCALE)

    def scale(self, outputs):
        """``outputs`` (a tensor, or nested lists/tuples/iterables of them) times the scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._started()
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(output) for output in outputs)
        if hasattr(outputs, "__iter__"):
            return map(self.scale, outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def _started(self) -> float:
        if self._scale is None:
            self._scale = _float32(self._init_scale)
            self._growth_tracker = self._init_growth_tracker
        return self._scale

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale in place (before clipping them),
        and note whether any is inf or NaN; ``step`` then skips the update."""
        if not self._enabled:
            return
        self._check_scaled("unscale_")
        state = self._state(optimizer)
        if state["stage"] is UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if state["stage"] is STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        grads = [param.grad for group in optimizer.param_groups for param in group["params"]
                 if param.grad is not None]
        if any(grad.dtype is _dtype.float16 for grad in grads):
            raise ValueError("Attempting to unscale FP16 gradients.")
        inverse = _float32(1.0 / self._scale)  # the reciprocal in float64, as PyTorch's
        with no_grad():
            # Checked before scaling, as PyTorch's kernel does; read back once (a GPU sync).
            finite = [grad.isfinite().all() for grad in grads]
            for grad in grads:
                grad.mul_(inverse)
        state["found_inf"] = not bool(stack(finite).all()) if grads else None
        state["stage"] = UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)`` on unscaled gradients, unless one is inf or NaN
        (then nothing, and None); unscales first unless ``unscale_`` did."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        self._check_scaled("step")
        state = self._state(optimizer)
        if state["stage"] is STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is READY:
            self.unscale_(optimizer)
        if state["found_inf"] is None:  # no parameter had a gradient
            raise AssertionError("No inf checks were recorded for this optimizer.")
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = STEPPED
        return result

    def update(self, new_scale: "float | Tensor | None" = None) -> None:
        """Adapt the scale after the iteration's steps (or set it to ``new_scale``)."""
        if not self._enabled:
            return
        self._check_scaled("update")
        if new_scale is not None:
            if not isinstance(new_scale, float):
                if (new_scale.device.type != self._device or new_scale.numel() != 1
                        or new_scale.requires_grad):
                    raise AssertionError("new_scale should be a float or a 1-element "
                                         "FloatTensor with requires_grad=False.")
                new_scale = new_scale.item()
            self._scale = _float32(new_scale)
        else:
            found = [state["found_inf"] for state in self._states.values()
                     if state["found_inf"] is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(found):
                self._scale = _float32(self._scale * self._backoff_factor)
                self._growth_tracker = 0
            elif self._growth_tracker + 1 == self._growth_interval:
                grown = _float32(self._scale * self._growth_factor)
                if math.isfinite(grown):
                    self._scale = grown
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
        self._states = {}

    def get_scale(self) -> float:
        """The current scale (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def is_enabled(self) -> bool:
        return self._enabled

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker

    def state_dict(self) -> dict:
        """The scale, its factors, interval and growth tracker (empty when disabled)."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore ``state_dict()``'s values (a disabled scaler ignores them)."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._scale is not None:
            self._scale = _float32(self._init_scale)
            self._growth_tracker = self._init_growth_tracker

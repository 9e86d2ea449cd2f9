"""``ember.cpu.amp``: PyTorch's older names of ``ember.amp``'s tools for the CPU (deprecated,
as in PyTorch: each warns and points to ``ember.amp``).

Example:
    >>> from ember.cpu.amp import autocast  # as ``from torch.cpu.amp import autocast``
"""

import warnings

from .. import _dtype, amp


class autocast(amp.autocast):
    """``ember.amp.autocast("cpu", ...)`` under its deprecated name."""

    def __init__(self, enabled: bool = True, dtype=_dtype.bfloat16,
                 cache_enabled: bool = True) -> None:
        warnings.warn("`ember.cpu.amp.autocast(args...)` is deprecated. Please use "
                      "`ember.amp.autocast('cpu', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(amp.GradScaler):
    """``ember.amp.GradScaler("cpu", ...)`` under its deprecated name."""

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        warnings.warn("`ember.cpu.amp.GradScaler(args...)` is deprecated. Please use "
                      "`ember.amp.GradScaler('cpu', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cpu", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)


__all__ = ["GradScaler", "autocast"]

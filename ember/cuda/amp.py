"""``ember.cuda.amp``: PyTorch's older names of ``ember.amp``'s tools for CUDA (deprecated,
as in PyTorch: each warns and points to ``ember.amp``).

Example:
    >>> from ember.cuda.amp import GradScaler, autocast  # as ``from torch.cuda.amp import``
"""

import warnings

from .. import _dtype, amp


class autocast(amp.autocast):
    """``ember.amp.autocast("cuda", ...)`` under its deprecated name."""

    def __init__(self, enabled: bool = True, dtype=_dtype.float16,
                 cache_enabled: bool = True) -> None:
        warnings.warn("`ember.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`ember.amp.autocast('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(amp.GradScaler):
    """``ember.amp.GradScaler("cuda", ...)`` under its deprecated name."""

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        warnings.warn("`ember.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`ember.amp.GradScaler('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)


__all__ = ["GradScaler", "autocast"]

"""``ember.amp``: automatic mixed precision, as ``torch.amp``: ``autocast`` and ``GradScaler``.

``GradScaler`` scales losses and unscales gradients as PyTorch's does. ``autocast`` accepts
PyTorch's arguments and warnings, but ember does not lower ops' precision inside it yet: ops
run in their inputs' dtypes, and the region says so in a warning.

Example:
    >>> import ember
    >>> scaler = ember.amp.GradScaler("cpu")
    >>> scaler.get_scale()
    65536.0
"""

from .autocast_mode import autocast, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "is_autocast_available"]

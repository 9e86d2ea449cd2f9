"""``ember.cpu``: the CPU as a device, as ``torch.cpu``: always there, one device.

Example:
    >>> import ember
    >>> ember.cpu.is_available(), ember.cpu.device_count()
    (True, 1)
"""

from . import amp


def is_available() -> bool:
    """True: ember always runs on the CPU."""
    return True


def device_count() -> int:
    """1: ember treats the CPU as one device."""
    return 1


def current_device() -> str:
    """``"cpu"``."""
    return "cpu"


def synchronize(device=None) -> None:
    """Nothing to wait for: CPU work is done when its call returns."""


__all__ = ["amp", "current_device", "device_count", "is_available", "synchronize"]

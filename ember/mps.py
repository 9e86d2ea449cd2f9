"""``ember.mps``: Apple's Metal GPUs, which ember cannot use (as ``torch.mps`` where there are
none).

Example:
    >>> import ember
    >>> ember.mps.is_available(), ember.mps.device_count()
    (False, 0)
"""


def is_available() -> bool:
    """False: ember has no MPS device."""
    return False


def device_count() -> int:
    """0: ember has no MPS device."""
    return 0

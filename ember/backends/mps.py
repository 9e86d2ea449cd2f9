"""``ember.backends.mps``: Apple's Metal backend, which ember does not have.

Example:
    >>> import ember
    >>> ember.backends.mps.is_available()
    False
"""


def is_available() -> bool:
    """False: ember has no MPS (Apple GPU) device."""
    return False


def is_built() -> bool:
    """False: ember is not built with MPS."""
    return False

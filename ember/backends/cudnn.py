"""``ember.backends.cudnn``: PyTorch's cuDNN switches, which ember (not built on cuDNN) keeps
without using.

Example:
    >>> import ember.backends.cudnn as cudnn
    >>> cudnn.benchmark = True
"""

# PyTorch's defaults; a program may set them, and ember's results do not depend on them.
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: ember does not compute with cuDNN."""
    return False


def version() -> None:
    """None: ember is not built with cuDNN (as PyTorch where cuDNN is not available)."""
    return None

"""``ember.multiprocessing``: Python's ``multiprocessing``, under the name PyTorch programs
import it by (``torch.multiprocessing``), plus PyTorch's sharing-strategy switch.

ember's tensors travel between processes by pickling (their arrays' bytes), so the sharing
strategy is recorded and does not change how they travel.

Example:
    >>> import ember.multiprocessing as mp
    >>> mp.get_start_method(allow_none=True) in (None, "fork", "spawn", "forkserver")
    True
"""

from multiprocessing import *  # noqa: F401,F403  (everything Python's module offers)
from multiprocessing import __all__ as _python_all

_STRATEGIES = {"file_descriptor", "file_system"}
_strategy = "file_descriptor"


def get_all_sharing_strategies() -> set:
    """The sharing strategies PyTorch has on Linux."""
    return set(_STRATEGIES)


def get_sharing_strategy() -> str:
    """The strategy ``set_sharing_strategy`` recorded (``"file_descriptor"`` at first)."""
    return _strategy


def set_sharing_strategy(new_strategy: str) -> None:
    """Record ``new_strategy``, one of ``get_all_sharing_strategies()``."""
    global _strategy
    if new_strategy not in _STRATEGIES:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}, expected one of "
                             f"{_STRATEGIES}")
    _strategy = new_strategy


__all__ = [*_python_all, "get_all_sharing_strategies", "get_sharing_strategy",
           "set_sharing_strategy"]

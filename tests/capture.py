"""What the capture-safety tests share: an array whose values cannot be read on the host, and a
watch on the NumPy methods that read values."""

import contextlib
import sys

import numpy as np

_READS = ("any", "all", "item", "tolist", "__bool__")


@contextlib.contextmanager
def watch_host_reads(kinds: str = ""):
    """Record, in the list the block gets, each call of a method that reads values
    (``.any()``, ``.item()`` ...) on a NumPy array inside the block; with ``kinds`` (dtype
    kinds such as ``"f"``), only on arrays of those kinds."""
    reads = []

    def profile(frame, event, arg):
        owner = getattr(arg, "__self__", None)
        if (event == "c_call" and isinstance(owner, np.ndarray) and arg.__name__ in _READS
                and (not kinds or owner.dtype.kind in kinds)):
            reads.append(arg.__name__)

    sys.setprofile(profile)
    try:
        yield reads
    finally:
        sys.setprofile(None)


class NoHostReads(np.ndarray):
    """An array whose values cannot be read on the host, as under graph capture; NumPy's
    results computed from it are of this class too."""

    def _refuse(self, *args, **kwargs):
        raise AssertionError("an op read an array value on the host")

    __bool__ = __int__ = __float__ = __index__ = item = tolist = any = all = _refuse

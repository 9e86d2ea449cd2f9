"""Run NumPy's OpenBLAS on one thread: the matrix products of small models are too small to
share.

A training step of a small network makes many matrix products of a few hundred thousand
multiply-adds each. Splitting one across threads costs more in waking and synchronising
threads than it saves, and OpenBLAS's waiting threads spin: when the other cores are busy
(another process, a DataLoader worker), a product can take ten times longer. One thread is as
fast on an idle machine and far faster on a busy one.

This applies once, at ``import ember``, to the OpenBLAS that NumPy loaded (found in the
process's memory map, Linux only). Set ``EMBER_BLAS_THREADS`` to another number to choose the
thread count, or to ``0`` to leave OpenBLAS as it is.
"""

import ctypes
import os
import sys

# OpenBLAS builds name their setter differently (NumPy's wheels use the scipy_openblas64_ one).
_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads", "openblas_set_num_threads")
_GETTERS = tuple(name.replace("set", "get") for name in _SETTERS)


def _openblas():
    """The OpenBLAS library loaded into this process, or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def threads() -> "int | None":
    """OpenBLAS's current thread count (None where it cannot be read)."""
    library = _openblas()
    for name in _GETTERS:
        if library is not None and hasattr(library, name):
            return int(getattr(library, name)())
    return None


def tune() -> bool:
    """Set OpenBLAS's thread count from ``EMBER_BLAS_THREADS`` (default 1); True when set."""
    count = int(os.environ.get("EMBER_BLAS_THREADS", "1"))
    if count <= 0:
        return False
    library = _openblas()
    for name in _SETTERS:
        if library is not None and hasattr(library, name):
            setter = getattr(library, name)
            setter.argtypes = (ctypes.c_int,)
            setter(count)
            return True
    return False

"""Keep glibc from returning large temporaries to the kernel after every training step: an
opt-in setting, because it changes how the whole process allocates.

By default glibc's malloc serves any allocation above 128 KiB (a threshold that adapts up to
32 MiB) with a fresh ``mmap`` and gives it back with ``munmap`` on free. A training step makes
and drops the same large temporaries (im2col columns, activations, gradients) every time, so
each step pays thousands of page faults to map and zero that memory again. Raising the mmap
threshold and the trim threshold lets freed blocks stay in the heap for the next step to reuse
(docs/performance.md has the measured gain).

``mallopt``'s thresholds belong to the process, not to a caller: they cannot be scoped to
ember's own work, and glibc cannot be put back to its adaptive default afterwards. So ember
applies them only when asked: ``ember.set_cpu_tuning(malloc=True)`` (which the ``ember``
command does), or ``EMBER_MALLOC_TUNING=1`` in the environment when ember is imported.
``EMBER_MALLOC_TUNING=0`` refuses it even when asked. Linux with glibc only.
"""

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 512 * 1024 * 1024

tuned = False  # whether this process's thresholds were raised (by ember)


def tune() -> bool:
    """Raise glibc's mmap and trim thresholds, unless ``EMBER_MALLOC_TUNING=0``; True when
    they are raised (now or before)."""
    global tuned
    if tuned or os.environ.get("EMBER_MALLOC_TUNING") == "0":
        return tuned
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    tuned = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return tuned


def tune_if_asked() -> bool:
    """At import: tune only when the environment asks (``EMBER_MALLOC_TUNING=1``)."""
    return tune() if os.environ.get("EMBER_MALLOC_TUNING") == "1" else False

"""Keep glibc from returning large temporaries to the kernel after every training step.

By default glibc's malloc serves any allocation above 128 KiB (a threshold that adapts up to
32 MiB) with a fresh ``mmap`` and gives it back with ``munmap`` on free. A training step makes
and drops the same large temporaries (im2col columns, activations, gradients) every time, so
each step pays thousands of page faults to map and zero that memory again. Raising the mmap
threshold and the trim threshold lets freed blocks stay in the heap for the next step to reuse;
on the tutorial net this made a step 2-2.7x faster at batch 64.

It applies only where glibc is the C library (Linux), once, at ``import ember``. Set the
environment variable ``EMBER_MALLOC_TUNING=0`` to leave malloc as it is.
"""

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 512 * 1024 * 1024

tuned = False


def tune() -> bool:
    """Raise glibc's mmap and trim thresholds; True when it did."""
    global tuned
    if tuned or os.environ.get("EMBER_MALLOC_TUNING", "1") == "0":
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

"""Run NumPy's OpenBLAS on one thread while ember multiplies matrices, and leave it as it was
for everything else in the process.

A training step of a small network makes many matrix products of a few hundred thousand
multiply-adds each. Splitting one across OpenBLAS's threads costs more in waking and
synchronising them than it saves, and OpenBLAS's waiting threads spin: they compete for the
cores with ember's own threads (``_parallel``), which split convolutions and large products
over the batch. So ember runs its own products with OpenBLAS on one thread.

That setting is scoped, not process-wide: ``limited(function, *args)`` sets OpenBLAS's thread
count to ember's for the call and puts the previous count back after it. Importing ember
changes nothing; a user's own NumPy code keeps OpenBLAS's threads. ``_parallel.parallel_for``
(convolution, pooling, large products) runs inside such a scope. Setting and reading the
count are plain C calls (about 0.1-0.2 us each); products under ``MIN_SCOPED_WORK``
multiply-adds skip the scope: OpenBLAS runs them on one thread anyway.

While a scope is open in one thread, the whole process's OpenBLAS count is ember's: NumPy
code that another thread runs at that moment gets one thread too. Overlapping scopes from
several threads are counted, and the last to close restores the count.

``EMBER_BLAS_THREADS=N`` (read at import) or ``ember.set_cpu_tuning(blas_threads=N)`` chooses
ember's count; 0 leaves OpenBLAS alone. Only OpenBLAS is found (Linux, from the process's
memory map); with another BLAS nothing is changed.
"""

import ctypes
import os
import sys
import threading
import warnings

import numpy as np

# OpenBLAS builds name their functions differently (NumPy's wheels use the scipy_openblas64_ ones).
_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads", "openblas_set_num_threads")
_GETTERS = tuple(name.replace("set", "get") for name in _SETTERS)

# OpenBLAS's gemm runs a product of up to 4 x 65,536 multiply-adds on one thread whatever its
# setting (0.3.31, measured: it starts threads only above about 460,000), so a scope around
# less work would cost its 0.5 us for nothing.
MIN_SCOPED_WORK = 4 * 65_536

# The prefix and suffix of the CBLAS names in the same builds, and whether sizes are 64-bit.
_CBLAS_NAMES = (("scipy_cblas_", "64_", True), ("cblas_", "64_", True),
                ("scipy_cblas_", "", False), ("cblas_", "", False))

# OpenBLAS's gemm runs a product of up to 4 x 65,536 multiply-adds on one thread whatever its
# setting (0.3.31, measured: it starts threads only above about 460,000), so a scope around
# less work would cost its 0.5 us for nothing.
MIN_SCOPED_WORK = 4 * 65_536


def _default_threads() -> int:
    setting = os.environ.get("EMBER_BLAS_THREADS")
    if setting is None:
        return 1
    if setting.strip().isdigit():
        return int(setting)
    warnings.warn(f"EMBER_BLAS_THREADS={setting!r} is not a non-negative integer; ignored",
                  RuntimeWarning, stacklevel=2)
    return 1


_threads = _default_threads()  # OpenBLAS's count inside ember's scopes; 0: leave it alone
_functions = None  # (getter, setter), or () where there is no OpenBLAS; found when first needed
_lock = threading.Lock()
_depth = 0  # scopes open, over all threads
_saved = 0  # OpenBLAS's count before the outermost scope
_changed = False  # whether the outermost scope changed it
_holds = 0  # holds open (hold/release): the count a scope set stays until the last ends
_left_set = False  # a scope closed during a hold and left OpenBLAS on ember's count


def _openblas():
    """The OpenBLAS library loaded into this process, NumPy's own first, or None.

    Other packages bring OpenBLAS builds of their own (SciPy's wheels do); NumPy's wheels keep
    theirs in ``numpy.libs`` beside the package, and that is the one whose thread count ember
    scopes and whose products its kernels must reproduce bit for bit."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in _numpy_first(paths):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def _numpy_first(paths) -> list:
    """``paths`` sorted, those in NumPy's ``numpy.libs`` folder first."""
    numpy_libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    return sorted(paths, key=lambda path: (not path.startswith(numpy_libs + os.sep), path))


def _library_functions() -> tuple:
    """OpenBLAS's thread-count getter and setter, or () where they cannot be found."""
    global _functions
    if _functions is None:
        library = _openblas()
        found = ()
        for getter, setter in zip(_GETTERS, _SETTERS):
            if library is not None and hasattr(library, getter) and hasattr(library, setter):
                get, put = getattr(library, getter), getattr(library, setter)
                get.argtypes, get.restype = (), ctypes.c_int
                put.argtypes, put.restype = (ctypes.c_int,), None
                found = (get, put)
                break
        _functions = found
    return _functions


def blas_functions() -> "tuple[tuple, tuple, bool] | None":
    """The addresses of OpenBLAS's cblas_sgemm, cblas_sgemv and cblas_sdot, of the same three
    for double, and whether their sizes are 64-bit integers: what ember's compiled kernels
    multiply matrices with (ember/_C/blas.c). None where there is no OpenBLAS or it lacks them."""
    library = _openblas()
    if library is None:
        return None
    for prefix, suffix, sizes64 in _CBLAS_NAMES:
        names = [[prefix + t + f + suffix for f in ("gemm", "gemv", "dot")] for t in "sd"]
        if all(hasattr(library, name) for row in names for name in row):
            single, double = ([ctypes.cast(getattr(library, name), ctypes.c_void_p).value
                               for name in row] for row in names)
            return tuple(single), tuple(double), sizes64
    return None


def threads() -> "int | None":
    """OpenBLAS's current thread count (None where it cannot be read)."""
    functions = _library_functions()
    return int(functions[0]()) if functions else None


def get_threads() -> int:
    """The thread count ember gives OpenBLAS for its own products (0: left alone)."""
    return _threads


def set_threads(count: int) -> None:
    """Run ember's products with OpenBLAS on ``count`` threads; 0 leaves OpenBLAS alone."""
    global _threads
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"blas_threads must be a non-negative int, but got {count!r}")
    _threads = count


def limited(function, *args):
    """``function(*args)`` with OpenBLAS on ember's thread count, the previous count put back
    after (by the last of overlapping scopes to close)."""
    if not open_scope():
        return function(*args)
    try:
        return function(*args)
    finally:
        close_scope()


def open_scope() -> bool:
    """Open a scope of ``limited`` (OpenBLAS on ember's thread count); whether one was opened,
    which ``close_scope`` must then close (from any thread)."""
    global _depth, _saved, _changed
    count = _threads
    functions = _library_functions() if count else ()
    if not functions:
        return False
    get, put = functions
    with _lock:
        if _depth == 0 and not _left_set:
            _saved = get()
            _changed = _saved != count
            if _changed:
                put(count)
        _depth += 1
    return True


def close_scope() -> None:
    """Close a scope ``open_scope`` opened: the last to close puts OpenBLAS's count back,
    or, during a ``hold``, leaves that to the hold's end."""
    global _depth, _left_set
    with _lock:
        if _depth > 0:  # 0 only in a forked child that reset the scopes
            _depth -= 1
            if _depth == 0 and _changed:
                if _holds:
                    _left_set = True
                else:
                    _library_functions()[1](_saved)


def hold() -> None:
    """Until ``release``, a scope that closes leaves OpenBLAS on ember's count for the next
    one: a backward pass makes many products in a row, and setting the count and putting it
    back costs about 12 us each time (more than a small product takes). Nothing changes
    where no product opens a scope."""
    global _holds
    with _lock:
        _holds += 1


def release() -> None:
    """End a ``hold``: the last puts OpenBLAS's count back if a scope left it set."""
    global _holds, _left_set
    with _lock:
        _holds -= 1
        if _holds == 0 and _left_set:
            _left_set = False
            if _depth == 0:  # else the last scope to close puts it back
                _library_functions()[1](_saved)


def _reset_in_child() -> None:
    """A forked child has only the forking thread: close the scopes of the others."""
    global _lock, _depth, _holds, _left_set
    _lock = threading.Lock()
    if (_depth or _left_set) and _changed and _functions:
        _functions[1](_saved)
    _depth, _holds, _left_set = 0, 0, False


os.register_at_fork(after_in_child=_reset_in_child)


# ---- bands of rows that keep a product's bits ----------------------------------------------

# Row counts to try, smallest first: the widths of OpenBLAS's gemm kernels along the rows of a
# row-major result (its column-major "n" unrolling: 2 to 16, times 1 to 4).
_ROW_BLOCK_CANDIDATES = (1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64)
_row_blocks = {}  # dtype -> the row block found (0: none), probed once per process


def row_block(dtype) -> int:
    """The row count ``b`` at which a matrix product can be cut into bands of rows, each made
    by its own call (on its own thread), with the whole product's bits; 0 where none was found.

    A product's rows are not computed alike: OpenBLAS's gemm kernel works on blocks of a few
    rows (12 in float32 with this machine's AVX2 kernels, 2 in float64), and the rows of a
    last, partial block go through other code, whose sums round differently. So a band
    that starts inside a block gets different bits, while bands that start at a multiple of
    the block (and end at one, or where the whole product ends) are the same calls on the same
    blocks. Which block a BLAS uses is not exported, so it is found by trying: once per
    process and type, the candidates from the smallest, each on a few products (both
    operands plain or transposed, inner sizes on both sides of OpenBLAS's blocking) whose
    bands at its multiples must all equal the whole. A single row is not a band: NumPy (and
    ``ember/_C/blas.c``'s ``product``) multiply it with gemv, not gemm.
    """
    dtype = np.dtype(dtype)
    found = _row_blocks.get(dtype)
    if found is None:
        found = _row_blocks[dtype] = limited(_probe_row_block, dtype)
    return found


def _probe_row_block(dtype) -> int:
    rng = np.random.default_rng(0)
    for block in _ROW_BLOCK_CANDIDATES:
        rows = 4 * block + 3  # four whole blocks and a partial one
        cuts = [(0, block), (block, 3 * block), (block, rows), (3 * block, rows),
                (4 * block, rows)]
        good = True
        for inner, columns in ((37, 150), (520, 40)):
            a = rng.standard_normal((rows, inner)).astype(dtype)
            w = rng.standard_normal((columns, inner)).astype(dtype)
            a_t = np.ascontiguousarray(a.T).T  # the same values, stored transposed
            for left, right in ((a, w.T), (a, np.ascontiguousarray(w.T)), (a_t, w.T)):
                whole = left @ right
                if not all(np.array_equal(left[start:stop] @ right, whole[start:stop])
                           for start, stop in cuts if stop - start > 1):
                    good = False
                    break
            if not good:
                break
        if good:
            return block
    return 0

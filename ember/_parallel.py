"""Intra-op parallelism: one op's work over a batch, split across a few threads.

NumPy runs each array operation on one core, but it lets go of Python's global lock while it
loops over array data (elementwise arithmetic, copies, reductions, matrix products). So two
threads that each run an op on half of a batch really do run at the same time. ember splits
the ops that dominate a training step at larger batches this way (convolution, 2x2 max pooling,
large matrix products): each one hands ``parallel_for`` a function that does its work for a
range of images (or rows). Elementwise ops are mostly not split: memory bandwidth bounds
them, which the cores share. ReLU's compiled kernel is (``split_flat``), on arrays of a
million elements or more, where a second core still moves more bytes than one does.

Compiled kernels can also split themselves (``kernel_parts``): the linear layers' products,
GELU (whose erf and exp make it bound by arithmetic), LayerNorm's rows. The caller passes how
many ranges to cut the work into, and ``ember/_C/threads.c`` runs them on threads of its own
that never take Python's global lock, on the same bounds as ``parallel_for``'s chunks (so the
same results). Starting them costs a few microseconds instead of tens, so a quarter of the
work is worth splitting (``MIN_KERNEL_WORK``).

``ember.set_num_threads`` and ``ember.get_num_threads`` choose the thread count, as in PyTorch;
it starts at the number of CPUs this process may run on (``EMBER_NUM_THREADS`` overrides it).
A split depends only on the batch size and the thread count, never on timing, so results are
reproducible: with a different thread count, sums over the batch (a weight's gradient) may
differ in their last bits, as PyTorch's do.

Small work runs on the calling thread: waking a sleeping thread costs 10 to 45 microseconds
on a virtual machine, more than an op on a few thousand numbers takes. So do arrays that are
not NumPy's (CuPy runs on the GPU and is asynchronous already) and calls made while a split is
running (nested, or from another thread), which keeps the workers from waiting on each other.

A split runs inside ``_blas.limited``: NumPy's OpenBLAS on one thread (ember's setting) while
it runs, as it was before and after. ``set_cpu_tuning`` and ``get_cpu_tuning`` are the public
switches for that and for ``_malloc``'s allocator setting.
"""

import operator
import os
import queue
import threading
import warnings

import numpy as np

from . import _blas, _malloc

# Below this many arithmetic operations in all, an op runs on the calling thread.
MIN_PARALLEL_WORK = 1_000_000
# The same for a compiled kernel that splits itself (``kernel_parts``): its threads take a
# few microseconds to start where a Python worker takes tens, so a quarter of the work pays.
MIN_KERNEL_WORK = 250_000


def _default_threads() -> int:
    setting = os.environ.get("EMBER_NUM_THREADS")
    if setting is not None:
        if setting.strip().isdigit() and int(setting) > 0:
            return int(setting)
        warnings.warn(f"EMBER_NUM_THREADS={setting!r} is not a positive integer; ignored",
                      RuntimeWarning, stacklevel=2)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_threads = _default_threads()
_workers = []  # one inbox per worker thread, started when first needed
_busy = threading.Lock()  # held while a split runs


def get_num_threads() -> int:
    """The number of threads ember uses to split one op's work (``torch.get_num_threads``)."""
    return _threads


def set_num_threads(count: int) -> None:
    """Use ``count`` threads for one op's work; 1 runs everything on the calling thread."""
    global _threads
    try:
        count = operator.index(count)  # an int, or a NumPy integer
    except TypeError:
        raise RuntimeError(f"set_num_threads expects an int, but got {type(count).__name__}") \
            from None
    if count <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _threads = count


# ember runs one op after another, with no pool of inter-op threads; the count is kept for
# programs that set and read it, under PyTorch's rule that it is set at most once.
_interop_threads = _threads
_interop_set = False


def get_num_interop_threads() -> int:
    """The inter-op thread count (``torch.get_num_interop_threads``); ember runs ops one after
    another, so it only reports what ``set_num_interop_threads`` set (at first, the cores)."""
    return _interop_threads


def set_num_interop_threads(count: int) -> None:
    """Record the inter-op thread count: once per process, as in PyTorch."""
    global _interop_threads, _interop_set
    try:
        count = operator.index(count)
    except TypeError:
        raise RuntimeError("set_num_interop_threads expects an int, but got "
                           f"{type(count).__name__}") from None
    if count <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    if _interop_set:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work "
                           "has started or set_num_interop_threads called")
    _interop_threads, _interop_set = count, True


def _work(inbox: queue.SimpleQueue) -> None:
    while True:
        body, start, stop, results, index, done = inbox.get()
        try:
            results[index] = body(start, stop)
        except BaseException as error:  # handed back to the caller, which raises it
            results[index] = error
        done.put(index)


def _inboxes(count: int) -> list:
    while len(_workers) < count:
        inbox = queue.SimpleQueue()
        threading.Thread(target=_work, args=(inbox,), daemon=True,
                         name=f"ember-worker-{len(_workers)}").start()
        _workers.append(inbox)
    return _workers[:count]


def _forget_workers() -> None:
    """A forked child has none of its parent's threads: start afresh when needed."""
    global _busy
    _workers.clear()
    _busy = threading.Lock()


os.register_at_fork(after_in_child=_forget_workers)


def _wait_for(done: queue.SimpleQueue, workers: int) -> None:
    """Wait until ``workers`` chunks are done, even through a KeyboardInterrupt (raised after):
    the workers write into the op's outputs, which must not be handed back before they stop."""
    interrupted = None
    while workers:
        try:
            done.get()
            workers -= 1
        except BaseException as error:
            interrupted = error
    if interrupted is not None:
        raise interrupted


def worth_splitting(count: int, work: int) -> bool:
    """Whether ``parallel_for`` would split ``count`` items of ``work`` each (if not busy)."""
    return _threads > 1 and count > 1 and count * work >= MIN_PARALLEL_WORK


def kernel_parts(count: int, work: int) -> int:
    """Into how many ranges a compiled kernel that splits itself over ember's threads
    (``ember/_C/threads.c``) cuts ``count`` items of ``work`` each: the ranges ``parallel_for``
    would run, so results are the same either way; 1 when it would not split, or while one of
    its splits runs (nested, or from another thread)."""
    if _threads == 1 or count < 2 or count * work < MIN_KERNEL_WORK or _busy.locked():
        return 1
    return min(_threads, count)


def parallel_for(count: int, body, work: int, like=None, product=None) -> list:
    """``body(start, stop)`` over ``range(count)`` cut into contiguous chunks, one per thread.

    ``work`` is about how many arithmetic operations one item costs (multiply-adds for a
    matrix product): a guide to whether splitting pays. ``like`` is an array of the op; only
    NumPy arrays are split. Returns the chunks' results in order, a single
    ``[body(0, count)]`` when not split. Chunks must write disjoint parts of their outputs.

    The split runs with OpenBLAS on ember's thread count (``_blas.limited``) when a product
    it makes could be large enough for OpenBLAS to start its own threads: by default when the
    whole ``count * work`` is. A body that makes many small products (the convolution's
    kernels: one per image) passes ``product``, the multiply-adds of its largest; under
    ``_blas.MIN_SCOPED_WORK`` OpenBLAS runs it on one thread anyway, and the scope, whose
    thread-count calls cost microseconds (far more on a loaded machine), is skipped.
    """
    if like is not None and type(like) is not np.ndarray:
        return [body(0, count)]
    if (count * work if product is None else product) >= _blas.MIN_SCOPED_WORK:
        return _blas.limited(_split, count, body, work)
    return _split(count, body, work)


def split_flat(kernel, arrays, work: int, *constants) -> bool:
    """``kernel(*pieces, *constants)`` on ranges of same-sized C-contiguous ``arrays`` taken
    flat, over ember's threads, when ``work`` per element makes a split worth it; whether it
    split (if not, nothing ran: the caller calls the kernel whole). Each element is computed
    alone, so a split changes no bits."""
    size = arrays[0].size
    if not worth_splitting(size, work):
        return False
    flat = [array.reshape(-1) for array in arrays]

    def part(start, stop):
        kernel(*[array[start:stop] for array in flat], *constants)

    parallel_for(size, part, work, like=flat[0], product=0)
    return True


def _split(count: int, body, work: int) -> list:
    if not worth_splitting(count, work) or not _busy.acquire(blocking=False):
        return [body(0, count)]
    chunks = min(_threads, count)
    try:
        bounds = [count * k // chunks for k in range(chunks + 1)]
        results = [None] * chunks
        done = queue.SimpleQueue()
        for index, inbox in enumerate(_inboxes(chunks - 1), start=1):
            inbox.put((body, bounds[index], bounds[index + 1], results, index, done))
        try:
            results[0] = body(bounds[0], bounds[1])
        finally:
            _wait_for(done, chunks - 1)
    finally:
        _busy.release()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


class Background:
    """Work handed to ember's first worker thread, run there in the order given, that the
    caller collects later (``wait``) instead of at once: the steps of a recurrent cell add
    their weight gradients up there while the calling thread carries the backward pass on
    (``ember.autograd.engine``). The work must not split itself (the worker would wait for
    its own inbox) and must only write arrays nobody reads before ``wait``."""

    def __init__(self):
        self._done = queue.SimpleQueue()
        self._results = []
        self._waiting = 0  # handed over and not yet waited for
        self._scoped = False  # whether it holds a scope of _blas.limited

    def submit(self, function) -> None:
        """Run ``function()`` on the worker after what was submitted before. Until ``wait``,
        OpenBLAS runs on ember's BLAS thread count (a ``_blas.limited`` scope held open), so
        the work may call NumPy's products directly, as ember's products inside that scope."""
        if not self._waiting:
            self._scoped = _blas.open_scope()
        self._results.append(None)
        _inboxes(1)[0].put((lambda start, stop: function(), 0, 1, self._results,
                            len(self._results) - 1, self._done))
        self._waiting += 1

    def wait(self) -> None:
        """Return once everything submitted has run; raise the first error it raised."""
        waiting, self._waiting = self._waiting, 0
        try:
            _wait_for(self._done, waiting)
        finally:
            if self._scoped:
                self._scoped = False
                _blas.close_scope()
        errors = [result for result in self._results if isinstance(result, BaseException)]
        self._results = []
        if errors:
            raise errors[0]


def background_ready(like) -> bool:
    """Whether work on NumPy arrays like ``like`` may go to a ``Background`` worker: ember
    uses more than one thread (and this is not that worker)."""
    return (_threads > 1 and type(like) is np.ndarray
            and not threading.current_thread().name.startswith("ember-worker"))


def set_cpu_tuning(*, blas_threads: "int | None" = None, malloc: "bool | None" = None) -> None:
    """Choose ember's CPU settings beyond its own thread count (docs/performance.md).

    ``blas_threads``: the thread count NumPy's OpenBLAS gets while ember multiplies matrices
    (the default 1, or ``EMBER_BLAS_THREADS``), put back after each; 0 leaves OpenBLAS alone.
    ``malloc=True`` raises glibc's malloc thresholds so that a training step's large
    temporaries are reused instead of mapped afresh. That one is process-wide and lasts for
    the rest of the process: everything in it allocates under the new thresholds. It is
    refused when ``EMBER_MALLOC_TUNING=0``, and ``malloc=False`` cannot undo it.
    """
    if blas_threads is not None:
        _blas.set_threads(blas_threads)
    if malloc:
        _malloc.tune()
    elif malloc is not None and _malloc.tuned:
        raise RuntimeError("glibc's malloc thresholds stay raised for the rest of the process")


def get_cpu_tuning() -> dict:
    """``{"blas_threads": ..., "malloc": ...}``: the settings ``set_cpu_tuning`` chooses
    (``malloc`` is True only where the thresholds were raised)."""
    return {"blas_threads": _blas.get_threads(), "malloc": _malloc.tuned}

"""DataLoader: batches of a dataset, in order or shuffled, loaded in this process or in workers.

How a batch is made: a sampler yields indices; a ``BatchSampler`` groups them; a fetcher (see
``_worker.py``) looks the indices up in the dataset and collates the samples into one batch.
With ``num_workers > 0`` worker processes run the fetchers: the main process hands each worker
batch numbers and their indices round-robin, keeps ``prefetch_factor`` batches per worker in
flight, and returns the batches in order of their numbers, whatever order they arrive in.
"""

import collections.abc
import copy
import multiprocessing
import os
import pickle
import queue
import sys
import time
import warnings
import weakref
from typing import Any, Callable, Generic, Iterable, TypeVar

import numpy as np

from ..._tensor import Tensor
from ...ops.creation import from_numpy, tensor
from ...ops.shape import stack
from . import _worker
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, _draw_seed

T_co = TypeVar("T_co", covariant=True)

_COLLATE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                  "lists; found {}")


def default_collate(batch: "list | tuple"):
    """Merge a list of samples into one batch, recursively, as PyTorch does.

    Tensors are stacked along a new first dimension; NumPy arrays and NumPy scalars become
    tensors and are stacked; Python floats become a float64 tensor and ints an int64 tensor
    (bools a bool tensor); strings are left as they are gathered; dicts, tuples and lists are
    collated field by field (a tuple becomes a list, a namedtuple stays a namedtuple).

    Example:
        >>> import ember
        >>> from ember.utils.data import default_collate
        >>> default_collate([{"x": ember.zeros(2), "y": 0}, {"x": ember.ones(2), "y": 1}])
        {'x': tensor([[0., 0.],
                [1., 1.]]), 'y': tensor([0, 1])}
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, (np.ndarray, np.generic)) and not isinstance(elem, (np.str_,
                                                                            np.bytes_)):
        if elem.dtype.kind in "OSUV":
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        if isinstance(elem, np.ndarray):
            return default_collate([from_numpy(array) for array in batch])
        return from_numpy(np.array(batch))  # NumPy scalars keep their dtype
    if isinstance(elem, float):
        return from_numpy(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        return _same_mapping_type(elem, collated)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        # Each field is a tuple, so strings deep inside a batch come out as tuples (PyTorch's
        # behaviour); strings at the top level or in dicts come out as lists.
        fields = [default_collate(field) for field in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # PyTorch returns a list for tuples; we do the same
        return _same_sequence_type(elem, fields)
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_convert(data):
    """Turn the NumPy arrays and NumPy scalars in ``data`` into tensors, recursively.

    The collate function used when ``batch_size=None`` (no batching): each sample is only
    converted. Tuples become lists, as in PyTorch.

    Example:
        >>> import numpy as np
        >>> from ember.utils.data import default_convert
        >>> default_convert({"x": np.array([1, 2]), "name": "a"})
        {'x': tensor([1, 2]), 'name': 'a'}
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)) and not isinstance(data, (np.str_,
                                                                            np.bytes_)):
        if data.dtype.kind in "OSUV":
            return data
        return from_numpy(np.asarray(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _same_mapping_type(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(field) for field in data))
    if isinstance(data, tuple):
        return [default_convert(field) for field in data]
    if isinstance(data, collections.abc.Sequence):
        return _same_sequence_type(data, [default_convert(field) for field in data])
    return data


def _same_mapping_type(original, values: dict):
    """``values`` in the mapping type of ``original`` where it can be built, else a dict."""
    if isinstance(original, collections.abc.MutableMapping):
        clone = copy.copy(original)  # keeps a defaultdict's factory, an OrderedDict's order
        clone.update(values)
        return clone
    try:
        return type(original)(values)
    except TypeError:
        return values


def _same_sequence_type(original, values: list):
    try:
        return type(original)(values)
    except TypeError:
        return values


class _InfiniteConstantSampler(Sampler):
    """None, forever: the sampler of an iterable dataset, which picks its own samples."""

    def __iter__(self):
        while True:
            yield None


class DataLoader(Generic[T_co]):
    """Iterate over a dataset in batches.

    Args:
        dataset: a map-style ``Dataset`` (or anything with ``__getitem__`` and ``__len__``)
            or an ``IterableDataset``.
        batch_size: samples per batch; None turns batching off (each item is one sample,
            passed through ``default_convert``).
        shuffle: visit the samples in a new random order each epoch.
        sampler: the order of indices (instead of ``shuffle``).
        batch_sampler: yields whole lists of indices (instead of ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``).
        num_workers: worker processes that load batches in parallel; 0 loads in this process.
        collate_fn: merges a list of samples into a batch; ``default_collate`` by default.
        pin_memory: accepted for compatibility; ember has no pinned host memory, so it does
            nothing.
        drop_last: drop the last batch when it is short.
        timeout: seconds to wait for a batch from the workers before raising (0: forever).
        worker_init_fn: called in each worker with its id, after seeding, before loading.
        multiprocessing_context: the start method for workers ("fork", "spawn", "forkserver")
            or a multiprocessing context; by default "fork" on Linux, since it shares the
            dataset with the workers without pickling it, and the platform's default elsewhere.
            With "spawn" the dataset, collate_fn and worker_init_fn must be picklable. Use
            "spawn" when CUDA is already in use.
        generator: the ``ember.Generator`` for shuffling and for the workers' base seed; the
            default generator when None, so ``ember.manual_seed`` makes runs reproducible.
        prefetch_factor: batches each worker loads ahead (2 when workers are used).
        persistent_workers: keep the workers alive between epochs.
        pin_memory_device: accepted for compatibility and ignored, like ``pin_memory``.

    When ``collate_fn`` is the default and the dataset offers a batch fast path (a
    ``TensorDataset``, a ``Subset`` of one, the vision datasets), each batch is built with one
    fancy index instead of sample by sample: the same batch, many times faster.

    Example:
        >>> import ember
        >>> from ember.utils.data import DataLoader, TensorDataset
        >>> dataset = TensorDataset(ember.arange(6.0).reshape(3, 2), ember.tensor([0, 1, 0]))
        >>> loader = DataLoader(dataset, batch_size=2)
        >>> len(loader), [tuple(x.shape) for x, _ in loader]
        (2, [(2, 2), (1, 2)])
    """

    _frozen_after_init = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                          "persistent_workers")

    def __init__(self, dataset: Dataset[T_co], batch_size: "int | None" = 1,
                 shuffle: "bool | None" = None, sampler: "Sampler | Iterable | None" = None,
                 batch_sampler: "Sampler | Iterable | None" = None, num_workers: int = 0,
                 collate_fn: "Callable | None" = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: "Callable | None" = None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: "int | None" = None,
                 persistent_workers: bool = False, pin_memory_device: str = "") -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        if isinstance(dataset, IterableDataset):
            # The stream decides the order: nothing may reorder or pick its samples.
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if isinstance(dataset, IterableDataset):
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = _check_context(multiprocessing_context, num_workers)
        self.generator = generator
        self.persistent_workers = persistent_workers
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self._workers = None  # the persistent workers, once started
        self._initialized = True

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_initialized") and name in self._frozen_after_init:
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        """What the iterators draw from: lists of indices, or single indices without batching."""
        return self.batch_sampler if self._auto_collation else self.sampler

    def _make_fetcher(self):
        fetcher_type = _worker.IterableFetcher if isinstance(self.dataset, IterableDataset) \
            else _worker.MapFetcher
        return fetcher_type(self.dataset, self._auto_collation, self.collate_fn, self.drop_last,
                            use_fast_path=self.collate_fn is default_collate)

    def __iter__(self):
        # Drawn in every mode so that the default generator advances the same way with and
        # without workers: a seeded run shuffles identically whatever num_workers is.
        base_seed = _draw_seed(self.generator)
        if self.num_workers == 0:
            return _SingleProcessIterator(self)
        try:
            if not self.persistent_workers:
                return _MultiProcessIterator(self, _WorkerPool(self, base_seed), owns_pool=True)
            if self._workers is None:
                self._workers = _WorkerPool(self, base_seed)
                weakref.finalize(self, self._workers.shutdown)
            return _MultiProcessIterator(self, self._workers, owns_pool=False)
        except (OSError, ImportError) as error:  # no semaphores, no /dev/shm, no processes
            warnings.warn(f"DataLoader could not start {self.num_workers} worker processes "
                          f"({error}); loading in the main process instead.", stacklevel=2)
            return _SingleProcessIterator(self)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last \
                    else -(-length // self.batch_size)
            return length
        return len(self._index_sampler)


def _check_context(context, num_workers: int):
    if context is None:
        return None
    if num_workers == 0:
        raise ValueError(f"multiprocessing_context can only be used with multi-process loading "
                         f"(num_workers > 0), but got num_workers={num_workers}")
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start "
                             f"method in {methods!r}, but got "
                             f"multiprocessing_context={context!r}")
        return multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError(f"multiprocessing_context option should be a valid context object or a "
                        f"string specifying the start method, but got "
                        f"multiprocessing_context={context}")
    return context


class _SingleProcessIterator:
    """Loads each batch in this process when it is asked for."""

    def __init__(self, loader: DataLoader) -> None:
        self._length = loader.__len__
        self._batches = iter(loader._index_sampler)
        self._fetcher = loader._make_fetcher()

    def __iter__(self):
        return self

    def __next__(self):
        return self._fetcher.fetch(next(self._batches))

    def __len__(self) -> int:
        return self._length()


class _WorkerPool:
    """The worker processes of one loader: an index queue each, and one shared result queue."""

    def __init__(self, loader: DataLoader, base_seed: int) -> None:
        context = loader.multiprocessing_context or _default_context()
        # A worker forked later (by this or another loader) inherits a copy of this pool; only
        # the process that started the workers may stop them (see ``shutdown``).
        self.owner_pid = os.getpid()
        self.timeout = loader.timeout
        self.epoch = 0
        self.closed = False
        self.workers, self.index_queues = [], []
        self.result_queue = context.Queue()
        try:
            for worker_id in range(loader.num_workers):
                index_queue = context.Queue()
                worker = context.Process(
                    target=_worker.worker_loop, daemon=True,
                    args=(worker_id, loader.num_workers, loader.dataset,
                          isinstance(loader.dataset, IterableDataset), loader._auto_collation,
                          loader.collate_fn, loader.drop_last,
                          loader.collate_fn is default_collate, base_seed + worker_id,
                          loader.worker_init_fn, index_queue, self.result_queue, os.getpid()))
                worker.start()
                self.index_queues.append(index_queue)
                self.workers.append(worker)
        except BaseException:
            self.shutdown()
            raise

    def send(self, worker_id: int, task) -> None:
        self.index_queues[worker_id].put(task)

    def receive(self):
        """The next ``(epoch, batch_number, pickled batch)`` from any worker.

        Raises RuntimeError when ``timeout`` passes or a worker has died.
        """
        waited = 0.0
        while True:
            wait = _worker.POLL_SECONDS
            if self.timeout > 0:
                wait = min(wait, self.timeout - waited)
            try:
                return self.result_queue.get(timeout=wait)
            except queue.Empty:
                waited += wait
            if self.timeout > 0 and waited >= self.timeout:
                raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds")
            dead = [str(worker.pid) for worker in self.workers if not worker.is_alive()]
            if dead:
                self.shutdown()
                raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(dead)}) exited "
                                   f"unexpectedly")

    def shutdown(self) -> None:
        """Stop the workers and close the queues; once, and only in the process that owns them.

        Called when an epoch ends, when an error leaves the iterator, when the iterator (or, for
        persistent workers, the loader) is deleted. In another process, such as a worker of a
        later loader that inherited this pool through fork, it does nothing: joining processes
        that are not its children would fail there.
        """
        if self.closed or os.getpid() != self.owner_pid:
            return
        self.closed = True
        for index_queue in self.index_queues:
            index_queue.put(None)
        deadline = time.monotonic() + 2 * _worker.POLL_SECONDS
        for worker in self.workers:
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                worker.terminate()  # busy with a batch nobody will read
                worker.join()
        for each_queue in (*self.index_queues, self.result_queue):
            each_queue.cancel_join_thread()
            each_queue.close()


def _default_context():
    # fork shares the dataset with the workers instead of pickling a copy to each. Only on
    # Linux: macOS's system libraries are not fork-safe (why Python made spawn its default
    # there), and Windows has no fork.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


class _MultiProcessIterator:
    """One epoch over worker-loaded batches, returned in order.

    Batch ``k`` goes to worker ``k mod num_workers`` (skipping workers whose iterable stream has
    ended). Batches that arrive early wait in ``_arrived`` until their turn. Results tagged with
    an earlier epoch (left over when persistent workers' previous epoch was abandoned) are
    dropped.
    """

    def __init__(self, loader: DataLoader, pool: _WorkerPool, owns_pool: bool) -> None:
        self._length = loader.__len__
        self._pool = pool
        self._owns_pool = owns_pool
        pool.epoch += 1
        self._epoch = pool.epoch
        self._batches = iter(loader._index_sampler)
        self._num_workers = loader.num_workers
        self._streaming = [True] * loader.num_workers  # False once a worker's stream ended
        self._next_worker = 0
        self._sent = 0  # batch numbers handed out so far
        self._next = 0  # the batch number to return next
        self._pending = {}  # batch number -> worker, for batches asked for and not yet here
        self._arrived = {}  # batch number -> pickled batch, for batches here ahead of turn
        if owns_pool:
            weakref.finalize(self, pool.shutdown)
        for _ in range(max(1, loader.prefetch_factor * loader.num_workers)):
            self._request_next()

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return self._length()

    def _request_next(self) -> None:
        """Hand the next batch's indices to the next worker whose stream has not ended."""
        if not any(self._streaming):
            return
        try:
            indices = next(self._batches)
        except StopIteration:
            return
        while not self._streaming[self._next_worker]:
            self._next_worker = (self._next_worker + 1) % self._num_workers
        self._pool.send(self._next_worker, (self._epoch, self._sent, indices))
        self._pending[self._sent] = self._next_worker
        self._sent += 1
        self._next_worker = (self._next_worker + 1) % self._num_workers

    def __next__(self):
        try:
            return self._next_batch()
        except BaseException:
            # The end of the epoch, a worker's error, a timeout or Ctrl-C: stop the workers
            # now, not when the garbage collector finds this iterator (an exception's traceback
            # keeps it alive), so that no idle workers linger into the next loader's epoch.
            self._finish()
            raise

    def _next_batch(self):
        while True:
            # Batch numbers that a worker answered with "stream ended" never come: skip them.
            while self._next < self._sent and self._next not in self._pending \
                    and self._next not in self._arrived:
                self._next += 1
            if self._next in self._arrived:
                data = pickle.loads(self._arrived.pop(self._next))
                self._next += 1
                self._request_next()
                if isinstance(data, _worker.ExceptionWrapper):
                    data.reraise()
                return data
            if not self._pending:
                raise StopIteration
            epoch, batch_number, result = self._pool.receive()
            if epoch != self._epoch:
                continue
            worker_id = self._pending.pop(batch_number)
            if result is None:  # the worker's copy of an iterable dataset has ended
                self._streaming[worker_id] = False
            else:
                self._arrived[batch_number] = result

    def _finish(self) -> None:
        if self._owns_pool:
            self._pool.shutdown()


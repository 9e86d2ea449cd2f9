"""Loading batches: the fetchers that turn indices into a batch, and the worker process loop.

The same fetchers serve both modes. With ``num_workers=0`` the DataLoader calls a fetcher in
the main process; with workers, each worker process runs :func:`worker_loop`, which reads
``(epoch, batch_number, indices)`` tasks from its own queue, fetches, and puts
``(epoch, batch_number, pickled batch)`` on the result queue that all workers share (None in
place of the batch once the worker's copy of an iterable dataset has ended).
"""

import itertools
import os
import pickle
import queue
import random as python_random
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from ... import _parallel, random

# How often an idle worker checks that the main process is still alive, in seconds.
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker process knows about itself (see :func:`get_worker_info`).

    Attributes:
        id: this worker's number, 0 … num_workers - 1.
        num_workers: how many workers the DataLoader started.
        seed: the seed of this worker's default generator (differs between workers).
        dataset: this worker's copy of the dataset.
    """

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info = None


def get_worker_info() -> "WorkerInfo | None":
    """In a DataLoader worker process, its ``WorkerInfo``; in the main process, None.

    An ``IterableDataset`` uses it to give each worker its own share of the stream.

    Example:
        >>> from ember.utils.data import get_worker_info
        >>> get_worker_info() is None  # not inside a worker
        True
    """
    return _worker_info


class MapFetcher:
    """Fetches from a map-style dataset: ``dataset[i]`` for each index, then ``collate_fn``.

    With the default collate function it first offers the batch to the dataset's fast path,
    ``dataset._get_batch(indices)`` (see ``ember.utils.data.dataset``).
    """

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool,
                 use_fast_path: bool) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.get_batch = getattr(dataset, "_get_batch", None) if use_fast_path else None

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.get_batch is not None:
            batch = self.get_batch(index)
            if batch is not None:
                return batch
        get_items = getattr(self.dataset, "__getitems__", None)
        samples = get_items(index) if get_items else [self.dataset[i] for i in index]
        return self.collate_fn(samples)


class IterableFetcher:
    """Fetches from an iterable dataset: the next ``len(index)`` samples of its stream.

    ``fetch`` raises StopIteration when the stream has ended (or, with ``drop_last``, when too
    few samples are left for a full batch).
    """

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool,
                 use_fast_path: bool) -> None:
        self.samples = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.samples))
        batch = list(itertools.islice(self.samples, len(index)))
        if not batch or (self.drop_last and len(batch) < len(index)):
            self.ended = True
            raise StopIteration
        return self.collate_fn(batch)


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback.

    Made inside an ``except`` block: it records the exception being handled.
    """

    def __init__(self, where: str) -> None:
        self.exc_type = sys.exc_info()[0]
        self.exc_name = self.exc_type.__name__
        self.where = where
        self.traceback = "".join(traceback.format_exception(*sys.exc_info()))
        try:
            pickle.dumps(self.exc_type)
        except Exception:  # a class defined inside a function cannot travel; say its name
            self.exc_type = RuntimeError

    def reraise(self):
        message = (f"Caught {self.exc_name} {self.where}.\n"
                   f"Original {self.traceback}")
        if self.exc_type is KeyError:
            message = _KeyErrorMessage(message)
        try:
            error = self.exc_type(message)
        except Exception:  # an exception type whose constructor needs other arguments
            raise RuntimeError(message) from None
        raise error


class _KeyErrorMessage(str):
    """A message that KeyError shows as it is (KeyError shows the repr of its argument)."""

    def __repr__(self) -> str:
        return self


def worker_loop(worker_id: int, num_workers: int, dataset, is_iterable: bool,
                auto_collation: bool, collate_fn, drop_last: bool, use_fast_path: bool,
                seed: int, worker_init_fn, index_queue, result_queue, parent_pid: int) -> None:
    """The body of one worker process: answer tasks until told to stop (a None task)."""
    global _worker_info
    try:
        # One thread per worker, as PyTorch does: the workers already share the CPUs, and
        # ember's own threads in each would only compete for them.
        _parallel.set_num_threads(1)
        # Seed every generator a dataset might use, differently in each worker, so that
        # random augmentations do not repeat across workers.
        python_random.seed(seed)
        random.manual_seed(seed)
        np.random.seed(seed % 2 ** 32)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        init_error = None
        if worker_init_fn is not None:
            try:
                worker_init_fn(worker_id)
            except Exception:
                init_error = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
        make_fetcher = IterableFetcher if is_iterable else MapFetcher
        fetcher, fetcher_epoch = None, None
        while True:
            try:
                task = index_queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if os.getppid() != parent_pid:
                    break  # the main process is gone; nobody will read our results
                continue
            if task is None:
                break
            epoch, batch_number, index = task
            if init_error is not None:
                result_queue.put((epoch, batch_number, pickle.dumps(init_error)))
                continue
            if epoch != fetcher_epoch:
                # A new epoch (persistent workers) restarts the stream of an iterable dataset.
                fetcher = make_fetcher(dataset, auto_collation, collate_fn, drop_last,
                                       use_fast_path)
                fetcher_epoch = epoch
            # Pickle here rather than in the queue's background thread, which would only
            # print an unpicklable batch's error and leave the main process waiting.
            try:
                result = pickle.dumps(fetcher.fetch(index), pickle.HIGHEST_PROTOCOL)
            except StopIteration:  # None answers "my copy of the stream has ended"
                result = None if is_iterable else pickle.dumps(ExceptionWrapper(
                    f"in DataLoader worker process {worker_id}"))
            except Exception:
                result = pickle.dumps(ExceptionWrapper(
                    f"in DataLoader worker process {worker_id}"))
            result_queue.put((epoch, batch_number, result))
    except KeyboardInterrupt:
        pass  # Ctrl-C reaches every process; the main process reports it
    # Results still in the pipe are no longer wanted: exit without waiting to flush them.
    result_queue.cancel_join_thread()

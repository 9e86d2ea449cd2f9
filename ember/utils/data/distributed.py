"""``DistributedSampler``: each rank of a data-parallel job visits its own share of a dataset.

Every rank draws the same permutation (seeded by ``seed + epoch``), pads it by repeating its
start until the length divides by the number of ranks (or, with ``drop_last``, cuts the tail),
and takes every ``num_replicas``-th index from its rank on: the shares are disjoint and of equal
length, so the ranks run the same number of steps. Call ``set_epoch(epoch)`` at the start of
each epoch for a new order, as in PyTorch.
"""

import math
from typing import Iterator

from ... import distributed as dist
from ...ops.creation import randperm
from ...random import Generator
from .sampler import Sampler


class DistributedSampler(Sampler[int]):
    """Indices of ``dataset`` for rank ``rank`` of ``num_replicas`` (default: the process
    group's rank and size).

    Example:
        >>> from ember.utils.data.distributed import DistributedSampler
        >>> list(DistributedSampler(range(5), num_replicas=2, rank=1, shuffle=False))
        [1, 3, 0]
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None:
            if not dist.is_initialized():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size()
        if rank is None:
            if not dist.is_initialized():
                raise RuntimeError("Requires distributed package to be available")
            rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        length = len(dataset)
        if drop_last and length % num_replicas != 0:
            self.num_samples = math.ceil((length - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(length / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        length = len(self.dataset)
        if self.shuffle:
            generator = Generator().manual_seed(self.seed + self.epoch)
            indices = randperm(length, generator=generator).tolist()
        else:
            indices = list(range(length))
        if not self.drop_last:
            missing = self.total_size - len(indices)
            if missing > 0 and indices:  # repeat from the start until the length divides
                indices += (indices * math.ceil(missing / len(indices)))[:missing]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose order the next ``__iter__`` gives (every rank must set the same)."""
        self.epoch = epoch

"""Samplers: the order in which a DataLoader visits a dataset's indices, and how it groups them.

Random samplers draw from an ``ember.Generator``. Without one they draw from the default
generator, so ``ember.manual_seed`` makes every shuffle reproducible.
"""

from typing import Generic, Iterator, Sequence, Sized, TypeVar

import numpy as np

from ... import random
from ...ops.creation import randint, randperm

T_co = TypeVar("T_co", covariant=True)

_CHUNK = 32  # indices drawn at a time by samplers with replacement, as in PyTorch


def _draw_seed(generator=None) -> int:
    """A 62-bit seed drawn from ``generator`` (the default generator when None)."""
    return int(randint(0, 2 ** 62, (), generator=generator).item())


class Sampler(Generic[T_co]):
    """The base class: an iterable over indices (or over lists of indices, for batch samplers).

    Subclasses define ``__iter__`` and, when they know it, ``__len__``.

    Example:
        >>> from ember.utils.data import Sampler
        >>> class Backwards(Sampler):
        ...     def __init__(self, n):
        ...         self.n = n
        ...     def __iter__(self):
        ...         return iter(range(self.n - 1, -1, -1))
        >>> list(Backwards(3))
        [2, 1, 0]
    """

    def __init__(self, data_source: "Sized | None" = None) -> None:
        pass  # accepted for compatibility with subclasses written for older PyTorch

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """0, 1, …, len(data_source) - 1.

    Example:
        >>> from ember.utils.data import SequentialSampler
        >>> list(SequentialSampler("abc"))
        [0, 1, 2]
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Indices in random order: a permutation, or with replacement ``num_samples`` draws.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw with replacement (indices may repeat).
        num_samples: how many indices to yield; ``len(data_source)`` by default. Without
            replacement and more than the length, whole permutations follow one another.
        generator: the ``ember.Generator`` to draw from; it advances each epoch, so epochs
            differ and a seeded run repeats. When None, each epoch seeds a fresh generator
            from the default generator.

    Example:
        >>> import ember
        >>> from ember.utils.data import RandomSampler
        >>> sorted(RandomSampler(range(5), generator=ember.Generator().manual_seed(0)))
        [0, 1, 2, 3, 4]
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: "int | None" = None, generator=None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not _is_positive_int(self.num_samples):
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        # Read the dataset's length at each use: it may change after the sampler is made.
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        generator = self.generator
        if generator is None:
            generator = random.Generator().manual_seed(_draw_seed())
        if self.replacement:
            # In chunks, as PyTorch draws: num_samples may be far more than fits in memory. The
            # numbers are ember.randint's, drawn from its NumPy generator without the tensor
            # around them (a tenth of the time, for 32 numbers).
            if n == 0:  # as ember.randint(0, 0) says
                raise RuntimeError("random_ expects 'from' to be less than 'to', but got "
                                   "from=0 >= to=0")
            rng = random._rng(generator)
            for start in range(0, self.num_samples, _CHUNK):
                size = min(_CHUNK, self.num_samples - start)
                yield from rng.integers(0, n, size, dtype=np.int64).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from randperm(n, generator=generator).tolist()
        yield from randperm(n, generator=generator).tolist()[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices, in random order.

    Example:
        >>> from ember.utils.data import SubsetRandomSampler
        >>> sorted(SubsetRandomSampler([10, 20, 30]))
        [10, 20, 30]
    """

    def __init__(self, indices: Sequence[int], generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for position in randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[position]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """Indices 0 … len(weights)-1 drawn with probability proportional to ``weights``.

    Args:
        weights: one non-negative weight per index (need not sum to 1).
        num_samples: how many indices to draw.
        replacement: draw with replacement; without it, no index comes twice.
        generator: the ``ember.Generator`` to draw from (the default generator when None).

    Example:
        >>> from ember.utils.data import WeightedRandomSampler
        >>> set(WeightedRandomSampler([0.0, 1.0, 0.0], 5))
        {1}
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        if not _is_positive_int(num_samples):
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        weights_array = np.asarray(weights, dtype=np.float64)
        if weights_array.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_array.shape)}")
        self.weights = weights_array
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        _check_distribution(self.weights)
        rng = random._rng(self.generator)
        if not self.replacement:  # at most len(weights) draws: no need for chunks
            if self.num_samples > len(self.weights):
                raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                                   "replacement")
            # The largest keys weight / Exp(1) are a draw without replacement, as PyTorch's
            # multinomial makes it: zero weights (key 0) come once the others are drawn.
            keys = self.weights / rng.exponential(size=len(self.weights))
            yield from np.argsort(-keys, kind="stable")[:self.num_samples].tolist()
            return
        # Inverse-CDF draws in chunks (the numbers rng.choice would draw, whose draws of all
        # num_samples at once could need more memory than there is).
        cdf = np.cumsum(self.weights / self.weights.sum())
        cdf /= cdf[-1]
        for start in range(0, self.num_samples, _CHUNK):
            size = min(_CHUNK, self.num_samples - start)
            yield from cdf.searchsorted(rng.random(size), side="right").tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list]):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    Args:
        sampler: any iterable of indices.
        batch_size: the size of each list.
        drop_last: drop the last list when it is short; otherwise yield it.

    Example:
        >>> from ember.utils.data import BatchSampler, SequentialSampler
        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler: Iterator[int], batch_size: int, drop_last: bool) -> None:
        if not _is_positive_int(batch_size):
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list]:
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)


def _check_distribution(weights: np.ndarray) -> None:
    """PyTorch's checks of multinomial weights, with its messages."""
    if np.any(weights < 0) or np.any(np.isnan(weights)):
        raise RuntimeError("invalid multinomial distribution (encountering probability entry "
                           "< 0)")
    if np.any(np.isinf(weights)):
        raise RuntimeError("invalid multinomial distribution (encountering probability entry "
                           "= infinity or NaN)")
    if weights.sum() <= 0:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


def _is_positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0

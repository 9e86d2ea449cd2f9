"""Datasets: map-style (``dataset[i]`` and ``len``) and iterable-style (``iter(dataset)``).

A map-style dataset may also offer ember's batch fast path, a method
``_get_batch(indices) -> batch or None``. It returns exactly what ``default_collate`` would build
from ``[dataset[i] for i in indices]``, but in one vectorised step (one fancy index into an array
instead of a Python call per sample and a stack). It returns None when it cannot (a transform it
does not know how to batch, say), and the DataLoader then falls back to sample-by-sample loading.
The DataLoader uses it only with its default collate function. ``TensorDataset`` and ``Subset``
implement it here; the vision datasets do too.
"""

import bisect
import math
import warnings
from typing import Generic, Iterable, Iterator, Sequence, TypeVar

import numpy as np

from ..._backend import array_module
from ..._tensor import Tensor
from ...ops.creation import randperm

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """A map from indices (0 … len-1) to samples. Subclasses define ``__getitem__`` and
    usually ``__len__``.

    Example:
        >>> from ember.utils.data import Dataset
        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, index):
        ...         return index * index
        >>> [Squares()[i] for i in range(4)]
        [0, 1, 4, 9]
    """

    def __getitem__(self, index) -> T_co:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: "Dataset[T_co]") -> "ConcatDataset[T_co]":
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """A stream of samples. Subclasses define ``__iter__``.

    With ``num_workers > 0`` every worker process iterates its own copy of the dataset; use
    ``get_worker_info()`` inside ``__iter__`` to give each worker its share, or each sample
    comes once per worker.

    Example:
        >>> from ember.utils.data import DataLoader, IterableDataset
        >>> class Count(IterableDataset):
        ...     def __iter__(self):
        ...         return iter(range(5))
        >>> [batch.tolist() for batch in DataLoader(Count(), batch_size=2)]
        [[0, 1], [2, 3], [4]]
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: "Dataset[T_co]") -> "ChainDataset":
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are rows: item ``i`` is ``tuple(tensor[i] for tensor in tensors)``.

    Args:
        *tensors: tensors with the same size in their first dimension.

    Example:
        >>> import ember
        >>> from ember.utils.data import TensorDataset
        >>> dataset = TensorDataset(ember.zeros(3, 2), ember.tensor([7, 8, 9]))
        >>> len(dataset), dataset[1][1]
        (3, tensor(8))
    """

    def __init__(self, *tensors: Tensor) -> None:
        if any(tensor.size(0) != tensors[0].size(0) for tensor in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)

    def _get_batch(self, indices):
        """The collated batch ``[stack of rows, …]`` by one fancy index per tensor."""
        if any(tensor.requires_grad for tensor in self.tensors):
            return None  # the slow path records the indexing in the graph; keep that
        rows = np.asarray(indices, dtype=np.int64)
        return [Tensor._wrap(tensor._data[array_module(tensor._data).asarray(rows)])
                for tensor in self.tensors]


class Subset(Dataset[T_co]):
    """The samples of ``dataset`` at ``indices``, in that order.

    Example:
        >>> from ember.utils.data import Subset
        >>> subset = Subset(list("abcdef"), [5, 0])
        >>> len(subset), subset[0], subset[1]
        (2, 'f', 'a')
    """

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)

    def _get_batch(self, indices):
        get_batch = getattr(self.dataset, "_get_batch", None)
        if get_batch is None:
            return None
        return get_batch([self.indices[i] for i in indices])


class ConcatDataset(Dataset[T_co]):
    """Several map-style datasets one after the other.

    Example:
        >>> from ember.utils.data import ConcatDataset
        >>> both = ConcatDataset([[1, 2, 3], [4, 5]])
        >>> len(both), both[3], both[-1]
        (5, 4, 5)
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for dataset in self.datasets:
            total += len(dataset)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """Several iterable datasets one after the other.

    Example:
        >>> from ember.utils.data import ChainDataset
        >>> list(ChainDataset([range(2), range(3)]))
        [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self):
        for dataset in self.datasets:
            yield from dataset

    def __len__(self) -> int:
        return sum(len(dataset) for dataset in self.datasets)


def random_split(dataset: Dataset[T_co], lengths: Sequence, generator=None) -> "list[Subset]":
    """Split ``dataset`` at random into non-overlapping subsets of the given lengths.

    Args:
        dataset: the map-style dataset to split.
        lengths: the sizes of the pieces, as integers summing to ``len(dataset)`` or as fractions
            summing to 1 (each piece gets ``floor(fraction * len)`` items, and the items left
            over go one each to the pieces in turn, starting with the first).
        generator: the ``ember.Generator`` that draws the permutation; the default generator
            when None (so ``ember.manual_seed`` makes the split reproducible).

    Example:
        >>> import ember
        >>> from ember.utils.data import random_split
        >>> train, val = random_split(range(10), [0.8, 0.2],
        ...                           generator=ember.Generator().manual_seed(0))
        >>> len(train), len(val), sorted(list(train) + list(val)) == list(range(10))
        (8, 2, True)
    """
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _lengths_from_fractions(lengths, len(dataset))
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = randperm(sum(lengths), generator=generator).tolist()
    pieces, start = [], 0
    for length in lengths:
        pieces.append(Subset(dataset, order[start:start + length]))
        start += length
    return pieces


def _lengths_from_fractions(fractions: list, total: int) -> list:
    for i, fraction in enumerate(fractions):
        if fraction < 0 or fraction > 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
    lengths = [int(math.floor(total * fraction)) for fraction in fractions]
    for i in range(total - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, length in enumerate(lengths):
        if length == 0:
            warnings.warn(f"Length of split at index {i} is 0. This might result in an empty "
                          f"dataset.", stacklevel=3)
    return lengths

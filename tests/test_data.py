"""ember.utils.data against torch.utils.data: the same datasets give the same batches and errors."""

import collections
import itertools
import multiprocessing
import os
import random
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pytest
import torch
import torch.utils.data as torch_data

import ember
import ember.utils.data as data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
Point = collections.namedtuple("Point", ["x", "y"])


def plain(obj):
    """A framework-neutral form of a batch: tensors become (dtype name, values)."""
    if isinstance(obj, (ember.Tensor, torch.Tensor)):
        return ("tensor", str(obj.dtype).split(".")[-1], obj.tolist())
    if isinstance(obj, dict):
        return {key: plain(value) for key, value in obj.items()}
    if isinstance(obj, tuple):
        return (type(obj).__name__, *[plain(value) for value in obj])
    if isinstance(obj, list):
        return [plain(value) for value in obj]
    return obj


def tensor_datasets(n=10):
    """The same TensorDataset in ember and in torch: n rows of 2 floats and an int label."""
    features = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
    labels = np.arange(n) % 3
    return (data.TensorDataset(ember.tensor(features), ember.tensor(labels)),
            torch_data.TensorDataset(torch.tensor(features), torch.tensor(labels)))


def per_sample(batch):
    """default_collate, but not recognisable as it: forces the sample-by-sample path."""
    return data.default_collate(batch)


def raised(function):
    """(type, message) of the exception ``function`` raises."""
    with pytest.raises(Exception) as info:
        function()
    return type(info.value), str(info.value)


# ---- datasets ------------------------------------------------------------------------------

def test_tensor_dataset_items_and_length():
    ours, theirs = tensor_datasets(4)
    assert len(ours) == len(theirs) == 4
    assert plain(ours[2]) == plain(theirs[2])


def test_tensor_dataset_size_mismatch_raises_like_torch():
    ours = raised(lambda: data.TensorDataset(ember.ones(2), ember.ones(3)))
    theirs = raised(lambda: torch_data.TensorDataset(torch.ones(2), torch.ones(3)))
    assert ours == theirs == (AssertionError, "Size mismatch between tensors")


def test_dataset_base_class_and_addition():
    with pytest.raises(NotImplementedError):
        data.Dataset()[0]
    ours, _ = tensor_datasets(3)
    both = ours + ours
    assert isinstance(both, data.ConcatDataset) and len(both) == 6


def test_subset_indexes_through():
    subset = data.Subset(list("abcdef"), [4, 0, 2])
    assert len(subset) == 3
    assert [subset[i] for i in range(3)] == ["e", "a", "c"]


def test_concat_dataset_matches_torch():
    parts = [list(range(3)), list(range(10, 12)), list(range(20, 24))]
    ours, theirs = data.ConcatDataset(parts), torch_data.ConcatDataset(parts)
    assert len(ours) == len(theirs) == 9
    assert ours.cumulative_sizes == theirs.cumulative_sizes
    assert [ours[i] for i in range(-9, 9)] == [theirs[i] for i in range(-9, 9)]
    assert raised(lambda: ours[-10]) == raised(lambda: theirs[-10])
    assert raised(lambda: data.ConcatDataset([])) == raised(lambda: torch_data.ConcatDataset([]))


def test_chain_dataset_and_iterable_addition():
    class Upto(data.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

    chained = Upto(2) + Upto(3)
    assert isinstance(chained, data.ChainDataset)
    assert list(chained) == [0, 1, 0, 1, 2]


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.33, 0.33, 0.34], [0.1, 0.2, 0.7],
                                     [10], [1.0]])
def test_random_split_sizes_match_torch(lengths):
    ours = data.random_split(range(10), lengths, generator=ember.Generator().manual_seed(0))
    theirs = torch_data.random_split(range(10), lengths,
                                     generator=torch.Generator().manual_seed(0))
    assert [len(piece) for piece in ours] == [len(piece) for piece in theirs]
    items = [item for piece in ours for item in piece]
    assert sorted(items) == list(range(10))


def test_random_split_is_reproducible():
    def split(generator=None):
        return [list(piece) for piece in data.random_split(range(20), [5, 15], generator)]

    assert split(ember.Generator().manual_seed(3)) == split(ember.Generator().manual_seed(3))
    ember.manual_seed(7)
    first = split()
    ember.manual_seed(7)
    assert split() == first


@pytest.mark.parametrize("lengths", [[3, 3], [0.5, 0.6], [1.5, -0.5]])
def test_random_split_errors_match_torch(lengths):
    assert raised(lambda: data.random_split(range(10), lengths)) == \
        raised(lambda: torch_data.random_split(range(10), lengths))


def test_random_split_warns_about_an_empty_piece():
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        data.random_split(range(2), [0.9, 0.1])


# ---- samplers ------------------------------------------------------------------------------

def test_sequential_sampler():
    assert list(data.SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert len(data.SequentialSampler(range(4))) == 4


def test_random_sampler_is_a_reproducible_permutation():
    first = list(data.RandomSampler(range(50), generator=ember.Generator().manual_seed(1)))
    again = list(data.RandomSampler(range(50), generator=ember.Generator().manual_seed(1)))
    assert first == again and sorted(first) == list(range(50)) and first != list(range(50))


def test_random_sampler_epochs_differ_and_follow_manual_seed():
    sampler = data.RandomSampler(range(30))
    ember.manual_seed(5)
    epoch1, epoch2 = list(sampler), list(sampler)
    assert epoch1 != epoch2
    ember.manual_seed(5)
    assert list(sampler) == epoch1


def test_random_sampler_num_samples_and_replacement():
    generator = ember.Generator().manual_seed(0)
    drawn = list(data.RandomSampler(range(4), num_samples=10, generator=generator))
    assert len(drawn) == 10 and sorted(drawn[:8]) == [0, 0, 1, 1, 2, 2, 3, 3]
    with_replacement = data.RandomSampler(range(3), replacement=True, num_samples=50)
    values = list(with_replacement)
    assert len(with_replacement) == 50 and len(values) == 50 and set(values) <= {0, 1, 2}


@pytest.mark.parametrize("kwargs", [{"replacement": 1}, {"num_samples": 0},
                                    {"num_samples": -2}])
def test_random_sampler_errors_match_torch(kwargs):
    assert raised(lambda: data.RandomSampler(range(3), **kwargs)) == \
        raised(lambda: torch_data.RandomSampler(range(3), **kwargs))


def test_subset_random_sampler():
    sampler = data.SubsetRandomSampler([10, 20, 30, 40])
    assert len(sampler) == 4 and sorted(sampler) == [10, 20, 30, 40]


def test_weighted_random_sampler():
    sampler = data.WeightedRandomSampler([0.0, 3.0, 0.0, 1.0], 200)
    values = list(sampler)
    assert len(sampler) == 200 and set(values) == {1, 3}
    assert values.count(1) > values.count(3)
    no_repeats = list(data.WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False))
    assert sorted(no_repeats) == [0, 1, 2]


@pytest.mark.parametrize("args", [([1.0, 2.0], 0), ([1.0, 2.0], 2, 2), ([[1.0, 2.0]], 2)])
def test_weighted_random_sampler_errors_match_torch(args):
    assert raised(lambda: data.WeightedRandomSampler(*args)) == \
        raised(lambda: torch_data.WeightedRandomSampler(*args))


@pytest.mark.parametrize("weights", [[1.0, -1.0], [0.0, 0.0], [1.0, float("nan")],
                                     [1.0, float("inf")]])
def test_weighted_random_sampler_bad_weights_match_torch(weights):
    """As in PyTorch, the weights are checked when drawing, not when the sampler is made."""
    assert raised(lambda: list(data.WeightedRandomSampler(weights, 3))) == \
        raised(lambda: list(torch_data.WeightedRandomSampler(weights, 3)))


def test_weighted_sampler_without_replacement_as_torch():
    """Zero weights are drawn once the others are; more draws than weights raise."""
    drawn = list(data.WeightedRandomSampler([1.0, 0.0, 2.0, 0.0], 4, replacement=False))
    assert sorted(drawn[:2]) == [0, 2] and sorted(drawn[2:]) == [1, 3]
    assert len(list(torch_data.WeightedRandomSampler([1.0, 0.0, 2.0, 0.0], 4,
                                                     replacement=False))) == 4
    first = [next(iter(data.WeightedRandomSampler([1.0, 3.0], 1, replacement=False)))
             for _ in range(400)]
    assert 250 < first.count(1) < 350  # drawn first with probability 3/4
    args = ([1.0, 1.0], 3, False)
    assert raised(lambda: list(data.WeightedRandomSampler(*args))) == \
        raised(lambda: list(torch_data.WeightedRandomSampler(*args)))


def test_random_sampler_of_an_empty_dataset_with_replacement_as_torch():
    def draw(module):
        return list(module.RandomSampler(range(0), replacement=True, num_samples=3))
    assert raised(lambda: draw(data)) == raised(lambda: draw(torch_data))


def test_random_sampler_with_replacement_draws_as_randint():
    drawn = list(data.RandomSampler(range(7), replacement=True, num_samples=100,
                                    generator=ember.Generator().manual_seed(4)))
    generator = ember.Generator().manual_seed(4)
    expected = [ember.randint(0, 7, (32,), generator=generator).tolist() for _ in range(3)]
    expected.append(ember.randint(0, 7, (4,), generator=generator).tolist())
    assert drawn == sum(expected, [])


def test_weighted_sampler_draws_as_numpy_choice():
    """Chunked draws are the numbers one call of Generator.choice would draw."""
    weights = np.array([0.5, 3.0, 0.0, 1.0, 2.5])
    drawn = list(data.WeightedRandomSampler(weights, 1000,
                                            generator=ember.Generator().manual_seed(3)))
    rng = ember.random._rng(ember.Generator().manual_seed(3))
    assert drawn == rng.choice(5, size=1000, p=weights / weights.sum()).tolist()


@pytest.mark.parametrize("make", [
    lambda: data.RandomSampler(range(10), replacement=True, num_samples=10 ** 10),
    lambda: data.WeightedRandomSampler([1.0, 2.0, 3.0], num_samples=10 ** 10),
    lambda: data.RandomSampler(range(10), num_samples=10 ** 10),
])
def test_samplers_of_huge_num_samples_draw_lazily(make):
    """10**10 indices would take 74 GiB at once: the first 100 must come from a few small
    draws (PyTorch draws 32 at a time)."""
    sampler = make()
    assert len(sampler) == 10 ** 10
    tracemalloc.start()
    try:
        first = list(itertools.islice(iter(sampler), 100))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(first) == 100 and all(0 <= index < 10 for index in first)
    assert peak < 1 << 20, f"{peak} bytes to draw 100 indices"


@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True),
                                                   (5, True), (7, False)])
def test_batch_sampler_matches_torch(batch_size, drop_last):
    ours = data.BatchSampler(data.SequentialSampler(range(10)), batch_size, drop_last)
    theirs = torch_data.BatchSampler(torch_data.SequentialSampler(range(10)), batch_size,
                                     drop_last)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)


@pytest.mark.parametrize("args", [(0, False), (-1, False), (2.0, False), (True, False), (2, 1)])
def test_batch_sampler_errors_match_torch(args):
    assert raised(lambda: data.BatchSampler(range(5), *args)) == \
        raised(lambda: torch_data.BatchSampler(range(5), *args))


# ---- collation -----------------------------------------------------------------------------

SAMPLES = {
    "tensors": lambda lib: [lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])],
    "tuples": lambda lib: [(lib.tensor([1.0]), 1, 0.5, "a"), (lib.tensor([2.0]), 2, 1.5, "b")],
    "dicts": lambda lib: [{"image": lib.zeros(2, 2), "label": 3, "name": "x"},
                          {"image": lib.ones(2, 2), "label": 4, "name": "y"}],
    "namedtuples": lambda lib: [Point(1.0, lib.tensor(1)), Point(2.0, lib.tensor(2))],
    "nested lists": lambda lib: [[1, [2.5, "p"]], [3, [4.5, "q"]]],
    "bools": lambda lib: [True, False, True],
    "int then float": lambda lib: [2, 1.5],
    "numpy arrays": lambda lib: [np.array([1, 2], dtype=np.uint8), np.array([3, 4],
                                                                            dtype=np.uint8)],
    "numpy scalars": lambda lib: [np.float64(0.1), np.float64(0.2)],
    "numpy int32": lambda lib: [np.int32(1), np.int32(2)],
    "float precision": lambda lib: [0.1, 0.2],
}


@pytest.mark.parametrize("name", SAMPLES)
def test_default_collate_matches_torch(name):
    ours = data.default_collate(SAMPLES[name](ember))
    theirs = torch_data.default_collate(SAMPLES[name](torch))
    assert plain(ours) == plain(theirs)


@pytest.mark.parametrize("batch", [[[1, 2], [3]], [None, None], [np.array(["a"])] * 2,
                                   [object(), object()]])
def test_default_collate_errors_match_torch(batch):
    assert raised(lambda: data.default_collate(batch)) == \
        raised(lambda: torch_data.default_collate(batch))


def test_default_collate_keeps_mapping_type():
    batch = [collections.OrderedDict(b=1, a=2), collections.OrderedDict(b=3, a=4)]
    collated = data.default_collate(batch)
    assert isinstance(collated, collections.OrderedDict) and list(collated) == ["b", "a"]


def test_default_convert_matches_torch():
    sample = {"x": np.array([1.5, 2.5]), "pair": (np.float64(2.0), "a"), "n": 3,
              "point": Point(np.int64(1), "b")}
    assert plain(data.default_convert(sample)) == plain(torch_data.default_convert(sample))


# ---- DataLoader, one process ---------------------------------------------------------------

@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True),
                                                   (4, False), (10, False), (12, True),
                                                   (12, False)])
def test_loader_batches_match_torch(batch_size, drop_last):
    ours, theirs = tensor_datasets(10)
    loader = data.DataLoader(ours, batch_size=batch_size, drop_last=drop_last)
    reference = torch_data.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == len(reference)
    assert plain(list(loader)) == plain(list(reference))


def test_loader_without_batching_matches_torch():
    class Arrays(data.Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, index):
            return np.full(2, index), index

    ours = list(data.DataLoader(Arrays(), batch_size=None))
    theirs = list(torch_data.DataLoader(Arrays(), batch_size=None))
    assert plain(ours) == plain(theirs)


def test_loader_with_batch_sampler_and_sampler():
    ours, theirs = tensor_datasets(10)
    batches = [[9, 0], [5, 5, 1]]
    assert plain(list(data.DataLoader(ours, batch_sampler=batches))) == \
        plain(list(torch_data.DataLoader(theirs, batch_sampler=batches)))
    assert plain(list(data.DataLoader(ours, sampler=[3, 1, 2], batch_size=2))) == \
        plain(list(torch_data.DataLoader(theirs, sampler=[3, 1, 2], batch_size=2)))


def test_loader_fast_path_equals_per_sample_path():
    ours, _ = tensor_datasets(10)
    for dataset in (ours, data.Subset(ours, [7, 2, 9, 0, 4])):
        fast = list(data.DataLoader(dataset, batch_size=3))
        slow = list(data.DataLoader(dataset, batch_size=3, collate_fn=per_sample))
        assert plain(fast) == plain(slow)


def test_loader_keeps_the_graph_of_tensors_that_require_grad():
    weights = ember.ones(4, 2, requires_grad=True)
    batch = next(iter(data.DataLoader(data.TensorDataset(weights), batch_size=2)))
    assert batch[0].grad_fn is not None


def rows(loader):
    """The dataset indices in a loader's batches, in order (row i is [2i, 2i + 1])."""
    return [int(row[0]) // 2 for features, _ in loader for row in features.tolist()]


def test_shuffle_with_generator_is_reproducible_and_changes_each_epoch():
    ours, _ = tensor_datasets(20)

    def two_epochs(seed):
        generator = ember.Generator().manual_seed(seed)
        loader = data.DataLoader(ours, batch_size=4, shuffle=True, generator=generator)
        return rows(loader), rows(loader)

    epoch1, epoch2 = two_epochs(3)
    assert (epoch1, epoch2) == two_epochs(3)
    assert epoch1 != epoch2 and sorted(epoch1) == sorted(epoch2) == list(range(20))


def test_shuffle_without_generator_follows_manual_seed():
    ours, _ = tensor_datasets(20)
    loader = data.DataLoader(ours, batch_size=5, shuffle=True)
    ember.manual_seed(11)
    first = rows(loader)
    ember.manual_seed(11)
    assert rows(loader) == first
    assert sorted(first) == list(range(20)) and first != list(range(20))


class Count(data.IterableDataset):
    """0 … n-1; in workers, each worker yields its own share (i ≡ worker id mod workers)."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = data.get_worker_info() or torch_data.get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self):
        return self.n


class TorchCount(Count, torch_data.IterableDataset):
    pass


@pytest.mark.parametrize("batch_size, drop_last", [(2, False), (2, True), (3, False),
                                                   (None, False)])
def test_iterable_dataset_batches_match_torch(batch_size, drop_last):
    loader = data.DataLoader(Count(7), batch_size=batch_size, drop_last=drop_last)
    reference = torch_data.DataLoader(TorchCount(7), batch_size=batch_size, drop_last=drop_last)
    assert plain(list(loader)) == plain(list(reference))
    assert len(loader) == len(reference)


@pytest.mark.parametrize("kwargs", [{"shuffle": True}, {"sampler": [1]},
                                    {"batch_sampler": [[1]]}])
def test_iterable_dataset_errors_match_torch(kwargs):
    assert raised(lambda: data.DataLoader(Count(3), **kwargs)) == \
        raised(lambda: torch_data.DataLoader(TorchCount(3), **kwargs))


LOADER_ERRORS = [
    {"num_workers": -1}, {"timeout": -1}, {"prefetch_factor": 2},
    {"num_workers": 1, "prefetch_factor": -1}, {"persistent_workers": True},
    {"shuffle": True, "sampler": [0, 1]},
    {"batch_size": 2, "batch_sampler": [[0]]}, {"shuffle": True, "batch_sampler": [[0]]},
    {"drop_last": True, "batch_sampler": [[0]]}, {"sampler": [0], "batch_sampler": [[0]]},
    {"batch_size": None, "drop_last": True}, {"batch_size": 0},
    {"num_workers": 1, "multiprocessing_context": "bogus"},
    {"multiprocessing_context": "spawn"},
]


@pytest.mark.parametrize("kwargs", LOADER_ERRORS)
def test_loader_argument_errors_match_torch(kwargs):
    ours, theirs = tensor_datasets(4)
    assert raised(lambda: data.DataLoader(ours, **kwargs)) == \
        raised(lambda: torch_data.DataLoader(theirs, **kwargs))


def test_loader_attributes_are_frozen_after_init():
    ours, theirs = tensor_datasets(4)
    loader, reference = data.DataLoader(ours), torch_data.DataLoader(theirs)
    for name in ("batch_size", "sampler", "dataset", "drop_last"):
        assert raised(lambda name=name: setattr(loader, name, 1)) == \
            raised(lambda name=name: setattr(reference, name, 1))
    loader.num_workers = 0  # the others may change


def test_worker_info_is_none_in_the_main_process():
    assert data.get_worker_info() is None


# ---- DataLoader, worker processes ----------------------------------------------------------

class Records(data.Dataset):
    """Dict samples with strings and arrays: exercises the per-sample path in workers."""

    def __len__(self):
        return 11

    def __getitem__(self, index):
        return {"value": ember.tensor([index, -index]), "name": f"item{index}",
                "array": np.full(3, index, dtype=np.float32)}


@pytest.mark.parametrize("shuffle", [False, True])
def test_workers_give_the_same_batches_as_the_main_process(shuffle):
    tensors, _ = tensor_datasets(25)
    for dataset in (tensors, Records()):
        batches = {}
        for workers in (0, 2):
            ember.manual_seed(4)
            loader = data.DataLoader(dataset, batch_size=3, shuffle=shuffle,
                                     num_workers=workers)
            batches[workers] = plain(list(loader))
        assert batches[0] == batches[2]


def test_workers_with_prefetch_factor_and_drop_last():
    tensors, _ = tensor_datasets(10)
    loader = data.DataLoader(tensors, batch_size=4, drop_last=True, num_workers=3,
                             prefetch_factor=1)
    assert len(loader) == 2
    assert plain(list(loader)) == plain(list(data.DataLoader(tensors, batch_size=4,
                                                             drop_last=True)))


def test_persistent_workers_serve_several_epochs_even_when_one_is_abandoned():
    tensors, _ = tensor_datasets(12)
    loader = data.DataLoader(tensors, batch_size=2, num_workers=2, persistent_workers=True)
    expected = plain(list(data.DataLoader(tensors, batch_size=2)))
    assert plain(list(loader)) == expected
    next(iter(loader))  # start an epoch and leave it: its late batches must not leak
    assert plain(list(loader)) == expected
    assert plain(list(loader)) == expected


def test_iterable_dataset_in_workers_matches_torch():
    ours = list(data.DataLoader(Count(9), batch_size=2, num_workers=2))
    theirs = list(torch_data.DataLoader(TorchCount(9), batch_size=2, num_workers=2))
    assert plain(ours) == plain(theirs)


class Faulty(data.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, index):
        if index == 4:
            raise KeyError(f"no item {index}")
        return index


def test_worker_errors_reach_the_main_process_with_their_type():
    loader = data.DataLoader(Faulty(), batch_size=2, num_workers=2)
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 0"):
        list(loader)
    batches = iter(data.DataLoader(Faulty(), batch_size=2, num_workers=2))
    assert next(batches).tolist() == [0, 1]  # batches before the failing one still arrive


def test_a_worker_error_stops_the_workers_before_it_propagates():
    # Only children this test starts count: others (of earlier tests) may end meanwhile.
    before = set(multiprocessing.active_children())

    def new_children():
        return set(multiprocessing.active_children()) - before

    with pytest.raises(KeyError) as info:
        list(data.DataLoader(Faulty(), batch_size=2, num_workers=2))
    # The exception (held in ``info``) keeps the iterator alive; its workers are gone anyway.
    assert info.value is not None and new_children() == set()
    batches = iter(data.DataLoader(Faulty(), batch_size=2, num_workers=2))
    next(batches)
    assert len(new_children()) == 2
    del batches  # an iterator abandoned mid-epoch stops its workers when it is deleted
    assert new_children() == set()


# Run in a fresh interpreter so that stderr holds only what the loaders print. The first loader
# fails in a worker; the iterator of the second is abandoned in a reference cycle, which only the
# garbage collector frees. The last loader's workers (forked copies of this process, with both
# pools in their memory) run the collector on every item: a pool must not try to stop workers
# that are not its own process's children.
LOADERS_AFTER_A_FAILURE = """
import gc
from ember.utils import data


class Faulty(data.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, index):
        if index == 4:
            raise KeyError(index)
        return index


class Collecting(data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, index):
        gc.collect()
        return index


try:
    list(data.DataLoader(Faulty(), batch_size=2, num_workers=2))
except KeyError:
    pass
abandoned = iter(data.DataLoader(Faulty(), batch_size=2, num_workers=2))
next(abandoned)
abandoned.cycle = abandoned
del abandoned
print([batch.tolist() for batch in data.DataLoader(Collecting(), batch_size=4, num_workers=2)])
"""


def test_loaders_after_a_failing_one_run_cleanly():
    result = subprocess.run([sys.executable, "-c", LOADERS_AFTER_A_FAILURE], capture_output=True,
                            text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[[0, 1, 2, 3], [4, 5, 6, 7]]"
    assert result.stderr == ""


class Draws(data.Dataset):
    """Returns which worker served the item, its seed, and a draw from each generator."""

    tag = "main"

    def __len__(self):
        return 8

    def __getitem__(self, index):
        info = data.get_worker_info()
        return (info.id, info.seed, self.tag, ember.rand(1).item(), float(np.random.rand()),
                random.random())


def tag_worker(worker_id):
    data.get_worker_info().dataset.tag = f"worker {worker_id}"


def test_workers_are_seeded_differently_and_initialised():
    dataset = Draws()
    loader = data.DataLoader(dataset, batch_size=None, num_workers=2, worker_init_fn=tag_worker)
    items = list(loader)
    by_worker = {item[0]: item for item in items}
    assert set(by_worker) == {0, 1}
    zero, one = by_worker[0], by_worker[1]
    assert one[1] == zero[1] + 1
    assert (zero[2], one[2]) == ("worker 0", "worker 1")
    assert all(zero[k] != one[k] for k in (3, 4, 5))
    assert dataset.tag == "main"  # the workers changed their own copies


class Slow(data.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, index):
        time.sleep(0.6)
        return index


def test_worker_timeout_raises():
    loader = data.DataLoader(Slow(), num_workers=1, timeout=0.2)
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        next(iter(loader))


class Crashing(data.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, index):
        os._exit(3)


def test_a_dead_worker_is_reported():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited"):
        list(data.DataLoader(Crashing(), num_workers=1))


def test_spawned_workers_give_the_same_batches():
    tensors, _ = tensor_datasets(7)
    loader = data.DataLoader(tensors, batch_size=3, num_workers=1,
                             multiprocessing_context="spawn")
    assert plain(list(loader)) == plain(list(data.DataLoader(tensors, batch_size=3)))


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="patches the fork start method, the default on Linux only")
def test_loader_falls_back_to_the_main_process_when_workers_cannot_start(monkeypatch):
    def refuse(self):
        raise OSError("no processes here")

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", refuse)
    tensors, _ = tensor_datasets(5)
    with pytest.warns(UserWarning, match="loading in the main process instead"):
        batches = list(data.DataLoader(tensors, batch_size=2, num_workers=2))
    assert plain(batches) == plain(list(data.DataLoader(tensors, batch_size=2)))

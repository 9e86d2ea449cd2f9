"""Intra-op threads: ``parallel_for`` itself, and the ops that split their batch with it.

The ops' split paths only run for large work; these tests force them on small inputs (any
work splits, three threads so that chunks are uneven) and compare with PyTorch and with the
same op on one thread.
"""

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
import ember.nn.functional as F
from ember import _parallel


@pytest.fixture
def split_everything(monkeypatch):
    """Every op that can split does, over three threads; restored afterwards."""
    monkeypatch.setattr(_parallel, "MIN_PARALLEL_WORK", 0)
    monkeypatch.setattr(_parallel, "MIN_KERNEL_WORK", 0)
    threads = ember.get_num_threads()
    ember.set_num_threads(3)
    yield
    ember.set_num_threads(threads)


def test_num_threads_default_and_errors():
    assert ember.get_num_threads() >= 1
    with pytest.raises(RuntimeError, match="positive integer"):
        ember.set_num_threads(0)
    with pytest.raises(RuntimeError, match="expects an int, but got float"):
        ember.set_num_threads(1.5)
    with pytest.raises(RuntimeError, match="positive integer"):
        torch.set_num_threads(0)  # the same wording as PyTorch


def test_num_threads_accepts_numpy_integers():
    threads = ember.get_num_threads()
    try:
        ember.set_num_threads(np.int64(3))
        assert ember.get_num_threads() == 3
    finally:
        ember.set_num_threads(threads)


@pytest.mark.parametrize("setting,expected", [("3", "3"), ("abc", None), ("0", None)])
def test_num_threads_from_the_environment(setting, expected):
    env = dict(os.environ, EMBER_NUM_THREADS=setting)
    code = "import os, ember; print(ember.get_num_threads(), len(os.sched_getaffinity(0)))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    threads, cpus = out.stdout.split()
    assert threads == (expected or cpus)  # a setting that is not a positive integer is ignored
    if expected is None:
        assert "EMBER_NUM_THREADS" in out.stderr and "ignored" in out.stderr


def test_dataloader_workers_use_one_thread():
    from ember.utils.data import DataLoader, Dataset

    class Threads(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return ember.get_num_threads()

    counts = [int(batch) for batch in DataLoader(Threads(), batch_size=None, num_workers=2)]
    assert counts == [1, 1]


def test_a_split_waits_for_its_workers_when_its_own_chunk_is_interrupted(split_everything):
    """A KeyboardInterrupt in the caller's chunk is raised only once the workers are done:
    they write into the op's outputs."""
    import time
    finished = []

    def body(start, stop):
        if start == 0:
            raise KeyboardInterrupt
        time.sleep(0.05)
        finished.append(start)

    with pytest.raises(KeyboardInterrupt):
        _parallel.parallel_for(3, body, work=1)
    assert sorted(finished) == [1, 2]


@settings(max_examples=40, deadline=None)
@given(count=st.integers(0, 50), threads=st.integers(1, 5))
def test_chunks_cover_the_range_once_in_order(count, threads):
    saved, minimum = ember.get_num_threads(), _parallel.MIN_PARALLEL_WORK
    ember.set_num_threads(threads)
    _parallel.MIN_PARALLEL_WORK = 0
    try:
        seen = []
        results = _parallel.parallel_for(count, lambda start, stop: (start, stop), work=1)
    finally:
        ember.set_num_threads(saved)
        _parallel.MIN_PARALLEL_WORK = minimum
    for start, stop in results:
        seen.extend(range(start, stop))
    assert seen == list(range(count))
    assert len(results) == max(1, min(threads, count))


def test_small_work_runs_on_the_calling_thread():
    caller = threading.get_ident()
    results = _parallel.parallel_for(8, lambda start, stop: threading.get_ident(), work=1)
    assert results == [caller]


def test_workers_run_chunks_on_other_threads(split_everything):
    idents = _parallel.parallel_for(6, lambda start, stop: threading.get_ident(), work=1)
    assert len(idents) == 3 and idents[0] == threading.get_ident()
    assert len(set(idents)) == 3


def test_an_error_in_a_worker_reaches_the_caller(split_everything):
    def body(start, stop):
        if start > 0:
            raise ValueError(f"bad chunk {start}")
        return start

    with pytest.raises(ValueError, match="bad chunk"):
        _parallel.parallel_for(9, body, work=1)
    # The pool still works afterwards.
    assert _parallel.parallel_for(3, lambda start, stop: stop - start, work=1) == [1, 1, 1]


def test_a_nested_split_runs_serially(split_everything):
    def outer(start, stop):
        return _parallel.parallel_for(4, lambda a, b: (a, b), work=1)

    for inner in _parallel.parallel_for(3, outer, work=1):
        assert inner in ([(0, 4)], [(0, 1), (1, 2), (2, 3), (3, 4)])


def test_a_forked_child_starts_its_own_workers(split_everything):
    _parallel.parallel_for(3, lambda start, stop: None, work=1)  # start the parent's workers
    code = ("import ember\nfrom ember import _parallel\n_parallel.MIN_PARALLEL_WORK = 0\n"
            "ember.set_num_threads(2)\n"
            "import os\npid = os.fork()\n"
            "if pid == 0:\n"
            "    print(_parallel.parallel_for(4, lambda a, b: b - a, work=1), flush=True)\n"
            "    os._exit(0)\n"
            "os.waitpid(pid, 0)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "[2, 2]"


needs_kernels = pytest.mark.skipif(ember._C.kernels is None, reason="no compiled extension")


def _gelu_in_parts(values, parts):
    """The exact GELU kernel's output over ``values`` in ``parts`` ranges (ember/_C/threads.c)."""
    from ember.ops.activation import _erf_series
    out, cdf = np.empty_like(values), np.empty_like(values)
    ember._C.kernels.gelu_erf_forward(values, out, cdf, _erf_series(values.dtype), parts)
    return out


@needs_kernels
def test_a_kernel_split_in_c_starts_its_threads_once_and_matches_one_call():
    values = np.random.default_rng(0).standard_normal(100_003).astype(np.float32)
    whole = _gelu_in_parts(values, 1)
    for parts in (2, 3, 2, 7):
        np.testing.assert_array_equal(_gelu_in_parts(values, parts), whole)
    assert ember._C.kernels.parallel_threads() >= 6  # range 0 is the caller's


@needs_kernels
def test_many_kernel_splits_each_wait_for_all_their_ranges():
    # More ranges than cores too (the pool's threads then sleep at once): every call must
    # return only once each of its ranges is done, never with one still running or unrun.
    rng = np.random.default_rng(2)
    for _ in range(400):
        values = rng.standard_normal(int(rng.choice([3, 64, 301, 5000]))).astype(np.float32)
        parts = int(rng.choice([2, 3, 4, 7]))
        np.testing.assert_array_equal(_gelu_in_parts(values, parts), _gelu_in_parts(values, 1))


@needs_kernels
def test_kernels_split_from_two_python_threads_at_once():
    # One call uses the pool at a time; the other runs its ranges on its own thread.
    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal(50_000 + i).astype(np.float32) for i in range(4)]
    wanted = [_gelu_in_parts(values, 1) for values in inputs]
    failures = []

    def run(index):
        for _ in range(50):
            if not np.array_equal(_gelu_in_parts(inputs[index], 3), wanted[index]):
                failures.append(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@needs_kernels
def test_a_forked_child_starts_its_own_kernel_threads():
    code = textwrap.dedent("""
        import os
        import numpy as np
        import ember
        from ember.ops.activation import _erf_series
        x = np.arange(1000, dtype=np.float32) / 100
        def gelu(parts):
            out, cdf = np.empty_like(x), np.empty_like(x)
            ember._C.kernels.gelu_erf_forward(x, out, cdf, _erf_series(x.dtype), parts)
            return out
        whole = gelu(1)
        gelu(2)  # the parent's pool thread starts
        pid = os.fork()
        if pid == 0:
            same = np.array_equal(gelu(2), whole)
            print(same, ember._C.kernels.parallel_threads(), flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.split() == ["True", "1"]


def test_kernels_split_nothing_inside_a_split(split_everything):
    assert _parallel.kernel_parts(10, 1) == 3
    inside = _parallel.parallel_for(3, lambda a, b: _parallel.kernel_parts(10, 1), work=1)
    assert inside == [1, 1, 1]
    assert _parallel.kernel_parts(2, 1) == 2  # no more ranges than items
    ember.set_num_threads(1)
    assert _parallel.kernel_parts(10, 1) == 1


def _conv_case(rng, batch, groups, stride, padding, dilation, bias):
    x = rng.standard_normal((batch, 4, 9, 8))
    w = rng.standard_normal((6, 4 // groups, 3, 2))
    b = rng.standard_normal(6) if bias else None
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


@pytest.mark.parametrize("groups,stride,padding,dilation,bias", [
    (1, 1, 0, 1, True), (2, 1, (1, 2), (2, 1), True), (2, 2, 1, 1, False),
    (1, (2, 1), (1, 2), (2, 1), True)])
@pytest.mark.parametrize("batch", [1, 2, 5])
def test_split_convolution_matches_pytorch(split_everything, rng, batch, groups, stride,
                                           padding, dilation, bias):
    x, w, b, kwargs = _conv_case(rng, batch, groups, stride, padding, dilation, bias)
    grads = {}
    for lib, functional in ((ember, F), (torch, torch.nn.functional)):
        tensors = [lib.tensor(a, requires_grad=True) if a is not None else None
                   for a in (x, w, b)]
        out = functional.conv2d(*tensors, **kwargs)
        out.backward(lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape))))
        grads[lib.__name__] = [out.detach().numpy()] + [t.grad.numpy() for t in tensors
                                                         if t is not None]
    for mine, theirs in zip(grads["ember"], grads["torch"]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-10)


def test_split_convolution_without_weight_grad(split_everything, rng):
    x, w, b, kwargs = _conv_case(rng, 5, 1, 1, 1, 1, True)
    xe = ember.tensor(x, requires_grad=True)
    out = F.conv2d(xe, ember.tensor(w), ember.tensor(b), **kwargs)
    out.sum().backward()
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.conv2d(xt, torch.tensor(w), torch.tensor(b), **kwargs).sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("shape", [(5, 3, 6, 8), (4, 7, 5), (3, 2, 4, 4)])
def test_split_max_pool_matches_pytorch_with_ties_and_nans(split_everything, rng, shape):
    x = rng.integers(0, 3, shape).astype(np.float64)  # many ties
    x.reshape(-1)[::11] = np.nan
    results = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.max_pool2d(t, 2)
        out.backward(lib.tensor(np.arange(out.numel(), dtype=np.float64).reshape(out.shape)))
        results.append((out.detach().numpy(), t.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_split_and_serial_training_steps_agree(rng):
    """The tutorial net's step gives the same numbers on one thread and on three."""
    from nets import tutorial_net
    x = ember.tensor(rng.standard_normal((7, 1, 32, 32)).astype(np.float32))
    y = ember.tensor(rng.integers(0, 10, 7))
    grads = []
    threads, minimum = ember.get_num_threads(), _parallel.MIN_PARALLEL_WORK
    try:
        for count in (1, 3):
            ember.set_num_threads(count)
            _parallel.MIN_PARALLEL_WORK = 0
            ember.manual_seed(0)
            net = tutorial_net(ember, flatten=True)
            F.cross_entropy(net(x), y).backward()
            grads.append([p.grad.numpy() for p in net.parameters()])
    finally:
        ember.set_num_threads(threads)
        _parallel.MIN_PARALLEL_WORK = minimum
    for serial, split in zip(*grads):
        np.testing.assert_allclose(serial, split, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("rows", [1, 2, 7])
@pytest.mark.parametrize("bias", [True, False])
def test_split_linear_matches_pytorch(split_everything, rng, rows, bias):
    x, w, b = rng.standard_normal((rows, 5)), rng.standard_normal((4, 5)), rng.standard_normal(4)
    results = []
    for lib in (ember, torch):
        tensors = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
        out = lib.nn.functional.linear(tensors[0], tensors[1], tensors[2] if bias else None)
        out.backward(lib.tensor(np.sin(np.arange(out.numel())).reshape(tuple(out.shape))))
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in tensors[:2]])
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_large_relu_split_over_threads_is_pytorchs_bit_for_bit(dtype):
    # From about a million elements ReLU's kernels run on ranges over ember's threads.
    x = np.random.default_rng(0).standard_normal(_parallel.MIN_PARALLEL_WORK + 7).astype(dtype)
    x[[5, 6, 7]] = [np.nan, -0.0, np.inf]
    g = np.random.default_rng(1).standard_normal(x.size).astype(dtype)
    g[9] = np.inf
    results, before = [], ember.get_num_threads()
    try:
        for threads in (1, 2, 3):
            ember.set_num_threads(threads)
            a = ember.tensor(x, requires_grad=True)
            y = ember.relu(a)
            y.backward(ember.tensor(g))
            results.append((y.detach().numpy(), a.grad.numpy()))
    finally:
        ember.set_num_threads(before)
    t = torch.tensor(x, requires_grad=True)
    expected = torch.relu(t)
    expected.backward(torch.tensor(g))
    for out, grad in results:
        np.testing.assert_array_equal(out, expected.detach().numpy())
        assert np.signbit(out[6])  # -0.0 stays -0.0
        np.testing.assert_array_equal(grad, t.grad.numpy())

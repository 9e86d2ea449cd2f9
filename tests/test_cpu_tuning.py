"""ember's CPU settings: ``import ember`` leaves the process as it was; OpenBLAS's thread count
is ember's only inside ember's own work; malloc tuning happens only when asked; results are the
same either way."""

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import ember
from ember import _blas

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="glibc and OpenBLAS settings are Linux's")

# Run in a fresh interpreter: OpenBLAS's thread count before and after `import ember` and after
# a training step, the count inside ember's work, whether ember called mallopt, and whether
# glibc serves a 24 MiB allocation with mmap (it does under its default thresholds, whose
# adaptive mmap threshold starts at 128 KiB; not once they are raised to 32 MiB).
PROBE = """
import ctypes, json, sys
import numpy as np
from threadpoolctl import threadpool_info

def blas_threads():
    return [p["num_threads"] for p in threadpool_info() if p["internal_api"] == "openblas"]

class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

def served_by_mmap(size=24 * 1024 * 1024):
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = Mallinfo2
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, (ctypes.c_size_t,)
    libc.free.argtypes = (ctypes.c_void_p,)
    before = libc.mallinfo2().hblks
    block = libc.malloc(size)
    mapped = libc.mallinfo2().hblks - before
    libc.free(block)
    return mapped == 1

report = {"before": blas_threads()}
import ember
from ember import _blas, _malloc, _parallel
report["after_import"] = blas_threads()
report["mmap"] = served_by_mmap()
exec(sys.argv[1])
report["inside"] = _parallel.parallel_for(2, lambda start, stop: _blas.threads(), work=10**6)
net = ember.nn.Sequential(ember.nn.Conv2d(1, 4, 3), ember.nn.Flatten(),
                          ember.nn.Linear(4 * 30 * 30, 10))
loss = net(ember.randn(8, 1, 32, 32)).square().mean()
loss.backward()
report["after_step"] = blas_threads()
report["tuned"] = _malloc.tuned
report["tuning"] = ember.get_cpu_tuning()
print(json.dumps(report))
"""


def probe(env=None, code="pass"):
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("EMBER_MALLOC_TUNING", "EMBER_BLAS_THREADS")}
    environment.update({"OPENBLAS_NUM_THREADS": "2"}, **(env or {}))
    out = subprocess.run([sys.executable, "-c", PROBE, code], env=environment,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def openblas_found(report) -> bool:
    return bool(report["before"])


@linux_only
def test_import_changes_nothing_in_the_process():
    report = probe()
    assert not report["tuned"]
    assert report["tuning"] == {"blas_threads": 1, "malloc": False}
    assert report["mmap"]  # glibc's default thresholds: mallopt was not called
    if openblas_found(report):
        assert report["after_import"] == report["before"] == [2]
        assert report["after_step"] == report["before"]  # ember's scopes put it back
        assert report["inside"] in ([1], [1, 1])  # one thread inside ember's own work


@linux_only
@pytest.mark.parametrize("env,code", [
    ({"EMBER_MALLOC_TUNING": "1"}, "pass"),
    ({}, "ember.set_cpu_tuning(malloc=True)"),
])
def test_malloc_tuning_when_asked(env, code):
    report = probe(env, code)
    assert report["tuned"] and report["tuning"]["malloc"]
    if "set_cpu_tuning" not in code:  # tuned at import, before the probe allocated
        assert not report["mmap"]
    assert report["after_step"] == report["before"]  # the BLAS setting stays scoped


@linux_only
def test_malloc_tuning_is_observable_after_set_cpu_tuning():
    code = "ember.set_cpu_tuning(malloc=True); report['mmap_after'] = served_by_mmap()"
    report = probe({}, code)
    assert report["mmap"] and not report["mmap_after"]


@linux_only
def test_environment_refuses_malloc_tuning():
    report = probe({"EMBER_MALLOC_TUNING": "0"}, "ember.set_cpu_tuning(malloc=True)")
    assert not report["tuned"] and report["mmap"]


@linux_only
@pytest.mark.parametrize("env,code,inside", [
    ({"EMBER_BLAS_THREADS": "0"}, "pass", 2),  # left alone: OpenBLAS's own count
    ({}, "ember.set_cpu_tuning(blas_threads=0)", 2),
    ({"EMBER_BLAS_THREADS": "2", "OPENBLAS_NUM_THREADS": "1"}, "pass", 2),
])
def test_blas_thread_setting(env, code, inside):
    report = probe(env, code)
    if not openblas_found(report):
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    assert set(report["inside"]) == {inside}
    assert report["after_step"] == report["after_import"] == report["before"]


def test_set_cpu_tuning_checks_its_arguments():
    before = ember.get_cpu_tuning()
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="non-negative int"):
            ember.set_cpu_tuning(blas_threads=bad)
    ember.set_cpu_tuning(malloc=False)  # nothing to undo when it was never applied
    assert ember.get_cpu_tuning() == before


def test_set_cpu_tuning_cannot_undo_malloc(monkeypatch):
    from ember import _malloc
    monkeypatch.setattr(_malloc, "tuned", True)
    with pytest.raises(RuntimeError, match="rest of the process"):
        ember.set_cpu_tuning(malloc=False)


@pytest.fixture
def openblas_on_two_threads():
    if _blas.threads() is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    get, put = _blas._library_functions()
    before = get()
    put(2)
    yield
    put(before)


@pytest.mark.usefixtures("openblas_on_two_threads")
def test_overlapping_scopes_restore_the_count():
    """Scopes from several threads overlap; the last to close puts the count back."""
    inside, started = [], threading.Barrier(3)

    def work():
        started.wait()
        time.sleep(0.02)
        inside.append(_blas.threads())

    def scoped():
        _blas.limited(work)

    threads = [threading.Thread(target=scoped) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert inside == [1, 1, 1]
    assert _blas.threads() == 2
    assert _blas.limited(lambda: _blas.limited(_blas.threads)) == 1  # nested
    assert _blas.threads() == 2


@pytest.mark.usefixtures("openblas_on_two_threads")
def test_a_hold_keeps_the_count_between_scopes_and_puts_it_back():
    """During a hold (a backward pass), the count a scope set stays for the next scope and
    is put back when the hold ends; a hold without scopes changes nothing."""
    calls = []
    get, put = _blas._library_functions()
    _blas.hold()
    try:
        assert _blas.threads() == 2  # nothing set yet
        _blas.limited(lambda: calls.append(_blas.threads()))
        assert _blas.threads() == 1  # left set for the next product
        _blas.limited(lambda: calls.append(_blas.threads()))
    finally:
        _blas.release()
    assert calls == [1, 1] and _blas.threads() == 2
    _blas.hold()
    _blas.release()
    assert _blas.threads() == 2


@pytest.mark.usefixtures("openblas_on_two_threads")
def test_a_backward_pass_puts_the_count_back():
    """A backward pass with large products (a Linear layer at batch 256) and one without
    leave OpenBLAS as they found it."""
    layer = ember.nn.Linear(512, 512)
    for batch in (256, 1):
        layer(ember.randn(batch, 512)).sum().backward()
        assert _blas.threads() == 2 and _blas._depth == 0 and not _blas._left_set


@pytest.mark.usefixtures("openblas_on_two_threads")
def test_scope_restores_after_an_error():
    with pytest.raises(ZeroDivisionError):
        _blas.limited(lambda: 1 / 0)
    assert _blas.threads() == 2


STEPS = """
import sys
import numpy as np, ember
from ember import nn
ember.manual_seed(0)
net = nn.Sequential(nn.Conv2d(1, 6, 3), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 30 * 30, 64),
                    nn.ReLU(), nn.Linear(64, 10))
optimizer = ember.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
images, labels = ember.randn(64, 1, 32, 32), ember.randint(0, 10, (64,))
for _ in range(3):
    optimizer.zero_grad()
    ember.nn.functional.cross_entropy(net(images), labels).backward()
    optimizer.step()
np.save(sys.argv[1], np.concatenate([p.detach().numpy().ravel() for p in net.parameters()]))
"""


@linux_only
def test_results_are_the_same_with_any_setting(tmp_path):
    results = {}
    for name, env in {"defaults": {}, "malloc": {"EMBER_MALLOC_TUNING": "1"},
                      "blas alone": {"EMBER_BLAS_THREADS": "0"}}.items():
        environment = dict(os.environ, OPENBLAS_NUM_THREADS="2", **env)
        path = tmp_path / f"{name.replace(' ', '_')}.npy"
        subprocess.run([sys.executable, "-c", STEPS, str(path)], env=environment, check=True)
        results[name] = np.load(path)
    np.testing.assert_array_equal(results["malloc"], results["defaults"])
    np.testing.assert_allclose(results["blas alone"], results["defaults"], rtol=1e-6, atol=1e-7)


@pytest.mark.usefixtures("openblas_on_two_threads")
def test_parallel_for_scopes_only_work_openblas_could_split():
    from ember import _parallel

    def count(start, stop):
        return _blas.threads()

    assert _parallel.parallel_for(2, count, work=10) == [2]
    assert set(_parallel.parallel_for(2, count, work=_blas.MIN_SCOPED_WORK)) == {1}
    assert _blas.threads() == 2


def test_the_ember_command_tunes_malloc_for_its_own_process():
    """``ember ...`` is a process of ember's own: it raises the thresholds (importing the
    command's module does not)."""
    code = ("import sys; from ember import _malloc, cli\n"
            "assert not _malloc.tuned\n"
            "sys.argv = ['ember', '--help']\n"
            "try:\n    cli.run()\nexcept SystemExit:\n    pass\n"
            "print(_malloc.tuned)")
    environment = {k: v for k, v in os.environ.items() if k != "EMBER_MALLOC_TUNING"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=environment, check=True)
    assert result.stdout.strip().splitlines()[-1] == "True"

"""ember and PyTorch side by side, in one run, on the same inputs: a table and a JSON file.

    python benchmarks/run.py                 # the full suite (a few minutes)
    python benchmarks/run.py --quick         # fewer repetitions
    python benchmarks/run.py --only step     # one section: step, compiled, infer, overhead,
                                             #   import, memory, epoch, settings
    python benchmarks/run.py --without torch.compile   # a column left out (see below)
    python benchmarks/run.py --threads 1     # every framework on 1 thread (a loaded machine)

Every figure is measured for both frameworks in the same process (or in sibling processes for
import time and peak memory), alternating between them, and reported as min / median / max
over repetitions with the ratio ember / PyTorch (above 1 means ember is faster).

The main process runs ember as ``import ember`` leaves it. The ``settings`` section measures
ember's optional CPU settings (malloc tuning, OpenBLAS's thread count during ember's products)
in fresh processes, one per setting, since malloc's thresholds cannot be undone in a process.

The ``compiled`` section is the table of ember's speed targets: one training step of the MLP and of
the tutorial net run five ways, PyTorch eager, ember eager, ``ember.compile``, ``torch.compile``
and JAX's ``jit`` (when jax is installed: it is never a dependency of ember), from the same
initial weights on the same batch, each as a ratio to PyTorch eager. Each column's first steps
are untimed and reported apart (compiling happens there) and their losses must match PyTorch
eager's, or the column is not timed. A column that cannot run (jax not installed, ember
without ``compile``, a compiler failing) says why instead. The ``epoch`` section runs the loop of
``ember train`` in PyTorch, in ember, and with ember's step through ``ember.compile``.
"""

import argparse
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def frameworks():
    import torch
    if torch.__name__ != "torch":  # `ember run` maps torch to ember: ember would race itself
        sys.exit("run this benchmark with python, not `ember run`: it compares ember with PyTorch")

    import ember
    return {"ember": ember, "torch": torch}


def tutorial_net(torch):
    """The tutorial's Net, written once for whichever framework is passed in."""
    nn = torch.nn
    F = torch.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 3)
            self.conv2 = nn.Conv2d(6, 16, 3)
            self.fc1 = nn.Linear(16 * 6 * 6, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = torch.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return Net()


def mlp(torch):
    nn = torch.nn
    return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))


def same_weights(source, target, torch_target) -> None:
    """Copy ``source``'s parameters into ``target`` (possibly the other framework)."""
    state = {k: torch_target.tensor(v.detach().numpy()) for k, v in source.state_dict().items()}
    target.load_state_dict(state)


def timed(function, repeats: int, inner: int):
    """Seconds per call of ``function``: ``repeats`` samples, each the mean over ``inner``."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            function()
        samples.append((time.perf_counter() - start) / inner)
    return samples


def summary(samples):
    return {"min": min(samples), "median": statistics.median(samples), "max": max(samples)}


def paired(make, repeats, inner, warmup=3, settle=2):
    """Run ``make(fw)()`` for both frameworks, interleaving repetitions; seconds per call."""
    fws = frameworks()
    calls = {name: make(fw) for name, fw in fws.items()}
    for call in calls.values():
        for _ in range(warmup):
            call()
    return interleaved(calls, repeats, inner, settle)


def interleaved(calls: dict, repeats: int, inner: int, settle: int = 2) -> dict:
    """Seconds per call of each of ``calls`` (name: function), taking turns, warmed up.

    Each repetition first makes ``settle`` untimed calls, then times ``inner`` back-to-back
    calls: the steady state of a training loop. Without it a framework's first calls after
    the other's pay for the other's leftovers (PyTorch's OpenMP threads spin for a while after
    each op; caches hold the other's data) and for idle cores waking up.
    """
    results = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            for _ in range(settle):
                call()
            results[name].extend(timed(call, 1, inner))
    return results


def step_maker(batch: int, loss_name: str, grad: bool = True, same_start: bool = True):
    """A function making one training step (or inference) for a framework; with
    ``same_start``, ember's net starts from PyTorch's initial weights for seed 0."""
    def make(torch):
        rng = np.random.default_rng(0)
        net = tutorial_net(torch)
        if same_start and torch.__name__ == "ember":
            import torch as reference
            reference.manual_seed(0)
            same_weights(tutorial_net(reference), net, torch)
        images = torch.tensor(rng.standard_normal((batch, 1, 32, 32), dtype=np.float32))
        if loss_name == "ce":
            target = torch.tensor(rng.integers(0, 10, batch))
            criterion = torch.nn.CrossEntropyLoss()
        else:
            target = torch.tensor(rng.standard_normal((batch, 10), dtype=np.float32))
            criterion = torch.nn.MSELoss()
        optimizer = torch.optim.SGD(net.parameters(), lr=0.01)

        def step():
            optimizer.zero_grad()
            loss = criterion(net(images), target)
            loss.backward()
            optimizer.step()

        def infer():
            with torch.no_grad():
                net(images)
        return step if grad else infer
    return make


def mlp_maker(torch):
    rng = np.random.default_rng(0)
    net = mlp(torch)
    x = torch.tensor(rng.standard_normal((8, 10), dtype=np.float32))
    y = torch.tensor(rng.standard_normal((8, 1), dtype=np.float32))
    criterion = torch.nn.MSELoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)

    def step():
        optimizer.zero_grad()
        criterion(net(x), y).backward()
        optimizer.step()
    return step


def add_maker(requires_grad: bool):
    def make(torch):
        a = torch.ones(10, requires_grad=requires_grad)
        b = torch.ones(10, requires_grad=requires_grad)
        return lambda: a + b
    return make


def rows_for_throughput(label, results, images):
    ember_ips = [images / s for s in results["ember"]]
    torch_ips = [images / s for s in results["torch"]]
    return {"name": label, "unit": "images/s", "ember": summary(ember_ips),
            "torch": summary(torch_ips),
            "ratio": statistics.median(ember_ips) / statistics.median(torch_ips)}


def rows_for_latency(label, results):
    ember_us = [1e6 * s for s in results["ember"]]
    torch_us = [1e6 * s for s in results["torch"]]
    return {"name": label, "unit": "us", "ember": summary(ember_us), "torch": summary(torch_us),
            "ratio": statistics.median(torch_us) / statistics.median(ember_us)}


def bench_steps(quick: bool):
    rows = []
    for loss_name in ("ce", "mse"):
        for batch in (1, 16, 64, 256):
            # Each sample: back-to-back steps, about 40 ms or more of them.
            inner = max(4, 1024 // batch) if not quick else max(2, 256 // batch)
            repeats = 7 if not quick else 3
            results = paired(step_maker(batch, loss_name), repeats, inner)
            rows.append(rows_for_throughput(f"train step, {loss_name}, batch {batch}", results,
                                            batch))
    return rows


def bench_inference(quick: bool):
    rows = []
    for batch in (1, 256):
        inner = 200 if batch == 1 else 4
        results = paired(step_maker(batch, "ce", grad=False), 7 if not quick else 3, inner)
        rows.append(rows_for_throughput(f"inference (no_grad), batch {batch}", results, batch))
    return rows


def bench_overhead(quick: bool):
    repeats = 7 if not quick else 3
    rows = [rows_for_latency("a + b, 10 elements", paired(add_maker(False), repeats, 2000)),
            rows_for_latency("a + b, 10 elements, requires_grad",
                             paired(add_maker(True), repeats, 2000)),
            rows_for_latency("MLP 10-32-1 train step, batch 8", paired(mlp_maker, repeats, 300))]
    return rows


# The table: one training step run five ways, each column on its own copy of the same
# model (the same initial weights, PyTorch's for seed 0) and the same batch.
COLUMNS = ("torch eager", "ember eager", "ember.compile", "torch.compile", "jax jit")
WARMUP_STEPS = 5  # untimed; the compiled columns compile here, and all check their losses
LOSS_RTOL = 1e-5  # float32 losses after a few steps: the same computation, rounded differently


class Unavailable(Exception):
    """A column this process cannot run (not installed, not built): its cell says "n/a"."""


def workload_data(model: str, batch: int):
    """The batch a workload trains on, as NumPy arrays: inputs and targets."""
    rng = np.random.default_rng(0)
    if model == "mlp":
        return (rng.standard_normal((batch, 10), dtype=np.float32),
                rng.standard_normal((batch, 1), dtype=np.float32))
    return (rng.standard_normal((batch, 1, 32, 32), dtype=np.float32),
            rng.integers(0, 10, batch))


def initial_weights(model: str) -> dict:
    """PyTorch's initial parameters for seed 0 as NumPy arrays, keyed as in its state_dict."""
    import torch
    torch.manual_seed(0)
    net = mlp(torch) if model == "mlp" else tutorial_net(torch)
    return {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}


def training_step(net, criterion, optimizer):
    """``step(x, y) -> loss``: zero_grad, forward, loss, backward, optimizer step: the call
    form that ember.compile and torch.compile take."""
    def step(x, y):
        optimizer.zero_grad()
        loss = criterion(net(x), y)
        loss.backward()
        optimizer.step()
        return loss
    return step


def framework_step(fw, model: str, weights: dict, loss_name: str, momentum: float):
    """``step(x, y) -> loss``: zero_grad, forward, loss, backward, SGD (lr 0.01) in ember or
    PyTorch, the call form that ember.compile and torch.compile take."""
    net = mlp(fw) if model == "mlp" else tutorial_net(fw)
    net.load_state_dict({k: fw.tensor(v) for k, v in weights.items()})
    criterion = fw.nn.CrossEntropyLoss() if loss_name == "ce" else fw.nn.MSELoss()
    optimizer = fw.optim.SGD(net.parameters(), lr=0.01, momentum=momentum)
    return training_step(net, criterion, optimizer)


def jax_mlp(params: dict, x):
    """The MLP in jax.numpy, weights in PyTorch's layout (``out = x @ weight.T + bias``)."""
    from jax import numpy as jnp
    hidden = jnp.maximum(x @ params["0.weight"].T + params["0.bias"], 0)
    return hidden @ params["2.weight"].T + params["2.bias"]


def jax_tutorial_net(params: dict, x):
    """The tutorial net in jax.numpy/lax, NCHW like PyTorch, weights in PyTorch's layout."""
    from jax import lax
    from jax import numpy as jnp

    def conv_relu_pool(x, name):
        x = lax.conv_general_dilated(x, params[f"{name}.weight"], (1, 1), "VALID",
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
        x = jnp.maximum(x + params[f"{name}.bias"][None, :, None, None], 0)
        return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    x = conv_relu_pool(conv_relu_pool(x, "conv1"), "conv2").reshape(x.shape[0], -1)
    x = jnp.maximum(x @ params["fc1.weight"].T + params["fc1.bias"], 0)
    x = jnp.maximum(x @ params["fc2.weight"].T + params["fc2.bias"], 0)
    return x @ params["fc3.weight"].T + params["fc3.bias"]


def jax_step(model: str, weights: dict, loss_name: str, momentum: float):
    """The same step in JAX: ``jax.grad`` of the loss, SGD written out, all under one ``jit``.

    Parameters and momentum buffers pass through the jitted function (JAX arrays are
    immutable); ``step`` waits for the loss, as an eager framework's step returns when done.
    """
    try:
        import jax
        from jax import numpy as jnp
    except ImportError:
        raise Unavailable("jax is not installed (pip install jax: CPU wheels from PyPI)") from None
    forward = jax_mlp if model == "mlp" else jax_tutorial_net

    def loss_of(params, x, y):
        out = forward(params, x)
        if loss_name == "mse":
            return ((out - y) ** 2).mean()
        shifted = out - out.max(axis=1, keepdims=True)
        log_p = shifted - jnp.log(jnp.exp(shifted).sum(axis=1, keepdims=True))
        return -jnp.take_along_axis(log_p, y[:, None], axis=1).mean()

    @jax.jit
    def update(params, velocity, x, y):
        loss, grads = jax.value_and_grad(loss_of)(params, x, y)
        if momentum:  # PyTorch's SGD: buf = momentum * buf + grad (buf = grad at first)
            velocity = {k: momentum * velocity[k] + g for k, g in grads.items()}
            grads = velocity
        params = {k: p - 0.01 * grads[k] for k, p in params.items()}
        return params, velocity, loss

    state = {"params": {k: jnp.asarray(v) for k, v in weights.items()}}
    state["velocity"] = {k: jnp.zeros_like(v) for k, v in state["params"].items()}

    def step(x, y):
        state["params"], state["velocity"], loss = update(state["params"], state["velocity"],
                                                          x, y)
        return loss.block_until_ready()
    return step


def column_step(column: str, workload: dict, weights: dict):
    """``step(x, y) -> loss`` for one column, and the workload's batch converted for it."""
    import torch

    import ember
    model, loss_name, momentum = workload["model"], workload["loss"], workload["momentum"]
    x, y = workload_data(model, workload["batch"])
    if column == "jax jit":
        step = jax_step(model, weights, loss_name, momentum)
        from jax import numpy as jnp
        return step, (jnp.asarray(x), jnp.asarray(y if model == "mlp" else y.astype(np.int32)))
    fw = torch if column.startswith("torch") else ember
    step = framework_step(fw, model, weights, loss_name, momentum)
    if column == "ember.compile":
        if not hasattr(ember, "compile"):
            raise Unavailable("this ember has no ember.compile yet")
        step = ember.compile(step)
    elif column == "torch.compile":
        torch._dynamo.reset()  # a fresh cache: earlier workloads' graphs would count toward
        step = torch.compile(step)  # its recompile limit, past which it silently runs eager
    return step, (fw.tensor(x), fw.tensor(y))


# The workloads; "inner": steps per timed sample (about 0.1 s of PyTorch eager's).
WORKLOADS = (
    {"name": "MLP 10-32-1, batch 8, MSE + SGD", "model": "mlp", "batch": 8, "loss": "mse",
     "momentum": 0.0, "inner": 200},
    {"name": "tutorial net, batch 1, CE + SGD momentum", "model": "tutorial", "batch": 1,
     "loss": "ce", "momentum": 0.9, "inner": 64},
    {"name": "tutorial net, batch 64, CE + SGD momentum", "model": "tutorial", "batch": 64,
     "loss": "ce", "momentum": 0.9, "inner": 8},
    {"name": "tutorial net, batch 256, CE + SGD momentum", "model": "tutorial", "batch": 256,
     "loss": "ce", "momentum": 0.9, "inner": 4},
)


def first_line(error: BaseException, limit: int = 160) -> str:
    """An exception as one short line for the table: its type and the start of its message."""
    text = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error) else ''}"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def bench_compiled_workload(workload: dict, quick: bool, skip=()) -> dict:
    """One row of the issue's table: each column warmed up (compiled), checked, then timed.

    A column whose losses over the warm-up steps differ from PyTorch eager's is not timed: it
    would not be measuring the same computation. A column that cannot run (not installed,
    skipped, failing to compile) gets the reason instead of a time. Warnings during the warm-up
    (a compiler falling back to eager, say) are kept with the row and printed under the table.
    """
    weights = initial_weights(workload["model"])
    calls, warmup_s, losses, unavailable, warned = {}, {}, {}, {}, {}
    for column in COLUMNS:
        if column in skip:
            unavailable[column] = "skipped (--without)"
            continue
        try:
            step, inputs = column_step(column, workload, weights)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")  # say when a compiler falls back to eager
                start = time.perf_counter()
                history = [float(step(*inputs).item()) for _ in range(WARMUP_STEPS)]
                warmup_s[column] = time.perf_counter() - start
            if caught:
                warned[column] = sorted({first_line(w.message) for w in caught})
        except Unavailable as error:
            unavailable[column] = str(error)
            continue
        except Exception as error:  # a compiler failing on this machine is a result to report
            unavailable[column] = f"failed: {first_line(error)}"
            continue
        losses[column] = history
        reference = losses.get("torch eager", history)
        if not np.allclose(history, reference, rtol=LOSS_RTOL, atol=0):
            unavailable[column] = (f"not timed: losses {history} differ from PyTorch eager's "
                                   f"{reference}")
            continue
        calls[column] = functools.partial(step, *inputs)
    results = interleaved(calls, 7 if not quick else 3, workload["inner"] // (1 + quick))
    us = {column: [1e6 * s for s in samples] for column, samples in results.items()}
    base = statistics.median(us["torch eager"])
    return {"name": workload["name"], "unit": "us",
            "columns": {column: summary(us[column]) for column in us},
            "ratio": {column: base / statistics.median(us[column]) for column in us},
            "warmup_s": warmup_s, "losses": losses, "unavailable": unavailable,
            "warnings": warned}


def bench_compiled(quick: bool, skip=()):
    return [bench_compiled_workload(workload, quick, skip) for workload in WORKLOADS]


def bench_import(quick: bool):
    """``import ember`` and ``import torch``, each in fresh interpreters, alternating.

    Both are timed as an installed package imports: from Python's cached bytecode. PyTorch's
    was written when pip installed it; ember's, in a checkout, is written by the first import,
    so an untimed import of each comes first, with PYTHONDONTWRITEBYTECODE (which would leave
    ember compiling its source on every import) taken out of the children's environment. The
    untimed imports also bring both libraries' files into the OS's cache.
    """
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    samples = {"ember": [], "torch": []}
    for name in samples:
        subprocess.run([sys.executable, "-c", f"import {name}"], check=True,
                       cwd=os.path.dirname(HERE), env=env)
    for _ in range(5 if not quick else 2):
        for name in samples:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", f"import {name}"], check=True,
                           cwd=os.path.dirname(HERE), env=env)
            samples[name].append(time.perf_counter() - start)
    baseline = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, env=env)
        baseline.append(time.perf_counter() - start)
    startup = min(baseline)
    ms = {k: [1000 * (s - startup) for s in v] for k, v in samples.items()}
    return [{"name": "import (fresh interpreter, minus bare startup)", "unit": "ms",
             "ember": summary(ms["ember"]), "torch": summary(ms["torch"]),
             "ratio": statistics.median(ms["torch"]) / statistics.median(ms["ember"])}]


def memory_child(name: str) -> None:
    """In a fresh process: 100 training steps at batch 256; print peak RSS in MiB.

    The peak is VmHWM from /proc: getrusage's ru_maxrss would carry over the parent's peak
    through fork and exec.
    """
    import importlib
    fw = importlib.import_module(name)  # only this framework: the other would add its memory
    step = step_maker(256, "ce", same_start=False)(fw)
    for _ in range(100):
        step()
    with open("/proc/self/status") as status:
        peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    print(peak_kib / 1024)


def bench_memory(quick: bool):
    peaks = {}
    for name in ("ember", "torch"):
        out = subprocess.run([sys.executable, __file__, "--memory-child", name], check=True,
                             capture_output=True, text=True, cwd=os.path.dirname(HERE))
        peaks[name] = float(out.stdout.strip().splitlines()[-1])
    return [{"name": "peak RSS, 100 train steps at batch 256", "unit": "MiB",
             "ember": summary([peaks["ember"]]), "torch": summary([peaks["torch"]]),
             "ratio": peaks["torch"] / peaks["ember"]}]


EPOCH_COLUMNS = ("torch eager", "ember eager", "ember.compile")
EPOCH_LOSS_RTOL = 1e-3


def epoch_seconds(column: str, images, labels, batch_size=64):
    """One epoch of the tutorial net on Fashion-MNIST: the loop ``ember train`` runs (SGD with
    momentum, the loss read each step), the same in either framework; for "ember.compile" its
    step goes through ``ember.compile``, as ``ember train``'s does.

    Two untimed steps on the first batch come first (ember.compile captures there). Returns
    the epoch's seconds, the warm-up's, and the epoch's mean loss.
    """
    import torch

    import ember
    fw = torch if column.startswith("torch") else ember
    if column == "ember.compile" and not hasattr(ember, "compile"):
        raise Unavailable("this ember has no ember.compile yet")
    fw.manual_seed(0)
    net = tutorial_net(fw)
    dataset = fw.utils.data.TensorDataset(fw.tensor(images), fw.tensor(labels))
    loader = fw.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)
    criterion = fw.nn.CrossEntropyLoss()
    optimizer = fw.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    step = training_step(net, criterion, optimizer)
    if column == "ember.compile":
        step = ember.compile(step)
    start = time.perf_counter()
    for _ in range(2):
        step(*dataset[:batch_size]).item()
    warmup = time.perf_counter() - start
    start = time.perf_counter()
    total = 0.0
    for x, y in loader:
        total += step(x, y).item() * len(y)
    return time.perf_counter() - start, warmup, total / len(labels)


def bench_epoch(quick: bool, skip=()):
    from ember.training import load_data
    data, _ = load_data(None, True, 10000 if quick else None)
    images, labels = next(iter(frameworks()["ember"].utils.data.DataLoader(data, len(data))))
    images, labels = images.numpy(), labels.numpy()
    n = len(labels)
    speeds, warmup_s, losses, unavailable = {}, {}, {}, {}
    for column in EPOCH_COLUMNS:
        if column in skip:
            unavailable[column] = "skipped (--without)"
            continue
        try:
            seconds, warmup_s[column], loss = epoch_seconds(column, images, labels)
        except Unavailable as error:
            unavailable[column] = str(error)
            continue
        except Exception as error:  # as in the compiled section: a result to report
            unavailable[column] = f"failed: {first_line(error)}"
            continue
        losses[column] = [loss]
        # The same seed, so the same weights and order of batches as ember eager: the same
        # epoch, up to rounding that an epoch of updates amplifies a little.
        eager = losses.get("ember eager", [loss])
        if column == "ember.compile" and not np.allclose(loss, eager, rtol=EPOCH_LOSS_RTOL):
            unavailable[column] = (f"not the same computation: mean loss {loss} against ember "
                                   f"eager's {eager[0]}")
            continue
        speeds[column] = n / seconds
    base = speeds["torch eager"]
    return [{"name": f"one epoch of Fashion-MNIST ({n} images, batch 64)", "unit": "images/s",
             "columns": {column: summary([speed]) for column, speed in speeds.items()},
             "ratio": {column: speed / base for column, speed in speeds.items()},
             "warmup_s": warmup_s, "losses": losses, "unavailable": unavailable}]


# ember's CPU settings, each in a fresh process (the environment it starts with): what a
# training step gains or loses with each. PyTorch runs alongside in each process, so it
# allocates under the same malloc thresholds.
SETTINGS = {
    "defaults": {},
    "malloc tuning": {"EMBER_MALLOC_TUNING": "1"},
    "malloc tuning, OpenBLAS left alone": {"EMBER_MALLOC_TUNING": "1",
                                           "EMBER_BLAS_THREADS": "0"},
    "OpenBLAS left alone": {"EMBER_BLAS_THREADS": "0"},
    "OpenBLAS 1 thread process-wide": {"OPENBLAS_NUM_THREADS": "1"},
}
SETTINGS_ENV = ("EMBER_MALLOC_TUNING", "EMBER_BLAS_THREADS", "OPENBLAS_NUM_THREADS")


def settings_child(quick: bool) -> None:
    """In a fresh process: the tutorial net's step at batch 64 and 256; print the rows as JSON."""
    rows = []
    for batch in (64, 256):
        inner = max(4, 1024 // batch) if not quick else max(2, 256 // batch)
        results = paired(step_maker(batch, "ce"), 7 if not quick else 3, inner)
        rows.append(rows_for_throughput(f"train step, ce, batch {batch}", results, batch))
    import ember
    print(json.dumps({"tuning": ember.get_cpu_tuning(), "rows": rows}))


def bench_settings(quick: bool):
    rows = []
    for label, settings in SETTINGS.items():
        env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
        env.update(settings)
        command = [sys.executable, __file__, "--settings-child"] + (["--quick"] if quick else [])
        out = subprocess.run(command, check=True, capture_output=True, text=True, env=env,
                             cwd=os.path.dirname(HERE))
        report = json.loads(out.stdout.strip().splitlines()[-1])
        for row in report["rows"]:
            row["name"] = f"{row['name']}, {label}"
            row["settings"] = dict(settings, **report["tuning"])
            rows.append(row)
    return rows


SECTIONS = {"step": bench_steps, "compiled": bench_compiled, "infer": bench_inference,
            "overhead": bench_overhead, "import": bench_import, "memory": bench_memory,
            "epoch": bench_epoch, "settings": bench_settings}
SKIPPABLE = ("compiled", "epoch")  # the sections with columns that --without leaves out


def set_threads(count: int) -> None:
    """The thread count of the frameworks in this process; XLA's is fixed by flags read when
    jax is first imported (later, in the compiled section), and only 1 has a flag."""
    import torch

    import ember
    torch.set_num_threads(count)
    ember.set_num_threads(count)
    if count == 1:
        os.environ["XLA_FLAGS"] = " ".join([os.environ.get("XLA_FLAGS", ""),
                                            "--xla_cpu_multi_thread_eigen=false",
                                            "intra_op_parallelism_threads=1"]).strip()


def machine_info():
    import torch

    import ember
    info = {"date": time.strftime("%Y-%m-%d"), "load_average": os.getloadavg(),
            "python": platform.python_version(),
            "machine": platform.machine(), "processor": platform.processor(),
            "cpus": os.cpu_count(), "torch": torch.__version__, "numpy": np.__version__,
            "torch_threads": torch.get_num_threads(),
            "ember_threads": ember.get_num_threads(), "xla_flags": os.environ.get("XLA_FLAGS"),
            "ember_cpu_tuning": ember.get_cpu_tuning()}
    try:
        from threadpoolctl import threadpool_info
        info["numpy_blas"] = [{k: p.get(k) for k in ("internal_api", "version",
                                                      "num_threads")}
                              for p in threadpool_info()]
    except ImportError:
        info["numpy_blas"] = "threadpoolctl not installed"
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if "model name" in line]
        info["cpu"] = names[0] if names else platform.processor()
    except OSError:
        pass
    return info


def print_table(rows) -> None:
    """The two-framework rows as one table, then each section's rows with columns as its own."""
    pairs = [row for row in rows if "columns" not in row]
    if pairs:
        width = max([48] + [len(row["name"]) for row in pairs])
        print(f"{'benchmark':<{width}} {'unit':>8} {'ember (median)':>15} "
              f"{'torch (median)':>15} {'ember/torch':>12}")
        for row in pairs:
            print(f"{row['name']:<{width}} {row['unit']:>8} {row['ember']['median']:>15,.1f} "
                  f"{row['torch']['median']:>15,.1f} {row['ratio']:>11.2f}x")
        print("ratio > 1: ember is faster (or, for memory, smaller)")
    columned = [row for row in rows if "columns" in row]
    for unit in dict.fromkeys(row["unit"] for row in columned):
        print_columns([row for row in columned if row["unit"] == unit])


def print_columns(rows) -> None:
    """Rows measured in several columns: median (ratio to PyTorch eager), warm-up seconds
    under each, and why a column has no figure below."""
    columns = list(dict.fromkeys(c for row in rows for c in (*row["columns"], *row["unavailable"],
                                                              *row["warmup_s"])))
    columns = [c for c in COLUMNS if c in columns]
    width = max([44] + [len(row["name"]) for row in rows])
    print()
    print(f"{'median ' + rows[0]['unit'] + ' (ratio to PyTorch eager)':<{width}}"
          + "".join(f"{column:>19}" for column in columns))
    reasons = {}
    for row in rows:
        cells = []
        for column in columns:
            if column in row["columns"]:
                cells.append(f"{row['columns'][column]['median']:,.1f} "
                             f"({row['ratio'][column]:.2f}x)")
            else:
                reason = row["unavailable"].get(column, "not run")
                reasons.setdefault(reason, len(reasons) + 1)
                cells.append(f"n/a [{reasons[reason]}]")
        print(f"{row['name']:<{width}}" + "".join(f"{cell:>19}" for cell in cells))
        print(f"{'  warm-up, s (compiling, if any)':<{width}}" + "".join(
            f"{row['warmup_s'][c]:>19.2f}" if c in row["warmup_s"] else f"{'':>19}"
            for c in columns))
    for reason, number in reasons.items():
        print(f"[{number}] {reason}")
    for row in rows:
        for column, messages in row.get("warnings", {}).items():
            for message in messages:
                print(f"{column} warned ({row['name']}): {message}")
    print("ratio > 1: faster than PyTorch eager")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append")
    parser.add_argument("--json", default=os.path.join(HERE, "results.json"))
    parser.add_argument("--without", choices=COLUMNS[2:], action="append", default=[],
                        help="leave out a column of the compiled and epoch sections "
                             "(torch.compile takes minutes to compile on a small machine)")
    parser.add_argument("--threads", type=int,
                        help="threads for PyTorch, ember and (1 only) XLA in this process: on a "
                             "shared, loaded machine 1 keeps PyTorch's OpenMP threads from "
                             "waiting on each other (default: each framework's own)")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    parser.add_argument("--settings-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child)
        return 0
    if args.settings_child:
        settings_child(args.quick)
        return 0
    frameworks()  # refuses to run where `import torch` gives ember (under `ember run`)
    if args.threads is not None:
        set_threads(args.threads)
    info = machine_info()
    print(json.dumps(info, indent=1))
    rows = []
    for name in args.only or list(SECTIONS):
        options = {"skip": args.without} if name in SKIPPABLE else {}
        rows.extend(SECTIONS[name](args.quick, **options))
    print_table(rows)
    with open(args.json, "w") as f:
        json.dump({"machine": info, "results": rows}, f, indent=1)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

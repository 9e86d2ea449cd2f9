"""ember and PyTorch side by side, in one run, on the same inputs: a table and a JSON file.

    python benchmarks/run.py                 # the full suite (a few minutes)
    python benchmarks/run.py --quick         # fewer repetitions
    python benchmarks/run.py --only step     # one section: step, infer, overhead, import,
                                             #   memory, epoch, settings

Every figure is measured for both frameworks in the same process (or in sibling processes for
import time and peak memory), alternating between them, and reported as min / median / max
over repetitions with the ratio ember / PyTorch (above 1 means ember is faster).

The main process runs ember as ``import ember`` leaves it. The ``settings`` section measures
ember's optional CPU settings (malloc tuning, OpenBLAS's thread count during ember's products)
in fresh processes, one per setting, since malloc's thresholds cannot be undone in a process.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def frameworks():
    import torch

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
    """Run ``make(fw)()`` for both frameworks, interleaving repetitions; seconds per call.

    Each repetition first makes ``settle`` untimed calls, then times ``inner`` back-to-back
    calls: the steady state of a training loop. Without it a framework's first calls after
    the other's pay for the other's leftovers (PyTorch's OpenMP threads spin for a while after
    each op; caches hold the other's data) and for idle cores waking up.
    """
    fws = frameworks()
    calls = {name: make(fw) for name, fw in fws.items()}
    for call in calls.values():
        for _ in range(warmup):
            call()
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


def bench_import(quick: bool):
    samples = {"ember": [], "torch": []}
    for _ in range(5 if not quick else 2):
        for name in samples:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", f"import {name}"], check=True,
                           cwd=os.path.dirname(HERE))
            samples[name].append(time.perf_counter() - start)
    baseline = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
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


def epoch_seconds(torch, images, labels, batch_size=64):
    """One epoch of the tutorial net on Fashion-MNIST: the same loop in either framework."""
    torch.manual_seed(0)
    net = tutorial_net(torch)
    dataset = torch.utils.data.TensorDataset(torch.tensor(images), torch.tensor(labels))
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    start = time.perf_counter()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(net(x), y).backward()
        optimizer.step()
    return time.perf_counter() - start


def bench_epoch(quick: bool):
    from ember.training import load_data
    data, _ = load_data(None, True, 10000 if quick else None)
    images, labels = next(iter(frameworks()["ember"].utils.data.DataLoader(data, len(data))))
    images, labels = images.numpy(), labels.numpy()
    results = {name: [epoch_seconds(fw, images, labels)] for name, fw in frameworks().items()}
    n = len(labels)
    return [rows_for_throughput(f"one epoch of Fashion-MNIST ({n} images, batch 64)",
                                results, n)]


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


SECTIONS = {"step": bench_steps, "infer": bench_inference, "overhead": bench_overhead,
            "import": bench_import, "memory": bench_memory, "epoch": bench_epoch,
            "settings": bench_settings}


def machine_info():
    import torch

    import ember
    info = {"date": time.strftime("%Y-%m-%d"), "python": platform.python_version(),
            "machine": platform.machine(), "processor": platform.processor(),
            "cpus": os.cpu_count(), "torch": torch.__version__, "numpy": np.__version__,
            "torch_threads": torch.get_num_threads(),
            "ember_threads": ember.get_num_threads(),
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
    width = max([48] + [len(row["name"]) for row in rows])
    print(f"{'benchmark':<{width}} {'unit':>8} {'ember (median)':>15} {'torch (median)':>15} "
          f"{'ember/torch':>12}")
    for row in rows:
        print(f"{row['name']:<{width}} {row['unit']:>8} {row['ember']['median']:>15,.1f} "
              f"{row['torch']['median']:>15,.1f} {row['ratio']:>11.2f}x")
    print("ratio > 1: ember is faster (or, for memory, smaller)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append")
    parser.add_argument("--json", default=os.path.join(HERE, "results.json"))
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    parser.add_argument("--settings-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child)
        return 0
    if args.settings_child:
        settings_child(args.quick)
        return 0
    info = machine_info()
    print(json.dumps(info, indent=1))
    rows = []
    for name in args.only or list(SECTIONS):
        rows.extend(SECTIONS[name](args.quick))
    print_table(rows)
    with open(args.json, "w") as f:
        json.dump({"machine": info, "results": rows}, f, indent=1)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark script runs and reports both frameworks (no timing is asserted)."""

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_benchmark():
    """benchmarks/run.py as a module (a script, outside the package)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_run", os.path.join(ROOT, "benchmarks",
                                                                            "run.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


@pytest.mark.parametrize("script", ["run.py", "gpt.py", "rnn.py"])
def test_side_by_side_benchmarks_refuse_to_run_under_ember_run(script):
    # `ember run` maps `import torch` to ember: the PyTorch column would time ember again.
    done = subprocess.run([sys.executable, "-m", "ember", "run", f"benchmarks/{script}",
                           "--quick" if script != "gpt.py" else "--steps=1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "not `ember run`" in done.stderr


def test_benchmark_script_writes_side_by_side_results(tmp_path):
    out = tmp_path / "results.json"
    subprocess.run([sys.executable, "benchmarks/run.py", "--quick", "--only", "overhead",
                    "--threads", "1", "--json", str(out)], cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    report = json.loads(out.read_text())
    assert report["machine"]["torch_threads"] == report["machine"]["ember_threads"] == 1
    assert "intra_op_parallelism_threads=1" in report["machine"]["xla_flags"]
    assert any(entry.get("internal_api") == "openblas" for entry in report["machine"]["numpy_blas"])
    names = [row["name"] for row in report["results"]]
    assert names == ["a + b, 10 elements", "a + b, 10 elements, requires_grad",
                     "MLP 10-32-1 train step, batch 8"]
    for row in report["results"]:
        assert set(row["ember"]) == set(row["torch"]) == {"min", "median", "max"}
        assert row["ember"]["min"] <= row["ember"]["median"] <= row["ember"]["max"]
        assert row["ratio"] > 0


def test_settings_section_runs_each_setting_in_a_fresh_process(monkeypatch):
    """One setting only, to keep it short: the rows name it and record ember's settings."""
    bench = load_benchmark()
    monkeypatch.setattr(bench, "SETTINGS", {"malloc tuning": {"EMBER_MALLOC_TUNING": "1"}})
    rows = bench.bench_settings(quick=True)
    assert [row["name"] for row in rows] == ["train step, ce, batch 64, malloc tuning",
                                             "train step, ce, batch 256, malloc tuning"]
    for row in rows:
        assert row["settings"]["EMBER_MALLOC_TUNING"] == "1"
        assert row["settings"]["blas_threads"] == 1
        assert row["settings"]["malloc"] is sys.platform.startswith("linux")
        assert row["ember"]["median"] > 0 and row["torch"]["median"] > 0


def quick_workloads(bench, monkeypatch):
    """The MLP and the tutorial net at batch 1 (the larger batches only take longer), timed
    over a few steps: the section's code, all of it, in seconds."""
    monkeypatch.setattr(bench, "WORKLOADS", tuple(dict(w, inner=4) for w in bench.WORKLOADS[:2]))


def test_compiled_section_times_every_available_column_against_pytorch_eager(monkeypatch,
                                                                              capsys):
    """torch.compile is left out (minutes of compiling here); JAX runs when it is installed."""
    import importlib.util

    bench = load_benchmark()
    quick_workloads(bench, monkeypatch)
    rows = bench.bench_compiled(quick=True, skip=("torch.compile",))
    assert [row["name"] for row in rows] == ["MLP 10-32-1, batch 8, MSE + SGD",
                                             "tutorial net, batch 1, CE + SGD momentum"]
    measured = {"torch eager", "ember eager", "ember.compile"}
    if importlib.util.find_spec("jax") is not None:
        measured.add("jax jit")
    for row in rows:
        assert set(row["columns"]) == set(row["ratio"]) == set(row["losses"]) == measured
        assert set(row["columns"]) | set(row["unavailable"]) == set(bench.COLUMNS)
        assert row["unavailable"]["torch.compile"] == "skipped (--without)"
        assert row["ratio"]["torch eager"] == 1.0
        for column in measured:
            assert row["warmup_s"][column] > 0
            assert 0 < row["columns"][column]["min"] <= row["columns"][column]["median"]
            # the same computation: PyTorch's losses over the warm-up steps, which go down
            assert np.allclose(row["losses"][column], row["losses"]["torch eager"], rtol=1e-5)
        assert row["losses"]["torch eager"][-1] < row["losses"]["torch eager"][0]
        assert "ember.compile" not in row["warnings"]  # it captured: no eager fallback timed
    bench.print_table(rows)
    table = capsys.readouterr().out
    assert all(column in table for column in bench.COLUMNS)
    assert "] skipped (--without)" in table


def test_a_column_that_fails_or_computes_something_else_is_reported_not_timed(monkeypatch):
    import torch

    import ember
    bench = load_benchmark()
    quick_workloads(bench, monkeypatch)
    monkeypatch.setattr(bench, "WORKLOADS", bench.WORKLOADS[:1])

    def broken_compile(step):
        raise RuntimeError("no C++ compiler\nsecond line")
    monkeypatch.setattr(torch, "compile", broken_compile)

    def compile_something_else(step):
        def compiled(x, y):
            warnings.warn("cannot capture this step: it runs eagerly", stacklevel=2)
            return step(x, y) * 1.01
        return compiled
    monkeypatch.setattr(ember, "compile", compile_something_else, raising=False)
    [row] = bench.bench_compiled(quick=True, skip=("jax jit",))
    assert set(row["columns"]) == {"torch eager", "ember eager"}
    assert row["unavailable"]["torch.compile"] == "failed: RuntimeError: no C++ compiler"
    assert row["unavailable"]["ember.compile"].startswith("not timed: losses [")
    assert row["warnings"] == {"ember.compile": ["UserWarning: cannot capture this step: it "
                                                 "runs eagerly"]}
    assert row["unavailable"]["jax jit"] == "skipped (--without)"


def test_epoch_loop_runs_in_each_framework_and_through_ember_compile(monkeypatch):
    """On 100 random images (two batches of 64 and 36); ember.compile's epoch is ember eager's."""
    import ember
    bench = load_benchmark()
    rng = np.random.default_rng(0)
    images = rng.standard_normal((100, 1, 32, 32), dtype=np.float32)
    labels = rng.integers(0, 10, 100)
    losses = {}
    for column in bench.EPOCH_COLUMNS:
        seconds, warmup, losses[column] = bench.epoch_seconds(column, images, labels)
        assert seconds > 0 and warmup > 0
        assert 1.5 < losses[column] < 3.5  # about log(10) for ten random classes
    assert np.isclose(losses["ember.compile"], losses["ember eager"], rtol=bench.EPOCH_LOSS_RTOL)
    monkeypatch.delattr(ember, "compile")  # an ember from before ember.compile
    with pytest.raises(bench.Unavailable, match="no ember.compile"):
        bench.epoch_seconds("ember.compile", images, labels)

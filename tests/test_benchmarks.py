"""The benchmark script runs and reports both frameworks (no timing is asserted)."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_benchmark_script_writes_side_by_side_results(tmp_path):
    out = tmp_path / "results.json"
    subprocess.run([sys.executable, "benchmarks/run.py", "--quick", "--only", "overhead",
                    "--json", str(out)], cwd=ROOT, check=True, capture_output=True, timeout=300)
    report = json.loads(out.read_text())
    assert report["machine"]["torch_threads"] >= 1
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
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_run", os.path.join(ROOT, "benchmarks",
                                                                            "run.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setattr(bench, "SETTINGS", {"malloc tuning": {"EMBER_MALLOC_TUNING": "1"}})
    rows = bench.bench_settings(quick=True)
    assert [row["name"] for row in rows] == ["train step, ce, batch 64, malloc tuning",
                                             "train step, ce, batch 256, malloc tuning"]
    for row in rows:
        assert row["settings"]["EMBER_MALLOC_TUNING"] == "1"
        assert row["settings"]["blas_threads"] == 1
        assert row["settings"]["malloc"] is sys.platform.startswith("linux")
        assert row["ember"]["median"] > 0 and row["torch"]["median"] > 0

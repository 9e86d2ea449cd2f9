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

"""ember's process-wide CPU settings: applied at import, and each can be switched off."""

import os
import subprocess
import sys

import pytest

CHECK = """
import ember
from ember import _blas, _malloc
print(_blas.threads(), _malloc.tuned)
"""


def run_fresh(env_updates):
    env = dict(os.environ, **env_updates)
    out = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True,
                         text=True, check=True)
    threads, tuned = out.stdout.split()
    return (None if threads == "None" else int(threads)), tuned == "True"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc/OpenBLAS tuning is Linux")
def test_import_sets_one_blas_thread_and_tunes_malloc():
    threads, tuned = run_fresh({"OPENBLAS_NUM_THREADS": "2"})
    assert threads in (1, None)
    assert tuned


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc/OpenBLAS tuning is Linux")
def test_both_can_be_switched_off():
    threads, tuned = run_fresh({"OPENBLAS_NUM_THREADS": "2", "EMBER_BLAS_THREADS": "0",
                                "EMBER_MALLOC_TUNING": "0"})
    assert threads in (2, None)
    assert not tuned

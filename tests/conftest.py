"""Shared fixtures: seeded random numbers and the devices to test on.

Nothing here catches or relaxes failures: the guard below only reports state that a test leaked
(grad mode left off, default dtype left changed) as an error of that test.
"""

import numpy as np
import pytest
import torch

import ember
from ember import _backend

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not _backend.cuda_available(),
                                                  reason="CUDA not available")),
]


@pytest.fixture(params=DEVICES)
def device(request):
    """Each test that takes ``device`` runs on the CPU and, where available, on the GPU."""
    return request.param


@pytest.fixture
def rng():
    """A NumPy generator with a fixed seed, so that every run draws the same samples."""
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def seeded_and_clean():
    """Seed both libraries; afterwards, fail the test if it leaked global state."""
    ember.manual_seed(0)
    torch.manual_seed(0)
    yield
    leaked = []
    if not ember.is_grad_enabled():
        leaked.append("grad mode left disabled")
    if ember.get_default_dtype() is not ember.float32:
        leaked.append(f"default dtype left at {ember.get_default_dtype()}")
    ember.set_default_dtype(ember.float32)
    ember.set_grad_enabled(True)
    if leaked:
        pytest.fail("test leaked global state: " + ", ".join(leaked))

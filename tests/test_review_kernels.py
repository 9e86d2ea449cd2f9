"""Review of ember._C's argument checks: a caller that passes a geometry whose element counts
overflow must get an exception, never a kernel that writes past an array's end. Each call
runs in a child process, so that a crash fails the test instead of ending the test run."""

import os
import re
import subprocess
import sys

import pytest

import ember
from ember import _C

needs_kernels = pytest.mark.skipif(_C.kernels is None, reason=f"ember._C: {_C.reason}")

# 2**61 + 1 = 3 * 768614336404564651 elements: times 8 bytes, 2**64 + 8 wraps to 8 bytes, the
# size of one float64. The columns' product itself fits in a Py_ssize_t.
_IM2COL = """
import numpy as np
from ember._C import kernels
image, columns = np.zeros(1), np.zeros(1)
kernels.conv2d_im2col(image, columns, 1, (1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 3,
                                          768614336404564651))
"""

# 16 planes of 1 x 1 pooled to 2**30 x 2**30: 16 * 2**60 pooled elements wrap to 0.
_POOL = """
import numpy as np
from ember._C import kernels
image, out = np.zeros(16, np.float32), np.zeros(0, np.float32)
size = 2 ** 30
geometry = ((1, 1), (size, size), (1, 1), (1, 1), (0, 0))
{call}
"""


def _raises_in_child(code: str, error: str):
    """Run ``code`` in a new interpreter: it must end by raising ``error``, not by a crash."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1, (done.returncode, done.stderr[-500:])
    assert done.stderr.rstrip().splitlines()[-1].startswith(error), done.stderr[-500:]


@needs_kernels
def test_element_count_whose_bytes_overflow_is_refused():
    _raises_in_child(_IM2COL, "ValueError")


@needs_kernels
@pytest.mark.parametrize("call", [
    "kernels.max_pool2d_forward(image, out, np.zeros(0, np.int64), *geometry, (1, 1))",
    "kernels.max_pool2d_backward(out, np.zeros(0, np.int64), image, *geometry, (1, 1))",
    "kernels.avg_pool2d_forward(image, out, *geometry, True, 0)",
    "kernels.avg_pool2d_backward(out, image, *geometry, True, 0)",
])
def test_pooled_count_that_overflows_is_refused(call):
    _raises_in_child(_POOL.format(call=call), "ValueError")


@pytest.mark.parametrize("kernels_on", [True, False])
@pytest.mark.parametrize("pool, arguments, message", [
    ("max_pool2d", dict(padding=-1, stride=-1), "pad must be non-negative, but got pad: -1"),
    ("max_pool2d", dict(padding=(-2, -3)), "pad must be non-negative, but got pad: -2"),
    ("avg_pool2d", dict(padding=(0, -2)), "pad must be non-negative, but got pad: -2"),
    ("max_pool2d", dict(stride=(1, -2)), "stride should be greater than zero, but got dH: 1 "
     "dW: -2"),
    ("avg_pool2d", dict(stride=-1), "stride should be greater than zero, but got dH: -1 dW: -1"),
    ("max_pool2d", dict(dilation=0), "dilation should be greater than zero, but got "
     "dilationH: 0 dilationW: 0"),
    ("max_pool2d", dict(dilation=(1, -1)), "dilation should be greater than zero, but got "
     "dilationH: 1 dilationW: -1"),
])
def test_pooling_refuses_negative_geometry_as_pytorch(monkeypatch, kernels_on, pool, arguments,
                                                      message):
    """Checked before any code runs: with dilation 0 the NumPy code returned numbers, and the
    kernels raised their own ValueError."""
    if not kernels_on:
        monkeypatch.setattr(_C, "kernels", None)
    elif _C.kernels is None:
        pytest.skip(f"ember._C: {_C.reason}")
    x = ember.arange(64.0).reshape(1, 1, 8, 8)
    with pytest.raises(RuntimeError, match=re.escape(message)):
        getattr(ember.nn.functional, pool)(x, 2, **arguments)


@pytest.mark.parametrize("arguments, message", [
    (dict(kernel_size=0), "kernel_size must be greater than zero, but got 0"),
    (dict(kernel_size=-1, stride=-1), "kernel_size must be greater than zero, but got -1"),
    (dict(stride=0), "stride must be greater than zero, but got 0"),
    (dict(stride=-1, padding=-1), "stride must be greater than zero, but got -1"),
    (dict(padding=-1, dilation=0), "padding must be non-negative, but got -1"),
    (dict(dilation=0), "dilation must be greater than zero, but got 0"),
])
def test_max_pool1d_refuses_bad_geometry_as_pytorch(arguments, message):
    arguments = {"kernel_size": 2, **arguments}
    with pytest.raises(RuntimeError, match=re.escape(f"max_pool1d() {message}")):
        ember.nn.functional.max_pool1d(ember.ones(1, 1, 8), **arguments)

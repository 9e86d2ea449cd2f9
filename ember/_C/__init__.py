"""ember's compiled CPU kernels, and the switch between them and the NumPy code.

A few hot paths of a training step are one pass in C where NumPy needs several (each NumPy call
costs a microsecond or more and walks the whole array): see ``kernels.h`` for how the C side is
laid out. Each kernel is an implementation detail of one op's forward or backward, or of an
optimizer's update: the op's file calls it when ``kernels`` is not None and the arrays are
NumPy's float32 or float64, and otherwise runs its NumPy code, which stays the readable
reference, what CuPy runs on a GPU, and the fallback.

``kernels`` is the extension module ``ember._C._kernels``, or None when it was not built (a
missing C compiler at install time) or ``EMBER_NO_EXTENSION=1`` is set in the environment;
``reason`` then says which. ``ember.show_config()`` prints it.
"""

import importlib
import os

import numpy as np

kernels = None
reason = ""

if os.environ.get("EMBER_NO_EXTENSION", "") not in ("", "0"):
    reason = "switched off by EMBER_NO_EXTENSION"
else:
    try:
        kernels = importlib.import_module(f"{__name__}._kernels")
    except ModuleNotFoundError:
        reason = "not built (no C compiler, or its build failed, when ember was installed)"
    except ImportError as error:  # built, but it cannot load here (another Python, say)
        reason = f"cannot be loaded ({error})"


_gemm = None  # whether kernels can multiply matrices (NumPy's BLAS handed over); None: not asked


def gemm_ready() -> bool:
    """Whether kernels that multiply matrices can run: the extension is built and NumPy's
    BLAS (OpenBLAS, found by ``ember._blas``) was handed to it. Asked at the first call."""
    global _gemm
    if _gemm is None:
        from .. import _blas

        functions = _blas.blas_functions() if kernels is not None else None
        if functions is not None:
            kernels.set_blas(*functions)
        _gemm = functions is not None
    return _gemm


_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)


def takes(*arrays) -> bool:
    """Whether the kernels can run on ``arrays`` (None entries left out): the extension is
    built, and all are C-contiguous NumPy arrays of one dtype, float32 or float64 (CuPy
    arrays, views with strides and other dtypes take the NumPy code)."""
    if kernels is None:
        return False
    dtype = arrays[0].dtype
    if dtype != _FLOAT32 and dtype != _FLOAT64:  # also refuses non-native byte order
        return False
    for array in arrays:
        if array is not None and (type(array) is not np.ndarray or array.dtype != dtype
                                  or not array.flags.c_contiguous):
            return False
    return True

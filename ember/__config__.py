"""``ember.__config__.show()`` (as ``torch.__config__.show()``): how this ember was built and
what it runs on; ``ember.show_config()`` prints it.

Example:
    >>> import ember
    >>> "compiled kernels" in ember.__config__.show()
    True
"""

import platform

import numpy as np

from . import _C, _backend, _parallel
from .version import __version__


def show() -> str:
    """A few lines: versions, whether the compiled CPU kernels are in use, threads, CuPy."""
    if _C.kernels is not None:
        kernels = f"in use ({_C.kernels.__file__})"
    else:
        kernels = f"not in use, NumPy code everywhere: {_C.reason}"
    cupy = _backend.cupy
    lines = [
        f"ember {__version__} on Python {platform.python_version()}, NumPy {np.__version__}",
        f"  - compiled kernels (ember._C): {kernels}",
        f"  - threads per op: {_parallel.get_num_threads()} (ember.set_num_threads)",
        f"  - CuPy: {cupy.__version__ if cupy is not None else 'not installed'}",
    ]
    return "\n".join(lines) + "\n"


def parallel_info() -> str:
    """The thread settings, as ``torch.__config__.parallel_info()`` lists them."""
    return (f"ember/_parallel:\n\tember.get_num_threads() : {_parallel.get_num_threads()}\n"
            f"\tember.get_num_interop_threads() : {_parallel.get_num_interop_threads()}\n")

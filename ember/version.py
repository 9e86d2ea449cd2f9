"""``ember.version``: ember's version, and the CUDA version it runs with (as ``torch.version``).

Example:
    >>> import ember
    >>> ember.version.__version__ == ember.__version__
    True
"""

from . import _backend

__version__ = "0.1.0"


def _cuda_version() -> "str | None":
    """The CUDA runtime version CuPy was built for ("12.4"), or None without CuPy, as
    ``torch.version.cuda`` is None in a CPU-only build."""
    if _backend.cupy is None:
        return None
    try:
        runtime = _backend.cupy.cuda.runtime.runtimeGetVersion()
    except Exception:  # pragma: no cover - CuPy that cannot load its CUDA runtime
        return None
    return f"{runtime // 1000}.{runtime % 1000 // 10}"


cuda = _cuda_version()

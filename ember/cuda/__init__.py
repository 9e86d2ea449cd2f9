"""``ember.cuda``: whether a GPU is usable, how many, their names and memory, and waiting for
queued GPU work; ``ember.cuda.amp`` holds PyTorch's older names of ``ember.amp``'s tools.

GPU tensors are CuPy arrays; without CuPy (``pip install 'ember[cuda]'``) or without a driver,
``is_available()`` is False and ember runs on the CPU.

Example:
    >>> import ember
    >>> device = "cuda" if ember.cuda.is_available() else "cpu"
"""

from .. import _backend
from . import amp


def is_available() -> bool:
    """True where CuPy is installed and sees at least one NVIDIA GPU."""
    return _backend.cuda_available()


def device_count() -> int:
    """The number of GPUs CuPy sees (0 without CuPy or a driver)."""
    if not is_available():
        return 0
    return _backend.cupy.cuda.runtime.getDeviceCount()


def _require() -> None:
    if not is_available():
        raise RuntimeError("CUDA is not available: ember needs CuPy and an NVIDIA GPU "
                           "(pip install 'ember[cuda]')")


def current_device() -> int:
    _require()
    return _backend.cupy.cuda.Device().id


def synchronize(device=None) -> None:
    """Wait until all work queued on the GPU has finished (for timing, or before host reads)."""
    _require()
    index = _backend.device(device).index if device is not None else None
    with _backend.cupy.cuda.Device(index or 0):
        _backend.cupy.cuda.Device().synchronize()


def manual_seed(seed: int) -> None:
    """Seed the GPU's generator (``ember.manual_seed`` does this too)."""
    if is_available():
        _backend.cupy.random.seed(int(seed) % (2 ** 32))


manual_seed_all = manual_seed


def set_device(device) -> None:
    """Make GPU ``device`` (an index, ``"cuda:1"`` or an ``ember.device``) the current one."""
    _require()
    _backend.cupy.cuda.Device(_backend.device(device).index or 0).use()


def get_device_name(device=None) -> str:
    """The name of GPU ``device`` (default: the current one), e.g. ``"NVIDIA H100"``."""
    _require()
    index = current_device() if device is None else _backend.device(device).index or 0
    return _backend.cupy.cuda.runtime.getDeviceProperties(index)["name"].decode()


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: ember has no bfloat16 tensors (NumPy and CuPy have no bfloat16 type), so a
    program that checks this picks float16 or float32 instead."""
    return False


def empty_cache() -> None:
    """Give the GPU memory that CuPy's pool holds unused back to the driver (nothing to do
    without CUDA)."""
    if is_available():
        _backend.cupy.get_default_memory_pool().free_all_blocks()


def memory_allocated(device=None) -> int:
    """Bytes of GPU memory that tensors use now (0 without CUDA), from CuPy's memory pool."""
    if not is_available():
        return 0
    return _backend.cupy.get_default_memory_pool().used_bytes()

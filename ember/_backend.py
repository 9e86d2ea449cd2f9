"""Devices and array modules: the only file that imports CuPy.

Every op gets its array module from its inputs (``xp = array_module(x)``), so one piece of code
serves NumPy on the CPU and CuPy on NVIDIA GPUs.
"""

import numpy as np

try:  # CuPy is optional (``pip install ember[cuda]``); without it ember is CPU-only.
    import cupy
except ImportError:  # pragma: no cover - depends on the machine
    cupy = None


class device:
    """Where a tensor lives: ``ember.device("cpu")`` or ``ember.device("cuda:0")``.

    Example:
        >>> import ember
        >>> ember.device("cuda", 1)
        device(type='cuda', index=1)
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index: "int | None" = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int):
            type, index = "cuda", type
        elif ":" in type:
            type, _, number = type.partition(":")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{number}'")
            index = int(number)
        if type not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type}")
        self.type = type
        self.index = index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __enter__(self) -> "device":
        """``with ember.device("cuda"):`` makes it the default device inside the block."""
        _entered.append(default_device)
        set_default_device(self)
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        set_default_device(_entered.pop())


_device_class = device  # set_default_device's parameter is named device, as PyTorch's
CPU = device("cpu")

# Where creation ops (zeros, tensor, randn, ...) put a tensor when no device is given, and
# the defaults that enclosing ``with device(...)`` blocks replaced.
default_device = CPU
_entered = []


def set_default_device(device: "device | str | int | None") -> None:
    """Make ``device`` the one creation ops use when they are given none (None: the CPU).

    As in PyTorch, the device is checked when a tensor is made there: with only the CPU,
    ``set_default_device("cuda")`` succeeds and the next ``ember.zeros(2)`` raises.

    Example:
        >>> import ember
        >>> ember.set_default_device("cpu"); ember.zeros(1).device
        device(type='cpu')
    """
    global default_device
    default_device = CPU if device is None else _device_class(device)


def get_default_device() -> device:
    """The device creation ops use when they are given none (``set_default_device``); for
    ``"cuda"`` without an index, the current GPU's (so it raises without CUDA, as PyTorch)."""
    if default_device.type == "cuda" and default_device.index is None:
        return device_of(module_for(default_device).empty(0))
    return default_device


def array_module(array):
    """NumPy or CuPy, whichever ``array`` belongs to."""
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy
    return np


def address(array) -> int:
    """Where an array's first element lives (host memory for NumPy, device memory for CuPy)."""
    if cupy is not None and isinstance(array, cupy.ndarray):
        return array.data.ptr
    return array.__array_interface__["data"][0]


def device_of(array) -> device:
    """The device an array lives on."""
    if cupy is not None and isinstance(array, cupy.ndarray):
        return device("cuda", array.device.id)
    return CPU


def module_for(dev: device):
    """The array module that allocates on ``dev``."""
    if dev.type == "cpu":
        return np
    if cupy is None:
        raise RuntimeError("CUDA is not available: ember needs CuPy for GPU tensors "
                           "(pip install 'ember[cuda]')")
    return cupy


def move(array, dev: device):
    """``array`` copied to ``dev`` (returned as is when it is already there)."""
    if device_of(array) == dev or (dev.type == "cuda" and dev.index is None
                                   and device_of(array).type == "cuda"):
        return array
    if dev.type == "cpu":
        return cupy.asnumpy(array)
    xp = module_for(dev)
    with xp.cuda.Device(dev.index or 0):
        return xp.asarray(array)


def cuda_available() -> bool:
    """True where CuPy is installed and sees at least one GPU."""
    if cupy is None:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # CuPy without a driver raises CUDARuntimeError
        return False

"""``ember.accelerator``: the machine's accelerator, whichever it is, as ``torch.accelerator``.

ember's one accelerator type is CUDA (through CuPy). Without it there is none: ``is_available()``
is False, ``current_accelerator()`` is None, and the calls that need a device raise.

Example:
    >>> import ember
    >>> acc = ember.accelerator.current_accelerator()
    >>> device = acc.type if ember.accelerator.is_available() else "cpu"
"""

from . import _backend, cuda

_NONE = "Cannot access accelerator device when none is available."


def is_available() -> bool:
    """True where an accelerator (a GPU that CuPy sees) can be used."""
    return _backend.cuda_available()


def current_accelerator(check_available: bool = False) -> "_backend.device | None":
    """``device(type='cuda')`` where ember can use GPUs (CuPy is installed), else None; with
    ``check_available``, also None where no GPU is usable now."""
    if _backend.cupy is None or (check_available and not is_available()):
        return None
    return _backend.device("cuda")


def device_count() -> int:
    """The number of accelerator devices (0 without one)."""
    return cuda.device_count()


def _require() -> None:
    if not is_available():
        raise RuntimeError(_NONE)


def current_device_index() -> int:
    """The index of the current accelerator device."""
    _require()
    return cuda.current_device()


def set_device_index(device, /) -> None:
    """Make accelerator ``device`` (an index, ``"cuda:1"``, an ``ember.device``) current."""
    _require()
    cuda.set_device(device)


def synchronize(device=None, /) -> None:
    """Wait for the work queued on accelerator ``device`` (default: the current one)."""
    _require()
    cuda.synchronize(device)


__all__ = ["current_accelerator", "current_device_index", "device_count", "is_available",
           "set_device_index", "synchronize"]

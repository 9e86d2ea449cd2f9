"""``autocast``: PyTorch's mixed-precision region, which ember accepts but does not apply."""

import functools
import warnings

from .. import _backend, _dtype

# The dtypes PyTorch's autocast casts to on each device type, in the order its warning lists.
SUPPORTED = {"cpu": (_dtype.bfloat16, _dtype.float16), "cuda": (_dtype.float16, _dtype.bfloat16)}
DEFAULT_DTYPE = {"cpu": _dtype.bfloat16, "cuda": _dtype.float16}


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast lowers precision on ``device_type``: never in ember yet (PyTorch: True
    for cpu and cuda)."""
    _backend.device(device_type)
    return False


class autocast:
    """A region (or decorated function) where PyTorch runs some ops in lower precision.

    ember takes the same arguments and gives PyTorch's warnings where PyTorch disables the
    region (CUDA unavailable, a dtype the device cannot autocast to), but it does not lower
    precision anywhere yet: where PyTorch would, ember warns that the ops run in their inputs'
    dtypes (float32 stays float32), so results are not PyTorch's lower-precision ones.

    Example:
        >>> import ember
        >>> with ember.autocast("cuda", enabled=False):
        ...     y = ember.ones(2) * 2
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled: "bool | None" = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        _backend.device(device_type)  # RuntimeError for a name that is not a device type
        self.device = device_type
        self.fast_dtype = DEFAULT_DTYPE[device_type] if dtype is None else dtype
        self._enabled = enabled
        if not enabled:
            return
        if device_type == "cuda" and not _backend.cuda_available():
            warnings.warn("CUDA is not available. Disabling autocast.", stacklevel=2)
            self._enabled = False
        elif self.fast_dtype not in SUPPORTED[device_type]:
            name = "CPU" if device_type == "cpu" else "CUDA"
            listed = ", ".join(str(d) for d in SUPPORTED[device_type])
            warnings.warn(f"In {name} autocast, but the target dtype is not supported. "
                          f"Disabling autocast.\n{name} Autocast only supports dtypes of "
                          f"{listed} currently.", stacklevel=2)
            self._enabled = False
        else:
            warnings.warn(f"ember does not implement autocast yet: ops inside "
                          f"autocast('{device_type}', dtype={self.fast_dtype}) run in their "
                          "inputs' dtypes (float32 stays float32)", stacklevel=2)
            self._enabled = False

    def __enter__(self) -> "autocast":
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> bool:
        return False

    def __call__(self, function):
        """``@autocast(...)``: ``function`` runs inside this region."""
        @functools.wraps(function)
        def inside(*args, **kwargs):
            with self:
                return function(*args, **kwargs)
        return inside

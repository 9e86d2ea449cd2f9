"""``ember.backends``: the switches PyTorch programs set on its backends, as ``torch.backends``.

ember computes with NumPy (and CuPy) rather than cuDNN or MPS: ``cudnn.is_available()`` and
``mps.is_available()`` are False, and the flags (``cudnn.benchmark``, ``cuda.matmul.allow_tf32``)
hold what a program sets without changing how ember computes: float32 products stay float32.

Example:
    >>> import ember
    >>> ember.backends.cudnn.benchmark = True
    >>> ember.backends.mps.is_available()
    False
"""

import warnings

PRECISIONS = ("highest", "high", "medium")
_matmul_precision = "highest"


def set_float32_matmul_precision(precision: str) -> None:
    """Record the precision float32 products may use: ``"highest"``, ``"high"`` (TF32 allowed)
    or ``"medium"``; ember computes them in float32 whatever is set, as PyTorch on most CPUs.

    Example:
        >>> import ember
        >>> ember.set_float32_matmul_precision("high")
        >>> ember.get_float32_matmul_precision()
        'high'
    """
    global _matmul_precision
    if precision not in PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", stacklevel=2)
        return
    _matmul_precision = precision


def get_float32_matmul_precision() -> str:
    """The precision ``set_float32_matmul_precision`` recorded (``"highest"`` at first)."""
    return _matmul_precision


_deterministic = {"mode": False, "warn_only": False}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record whether the program asks for deterministic algorithms, as PyTorch's switch.

    Recorded only: ember's CPU ops give the same numbers on every run anyway. On the GPU some
    (the scatter-adds behind ``index_add_`` and embedding gradients) add in whatever order
    threads finish, and ember does not raise for them as PyTorch does in this mode.

    Example:
        >>> import ember
        >>> ember.use_deterministic_algorithms(True)
        >>> ember.are_deterministic_algorithms_enabled()
        True
        >>> ember.use_deterministic_algorithms(False)
    """
    for name, value in (("'mode' (position 1)", mode), ("'warn_only'", warn_only)):
        if not isinstance(value, bool):
            raise TypeError(f"_set_deterministic_algorithms(): argument {name} must be bool, "
                            f"not {type(value).__name__}")
    _deterministic.update(mode=mode, warn_only=warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    """What ``use_deterministic_algorithms`` last recorded (False at first)."""
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """The ``warn_only`` that ``use_deterministic_algorithms`` last recorded (False at first)."""
    return _deterministic["warn_only"]


from . import cuda, cudnn, mps  # noqa: E402  (cuda.matmul reads the precision above)

__all__ = ["are_deterministic_algorithms_enabled", "cuda", "cudnn",
           "get_float32_matmul_precision", "is_deterministic_algorithms_warn_only_enabled", "mps",
           "set_float32_matmul_precision", "use_deterministic_algorithms"]

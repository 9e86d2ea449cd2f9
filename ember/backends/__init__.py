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


from . import cuda, cudnn, mps  # noqa: E402  (cuda.matmul reads the precision above)

__all__ = ["cuda", "cudnn", "get_float32_matmul_precision", "mps",
           "set_float32_matmul_precision"]

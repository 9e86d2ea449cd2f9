"""``ember.backends.cuda``: whether ember can use CUDA, and PyTorch's cuBLAS switches.

Example:
    >>> import ember
    >>> ember.backends.cuda.matmul.allow_tf32 = True
    >>> ember.get_float32_matmul_precision()
    'high'
"""

from .. import _backend, backends


def is_built() -> bool:
    """True where CuPy is installed, through which ember runs on NVIDIA GPUs (a GPU may still
    be missing: ``ember.cuda.is_available()`` says)."""
    return _backend.cupy is not None


class _Matmul:
    """``matmul``'s switches; ``allow_tf32`` is ``get_float32_matmul_precision() != "highest"``
    both ways, as in PyTorch."""

    __slots__ = ("allow_fp16_reduced_precision_reduction",
                 "allow_bf16_reduced_precision_reduction")

    def __init__(self) -> None:
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    @property
    def allow_tf32(self) -> bool:
        return backends.get_float32_matmul_precision() != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        backends.set_float32_matmul_precision("high" if value else "highest")

    def __setattr__(self, name: str, value) -> None:
        if name not in ("allow_tf32", *_Matmul.__slots__):
            raise AttributeError(f"Unknown attribute {name}")
        super().__setattr__(name, value)


matmul = _Matmul()

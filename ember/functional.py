"""``torch.functional``: the module PyTorch keeps some top-level functions in (``einsum``,
``meshgrid``, ``norm``, ``split``, ``unique`` ...); each name here is ember's top-level function
of that name, found when it is first read. ``broadcast_shapes`` lives here and ember exports
it.

Example:
    >>> import ember
    >>> import ember.functional as F
    >>> F.broadcast_shapes((2, 1), (3,))
    ember.Size([2, 3])
    >>> F.split is ember.split
    True
"""

import importlib

from ._size import Size

# PyTorch 2.13's ``torch.functional.__all__``; all but ``broadcast_shapes`` resolve through
# ``__getattr__`` below.
_TORCH_NAMES = ("atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors",
                "cartesian_prod", "block_diag", "cdist", "chain_matmul", "einsum", "istft", "lu",
                "norm", "meshgrid", "pca_lowrank", "split", "stft", "svd_lowrank", "tensordot",
                "unique", "unique_consecutive", "unravel_index")
__all__ = list(_TORCH_NAMES)


def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of ``shapes`` broadcast to, without making any tensor.

    Each shape is a sequence of ints or one int (a 1-d shape); None is skipped.

    Example:
        >>> import ember
        >>> ember.broadcast_shapes((3, 1), (1, 4), 4)
        ember.Size([3, 4])
    """
    shapes = [(shape,) if isinstance(shape, int) else tuple(shape)
              for shape in shapes if shape is not None]
    result = [1] * max((len(shape) for shape in shapes), default=0)
    for index, shape in enumerate(shapes):
        for dim in range(-1, -len(shape) - 1, -1):
            size = shape[dim]
            if size == 1 or size == result[dim]:
                continue
            if result[dim] != 1:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {size} at "
                                   f"{dim}! Mismatching argument at index {index} had {shape}; "
                                   f"but expected shape should be broadcastable to {result}")
            result[dim] = size
    if any(size < 0 for size in result):
        raise ValueError("Attempting to broadcast a dimension with negative length!")
    return Size(result)


def __getattr__(name: str):
    """The other names of ``torch.functional``: ember's top-level function of that name."""
    if name not in __all__:
        raise AttributeError(f"module 'ember.functional' has no attribute '{name}'")
    ember = importlib.import_module("ember")
    try:
        return getattr(ember, name)
    except AttributeError:
        raise AttributeError(f"module 'ember.functional' has no attribute '{name}': ember does "
                             f"not implement torch.functional.{name} (ember.{name}) yet") from None


def __dir__() -> list:
    ember = importlib.import_module("ember")
    return sorted(set(globals()) | {name for name in __all__ if hasattr(ember, name)})

"""Padding layers: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad and CircularPad, in 1, 2
and 3 dimensions; each calls ``F.pad`` with its mode."""

from .. import functional as F
from .module import Module


def _amounts(padding, dims: int) -> tuple:
    """An int (the same on every side) or a (left, right, top, bottom, ...) sequence, which
    ``F.pad`` checks (as PyTorch, a shorter one pads fewer dimensions)."""
    if isinstance(padding, int):
        return (padding,) * (2 * dims)
    return tuple(padding)


class _Pad(Module):
    """Pads the last ``_dims`` dimensions by ``padding`` in ``_mode``."""

    _dims = 1
    _mode = "constant"

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _amounts(padding, self._dims)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPad(_Pad):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPad):
    """Pad the last dimension with ``value``: ``padding`` is (left, right) or one int.

    Example:
        >>> import ember
        >>> ember.nn.ConstantPad1d(1, 3.5)(ember.zeros(1, 2))
        tensor([[3.5000, 0.0000, 0.0000, 3.5000]])
    """


class ConstantPad2d(_ConstantPad):
    """Pad the last two dimensions with ``value``: (left, right, top, bottom) or one int.

    Example:
        >>> import ember
        >>> ember.nn.ConstantPad2d((1, 0, 0, 1), 2.0)(ember.zeros(1, 1, 1)).shape
        ember.Size([1, 2, 2])
    """

    _dims = 2


class ConstantPad3d(_ConstantPad):
    """Pad the last three dimensions with ``value``.

    Example:
        >>> import ember
        >>> ember.nn.ConstantPad3d(1, 0.0)(ember.zeros(1, 1, 1, 1)).shape
        ember.Size([1, 3, 3, 3])
    """

    _dims = 3


class _ZeroPad(_ConstantPad):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad):
    """Pad the last dimension with zeros.

    Example:
        >>> import ember
        >>> ember.nn.ZeroPad1d((1, 2))(ember.ones(1, 1))
        tensor([[0., 1., 0., 0.]])
    """


class ZeroPad2d(_ZeroPad):
    """Pad the last two dimensions with zeros: (left, right, top, bottom) or one int.

    Example:
        >>> import ember
        >>> ember.nn.ZeroPad2d((1, 1, 2, 0))
        ZeroPad2d((1, 1, 2, 0))
    """

    _dims = 2


class ZeroPad3d(_ZeroPad):
    """Pad the last three dimensions with zeros.

    Example:
        >>> import ember
        >>> ember.nn.ZeroPad3d(1)(ember.ones(1, 1, 1, 1)).shape
        ember.Size([1, 3, 3, 3])
    """

    _dims = 3


class _ReflectionPadNd(_Pad):
    _mode = "reflect"


class ReflectionPad1d(_ReflectionPadNd):
    """Pad the last dimension with the reflection of the input around its edge values.

    Example:
        >>> import ember
        >>> ember.nn.ReflectionPad1d(2)(ember.tensor([[1.0, 2.0, 3.0]]))
        tensor([[3., 2., 1., 2., 3., 2., 1.]])
    """


class ReflectionPad2d(_ReflectionPadNd):
    """Pad the last two dimensions by reflection: (left, right, top, bottom) or one int.

    Example:
        >>> import ember
        >>> ember.nn.ReflectionPad2d(1)(ember.ones(1, 3, 3)).shape
        ember.Size([1, 5, 5])
    """

    _dims = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Pad the last three dimensions by reflection.

    Example:
        >>> import ember
        >>> ember.nn.ReflectionPad3d(1)(ember.ones(1, 2, 2, 2)).shape
        ember.Size([1, 4, 4, 4])
    """

    _dims = 3


class _ReplicationPadNd(_Pad):
    _mode = "replicate"


class ReplicationPad1d(_ReplicationPadNd):
    """Pad the last dimension by repeating the edge values.

    Example:
        >>> import ember
        >>> ember.nn.ReplicationPad1d((1, 2))(ember.tensor([[1.0, 2.0]]))
        tensor([[1., 1., 2., 2., 2.]])
    """


class ReplicationPad2d(_ReplicationPadNd):
    """Pad the last two dimensions by repeating the edge values.

    Example:
        >>> import ember
        >>> ember.nn.ReplicationPad2d(1)(ember.ones(1, 2, 2)).shape
        ember.Size([1, 4, 4])
    """

    _dims = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Pad the last three dimensions by repeating the edge values.

    Example:
        >>> import ember
        >>> ember.nn.ReplicationPad3d(1)(ember.ones(1, 2, 2, 2)).shape
        ember.Size([1, 4, 4, 4])
    """

    _dims = 3


class _CircularPadNd(_Pad):
    _mode = "circular"


class CircularPad1d(_CircularPadNd):
    """Pad the last dimension by wrapping around.

    Example:
        >>> import ember
        >>> ember.nn.CircularPad1d(1)(ember.tensor([[1.0, 2.0, 3.0]]))
        tensor([[3., 1., 2., 3., 1.]])
    """


class CircularPad2d(_CircularPadNd):
    """Pad the last two dimensions by wrapping around.

    Example:
        >>> import ember
        >>> ember.nn.CircularPad2d(1)(ember.ones(1, 2, 2)).shape
        ember.Size([1, 4, 4])
    """

    _dims = 2


class CircularPad3d(_CircularPadNd):
    """Pad the last three dimensions by wrapping around.

    Example:
        >>> import ember
        >>> ember.nn.CircularPad3d(1)(ember.ones(1, 2, 2, 2)).shape
        ember.Size([1, 4, 4, 4])
    """

    _dims = 3

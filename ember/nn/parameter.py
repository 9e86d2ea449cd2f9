"""Parameter: a tensor that a Module registers as one of its learnable weights."""

import numpy as np

from .. import _dtype
from .._tensor import Tensor


def _rebuild_parameter(data, requires_grad: bool) -> "Parameter":
    """Unpickle a Parameter (module level, so that pickle can find it by name)."""
    return Parameter(Tensor._wrap(data), requires_grad)


class Parameter(Tensor):
    """A tensor that is a module's learnable weight.

    Assigning a Parameter to an attribute of a ``Module`` registers it, so that it appears in
    ``parameters()`` and ``state_dict()``. The Parameter shares memory (and the version counter)
    with ``data``; it is always a leaf and requires grad unless told otherwise.

    Args:
        data: the initial values; an empty float tensor when None.
        requires_grad: whether backward computes a gradient for it.

    Example:
        >>> import ember
        >>> w = ember.nn.Parameter(ember.ones(2))
        >>> w
        Parameter containing:
        tensor([1., 1.], requires_grad=True)
    """

    def __init__(self, data: "Tensor | None" = None, requires_grad: bool = True) -> None:
        if data is None:
            data = Tensor._wrap(np.empty(0, dtype=_dtype.get_default_dtype().numpy))
        super().__init__(data._data)
        # Shared with ``data``, so that an in-place change through either one is seen by both.
        self._version = data._version
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> "Parameter":
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(Tensor._wrap(self._data.copy()), self.requires_grad)
        if self.grad is not None:
            result.grad = Tensor._wrap(self.grad._data.copy())
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        # Only the values and the flag: the graph bookkeeping of a leaf is not worth keeping.
        return _rebuild_parameter, (self._data, self.requires_grad)

"""Flatten parameters into one vector and back, e.g. for second-order or evolution methods."""

from ..._tensor import Tensor
from ...ops.shape import cat
from ..modules.module import _typename


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (a new one, in the graph).

    Example:
        >>> import ember
        >>> ember.nn.utils.parameters_to_vector(ember.nn.Linear(3, 2).parameters()).shape
        ember.Size([8])
    """
    return cat([param.reshape(-1) for param in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Make the parameters' values consecutive slices of the 1-D tensor ``vec``.

    Example:
        >>> import ember
        >>> layer = ember.nn.Linear(3, 2)
        >>> ember.nn.utils.vector_to_parameters(ember.zeros(8), layer.parameters())
        >>> layer.bias
        Parameter containing:
        tensor([0., 0.], requires_grad=True)
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected ember.Tensor, but got: {_typename(vec)}")
    start = 0
    for param in parameters:
        count = param.numel()
        param.data = vec[start:start + count].view_as(param).data
        start += count

"""Dropout: zero random elements while training, scaling the rest to keep the mean."""

from .. import functional as F
from .module import Module


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by 1/(1-p).

    In evaluation mode (``model.eval()``) it returns its input unchanged.

    Args:
        p: the probability of zeroing an element.
        inplace: overwrite the input instead of allocating the output.

    Example:
        >>> import ember
        >>> drop = ember.nn.Dropout(0.5)
        >>> drop
        Dropout(p=0.5, inplace=False)
        >>> drop.eval()(ember.ones(3))
        tensor([1., 1., 1.])
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"

"""Dropout: zero random elements while training, scaling the rest to keep the mean."""

from .. import functional as F
from .module import Module


class _DropoutNd(Module):
    """The options every dropout layer has: ``p`` and ``inplace``."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
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

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """In training, zero whole channels of (N, C, L) or (C, L) input with probability ``p``
    (scaling the rest by 1/(1-p)): neighbouring positions are correlated, so dropping single
    elements would not regularize.

    Example:
        >>> import ember
        >>> ember.nn.Dropout1d(0.2)
        Dropout1d(p=0.2, inplace=False)
    """

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """In training, zero whole channels of (N, C, H, W) input with probability ``p``.

    Example:
        >>> import ember
        >>> drop = ember.nn.Dropout2d()
        >>> mask = drop(ember.ones(1, 8, 2, 2))[0, :, 0, 0]
        >>> sorted(set(mask.tolist())) in ([0.0, 2.0], [0.0], [2.0])
        True
    """

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """In training, zero whole channels of (N, C, D, H, W) input with probability ``p``.

    Example:
        >>> import ember
        >>> ember.nn.Dropout3d().eval()(ember.ones(1, 2, 1, 1, 1)).shape
        ember.Size([1, 2, 1, 1, 1])
    """

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks: keeps the mean and variance of self-normalizing
    activations (dropped values become SELU's saturation value).

    Example:
        >>> import ember
        >>> ember.nn.AlphaDropout(0.1)
        AlphaDropout(p=0.1, inplace=False)
    """

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training, self.inplace)


class FeatureAlphaDropout(_DropoutNd):
    """AlphaDropout of whole channels (dimension 1), for SELU networks of convolutions.

    Example:
        >>> import ember
        >>> ember.nn.FeatureAlphaDropout(0.3)
        FeatureAlphaDropout(p=0.3, inplace=False)
    """

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training, self.inplace)

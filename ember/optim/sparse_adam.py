"""SparseAdam: refused, since ember has no sparse gradients."""

from typing import Iterable, Tuple


class SparseAdam:
    """PyTorch's Adam for sparse gradients (``nn.Embedding(..., sparse=True)``).

    ember has no sparse tensors, so no gradient could ever be one: constructing SparseAdam
    raises NotImplementedError with what to use instead (PyTorch's SparseAdam itself refuses
    dense gradients).

    Example:
        >>> import ember
        >>> ember.optim.SparseAdam([ember.ones(2, requires_grad=True)])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        NotImplementedError: SparseAdam needs sparse gradients, which ember does not have; ...
    """

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False) -> None:
        raise NotImplementedError("SparseAdam needs sparse gradients, which ember does not "
                                  "have; use ember.optim.Adam (with dense gradients it takes "
                                  "the same steps)")

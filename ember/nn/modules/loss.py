"""Loss modules: each stores its options and calls the matching ``ember.nn.functional`` loss."""

import warnings

from .. import functional as F
from .module import Module


def _legacy_reduction(size_average, reduce) -> str:
    """The ``reduction`` that PyTorch's deprecated ``size_average``/``reduce`` flags meant."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        reduction = "none"
    elif size_average:
        reduction = "mean"
    else:
        reduction = "sum"
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", stacklevel=3)
    return reduction


class _Loss(Module):
    """Base of the losses: resolves ``reduction`` ("mean", "sum" or "none")."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with an optional per-class ``weight``, kept as a buffer so ``to()`` moves it."""

    def __init__(self, weight=None, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class L1Loss(_Loss):
    """The mean (or sum) absolute difference between input and target.

    Example:
        >>> import ember
        >>> ember.nn.L1Loss()(ember.tensor([1.0, 3.0]), ember.tensor([2.0, 2.0]))
        tensor(1.)
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """The mean (or sum) squared difference between input and target.

    Example:
        >>> import ember
        >>> criterion = ember.nn.MSELoss()
        >>> criterion
        MSELoss()
        >>> criterion(ember.tensor([1.0, 3.0]), ember.tensor([2.0, 2.0]))
        tensor(1.)
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class targets, given log-probabilities (N, C, ...).

    Args:
        weight: a rescaling weight per class.
        ignore_index: a target value that contributes neither loss nor gradient.
        reduction: "mean" (weighted by ``weight``), "sum" or "none".

    Example:
        >>> import ember
        >>> log_probs = ember.tensor([[-0.5, -1.0], [-2.0, -0.1]])
        >>> ember.nn.NLLLoss()(log_probs, ember.tensor([0, 1]))
        tensor(0.3000)
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy between logits (N, C, ...) and class indices or class probabilities.

    Args:
        weight: a rescaling weight per class.
        ignore_index: a target value that contributes neither loss nor gradient.
        reduction: "mean", "sum" or "none".
        label_smoothing: in [0, 1]; mixes the target with the uniform distribution.

    Example:
        >>> import ember
        >>> logits = ember.tensor([[2.0, 0.0], [0.0, 2.0]])
        >>> ember.nn.CrossEntropyLoss()(logits, ember.tensor([0, 1]))
        tensor(0.1269)
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight,
                               ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class BCELoss(_WeightedLoss):
    """Binary cross entropy between probabilities in [0, 1] and targets.

    Example:
        >>> import ember
        >>> ember.nn.BCELoss()(ember.tensor([0.5, 0.5]), ember.tensor([1.0, 0.0]))
        tensor(0.6931)
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy on logits: a stable ``BCELoss(sigmoid(input), target)``.

    Args:
        weight: a rescaling weight per element (broadcast).
        reduction: "mean", "sum" or "none".
        pos_weight: a weight on the positive examples, per class.

    Example:
        >>> import ember
        >>> ember.nn.BCEWithLogitsLoss()(ember.zeros(2), ember.tensor([1.0, 0.0]))
        tensor(0.6931)
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)

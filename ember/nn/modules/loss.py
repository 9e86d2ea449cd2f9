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


class SmoothL1Loss(_Loss):
    """A squared error below ``beta`` and an absolute error above it.

    Example:
        >>> import ember
        >>> ember.nn.SmoothL1Loss()(ember.tensor([0.5, 3.0]), ember.zeros(2))
        tensor(1.3125)
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """A squared error below ``delta`` and ``delta`` times an absolute error above it.

    Example:
        >>> import ember
        >>> ember.nn.HuberLoss(delta=2.0)(ember.tensor([0.5, 3.0]), ember.zeros(2))
        tensor(2.0625)
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """The Kullback-Leibler divergence of ``target`` from ``input`` (log-probabilities).

    Use ``reduction='batchmean'`` for the divergence as defined.

    Example:
        >>> import ember
        >>> log_q = ember.tensor([[0.5, 0.5]]).log()
        >>> ember.nn.KLDivLoss(reduction="batchmean")(log_q, ember.tensor([[0.9, 0.1]]))
        tensor(0.3681)
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class SoftMarginLoss(_Loss):
    """The two-class logistic loss ``log(1 + exp(-target * input))``, targets +1 or -1.

    Example:
        >>> import ember
        >>> ember.nn.SoftMarginLoss()(ember.zeros(2), ember.tensor([1.0, -1.0]))
        tensor(0.6931)
    """

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class _MarginLoss(_Loss):
    """A loss with a ``margin`` as its first argument."""

    def __init__(self, margin: float, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin


class MarginRankingLoss(_MarginLoss):
    """``max(0, -target * (input1 - input2) + margin)``.

    Example:
        >>> import ember
        >>> ember.nn.MarginRankingLoss()(ember.tensor([1.0]), ember.tensor([2.0]),
        ...                              ember.tensor([1.0]))
        tensor(1.)
    """

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(margin, size_average, reduce, reduction)

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin,
                                     reduction=self.reduction)


class HingeEmbeddingLoss(_MarginLoss):
    """``input`` where ``target`` is 1, ``max(0, margin - input)`` where it is -1.

    Example:
        >>> import ember
        >>> ember.nn.HingeEmbeddingLoss()(ember.tensor([0.3, 0.4]), ember.tensor([1.0, -1.0]))
        tensor(0.4500)
    """

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(margin, size_average, reduce, reduction)

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin,
                                      reduction=self.reduction)


class CosineEmbeddingLoss(_MarginLoss):
    """``1 - cos(x1, x2)`` for similar pairs (target 1), ``max(0, cos - margin)`` for
    dissimilar ones (target -1).

    Example:
        >>> import ember
        >>> ember.nn.CosineEmbeddingLoss()(ember.tensor([[1.0, 0.0]]), ember.tensor([[1.0, 1.0]]),
        ...                                ember.tensor([1.0]))
        tensor(0.2929)
    """

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(margin, size_average, reduce, reduction)

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                       reduction=self.reduction)


class TripletMarginLoss(_MarginLoss):
    """``max(0, d(anchor, positive) - d(anchor, negative) + margin)``, d the p-norm distance.

    Example:
        >>> import ember
        >>> a, pos, neg = ember.zeros(1, 2), ember.tensor([[1.0, 0.0]]), ember.zeros(1, 2)
        >>> ember.nn.TripletMarginLoss()(a, pos, neg)
        tensor(2.0000)
    """

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(margin, size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got "
                             f"{margin} instead")
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                     eps=self.eps, swap=self.swap, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """The negative log-likelihood of a Poisson-distributed target.

    Example:
        >>> import ember
        >>> ember.nn.PoissonNLLLoss()(ember.zeros(2), ember.tensor([1.0, 2.0]))
        tensor(1.)
    """

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None,
                 eps: float = 1e-8, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                  eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """The negative log-likelihood of a normally distributed target, given the predicted
    mean (``input``) and variance (``var``).

    Example:
        >>> import ember
        >>> criterion = ember.nn.GaussianNLLLoss()
        >>> criterion(ember.tensor([1.0]), ember.tensor([3.0]), ember.tensor([4.0]))
        tensor(1.1931)
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6,
                 reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        self.full = full
        self.eps = eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Binary cross-entropy of each of C labels from logits, averaged over the labels.

    Example:
        >>> import ember
        >>> ember.nn.MultiLabelSoftMarginLoss()(ember.zeros(1, 2), ember.tensor([[1.0, 0.0]]))
        tensor(0.6931)
    """

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight,
                                             reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """The multi-class hinge loss on class scores (N, C) and class targets (N).

    Example:
        >>> import ember
        >>> ember.nn.MultiMarginLoss()(ember.tensor([[0.1, 0.2, 0.4, 0.8]]), ember.tensor([3]))
        tensor(0.3250)
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, size_average=None,
                 reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got "
                             f"{weight.ndim}D instead")
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                   weight=self.weight, reduction=self.reduction)

"""Normalization layers: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, GroupNorm, LayerNorm, RMSNorm
and LocalResponseNorm."""

from ... import _dtype
from ...ops.creation import empty, ones, tensor, zeros
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


def _register_affine(module: Module, shape: tuple, weight: bool, bias: bool, device,
                     dtype) -> None:
    """The learnable scale ``weight`` and shift ``bias`` of a normalisation layer, of
    ``shape``; one not learnt is registered as None, so it still shows as an attribute."""
    for name, learnt in (("weight", weight), ("bias", bias)):
        if learnt:
            setattr(module, name, Parameter(empty(*shape, device=device, dtype=dtype)))
        else:
            module.register_parameter(name, None)


def _reset_affine(module: Module) -> None:
    """Scale 1 and shift 0, where the layer learns them."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ only in the input shapes accepted.

    In training, each channel is normalised with the mean and (biased) variance of the batch,
    and the running estimates move towards the batch's (unbiased) statistics by ``momentum``.
    In evaluation, the running estimates are used instead.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: "float | None" = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None,
                 *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _register_affine(self, (num_features,), affine, affine and bias, device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked",
                                 tensor(0, dtype=_dtype.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        """Reset the running statistics, and the scale to 1 and shift to 0."""
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input) -> None:
        raise NotImplementedError

    def forward(self, input):
        self._check_input_dim(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative average instead of an exponential one
                momentum = 1.0 / float(self.num_batches_tracked)
        # Batch statistics in training, and in evaluation when no running estimates exist.
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_batch_stats, momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) input, per channel C.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance, for numerical stability.
        momentum: how far each batch moves the running estimates; None for a cumulative mean.
        affine: whether to learn a per-channel scale (``weight``) and shift (``bias``).
        track_running_stats: whether to keep running estimates for evaluation mode.
        device, dtype: where and of what type to create the parameters and buffers.
        bias: whether to learn the shift, when ``affine``.

    Example:
        >>> import ember
        >>> bn = ember.nn.BatchNorm1d(3)
        >>> bn
        BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
        >>> bn(ember.randn(8, 3)).shape
        ember.Size([8, 3])
    """

    def _check_input_dim(self, input) -> None:
        if input.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) input, per channel C.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance, for numerical stability.
        momentum: how far each batch moves the running estimates; None for a cumulative mean.
        affine: whether to learn a per-channel scale (``weight``) and shift (``bias``).
        track_running_stats: whether to keep running estimates for evaluation mode.
        device, dtype: where and of what type to create the parameters and buffers.
        bias: whether to learn the shift, when ``affine``.

    Example:
        >>> import ember
        >>> bn = ember.nn.BatchNorm2d(6)
        >>> [name for name, _ in bn.named_buffers()]
        ['running_mean', 'running_var', 'num_batches_tracked']
        >>> bn(ember.randn(4, 6, 5, 5)).shape
        ember.Size([4, 6, 5, 5])
    """

    def _check_input_dim(self, input) -> None:
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class LayerNorm(Module):
    """Normalise over the last dimensions, ``normalized_shape``, of each sample.

    Args:
        normalized_shape: the trailing shape to normalise over (an int for the last dimension).
        eps: added to the variance, for numerical stability.
        elementwise_affine: whether to learn an elementwise scale and shift.
        bias: whether to learn the shift, when ``elementwise_affine``.
        device, dtype: where and of what type to create the parameters.

    Example:
        >>> import ember
        >>> ln = ember.nn.LayerNorm(4)
        >>> ln
        LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)
        >>> ln(ember.randn(2, 3, 4)).shape
        ember.Size([2, 3, 4])
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _register_affine(self, self.normalized_shape, elementwise_affine,
                         elementwise_affine and bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Scale 1, shift 0."""
        _reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class BatchNorm3d(_BatchNorm):
    """Batch normalisation over (N, C, D, H, W) input, per channel C (the arguments are
    BatchNorm2d's).

    Example:
        >>> import ember
        >>> ember.nn.BatchNorm3d(2)(ember.randn(2, 2, 3, 3, 3)).shape
        ember.Size([2, 2, 3, 3, 3])
    """

    def _check_input_dim(self, input) -> None:
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")


class _InstanceNorm(_BatchNorm):
    """Instance normalisation: each channel of each sample normalised over its positions.

    The arguments are BatchNorm's, with ``affine`` and ``track_running_stats`` off by default.
    """

    _spatial = 1

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input):
        batched = self._spatial + 2
        if input.dim() not in (batched - 1, batched):
            raise ValueError(f"expected {batched - 1}D or {batched}D input (got {input.dim()}D "
                             f"input)")
        unbatched = input.dim() == batched - 1
        if unbatched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.num_features and self.affine:
            raise ValueError(f"expected input's size at dim=1 to match num_features "
                             f"({self.num_features}), but got: {input.shape[1]}.")
        use_input_stats = self.training or not self.track_running_stats
        output = F.instance_norm(input, self.running_mean, self.running_var, self.weight,
                                 self.bias, use_input_stats, self.momentum, self.eps)
        return output.squeeze(0) if unbatched else output


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) input.

    Example:
        >>> import ember
        >>> norm = ember.nn.InstanceNorm1d(3)
        >>> norm(ember.tensor([[1.0, 3.0], [2.0, 6.0], [0.0, 0.0]]))
        tensor([[-1.0000,  1.0000],
                [-1.0000,  1.0000],
                [ 0.0000,  0.0000]])
    """


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) input (style transfer's).

    Example:
        >>> import ember
        >>> ember.nn.InstanceNorm2d(3, affine=True)(ember.randn(2, 3, 4, 4)).shape
        ember.Size([2, 3, 4, 4])
    """

    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W) input.

    Example:
        >>> import ember
        >>> ember.nn.InstanceNorm3d(2)(ember.randn(1, 2, 2, 3, 3)).shape
        ember.Size([1, 2, 2, 3, 3])
    """

    _spatial = 3


class GroupNorm(Module):
    """Normalise groups of channels: the C channels of each sample fall in ``num_groups``
    groups, each normalised over its channels and positions.

    Args:
        num_groups: the number of groups; it divides ``num_channels``.
        num_channels: C.
        eps: added to the variance, for numerical stability.
        affine: whether to learn a per-channel scale and shift.
        bias: whether to learn the shift, when ``affine``.

    Example:
        >>> import ember
        >>> gn = ember.nn.GroupNorm(2, 4)
        >>> gn
        GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)
        >>> gn(ember.randn(3, 4, 5)).shape
        ember.Size([3, 4, 5])
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _register_affine(self, (num_channels,), affine, affine and bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Scale 1, shift 0."""
        _reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square normalisation over the last dimensions (``normalized_shape``):
    ``x / sqrt(mean(x^2) + eps) * weight``, LayerNorm without the centring.

    Args:
        normalized_shape: the trailing shape to normalise over.
        eps: added to the mean square; None for the dtype's machine epsilon.
        elementwise_affine: whether to learn an elementwise scale.

    Example:
        >>> import ember
        >>> norm = ember.nn.RMSNorm(4)
        >>> norm
        RMSNorm((4,), eps=None, elementwise_affine=True)
        >>> norm(ember.randn(2, 4)).shape
        ember.Size([2, 4])
    """

    def __init__(self, normalized_shape, eps: "float | None" = None,
                 elementwise_affine: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(empty(*self.normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Scale 1."""
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input):
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LocalResponseNorm(Module):
    """Normalise each value by the activity of ``size`` neighbouring channels (AlexNet).

    Example:
        >>> import ember
        >>> ember.nn.LocalResponseNorm(2)
        LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"

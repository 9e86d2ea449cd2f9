"""Embedding: a lookup table of vectors indexed by integers (PyTorch's ``nn/modules/sparse.py``)."""

from ...autograd.grad_mode import no_grad
from ...ops.creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, looked up by index.

    Args:
        num_embeddings: the number of rows (the vocabulary size).
        embedding_dim: the size of each vector.
        padding_idx: a row that starts at zero and gets no gradient (negative counts from the
            end).
        max_norm, norm_type: rows looked up whose ``norm_type``-norm exceeds ``max_norm`` are
            rescaled to it, in place, at each forward.
        scale_grad_by_freq: divide each row's gradient by its count in the mini-batch.
        sparse: sparse gradients; ember has none, so True raises ``NotImplementedError``.
        _weight: a (num_embeddings, embedding_dim) tensor to use as the weight.
        _freeze: whether the weight is frozen (no gradient).
        device, dtype: where and of what type to create the weight.

    The weight starts normal(0, 1), as in PyTorch, with the ``padding_idx`` row zeroed.

    Example:
        >>> import ember
        >>> emb = ember.nn.Embedding(10, 3, padding_idx=0)
        >>> emb
        Embedding(10, 3, padding_idx=0)
        >>> emb(ember.tensor([[0, 4, 9]])).shape
        ember.Size([1, 3, 3])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 padding_idx: "int | None" = None, max_norm: "float | None" = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight=None, _freeze: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        if sparse:
            raise NotImplementedError("ember has no sparse tensors: Embedding(sparse=True) is "
                                      "not supported; use sparse=False (a dense gradient)")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(empty(num_embeddings, embedding_dim, device=device,
                                          dtype=dtype), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise AssertionError("Shape of weight does not match num_embeddings and "
                                     "embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: normal(0, 1), the padding row zeroed."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse:
            text += ", sparse=True"
        return text

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True,
                        padding_idx: "int | None" = None, max_norm: "float | None" = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> "Embedding":
        """An Embedding whose weight is ``embeddings`` (2-D), frozen unless ``freeze=False``.

        Example:
            >>> import ember
            >>> emb = ember.nn.Embedding.from_pretrained(ember.eye(3))
            >>> emb(ember.tensor([1])), emb.weight.requires_grad
            (tensor([[0., 1., 0.]]), False)
        """
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse, _weight=embeddings,
                   _freeze=freeze)

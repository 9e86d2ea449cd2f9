"""Batches of sequences of different lengths: padding, and packing for recurrent layers.

A ``PackedSequence`` stores the time steps of a batch one after the other, each with only the
sequences still running: ``data`` holds ``batch_sizes[0]`` rows for step 0, then
``batch_sizes[1]`` rows for step 1, and so on, longest sequences first. ``nn.RNN``, ``nn.LSTM``
and ``nn.GRU`` take it in place of a padded batch and skip the padding, so a short sequence's
final state is the state at its own last step.

Packing and unpacking are differentiable: each is one gather (``index_select``) of rows.
"""

from collections import namedtuple

import numpy as np

from ..._tensor import Tensor
from ...ops import shape
from ...ops.creation import full, tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A packed batch of sequences (see the module docstring); ``pack_padded_sequence`` and
    ``pack_sequence`` make one.

    Attributes:
        data: (sum of lengths, *) the rows of every time step.
        batch_sizes: int64, how many sequences run at each time step.
        sorted_indices: the batch order by decreasing length (None when it was sorted).
        unsorted_indices: the inverse permutation, to put results back in the caller's order.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> "PackedSequence":
        """The same sequence with ``data`` moved or cast (``Tensor.to``); the indices move
        with it to the device."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        device = data.device
        indices = [None if i is None else i.to(device) for i in (self.sorted_indices,
                                                                  self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *indices)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def invert_permutation(permutation: "Tensor | None") -> "Tensor | None":
    """The permutation that undoes ``permutation`` (None stays None).

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import invert_permutation
        >>> invert_permutation(ember.tensor([2, 0, 1]))
        tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    order = np.asarray(permutation.tolist(), dtype=np.int64)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return tensor(inverse, device=permutation.device)


def _lengths_list(lengths) -> list:
    """``lengths`` (a list or a 1-d CPU tensor) as Python ints."""
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise RuntimeError(f"'lengths' argument should be a 1D tensor, but got a "
                               f"{lengths.ndim}D tensor")
        return [int(length) for length in lengths.tolist()]
    return [int(length) for length in lengths]


def _packed_rows(lengths: list, batch: int) -> "tuple[np.ndarray, list]":
    """For sequences sorted by decreasing length, the padded (time-major) row of every packed
    row, and the batch size of every time step."""
    batch_sizes = [sum(1 for length in lengths if length > t) for t in range(lengths[0])]
    rows = np.concatenate([t * batch + np.arange(size) for t, size in enumerate(batch_sizes)])
    return rows, batch_sizes


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (seq, batch, *) ((batch, seq, *) if ``batch_first``) of sequences
    with the given ``lengths``.

    With ``enforce_sorted=True`` the lengths must decrease; otherwise the batch is sorted here
    and the order recorded in ``sorted_indices``.

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import pack_padded_sequence
        >>> padded = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]])
        >>> pack_padded_sequence(padded, [3, 2], batch_first=True)
        PackedSequence(data=tensor([1., 4., 2., 5., 3.]), batch_sizes=tensor([2, 2, 1]), \
sorted_indices=None, unsorted_indices=None)
    """
    lengths = _lengths_list(lengths)
    if batch_first:
        input = shape.transpose(input, 0, 1)
    if len(lengths) != input.shape[1]:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lengths)} (batch_size={input.shape[1]})")
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
        sorted_indices = None
    else:
        order = sorted(range(len(lengths)), key=lambda b: -lengths[b])
        lengths = [lengths[b] for b in order]
        sorted_indices = tensor(order, device=input.device)
        input = input.index_select(1, sorted_indices)
    if lengths and lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if lengths and lengths[0] > input.shape[0]:
        raise RuntimeError(f"Expected the longest length {lengths[0]} to be at most the padded "
                           f"sequence length {input.shape[0]}")
    rows, batch_sizes = _packed_rows(lengths, input.shape[1])
    flat = shape.reshape(input, (-1,) + tuple(input.shape[2:]))
    data = flat.index_select(0, tensor(rows, device=input.device))
    return PackedSequence(data, tensor(batch_sizes), sorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: "int | None" = None) -> "tuple[Tensor, Tensor]":
    """Undo ``pack_padded_sequence``: the padded batch and each sequence's length, in the
    order the sequences had before packing.

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import pack_sequence, pad_packed_sequence
        >>> packed = pack_sequence([ember.tensor([1.0, 2.0]), ember.tensor([3.0])])
        >>> pad_packed_sequence(packed, batch_first=True)
        (tensor([[1., 2.],
                [3., 0.]]), tensor([2, 1]))
    """
    data, batch_sizes = sequence.data, [int(size) for size in sequence.batch_sizes.tolist()]
    length, batch = len(batch_sizes), batch_sizes[0]
    if total_length is not None:
        if total_length < length:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {length}")
        length = total_length
    lengths = [sum(1 for size in batch_sizes if size > b) for b in range(batch)]
    rows, _ = _packed_rows(lengths, batch)
    # Every padded position reads a packed row, or the padding row appended after them.
    source = np.full(length * batch, data.shape[0], dtype=np.int64)
    source[rows] = np.arange(rows.size)
    padding = full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype,
                   device=data.device)
    rows_with_padding = shape.cat([data, padding])
    padded = rows_with_padding.index_select(0, tensor(source, device=data.device))
    padded = shape.reshape(padded, (length, batch) + tuple(data.shape[1:]))
    lengths = tensor(lengths)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices.to("cpu")]
    if batch_first:
        padded = shape.transpose(padded, 0, 1)
    return padded, lengths


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences (L_i, *) of different lengths into one padded (max L, batch, *) tensor
    ((batch, max L, *) if ``batch_first``), padding at the end (or at the start with
    ``padding_side="left"``).

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import pad_sequence
        >>> pad_sequence([ember.tensor([1, 2, 3]), ember.tensor([4])], batch_first=True)
        tensor([[1, 2, 3],
                [4, 0, 0]])
    """
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    sequences = list(sequences.unbind(0) if isinstance(sequences, Tensor) else sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    lengths = [s.shape[0] for s in sequences]
    length, batch, first = max(lengths), len(sequences), sequences[0]
    total = sum(lengths)
    # Every padded position (batch-major here) reads a row of the concatenated sequences, or
    # the padding row appended after them.
    source = np.full((batch, length), total, dtype=np.int64)
    start = 0
    for b, size in enumerate(lengths):
        columns = slice(0, size) if padding_side == "right" else slice(length - size, length)
        source[b, columns] = np.arange(start, start + size)
        start += size
    padding = full((1,) + tuple(first.shape[1:]), padding_value, dtype=first.dtype,
                   device=first.device)
    rows = shape.cat(sequences + [padding])
    if not batch_first:
        source = source.T
    padded = rows.index_select(0, tensor(source.reshape(-1), device=first.device))
    return shape.reshape(padded, source.shape + tuple(first.shape[1:]))


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor,
                   batch_first: bool = False) -> "list[Tensor]":
    """Split a padded batch back into its sequences, each cut to its length.

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import unpad_sequence
        >>> unpad_sequence(ember.tensor([[1, 2], [3, 0]]), ember.tensor([2, 1]), batch_first=True)
        [tensor([1, 2]), tensor([3])]
    """
    if not batch_first:
        padded_sequences = shape.transpose(padded_sequences, 0, 1)
    return [sequence[:length] for sequence, length in zip(padded_sequences.unbind(0),
                                                           _lengths_list(lengths))]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *): ``pad_sequence`` then ``pack_padded_sequence``.

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import pack_sequence
        >>> pack_sequence([ember.tensor([1, 2]), ember.tensor([3])]).batch_sizes
        tensor([2, 1])
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> "list[Tensor]":
    """The list of sequences a ``PackedSequence`` holds, in their original order.

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import pack_sequence, unpack_sequence
        >>> unpack_sequence(pack_sequence([ember.tensor([1, 2]), ember.tensor([3])]))
        [tensor([1, 2]), tensor([3])]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)

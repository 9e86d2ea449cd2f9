"""In-place operations and views, as autograd sees them.

A tensor and its views share one version counter, a one-element list. Every write into a
tensor's memory bumps it (``bump_version``), and backward compares the counters of the values
it saved with what they were when saved: a change in between raises PyTorch's "modified by an
inplace operation" error instead of giving a wrong gradient.

``apply`` runs an in-place op (``x.add_(y)``, ``x[key] = v``) as the out-of-place op on a copy
of the old values, then writes the result into ``x``'s memory and makes ``x`` the op's output
in the graph. When ``x`` is a view, its base's graph records the change too (``rebase_view``):
the base's new node passes the gradient of the viewed elements to the op and the rest to the
base's old graph; a view whose base changed re-derives its own node (``refresh_view``).
"""

import numpy as np

from .. import _backend, _recording, _tensor
from .._dtype import CATEGORY, type_name
from .grad_mode import _GradMode

_OVERLAP = ("unsupported operation: some elements of the input tensor and the written-to tensor "
            "refer to a single memory location. Please clone() the tensor before performing the "
            "operation.")
_INTERNAL_OVERLAP = ("unsupported operation: more than one element of the written-to tensor "
                     "refers to a single memory location. Please clone() the tensor before "
                     "performing the operation.")


def bump_version(tensor) -> None:
    """Record that ``tensor``'s memory changed (for it and every view sharing its counter)."""
    tensor._version[0] += 1
    if _recording.recorder is not None:  # ember.compile: was this write recorded?
        _recording.recorder.bumped(tensor)


def bump_versions(tensors) -> None:
    """``bump_version`` for each of ``tensors`` (an optimizer's parameters after an update), in
    one call."""
    for tensor in tensors:
        tensor._version[0] += 1
    if _recording.recorder is not None:
        for tensor in tensors:
            _recording.recorder.bumped(tensor)


def check_leaf(tensor) -> None:
    """PyTorch's error for an in-place op on a leaf that requires grad (outside no_grad)."""
    if _GradMode.enabled and tensor._requires_grad and tensor.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")


def check_writable(data, operands=(), same_ok: bool = True) -> None:
    """PyTorch's errors for a write into the array ``data`` whose elements overlap:
    ``expand(3, 2).add_(1)`` (two elements of the target share memory) or
    ``v.unsqueeze(0).div_(v)`` (an operand shares memory with the target other than element
    for element; with ``same_ok=False``, as ``v[mask] = v`` has it, not even so)."""
    # An empty array overlaps nothing (NumPy gives its dimensions stride 0).
    if data.size and any(stride == 0 and size > 1
                         for stride, size in zip(data.strides, data.shape)):
        raise RuntimeError(_INTERNAL_OVERLAP)
    for operand in operands:
        other = operand._data if isinstance(operand, _tensor.Tensor) else None
        if other is None or type(other) is not type(data):
            continue
        same = other is data or (_backend.address(data) == _backend.address(other)
                                 and data.shape == other.shape
                                 and _same_strides(data.shape, data.strides, other.strides))
        if (not same or not same_ok) and np.may_share_memory(data, other):
            raise RuntimeError(_OVERLAP)


def _same_strides(shape, strides, other_strides) -> bool:
    """Whether two arrays of ``shape`` have PyTorch's same strides. NumPy's broadcast_to (ember's
    ``expand``) gives a dimension of size 1 kept at size 1 the stride 0, where PyTorch's expand
    keeps the stride: a 0 there matches any stride (``x.expand(1, 2).add_(x)`` is allowed)."""
    return all(a == b or (size == 1 and 0 in (a, b))
               for size, a, b in zip(shape, strides, other_strides))


def apply(tensor, function, *args, operands=None):
    """Run ``function(tensor, *args)`` and store the result in ``tensor``'s memory.

    When the graph is recorded, ``tensor`` becomes the output of ``function``; the old values
    that function's backward may need are a copy, so overwriting ``tensor`` cannot corrupt them.
    ``operands=()`` leaves the overlap checks to the caller (``Tensor.__setitem__`` checks
    the indexed elements, not the whole tensor); by default no argument may overlap.
    """
    Tensor = _tensor.Tensor
    check_leaf(tensor)
    if operands is None:
        check_writable(tensor._data, args)
    record = _GradMode.enabled and (tensor._requires_grad or any(
        isinstance(a, Tensor) and a._requires_grad for a in args))
    if record:
        _check_view_may_change(tensor)
        old = Tensor._wrap(tensor._data.copy())
        if _recording.recorder is not None:
            _recording.recorder.copy(tensor._data, old._data)
        if tensor._requires_grad:
            old._requires_grad = True
            old.grad_fn, old._output_nr = tensor._edge()
        result = function(old, *args)
    else:
        result = function(tensor, *args)
    data = _result_for(tensor, result._data)
    if record and tensor._base is not None:
        rebase_view(tensor, data, result)
        _watch_saved_output(tensor, result)
        return tensor
    tensor._data[...] = data
    if _recording.recorder is not None:
        _recording.recorder.write(tensor, result._data)
    bump_version(tensor)
    if record:
        _adopt_output(tensor, result)
    return tensor


def _check_view_may_change(tensor) -> None:
    """PyTorch's errors for in-place ops on views it cannot track."""
    base, node = tensor._base, tensor.grad_fn
    if base is None:
        return
    if base._requires_grad and base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    if node is not None and node._function.is_view and (
            node._num_outputs > 1 or node._function.multiple_views):
        name = node.name()[:node.name().rfind("Backward")]
        raise RuntimeError(
            f"Output {tensor._output_nr} of {name} is a view and is being modified inplace. This "
            "view is the output of a function that returns multiple views. Such functions do not "
            "allow the output views to be modified inplace. You should replace the inplace "
            "operation by an out-of-place one.")


def _result_for(tensor, data):
    """The op's result, broadcast to ``tensor``'s shape, or PyTorch's error when it cannot go
    there: another shape, or a higher kind of dtype (PyTorch casts int64 into int8 in place,
    but never float into int, or int into bool)."""
    target = tensor._data
    if data.shape != target.shape:
        try:
            data = _backend.array_module(data).broadcast_to(data, target.shape)
        except ValueError:
            raise RuntimeError(f"output with shape {list(target.shape)} doesn't match the "
                               f"broadcast shape {list(data.shape)}") from None
    if CATEGORY[data.dtype.kind] > CATEGORY[target.dtype.kind]:
        raise RuntimeError(f"result type {type_name(data.dtype)} can't be cast to the desired "
                           f"output type {type_name(target.dtype)}")
    return data


def _adopt_output(tensor, result) -> None:
    """Make ``tensor`` the output ``result`` was: its node, and the version checks of whatever
    the node saved of ``result`` (``exp_`` saves its output), now on ``tensor``'s counter, so
    that a later in-place op on ``tensor`` is caught as one on ``result`` would be."""
    tensor.grad_fn, tensor._output_nr = result.grad_fn, result._output_nr
    tensor._requires_grad = result._requires_grad
    _watch_saved_output(tensor, result)


def _watch_saved_output(tensor, result) -> None:
    """The version checks of whatever ``result``'s node saved of ``result``, moved to
    ``tensor``'s counter (shared with its base and the base's other views): ``tensor`` now holds
    those values, and an in-place op on it, or on a tensor sharing its memory, changes them."""
    node = result.grad_fn
    if node is not None and node._saved_versions:
        node._saved_versions = tuple(
            (tensor._version, tensor._version[0], source) if counter is result._version
            else (counter, version, source)
            for counter, version, source in node._saved_versions)


def rebase_view(view, data, result) -> None:
    """Write ``data`` into ``view`` and record the change in its base's graph.

    The base's new grad_fn (``CopySlices``, as PyTorch names it) passes the gradient of the
    viewed elements to ``result`` and the rest to the base's old graph; the view then reads its
    gradient from the base's new graph.
    """
    from ..ops import indexing  # here, not at the top: ops import this module (and Tensor)
    Tensor = _tensor.Tensor
    base = view._base
    indices = indexing.view_indices(base._data, view._data)
    if indices is None:
        raise RuntimeError("ember cannot track an in-place operation on a view of a tensor "
                           "whose memory layout has gaps; clone() the tensor first")
    view._data[...] = data
    bump_version(view)
    old_base = Tensor._wrap(base._data)  # its graph is what matters, not its values
    if base._requires_grad:
        old_base._requires_grad = True
        old_base.grad_fn, old_base._output_nr = base._edge()
    new_base = indexing.ViewScatter.apply(old_base, result, indices)
    base.grad_fn, base._output_nr, base._requires_grad = new_base.grad_fn, 0, True
    refresh_view(view)


def refresh_view(view) -> None:
    """Re-derive a view's grad_fn from its base, whose memory changed in place since.

    The view's old grad_fn leads to the base's graph as it was; the base's in-place op recorded
    a newer one, and the view's values come from that.
    """
    from ..ops import indexing  # as in rebase_view
    base = view._base
    view._view_version = view._version[0]
    if not base._requires_grad:
        return
    indices = indexing.view_indices(base._data, view._data)
    if indices is None:
        raise RuntimeError("ember cannot track a view of a tensor whose memory layout has gaps "
                           "through an in-place operation; clone() the tensor first")
    refreshed = indexing.AsStrided.apply(base, indices, view._data)
    view.grad_fn, view._output_nr, view._requires_grad = refreshed.grad_fn, 0, True

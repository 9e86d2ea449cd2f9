"""The backward pass: walk the graph from the outputs, call each node's backward, accumulate.

Gradients travel as raw arrays. A node runs once all the nodes that feed it a gradient have run
(the reverse of the order in which nodes were made), so every gradient arriving at a node is
summed before it is used.
This is also the one place where a gradient is summed back to the shape of a broadcast input.
"""

import heapq
import itertools
import sys
import threading

import numpy as np

from .. import _blas, _parallel, _recording, _tensor
from .function import QUIET, BackwardNode, numpy_errors


def sum_to_shape(grad, shape):
    """Sum ``grad`` over the dimensions broadcasting added or stretched, giving ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0 and grad.shape[extra:] == shape:  # only leading dimensions added (a bias)
        return grad.sum(axis=tuple(range(extra)))
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and grad.shape[extra + i] != 1)
    grad = grad.sum(axis=axes, keepdims=True) if axes else grad
    return grad.reshape(shape)


class _Pass:
    """One backward pass's leaf-gradient sums that a worker thread adds up
    (``defer_leaf_gradient``): the sum per leaf, and the work to wait for before the engine
    reads any of them."""

    __slots__ = ("sums", "work")

    def __init__(self):
        self.sums = {}  # a leaf's AccumulateGrad node -> the array its gradients add up in
        self.work = None  # a _parallel.Background, made with the first sum

    def holds(self, array) -> bool:
        """Whether ``array`` is one of the sums (a pass has one per deferred leaf: a few)."""
        return any(array is total for total in self.sums.values())

    def wait(self) -> None:
        if self.work is not None:
            self.work.wait()


_passes = threading.local()  # .current: the backward pass this thread runs now (run_backward)


def current_pass():
    """The backward pass running on this thread (a ``_Pass``), or None: threads may each run
    a backward pass of their own."""
    return getattr(_passes, "current", None)


def _add_to_deferred(current: _Pass, received, grad):
    """``received + grad`` where one of them is a sum the worker adds to: once the worker is
    done, into that array, so that the later steps' products still add up there, in the
    order the engine would have added them (and a + b is b + a, bit for bit)."""
    current.wait()
    total = received if current.holds(received) else grad
    np.add(received, grad, out=total)
    return total


def defer_leaf_gradient(node, left, right, product):
    """``product(left, right)``, the gradient a step of a recurrent cell gives a weight whose
    edge leads to ``node`` (``left @ right``), made and summed on ember's worker thread
    instead of this one where that gives the same bits: a product too small to split, which
    ``product`` makes with NumPy's ``matmul`` on OpenBLAS's thread count for ember.

    A cell called once per time step makes one node per step, and each adds its weight
    gradients to what the later steps gave: two products a step that nothing in the backward
    pass needs until the weight's ``.grad`` is written, at the very end (a leaf's
    AccumulateGrad runs last). So the first of these calls returns the array the sum grows
    in, which the engine holds for the leaf, and the later ones return None; the worker makes
    each product and adds it to the sum in the engine's order (``received + grad``), while
    this thread goes on down the hidden state's chain. The engine waits for the worker before
    any leaf runs, before it adds anything else to such a sum, and at the end of the pass.

    ``product`` runs here instead when the weight is not a leaf, while ember.compile
    captures, on one thread, for CuPy's arrays, and for a product large enough to split over
    threads."""
    current = current_pass()
    rows, inner = left.shape
    columns = right.shape[1]
    if (current is None or node is None or node._sequence >= 0 or inner == 1
            or _recording.recorder is not None
            or _parallel.worth_splitting(rows, inner * columns // 8)
            or not _parallel.background_ready(left)):
        return product(left, right)
    # The sum must reach the leaf as it is: an array of another shape or dtype would be
    # converted (read) by the engine as soon as it arrives.
    weight = node.variable._data
    if (type(weight) is not np.ndarray or weight.shape != (rows, columns)
            or weight.dtype != np.result_type(left, right)):
        return product(left, right)
    if current.work is None:
        current.work = _parallel.Background()
    total = current.sums.get(node)
    if total is None:
        total = current.sums[node] = np.empty(weight.shape, weight.dtype)
        current.work.submit(lambda: np.matmul(left, right, out=total))
        return total
    current.work.submit(lambda: np.add(total, np.matmul(left, right), out=total))
    return None


def run_backward(roots, grad_roots, retain_graph: bool, capture=None):
    """The backward pass (``_run_backward``), computing as PyTorch does: without NumPy's
    floating-point warnings."""
    token = numpy_errors.set(QUIET)  # the floating-point policy (autograd/function.py)
    outer = current_pass()  # a hook may run a backward of its own
    _passes.current = _Pass()
    # OpenBLAS's count, once a product of the pass sets it to ember's (``_blas.limited``),
    # stays so until the pass ends: setting it and putting it back costs about 12 us a
    # product, more than a recurrent cell's products take to make.
    _blas.hold()
    try:
        return _run_backward(roots, grad_roots, retain_graph, capture)
    finally:
        finished, _passes.current = _passes.current, outer
        numpy_errors.reset(token)
        try:
            finished.wait()  # nothing of the pass runs on after it (also when it raised)
        finally:
            _blas.release()


def _run_backward(roots, grad_roots, retain_graph: bool, capture=None):
    """Propagate ``grad_roots`` (arrays) from ``roots`` (tensors) back through their graph.

    Leaves' ``.grad`` is accumulated, unless ``capture`` is given: then the gradients of the
    tensors in ``capture`` (a list) are returned instead, as ``autograd.grad`` does.

    Nodes are numbered as they are made, and a node is always made after the nodes of its
    inputs; so running the nodes that received a gradient from the highest number down (a
    heap of them) runs each node only after every node that feeds it.
    """
    pending = {}  # node -> list of summed gradients, one per output of the node
    ready = []  # heap of (-number, tie-break, node) for the nodes in pending
    tie_break = itertools.count()  # orders equal numbers (leaves' AccumulateGrad nodes)
    recorder = _recording.recorder  # ember.compile's, told each step while it captures one
    current = _passes.current  # the sums defer_leaf_gradient hands to a worker
    ndarray = np.ndarray
    heappush, heappop = heapq.heappush, heapq.heappop  # local names: read at every node

    def receive(node, index, grad):
        """Add ``grad`` to what output ``index`` of ``node`` has received; queue the node.
        (The loop below has this inlined for the edges of the graph, where it runs most.)"""
        slots = pending.get(node)
        if slots is None:
            slots = pending[node] = [None] * node._num_outputs
            heappush(ready, (-node._sequence, next(tie_break), node))
        if slots[index] is None:
            slots[index] = grad
        else:
            total = slots[index] + grad
            if recorder is not None:
                recorder.sum(slots[index], grad, total)
            slots[index] = total

    # Arrays that must not become a leaf's .grad without a copy: the caller's root gradients
    # and arrays already handed to another leaf (a backward may pass one array to two inputs).
    shared = {id(grad) for grad in grad_roots}
    for tensor, grad in zip(roots, grad_roots):
        receive(tensor._edge()[0], tensor._output_nr, grad)

    captured = {}
    if capture is not None:
        wanted = {}
        for position, tensor in enumerate(capture):
            node, index = tensor._edge() if tensor.grad_fn is None else (tensor.grad_fn,
                                                                          tensor._output_nr)
            wanted.setdefault(node, []).append((index, position))

    while ready:
        node = heappop(ready)[2]
        grads = pending.pop(node)
        if node.tensor_hooks:
            grads = _run_tensor_hooks(node.tensor_hooks, grads, shared)
        if capture is not None and node in wanted:
            for index, position in wanted[node]:
                captured[position] = grads[index]
        if node._sequence < 0:  # a leaf's AccumulateGrad
            if current.sums:  # the leaves run last: every cell has handed its share over
                current.wait()
            grad = grads[0]
            if capture is None and grad is not None:
                owned = id(grad) not in shared and (grad.flags.owndata or _sole_view(grad))
                shared.add(id(grad))
                node.accumulate(grad, owned)
                if recorder is not None:
                    recorder.accumulate(node, grad, owned)
            continue
        if node._retained:
            for index, tensor in node._retained.items():
                if grads[index] is not None:
                    tensor._accumulate_retained(grads[index])
        if len(grads) > 1 and node.materialize_grads:
            grads = _materialize(node, grads)
        input_grads = node.apply(*grads)  # (ember.autograd.profiler times this call)
        if recorder is not None:
            recorder.backward(node, grads, input_grads)
        if not retain_graph and node._saved:  # release() frees what was saved, if anything
            node.release()
        returned = len(input_grads)
        for child, child_index, position, shape, dtype in node._targets:
            grad = input_grads[position] if position < returned else None
            if grad is None:
                continue
            # Most gradients already are an array of their input's shape and dtype: test that
            # here (dtype by identity first) before calling route.
            if type(grad) is not ndarray or grad.shape != shape \
                    or grad.dtype is not dtype and grad.dtype != dtype:
                routed = route(node, position, grad, shape, dtype)
                if recorder is not None and routed is not grad:
                    recorder.route(node, position, grad, shape, dtype, routed)
                grad = routed
            # receive(child, child_index, grad), written out: a call per edge costs more
            # than the lines themselves.
            slots = pending.get(child)
            if slots is None:
                slots = pending[child] = [None] * child._num_outputs
                heappush(ready, (-child._sequence, next(tie_break), child))
            received = slots[child_index]
            if received is None:
                slots[child_index] = grad
            elif current.sums and (current.holds(received) or current.holds(grad)):
                slots[child_index] = _add_to_deferred(current, received, grad)
                continue
            else:
                total = received + grad
                if recorder is not None:
                    recorder.sum(received, grad, total)
                slots[child_index] = total
    if capture is not None:
        return [captured.get(i) for i in range(len(capture))]
    return None


def _sole_view(grad) -> bool:
    """Whether ``grad`` is a C-contiguous view of the whole of a NumPy array that nothing else
    holds, which a leaf may then take as its ``.grad`` without a copy, as it takes a fresh
    array. A Linear layer's weight gradient arrives so: made as (out, in), it goes to addmm's
    operand, the weight's transpose, as a transposed view, and TBackward transposes it back.
    Copying it would cost a pass over every weight at every step.

    Nothing else holds the base when its only references are the view's, this function's
    name and ``getrefcount``'s argument: 3 (PyTorch likewise takes a gradient whose use count
    is 1). Anything that keeps the array (a ctx, a cache, a saved tensor) adds one."""
    base = grad.base
    return (type(base) is np.ndarray and base.flags.owndata and grad.flags.c_contiguous
            and grad.nbytes == base.nbytes and sys.getrefcount(base) == 3)


def route(node, position: int, grad, shape, dtype):
    """The gradient ``node`` returned for its input ``position``, made what that input's
    producer receives: an array (not a NumPy scalar) of the input's ``shape`` and ``dtype``."""
    if isinstance(grad, np.generic):
        # NumPy gives a scalar for arithmetic on 0-d arrays; a 0-d array is what backward
        # formulas may index and write into (grad.copy()[...] = 0).
        grad = np.asarray(grad)
    if grad.shape != shape:
        grad = _reshape_gradient(node, position, grad, shape)
    if grad.dtype != dtype:
        grad = grad.astype(dtype)
    return grad


def _run_tensor_hooks(hooks, grads, shared: set):
    """Each hook gets its tensor's gradient (a Tensor); one that returns a tensor replaces it.
    The hook may keep that tensor, so its array joins ``shared``: a leaf copies it rather than
    take it as its ``.grad`` (the next backward would add into the hook's tensor)."""
    grads = list(grads)
    for index, functions in hooks.items():
        if grads[index] is None:
            continue
        for hook in list(functions.values()):
            result = hook(_tensor.Tensor._wrap(grads[index]))
            if result is not None:
                grads[index] = result._data
                shared.add(id(result._data))
    return grads


def _reshape_gradient(node, position, grad, shape):
    """``grad`` summed (over broadcast dimensions) to ``shape``, or PyTorch's error."""
    if grad.size == 1 and len(shape) == 0:
        return grad.reshape(shape)
    try:
        return sum_to_shape(grad, shape)
    except ValueError:
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient at index {position} - got "
            f"{list(grad.shape)} but expected shape compatible with {list(shape)}") from None


def _materialize(node: BackwardNode, grads):
    """Zeros for outputs that received no gradient, so backward formulas need no None checks."""
    if all(g is not None for g in grads):
        return grads
    shapes = node._output_shapes
    template = next(g for g in grads if g is not None)
    xp = _tensor.array_module(template)
    return [g if g is not None else xp.zeros(shape, dtype)
            for g, (shape, dtype) in zip(grads, shapes)]

"""Function: the one mechanism of differentiation, and the graph nodes it records.

Every differentiable op is a ``Function`` subclass with a static ``forward(ctx, *inputs)`` and
``backward(ctx, *grad_outputs)``. Calling ``SomeOp.apply(*args)`` runs ``forward`` and, when an
input requires grad, records a node: an instance of ``SomeOpBackward0`` (made once per subclass)
that is both the ``ctx`` forward wrote into and the ``grad_fn`` of the outputs. Its
``next_functions`` point at the nodes that produced the inputs: other ops' nodes, or an
``AccumulateGrad`` for a leaf tensor.

Built-in ops (``ember.ops``) work on raw arrays: forward gets NumPy or CuPy arrays and returns
arrays, backward gets and returns arrays. User-defined functions (``ember.autograd.Function``,
as in PyTorch) get and return Tensors instead; the engine is the same for both.
"""

import itertools

import numpy as np

from .. import _recording, _tensor
from .grad_mode import _GradMode, no_grad

_sequence_numbers = itertools.count()  # the order in which nodes are made


# The floating-point policy, in this one place: PyTorch computes with IEEE arithmetic and says
# nothing (1 / 0 is inf, 0 / 0 is nan, a float32 overflow is inf), where NumPy would print a
# RuntimeWarning. Every forward and backward runs with NumPy's warnings off, and only there:
# the user's own NumPy code keeps its settings. NumPy 2 keeps its error state in a context
# variable; setting it directly costs 0.1 us per op where ``with np.errstate`` costs 0.8 us.
# The pattern, in Function.apply, the engine and Optimizer.step alike:
#     token = numpy_errors.set(QUIET)
#     try: ... finally: numpy_errors.reset(token)
class _SetErr:
    """The same two calls over ``np.seterr``, for a NumPy without that context variable."""

    @staticmethod
    def set(state):
        return np.seterr(**state)

    @staticmethod
    def reset(previous) -> None:
        np.seterr(**previous)


try:
    from numpy._core._ufunc_config import _extobj_contextvar as numpy_errors
    with np.errstate(all="ignore"):
        QUIET = numpy_errors.get()
except ImportError:
    numpy_errors, QUIET = _SetErr, {"all": "ignore"}


class Node:
    """A vertex of the backward graph; ``name()`` is what PyTorch prints."""

    next_functions: tuple = ()
    _num_outputs = 1
    # Hooks registered on tensors whose gradient this node receives: output index -> {handle
    # id: hook} (``Tensor.register_hook``); run by the engine before the node uses the gradient.
    tensor_hooks = None

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        # PyTorch's repr drops the C++ namespace that name() keeps for its built-in nodes.
        return f"<{self.name().rsplit('::', 1)[-1]} object at {id(self):#x}>"


class AccumulateGrad(Node):
    """The node for a leaf tensor: backward adds the incoming gradient to ``variable.grad``."""

    _sequence = -1  # feeds no other node: runs after all of them

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __init__(self, variable) -> None:
        self.variable = variable

    # id -> hook(tensor), called after backward changed .grad (Tensor's
    # register_post_accumulate_grad_hook).
    post_hooks = None

    def accumulate(self, grad, owned: bool = False) -> None:
        """Add ``grad`` to ``variable.grad``; ``owned`` says no one else holds the array, so
        it can become ``.grad`` without a copy."""
        variable = self.variable
        if grad.dtype != variable._data.dtype:
            grad, owned = grad.astype(variable._data.dtype), True
        if variable._grad is None:  # a leaf: read without the non-leaf warning's check
            variable._grad = _tensor.Tensor._wrap(grad if owned else grad.copy())
        else:
            variable._grad._data += grad
        if self.post_hooks:
            if _recording.recorder is not None:
                _recording.recorder.unsupported("has post-accumulate-grad hooks (as "
                                                "DistributedDataParallel registers)")
            for hook in list(self.post_hooks.values()):
                hook(variable)


_UNTRACKED = (None, 0, None)  # a saved item that is no input or output: nothing to check

_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors "
          "after they have already been freed). Saved intermediate values of the graph are freed "
          "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
          "backward through the graph a second time or if you need to access saved tensors after "
          "calling backward.")


class BackwardNode(Node):
    """The ``ctx`` of one call to a Function, and afterwards the ``grad_fn`` of its outputs."""

    _function = None  # the Function subclass, set on each generated subclass
    _tensor_io = False  # True for user-defined functions: Tensors in and out

    # Defaults as class attributes: a node is made for every op, so its constructor sets
    # nothing, and an instance stores only what differs.
    needs_input_grad = ()
    _saved = ()
    _saved_versions = ()
    # For the engine, one (child node, child's output index, argument position, shape, dtype)
    # per input that needs a gradient.
    _targets = ()
    _num_outputs = 1
    _freed = False
    _retained = None  # output index -> tensor that called retain_grad()
    materialize_grads = True
    _non_differentiable = ()

    def save_for_backward(self, *items) -> None:
        """Keep tensors (arrays in built-in ops) for backward; checked against in-place edits."""
        self._saved = items

    def mark_non_differentiable(self, *outputs) -> None:
        """Outputs that never carry a gradient (e.g. indices)."""
        self._non_differentiable = tuple(id(o) for o in outputs)

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value

    def mark_dirty(self, *tensors) -> None:
        """Accepted for PyTorch compatibility; ember records in-place ops through versions."""

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(_FREED)
        for (counter, version, source), item in zip(self._saved_versions, self._saved):
            if counter is not None and counter[0] != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: [{_tensor.type_name(item)} {list(item.shape)}]"
                    f"{self._producer(source)} is at version {counter[0]}; expected version "
                    f"{version} instead. Hint: the operation that failed was an in-place one; "
                    "use an out-of-place version, or .clone() the tensor before modifying it.")
        return self._saved

    def _producer(self, source) -> str:
        """``, which is output 0 of Exp,`` for the in-place error (PyTorch's wording)."""
        if isinstance(source, int):  # an output of this node
            node, index = self, source
        elif source is not None and source.grad_fn is not None:  # an input made by an op
            node, index = source.grad_fn, source._output_nr
        else:
            return ""
        # PyTorch's name without "Backward" and a 0 after it: Exp, Addmm, but Fill2.
        base, _, number = node.name().rpartition("Backward")
        name = (base + ("" if number == "0" else number)) if base else node.name()
        return f", which is output {index} of {name},"

    def _record_saved_versions(self, args, inputs, outputs, arrays) -> None:
        """Remember each saved item's version counter, found by identity among inputs/outputs.

        Each entry is (counter, version when saved, source): source is the input tensor, or
        the output's index, that the in-place error message names. ``inputs`` holds each
        argument's array (the argument itself when it is not a tensor). Outputs are matched by
        the arrays forward returned (``arrays``): a 0-d result may be a NumPy scalar, which its
        tensor holds as a new 0-d array.
        """
        Tensor = _tensor.Tensor
        versions = []
        for item in self._saved:
            entry = _UNTRACKED
            if item is not None:  # ops save None for what backward will not need
                data = item._data if isinstance(item, Tensor) else item
                # ``array is not arg`` picks the tensor arguments: a number stands for itself.
                for arg, array in zip(args, inputs):
                    if data is array and array is not arg:
                        entry = (arg._version, arg._version[0], arg)
                        break
                else:
                    for position, (tensor, array) in enumerate(zip(outputs, arrays)):
                        if data is array or data is tensor._data:
                            entry = (tensor._version, tensor._version[0], position)
                            break
            versions.append(entry)
        self._saved_versions = tuple(versions)

    def release(self) -> None:
        """Free what forward saved (after a backward without ``retain_graph``).

        A node that saved nothing can run again, as in PyTorch; one that saved values raises
        PyTorch's "backward through the graph a second time" error.
        """
        if self._saved:
            self._saved = ()
            self._saved_versions = ()  # they hold input tensors: let those go too
            self._freed = True

    def apply(self, *grad_outputs):
        """Run the Function's backward on gradient arrays; one array (or None) per input."""
        if self._freed:
            raise RuntimeError(_FREED)
        function = self._function
        if not self._tensor_io:
            grads = function.backward(self, *grad_outputs)
        else:
            with no_grad():
                grads = function.backward(
                    self, *(_tensor.Tensor._wrap(g) if g is not None else None
                            for g in grad_outputs))
        if not isinstance(grads, tuple):
            grads = (grads,)
        if self._tensor_io:
            # A user's backward may return a tensor it keeps (a saved one, say): copy, so the
            # engine can hand the array to a leaf's .grad as its own.
            grads = tuple(g._data.copy() if isinstance(g, _tensor.Tensor) else g for g in grads)
        return grads


class Function:
    """Base of every differentiable op: subclass it with static ``forward`` and ``backward``.

    Built-in ops subclass it directly and work on arrays; users subclass
    ``ember.autograd.Function``, whose forward and backward get Tensors, as in PyTorch.

    Example:
        >>> import ember
        >>> class Square(ember.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     def backward(ctx, grad_output):
        ...         x, = ctx.saved_tensors
        ...         return 2 * x * grad_output
        >>> x = ember.tensor([3.0], requires_grad=True)
        >>> Square.apply(x).backward(ember.ones(1)); x.grad
        tensor([6.])
    """

    node_name = None  # the grad_fn's name when it is not "<ClassName>Backward0"
    is_view = False  # outputs share memory (and so the version counter) with the first input
    # A view op that returns several views (split, chunk, unbind): PyTorch refuses in-place ops
    # on its outputs, also when there happens to be only one.
    multiple_views = False
    # False for ops without a gradient (comparisons, isnan, argmax...): their outputs never
    # require grad, and no node is recorded.
    differentiable = True
    # True for ops whose results PyTorch lays out afresh in C order (reductions, scans,
    # softmax), where NumPy keeps a permuted input's memory order.
    contiguous_output = False
    # Positions of operands that PyTorch wraps as tensors when given a number (``x * 2``): they
    # get a ``(None, 0)`` entry in next_functions, as in PyTorch.
    scalar_operands = ()
    _tensor_io = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("node_name") or cls.__name__ + ("Backward" if cls._tensor_io
                                                                else "Backward0")
        cls._node_class = type(name, (BackwardNode,), {"_function": cls,
                                                       "_tensor_io": cls._tensor_io})

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("a Function subclass must implement forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must implement backward")

    @classmethod
    def apply(cls, *args):
        Tensor = _tensor.Tensor
        ctx = cls._node_class()
        # One pass over the arguments: their arrays, and which of them need a gradient.
        inputs, needs = [], []
        for a in args:
            if isinstance(a, Tensor):
                inputs.append(a._data)
                # A view whose base was written in place with a tensor that requires grad
                # since it was made takes its graph from the base now: the property replays
                # that (fuzz finding 71: the written value's gradient was lost).
                needs.append(a._requires_grad or (a._base is not None and a.requires_grad))
            else:
                inputs.append(a)
                needs.append(False)
        # ``True in needs`` scans the list in C: cheaper than testing each argument above.
        record = _GradMode.enabled and cls.differentiable and True in needs
        ctx.needs_input_grad = tuple(needs) if record else (False,) * len(args)

        if cls._tensor_io:
            with no_grad():
                raw = cls.forward(ctx, *args)
            single = not isinstance(raw, tuple)
            raw = (raw,) if single else raw
            arrays = tuple(r._data if isinstance(r, Tensor) else r for r in raw)
        else:
            token = numpy_errors.set(QUIET)
            try:
                raw = cls.forward(ctx, *inputs)
            finally:
                numpy_errors.reset(token)
            single = not isinstance(raw, tuple)
            if cls.contiguous_output:
                raw = _in_c_order(ctx, raw, single)
            arrays = (raw,) if single else raw

        first = args[0] if cls.is_view else None
        if single:
            outputs = (Tensor._wrap(arrays[0], first),)
        else:
            outputs = tuple(Tensor._wrap(arr, first) for arr in arrays)
        if record:
            cls._record(ctx, args, inputs, raw, single, arrays, outputs)
        if _recording.recorder is not None:  # ember.compile is capturing a step
            _recording.recorder.forward(cls, ctx, args, inputs, outputs, single)
        return outputs[0] if single else outputs

    @classmethod
    def _record(cls, ctx, args, inputs, raw, single, arrays, outputs) -> None:
        """Link ``ctx`` into the graph: edges to the inputs' nodes, and it as the outputs'
        grad_fn."""
        Tensor = _tensor.Tensor
        # This runs for every op that records a node: the loops are written for speed
        # (enumerate and an index cost a third of what enumerate over a zip does).
        needs = ctx.needs_input_grad
        edges, targets = [], []
        for position, a in enumerate(args):
            if needs[position]:
                # An op's output that is no view: _edge()'s answer, without the call.
                child, index = edge = (a.grad_fn, a._output_nr) \
                    if a.grad_fn is not None and a._base is None else a._edge()
                edges.append(edge)
                data = inputs[position]  # a._data, already read by apply
                targets.append((child, index, position, data.shape, data.dtype))
            elif isinstance(a, Tensor) or position in cls.scalar_operands:
                edges.append(_NO_EDGE)
        ctx.next_functions = tuple(edges)
        ctx._targets = targets
        # Numbered after its inputs' nodes (``_edge`` above may have made one): the engine runs
        # nodes from the highest number down, so each runs after every node that feeds it.
        ctx._sequence = next(_sequence_numbers)
        if not single:  # one output: the class's default
            ctx._num_outputs = len(outputs)
            ctx._output_shapes = tuple((a.shape, a.dtype) for a in arrays)
        if ctx._saved:
            ctx._record_saved_versions(args, inputs, outputs, arrays)
        non_differentiable = ctx._non_differentiable
        for index, out in enumerate(outputs):
            if non_differentiable and id(raw if single else raw[index]) in non_differentiable:
                continue
            if out._data.dtype.kind not in "fc":
                continue
            out._requires_grad = True
            out.grad_fn = ctx
            out._output_nr = index


_NO_EDGE = (None, 0)  # next_functions' entry for an input that receives no gradient


def _in_c_order(ctx, raw, single: bool):
    """``raw`` (one output array or a tuple) with each array in C order, a copy where needed;
    what forward saved of an output is the copy too, so its version is still checked."""
    outputs = (raw,) if single else raw
    replaced = {}
    for array in outputs:
        if getattr(array, "ndim", 0) and not array.flags.c_contiguous:
            replaced[id(array)] = array.copy(order="C")
    if not replaced:
        return raw
    if ctx._saved:
        ctx._saved = tuple(replaced.get(id(item), item) for item in ctx._saved)
    outputs = tuple(replaced.get(id(array), array) for array in outputs)
    return outputs[0] if single else outputs


class UserFunction(Function):
    """``ember.autograd.Function``: forward and backward get and return Tensors."""

    _tensor_io = True


class FunctionCtx:
    """Type of ``ctx`` for annotations (``ctx: FunctionCtx``), as in PyTorch."""


class RemovableHandle:
    """What ``register_hook`` and a module's ``register_*_hook`` return: ``handle.remove()``
    takes the hook out of the dictionary it was filed in, under ``handle.id``.

    Also a context manager, which removes the hook on leaving the ``with`` block.
    """

    _ids = itertools.count()

    def __init__(self, hooks: dict) -> None:
        self.hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

"""Activation checkpointing, as ``torch.utils.checkpoint``: trade compute for memory.

``checkpoint(function, *args)`` returns what ``function(*args)`` returns, but keeps none of the
intermediate results that backward would need: backward runs ``function`` again, with gradients
enabled and (by default) the random state it first ran with, so that dropout draws the same
mask, and back-propagates through that second run. Both of PyTorch's variants are here:

- ``use_reentrant=True`` (the default, with a warning, as in PyTorch 2.13): the forward runs
  under ``no_grad`` and the outputs require grad only if a tensor argument does; backward calls
  ``ember.autograd.backward`` on the recomputed outputs from inside the outer backward, so
  parameters used by ``function`` get their ``.grad`` from that inner call.
- ``use_reentrant=False``: ``function`` may use parameters that no argument holds, take keyword
  arguments and be differentiated with ``ember.autograd.grad``. The forward runs with gradients
  enabled once to find the tensors the graph starts from (leaves such as parameters, and the
  arguments), then lets that graph go; its outputs hang on one node whose inputs are those
  tensors. The outputs' ``grad_fn`` is therefore ``CheckpointFunctionBackward``, where PyTorch
  (which uses saved-tensor hooks instead) shows the last op's.
"""

import contextlib
import warnings
from typing import Any, Callable, ContextManager, Tuple

from .. import _tensor, random
from ..autograd import Function, backward, grad
from ..autograd.function import AccumulateGrad, _sequence_numbers
from ..autograd.grad_mode import enable_grad, is_grad_enabled, no_grad

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError"]


class CheckpointError(RuntimeError):
    """The recomputation in backward did not reproduce the forward (``determinism_check``)."""


def noop_context_fn() -> Tuple[ContextManager, ContextManager]:
    """The default ``context_fn``: no context around the forward or the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def checkpoint(function, *args, use_reentrant=None,
               context_fn: Callable[[], Tuple[ContextManager, ContextManager]] = noop_context_fn,
               determinism_check: str = "default", debug: bool = False, early_stop: bool = True,
               **kwargs) -> Any:
    """Run ``function(*args, **kwargs)`` keeping only its inputs; backward runs it again.

    Args:
        function: what to run; it returns a tensor or a tuple of tensors.
        args: its arguments.
        use_reentrant: see the module docstring; None warns and means True, as in PyTorch.
        context_fn: (``use_reentrant=False`` only) returns two context managers, entered around
            the forward and around the recomputation.
        determinism_check: ``"default"`` raises ``CheckpointError`` when the recomputed outputs'
            shapes or dtypes differ from the forward's; ``"none"`` does not check.
        debug: (``use_reentrant=False`` only) accepted as in PyTorch; ember has no op trace to
            add to errors.
        early_stop: accepted as in PyTorch: the recomputation always runs the whole function.
        kwargs: ``preserve_rng_state`` (default True): restore the random state of the forward
            for the recomputation, and put back the surrounding state after it; other keyword
            arguments go to ``function`` (``use_reentrant=False`` only).

    Example:
        >>> import ember
        >>> from ember.utils.checkpoint import checkpoint
        >>> layer = ember.nn.Linear(3, 3)
        >>> x = ember.ones(2, 3, requires_grad=True)
        >>> checkpoint(layer, x, use_reentrant=False).sum().backward()
        >>> layer.weight.grad.shape
        ember.Size([3, 3])
    """
    if use_reentrant is None:
        warnings.warn("ember.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly. use_reentrant=False is recommended, but if you need to "
                      "preserve the current default behavior, you can pass use_reentrant=True.",
                      stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if determinism_check not in ("default", "none"):
        raise ValueError("determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        if not any(isinstance(a, _tensor.Tensor) and a.requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          stacklevel=2)
        run = _Run(function, args, {}, preserve, determinism_check, reentrant=True,
                   recompute_context=contextlib.nullcontext)
        with no_grad():
            outputs = function(*args)
        return _finish(run, outputs, [a for a in args if isinstance(a, _tensor.Tensor)])
    forward_context, recompute_context = context_fn()
    if not is_grad_enabled():  # no backward will come (evaluation): nothing to checkpoint
        with forward_context:
            return function(*args, **kwargs)
    run = _Run(function, args, kwargs, preserve, determinism_check, reentrant=False,
               recompute_context=lambda: recompute_context)
    start = next(_sequence_numbers)  # nodes numbered from here on are the function's own
    with forward_context, enable_grad():
        outputs = function(*args, **kwargs)
    return _finish(run, outputs, _graph_inputs(outputs, start, args, kwargs))


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (an ``nn.Sequential`` or a list of modules or functions) one after
    another on ``input``, checkpointing each of ``segments`` chunks but the last.

    Example:
        >>> import ember
        >>> from ember.utils.checkpoint import checkpoint_sequential
        >>> model = ember.nn.Sequential(ember.nn.Linear(2, 2), ember.nn.ReLU(),
        ...                             ember.nn.Linear(2, 1))
        >>> checkpoint_sequential(model, 2, ember.ones(1, 2), use_reentrant=False).shape
        ember.Size([1, 1])
    """
    if use_reentrant is None:
        warnings.warn("ember.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter "
                      "should be passed explicitly. use_reentrant=False is recommended, but if "
                      "you need to preserve the current default behavior, you can pass "
                      "use_reentrant=True.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    from ..nn import Sequential  # ember.nn imports ember.utils

    if isinstance(functions, Sequential):
        functions = list(functions.children())

    def run_segment(first: int, last: int):
        def forward(value):
            for function in functions[first:last]:
                value = function(value)
            return value
        return forward

    size = len(functions) // segments
    end = 0
    for start in range(0, size * (segments - 1), size):
        end = start + size
        input = checkpoint(run_segment(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_segment(end, len(functions))(input)


class _Run:
    """What the recomputation needs: the function, its arguments and the random state."""

    def __init__(self, function, args, kwargs, preserve: bool, determinism_check: str,
                 reentrant: bool, recompute_context) -> None:
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng_state = random.get_rng_state() if preserve else None
        self.check = determinism_check == "default"
        self.reentrant = reentrant
        self.recompute_context = recompute_context
        self.metadata = None  # (shape, dtype) of each output of the forward

    def recompute(self):
        """Run the function again with gradients on: (detached arguments, outputs).

        Arguments are detached so that differentiating the recomputation stops at them,
        leaving the graph that made them for the outer backward.
        """
        detached = tuple(_detached(a) for a in self.args)
        kwargs = {key: _detached(value) for key, value in self.kwargs.items()}
        surrounding = random.get_rng_state() if self.rng_state is not None else None
        if self.rng_state is not None:
            random.set_rng_state(self.rng_state)
        try:
            with self.recompute_context(), enable_grad():
                outputs = self.function(*detached, **kwargs)
        finally:
            if surrounding is not None:
                random.set_rng_state(surrounding)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        if self.check and [(o.shape, o.dtype) for o in outputs] != self.metadata:
            raise CheckpointError(
                "ember.utils.checkpoint: Recomputed values have different metadata than during "
                f"the original forward pass: {self.metadata} then, "
                f"{[(o.shape, o.dtype) for o in outputs]} now")
        return (*detached, *kwargs.values()), outputs


def _detached(value):
    if not isinstance(value, _tensor.Tensor):
        return value
    copy = value.detach()
    copy.requires_grad = value.requires_grad
    return copy


def _finish(run: _Run, outputs, inputs):
    """The outputs, made by one ``_CheckpointFunction`` node whose inputs are ``inputs``."""
    single = not isinstance(outputs, tuple)
    outputs = (outputs,) if single else outputs
    if not all(isinstance(o, _tensor.Tensor) for o in outputs):
        raise TypeError("ember.utils.checkpoint: the function must return a tensor or a tuple "
                        "of tensors")
    run.metadata = [(o.shape, o.dtype) for o in outputs]
    results = CheckpointFunction.apply(run, outputs, *inputs)
    return results[0] if single else results


def _graph_inputs(outputs, start: int, args, kwargs) -> list:
    """The tensors the graph of ``outputs`` starts from: the leaves it reaches (parameters and
    leaf arguments) and the non-leaf tensors made before the function ran (``start``), which
    must be among the arguments."""
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    given = [a for a in (*args, *kwargs.values()) if isinstance(a, _tensor.Tensor)]
    by_edge = {(a.grad_fn, a._output_nr): a for a in given if a.grad_fn is not None}
    found, seen = {}, set()
    pending = []
    for output in outputs:
        if isinstance(output, _tensor.Tensor) and output.requires_grad:
            pending.append(output._edge())
    while pending:
        node, index = pending.pop()
        if isinstance(node, AccumulateGrad):
            found[id(node.variable)] = node.variable
            continue
        if node._sequence < start:
            tensor = by_edge.get((node, index))
            if tensor is None:
                raise RuntimeError("ember.utils.checkpoint with use_reentrant=False: the "
                                   "function uses a tensor computed outside it that is not one "
                                   "of its arguments; pass that tensor as an argument")
            found[id(tensor)] = tensor
            continue
        if node in seen:
            continue
        seen.add(node)
        pending.extend(edge for edge in node.next_functions if edge[0] is not None)
    return list(found.values())


class CheckpointFunction(Function):
    """The node that checkpointed outputs hang on; its backward recomputes and differentiates.

    Its inputs are ``run`` (the recipe), the forward's outputs (returned detached, as new
    tensors) and the tensors gradients flow to.
    """

    @staticmethod
    def forward(ctx, run: _Run, outputs, *inputs):
        ctx.run = run
        ctx.inputs = inputs
        return tuple(o.detach() for o in outputs)

    @staticmethod
    def backward(ctx, *grad_outputs):
        run: _Run = ctx.run
        detached, outputs = run.recompute()
        pairs = [(o, g) for o, g in zip(outputs, grad_outputs)
                 if o.requires_grad and g is not None]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is "
                               "not necessary")
        if run.reentrant:
            # As PyTorch's reentrant variant: an inner backward, which also fills in the .grad
            # of every parameter the function used.
            backward([o for o, _ in pairs], [g for _, g in pairs])
            grads = [d.grad for d in detached if isinstance(d, _tensor.Tensor)]
            return (None, None, *grads)
        # Gradients for the node's inputs: detached stand-ins for the arguments, the tensors
        # themselves for the leaves the function used.
        stand_ins = {id(a): d for a, d in zip((*run.args, *run.kwargs.values()), detached)
                     if isinstance(a, _tensor.Tensor)}
        targets = [stand_ins.get(id(t), t) for t in ctx.inputs]
        wanted = [i for i, t in enumerate(targets) if t.requires_grad]
        found = grad([o for o, _ in pairs], [targets[i] for i in wanted],
                     [g for _, g in pairs], allow_unused=True)
        grads = [None] * len(targets)
        for i, g in zip(wanted, found):
            grads[i] = g
        return (None, None, *grads)

"""``ember.compile``: run a step once while recording what it computes, then replay the record.

The first call of a compiled function (for each guard key: the shapes, dtypes and
``requires_grad`` of its tensor arguments, the other arguments, the grad mode) runs it eagerly,
as any call would, while a recorder (``ember._recording``) is told of every kernel it launches:

- each ``Function.apply`` (its class, the arrays it read, the arrays it made, its ctx);
- each step of the backward engine: a node's backward, a gradient summed, reshaped or cast on
  its way to an input, a leaf's ``.grad`` assigned or added to;
- in-place writes (``p -= lr * p.grad`` under ``no_grad``), random draws (dropout's mask,
  ``ember.randn``: drawn again at each replay), ``optimizer.step()``, ``zero_grad()`` and
  ``model.train()``/``eval()`` (each replayed as one call, so a learning rate that a scheduler
  changes between steps is read at each replay).

Every array the step makes gets a slot; parameters, buffers and other tensors from outside the
step are read through their Tensor at each replay (so in-place updates and ``p.data`` are seen);
everything else the step read is a constant of the plan. The plan is a flat program over
those slots: later calls run it in one loop (``ember/_C/replay.c``, or its Python twin
``_run_program``), with NumPy's warnings set off once, without Tensor objects, graph nodes or
version checks in between, and each slot is emptied after its last use. An op whose forward or
backward was one compiled-kernel call reports it (``_Recorder.kernel``), and the program calls
that kernel itself, into output buffers the plan made once (``_KernelCall``); the other entries
are small closures. Beyond the key, a replay checks that those outside tensors kept their shape,
strides, dtype and ``requires_grad``, that the modules called kept their mode, parameters and
children, and that ember's thread count is the capture's; otherwise it captures again.

What the step does in Python beyond that (prints, appending to lists) happens at capture only.
A step whose Python code depends on values a replay could not follow is not compiled: it runs
eagerly at every call, after one warning, where PyTorch's ``torch.compile`` would break its
graph. That is a step that reads a tensor's value on the host (``loss.item()``, ``float(t)``,
``if t > 0:``, ``print(t)``), an op whose result's shape depends on values (``x[x > 0]``), a
user-defined ``autograd.Function``, a tensor hook, random numbers or in-place writes the
recorder cannot follow. Only the capturing thread's ops are recorded.
"""

import copy
import functools
import operator
import threading
import types
import warnings
from operator import itemgetter

import numpy as np

from . import _C, _parallel, _recording
from ._tensor import Tensor
from .autograd.engine import route
from .autograd.function import QUIET, _in_c_order, numpy_errors
from .autograd.grad_mode import _GradMode
from .nn.modules.module import Module

__all__ = ["compile"]

_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
_RECOMPILE_LIMIT = 8  # captures per compiled function, as torch.compile's recompile_limit
_EAGER = "eager"  # a cache entry: this key runs eagerly (the step cannot be captured)
# Ops whose result's shape depends on their input's values (as boolean-mask indexing): a replay
# could not follow the shapes the capture saw, so a step with one runs eagerly (PyTorch's
# torch.compile breaks its graph there).
_VALUE_SHAPED = frozenset({"Nonzero", "MaskedSelect", "Unique", "UniqueConsecutive",
                           "Bincount"})
# Tensor methods that read values on the host: a step that calls one is not captured.
_HOST_READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__",
               "__array__", "__format__", "__repr__")


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend=None, mode=None,
            options=None, name=None, disable: bool = False, recompile_limit=None,
            isolate_recompiles: bool = False, shapes_spec=None):
    """Compile a function (a training step, say) or a module: capture it once, replay it.

    The first call with new tensor shapes, dtypes or ``requires_grad`` runs the function
    eagerly while recording the kernels it launches: forward, backward, ``optimizer.step()``.
    Later calls replay that record. Parameters and optimizer state are updated in place, as in
    the eager step; the results are the eager step's, bit for bit.

    Python side effects of the function (printing, appending to a list, reading
    ``loss.item()``) happen at capture only. A function that reads a tensor's value on the host
    runs eagerly instead, with one warning; so does a module called with gradients enabled
    (its graph leaves the compiled call). Tensors the function creates with factories
    (``ember.zeros``, ``ember.tensor``) are constants of the record; random draws
    (``ember.rand``, ``ember.randn``, dropout) are drawn afresh at each call. Numbers and
    tensors the function reaches by name (globals, closure variables) are guarded, so a new
    value captures again; values reached through a dict or an attribute are read at capture:
    pass those as arguments.

    Args:
        model: the function or ``nn.Module``; without it, ``compile`` returns a decorator.
        fullgraph: raise ``RuntimeError`` when the function cannot be captured, instead of
            running it eagerly.
        dynamic, options, name, isolate_recompiles, shapes_spec: accepted for PyTorch
            programs; shapes are always specialized.
        backend: ``"eager"`` runs the function eagerly; any other backend captures it.
        mode: one of PyTorch's modes (all capture the same way).
        disable: return ``model`` itself, uncompiled.
        recompile_limit: captures per function (default 8) before new keys run eagerly.

    Returns:
        A callable that runs as ``model``, or an ``OptimizedModule`` wrapping a module
        (``_orig_mod`` is the module).

    Example:
        >>> import ember
        >>> model = ember.nn.Linear(3, 1)
        >>> opt = ember.optim.SGD(model.parameters(), lr=0.1)
        >>> @ember.compile
        ... def step(x, y):
        ...     opt.zero_grad()
        ...     loss = ember.nn.functional.mse_loss(model(x), y)
        ...     loss.backward()
        ...     opt.step()
        ...     return loss
        >>> x, y = ember.ones(4, 3), ember.zeros(4, 1)
        >>> losses = [step(x, y) for _ in range(3)]  # captured once, replayed twice
        >>> bool(losses[2] < losses[0])
        True
    """
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    limit = _RECOMPILE_LIMIT if recompile_limit is None else recompile_limit
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                 mode=mode, options=options, name=name, disable=disable,
                                 recompile_limit=recompile_limit,
                                 isolate_recompiles=isolate_recompiles, shapes_spec=shapes_spec)
    if not callable(model):
        raise RuntimeError("compile() expects a callable or an nn.Module, got "
                           f"{type(model).__name__}")
    if disable:
        return model
    eager = backend == "eager"
    if isinstance(model, Module):
        return OptimizedModule(model, CompiledFunction(model, fullgraph, limit, eager))
    return CompiledFunction(model, fullgraph, limit, eager)


class CompiledFunction:
    """What ``ember.compile(fn)`` returns: calls ``fn`` through its recorded plans, one per
    guard key."""

    def __init__(self, function, fullgraph: bool = False, limit: int = _RECOMPILE_LIMIT,
                 eager: bool = False) -> None:
        functools.update_wrapper(self, function)
        self._function = function
        self._name = getattr(function, "__name__", type(function).__name__)
        self._fullgraph = fullgraph
        self._limit = limit
        self._eager = eager
        self._plans = {}  # guard key -> _Plan, or _EAGER for keys that cannot be captured
        self._captures = 0
        self._namespace, self._names, self._cells = _free_names(function)
        self._last_free = ([], ())  # the objects _free_values last saw, and what it made of them

    def _free_values(self) -> tuple:
        """What the function reaches by name from outside, for the guard key: numbers and
        strings by value, other objects (a tensor, a module) by identity."""
        # Almost always the very objects of the last call: reuse what was made of them
        # (compared by identity, in C; ``==`` could call a tensor's __eq__).
        seen, made = self._last_free
        if _same_free(self._namespace, self._names, self._cells, seen, _MISSING):
            return made
        get = self._namespace.get
        values = [get(name, _MISSING) for name in self._names]
        values += [cell.cell_contents for cell in self._cells]
        made = tuple(value if type(value) in _BY_VALUE else id(value) for value in values)
        self._last_free = (values, made)
        return made

    def __deepcopy__(self, memo) -> "CompiledFunction":
        """A copy of the function, without plans: they read the original's tensors."""
        return CompiledFunction(copy.deepcopy(self._function, memo), self._fullgraph,
                                self._limit, self._eager)

    def __get__(self, instance, owner=None):
        """Decorating a method compiles it per call with ``self`` as an argument."""
        return self if instance is None else functools.partial(self, instance)

    def __call__(self, *args, **kwargs):
        if self._eager or _recording.recorder is not None:
            # Called while another compiled function captures: its kernels go to that record.
            return self._function(*args, **kwargs)
        tensors = []
        try:
            # The usual call, tensors only, described in one call (in C); others the long way.
            described = None if kwargs else _describe(args, Tensor, tensors)
            if described is None:
                key = (_GradMode.enabled, _signature(args, tensors),
                       _signature(kwargs, tensors) if kwargs else None, _aliasing(tensors),
                       self._free_values())
            else:
                key = (_GradMode.enabled, described[0], None, described[1],
                       self._free_values())
        except (TypeError, ValueError):  # unhashable argument, or a closure cell emptied
            return self._function(*args, **kwargs)
        plan = self._plans.get(key)
        if plan is _EAGER:
            return self._function(*args, **kwargs)
        if plan is not None:
            result = plan.replay(tensors)
            if result is _BUSY:  # called again while it replays
                return self._function(*args, **kwargs)
            if result is not _STALE:
                return result
        if self._captures >= self._limit:
            warnings.warn(f"ember.compile: {self._name} was captured {self._captures} times "
                          f"(recompile_limit); new inputs run eagerly", stacklevel=2)
            self._plans[key] = _EAGER
            return self._function(*args, **kwargs)
        return self._capture(key, args, kwargs, tensors)

    def _capture(self, key, args, kwargs, tensors):
        """Run the function eagerly under a recorder; keep the plan, or mark the key eager."""
        recorder = _Recorder(tensors)
        with _capturing(recorder):
            result = self._function(*args, **kwargs)
        plan = recorder.plan(result)
        self._captures += 1
        if plan is None:
            message = (f"ember.compile cannot capture {self._name}: it {recorder.reason}; "
                       "it runs eagerly")
            if self._fullgraph:
                raise RuntimeError(message + " (fullgraph=True asks for one whole graph)")
            warnings.warn(message, stacklevel=3)
            self._plans[key] = _EAGER
        else:
            self._plans[key] = plan
        return result


class OptimizedModule(Module):
    """What ``ember.compile(module)`` returns: a module whose calls run the compiled
    ``module(...)``; other attributes are the module's (``_orig_mod``)."""

    def __init__(self, mod: Module, compiled: CompiledFunction) -> None:
        super().__init__()
        self._orig_mod = mod
        self._compiled_call = compiled

    def forward(self, *args, **kwargs):
        return self._compiled_call(*args, **kwargs)

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)  # its own registered names, _orig_mod first
        except AttributeError:
            modules = self.__dict__.get("_modules")
            if modules is None or "_orig_mod" not in modules:  # half made (copy, unpickling)
                raise
            return getattr(modules["_orig_mod"], name)


def _signature(value, tensors: list):
    """A hashable description of an argument for the guard key; its tensors go to
    ``tensors`` in order. Raises TypeError for a value that cannot be described."""
    if isinstance(value, Tensor):
        tensors.append(value)
        data = value._data
        return (type(data), data.shape, data.strides, data.dtype, value._requires_grad)
    if isinstance(value, (tuple, list)):
        # The arguments themselves come here: their tensors are described in the loop, with
        # no call each (the same description as above).
        items = [type(value)]
        for item in value:
            if isinstance(item, Tensor):
                tensors.append(item)
                data = item._data
                items.append((type(data), data.shape, data.strides, data.dtype,
                              item._requires_grad))
            else:
                items.append(_signature(item, tensors))
        return tuple(items)
    if isinstance(value, dict):
        return (dict,) + tuple((key, _signature(item, tensors)) for key, item in value.items())
    hash(value)
    return (type(value), value)


def _describe_python(args: tuple, tensor_type, tensors: list):
    """``(_signature(args, tensors), _aliasing(tensors))`` when every argument is a tensor,
    else None (nothing appended): ``replay_describe`` in ``ember/_C/replay.c`` is its twin."""
    if not all(isinstance(arg, tensor_type) for arg in args):
        return None
    return _signature(args, tensors), _aliasing(tensors)


def _same_free_python(namespace: dict, names: tuple, cells: tuple, seen: list,
                      missing) -> bool:
    """Whether the values a function reaches by name are the very objects of ``seen``:
    ``replay_same_free`` in ``ember/_C/replay.c`` is its twin."""
    if len(seen) != len(names) + len(cells):
        return False
    values = [namespace.get(name, missing) for name in names]
    for cell in cells:
        try:
            values.append(cell.cell_contents)
        except ValueError:  # emptied: the caller's own read raises
            return False
    return all(map(operator.is_, values, seen))


def _aliasing(tensors: list):
    """None when the tensors' arrays are distinct (the usual case), else which of them
    share one: a plan reads each array from one slot."""
    arrays = [id(tensor._data) for tensor in tensors]
    if len(set(arrays)) == len(arrays):
        return None
    return tuple(arrays.index(array) for array in arrays)


class _capturing:
    """While a step is captured: the recorder is current, and the Tensor methods that read
    values on the host and ``Module.__call__`` report to it."""

    def __init__(self, recorder: "_Recorder") -> None:
        self.recorder = recorder
        self.saved = {}

    def __enter__(self) -> None:
        for method in _HOST_READS:
            self.saved[Tensor, method] = Tensor.__dict__[method]
            setattr(Tensor, method, _reports_host_read(Tensor.__dict__[method]))
        self.saved[Module, "__call__"] = Module.__dict__["__call__"]
        Module.__call__ = _reports_module_call(Module.__dict__["__call__"])
        _recording.recorder = self.recorder

    def __exit__(self, *exc) -> None:
        _recording.recorder = None
        for (cls, method), original in self.saved.items():
            setattr(cls, method, original)


def _reports_host_read(method):
    @functools.wraps(method)
    def read(self, *args, **kwargs):
        if _recording.recorder is not None:
            _recording.recorder.unsupported(f"reads a tensor's value (Tensor.{method.__name__})")
        return method(self, *args, **kwargs)
    return read


def _reports_module_call(call):
    @functools.wraps(call)
    def module_call(self, *args, **kwargs):
        if _recording.recorder is not None:
            _recording.recorder.module_called(self)
        return call(self, *args, **kwargs)
    return module_call


def _flat(value) -> tuple:
    """An index key's items: the key itself unless it is a tuple."""
    return value if isinstance(value, tuple) else (value,)


_MISSING = object()
_BY_VALUE = frozenset({int, float, bool, complex, str, bytes, type(None)})


def _free_names(function):
    """The function's globals dict, the global names its code (nested code too) may read, and
    its closure cells: what a replay would otherwise read once, at capture.

    A number the step reads through one of them is guarded by value, so changing it captures
    again; values reached deeper (a dict's entry, an object's attribute) are not guarded."""
    code = getattr(function, "__code__", None)
    if code is None:  # a partial, a callable object: nothing to look through
        return {}, (), ()
    names, stack = set(), [code]
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    cells = tuple(cell for cell in (getattr(function, "__closure__", None) or ())
                  if _cell_filled(cell))
    return function.__globals__, tuple(sorted(names)), cells


def _cell_filled(cell) -> bool:
    try:
        return cell.cell_contents is not _MISSING
    except ValueError:  # a name the function closes over that is not bound yet
        return False


def _is_array(value) -> bool:
    """Whether ``value`` is a NumPy or CuPy array (not a NumPy scalar, a number, a tuple)."""
    return hasattr(value, "ndim") and not isinstance(value, np.generic)


def _as_array(value):
    """What ``Tensor._wrap`` makes of a kernel's result: NumPy scalars become 0-d arrays."""
    if isinstance(value, np.generic) or not hasattr(value, "ndim"):
        return np.asarray(value)
    return value


def _getter(slots_read: tuple):
    """A function of the slot list returning the values of ``slots_read`` as a tuple."""
    if len(slots_read) == 1:
        only = slots_read[0]
        return lambda slots: (slots[only],)
    if not slots_read:
        return lambda slots: ()
    return itemgetter(*slots_read)


def _this_thread(method):
    """A hook of the recorder that ignores other threads: only the capturing thread's ops
    belong to the step."""
    @functools.wraps(method)
    def hook(self, *args, **kwargs):
        if threading.get_ident() == self.thread:
            return method(self, *args, **kwargs)
        return None
    return hook


def _this_thread_or_run(method):
    """As ``_this_thread``, for hooks that run a function: other threads just run it."""
    @functools.wraps(method)
    def hook(self, function, *args, **kwargs):
        if threading.get_ident() == self.thread:
            return method(self, function, *args, **kwargs)
        return function(*args, **kwargs)
    return hook


class _Recorder:
    """Told by the hooks in autograd, optimizers and ``ember.random`` what a step does while
    it runs eagerly; ``plan()`` turns that into a ``_Plan``.

    Every value the plan handles lives in a slot, an index into the list a replay fills:
    slot 0 is None, then constants, arrays from outside the step (``externals``, read through
    their tensor), the step's inputs and what each entry makes. Slots are found by the ``id`` of
    the array (or ctx); the recorder keeps each one alive so that ids stay unique.
    """

    def __init__(self, inputs: list) -> None:
        self.initial = [None]  # slot -> its value before a replay (constants; None otherwise)
        self.slot_of = {}  # id(array or ctx) -> slot
        self.kept = []  # everything slot_of names, alive until the plan is made
        self.externals = []  # (slot, tensor, shape, dtype, requires_grad, strides)
        self.external_slots = set()
        self.ran_backward = set()  # ids of the nodes whose backward ran
        self.entries = []
        self.modules = {}  # id -> module called during the step
        self.mode_set = set()  # ids of the modules whose train()/eval() the step calls
        self.drawn = []  # the slots of random draws
        self.thread = threading.get_ident()  # the capturing thread: others are not recorded
        self.reason = None  # why the step cannot be replayed, once known
        self.expected_write = None  # the tensor whose version bump a recorded write explains
        self.last_forward_reads = ()  # the slots the last recorded forward read
        self.last_forward = None  # the index of the last recorded forward's entry
        # For the kernel entries (see _KernelCall): the kernel calls ops reported since the last
        # forward or backward, each op entry's kernel call (if it made one) and its ctx slot
        # and made slots, the forwards that also wrote into outside tensors, each slot's array
        # and, by memory layout, the first slot holding an array.
        self.pending = []
        self.kernel_calls = {}  # entry index -> _KernelCall
        self.ops = {}  # entry index -> (ctx slot or None, made slots)
        self.side_effects = set()
        self.value_of = {}  # slot -> the array it held at capture
        self.layout_slot = {}  # _layout(array) -> slot
        self.contiguous_slot = {}  # _extent(array) -> slot, for C-contiguous arrays
        self.escapes = []  # (entry index, slot, a run that copies it): arrays kept past the step
        self.input_slots = tuple(self.new_slot(t._data) for t in inputs)
        self.input_tensor_slots = tuple(self.new_slot(None) for _ in inputs)
        self.input_tensor_slot = {id(t): slot for t, slot in zip(inputs,
                                                                 self.input_tensor_slots)}

    # ---- slots -------------------------------------------------------------------------

    def new_slot(self, value, initial=None) -> int:
        slot = len(self.initial)
        self.initial.append(initial)
        if value is not None:
            self.slot_of[id(value)] = slot
            self.kept.append(value)
            if type(value) is np.ndarray:
                self.value_of[slot] = value
                self.layout_slot.setdefault(_layout(value), slot)
                if value.flags.c_contiguous:
                    self.contiguous_slot.setdefault(_extent(value), slot)
        return slot

    def holding(self, array, loose: bool = True) -> "int | None":
        """The slot whose array is ``array``, or a view of the same memory with the same
        shape, strides and dtype (``weight.t().T`` for ``weight``), or for a C-contiguous
        array, one over the same bytes unless not ``loose`` (the slot's shape then may
        differ: fine for a kernel's argument, not for an op's result); None if none is."""
        found = [self.layout_slot.get(_layout(array))]
        slot = self.slot_of.get(id(array))
        if slot is not None and self.value_of.get(slot) is array:
            found.append(slot)
        if loose and array.flags.c_contiguous:
            # The kernels read C-contiguous memory, their sizes given apart: any C-contiguous
            # array over the same bytes will do (a (1, n) weight for its (n, 1) transpose).
            found.append(self.contiguous_slot.get(_extent(array)))
        # The first slot that has it: an outside tensor's rather than a view an entry makes
        # of it, so that the entry may not need to run.
        return min((slot for slot in found if slot is not None), default=None)

    def read(self, value, tensor=None) -> int:
        """The slot an entry reads ``value`` from (``tensor``: the Tensor holding it)."""
        if value is None:
            return 0
        if isinstance(value, (tuple, list)) and any(map(_is_array, value)):
            return self._read_sequence(value)
        # Made in the step first: a backward on 0-d arrays gives NumPy scalars, not arrays,
        # and they are values of this call, not constants.
        slot = self.slot_of.get(id(value))
        if slot is not None:
            return slot
        if not _is_array(value):
            return self.new_slot(None, value)  # a number, a shape, a dtype: a constant
        if tensor is None:
            return self.new_slot(value, value)
        slot = self.new_slot(value)
        self.externals.append((slot, tensor, value.shape, value.dtype, tensor._requires_grad,
                               value.strides))
        self.external_slots.add(slot)
        return slot

    def _read_sequence(self, value) -> int:
        """The slot of a tuple or list holding arrays (an index key), rebuilt at each replay
        from the slots of its items."""
        kind, items = type(value), tuple(self.read(item) for item in value)
        target = self.new_slot(None)

        def run(slots):
            slots[target] = kind(slots[item] for item in items)
        self.add(run, items, (target,))
        return target

    def add(self, run, reads: tuple, writes: tuple) -> None:
        """Append the entry ``run``, which reads and writes these slots."""
        self.entries.append((run, reads, writes))

    @_this_thread
    def kernel(self, kernel, args: tuple, fresh: tuple) -> None:
        """An op's forward or backward called ``kernel(*args)`` and that call was all it
        computed: its results are arrays of ``args`` (those at positions ``fresh``, which it
        just made for the kernel to write, or views of them) or its inputs."""
        self.pending.append((kernel, args, fresh))

    def _kernel_call(self, results) -> "_KernelCall | None":
        """The kernel call the op just reported, as an entry of the plan, if it made one and
        it can be replayed alone: every other array it took is in a slot, every result is one
        of its fresh arrays (or a view of one) or in a slot."""
        calls, self.pending = self.pending, []
        if len(calls) != 1:
            return None
        kernel, args, fresh = calls[0]
        buffers = tuple(args[position] for position in fresh if args[position] is not None)
        if any(type(b) is not np.ndarray or b.size == 0 for b in buffers):
            return None
        fills = []
        for position, arg in enumerate(args):
            if position in fresh or not _is_array(arg):
                continue  # a fresh array, a number, a shape tuple, None: part of the template
            slot = self.holding(arg) if type(arg) is np.ndarray and arg.size else None
            if slot is None:
                return None
            fills.append((position, slot))
        made = []
        for array in results:
            if type(array) is not np.ndarray or array.size == 0:
                return None
            if any(_root(array) is b for b in buffers):
                made.append(array)  # the same view of the same buffer at every replay
            else:
                slot = self.holding(array, loose=False)
                if slot is None:
                    return None
                made.append(slot)
        if all(type(item) is int for item in made):
            return None  # none of its results is the kernel's: not this op's call
        return _KernelCall(kernel, args, tuple(fills), buffers, made)

    @_this_thread
    def module_called(self, module) -> None:
        self.modules.setdefault(id(module), module)

    @_this_thread
    def unsupported(self, reason: str) -> None:
        """The step does something a replay cannot repeat: stop recording, run it eagerly."""
        if self.reason is None:
            self.reason = reason
        _recording.recorder = None

    # ---- what the hooks report ---------------------------------------------------------

    @_this_thread
    def forward(self, cls, ctx, args, inputs, outputs, single: bool) -> None:
        """``Function.apply`` ran ``cls.forward`` on ``inputs`` (from ``args``); it returned
        one array (``single``) or a tuple of them."""
        if cls._tensor_io:
            return self.unsupported(f"calls {cls.__name__}, a user-defined autograd.Function")
        if cls.__name__ in _VALUE_SHAPED or cls.__name__ == "Index" and any(
                _is_array(item) and item.dtype == bool for item in _flat(inputs[1])):
            return self.unsupported(f"calls {cls.__name__}, whose result's shape depends on "
                                    "values")
        read = tuple(self.read(value, arg if isinstance(arg, Tensor) else None)
                     for value, arg in zip(inputs, args))
        call = self._kernel_call([out._data for out in outputs])
        made = tuple(self.new_slot(out._data) for out in outputs)
        self.last_forward_reads = read
        ctx_slot = self.new_slot(ctx)
        self.last_forward = index = len(self.entries)
        self.add(_forward_entry(cls, ctx.needs_input_grad, read, made, single, ctx_slot),
                 read, made + (ctx_slot,))
        self.ops[index] = (ctx_slot, made)
        if call is not None:
            self.kernel_calls[index] = call.placed(made)

    @_this_thread
    def backward(self, node, grads, input_grads) -> None:
        """The engine ran ``node``'s backward on ``grads``, giving ``input_grads``."""
        ctx_slot = self.slot_of.get(id(node))
        if ctx_slot is None:
            return self.unsupported("runs backward through a graph made before the call")
        if node.tensor_hooks or node._retained:
            return self.unsupported("has tensor hooks or retain_grad() in its graph")
        self.ran_backward.add(id(node))
        read = tuple(self.read(grad) for grad in grads)
        call = self._kernel_call([grad for grad in input_grads if grad is not None])
        made = tuple((position, self.new_slot(grad)) for position, grad in enumerate(input_grads)
                     if grad is not None)
        index = len(self.entries)
        targets = tuple(target for _, target in made)
        self.add(_backward_entry(node._function.backward, ctx_slot, read, made),
                 read + (ctx_slot,), targets)
        self.ops[index] = (None, targets)
        if call is not None:
            self.kernel_calls[index] = call.placed(targets)

    @_this_thread
    def route(self, node, position: int, grad, shape, dtype, routed) -> None:
        """The engine made ``grad`` into ``routed``, of its input's shape and dtype."""
        source, target = self.read(grad), self.new_slot(routed)
        self.add(_route_entry(source, target, position, grad, shape, dtype), (source,),
                 (target,))

    @_this_thread
    def sum(self, first, second, total) -> None:
        a, b, target = self.read(first), self.read(second), self.new_slot(total)

        def run(slots):
            slots[target] = slots[a] + slots[b]
        self.add(run, (a, b), (target,))

    @_this_thread
    def accumulate(self, node, grad, owned: bool) -> None:
        """A leaf's ``.grad`` was given ``grad`` (assigned, or added to the one it had)."""
        variable = node.variable
        source = self.read(grad)
        target = self.new_slot(variable._grad._data)
        tensor_slot = self.input_tensor_slot.get(id(variable))

        def accumulating(owned):
            if tensor_slot is None:
                wrap = Tensor._wrap

                def run(slots):
                    grad = slots[source]
                    # node.accumulate's common case written out (one call fewer per
                    # parameter): no .grad yet, a gradient of its dtype, no hooks.
                    if variable._grad is None and grad.dtype is variable._data.dtype \
                            and not node.post_hooks:
                        variable._grad = wrap(grad if owned else grad.copy())
                    else:
                        node.accumulate(grad, owned)
                    slots[target] = variable._grad._data
            else:  # a step input: the tensor of this call, not the one captured
                def run(slots):
                    leaf = slots[tensor_slot]
                    leaf._edge()[0].accumulate(slots[source], owned)
                    slots[target] = leaf._grad._data
            return run
        # A gradient in a kernel entry's buffer is copied, not kept (owned: False), as the
        # next replay writes that buffer again.
        self.escapes.append((len(self.entries), source, lambda: accumulating(False)))
        self.add(accumulating(owned), (source,), (target,))

    @_this_thread_or_run
    def call(self, function, *args, **kwargs):
        """Run ``function`` (an optimizer's step, a zero_grad) unrecorded; replay the call."""
        if any(callable(a) for a in args[1:]) or kwargs.get("closure") is not None:
            self.unsupported("passes a closure to optimizer.step()")
            return function(*args, **kwargs)
        _recording.recorder = None
        try:
            result = function(*args, **kwargs)
        finally:
            if self.reason is None:
                _recording.recorder = self
        self.add(lambda slots: function(*args, **kwargs), (), ())
        return result

    @_this_thread_or_run
    def set_mode(self, function, module, mode: bool):
        """``module.train(mode)`` (``function``) in the step: replayed, and the mode of the
        modules below it is the step's own, no guard."""
        self.mode_set.update(id(below) for below in module.modules())
        return self.call(function, module, mode)

    @_this_thread_or_run
    def draw(self, function, *args, **kwargs):
        """``function`` draws random numbers into a new array: draw again at each replay."""
        _recording.recorder = None
        try:
            array = function(*args, **kwargs)
        finally:
            if self.reason is None:
                _recording.recorder = self
        target = self.new_slot(array)
        self.drawn.append(target)

        def run(slots):
            slots[target] = function(*args, **kwargs)
        self.add(run, (), (target,))
        return array

    @_this_thread
    def copy(self, source_array, copied) -> None:
        source, target = self.read(source_array), self.new_slot(copied)

        def run(slots):
            slots[target] = slots[source].copy()
        self.add(run, (source,), (target,))

    @_this_thread
    def write(self, tensor, result) -> None:
        """An in-place op wrote ``result`` into ``tensor``'s memory."""
        target, source = self.read(tensor._data, tensor), self.read(result)
        if target in self.external_slots:  # a parameter, say: bump its version as eager does
            def run(slots):
                slots[target][...] = slots[source]
                tensor._version[0] += 1
        else:
            def run(slots):
                slots[target][...] = slots[source]
        self.add(run, (target, source), ())
        self.expected_write = tensor

    @_this_thread
    def bumped(self, tensor) -> None:
        """``tensor``'s version changed: fine when ``write`` recorded why, or when the kernel
        just recorded wrote into it (batch norm's running statistics), as a replay will."""
        if self.expected_write is tensor:
            self.expected_write = None
            return
        data = tensor._data
        slot = self.slot_of.get(id(data))
        if slot is None or slot not in self.last_forward_reads:
            return self.unsupported("writes into a tensor in a way ember.compile cannot record")
        self.side_effects.add(self.last_forward)  # a replay must run that forward
        if self.initial[slot] is data:  # read as a bare array: read it through its tensor
            self.initial[slot] = None
            self.externals.append((slot, tensor, data.shape, data.dtype, tensor._requires_grad,
                                   data.strides))
            self.external_slots.add(slot)

    @_this_thread
    def set_grad(self, tensor, value) -> None:
        """``tensor.grad = value`` in the step."""
        if id(tensor) in self.input_tensor_slot:
            return self.unsupported("assigns .grad of one of its arguments")
        if value is None:
            def run(slots):
                tensor._grad = None
        else:
            source = self.read(value._data, value)

            def run(slots):
                tensor._grad = Tensor._wrap(slots[source])

            def copying(slots):
                tensor._grad = Tensor._wrap(slots[source].copy(order="K"))
            self.escapes.append((len(self.entries), source, lambda: copying))
        self.add(run, () if value is None else (source,), ())

    # ---- the plan ----------------------------------------------------------------------

    def plan(self, result) -> "_Plan | None":
        """The plan that replays the step and rebuilds ``result``; None when it cannot."""
        if self.reason is not None:
            return None
        output = self._output(result)
        read = {slot for _, reads, _ in self.entries for slot in reads}
        read.update(_output_slots(output))
        if any(slot not in read for slot in self.drawn):
            # NumPy code outside the recorded ops used the numbers: a replay would reuse its
            # result, the same numbers each time.
            self.unsupported("computes with random numbers outside ember's ops")
        if self.reason is not None:
            return None
        # A module's mode is guarded (None: not) unless the step sets it itself.
        # Read through the module's __dict__ (where Module keeps them): a dict lookup is a
        # fraction of an attribute lookup, and this runs for every module at every call.
        modules = tuple((vars(module), None if id(module) in self.mode_set else module.training,
                         tuple(map(id, module._parameters.values())),
                         tuple(map(id, module._modules.values())))
                        for module in self.modules.values())
        calls, folded, buffers = self._choose()
        initial, program = self._program(output, calls, folded, buffers)
        output = _copying(output, self.value_of, buffers)
        plan = _Plan(initial, tuple(self.externals), self.input_slots, self.input_tensor_slots,
                     program, output, modules, _parallel.get_num_threads() if calls else None)
        self.kept = self.slot_of = self.value_of = None  # the capture's arrays can go
        self.layout_slot = self.contiguous_slot = None
        return plan

    def _choose(self):
        """Which op entries a replay runs as kernel calls, and which it skips as views.

        Returns the kernel calls (entry index -> _KernelCall), the folded entries and the ids
        of the kernel calls' buffers. A folded entry is a forward or backward whose results
        are views of kernel buffers (a transpose of a weight's gradient, say): a replay would
        make the same views of the same buffers, so they are constants of the plan. A forward
        runs in Python after all (no kernel call, no folding) when a backward left in Python
        reads its ctx; the buffers then change, so the choice is made again until it holds.
        """
        in_python = set()
        while True:
            calls = {index: call for index, call in self.kernel_calls.items()
                     if index not in in_python}
            buffers = {id(buffer) for call in calls.values() for buffer in call.buffers}
            folded = set()
            for index, (_, made) in self.ops.items():
                if index in calls or index in in_python or index in self.side_effects:
                    continue
                if made and all(slot in self.value_of
                                and id(_root(self.value_of[slot])) in buffers
                                for slot in made):
                    folded.add(index)
            ctx_read = {slot for index, (_, reads, _) in enumerate(self.entries)
                        if index not in calls and index not in folded for slot in reads}
            more = {index for index in calls.keys() | folded if self.ops[index][0] in ctx_read}
            if not more:
                return calls, folded, buffers
            in_python |= more

    def _program(self, output, calls, folded, buffers):
        """The slot list's initial values and the program: each entry a replay runs (a
        closure, or a kernel call as a tuple, see ``_run_program``) with the slots to empty
        after it.

        Entries whose results nothing reads are left out (the transposes of weights for a
        product whose kernel reads the weight itself). Each kernel call writes into buffers
        of its own, made here once and reused by every replay, as a CUDA graph does; a view
        of them that a folded entry made is a constant slot. An array that outlives the step
        (a gradient given to ``.grad``) is copied out of them (``escapes``, ``_copying``).
        """
        fresh = {id(buffer): np.empty_like(buffer) for call in calls.values()
                 for buffer in call.buffers}
        initial = list(self.initial)
        for index in folded:
            for slot in self.ops[index][1]:
                initial[slot] = _rebase(self.value_of[slot], fresh)
        runs = {index: run for index, (run, _, _) in enumerate(self.entries)}
        for index, slot, copying in self.escapes:
            value = self.value_of.get(slot)
            if value is not None and id(_root(value)) in buffers:
                runs[index] = copying()
        effective = []
        for index, (_, reads, writes) in enumerate(self.entries):
            if index in calls:
                entry, constants = calls[index].entry(fresh)
                for slot, value in constants.items():
                    initial[slot] = value
                effective.append((entry, calls[index].reads, self.ops[index][1]))
            else:
                effective.append((runs[index], reads, writes))
        contexts = {ctx_slot for ctx_slot, _ in self.ops.values()}
        live, kept = set(_output_slots(output)), []
        for index in reversed(range(len(effective))):
            entry, reads, writes = effective[index]
            if index in self.ops and index not in self.side_effects \
                    and live.isdisjoint(writes):
                continue  # nothing reads what it makes
            if index in folded:  # not run: it needs its inputs made, not its forward's ctx
                live.update(slot for slot in reads if slot not in contexts)
            else:
                live.update(reads)
                kept.append(effective[index])
        kept.reverse()
        return initial, self._freeing(kept, output, initial)

    @staticmethod
    def _freeing(entries, output, initial) -> tuple:
        """The entries, each with the slots to empty after it: those no later entry uses
        (so that a replay frees activations and gradients as soon as eager autograd does).
        Constant slots stay: the plan holds their values anyway."""
        last_use = {}
        for index, (_, reads, writes) in enumerate(entries):
            for slot in reads + writes:
                last_use[slot] = index
        kept = set(_output_slots(output))
        frees = [[] for _ in entries]
        for slot, index in last_use.items():
            if slot and slot not in kept and initial[slot] is None:
                frees[index].append(slot)
        return tuple((run, tuple(free)) for (run, _, _), free in zip(entries, frees))

    def _output(self, value):
        """How a replay rebuilds ``value``: ("slot", s), ("value", v), or a container."""
        if isinstance(value, Tensor):
            slot = self.slot_of.get(id(value._data))
            if slot is None or slot in self.external_slots:
                return ("value", value)  # a parameter, a constant: that same tensor
            if value.grad_fn is not None and id(value.grad_fn) not in self.ran_backward:
                self.unsupported("returns a tensor whose graph leaves the call (backward "
                                 "outside the compiled function)")
            return ("slot", slot)
        if isinstance(value, (tuple, list)):
            return (type(value), tuple(self._output(item) for item in value))
        if isinstance(value, dict):
            return (dict, tuple((key, self._output(item)) for key, item in value.items()))
        return ("value", value)


class _KernelCall:
    """An op's forward or backward that was one compiled-kernel call, as a plan replays it:
    ``kernel(*args)`` with the arrays of ``fills`` (position, slot) read from the slots and
    its fresh arrays (``buffers``) made once per plan. ``made`` says, for each result, the
    view of a buffer it is (the same at every replay: a constant slot) or the slot holding
    it (a result that is one of the op's inputs, as a bias's gradient may be)."""

    __slots__ = ("kernel", "args", "fills", "buffers", "made", "results")

    def __init__(self, kernel, args, fills, buffers, made) -> None:
        self.kernel, self.args, self.fills = kernel, args, fills
        self.buffers, self.made, self.results = buffers, made, ()

    def placed(self, slots: tuple) -> "_KernelCall":
        """This call, its results going to ``slots``."""
        self.results = tuple(zip(slots, self.made))
        return self

    @property
    def reads(self) -> tuple:
        return tuple(slot for _, slot in self.fills) + tuple(
            source for _, source in self.results if type(source) is int)

    def entry(self, fresh: dict):
        """The program's entry ``(kernel, args, fills, copies)`` over the plan's own buffers
        (``fresh``: id of a capture buffer -> the plan's), and the constant slots."""
        args = [fresh[id(arg)] if any(arg is b for b in self.buffers) else arg
                for arg in self.args]
        for position, _ in self.fills:
            args[position] = None  # read from the slots at each replay
        copies = tuple((target, source) for target, source in self.results
                       if type(source) is int)
        constants = {target: _rebase(view, fresh) for target, view in self.results
                     if type(view) is not int}
        return (self.kernel, tuple(args), self.fills, copies), constants


def _layout(array) -> tuple:
    """Where an array's elements are: two arrays with the same layout are the same values."""
    return (array.__array_interface__["data"][0], array.shape, array.strides, array.dtype.str)


def _extent(array) -> tuple:
    """The bytes a C-contiguous array covers, and how it reads them."""
    return (array.__array_interface__["data"][0], array.nbytes, array.dtype.str)


def _root(array):
    """The array owning ``array``'s memory (``array`` itself when it is no view)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _rebase(view, fresh: dict):
    """The same view of the plan's buffer that ``view`` is of the capture's."""
    root = _root(view)
    base = fresh[id(root)]
    if view is root:
        return base
    offset = view.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return np.ndarray(view.shape, view.dtype, buffer=base, offset=offset,
                      strides=view.strides)


def _copying(spec, value_of: dict, buffers: set):
    """The output ``spec`` with the slots whose arrays live in kernel buffers copied out
    (("copy", slot)): a returned loss must keep its value after the next call."""
    kind, content = spec
    if kind == "slot":
        value = value_of.get(content)
        if value is not None and id(_root(value)) in buffers:
            return ("copy", content)
        return spec
    if kind == "value":
        return spec
    if kind is dict:
        return (dict, tuple((key, _copying(item, value_of, buffers)) for key, item in content))
    return (kind, tuple(_copying(item, value_of, buffers) for item in content))


def _forward_entry(cls, needs_input_grad, read: tuple, made: tuple, single: bool,
                   ctx_slot: int):
    """The replay of one ``Function.apply``: a fresh ctx, forward on the slots' arrays."""
    node_class, forward = cls._node_class, cls.forward
    contiguous = cls.contiguous_output
    get = _getter(read)
    if single and not contiguous and len(read) == 1:
        # The commonest case (one array in, one out: ReLU, a transpose, a view, pooling),
        # read without a getter: one call fewer per entry.
        target, ndarray, source = made[0], np.ndarray, read[0]

        def run(slots):
            ctx = node_class()
            ctx.needs_input_grad = needs_input_grad
            raw = forward(ctx, slots[source])
            slots[target] = raw if type(raw) is ndarray else _as_array(raw)
            slots[ctx_slot] = ctx
    elif single and not contiguous:  # the common case, with no test left to make
        target, ndarray = made[0], np.ndarray

        def run(slots):
            ctx = node_class()
            ctx.needs_input_grad = needs_input_grad
            raw = forward(ctx, *get(slots))
            slots[target] = raw if type(raw) is ndarray else _as_array(raw)
            slots[ctx_slot] = ctx
    elif single:
        target = made[0]

        def run(slots):
            ctx = node_class()
            ctx.needs_input_grad = needs_input_grad
            raw = _in_c_order(ctx, forward(ctx, *get(slots)), True)
            slots[target] = _as_array(raw)
            slots[ctx_slot] = ctx
    else:
        def run(slots):
            ctx = node_class()
            ctx.needs_input_grad = needs_input_grad
            raw = forward(ctx, *get(slots))
            if contiguous:
                raw = _in_c_order(ctx, raw, False)
            for target, array in zip(made, raw):
                slots[target] = _as_array(array)
            slots[ctx_slot] = ctx
    return run


def _route_entry(source: int, target: int, position: int, grad, shape, dtype):
    """The replay of the engine's ``route`` of ``grad`` (as captured) to ``shape``/``dtype``."""
    extra = grad.ndim - len(shape) if type(grad) is np.ndarray else 0
    if extra > 0 and shape and grad.shape[extra:] == shape and grad.dtype == dtype:
        # A bias's gradient summed over the batch (leading dimensions): the sum route makes
        # (``ndarray.sum`` is this ufunc reduction), without its tests and four calls.
        axes, captured_shape, ndarray, add = tuple(range(extra)), grad.shape, np.ndarray, np.add

        def run(slots):
            grad = slots[source]
            if type(grad) is ndarray and grad.shape == captured_shape and grad.dtype == dtype:
                slots[target] = add.reduce(grad, axis=axes)
            else:
                slots[target] = route(None, position, grad, shape, dtype)
        return run

    def run(slots):
        # No node: route names it only in an error that a replay cannot meet.
        slots[target] = route(None, position, slots[source], shape, dtype)
    return run


def _backward_entry(backward, ctx_slot: int, read: tuple, made: tuple):
    """The replay of one node's backward: its gradients into the slots the engine used."""
    if len(read) == 1:
        # Most nodes have one output, so one gradient to read: read without a getter, one
        # call fewer per entry.
        source = read[0]

        def run(slots):
            grads = backward(slots[ctx_slot], slots[source])
            if type(grads) is not tuple:
                grads = (grads,)
            for position, target in made:
                slots[target] = grads[position]
        return run
    get = _getter(read)

    def run(slots):
        grads = backward(slots[ctx_slot], *get(slots))
        if type(grads) is not tuple:
            grads = (grads,)
        for position, target in made:
            slots[target] = grads[position]
    return run


class _Plan:
    """One captured step: the slot list's initial values, where to read externals and inputs,
    the program, how to rebuild the result, the modules whose state it depends on and the
    thread count its kernel calls were chosen for (None: it has none)."""

    __slots__ = ("initial", "externals", "input_slots", "input_tensor_slots", "program",
                 "output", "modules", "threads", "lock")

    def __init__(self, initial, externals, input_slots, input_tensor_slots, program, output,
                 modules, threads) -> None:
        self.initial = initial
        self.externals = externals
        self.input_slots = input_slots
        self.input_tensor_slots = input_tensor_slots
        self.program = program
        self.output = output
        self.modules = modules
        self.threads = threads
        self.lock = threading.Lock()  # the kernel buffers serve one replay at a time

    def holds(self, slots: list) -> bool:
        """The guards beyond the key: tensors from outside kept their shape, strides, dtype
        and ``requires_grad``; the modules called kept their mode, parameters and children;
        ember's thread count is the one the kernel calls were chosen for. While they hold,
        each outside tensor's array is put in its slot of ``slots`` (one read of ``_data``)."""
        return _holds(self.externals, self.modules, slots) and (
            self.threads is None or self.threads == _parallel.get_num_threads())

    def replay(self, tensors: list):
        """The step's result; ``_STALE`` when the guards fail (capture again), ``_BUSY`` when
        another thread is replaying this plan."""
        if not self.lock.acquire(blocking=False):
            return _BUSY
        try:
            slots = self.initial.copy()
            if not self.holds(slots):
                return _STALE
            for slot, tensor_slot, tensor in zip(self.input_slots, self.input_tensor_slots,
                                                 tensors):
                slots[slot] = tensor._data
                slots[tensor_slot] = tensor
            token = numpy_errors.set(QUIET)  # the floating-point policy (autograd/function.py)
            try:
                _run(self.program, slots)
            finally:
                numpy_errors.reset(token)
            return _rebuild(self.output, slots)
        finally:
            self.lock.release()


def _holds_python(externals: tuple, modules: tuple, slots: list) -> bool:
    """``_Plan.holds``'s checks of the tensors from outside and the modules: the reference,
    and the one without the extension (``replay_holds`` in ``ember/_C/replay.c`` is its
    twin in C). Each external's array goes to its slot while the checks hold."""
    for slot, tensor, shape, dtype, requires_grad, strides in externals:
        data = tensor._data
        # ``is`` first: the dtype object is almost always the very one the capture saw.
        if tensor._requires_grad is not requires_grad or data.shape != shape \
                or data.dtype is not dtype and data.dtype != dtype \
                or data.strides != strides:
            return False
        slots[slot] = data
    for state, training, parameters, children in modules:  # state: the module's __dict__
        if training is not None and state.get("training") is not training:
            return False
        # Whether _parameters and _modules hold the objects the capture saw, written out
        # (no call): it runs for every module at every call. Most modules own no
        # parameters or no children: then the dict must be empty.
        members = state.get("_parameters", _NO_MEMBERS)
        if tuple(map(id, members.values())) != parameters if parameters else members:
            return False
        members = state.get("_modules", _NO_MEMBERS)
        if tuple(map(id, members.values())) != children if children else members:
            return False
    return True


_BUSY = object()  # what a plan's replay returns while another thread replays it
_NO_MEMBERS = {None: None}  # a module's missing _parameters or _modules: never the capture's
_STALE = object()  # what it returns when its guards fail: the step is captured again


def _run_program(program: tuple, slots: list) -> None:
    """Run a plan's program on ``slots``: the reference loop, and the one without the
    extension (``ember/_C/replay.c`` is its twin in C).

    An entry is a closure of the slot list, or a kernel call ``(kernel, args, fills,
    copies)``: ``args`` with the slots of ``fills`` (position, slot) put in, then each
    (target, source) of ``copies`` a result that is one of the op's inputs. After an entry
    its slots that no later entry reads are emptied."""
    for entry, frees in program:
        if type(entry) is tuple:
            kernel, template, fills, copies = entry
            args = list(template)
            for position, slot in fills:
                args[position] = slots[slot]
            kernel(*args)
            for target, source in copies:
                slots[target] = slots[source]
        else:
            entry(slots)
        for slot in frees:
            slots[slot] = None


# The loop replays run and their guards: the C twins when the extension is built (a test
# swaps them).
_run = getattr(_C.kernels, "replay", None) or _run_program
_holds = getattr(_C.kernels, "replay_holds", None) or _holds_python
_describe = getattr(_C.kernels, "replay_describe", None) or _describe_python
_same_free = getattr(_C.kernels, "replay_same_free", None) or _same_free_python


def _output_slots(spec):
    """The slots ``_rebuild`` reads for ``spec``."""
    kind, content = spec
    if kind == "slot" or kind == "copy":
        yield content
    elif kind is dict:
        for _, item in content:
            yield from _output_slots(item)
    elif kind != "value":
        for item in content:
            yield from _output_slots(item)


def _rebuild(spec, slots):
    """The step's result from the slots: new tensors over the arrays this replay made."""
    kind, content = spec
    if kind == "slot":
        return Tensor._wrap(slots[content])
    if kind == "copy":  # an array in a kernel buffer, which the next replay writes again
        return Tensor._wrap(slots[content].copy(order="K"))
    if kind == "value":
        return content
    if kind is dict:
        return {key: _rebuild(item, slots) for key, item in content}
    return kind(_rebuild(item, slots) for item in content)

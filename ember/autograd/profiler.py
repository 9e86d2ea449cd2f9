"""Where the time goes, op by op, as ``torch.autograd.profiler``: ``profile`` records every
Function call (forward), every backward node the engine runs, every gradient accumulated into
a leaf and every ``record_function`` range, with its CPU time; ``key_averages().table()``
prints PyTorch's table.

Recording costs nothing while no profile is running: entering the first profile swaps timed
versions of ``Function.apply``, ``BackwardNode.apply`` and ``AccumulateGrad.accumulate`` in
for the plain ones, and leaving the last swaps them back. Ops are named after their Function
(``Mul``, ``Addmm``, ``MulBackward0``) where PyTorch shows its ATen kernels (``aten::mul``).
Self time is an event's time less the time of the events inside it.

Example:
    >>> import ember
    >>> x = ember.randn(8, 8, requires_grad=True)
    >>> with ember.autograd.profiler.profile() as prof:
    ...     (x @ x).sum().backward()
    >>> sorted(e.key for e in prof.key_averages())
    ['Mm', 'MmBackward0', 'Sum', 'SumBackward0', 'torch::autograd::AccumulateGrad']
"""

import contextlib
import os
import threading
import time

from .. import _tensor
from .function import AccumulateGrad, BackwardNode, Function

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "profile", "record_function"]

_active = []  # the profiles recording now (profiles can nest: each gets every event)
_lock = threading.Lock()
_stacks = threading.local()  # per thread: the events open now, innermost last
_originals = {}  # (owner class, attribute) -> the plain attribute, while recording


class FunctionEvent:
    """One timed call: ``name``, ``start_us``/``end_us`` (since the profile began),
    ``cpu_time_total`` and ``self_cpu_time_total`` in microseconds, ``input_shapes`` (with
    ``record_shapes=True``), ``thread``."""

    def __init__(self, id: int, name: str, thread: int, start_us: float, end_us: float,
                 self_cpu_time_total: float, input_shapes=None) -> None:
        self.id = id
        self.name = self.key = name
        self.thread = thread
        self.start_us = start_us
        self.end_us = end_us
        self.cpu_time_total = end_us - start_us
        self.self_cpu_time_total = self_cpu_time_total
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.count = 1

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time="
                f"{_format_time(self.cpu_time_total)} start_us={self.start_us:.3f} end_us="
                f"{self.end_us:.3f} thread={self.thread} input_shapes={self.input_shapes}>")


class FunctionEventAvg:
    """The events of one name (and input shapes, when grouped by them) summed: ``count``,
    ``cpu_time_total``, ``self_cpu_time_total``, and ``cpu_time`` (average per call)."""

    def __init__(self, key: str, input_shapes=None) -> None:
        self.key = key
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0

    def add(self, other) -> "FunctionEventAvg":
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        return self

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time="
                f"{_format_time(self.self_cpu_time_total)} cpu_time="
                f"{_format_time(self.cpu_time)} input_shapes={self.input_shapes}>")


_TIME_UNITS = {"s": 1e6, "ms": 1e3, "us": 1.0}


def _format_time(time_us: float, unit=None) -> str:
    """Microseconds in the largest unit that keeps the number at least 1, or in ``unit``."""
    if unit is None:
        unit = "s" if time_us >= 1e6 else "ms" if time_us >= 1e3 else "us"
    elif unit not in _TIME_UNITS:
        raise ValueError(f"Invalid time_unit '{unit}'; expected one of {list(_TIME_UNITS)}")
    return f"{time_us / _TIME_UNITS[unit]:.3f}{unit}"


class EventList(list):
    """A list of events (or of their averages) that prints as PyTorch's table."""

    @property
    def self_cpu_time_total(self) -> float:
        return sum(event.self_cpu_time_total for event in self)

    def key_averages(self, group_by_input_shapes: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> "EventList":
        """One ``FunctionEventAvg`` per name (per name and input shapes), in order of first
        appearance."""
        averages = {}
        for event in self:
            key = (event.key, str(event.input_shapes)) if group_by_input_shapes else event.key
            if key not in averages:
                averages[key] = FunctionEventAvg(
                    event.key, event.input_shapes if group_by_input_shapes else None)
            averages[key].add(event)
        return EventList(averages.values())

    def total_average(self) -> FunctionEventAvg:
        """All events summed, as one entry named "Total"."""
        total = FunctionEventAvg("Total")
        for event in self:
            total.add(event)
        return total

    def table(self, sort_by=None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header=None,
              top_level_events_only: bool = False, time_unit=None) -> str:
        """The events as PyTorch prints them: name, self CPU time and share, total CPU time
        and share, average time per call, number of calls (and input shapes when recorded),
        sorted by the attribute ``sort_by`` (largest first), at most ``row_limit`` rows;
        times in ``time_unit`` ("s", "ms", "us") or each in its own."""
        events = list(self)
        if sort_by is not None:
            events.sort(key=lambda event: getattr(event, sort_by), reverse=True)
        if not events:
            return ""
        name_width = min(max(len(event.key) for event in events) + 4, max_name_column_width)
        with_shapes = any(event.input_shapes for event in events)
        shapes_width = min(max(len(str(event.input_shapes)) for event in events) + 4,
                           max_shapes_column_width)
        widths = [name_width] + [12] * 6 + ([shapes_width] if with_shapes else [])
        titles = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
                  "# of Calls"] + (["Input Shapes"] if with_shapes else [])
        line = "".join("-" * width + "  " for width in widths)
        total = self.self_cpu_time_total

        def row(cells) -> str:
            return "".join(f"{cell:>{width}}  " for cell, width in zip(cells, widths))

        def share(time_us: float) -> str:
            return f"{time_us / total * 100 if total else 0.0:.2f}%"

        rows = [line, *([header] if header else []), row(titles), line]
        for event in events[:row_limit] if row_limit and row_limit > 0 else events:
            name = event.key
            if len(name) > name_width:
                name = name[:name_width - 3] + "..."
            cells = [name, share(event.self_cpu_time_total),
                     _format_time(event.self_cpu_time_total, time_unit),
                     share(event.cpu_time_total), _format_time(event.cpu_time_total, time_unit),
                     _format_time(event.cpu_time, time_unit), str(event.count)]
            if with_shapes:
                cells.append(str(event.input_shapes)[:shapes_width])
            rows.append(row(cells))
        rows += [line, f"Self CPU time total: {_format_time(total, time_unit)}", ""]
        return "\n".join(rows)

    def export_chrome_trace(self, path: str) -> None:
        """Write the events in Chrome's trace format (open in chrome://tracing or Perfetto)."""
        import json  # here, not at the top: importing ember would pay for it on every run
        trace = [{"name": event.name, "ph": "X", "ts": event.start_us,
                  "dur": event.cpu_time_total, "pid": os.getpid(), "tid": event.thread,
                  "cat": "cpu_op", "args": {"Input Dims": event.input_shapes}}
                 for event in self if isinstance(event, FunctionEvent)]
        with open(path, "w") as f:
            json.dump({"traceEvents": trace}, f)


# --- recording ------------------------------------------------------------------------------

def _open(name: str, args=()) -> list:
    """Start timing ``name`` on this thread; the frame to give ``_close``."""
    stack = getattr(_stacks, "frames", None)
    if stack is None:
        stack = _stacks.frames = []
    shapes = None
    if any(p.record_shapes for p in _active):
        shapes = [list(a.shape) if isinstance(a, _tensor.Tensor) else [] for a in args]
    frame = [name, time.perf_counter_ns(), 0, shapes]  # name, start, children's ns, shapes
    stack.append(frame)
    return frame


def _close(frame: list) -> None:
    end = time.perf_counter_ns()
    stack = _stacks.frames
    stack.pop()
    name, start, children, shapes = frame
    if stack:
        stack[-1][2] += end - start
    thread = threading.get_ident()
    for profile_ in list(_active):
        profile_._add(name, thread, start, end, end - start - children, shapes)


def _timed_function_apply(cls, *args):
    frame = _open(cls.__name__, args)
    try:
        return _originals[Function, "apply"].__func__(cls, *args)
    finally:
        _close(frame)


def _timed_node_apply(self, *grad_outputs):
    frame = _open(self.name())
    try:
        return _originals[BackwardNode, "apply"](self, *grad_outputs)
    finally:
        _close(frame)


def _timed_accumulate(self, grad, owned: bool = False):
    frame = _open("torch::autograd::AccumulateGrad")
    try:
        return _originals[AccumulateGrad, "accumulate"](self, grad, owned)
    finally:
        _close(frame)


_TIMED = {(Function, "apply"): classmethod(_timed_function_apply),
          (BackwardNode, "apply"): _timed_node_apply,
          (AccumulateGrad, "accumulate"): _timed_accumulate}


def _start(profile_) -> None:
    with _lock:
        if not _active:
            for (owner, attribute), timed in _TIMED.items():
                _originals[owner, attribute] = owner.__dict__[attribute]
                setattr(owner, attribute, timed)
        _active.append(profile_)


def _stop(profile_) -> None:
    with _lock:
        _active.remove(profile_)
        if not _active:
            for (owner, attribute), original in _originals.items():
                setattr(owner, attribute, original)
            _originals.clear()


class record_function(contextlib.ContextDecorator):
    """Time a block of code (or, as a decorator, a function) under ``name`` in the running
    profiles; nothing when none is running.

    Example:
        >>> import ember
        >>> with ember.autograd.profiler.profile() as prof:
        ...     with ember.autograd.profiler.record_function("my_block"):
        ...         y = ember.ones(3) * 2
        >>> [e.key for e in prof.key_averages()]
        ['my_block', 'Mul']
    """

    def __init__(self, name: str, args=None) -> None:
        self.name = name
        self.args = args
        self._frame = None

    def __enter__(self) -> "record_function":
        if _active:
            self._frame = _open(self.name)
        return self

    def __exit__(self, *exc) -> None:
        if self._frame is not None:
            _close(self._frame)
            self._frame = None


class profile:
    """Record the CPU time of every op run inside the ``with`` block.

    Args:
        enabled: record (False makes the block run as without a profile).
        record_shapes: also record the shapes of each op's tensor arguments
            (``key_averages(group_by_input_shape=True)`` groups by them).
        use_cuda, use_device, with_flops, profile_memory, with_stack, with_modules, ...:
            accepted for PyTorch's signature; ember records CPU time only.

    Example:
        >>> import ember
        >>> with ember.autograd.profiler.profile() as prof:
        ...     y = ember.ones(3).exp()
        >>> print(prof.key_averages().table(sort_by="self_cpu_time_total"))  # doctest: +SKIP
    """

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device=None,
                 record_shapes: bool = False, with_flops: bool = False,
                 profile_memory: bool = False, with_stack: bool = False,
                 with_modules: bool = False, use_kineto: bool = False, use_cpu: bool = True,
                 experimental_config=None, acc_events: bool = False,
                 custom_trace_id_callback=None) -> None:
        self.enabled = enabled
        self.record_shapes = record_shapes
        self.entered = False
        self._events = []
        self._origin_ns = None
        self._function_events = None

    def _add(self, name, thread, start_ns, end_ns, self_ns, shapes) -> None:
        origin = self._origin_ns
        self._events.append(FunctionEvent(len(self._events) + 1, name, thread,
                                          (start_ns - origin) / 1e3, (end_ns - origin) / 1e3,
                                          self_ns / 1e3, shapes))

    def __enter__(self) -> "profile":
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._events, self._function_events = [], None
        self._origin_ns = time.perf_counter_ns()
        _start(self)
        return self

    def __exit__(self, *exc) -> None:
        if not self.enabled:
            return
        _stop(self)
        # An event is added when it ends, so inner ones come first: order them by start.
        self._function_events = EventList(sorted(self._events, key=lambda e: e.start_us))
        self.entered = False

    def _check_finished(self) -> None:
        if self._function_events is None:
            raise RuntimeError("Profiler didn't finish running")

    @property
    def function_events(self) -> EventList:
        self._check_finished()
        return self._function_events

    def key_averages(self, group_by_input_shape: bool = False,
                     group_by_stack_n: int = 0) -> EventList:
        """One entry per op name (per name and input shapes), summing its calls."""
        self._check_finished()
        return self._function_events.key_averages(group_by_input_shape, group_by_stack_n)

    def total_average(self) -> FunctionEventAvg:
        self._check_finished()
        return self._function_events.total_average()

    @property
    def self_cpu_time_total(self) -> float:
        self._check_finished()
        return self._function_events.self_cpu_time_total

    def table(self, sort_by=None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header=None,
              top_level_events_only: bool = False, time_unit=None) -> str:
        """The table of every event (not averaged); see ``EventList.table``."""
        self._check_finished()
        return self._function_events.table(sort_by, row_limit, max_src_column_width,
                                           max_name_column_width, max_shapes_column_width,
                                           header, top_level_events_only, time_unit)

    def export_chrome_trace(self, path: str) -> None:
        self._check_finished()
        self._function_events.export_chrome_trace(path)

    def __str__(self) -> str:
        return self.table() if self._function_events is not None else repr(self)

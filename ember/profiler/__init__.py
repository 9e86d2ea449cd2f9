"""``torch.profiler``: ``profile`` with activities, a ``schedule`` of steps to record and an
``on_trace_ready`` callback, over ember's op recorder (``ember.autograd.profiler``), which
times CPU work only.

Example:
    >>> import ember
    >>> from ember.profiler import ProfilerActivity, profile, record_function
    >>> with profile(activities=[ProfilerActivity.CPU]) as prof:
    ...     with record_function("model_inference"):
    ...         y = ember.ones(4).relu()
    >>> [e.key for e in prof.key_averages()]
    ['model_inference', 'Relu']
"""

import enum
import warnings

from ..autograd import profiler as _autograd_profiler
from ..autograd.profiler import record_function

__all__ = ["profile", "schedule", "supported_activities", "ProfilerAction", "ProfilerActivity",
           "record_function"]


class ProfilerActivity(enum.Enum):
    """What a profile records; ember records CPU time for either."""

    CPU = 0
    CUDA = 2


class ProfilerAction(enum.Enum):
    """What a profile does during one step of its schedule."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities() -> set:
    """The activities ember can record: CPU."""
    return {ProfilerActivity.CPU}


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0):
    """A function of the step number giving the ``ProfilerAction``: after ``skip_first``
    steps, cycles of ``wait`` idle steps, ``warmup`` steps and ``active`` recorded steps (the
    last one saves), ``repeat`` times (0: forever). ``skip_first_wait=1`` skips the first
    cycle's wait.

    Example:
        >>> from ember.profiler import schedule
        >>> [schedule(wait=1, warmup=1, active=2)(step).name for step in range(4)]
        ['NONE', 'WARMUP', 'RECORD', 'RECORD_AND_SAVE']
    """
    if not (wait >= 0 and warmup >= 0 and active > 0 and repeat >= 0 and skip_first >= 0):
        raise AssertionError("Invalid profiler schedule arguments")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)

    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        cycle = wait + warmup + active
        if repeat > 0 and step / cycle >= repeat:
            return ProfilerAction.NONE
        position = step % cycle
        if position < wait:
            return ProfilerAction.NONE
        if position < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if position < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


def _record_always(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


class profile:
    """Record op times over steps: in a ``with`` block (or between ``start()`` and
    ``stop()``), calling ``step()`` after each training step. With a ``schedule``, only the
    steps it marks RECORD are recorded, and ``on_trace_ready(prof)`` is called at the end of
    each recorded cycle (without one, at ``stop()``).

    Example:
        >>> import ember
        >>> from ember.profiler import profile, schedule
        >>> seen = []
        >>> with profile(schedule=schedule(wait=1, warmup=1, active=1),
        ...              on_trace_ready=lambda p: seen.append(len(p.events()))) as prof:
        ...     for _ in range(3):
        ...         y = ember.ones(2) * 2
        ...         prof.step()
        >>> seen
        [1]
    """

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_flops: bool = False, with_modules: bool = False,
                 experimental_config=None, execution_trace_observer=None,
                 acc_events: bool = False, use_cuda=None, custom_trace_id_callback=None) -> None:
        self.activities = set(activities) if activities else supported_activities()
        self.schedule = schedule if schedule is not None else _record_always
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.step_num = 0
        self.current_action = self.schedule(self.step_num)
        self.profiler = None  # the recording of the current (or last finished) cycle
        self._recording = False

    def _begin(self) -> None:
        self.profiler = _autograd_profiler.profile(record_shapes=self.record_shapes)
        self.profiler.__enter__()
        self._recording = True

    def _finish(self, save: bool) -> None:
        self.profiler.__exit__(None, None, None)
        self._recording = False
        if save and self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def start(self) -> None:
        """Begin profiling (at step 0 of the schedule)."""
        if self.current_action in _RECORDING:
            self._begin()

    def stop(self) -> None:
        """End profiling; a recording in progress is finished and handed to
        ``on_trace_ready``."""
        if self._recording:
            self._finish(save=True)

    def step(self) -> None:
        """Mark the end of a step: move along the schedule."""
        previous = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        if self._recording and (previous == ProfilerAction.RECORD_AND_SAVE
                                or self.current_action not in _RECORDING):
            self._finish(save=previous == ProfilerAction.RECORD_AND_SAVE)
        if self.current_action in _RECORDING and not self._recording:
            self._begin()

    def __enter__(self) -> "profile":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _finished(self):
        if self.profiler is None or self._recording:
            raise RuntimeError("Profiler didn't finish running")
        return self.profiler

    def events(self):
        """The events of the last finished recording."""
        return self._finished().function_events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0):
        """The last finished recording's events averaged per op (see ``EventList.table``)."""
        return self._finished().key_averages(group_by_input_shape, group_by_stack_n)

    def export_chrome_trace(self, path: str) -> None:
        self._finished().export_chrome_trace(path)

"""Whether operations record a graph: no_grad, enable_grad, set_grad_enabled.

The setting belongs to each thread, as in PyTorch: ``no_grad`` in one thread leaves another's
recording on, and a new thread starts with it on.
"""

import functools
import threading


class _GradModeState(threading.local):
    enabled = True  # each thread's own value once it sets one; until then this default


_GradMode = _GradModeState()


def is_grad_enabled() -> bool:
    """True when new operations are recorded for backward."""
    return _GradMode.enabled


class set_grad_enabled:
    """Turn graph recording on or off, as a call, a context manager or a decorator.

    Example:
        >>> import ember
        >>> x = ember.ones(2, requires_grad=True)
        >>> with ember.set_grad_enabled(False):
        ...     (x * 2).requires_grad
        False
    """

    def __init__(self, mode: bool) -> None:
        self.prev = _GradMode.enabled
        self.mode = bool(mode)
        _GradMode.enabled = self.mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        _GradMode.enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(self.mode):
                return fn(*args, **kwargs)
        _GradMode.enabled = self.prev
        return wrapper


class _ModeContext:
    """Base of no_grad and enable_grad: a context manager and a decorator.

    Both ``@no_grad()`` and ``@no_grad`` decorate a function, as in PyTorch.
    """

    mode = True

    def __new__(cls, function=None):
        if function is None:
            return super().__new__(cls)
        return cls()(function)

    def __init__(self, function=None) -> None:
        pass

    def __enter__(self) -> None:
        self.prev = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __exit__(self, *exc) -> None:
        _GradMode.enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_ModeContext):
    """Operations inside do not record a graph (inference, optimizer steps).

    Example:
        >>> import ember
        >>> x = ember.ones(2, requires_grad=True)
        >>> with ember.no_grad():
        ...     (x * 2).requires_grad
        False
    """

    mode = False


class enable_grad(_ModeContext):
    """Operations inside record a graph, even within ``no_grad``."""

    mode = True


class inference_mode(no_grad):
    """Same as ``no_grad`` in ember (there is no separate inference tensor kind)."""

    def __new__(cls, mode=True):
        if callable(mode):  # used bare, as @inference_mode
            return cls()(mode)
        return object.__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(not self.mode):
                return fn(*args, **kwargs)
        return wrapper

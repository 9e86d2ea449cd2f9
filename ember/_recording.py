"""The recorder of ``ember.compile`` while it captures a step, else None.

A module of its own, importing nothing of ember's, so that every layer can tell it what it does
(``Function.apply``, the backward engine, in-place writes, random draws, optimizers) with one
attribute read on its hot path and no import cycle. ``ember/compile.py`` sets and reads it.

An op whose forward or backward is one call of a compiled kernel (``ember/_C``) also reports
that call, ``recorder.kernel(kernel, args, fresh)`` (``fresh``: the positions of the output
arrays it just made), so that a replay calls the kernel alone. Report only where that call is
all the op computes: its results are those outputs (or views of them) or its inputs.
"""

import threading

recorder = None


def here() -> bool:
    """Whether the recorder, when there is one, captures this thread's work. A call that is
    replayed as one (``optimizer.step()``, ``zero_grad()``, ``train()``) asks, so that another
    thread's call just runs while a step is captured (handing it to the recorder would come
    back to the same call)."""
    return recorder.thread == threading.get_ident()

"""The recorder of ``ember.compile`` while it captures a step, else None.

A module of its own, importing nothing, so that every layer can tell it what it does
(``Function.apply``, the backward engine, in-place writes, random draws, optimizers) with one
attribute read on its hot path and no import cycle. ``ember/compile.py`` sets and reads it.
"""

recorder = None

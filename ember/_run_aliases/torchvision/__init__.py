"""``torchvision`` in a process that ``ember run``'s program started by spawning:
``ember.vision``."""

from ember import _run

_run.alias_in_place(__name__)

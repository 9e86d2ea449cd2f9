"""``python -m ember``: the same as the ``ember`` command."""

from .cli import run

run()

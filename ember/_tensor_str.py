"""PyTorch's printed form of a tensor: ``tensor([[ 0.1234, -1.0000]], grad_fn=<...>)``.

By default floats get 4 decimals, or scientific notation when the magnitudes span more than
1000x or go beyond 1e8 or under 1e-4; tensors whose values are all integers print as ``1.``. All
elements share one width; rows wrap at 80 columns; tensors of more than 1000 elements show only
their first and last 3 entries per dimension. ``set_printoptions`` changes these numbers, as
PyTorch's does.
"""

import contextlib
import dataclasses
import math
from typing import Any, Optional

import numpy as np

from . import _backend, _dtype


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: Optional[bool] = None  # None: chosen from the values shown


PRINT_OPTS = _PrintOptions()

# set_printoptions(profile=...): precision, threshold, edgeitems and linewidth.
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
             "full": (4, math.inf, 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Set how tensors print, as ``torch.set_printoptions``.

    Args:
        precision: digits after the decimal point (default 4).
        threshold: tensors with more elements than this print summarized (default 1000).
        edgeitems: entries shown at each end of each dimension when summarized (default 3).
        linewidth: columns per line (default 80).
        profile: ``"default"``, ``"short"`` (precision 2, edgeitems 2) or ``"full"`` (never
            summarize), applied before the other arguments.
        sci_mode: True or False forces scientific notation on or off; None (the default,
            and what every call without it restores) lets the values choose.

    Example:
        >>> import ember
        >>> ember.set_printoptions(precision=2)
        >>> ember.tensor([1.2345, 2.0])
        tensor([1.23, 2.00])
        >>> ember.set_printoptions(profile="default")
    """
    if profile is not None and profile in _PROFILES:
        (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
         PRINT_OPTS.linewidth) = _PROFILES[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current print options, as keyword arguments for ``set_printoptions`` (PyTorch
    has it in ``torch._tensor_str``, not at the top level)."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Print with ``set_printoptions(**kwargs)`` inside the ``with`` block only."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses one format and width for all the values shown."""

    def __init__(self, values: np.ndarray) -> None:
        self.kind = values.dtype.kind
        self.int_mode = True
        self.sci_mode = False
        if self.kind == "b":
            self.width = max((len(str(bool(v))) for v in values.flat), default=0)
            return
        if self.kind in "iu":
            self.width = max((len(str(int(v))) for v in values.flat), default=0)
            return
        # As in PyTorch, only the nonzero finite values choose the format and the width:
        # zeros, nan and inf are printed in it, padded but never widening it.
        values = values.astype(np.float64)
        finite = values[np.isfinite(values)]
        nonzero = finite[finite != 0]
        self.width = 1
        if nonzero.size == 0:
            return
        magnitudes = np.abs(nonzero)
        low, high = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(np.ceil(nonzero) == nonzero))
        self.precision = PRINT_OPTS.precision
        # PyTorch's test for scientific notation; its low < 1e-4 is never true in int mode.
        self.sci_mode = (high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4
                         if PRINT_OPTS.sci_mode is None else PRINT_OPTS.sci_mode)
        if self.sci_mode:
            self.width = max(len(f"{v:.{self.precision}e}") for v in nonzero)
        elif self.int_mode:
            self.width = max(len(f"{v:.0f}") for v in nonzero) + 1
        else:
            self.width = max(len(f"{v:.{self.precision}f}") for v in nonzero)

    def format(self, value) -> str:
        if self.kind == "b":
            text = str(bool(value))
        elif self.kind in "iu":
            text = str(int(value))
        elif not math.isfinite(value):
            text = str(float(value))
        elif self.sci_mode:
            text = f"{float(value):.{self.precision}e}"
        elif self.int_mode:
            text = f"{float(value):.0f}."
        else:
            text = f"{float(value):.{self.precision}f}"
        return " " * (self.width - len(text)) + text


def _summarized(values: np.ndarray) -> np.ndarray:
    """Only the edge entries of each dimension, for choosing the format of a large tensor."""
    if values.ndim == 0:
        return values
    edge = PRINT_OPTS.edgeitems
    if values.shape[0] > 2 * edge:
        values = np.concatenate([values[:edge], values[-edge:]])
    return np.stack([_summarized(v) for v in values]) if values.ndim > 1 else values


def _vector(values, indent: int, summarize: bool, formatter: _Formatter) -> str:
    element_length = formatter.width + 2
    per_line = max(1, (PRINT_OPTS.linewidth - indent) // element_length)
    edge = PRINT_OPTS.edgeitems
    if summarize and values.shape[0] > 2 * edge:
        items = ([formatter.format(v) for v in values[:edge]] + [" ..."]
                 + [formatter.format(v) for v in values[-edge:]])
    else:
        items = [formatter.format(v) for v in values]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _body(values, indent: int, summarize: bool, formatter: _Formatter) -> str:
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        return _vector(values, indent, summarize, formatter)
    edge = PRINT_OPTS.edgeitems
    if summarize and values.shape[0] > 2 * edge:
        rows = ([_body(v, indent + 1, summarize, formatter) for v in values[:edge]] + ["..."]
                + [_body(v, indent + 1, summarize, formatter) for v in values[-edge:]])
    else:
        rows = [_body(v, indent + 1, summarize, formatter) for v in values]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def tensor_repr(tensor) -> str:
    values = _backend.move(tensor._data, _backend.CPU)
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    summarize = values.size > PRINT_OPTS.threshold
    if values.size == 0:
        body = "[]"
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
    else:
        formatter = _Formatter(_summarized(values) if summarize else values)
        body = _body(values, indent, summarize, formatter)
    if tensor.device.type != "cpu":
        suffixes.append(f"device='{tensor.device}'")
    dtype = tensor.dtype
    # An empty tensor shows no values to tell int64 or bool from floats, so PyTorch names
    # every dtype but the default one.
    implied = (_dtype.get_default_dtype(),) if values.size == 0 else (
        _dtype.get_default_dtype(), _dtype.int64, _dtype.bool)
    if dtype not in implied:
        suffixes.append(f"dtype={dtype}")
    if tensor.grad_fn is not None:
        # PyTorch prints its built-in nodes without their C++ namespace: <CopySlices>.
        suffixes.append(f"grad_fn=<{tensor.grad_fn.name().rsplit('::', 1)[-1]}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)


def _with_suffixes(text: str, suffixes, indent: int) -> str:
    """Append ``, suffix`` items, starting a new line where one would pass the line width.

    The length of the last line is counted with 2 extra columns, as PyTorch counts it, so that
    suffixes break at the same place.
    """
    parts = [text]
    line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line_length += len(suffix) + 2
    return "".join(parts) + ")"

"""PyTorch's printed form of a tensor: ``tensor([[ 0.1234, -1.0000]], grad_fn=<...>)``.

Floats get 4 decimals, or scientific notation when the magnitudes span more than 1000x or
go beyond 1e8 or under 1e-4; tensors whose values are all integers print as ``1.``. All elements
share one width; rows wrap at 80 columns; tensors of more than 1000 elements show only their first
and last 3 entries per dimension.
"""

import math

import numpy as np

from . import _backend, _dtype

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80


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
        if self.int_mode:
            if high / low > 1000.0 or high > 1.0e8:
                self.sci_mode = True
            else:
                self.width = max(len(f"{v:.0f}") for v in nonzero) + 1
                return
        elif high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4:
            self.sci_mode = True
        else:
            self.width = max(len(f"{v:.{PRECISION}f}") for v in nonzero)
            return
        self.width = max(len(f"{v:.{PRECISION}e}") for v in nonzero)

    def format(self, value) -> str:
        if self.kind == "b":
            text = str(bool(value))
        elif self.kind in "iu":
            text = str(int(value))
        elif not math.isfinite(value):
            text = str(float(value))
        elif self.sci_mode:
            text = f"{float(value):.{PRECISION}e}"
        elif self.int_mode:
            text = f"{float(value):.0f}."
        else:
            text = f"{float(value):.{PRECISION}f}"
        return " " * (self.width - len(text)) + text


def _summarized(values: np.ndarray) -> np.ndarray:
    """Only the edge entries of each dimension, for choosing the format of a large tensor."""
    if values.ndim == 0:
        return values
    if values.shape[0] > 2 * EDGEITEMS:
        values = np.concatenate([values[:EDGEITEMS], values[-EDGEITEMS:]])
    return np.stack([_summarized(v) for v in values]) if values.ndim > 1 else values


def _vector(values, indent: int, summarize: bool, formatter: _Formatter) -> str:
    element_length = formatter.width + 2
    per_line = max(1, (LINEWIDTH - indent) // element_length)
    if summarize and values.shape[0] > 2 * EDGEITEMS:
        items = ([formatter.format(v) for v in values[:EDGEITEMS]] + [" ..."]
                 + [formatter.format(v) for v in values[-EDGEITEMS:]])
    else:
        items = [formatter.format(v) for v in values]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _body(values, indent: int, summarize: bool, formatter: _Formatter) -> str:
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        return _vector(values, indent, summarize, formatter)
    if summarize and values.shape[0] > 2 * EDGEITEMS:
        rows = ([_body(v, indent + 1, summarize, formatter) for v in values[:EDGEITEMS]] + ["..."]
                + [_body(v, indent + 1, summarize, formatter) for v in values[-EDGEITEMS:]])
    else:
        rows = [_body(v, indent + 1, summarize, formatter) for v in values]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def tensor_repr(tensor) -> str:
    values = _backend.move(tensor._data, _backend.CPU)
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    summarize = values.size > THRESHOLD
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
        if line_length + len(suffix) + 2 > LINEWIDTH:
            parts.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line_length += len(suffix) + 2
    return "".join(parts) + ")"

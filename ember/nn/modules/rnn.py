"""Recurrent layers: RNN, LSTM, GRU over whole sequences, and their one-step cells.

A multi-layer, possibly bidirectional layer runs one Function per layer and direction
(``ember.ops.rnn``), each over the whole sequence; the directions' outputs are concatenated
along the features, with dropout between layers while training. The cells run one step:
one Function for both products and the gate arithmetic (``ember.ops.rnn.LstmCell``,
``GruCell``).
"""

import math
import numbers
import warnings

from ...ops import rnn as ops
from ...ops import shape
from ...ops.creation import empty, zeros
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """What RNN, LSTM and GRU share: parameters per layer and direction, initialisation,
    argument checks, and the loop over layers (``mode``: "LSTM", "GRU", "RNN_TANH" or
    "RNN_RELU").

    Parameters are named as in PyTorch, ``weight_ih_l{k}``, ``weight_hh_l{k}``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` (and ``weight_hr_l{k}`` with ``proj_size``), with
    ``_reverse`` appended for the backward direction, so a PyTorch ``state_dict`` loads as it
    is. All start uniform on [-1/sqrt(hidden_size), 1/sqrt(hidden_size)].
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
            raise TypeError(f"hidden_size should be of type int, got: "
                            f"{type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        output_size = proj_size or hidden_size
        directions = 2 if bidirectional else 1
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else output_size * directions
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, output_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for prefix, size in shapes:
                    self.register_parameter(prefix + suffix,
                                            Parameter(empty(*size, device=device,
                                                            dtype=dtype)))
                    names.append(prefix + suffix)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: every parameter uniform on ±1/sqrt(hidden_size)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """Kept for PyTorch programs (cuDNN wants one weight buffer); ember needs none."""

    @property
    def all_weights(self) -> list:
        """The parameters, one list per layer and direction."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text

    def _state_shapes(self, batch: int) -> list:
        """The expected shapes of the initial states: h (and c for an LSTM)."""
        layers = self.num_layers * (2 if self.bidirectional else 1)
        shapes = [(layers, batch, self.proj_size or self.hidden_size)]
        if self.mode == "LSTM":
            shapes.append((layers, batch, self.hidden_size))
        return shapes

    def forward(self, input, hx=None):
        """Run the layers over ``input``: (seq, batch, input_size) ((batch, seq, input_size)
        with ``batch_first``), an unbatched (seq, input_size), or a ``PackedSequence``.

        ``hx`` is the initial state, (num_layers * directions, batch, hidden) (a pair (h0, c0)
        for an LSTM); zeros when None. Returns the output of the last layer at every step
        and the final states of every layer (a pair for an LSTM).
        """
        name = "LSTM" if self.mode == "LSTM" else ("GRU" if self.mode == "GRU" else "RNN")
        packed = isinstance(input, PackedSequence)
        unbatched = False
        if packed:
            data, batch_sizes = input.data, tuple(int(b) for b in input.batch_sizes.tolist())
            batch = batch_sizes[0]
        else:
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D "
                                 "instead")
            unbatched = input.ndim == 2
            if unbatched:
                input = input.unsqueeze(1)
            elif self.batch_first:
                input = shape.transpose(input, 0, 1)
            data, batch_sizes, batch = input, None, input.shape[1]
            if data.shape[0] == 0:
                raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {data.shape[-1]}")
        states = self._initial_states(hx, batch, data, unbatched, input if packed else None)
        output, finals = self._run(data, states, batch_sizes)
        if packed:
            output = PackedSequence(output, input.batch_sizes, input.sorted_indices,
                                    input.unsorted_indices)
            if input.unsorted_indices is not None:
                finals = [f.index_select(1, input.unsorted_indices) for f in finals]
        elif unbatched:
            output = output.squeeze(1)
            finals = [f.squeeze(1) for f in finals]
        elif self.batch_first:
            output = shape.transpose(output, 0, 1)
        return output, (tuple(finals) if self.mode == "LSTM" else finals[0])

    def _initial_states(self, hx, batch: int, data, unbatched: bool, packed) -> list:
        """The initial states as a list (h, or h and c) of (layers, batch, size) tensors,
        checked against the expected shapes; zeros when ``hx`` is None."""
        expected = self._state_shapes(batch)
        if hx is None:
            return [zeros(*size, dtype=data.dtype, device=data.device) for size in expected]
        states = list(hx) if self.mode == "LSTM" else [hx]
        if unbatched:
            for state in states:
                if state.ndim != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but "
                                       f"got {state.ndim}-D tensor")
            states = [state.unsqueeze(1) for state in states]
        elif any(state.ndim != 3 for state in states):
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got "
                               f"{states[0].ndim}-D tensor")
        for index, (state, size) in enumerate(zip(states, expected)):
            if tuple(state.shape) != size:
                which = f"hidden[{index}]" if self.mode == "LSTM" else "hidden"
                raise RuntimeError(f"Expected {which} size {size}, got {list(state.shape)}")
        if packed and packed.sorted_indices is not None:
            states = [state.index_select(1, packed.sorted_indices) for state in states]
        return states

    def _run(self, data, states, batch_sizes):
        """Every layer and direction over ``data``; returns the last layer's output and the
        final states stacked as (layers * directions, batch, size)."""
        directions = 2 if self.bidirectional else 1
        per_layer = [state.unbind(0) for state in states]
        finals = [[] for _ in states]
        all_weights = self.all_weights
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                data = F.dropout(data, self.dropout, True)
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                weights = all_weights[index]
                if not self.bias:
                    weights = weights[:2] + [None, None] + weights[2:]
                initial = [states_of_layer[index] for states_of_layer in per_layer]
                result = self._layer(data, weights, initial, batch_sizes, direction == 1)
                outputs.append(result[0])
                for kind, final in enumerate(result[1:]):
                    finals[kind].append(final)
            data = outputs[0] if directions == 1 else shape.cat(outputs, -1)
        return data, [shape.stack(kind) for kind in finals]

    def _layer(self, data, weights, initial, batch_sizes, reverse: bool) -> tuple:
        weight_ih, weight_hh, bias_ih, bias_hh = weights[:4]
        if self.mode == "LSTM":
            weight_hr = weights[4] if self.proj_size else None
            return ops.LSTMLayer.apply(data, weight_ih, weight_hh, bias_ih, bias_hh, *initial,
                                       weight_hr, batch_sizes, reverse)
        if self.mode == "GRU":
            return ops.GRULayer.apply(data, weight_ih, weight_hh, bias_ih, bias_hh, *initial,
                                      batch_sizes, reverse)
        nonlinearity = "tanh" if self.mode == "RNN_TANH" else "relu"
        return ops.RNNLayer.apply(data, weight_ih, weight_hh, bias_ih, bias_hh, *initial,
                                  nonlinearity, batch_sizes, reverse)


class RNN(RNNBase):
    """An Elman RNN: ``h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)`` (or relu).

    Args:
        input_size, hidden_size: the features of the input and of the hidden state.
        num_layers: stacked layers, each reading the previous one's output.
        nonlinearity: "tanh" or "relu".
        bias: whether to learn ``b_ih`` and ``b_hh``.
        batch_first: input and output are (batch, seq, feature) instead of (seq, batch, ...).
        dropout: dropout on the output of every layer but the last, while training.
        bidirectional: run a second layer over the reversed sequence; outputs concatenate.
        device, dtype: where and of what type to create the parameters.

    Example:
        >>> import ember
        >>> rnn = ember.nn.RNN(10, 20, num_layers=2)
        >>> rnn
        RNN(10, 20, num_layers=2)
        >>> output, h_n = rnn(ember.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        (ember.Size([5, 3, 20]), ember.Size([2, 3, 20]))
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:  # RNN(input_size, hidden_size, num_layers, nonlinearity, ...)
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = nonlinearity  # (PyTorch's print form leaves it out)


class LSTM(RNNBase):
    """A long short-term memory layer, gates in PyTorch's order ``i, f, g, o``:
    ``c_t = f * c_(t-1) + i * g``, ``h_t = o * tanh(c_t)`` (times ``W_hr`` with
    ``proj_size``).

    Args: as ``RNN`` (without ``nonlinearity``), and ``proj_size``: when > 0, the hidden
    state is projected to this size.

    Returns ``(output, (h_n, c_n))``.

    Example:
        >>> import ember
        >>> lstm = ember.nn.LSTM(10, 20, batch_first=True)
        >>> output, (h_n, c_n) = lstm(ember.randn(3, 5, 10))
        >>> output.shape, h_n.shape, c_n.shape
        (ember.Size([3, 5, 20]), ember.Size([1, 3, 20]), ember.Size([1, 3, 20]))
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """A gated recurrent unit layer, gates in PyTorch's order ``r, z, n``:
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h_t = (1 - z) * n + z * h_(t-1)``.

    Args: as ``RNN`` (without ``nonlinearity``).

    Example:
        >>> import ember
        >>> gru = ember.nn.GRU(10, 20, bidirectional=True)
        >>> output, h_n = gru(ember.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        (ember.Size([5, 3, 40]), ember.Size([2, 3, 20]))
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class RNNCellBase(Module):
    """What the cells share: ``weight_ih`` (chunks * hidden, input), ``weight_hh``
    (chunks * hidden, hidden), the biases, PyTorch's uniform initialisation and the checks of
    the input and state."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, device=device,
                                         dtype=dtype))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, device=device,
                                         dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: every parameter uniform on ±1/sqrt(hidden_size)."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            text += f", nonlinearity={nonlinearity}"
        return text

    def _batched(self, input, states: list) -> "tuple[object, list, bool]":
        """``input`` and the states as 2-D batches (one row for 1-D input), with PyTorch's
        errors for wrong dimensions and sizes; and whether the input was unbatched."""
        if input.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got "
                             f"{input.ndim}D instead")
        if states[0] is not None and any(state.ndim != input.ndim for state in states):
            raise RuntimeError(f"{type(self).__name__}: Expected hidden to be 1D or 2D, got "
                               f"{states[0].ndim}D instead")
        unbatched = input.ndim == 1
        if unbatched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} "
                               f"expected {self.input_size}")
        if states[0] is None:
            states = [zeros(input.shape[0], self.hidden_size, dtype=input.dtype,
                            device=input.device) for _ in states]
        elif unbatched:
            states = [state.unsqueeze(0) for state in states]
        for index, state in enumerate(states):
            if state.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match "
                                   f"hidden{index} batch size {state.shape[0]}")
            if state.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{index} has inconsistent hidden_size: got "
                                   f"{state.shape[1]}, expected {self.hidden_size}")
        return input, states, unbatched


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or relu).

    Example:
        >>> import ember
        >>> cell = ember.nn.RNNCell(10, 20, nonlinearity="relu")
        >>> cell
        RNNCell(10, 20, nonlinearity=relu)
        >>> cell(ember.randn(3, 10)).shape
        ember.Size([3, 20])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (hx,), unbatched = self._batched(input, [hx])
        pre = F.linear(input, self.weight_ih, self.bias_ih) + F.linear(hx, self.weight_hh,
                                                                        self.bias_hh)
        if self.nonlinearity == "tanh":
            hy = F.tanh(pre)
        elif self.nonlinearity == "relu":
            hy = F.relu(pre)
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return hy.squeeze(0) if unbatched else hy


class LSTMCell(RNNCellBase):
    """One LSTM step (gates ``i, f, g, o``); returns ``(h', c')``.

    Example:
        >>> import ember
        >>> cell = ember.nn.LSTMCell(10, 20)
        >>> h, c = cell(ember.randn(3, 10))
        >>> h.shape, c.shape
        (ember.Size([3, 20]), ember.Size([3, 20]))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        input, (h, c), unbatched = self._batched(input, list(hx) if hx is not None
                                                  else [None, None])
        hy, cy = ops.lstm_cell(input, (h, c), self.weight_ih, self.weight_hh, self.bias_ih,
                               self.bias_hh)
        return (hy.squeeze(0), cy.squeeze(0)) if unbatched else (hy, cy)


class GRUCell(RNNCellBase):
    """One GRU step (gates ``r, z, n``); returns ``h'``.

    Example:
        >>> import ember
        >>> cell = ember.nn.GRUCell(10, 20)
        >>> cell(ember.randn(3, 10)).shape
        ember.Size([3, 20])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        input, (h,), unbatched = self._batched(input, [hx])
        hy = ops.gru_cell(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return hy.squeeze(0) if unbatched else hy

"""Recurrent layers as whole-sequence Functions, and the fused LSTM and GRU cells.

A recurrent layer is overhead-bound: each time step is a small matrix product and a dozen
elementwise operations on (batch, hidden) arrays. Recorded op by op, a 50-step LSTM makes
~750 graph nodes per layer. Here one Function runs one layer in one direction over the whole
sequence, as PyTorch's CPU LSTM does (its node is ``MkldnnRnnLayerBackward0``):

- forward projects the inputs of all time steps at once (one ``x @ W_ihᵀ + b``), then each
  step does one product with ``W_hh`` and the gate arithmetic in place in preallocated
  buffers, keeping what backward needs;
- backward walks the steps in reverse with the same few array operations, and computes the
  weight gradients at the end with one product each over all steps.

Sequences are "packed" (``nn.utils.rnn.PackedSequence``): the rows of all time steps stacked,
``batch_sizes[t]`` rows at step ``t``, longest sequences first. A padded (seq, batch, feature)
input is the special case where every step has the whole batch. At step ``t`` only the first
``batch_sizes[t]`` rows of the hidden state advance; the others keep their value, which is
the final state of a sequence that has ended (forward) or the initial state of one that has
not started (reverse).

Gate order is PyTorch's: LSTM ``i, f, g, o``; GRU ``r, z, n`` with
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``. Sigmoid is computed as
``0.5 * tanh(x / 2) + 0.5`` so that all gates go through one ``tanh`` call: the gate
pre-activations are scaled by ``[1/2, 1/2, 1, 1/2]``, and the same vector rescales the result.
"""

from .._backend import array_module
from ..autograd.function import Function


def _steps(input, batch_sizes, reverse: bool) -> tuple:
    """The rows of ``input`` as a 2-D array, and the (first row, row count) of each time step
    in the order the layer visits them."""
    if batch_sizes is None:  # padded: (seq, batch, feature)
        length, batch = input.shape[0], input.shape[1]
        sizes = (batch,) * length
    else:  # packed: (rows, feature)
        sizes = batch_sizes
    rows = input.reshape(-1, input.shape[-1])
    steps, start = [], 0
    for size in sizes:
        steps.append((start, size))
        start += size
    return rows, (steps[::-1] if reverse else steps)


def _project(rows, weight_ih, *biases):
    """``rows @ weight_ihᵀ`` plus the biases that are not None: all time steps at once."""
    projected = rows @ weight_ih.T
    for bias in biases:
        if bias is not None:
            projected += bias
    return projected


def _gate_scale(xp, hidden: int, chunks: int, tanh_chunk: "int | None", dtype):
    """The per-column factor that makes sigmoid gates ``0.5 * tanh(x / 2) + 0.5``: 1/2 on
    sigmoid gates and 1 on the ``tanh`` one (chunk ``tanh_chunk``, if any); and the offset
    (1/2 on sigmoid gates)."""
    scale = xp.full(chunks * hidden, 0.5, dtype)
    offset = xp.full(chunks * hidden, 0.5, dtype)
    if tanh_chunk is not None:
        scale[tanh_chunk * hidden:(tanh_chunk + 1) * hidden] = 1
        offset[tanh_chunk * hidden:(tanh_chunk + 1) * hidden] = 0
    return scale, offset


def _activate(xp, pre, scale, offset, tanh_out, out):
    """Sigmoid or tanh per column of ``pre``: ``tanh_out`` gets ``tanh(pre * scale)`` (which
    backward reads), ``out`` the activations."""
    xp.multiply(pre, scale, out=tanh_out)
    xp.tanh(tanh_out, out=tanh_out)
    xp.multiply(tanh_out, scale, out=out)
    out += offset


def _activation_derivative(xp, tanh_values, scale):
    """d activation / d pre-activation from the saved ``tanh(pre * scale)``:
    ``scale² (1 - t²)``, which is ``s (1 - s)`` for a sigmoid and ``1 - t²`` for tanh."""
    derivative = tanh_values * tanh_values
    xp.subtract(1, derivative, out=derivative)
    derivative *= scale * scale
    return derivative


# ---- LSTM -----------------------------------------------------------------------------------

def _lstm_forward_step(xp, pre, c_prev, scale, offset, tanh_gates, gates, c_out, tanh_c):
    """One LSTM step from the gate pre-activations ``pre`` (batch, 4H): writes the gates, the
    new cell state and its tanh into the given buffers; returns ``o * tanh(c)``."""
    hidden = c_prev.shape[1]
    _activate(xp, pre, scale, offset, tanh_gates, gates)
    i, f = gates[:, :hidden], gates[:, hidden:2 * hidden]
    g, o = gates[:, 2 * hidden:3 * hidden], gates[:, 3 * hidden:]
    xp.multiply(f, c_prev, out=c_out)
    c_out += i * g
    xp.tanh(c_out, out=tanh_c)
    return o * tanh_c


def _lstm_backward_step(xp, grad_m, grad_c, gates, tanh_gates, c_prev, tanh_c, scale,
                        grad_pre) -> None:
    """Backward of one LSTM step: from the gradient of ``o * tanh(c)`` (``grad_m``) and of the
    new cell state (``grad_c``, updated in place to the previous cell state's), writes the
    gradient of the gate pre-activations into ``grad_pre``."""
    hidden = c_prev.shape[1]
    i, f = gates[:, :hidden], gates[:, hidden:2 * hidden]
    g, o = gates[:, 2 * hidden:3 * hidden], gates[:, 3 * hidden:]
    xp.multiply(grad_m, tanh_c, out=grad_pre[:, 3 * hidden:])
    grad_c += grad_m * o * (1 - tanh_c * tanh_c)
    xp.multiply(grad_c, g, out=grad_pre[:, :hidden])
    xp.multiply(grad_c, c_prev, out=grad_pre[:, hidden:2 * hidden])
    xp.multiply(grad_c, i, out=grad_pre[:, 2 * hidden:3 * hidden])
    grad_c *= f
    grad_pre *= _activation_derivative(xp, tanh_gates, scale)


class LSTMLayer(Function):
    """One LSTM layer in one direction over a whole (padded or packed) sequence.

    Inputs as PyTorch's layer op has them: ``input, weight_ih, weight_hh, bias_ih, bias_hh,
    hx, cx``, then ``weight_hr`` (the projection of ``proj_size``, or None), ``batch_sizes``
    (None for padded input) and ``reverse``. Outputs: every step's hidden state, and the final
    hidden and cell states.
    """

    node_name = "MkldnnRnnLayerBackward0"  # PyTorch's CPU LSTM records one node per layer

    @staticmethod
    def forward(ctx, input, weight_ih, weight_hh, bias_ih, bias_hh, hx, cx, weight_hr,
                batch_sizes, reverse):
        xp = array_module(input)
        rows, steps = _steps(input, batch_sizes, reverse)
        count, hidden = rows.shape[0], cx.shape[1]
        pre_all = _project(rows, weight_ih, bias_ih, bias_hh)
        scale, offset = _gate_scale(xp, hidden, 4, 2, pre_all.dtype)
        h, c = hx.copy(), cx.copy()
        output = xp.empty((count, h.shape[1]), pre_all.dtype)
        h_prev, c_prev = xp.empty_like(output), xp.empty((count, hidden), pre_all.dtype)
        gates, tanh_gates = xp.empty_like(pre_all), xp.empty_like(pre_all)
        tanh_c = xp.empty_like(c_prev)
        cells = xp.empty_like(c_prev) if weight_hr is not None else None
        weight_hh_t = weight_hh.T
        for start, size in steps:
            step = slice(start, start + size)
            pre = pre_all[step]
            pre += h[:size] @ weight_hh_t
            h_prev[step], c_prev[step] = h[:size], c[:size]
            m = _lstm_forward_step(xp, pre, c_prev[step], scale, offset, tanh_gates[step],
                                   gates[step], c[:size], tanh_c[step])
            if weight_hr is not None:
                cells[step] = m
                m = m @ weight_hr.T
            output[step] = m
            h[:size] = m
        ctx.steps, ctx.scale = steps, scale
        ctx.save_for_backward(input, weight_ih, weight_hh, weight_hr, h_prev, c_prev, gates,
                              tanh_gates, tanh_c, cells)
        return output.reshape(input.shape[:-1] + (h.shape[1],)), h, c

    @staticmethod
    def backward(ctx, grad_output, grad_hn, grad_cn):
        (input, weight_ih, weight_hh, weight_hr, h_prev, c_prev, gates, tanh_gates, tanh_c,
         cells) = ctx.saved_tensors
        xp = array_module(grad_output)
        grad_output = grad_output.reshape(h_prev.shape)
        grad_h, grad_c = grad_hn.copy(), grad_cn.copy()
        grad_pre = xp.empty_like(gates)
        grad_h_all = xp.empty_like(h_prev) if weight_hr is not None else None
        for start, size in reversed(ctx.steps):
            step = slice(start, start + size)
            grad_m = grad_h[:size]
            grad_m += grad_output[step]
            if weight_hr is not None:
                grad_h_all[step] = grad_m
                grad_m = grad_m @ weight_hr
            _lstm_backward_step(xp, grad_m, grad_c[:size], gates[step], tanh_gates[step],
                                c_prev[step], tanh_c[step], ctx.scale, grad_pre[step])
            grad_h[:size] = grad_pre[step] @ weight_hh
        grad_weight_hr = (grad_h_all.T @ cells if weight_hr is not None
                          and ctx.needs_input_grad[7] else None)
        return (*_input_side_grads(ctx, grad_pre, input, weight_ih, h_prev, grad_pre),
                grad_h, grad_c, grad_weight_hr, None, None)


def _input_side_grads(ctx, grad_pre_x, input, weight_ih, h_prev, grad_pre_h) -> tuple:
    """Gradients of ``input, weight_ih, weight_hh, bias_ih, bias_hh`` from those of the input
    projections (``grad_pre_x``, all steps) and of the hidden ones (``grad_pre_h``)."""
    needs = ctx.needs_input_grad
    rows = input.reshape(-1, input.shape[-1])
    return (
        (grad_pre_x @ weight_ih).reshape(input.shape) if needs[0] else None,
        grad_pre_x.T @ rows if needs[1] else None,
        grad_pre_h.T @ h_prev if needs[2] else None,
        grad_pre_x.sum(0) if needs[3] else None,
        grad_pre_h.sum(0) if needs[4] else None,
    )


# ---- GRU ------------------------------------------------------------------------------------

def _gru_forward_step(xp, pre_x, pre_h, h_prev, scale, offset, tanh_rz, rz, n):
    """One GRU step from the input and hidden projections (batch, 3H), biases included:
    writes ``r, z`` (and their tanh form) and ``n``; returns the new hidden state."""
    hidden = h_prev.shape[1]
    _activate(xp, pre_x[:, :2 * hidden] + pre_h[:, :2 * hidden], scale, offset, tanh_rz, rz)
    r, z = rz[:, :hidden], rz[:, hidden:]
    xp.multiply(r, pre_h[:, 2 * hidden:], out=n)
    n += pre_x[:, 2 * hidden:]
    xp.tanh(n, out=n)
    return n + z * (h_prev - n)


def _gru_backward_step(xp, grad_h, h_prev, rz, tanh_rz, n, pre_h_n, scale, grad_pre_x,
                       grad_pre_h):
    """Backward of one GRU step: writes the gradients of both projections and returns the
    part of the previous hidden state's gradient that bypasses ``W_hh`` (``grad_h * z``)."""
    hidden = h_prev.shape[1]
    r, z = rz[:, :hidden], rz[:, hidden:]
    grad_n = grad_pre_x[:, 2 * hidden:]
    xp.multiply(grad_h, 1 - z, out=grad_n)
    grad_n *= 1 - n * n
    grad_rz = grad_pre_x[:, :2 * hidden]
    xp.multiply(grad_n, pre_h_n, out=grad_rz[:, :hidden])
    xp.multiply(grad_h, h_prev - n, out=grad_rz[:, hidden:])
    grad_rz *= _activation_derivative(xp, tanh_rz, scale)
    grad_pre_h[:, :2 * hidden] = grad_rz
    xp.multiply(grad_n, r, out=grad_pre_h[:, 2 * hidden:])
    return grad_h * z


class GRULayer(Function):
    """One GRU layer in one direction over a whole (padded or packed) sequence.

    Inputs: ``input, weight_ih, weight_hh, bias_ih, bias_hh, hx, batch_sizes, reverse``.
    Outputs: every step's hidden state, and the final hidden state.
    """

    @staticmethod
    def forward(ctx, input, weight_ih, weight_hh, bias_ih, bias_hh, hx, batch_sizes, reverse):
        xp = array_module(input)
        rows, steps = _steps(input, batch_sizes, reverse)
        count, hidden = rows.shape[0], weight_hh.shape[1]
        pre_x = _project(rows, weight_ih, bias_ih)
        scale, offset = _gate_scale(xp, hidden, 2, None, pre_x.dtype)
        h = hx.copy()
        output, h_prev = xp.empty((count, hidden), pre_x.dtype), xp.empty((count, hidden),
                                                                          pre_x.dtype)
        rz, tanh_rz = xp.empty((count, 2 * hidden), pre_x.dtype), xp.empty((count, 2 * hidden),
                                                                          pre_x.dtype)
        n, pre_h_n = xp.empty_like(output), xp.empty_like(output)
        weight_hh_t = weight_hh.T
        for start, size in steps:
            step = slice(start, start + size)
            pre_h = h[:size] @ weight_hh_t
            if bias_hh is not None:
                pre_h += bias_hh
            h_prev[step], pre_h_n[step] = h[:size], pre_h[:, 2 * hidden:]
            h[:size] = output[step] = _gru_forward_step(
                xp, pre_x[step], pre_h, h[:size], scale, offset, tanh_rz[step], rz[step],
                n[step])
        ctx.steps, ctx.scale = steps, scale
        ctx.save_for_backward(input, weight_ih, weight_hh, h_prev, rz, tanh_rz, n, pre_h_n)
        return output.reshape(input.shape[:-1] + (hidden,)), h

    @staticmethod
    def backward(ctx, grad_output, grad_hn):
        input, weight_ih, weight_hh, h_prev, rz, tanh_rz, n, pre_h_n = ctx.saved_tensors
        xp = array_module(grad_output)
        grad_output = grad_output.reshape(h_prev.shape)
        grad_h = grad_hn.copy()
        grad_pre_x = xp.empty_like(tanh_rz, shape=(h_prev.shape[0], 3 * h_prev.shape[1]))
        grad_pre_h = xp.empty_like(grad_pre_x)
        for start, size in reversed(ctx.steps):
            step = slice(start, start + size)
            grad = grad_h[:size]
            grad += grad_output[step]
            bypass = _gru_backward_step(xp, grad, h_prev[step], rz[step], tanh_rz[step],
                                        n[step], pre_h_n[step], ctx.scale, grad_pre_x[step],
                                        grad_pre_h[step])
            bypass += grad_pre_h[step] @ weight_hh
            grad_h[:size] = bypass
        return (*_input_side_grads(ctx, grad_pre_x, input, weight_ih, h_prev, grad_pre_h),
                grad_h, None, None)


# ---- Elman RNN (tanh or relu) -----------------------------------------------------------------

class RNNLayer(Function):
    """One Elman RNN layer (``h' = tanh or relu(W_ih x + b_ih + W_hh h + b_hh)``) in one
    direction over a whole (padded or packed) sequence.

    Inputs: ``input, weight_ih, weight_hh, bias_ih, bias_hh, hx, nonlinearity, batch_sizes,
    reverse``. Outputs: every step's hidden state, and the final hidden state.
    """

    @staticmethod
    def forward(ctx, input, weight_ih, weight_hh, bias_ih, bias_hh, hx, nonlinearity,
                batch_sizes, reverse):
        xp = array_module(input)
        rows, steps = _steps(input, batch_sizes, reverse)
        output = _project(rows, weight_ih, bias_ih, bias_hh)
        h = hx.copy()
        h_prev = xp.empty_like(output)
        weight_hh_t = weight_hh.T
        for start, size in steps:
            step = slice(start, start + size)
            h_prev[step] = h[:size]
            out = output[step]
            out += h[:size] @ weight_hh_t
            if nonlinearity == "tanh":
                xp.tanh(out, out=out)
            else:
                xp.maximum(out, 0, out=out)
            h[:size] = out
        ctx.steps, ctx.nonlinearity = steps, nonlinearity
        ctx.save_for_backward(input, weight_ih, weight_hh, h_prev, output)
        return output.reshape(input.shape[:-1] + (h.shape[1],)), h

    @staticmethod
    def backward(ctx, grad_output, grad_hn):
        input, weight_ih, weight_hh, h_prev, output = ctx.saved_tensors
        xp = array_module(grad_output)
        grad_output = grad_output.reshape(output.shape)
        grad_h = grad_hn.copy()
        grad_pre = xp.empty_like(output)
        for start, size in reversed(ctx.steps):
            step = slice(start, start + size)
            grad = grad_h[:size]
            grad += grad_output[step]
            out = output[step]
            if ctx.nonlinearity == "tanh":
                xp.multiply(grad, 1 - out * out, out=grad_pre[step])
            else:
                xp.multiply(grad, out > 0, out=grad_pre[step])
            grad_h[:size] = grad_pre[step] @ weight_hh
        return (*_input_side_grads(ctx, grad_pre, input, weight_ih, h_prev, grad_pre),
                grad_h, None, None, None)


# ---- fused cells (nn.LSTMCell, nn.GRUCell) -----------------------------------------------------

class ThnnFusedLstmCell(Function):
    """The elementwise part of an LSTM cell in one node (PyTorch's ``_thnn_fused_lstm_cell``):
    from ``x @ W_ihᵀ``, ``h @ W_hhᵀ``, the cell state and the two biases (or None), the new
    hidden and cell states."""

    @staticmethod
    def forward(ctx, input_gates, hidden_gates, cx, input_bias, hidden_bias):
        xp = array_module(input_gates)
        pre = _project_cell(input_gates, hidden_gates, input_bias, hidden_bias)
        scale, offset = _gate_scale(xp, cx.shape[1], 4, 2, pre.dtype)
        gates, tanh_gates = xp.empty_like(pre), xp.empty_like(pre)
        cy, tanh_c = xp.empty_like(pre, shape=cx.shape), xp.empty_like(pre, shape=cx.shape)
        hy = _lstm_forward_step(xp, pre, cx, scale, offset, tanh_gates, gates, cy, tanh_c)
        ctx.scale = scale
        ctx.save_for_backward(cx, gates, tanh_gates, tanh_c)
        return hy, cy

    @staticmethod
    def backward(ctx, grad_hy, grad_cy):
        cx, gates, tanh_gates, tanh_c = ctx.saved_tensors
        xp = array_module(grad_hy)
        grad_c = grad_cy.copy()
        grad_pre = xp.empty_like(gates)
        _lstm_backward_step(xp, grad_hy, grad_c, gates, tanh_gates, cx, tanh_c, ctx.scale,
                            grad_pre)
        return _cell_grads(ctx, grad_pre, grad_pre, grad_c)


class ThnnFusedGruCell(Function):
    """The elementwise part of a GRU cell in one node (PyTorch's ``_thnn_fused_gru_cell``):
    from ``x @ W_ihᵀ``, ``h @ W_hhᵀ``, the hidden state and the two biases (or None), the new
    hidden state."""

    @staticmethod
    def forward(ctx, input_gates, hidden_gates, hx, input_bias, hidden_bias):
        xp = array_module(input_gates)
        pre_x = input_gates if input_bias is None else input_gates + input_bias
        pre_h = hidden_gates if hidden_bias is None else hidden_gates + hidden_bias
        hidden = hx.shape[1]
        scale, offset = _gate_scale(xp, hidden, 2, None, pre_x.dtype)
        rz = xp.empty_like(pre_x, shape=(hx.shape[0], 2 * hidden))
        tanh_rz, n = xp.empty_like(rz), xp.empty_like(pre_x, shape=hx.shape)
        hy = _gru_forward_step(xp, pre_x, pre_h, hx, scale, offset, tanh_rz, rz, n)
        ctx.scale = scale
        ctx.save_for_backward(hx, rz, tanh_rz, n, pre_h[:, 2 * hidden:])
        return hy

    @staticmethod
    def backward(ctx, grad_hy):
        hx, rz, tanh_rz, n, pre_h_n = ctx.saved_tensors
        xp = array_module(grad_hy)
        grad_pre_x = xp.empty_like(grad_hy, shape=(hx.shape[0], 3 * hx.shape[1]))
        grad_pre_h = xp.empty_like(grad_pre_x)
        grad_hx = _gru_backward_step(xp, grad_hy, hx, rz, tanh_rz, n, pre_h_n, ctx.scale,
                                     grad_pre_x, grad_pre_h)
        return _cell_grads(ctx, grad_pre_x, grad_pre_h, grad_hx)


def _project_cell(input_gates, hidden_gates, input_bias, hidden_bias):
    """The sum of the cell's two projections and its biases (a new array)."""
    pre = input_gates + hidden_gates
    for bias in (input_bias, hidden_bias):
        if bias is not None:
            pre += bias
    return pre


def _cell_grads(ctx, grad_input_gates, grad_hidden_gates, grad_state) -> tuple:
    """A fused cell's gradients: both projections, the state, and the two biases."""
    needs = ctx.needs_input_grad
    return (grad_input_gates if needs[0] else None,
            grad_hidden_gates if needs[1] else None,
            grad_state if needs[2] else None,
            grad_input_gates.sum(0) if needs[3] else None,
            grad_hidden_gates.sum(0) if needs[4] else None)

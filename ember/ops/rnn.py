"""Recurrent layers as whole-sequence Functions, and the LSTM and GRU cells as one node each.

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
pre-activations are scaled by ``[1/2, 1/2, 1, 1/2]`` (the layers fold that into the input
projection and ``W_hh`` once per call), and the same vector rescales the result. (Its error is
absolute, a few 1e-8 in float32: a sigmoid below that comes out as 0.)

With ember's compiled kernels (``ember._C``) and NumPy float32/float64 arrays, the pointwise
part of an LSTM or GRU step (gates, new states; its backward) is one C pass instead of a
dozen NumPy calls: the LSTM and GRU layers and cells then compute the sigmoids directly (no
``tanh`` form, no scaling) and keep the activations themselves, whose derivatives backward
takes as ``s (1 - s)`` and ``1 - t²``. An LSTM or GRU layer's whole time loop is then one C
call each way (``ember/_C/rnn.inc``), whose step products with ``W_hh`` are ember's own
(``ember/_C/panel.c``: the weight packed once per call and thread, not by the BLAS at every
step). Its twin is the NumPy loop here; the results agree within float rounding.

On two or more of ember's threads, a layer's C time loop is shared over its batch (each
thread takes its rows through all the steps: ``_batch_shares``), and its large products are
cut into bands of rows (``_product``). The loop's own products give each row the same bits
whatever rows a call takes, and the bands' cuts fall where the BLAS gives the whole product's
bits (``_blas.row_block``), so every thread count gives one thread's results bit for bit.

Node names: the LSTM layer's is PyTorch's; GRU and RNN layers have none to copy (PyTorch's CPU
graph for them is per-step ops under a ``StackBackward0``), so theirs are ``GRULayerBackward0``
and ``RNNLayerBackward0``; the cells' are ``LstmCellBackward0`` and ``GruCellBackward0``
(PyTorch's CPU cells are compositions, ending in ``MulBackward0`` and ``AddBackward0``).
"""

import numpy as np

from .. import _C, _blas, _parallel
from .._backend import array_module
from ..autograd import engine
from ..autograd.function import Function
from .linalg import matrix_product


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


def _step_pairs(steps) -> np.ndarray:
    """``steps`` as the compiled layer loops take them: an int64 array of (first row, row
    count) pairs in visiting order."""
    return np.array(steps, np.int64).reshape(-1, 2)


def _product(a, b, out=None):
    """``a @ b`` (into ``out`` if given) for the layers' and cells' products: over ember's
    threads when large, in bands of whole row blocks of the BLAS kernel
    (``_blas.row_block``), so that every thread count gives the bits of one thread's product.
    (``matrix_product`` cuts its bands anywhere, which changes the bits of the rows around each
    cut.) Others go to ``matrix_product``: CuPy's arrays, and an inner size of 1 (a broadcast
    multiply, whose rows are each computed alone). NumPy's results are C-contiguous, as the
    compiled kernels take them."""
    if type(a) is not np.ndarray:
        return matrix_product(a, b)
    (rows, inner), columns = a.shape, b.shape[1]
    if inner == 1:
        if out is None:
            return np.ascontiguousarray(matrix_product(a, b))
        out[...] = matrix_product(a, b)
        return out
    work = inner * columns // 8  # per row, in matrix_product's unit
    # A cell's small products skip what follows: a split would not pay (the cheap test first).
    if columns > 1 and _parallel.worth_splitting(rows, work) and a.dtype in _FLOATS:
        # A band of one row would be gemv's, not gemm's (as a product of one column is):
        # bands are two rows or more, and not cut where no row block was found (0).
        block = _blas.row_block(a.dtype)
        block = max(2, block) if block else 0
        count = rows // block if block else 0  # whole blocks; the last band takes the rest
        if count > 1 and _parallel.worth_splitting(count, block * work):
            if out is None:
                out = np.empty((rows, columns), np.result_type(a, b))

            def band(first, stop):
                rows_of = slice(first * block, rows if stop == count else stop * block)
                np.matmul(a[rows_of], b, out=out[rows_of])

            # In the BLAS scope exactly where the whole product would be (see ``_blas``): on
            # more threads, OpenBLAS cuts the product its own way, with other bits.
            _parallel.parallel_for(count, band, block * work, like=a,
                                   product=rows * inner * columns)
            return out
    if rows * inner * columns >= _blas.MIN_SCOPED_WORK:
        return _blas.limited(np.matmul, a, b, out)
    return np.matmul(a, b, out=out)


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _batch_shares(steps, batch: int, row_work: int) -> list:
    """The shares of the batch, ``(first, stop)`` rows, that ember's threads each advance
    through a compiled layer loop (``ember/_C/rnn.inc``); ``[(0, batch)]`` where one thread
    runs it all.

    A batch's rows never meet in the time loop, so the threads need not wait for each other
    between steps; and the loops' products (``ember/_C/panel.c``) give a row the same bits
    whichever other rows a call multiplies with it, so any cut gives one thread's results. A
    row's work is the steps it runs in (a packed batch is sorted longest first),
    ``row_work`` multiply-adds each, and the cuts balance it. Work under
    ``_parallel.MIN_PARALLEL_WORK`` is not cut.
    """
    threads = _parallel.get_num_threads()
    sizes = np.array([size for _, size in steps], np.int64)
    if threads < 2 or batch < 2 or int(sizes.sum()) * row_work < _parallel.MIN_PARALLEL_WORK:
        return [(0, batch)]
    lengths = (sizes[:, None] > np.arange(batch)).sum(0)  # the steps each row runs in
    before = np.concatenate([[0], np.cumsum(lengths)])  # the work of the rows before a row
    cuts = [0]
    for share in range(1, min(threads, batch)):
        target = before[-1] * share / threads
        cut = int(np.searchsorted(before, target))  # the first row whose work before reaches it
        if cut > cuts[-1] + 1 and target - before[cut - 1] < before[cut] - target:
            cut -= 1  # the row before is nearer
        cut = max(cut, cuts[-1] + 1)
        if cut >= batch:
            break
        cuts.append(cut)
    edges = [*cuts, batch]
    return list(zip(edges[:-1], edges[1:]))


def _in_shares(kernel, args, shares, work: int) -> None:
    """``kernel(*args, first, stop)`` for each share of ``_batch_shares``, one per thread
    (each call lets go of Python's lock), or one after the other on the calling thread where
    ``parallel_for`` runs a nested split so (the same bits); ``kernel(*args)`` for the whole
    batch."""
    if len(shares) == 1:
        kernel(*args)
        return

    def part(begin, end):
        for first, stop in shares[begin:end]:
            kernel(*args, first, stop)

    # Already inside the layer's BLAS scope (``_scoped``): product=0 opens no other.
    _parallel.parallel_for(len(shares), part, work // len(shares), like=args[1], product=0)


def _project(rows, weight_ih, *biases):
    """``rows @ weight_ihᵀ`` plus the biases that are not None: all time steps at once."""
    projected = _product(rows, weight_ih.T)
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
    _activate_scaled(xp, tanh_out, scale, offset, tanh_out, out)


def _activate_scaled(xp, scaled_pre, scale, offset, tanh_out, out):
    """``_activate`` for pre-activations already multiplied by ``scale``."""
    xp.tanh(scaled_pre, out=tanh_out)
    xp.multiply(tanh_out, scale, out=out)
    out += offset


def _activation_derivative(xp, tanh_values, scale):
    """d activation / d pre-activation from the saved ``tanh(pre * scale)``:
    ``scale² (1 - t²)``, which is ``s (1 - s)`` for a sigmoid and ``1 - t²`` for tanh."""
    derivative = tanh_values * tanh_values
    xp.subtract(1, derivative, out=derivative)
    derivative *= scale * scale
    return derivative


def _buffers(xp, dtype, *shapes) -> tuple:
    """Empty arrays of ``shapes``, carved from one allocation.

    A layer's forward fills what it keeps for backward step by step, so each step's rows are
    the first touch of fresh memory: a page fault per 4 KiB, which cost more than the step's
    arithmetic (a 2-layer LSTM's forward without autograd took 31 ms, PyTorch's 6). NumPy
    asks for huge pages for arrays of 4 MiB and more, so one block for all a layer keeps takes
    a few faults where separate arrays of 1-3 MiB took thousands (that forward: 16 ms).
    """
    sizes = [int(np.prod(shape)) for shape in shapes]
    block = xp.empty(sum(sizes), dtype)
    arrays, start = [], 0
    for shape, size in zip(shapes, sizes):
        arrays.append(block[start:start + size].reshape(shape))
        start += size
    return tuple(arrays)


def _kernels_for(*arrays):
    """ember's compiled kernels where they can run a layer's or cell's steps on ``arrays``
    (NumPy arrays of one type, float32 or float64, or None), else None: the NumPy code then
    runs."""
    first = arrays[0]
    if (_C.kernels is None or type(first) is not np.ndarray
            or first.dtype not in (np.float32, np.float64)):
        return None
    if any(array is not None and array.dtype != first.dtype for array in arrays[1:]):
        return None
    return _C.kernels


def _bias_or_zeros(bias, weight):
    """``bias``, or zeros for the rows of ``weight`` where it is None: what the compiled GRU
    kernel adds."""
    return np.zeros(weight.shape[0], weight.dtype) if bias is None else np.ascontiguousarray(bias)


def _gate_bias(bias_ih, bias_hh, weight_hh):
    """What the compiled LSTM kernel adds to the gates: ``bias_ih + bias_hh``, the one that is
    not None, or zeros."""
    if bias_ih is None and bias_hh is None:
        return np.zeros(weight_hh.shape[0], weight_hh.dtype)
    if bias_ih is None or bias_hh is None:
        return np.ascontiguousarray(bias_hh if bias_ih is None else bias_ih)
    return bias_ih + bias_hh


def _scoped(xp, loop, *args):
    """``loop(*args)`` with NumPy's OpenBLAS on ember's thread count (see ``ember._blas``):
    one scope for all the small per-step products of a layer instead of one per product."""
    return _blas.limited(loop, *args) if xp is np else loop(*args)


# ---- LSTM -----------------------------------------------------------------------------------

def _lstm_cell_update(xp, gates, c_prev, c_out, tanh_c):
    """From the activated gates (batch, 4H) and the previous cell state: writes the new cell
    state and its tanh; returns ``o * tanh(c)``."""
    hidden = c_prev.shape[1]
    i, f = gates[:, :hidden], gates[:, hidden:2 * hidden]
    g, o = gates[:, 2 * hidden:3 * hidden], gates[:, 3 * hidden:]
    xp.multiply(f, c_prev, out=c_out)
    c_out += i * g
    xp.tanh(c_out, out=tanh_c)
    return o * tanh_c


def _lstm_backward_factors(xp, gates, tanh_gates, tanh_c, scale) -> tuple:
    """What the backward of LSTM steps multiplies by, computed for all steps at once:
    ``o * (1 - tanh(c)²)`` and the gates' activation derivatives."""
    hidden = tanh_c.shape[1]
    return (gates[:, 3 * hidden:] * (1 - tanh_c * tanh_c),
            _activation_derivative(xp, tanh_gates, scale))


def _lstm_backward_step(xp, grad_m, grad_c, gates, c_prev, tanh_c, o_tanh_derivative,
                        derivative, grad_pre) -> None:
    """Backward of one LSTM step: from the gradient of ``o * tanh(c)`` (``grad_m``) and of the
    new cell state (``grad_c``, updated in place to the previous cell state's), writes the
    gradient of the gate pre-activations into ``grad_pre``."""
    hidden = c_prev.shape[1]
    i, f, g = gates[:, :hidden], gates[:, hidden:2 * hidden], gates[:, 2 * hidden:3 * hidden]
    xp.multiply(grad_m, tanh_c, out=grad_pre[:, 3 * hidden:])
    grad_c += grad_m * o_tanh_derivative
    xp.multiply(grad_c, g, out=grad_pre[:, :hidden])
    xp.multiply(grad_c, c_prev, out=grad_pre[:, hidden:2 * hidden])
    xp.multiply(grad_c, i, out=grad_pre[:, 2 * hidden:3 * hidden])
    grad_c *= f
    grad_pre *= derivative


def _lstm_forward_loop(xp, steps, scaled_pre, weight_hh_t, weight_hr, scale, offset, h, c,
                       saved) -> None:
    """The time steps of an LSTM layer; ``h`` and ``c`` advance in place and ``saved`` (the
    arrays ``LSTMLayer`` keeps) is filled row by row."""
    output, h_prev, c_prev, gates, tanh_gates, tanh_c, cells = saved
    for start, size in steps:
        step = slice(start, start + size)
        pre = scaled_pre[step]
        pre += h[:size] @ weight_hh_t
        h_prev[step], c_prev[step] = h[:size], c[:size]
        _activate_scaled(xp, pre, scale, offset, tanh_gates[step], gates[step])
        m = _lstm_cell_update(xp, gates[step], c_prev[step], c[:size], tanh_c[step])
        if weight_hr is not None:
            cells[step] = m
            m = m @ weight_hr.T
        output[step] = h[:size] = m


def _lstm_backward_loop(xp, steps, grad_output, weight_hh, weight_hr, grad_h, grad_c, saved,
                        factors, grad_pre, grad_h_all) -> None:
    """The time steps of an LSTM layer in reverse: ``grad_h`` and ``grad_c`` go back in
    place, ``grad_pre`` (and ``grad_h_all`` with a projection) fill row by row."""
    _, _, c_prev, gates, _, tanh_c, _ = saved
    o_tanh_derivative, derivative = factors
    for start, size in reversed(steps):
        step = slice(start, start + size)
        grad_m = grad_h[:size]
        grad_m += grad_output[step]
        if weight_hr is not None:
            grad_h_all[step] = grad_m
            grad_m = grad_m @ weight_hr
        _lstm_backward_step(xp, grad_m, grad_c[:size], gates[step], c_prev[step],
                            tanh_c[step], o_tanh_derivative[step], derivative[step],
                            grad_pre[step])
        xp.matmul(grad_pre[step], weight_hh, out=grad_h[:size])


def _lstm_forward_loop_compiled(kernels, steps, rows, weight_ih, weight_hh, bias, weight_hr,
                                h, c, saved, hh) -> None:
    """``_lstm_forward_loop`` in one compiled call (per share of the batch): the input
    projections (without biases) fill ``gates``, which each step turns into the activations,
    adding ``bias`` and the step's product with ``W_hh`` (in ``hh``) first."""
    output, h_prev, c_prev, gates, _, tanh_c, cells = saved
    _product(rows, weight_ih.T, out=gates)
    hidden, width = c.shape[1], h.shape[1]
    row_work = 4 * hidden * width + (0 if weight_hr is None else hidden * width)
    _in_shares(kernels.lstm_layer_forward,
               (_step_pairs(steps), gates, bias, np.ascontiguousarray(weight_hh),
                None if weight_hr is None else np.ascontiguousarray(weight_hr), h, c,
                h_prev, c_prev, tanh_c, cells, output, hh, hidden, width),
               _batch_shares(steps, h.shape[0], row_work), len(rows) * row_work)


def _lstm_backward_loop_compiled(kernels, steps, grad_output, weight_hh, weight_hr, grad_h,
                                 grad_c, saved, grad_pre, grad_h_all) -> None:
    """``_lstm_backward_loop`` in one compiled call (per share of the batch; all arrays
    C-contiguous)."""
    _, _, c_prev, gates, _, tanh_c, _ = saved
    hidden, width = grad_c.shape[1], grad_h.shape[1]
    row_work = 4 * hidden * width + (0 if weight_hr is None else hidden * width)
    _in_shares(kernels.lstm_layer_backward,
               (_step_pairs(steps), grad_output, gates, c_prev, tanh_c,
                np.ascontiguousarray(weight_hh),
                None if weight_hr is None else np.ascontiguousarray(weight_hr), grad_h,
                grad_c, grad_pre, grad_h_all,
                None if weight_hr is None else np.empty_like(grad_c), hidden, width),
               _batch_shares(steps, grad_h.shape[0], row_work), len(grad_output) * row_work)


def _lstm_layer_compiled(ctx, kernels, steps, rows, input, weight_ih, weight_hh, bias_ih,
                         bias_hh, hx, cx, weight_hr) -> tuple:
    """``LSTMLayer.forward`` with the compiled kernel. It saves what the NumPy path does, with
    the activations themselves as the gates and None for their ``tanh`` form (which tells
    backward which path ran).

    One block holds what backward reads and the two arrays it writes (the gradients of the
    output, contiguous, and of the gates): large enough for NumPy to ask for huge pages (see
    ``_buffers``), where a fresh array per call faulted in every page of its memory.
    """
    count, hidden, out_size, dtype = rows.shape[0], cx.shape[1], hx.shape[1], rows.dtype
    h, c = hx.copy(), cx.copy()  # C-contiguous copies that advance in place
    output = np.empty((count, out_size), dtype)  # apart, as in the NumPy path
    gates, h_prev, c_prev, tanh_c, grad_output, grad_pre, *cells = _buffers(
        np, dtype, (count, 4 * hidden), output.shape, (count, hidden), (count, hidden),
        output.shape, (count, 4 * hidden), *([] if weight_hr is None else [(count, hidden)]))
    bias = _gate_bias(bias_ih, bias_hh, weight_hh)
    saved = (output, h_prev, c_prev, gates, None, tanh_c, cells[0] if cells else None)
    _scoped(np, _lstm_forward_loop_compiled, kernels, steps, rows,
            weight_ih, weight_hh, bias, weight_hr, h, c, saved,
            np.empty((h.shape[0], 4 * hidden), dtype))
    ctx.steps, ctx.kernels, ctx.workspace = steps, kernels, (grad_output, grad_pre)
    result = output.reshape(input.shape[:-1] + (out_size,))
    ctx.save_for_backward(input, weight_ih, weight_hh, weight_hr, result, *saved[1:])
    return result, h, c


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
        kernels = _kernels_for(rows, weight_ih, weight_hh, bias_ih, bias_hh, hx, cx, weight_hr)
        if kernels is not None:
            return _lstm_layer_compiled(ctx, kernels, steps, rows, input, weight_ih, weight_hh,
                                        bias_ih, bias_hh, hx, cx, weight_hr)
        count, hidden = rows.shape[0], cx.shape[1]
        scaled_pre = _project(rows, weight_ih, bias_ih, bias_hh)
        scale, offset = _gate_scale(xp, hidden, 4, 2, scaled_pre.dtype)
        scaled_pre *= scale  # so that each step's one tanh call does all four gates
        h, c = hx.copy(), cx.copy()
        output = xp.empty((count, h.shape[1]), scaled_pre.dtype)
        # The output is the caller's: apart, so that it does not keep the block alive.
        saved = (output, *_buffers(xp, scaled_pre.dtype, output.shape, (count, hidden),
                                   scaled_pre.shape, scaled_pre.shape, (count, hidden)),
                 xp.empty((count, hidden), scaled_pre.dtype) if weight_hr is not None else None)
        _scoped(xp, _lstm_forward_loop, xp, steps, scaled_pre, (weight_hh * scale[:, None]).T,
                weight_hr, scale, offset, h, c, saved)
        ctx.steps, ctx.scale = steps, scale
        # The output is kept as returned, so that changing it in place before backward raises
        # PyTorch's error, as its LSTM node keeps its output too.
        result = output.reshape(input.shape[:-1] + (h.shape[1],))
        ctx.save_for_backward(input, weight_ih, weight_hh, weight_hr, result, *saved[1:])
        return result, h, c

    @staticmethod
    def backward(ctx, grad_output, grad_hn, grad_cn):
        input, weight_ih, weight_hh, weight_hr, *saved = ctx.saved_tensors
        _, h_prev, _, gates, tanh_gates, tanh_c, cells = saved
        xp = array_module(grad_output)
        grad_h_all = xp.empty_like(h_prev) if weight_hr is not None else None
        grad_output = grad_output.reshape(h_prev.shape)
        if tanh_gates is None:  # forward ran the compiled kernel
            contiguous_grad_output, grad_pre = ctx.workspace
            contiguous_grad_output[...] = grad_output
            grad_h, grad_c = (np.array(grad, gates.dtype, order="C")
                              for grad in (grad_hn, grad_cn))
            _scoped(xp, _lstm_backward_loop_compiled, ctx.kernels, ctx.steps,
                    contiguous_grad_output, weight_hh, weight_hr, grad_h, grad_c, saved,
                    grad_pre, grad_h_all)
        else:
            grad_h, grad_c = grad_hn.copy(), grad_cn.copy()
            grad_pre = xp.empty_like(gates)
            factors = _lstm_backward_factors(xp, gates, tanh_gates, tanh_c, ctx.scale)
            _scoped(xp, _lstm_backward_loop, xp, ctx.steps, grad_output, weight_hh, weight_hr,
                    grad_h, grad_c, saved, factors, grad_pre, grad_h_all)
        grad_weight_hr = (_product(grad_h_all.T, cells) if weight_hr is not None
                          and ctx.needs_input_grad[7] else None)
        return (*_input_side_grads(ctx, grad_pre, input, weight_ih, h_prev, grad_pre),
                grad_h, grad_c, grad_weight_hr, None, None)


def _input_side_grads(ctx, grad_pre_x, input, weight_ih, h_prev, grad_pre_h,
                      cell: bool = False) -> tuple:
    """Gradients of ``input, weight_ih, weight_hh, bias_ih, bias_hh`` from those of the input
    projections (``grad_pre_x``, all steps) and of the hidden ones (``grad_pre_h``). A
    ``cell``'s weight gradients, one step's, may be summed over the steps on ember's worker
    thread (``engine.defer_leaf_gradient``)."""
    needs = ctx.needs_input_grad

    def weight_grad(position, left, right):  # position 1: weight_ih, 2: weight_hh
        if not cell:
            return _product(left, right)
        # input, weight_ih and weight_hh are always the node's edges 0, 1 and 2
        leaf = ctx.next_functions[position][0]
        return engine.defer_leaf_gradient(leaf, left, right, _product)

    rows = input.reshape(-1, input.shape[-1])
    grad_bias_ih = grad_pre_x.sum(0) if needs[3] else None
    if not needs[4]:
        grad_bias_hh = None
    elif grad_pre_h is grad_pre_x and grad_bias_ih is not None:
        # LSTM and RNN add both biases to the same pre-activation: one sum serves both (the
        # engine copies an array it hands to two leaves)
        grad_bias_hh = grad_bias_ih
    else:
        grad_bias_hh = grad_pre_h.sum(0)
    return (
        _product(grad_pre_x, weight_ih).reshape(input.shape) if needs[0] else None,
        weight_grad(1, grad_pre_x.T, rows) if needs[1] else None,
        weight_grad(2, grad_pre_h.T, h_prev) if needs[2] else None,
        grad_bias_ih,
        grad_bias_hh,
    )


# ---- GRU ------------------------------------------------------------------------------------

def _gru_forward_step(xp, pre_x, pre_h, h_prev, scale, offset, tanh_rz, rz, n):
    """One GRU step from the input and hidden projections (batch, 3H), biases included:
    writes ``r, z`` (and their tanh form) and ``n``; returns the new hidden state."""
    hidden = h_prev.shape[1]
    _activate(xp, pre_x[:, :2 * hidden] + pre_h[:, :2 * hidden], scale, offset, tanh_rz, rz)
    return _gru_new_state(xp, pre_x, pre_h, h_prev, rz, n)


def _gru_new_state(xp, pre_x, pre_h, h_prev, rz, n):
    """From the activated ``r, z``: writes ``n`` and returns ``n + z * (h - n)``."""
    hidden = h_prev.shape[1]
    r, z = rz[:, :hidden], rz[:, hidden:]
    xp.multiply(r, pre_h[:, 2 * hidden:], out=n)
    n += pre_x[:, 2 * hidden:]
    xp.tanh(n, out=n)
    return n + z * (h_prev - n)


def _gru_backward_factors(xp, h_prev, rz, tanh_rz, n, scale) -> tuple:
    """What the backward of GRU steps multiplies by, for all steps at once: ``1 - z``,
    ``h - n``, ``1 - n²`` and the derivatives of ``r, z``."""
    z = rz[:, h_prev.shape[1]:]
    return 1 - z, h_prev - n, 1 - n * n, _activation_derivative(xp, tanh_rz, scale)


def _gru_backward_step(xp, grad_h, rz, pre_h_n, factors, grad_pre_x, grad_pre_h):
    """Backward of one GRU step: writes the gradients of both projections and returns the
    part of the previous hidden state's gradient that bypasses ``W_hh`` (``grad_h * z``)."""
    one_minus_z, h_minus_n, n_derivative, rz_derivative = factors
    hidden = grad_h.shape[1]
    r, z = rz[:, :hidden], rz[:, hidden:]
    grad_n = grad_pre_x[:, 2 * hidden:]
    xp.multiply(grad_h, one_minus_z, out=grad_n)
    grad_n *= n_derivative
    grad_rz = grad_pre_x[:, :2 * hidden]
    xp.multiply(grad_n, pre_h_n, out=grad_rz[:, :hidden])
    xp.multiply(grad_h, h_minus_n, out=grad_rz[:, hidden:])
    grad_rz *= rz_derivative
    grad_pre_h[:, :2 * hidden] = grad_rz
    xp.multiply(grad_n, r, out=grad_pre_h[:, 2 * hidden:])
    return grad_h * z


def _gru_forward_loop(xp, steps, pre_x, weight_hh_t, bias_hh, scale, offset, h, saved):
    """The time steps of a GRU layer; ``h`` advances in place and ``saved`` (the arrays
    ``GRULayer`` keeps) is filled row by row."""
    output, h_prev, rz, tanh_rz, n, pre_h_n = saved
    hidden = h.shape[1]
    for start, size in steps:
        step = slice(start, start + size)
        pre_h = h[:size] @ weight_hh_t
        if bias_hh is not None:
            pre_h += bias_hh
        h_prev[step], pre_h_n[step] = h[:size], pre_h[:, 2 * hidden:]
        # r and z: input and hidden parts, both already scaled for the one tanh call
        pre_rz = pre_x[step, :2 * hidden]
        pre_rz += pre_h[:, :2 * hidden]
        _activate_scaled(xp, pre_rz, scale, offset, tanh_rz[step], rz[step])
        output[step] = h[:size] = _gru_new_state(xp, pre_x[step], pre_h, h_prev[step],
                                                 rz[step], n[step])


def _gru_backward_loop(xp, steps, grad_output, weight_hh, grad_h, saved, factors, grad_pre_x,
                       grad_pre_h) -> None:
    """The time steps of a GRU layer in reverse: ``grad_h`` goes back in place; the
    projections' gradients fill row by row."""
    _, _, rz, _, _, pre_h_n = saved
    for start, size in reversed(steps):
        step = slice(start, start + size)
        grad = grad_h[:size]
        grad += grad_output[step]
        bypass = _gru_backward_step(xp, grad, rz[step], pre_h_n[step],
                                    [factor[step] for factor in factors], grad_pre_x[step],
                                    grad_pre_h[step])
        xp.matmul(grad_pre_h[step], weight_hh, out=grad_h[:size])
        grad_h[:size] += bypass


def _gru_forward_loop_compiled(kernels, steps, rows, weight_ih, weight_hh, bias_ih, bias_hh,
                               h, saved, hh) -> None:
    """``_gru_forward_loop`` in one compiled call (per share of the batch): the input
    projections (without bias) fill ``gates``, which each step turns into ``r, z, n``; ``hh``
    receives each step's product with ``W_hh``."""
    output, h_prev, gates, _, _, h_n = saved
    _product(rows, weight_ih.T, out=gates)
    hidden = h.shape[1]
    _in_shares(kernels.gru_layer_forward,
               (_step_pairs(steps), gates, bias_ih, bias_hh, np.ascontiguousarray(weight_hh),
                h, h_prev, h_n, output, hh, hidden),
               _batch_shares(steps, h.shape[0], 3 * hidden * hidden),
               len(rows) * 3 * hidden * hidden)


def _gru_backward_loop_compiled(kernels, steps, grad_output, weight_hh, grad_h, saved,
                                grad_pre_x, grad_pre_h, product) -> None:
    """``_gru_backward_loop`` in one compiled call (per share of the batch; all arrays
    C-contiguous); ``product`` receives each step's product with ``W_hh``."""
    _, h_prev, gates, _, _, h_n = saved
    hidden = grad_h.shape[1]
    _in_shares(kernels.gru_layer_backward,
               (_step_pairs(steps), grad_output, gates, h_n, h_prev,
                np.ascontiguousarray(weight_hh), grad_h, grad_pre_x, grad_pre_h, product,
                hidden),
               _batch_shares(steps, grad_h.shape[0], 3 * hidden * hidden),
               len(grad_output) * 3 * hidden * hidden)


def _gru_layer_compiled(ctx, kernels, steps, rows, input, weight_ih, weight_hh, bias_ih,
                        bias_hh, hx) -> tuple:
    """``GRULayer.forward`` with the compiled kernel, as ``_lstm_layer_compiled`` is the
    LSTM's: it saves ``r, z, n`` themselves, None for the NumPy path's ``tanh`` form of
    ``r, z`` and its separate ``n``, and one block holds what backward reads and writes."""
    count, hidden, dtype = rows.shape[0], hx.shape[1], rows.dtype
    h = hx.copy()  # a C-contiguous copy that advances in place
    output = np.empty((count, hidden), dtype)  # apart, as in the NumPy path
    gates, h_prev, h_n, grad_output, grad_pre_x, grad_pre_h = _buffers(
        np, dtype, (count, 3 * hidden), output.shape, output.shape, output.shape,
        (count, 3 * hidden), (count, 3 * hidden))
    saved = (output, h_prev, gates, None, None, h_n)
    _scoped(np, _gru_forward_loop_compiled, kernels, steps, rows, weight_ih, weight_hh,
            _bias_or_zeros(bias_ih, weight_ih), _bias_or_zeros(bias_hh, weight_hh), h, saved,
            np.empty((h.shape[0], 3 * hidden), dtype))
    ctx.steps, ctx.kernels = steps, kernels
    ctx.workspace = (grad_output, grad_pre_x, grad_pre_h)
    ctx.save_for_backward(input, weight_ih, weight_hh, *saved)
    return output.reshape(input.shape[:-1] + (hidden,)), h


class GRULayer(Function):
    """One GRU layer in one direction over a whole (padded or packed) sequence.

    Inputs: ``input, weight_ih, weight_hh, bias_ih, bias_hh, hx, batch_sizes, reverse``.
    Outputs: every step's hidden state, and the final hidden state.
    """

    @staticmethod
    def forward(ctx, input, weight_ih, weight_hh, bias_ih, bias_hh, hx, batch_sizes, reverse):
        xp = array_module(input)
        rows, steps = _steps(input, batch_sizes, reverse)
        kernels = _kernels_for(rows, weight_ih, weight_hh, bias_ih, bias_hh, hx)
        if kernels is not None:
            return _gru_layer_compiled(ctx, kernels, steps, rows, input, weight_ih, weight_hh,
                                       bias_ih, bias_hh, hx)
        count, hidden = rows.shape[0], weight_hh.shape[1]
        pre_x = _project(rows, weight_ih, bias_ih)
        dtype = pre_x.dtype
        scale, offset = _gate_scale(xp, hidden, 2, None, dtype)
        # r and z's pre-activations scaled by 1/2 (sigmoid as tanh), n's as they are
        scale_all = xp.concatenate([scale, xp.ones(hidden, dtype)])
        pre_x *= scale_all
        h = hx.copy()
        saved = (xp.empty((count, hidden), dtype),  # the output, apart (see LSTMLayer)
                 *_buffers(xp, dtype, (count, hidden), (count, 2 * hidden), (count, 2 * hidden),
                           (count, hidden), (count, hidden)))
        _scoped(xp, _gru_forward_loop, xp, steps, pre_x, (weight_hh * scale_all[:, None]).T,
                None if bias_hh is None else bias_hh * scale_all, scale, offset, h, saved)
        ctx.steps, ctx.scale = steps, scale
        ctx.save_for_backward(input, weight_ih, weight_hh, *saved)
        return saved[0].reshape(input.shape[:-1] + (hidden,)), h

    @staticmethod
    def backward(ctx, grad_output, grad_hn):
        input, weight_ih, weight_hh, *saved = ctx.saved_tensors
        _, h_prev, rz, tanh_rz, n, _ = saved
        xp = array_module(grad_output)
        if tanh_rz is None:  # forward ran the compiled kernel (``rz`` holds r, z, n)
            contiguous_grad_output, grad_pre_x, grad_pre_h = ctx.workspace
            contiguous_grad_output[...] = grad_output.reshape(h_prev.shape)
            grad_h = np.array(grad_hn, rz.dtype, order="C")
            _scoped(xp, _gru_backward_loop_compiled, ctx.kernels, ctx.steps,
                    contiguous_grad_output, weight_hh, grad_h, saved, grad_pre_x, grad_pre_h,
                    np.empty_like(grad_h))
        else:
            grad_h = grad_hn.copy()
            grad_pre_x = xp.empty_like(tanh_rz, shape=(h_prev.shape[0], 3 * h_prev.shape[1]))
            grad_pre_h = xp.empty_like(grad_pre_x)
            factors = _gru_backward_factors(xp, h_prev, rz, tanh_rz, n, ctx.scale)
            _scoped(xp, _gru_backward_loop, xp, ctx.steps, grad_output.reshape(h_prev.shape),
                    weight_hh, grad_h, saved, factors, grad_pre_x, grad_pre_h)
        return (*_input_side_grads(ctx, grad_pre_x, input, weight_ih, h_prev, grad_pre_h),
                grad_h, None, None)


# ---- Elman RNN (tanh or relu) -----------------------------------------------------------------

def _rnn_forward_loop(xp, steps, output, weight_hh_t, nonlinearity: str, h, h_prev) -> None:
    """The time steps of an Elman RNN layer: ``output`` holds the input projections and
    becomes the hidden states; ``h`` advances in place."""
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


def _rnn_backward_loop(xp, steps, grad_output, weight_hh, derivative, grad_h,
                       grad_pre) -> None:
    """The time steps of an Elman RNN layer in reverse."""
    for start, size in reversed(steps):
        step = slice(start, start + size)
        grad = grad_h[:size]
        grad += grad_output[step]
        xp.multiply(grad, derivative[step], out=grad_pre[step])
        xp.matmul(grad_pre[step], weight_hh, out=grad_h[:size])


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
        _scoped(xp, _rnn_forward_loop, xp, steps, output, weight_hh.T, nonlinearity, h, h_prev)
        ctx.steps = steps
        # The derivative, not the output, is kept: the caller may change the output in place
        # (PyTorch's output is a copy of what its backward keeps).
        derivative = 1 - output * output if nonlinearity == "tanh" else output > 0
        ctx.save_for_backward(input, weight_ih, weight_hh, h_prev, derivative)
        return output.reshape(input.shape[:-1] + (h.shape[1],)), h

    @staticmethod
    def backward(ctx, grad_output, grad_hn):
        input, weight_ih, weight_hh, h_prev, derivative = ctx.saved_tensors
        xp = array_module(grad_output)
        grad_h = grad_hn.copy()
        grad_pre = xp.empty_like(h_prev)
        _scoped(xp, _rnn_backward_loop, xp, ctx.steps, grad_output.reshape(h_prev.shape),
                weight_hh, derivative, grad_h, grad_pre)
        return (*_input_side_grads(ctx, grad_pre, input, weight_ih, h_prev, grad_pre),
                grad_h, None, None, None)


# ---- one-step cells (nn.LSTMCell, nn.GRUCell) -----------------------------------------------

class LstmCell(Function):
    """One LSTM step in one node: both products, the gates and the new states.

    Inputs in the layers' order: ``input, weight_ih, weight_hh, bias_ih, bias_hh, hx, cx``
    (biases may be None). Outputs: the new hidden and cell states. A cell is called once per
    step from Python, so the node count per step is what costs: one here, where the
    composition ``t, mm, t, mm, gates`` would make five.
    """

    @staticmethod
    def forward(ctx, input, weight_ih, weight_hh, bias_ih, bias_hh, hx, cx):
        xp = array_module(input)
        ctx.kernels = _kernels_for(input, weight_ih, weight_hh, bias_ih, bias_hh, hx, cx)
        if ctx.kernels is not None:
            # The kernel adds the products and the biases, and keeps the activations as gates
            # (None for their tanh form: see the layers).
            gates = _product(input, weight_ih.T)
            hh = _product(hx, weight_hh.T)
            cy = np.array(cx, order="C")  # the kernel advances it in place
            tanh_c, hy = np.empty_like(cy), np.empty_like(cy)
            ctx.kernels.lstm_forward(gates, hh, _gate_bias(bias_ih, bias_hh, weight_hh), cy,
                                     None, tanh_c, hy, cy.shape[1])
            ctx.save_for_backward(input, weight_ih, weight_hh, hx, cx, gates, None, tanh_c)
            return hy, cy
        pre = _project(input, weight_ih, bias_ih, bias_hh)
        pre += _product(hx, weight_hh.T)
        scale, offset = _gate_scale(xp, cx.shape[1], 4, 2, pre.dtype)
        gates, tanh_gates = xp.empty_like(pre), xp.empty_like(pre)
        cy, tanh_c = xp.empty_like(pre, shape=cx.shape), xp.empty_like(pre, shape=cx.shape)
        _activate(xp, pre, scale, offset, tanh_gates, gates)
        hy = _lstm_cell_update(xp, gates, cx, cy, tanh_c)
        ctx.scale = scale
        ctx.save_for_backward(input, weight_ih, weight_hh, hx, cx, gates, tanh_gates, tanh_c)
        return hy, cy

    @staticmethod
    def backward(ctx, grad_hy, grad_cy):
        input, weight_ih, weight_hh, hx, cx, gates, tanh_gates, tanh_c = ctx.saved_tensors
        xp = array_module(grad_hy)
        grad_pre = xp.empty_like(gates)
        if tanh_gates is None:  # forward ran the compiled kernel
            grad_c, grad_m = (np.array(grad, gates.dtype, order="C")
                              for grad in (grad_cy, grad_hy))
            ctx.kernels.lstm_backward(grad_m, None, grad_c, gates, np.ascontiguousarray(cx),
                                      tanh_c, grad_pre, grad_c.shape[1])
        else:
            grad_c = grad_cy.copy()
            _lstm_backward_step(xp, grad_hy, grad_c, gates, cx, tanh_c,
                                *_lstm_backward_factors(xp, gates, tanh_gates, tanh_c,
                                                        ctx.scale),
                                grad_pre)
        grad_hx = _product(grad_pre, weight_hh) if ctx.needs_input_grad[5] else None
        return (*_input_side_grads(ctx, grad_pre, input, weight_ih, hx, grad_pre, cell=True),
                grad_hx, grad_c)


class GruCell(Function):
    """One GRU step in one node: both products, the gates and the new hidden state.

    Inputs in the layers' order: ``input, weight_ih, weight_hh, bias_ih, bias_hh, hx`` (biases
    may be None). Output: the new hidden state.
    """

    @staticmethod
    def forward(ctx, input, weight_ih, weight_hh, bias_ih, bias_hh, hx):
        xp = array_module(input)
        ctx.kernels = _kernels_for(input, weight_ih, weight_hh, bias_ih, bias_hh, hx)
        if ctx.kernels is not None:
            # The kernel adds the biases and keeps r, z, n (None for the NumPy path's tanh
            # form of r, z and its separate n).
            gates = _product(input, weight_ih.T)
            hh = _product(hx, weight_hh.T)
            h_n, hy = np.empty_like(hh, shape=hx.shape), np.empty_like(hh, shape=hx.shape)
            ctx.kernels.gru_forward(gates, hh, _bias_or_zeros(bias_ih, weight_ih),
                                    _bias_or_zeros(bias_hh, weight_hh),
                                    np.ascontiguousarray(hx), h_n, hy, hx.shape[1])
            ctx.save_for_backward(input, weight_ih, weight_hh, hx, gates, None, None, h_n)
            return hy
        pre_x = _project(input, weight_ih, bias_ih)
        pre_h = _project(hx, weight_hh, bias_hh)
        hidden = hx.shape[1]
        scale, offset = _gate_scale(xp, hidden, 2, None, pre_x.dtype)
        rz = xp.empty_like(pre_x, shape=(hx.shape[0], 2 * hidden))
        tanh_rz, n = xp.empty_like(rz), xp.empty_like(pre_x, shape=hx.shape)
        hy = _gru_forward_step(xp, pre_x, pre_h, hx, scale, offset, tanh_rz, rz, n)
        ctx.scale = scale
        ctx.save_for_backward(input, weight_ih, weight_hh, hx, rz, tanh_rz, n,
                              pre_h[:, 2 * hidden:])
        return hy

    @staticmethod
    def backward(ctx, grad_hy):
        input, weight_ih, weight_hh, hx, rz, tanh_rz, n, pre_h_n = ctx.saved_tensors
        xp = array_module(grad_hy)
        if tanh_rz is None:  # forward ran the compiled kernel (``rz`` holds r, z, n)
            grad_pre_x, grad_pre_h = np.empty_like(rz), np.empty_like(rz)
            # The kernel turns the gradient into its part that bypasses W_hh.
            grad_hx = np.array(grad_hy, rz.dtype, order="C")
            ctx.kernels.gru_backward(grad_hx, None, rz, pre_h_n, np.ascontiguousarray(hx),
                                     grad_pre_x, grad_pre_h, hx.shape[1])
        else:
            grad_pre_x = xp.empty_like(grad_hy, shape=(hx.shape[0], 3 * hx.shape[1]))
            grad_pre_h = xp.empty_like(grad_pre_x)
            factors = _gru_backward_factors(xp, hx, rz, tanh_rz, n, ctx.scale)
            grad_hx = _gru_backward_step(xp, grad_hy, rz, pre_h_n, factors, grad_pre_x,
                                         grad_pre_h)
        if ctx.needs_input_grad[5]:
            grad_hx += _product(grad_pre_h, weight_hh)
        return (*_input_side_grads(ctx, grad_pre_x, input, weight_ih, hx, grad_pre_h,
                                   cell=True),
                grad_hx)


# ---- the plain functions -----------------------------------------------------------------

def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (PyTorch's ``torch.lstm_cell``): ``hx`` is ``(h, c)``, each (batch,
    hidden); returns ``(h', c')``.

    Example:
        >>> import ember
        >>> from ember.ops.rnn import lstm_cell
        >>> h, c = lstm_cell(ember.ones(2, 3), (ember.zeros(2, 4), ember.zeros(2, 4)),
        ...                  ember.ones(16, 3), ember.ones(16, 4))
        >>> h.shape, c.shape
        (ember.Size([2, 4]), ember.Size([2, 4]))
    """
    h, c = hx
    return LstmCell.apply(input, w_ih, w_hh, b_ih, b_hh, h, c)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (PyTorch's ``torch.gru_cell``): ``hx`` is (batch, hidden); returns ``h'``.

    Example:
        >>> import ember
        >>> from ember.ops.rnn import gru_cell
        >>> gru_cell(ember.ones(2, 3), ember.zeros(2, 4), ember.ones(12, 3),
        ...          ember.ones(12, 4)).shape
        ember.Size([2, 4])
    """
    return GruCell.apply(input, w_ih, w_hh, b_ih, b_hh, hx)

"""ember._C's LSTM and GRU kernels (ember/_C/rnn.c) against the NumPy code they replace: the
activations, the argument checks, and whole layers and cells, forward and backward, over
random shapes (tests/test_rnn.py and the op table compare both modes with PyTorch)."""

import contextlib

import numpy as np
import pytest
import torch
from capture import NoHostReads, watch_host_reads
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from ember import _C, _blas, _parallel
from ember.nn.utils import rnn as rnn_utils
from ember.ops import rnn as rnn_ops

needs_kernels = pytest.mark.skipif(_C.kernels is None, reason=f"ember._C: {_C.reason}")


def _activations(values: np.ndarray) -> tuple:
    """The kernel's sigmoid and tanh of ``values``: as the input and cell gates' activations
    of a one-row step whose forget and output gates are saturated."""
    hidden, dtype = values.size, values.dtype
    gates = np.concatenate([values, np.full(hidden, 50, dtype), values,
                            np.full(hidden, 50, dtype)])[None]
    c, tanh_c, h = (np.zeros((1, hidden), dtype) for _ in range(3))
    zeros = np.zeros(4 * hidden, dtype)
    _C.kernels.lstm_forward(gates, zeros[None], zeros, c, None, tanh_c, h, hidden)
    return gates[0, :hidden], gates[0, 2 * hidden:3 * hidden]


@needs_kernels
@pytest.mark.parametrize("dtype, ulps", [(np.float32, 2), (np.float64, 3)])
def test_sigmoid_and_tanh_are_within_a_few_ulps(dtype, ulps):
    values = np.concatenate([np.linspace(-100, 100, 20001), np.linspace(-1, 1, 20001),
                             np.geomspace(1e-30, 20, 2000), -np.geomspace(1e-30, 20, 2000)])
    sigmoid, tanh = _activations(values.astype(dtype))
    exact = values.astype(dtype).astype(np.float64)
    eps = np.finfo(dtype).eps
    want_sigmoid, want_tanh = 1 / (1 + np.exp(-exact)), np.tanh(exact)
    normal = want_sigmoid > np.finfo(dtype).tiny * 1e3  # far from the kernel's float32 floor
    np.testing.assert_allclose(sigmoid[normal], want_sigmoid[normal], rtol=ulps * eps, atol=0)
    np.testing.assert_allclose(tanh, want_tanh, rtol=ulps * eps, atol=0)


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_of_special_values(dtype):
    sigmoid, tanh = _activations(np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, -200], dtype))
    np.testing.assert_allclose(sigmoid[[0, 1, 3, 4, 5]], [1, 0, 0.5, 0.5, 0], atol=1e-37)
    np.testing.assert_array_equal(tanh[[0, 1, 3, 4, 5]], [1, -1, 0, 0, -1])
    assert np.isnan(sigmoid[2]) and np.isnan(tanh[2])


@needs_kernels
def test_kernels_refuse_arrays_they_cannot_read():
    forward, backward = _C.kernels.lstm_forward, _C.kernels.lstm_backward
    gates, c = np.zeros((2, 12), np.float32), np.zeros((2, 3), np.float32)
    hh, bias, tanh_c = np.zeros_like(gates), np.zeros(12, np.float32), np.zeros_like(c)
    h = np.zeros_like(c)
    with pytest.raises(ValueError, match="expected 24 elements, got 20"):
        forward(gates[:, :10].copy(), hh, bias, c, None, tanh_c, h, 3)
    with pytest.raises(ValueError, match="expected 12 elements, got 11"):
        forward(gates, hh, bias[:11], c, None, tanh_c, h, 3)
    with pytest.raises(TypeError, match="float32"):
        forward(gates, hh, bias, c, None, tanh_c, h.astype(np.float64), 3)
    with pytest.raises(TypeError):
        forward(gates.astype(np.int32), hh, bias, c, None, tanh_c, h, 3)
    with pytest.raises((ValueError, BufferError)):
        forward(np.zeros((2, 24), np.float32)[:, ::2], hh, bias, c, None, tanh_c, h, 3)
    with pytest.raises(ValueError, match="not rows of 4"):
        forward(gates, hh, bias, c, None, tanh_c, h, 4)
    with pytest.raises(ValueError, match="positive"):
        forward(gates, hh, bias, c, None, tanh_c, h, 0)
    for required in (1, 2, 3):  # the hidden side's product, the bias, the cell state
        args = [gates, hh, bias, c, None, tanh_c, h, 3]
        args[required] = None
        with pytest.raises(TypeError):
            forward(*args)
    frozen = h.copy()
    frozen.flags.writeable = False
    with pytest.raises((ValueError, BufferError)):
        forward(gates, hh, bias, c, None, tanh_c, frozen, 3)
    with pytest.raises(ValueError, match="expected 24 elements"):
        backward(h.copy(), None, c, gates[:1], c, tanh_c, np.zeros_like(gates), 3)
    # Nothing was written by a refused call.
    assert not (gates.any() or c.any() or tanh_c.any() or h.any())


@needs_kernels
def test_gru_kernels_refuse_arrays_they_cannot_read():
    forward, backward = _C.kernels.gru_forward, _C.kernels.gru_backward
    gates, h = np.zeros((2, 9), np.float32), np.zeros((2, 3), np.float32)
    hh, bias, h_n, out = np.zeros_like(gates), np.zeros(9, np.float32), np.zeros_like(h), \
        np.zeros_like(h)
    with pytest.raises(ValueError, match="expected 18 elements, got 16"):
        forward(gates[:, :8].copy(), hh, bias, bias, h, h_n, out, 3)
    with pytest.raises(ValueError, match="expected 9 elements, got 8"):
        forward(gates, hh, bias, bias[:8], h, h_n, out, 3)
    with pytest.raises(TypeError, match="float32"):
        forward(gates, hh, bias, bias, h, h_n, out.astype(np.float64), 3)
    with pytest.raises(TypeError):
        forward(gates, hh, None, bias, h, h_n, out, 3)
    with pytest.raises(ValueError, match="not rows of 4"):
        forward(gates, hh, bias, bias, h, h_n, out, 4)
    grad_x = np.zeros_like(gates)
    with pytest.raises(ValueError, match="expected 18 elements, got 9"):
        backward(h.copy(), None, gates, h_n, h, grad_x, grad_x[:1].copy(), 3)
    with pytest.raises(ValueError, match="expected 6 elements, got 3"):
        backward(h.copy(), h[:1].copy(), gates, h_n, h, grad_x, np.zeros_like(gates), 3)
    assert not (gates.any() or h_n.any() or out.any() or grad_x.any())


def test_kernels_only_for_numpy_float32_and_float64_of_one_type():
    if _C.kernels is None:
        assert rnn_ops._kernels_for(np.zeros(2, np.float32)) is None
        return
    f32, f64 = np.zeros(2, np.float32), np.zeros(2, np.float64)
    assert rnn_ops._kernels_for(f32, None, f32) is _C.kernels
    assert rnn_ops._kernels_for(f64, f64) is _C.kernels
    assert rnn_ops._kernels_for(f32, f64) is None
    assert rnn_ops._kernels_for(np.zeros(2, np.float16)) is None


def _run(module, inputs: list, states, lengths) -> list:
    """Outputs, final states and the gradients of inputs and parameters of one forward and
    backward, as NumPy arrays."""
    leaves = [ember.tensor(array, requires_grad=True) for array in [inputs, *states]]
    x, *initial = leaves
    if lengths is not None:
        x = rnn_utils.pack_padded_sequence(x, lengths, enforce_sorted=False)
    args = (x,) if not initial else (x, tuple(initial) if len(initial) == 2 else initial[0])
    output, finals = module(*args)
    if lengths is not None:
        output = rnn_utils.pad_packed_sequence(output, total_length=inputs.shape[0])[0]
    finals = finals if isinstance(finals, tuple) else (finals,)
    weights = np.linspace(-1, 1, output.numel(), dtype=inputs.dtype).reshape(output.shape)
    loss = (output * ember.tensor(weights)).sum() + sum((f * f).sum() for f in finals)
    loss.backward()
    return ([output.detach().numpy(), *(f.detach().numpy() for f in finals)]
            + [leaf.grad.numpy() for leaf in leaves]
            + [p.grad.numpy() for p in module.parameters()])


def _both_modes(make, run) -> tuple:
    """``run(make())`` with the kernels and again with the NumPy code (same weights)."""
    module = make()
    state = {k: v.clone() for k, v in module.state_dict().items()}
    compiled = run(module)
    reference_module = make()
    reference_module.load_state_dict(state)
    kernels, _C.kernels = _C.kernels, None
    try:
        reference = run(reference_module)
    finally:
        _C.kernels = kernels
    return compiled, reference


def _assert_close(got: list, want: list, dtype) -> None:
    rtol, atol = (2e-5, 2e-6) if dtype == np.float32 else (1e-12, 1e-13)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@needs_kernels
@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(["LSTM", "GRU"]), seq=st.integers(1, 6), batch=st.integers(1, 4),
       features=st.integers(1, 5), hidden=st.integers(1, 9), layers=st.integers(1, 2),
       bidirectional=st.booleans(), proj=st.booleans(), bias=st.booleans(),
       packed=st.booleans(), with_state=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_layers_match_the_numpy_code(kind, seq, batch, features, hidden, layers, bidirectional,
                                     proj, bias, packed, with_state, dtype, seed):
    rng = np.random.default_rng(seed)
    proj_size = max(1, hidden // 2) if kind == "LSTM" and proj and hidden > 1 else 0
    directions = 2 if bidirectional else 1

    def make():
        ember.manual_seed(seed)
        extra = {"proj_size": proj_size} if kind == "LSTM" else {}
        module = getattr(ember.nn, kind)(features, hidden, num_layers=layers, bias=bias,
                                         bidirectional=bidirectional, **extra)
        return module.double() if dtype == np.float64 else module

    inputs = rng.standard_normal((seq, batch, features)).astype(dtype)
    shapes = [(layers * directions, batch, proj_size or hidden)]
    if kind == "LSTM":
        shapes.append((layers * directions, batch, hidden))
    states = [rng.standard_normal(shape).astype(dtype) for shape in shapes] if with_state else []
    lengths = rng.integers(1, seq + 1, batch).tolist() if packed else None
    compiled, reference = _both_modes(make, lambda module: _run(module, inputs, states, lengths))
    _assert_close(compiled, reference, dtype)


@needs_kernels
@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(["LSTMCell", "GRUCell"]), steps=st.integers(1, 4),
       batch=st.integers(1, 4), features=st.integers(1, 5), hidden=st.integers(1, 9),
       bias=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_cells_match_the_numpy_code(kind, steps, batch, features, hidden, bias, dtype, seed):
    rng = np.random.default_rng(seed)
    inputs = rng.standard_normal((steps, batch, features)).astype(dtype)

    def make():
        ember.manual_seed(seed)
        module = getattr(ember.nn, kind)(features, hidden, bias=bias)
        return module.double() if dtype == np.float64 else module

    h0 = rng.standard_normal((hidden, batch)).astype(dtype)

    def run(module):
        x = ember.tensor(inputs, requires_grad=True)
        # The state's transpose: the kernels' path must copy what is not contiguous.
        h, c = ember.tensor(h0).t(), ember.zeros(batch, hidden, dtype=x.dtype)
        outputs = []
        for t in range(steps):
            if kind == "LSTMCell":
                h, c = module(x[t], (h, c))
            else:
                h = c = module(x[t], h)
            outputs.append(h)
        (ember.stack(outputs).sum() + (c * c).sum()).backward()
        return [h.detach().numpy(), c.detach().numpy(), x.grad.numpy(),
                *(p.grad.numpy() for p in module.parameters())]

    compiled, reference = _both_modes(make, run)
    _assert_close(compiled, reference, dtype)


@needs_kernels
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_backward_twice_with_retain_graph_gives_the_same_gradients(kind):
    # The layer's backward reuses a workspace that its forward allocated.
    ember.manual_seed(0)
    module = getattr(ember.nn, kind)(3, 4, num_layers=2)
    x = ember.randn(5, 2, 3, requires_grad=True)
    output, _ = module(x)
    loss = (output * output).sum()
    loss.backward(retain_graph=True)
    first = [x.grad.numpy().copy(), *(p.grad.numpy().copy() for p in module.parameters())]
    x.grad = None
    module.zero_grad()
    loss.backward()
    second = [x.grad.numpy(), *(p.grad.numpy() for p in module.parameters())]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


# ---- the whole-layer loops in C (lstm_layer_forward and the others) -------------------------

needs_gemm = pytest.mark.skipif(not _C.gemm_ready(),
                                reason="ember._C cannot multiply (no extension or no OpenBLAS)")


@contextlib.contextmanager
def numpy_code():
    """Inside the block the layers run the NumPy code, as without the extension."""
    kernels, _C.kernels = _C.kernels, None
    try:
        yield
    finally:
        _C.kernels = kernels


def _twin_run(kind, seq, batch, features, hidden, layers, bidirectional, batch_first, proj,
              lengths, dtype, seed, library):
    """Outputs, final states and every gradient of one forward and backward in ``library``
    (ember or torch), with weights and inputs from ``seed``: the same in both."""
    rng = np.random.default_rng(seed)
    extra = {"proj_size": proj} if proj else {}
    torch_module = getattr(torch.nn, kind)(features, hidden, num_layers=layers,
                                           bidirectional=bidirectional,
                                           batch_first=batch_first, **extra)
    torch_module = torch_module.double() if dtype == np.float64 else torch_module
    for parameter in torch_module.parameters():  # weights of the seed, not of torch's state
        parameter.data = torch.tensor(rng.uniform(-0.6, 0.6, parameter.shape).astype(dtype))
    shape = (batch, seq, features) if batch_first else (seq, batch, features)
    inputs = rng.standard_normal(shape).astype(dtype)
    if library is torch:
        module = torch_module
    else:
        module = getattr(ember.nn, kind)(features, hidden, num_layers=layers,
                                         bidirectional=bidirectional, batch_first=batch_first,
                                         **extra)
        module = module.double() if dtype == np.float64 else module
        module.load_state_dict({k: ember.tensor(v.detach().numpy())
                                for k, v in torch_module.state_dict().items()})
    x = library.tensor(inputs, requires_grad=True)
    utils = torch.nn.utils.rnn if library is torch else rnn_utils
    packed = x if lengths is None else utils.pack_padded_sequence(
        x, lengths, batch_first=batch_first, enforce_sorted=False)
    output, finals = module(packed)
    if lengths is not None:
        output = utils.pad_packed_sequence(output, batch_first=batch_first,
                                           total_length=seq)[0]
    finals = finals if isinstance(finals, tuple) else (finals,)
    weights = library.tensor(np.linspace(-1, 1, output.numel(), dtype=dtype)
                             .reshape(tuple(output.shape)))
    ((output * weights).sum() + sum((f * f).sum() for f in finals)).backward()
    return ([output.detach().numpy(), *(f.detach().numpy() for f in finals), x.grad.numpy()]
            + [p.grad.numpy() for p in module.parameters()])


@needs_kernels
@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(["LSTM", "GRU"]), seq=st.integers(1, 7), batch=st.integers(1, 4),
       features=st.integers(1, 6), hidden=st.sampled_from([1, 2, 5, 8, 17, 33]),
       layers=st.integers(1, 3), bidirectional=st.booleans(), batch_first=st.booleans(),
       proj=st.booleans(), packed=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_layer_loops_in_c_give_the_numpy_codes_and_torchs_numbers(
        kind, seq, batch, features, hidden, layers, bidirectional, batch_first, proj, packed,
        dtype, seed):
    # Hidden sizes past one panel of the loops' products (16 float32 or 8 float64 columns)
    # and not a multiple of it.
    proj_size = max(1, hidden // 3) if kind == "LSTM" and proj and hidden > 1 else 0
    lengths = (np.random.default_rng(seed).integers(1, seq + 1, batch).tolist() if packed
               else None)
    args = (kind, seq, batch, features, hidden, layers, bidirectional, batch_first, proj_size,
            lengths, dtype, seed)
    in_c = _twin_run(*args, ember)
    with numpy_code():
        in_numpy = _twin_run(*args, ember)
    # A gradient sums many terms, each rounded in both: its small elements are compared at
    # the scale of its largest (a 3-layer bidirectional LSTM's 0.032 differed by 2.7e-6).
    rtol, atol = (5e-5, 1e-5) if dtype == np.float32 else (1e-12, 1e-13)
    for a, b in zip(in_c, in_numpy, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * max(1, np.abs(b).max(initial=0)))
    # Two float32 runs each carry rounding: a 3-layer bidirectional LSTM's weight gradient of
    # -0.0150448 (float64) came out -0.0150398 in ember and -0.0150535 in PyTorch, ember the
    # nearer, 1.4e-5 apart.
    rtol, atol = (1e-4, 3e-5) if dtype == np.float32 else (1e-10, 1e-12)
    for a, b in zip(in_c, _twin_run(*args, torch), strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@needs_kernels
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("loops", [contextlib.nullcontext, numpy_code])
def test_a_layer_of_no_steps_passes_the_states_through(kind, reverse, loops):
    # The layer op takes an empty sequence (PyTorch's nn.LSTM refuses one), C loop or NumPy.
    hidden, batch = 3, 2
    x = ember.zeros(0, batch, 4, dtype=ember.float64, requires_grad=True)
    weights = [ember.randn(*shape, dtype=ember.float64, requires_grad=True) for shape in
               [((4 if kind == "LSTM" else 3) * hidden, 4),
                ((4 if kind == "LSTM" else 3) * hidden, hidden)]]
    states = [ember.randn(batch, hidden, dtype=ember.float64, requires_grad=True)
              for _ in range(2 if kind == "LSTM" else 1)]
    layer = rnn_ops.LSTMLayer if kind == "LSTM" else rnn_ops.GRULayer
    extra = (None, None, reverse) if kind == "LSTM" else (None, reverse)
    with loops():
        output, *finals = layer.apply(x, *weights, None, None, *states, *extra)
        assert output.shape == (0, batch, hidden)
        for final, state in zip(finals, states):
            np.testing.assert_array_equal(final.detach().numpy(), state.detach().numpy())
        sum((f * f).sum() for f in finals).backward()
    for state in states:
        np.testing.assert_array_equal(state.grad.numpy(), 2 * state.detach().numpy())
    assert not weights[0].grad.numpy().any() and not weights[1].grad.numpy().any()


@needs_kernels
@pytest.mark.parametrize("kind, options", [("LSTM", {}), ("LSTM", {"proj_size": 2}),
                                           ("GRU", {})])
@pytest.mark.parametrize("packed", [False, True])
def test_layer_loops_in_c_pass_gradcheck(kind, options, packed):
    ember.manual_seed(1)
    module = getattr(ember.nn, kind)(3, 4, bidirectional=True, **options).double()
    x = ember.randn(4, 3, 3, dtype=ember.float64, requires_grad=True)
    states = [ember.randn(2, 3, options.get("proj_size", 4), dtype=ember.float64,
                          requires_grad=True)]
    if kind == "LSTM":
        states.append(ember.randn(2, 3, 4, dtype=ember.float64, requires_grad=True))

    def function(x, *states):
        sequence = rnn_utils.pack_padded_sequence(x, [4, 2, 1], enforce_sorted=False) \
            if packed else x
        output, finals = module(sequence, tuple(states) if kind == "LSTM" else states[0])
        output = rnn_utils.pad_packed_sequence(output)[0] if packed else output
        finals = finals if isinstance(finals, tuple) else (finals,)
        return (output * output).sum() + sum((f * ember.tanh(f)).sum() for f in finals)
    assert ember.autograd.gradcheck(function, (x, *states))
    assert ember.autograd.gradcheck(lambda w: function(x.detach(), *states),
                                    (module.weight_hh_l0,))


@needs_kernels
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_layer_loops_read_no_values_on_the_host(kind):
    # ember.compile captures a step once and replays it: the loop must not read values
    # (.item(), .tolist(), truth tests) from the arrays it works on, only their shapes. The
    # kernels take plain arrays only, so the watch is on any float array's reads (integer
    # ones hold shapes: Cat's backward splits by its sizes).
    ember.manual_seed(0)
    module = getattr(ember.nn, kind)(3, 4, num_layers=2, bidirectional=True)
    x = ember.randn(5, 2, 3, requires_grad=True)
    module(x)[0].sum().backward()  # the first call looks up the BLAS (the projections')
    with watch_host_reads(kinds="f") as reads:
        output, _ = module(x)
        output.backward(ember.ones(output.shape))
    assert reads == []
    assert x.grad.shape == x.shape


@needs_kernels
def test_layer_loop_kernels_refuse_what_they_cannot_run():
    forward = _C.kernels.lstm_layer_forward
    hidden, batch, total = 3, 2, 4
    f32 = np.float32

    def arrays():
        return [np.zeros((total, 4 * hidden), f32), np.zeros(4 * hidden, f32),
                np.ones((4 * hidden, hidden), f32), None, np.zeros((batch, hidden), f32),
                np.zeros((batch, hidden), f32), *(np.zeros((total, hidden), f32)
                                                  for _ in range(3)),
                None, np.zeros((total, hidden), f32), np.zeros((batch, 4 * hidden), f32)]
    steps = np.array([[0, 2], [2, 2]], np.int64)
    forward(steps, *arrays(), hidden, hidden)  # what is right runs
    for bad_steps, message in [([[0, 3], [3, 1]], "larger than the batch"),
                               ([[0, 2], [3, 2]], "outside the 4 rows"),
                               ([[-1, 1]], "outside"), ([[0, -1]], "outside")]:
        with pytest.raises(ValueError, match=message):
            forward(np.array(bad_steps, np.int64), *arrays(), hidden, hidden)
    with pytest.raises(TypeError, match="int64"):
        forward(steps.astype(np.int32), *arrays(), hidden, hidden)
    with pytest.raises(TypeError, match="int64"):
        forward(np.zeros(3, np.int64), *arrays(), hidden, hidden)
    args = arrays()
    args[2] = args[2].astype(np.float64)
    with pytest.raises(TypeError, match="float32"):
        forward(steps, *args, hidden, hidden)
    args = arrays()
    args[11] = args[11][:1].copy()
    with pytest.raises(ValueError, match="expected 24 elements, got 12"):
        forward(steps, *args, hidden, hidden)
    with pytest.raises(ValueError, match="without W_hr"):
        forward(steps, *arrays(), hidden, 2)
    args = arrays()
    args[3] = np.zeros((3, 3), f32)  # a W_hr needs the cells' array
    with pytest.raises(TypeError):
        forward(steps, *args, hidden, hidden)
    args = arrays()
    args[4].flags.writeable = False
    with pytest.raises((ValueError, BufferError)):
        forward(steps, *args, hidden, hidden)
    backward = _C.kernels.gru_layer_backward
    grads = [np.zeros((total, hidden), f32), np.zeros((total, 3 * hidden), f32),
             np.zeros((total, hidden), f32), np.zeros((total, hidden), f32),
             np.zeros((3 * hidden, hidden), f32), np.zeros((batch, hidden), f32),
             np.zeros((total, 3 * hidden), f32), np.zeros((total, 3 * hidden), f32),
             np.zeros((batch, hidden), f32)]
    backward(steps, *grads, hidden)
    with pytest.raises(ValueError, match="larger than the batch"):
        backward(np.array([[0, 4]], np.int64), *grads, hidden)
    with pytest.raises(ValueError, match="positive"):
        backward(steps, *grads, 0)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("packed", [False, True])
def test_numpy_layers_read_no_values_on_the_host(kind, packed):
    # What runs where the kernels do not take the arrays (here: arrays that refuse reads, as
    # under capture) reads no values either.
    ember.manual_seed(0)
    module = getattr(ember.nn, kind)(3, 4, num_layers=2, bidirectional=True)
    for parameter in module.parameters():
        parameter._data = parameter._data.view(NoHostReads)
    x = ember.Tensor._wrap(np.random.default_rng(0).standard_normal((5, 2, 3))
                           .astype(np.float32).view(NoHostReads))
    x.requires_grad_(True)
    sequence = rnn_utils.pack_padded_sequence(x, [5, 3]) if packed else x
    output, _ = module(sequence)
    output = output.data if packed else output
    output.backward(ember.Tensor._wrap(np.ones(output.shape, np.float32).view(NoHostReads)))
    assert x.grad.shape == x.shape
    assert all(p.grad is not None for p in module.parameters())


# ---- ember's threads sharing a layer's batch (_batch_shares) and its products (_product) -----

@pytest.fixture
def share_small_work(monkeypatch):
    """Layers split their batch and products however small; the thread count is restored."""
    monkeypatch.setattr(_parallel, "MIN_PARALLEL_WORK", 0)
    threads = ember.get_num_threads()
    yield
    ember.set_num_threads(threads)


def _spy_shares(monkeypatch) -> list:
    """The shares each compiled layer loop ran with, appended as they run."""
    seen, run = [], rnn_ops._in_shares

    def spy(kernel, args, shares, work):
        seen.append(list(shares))
        return run(kernel, args, shares, work)
    monkeypatch.setattr(rnn_ops, "_in_shares", spy)
    return seen


@needs_kernels
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch, options", [
    (1, {}), (2, {}), (13, {}), (25, {"bidirectional": True, "layers": 2}), (40, {}),
    (40, {"proj": True}), (31, {"packed": True}), (40, {"packed": True, "bidirectional": True}),
    (27, {"batch_first": True, "layers": 3}), (53, {}), (61, {"packed": True})])
def test_thread_counts_give_the_same_bits_and_torchs_numbers(share_small_work, monkeypatch, kind,
                                                            dtype, batch, options):
    # Each thread advances its share of the batch through all the steps, and the large
    # products are cut into bands of whole row blocks: 2 and 3 threads give one thread's
    # bits, outputs and gradients alike, wherever the shares are cut.
    seen = _spy_shares(monkeypatch)
    lengths = None
    if options.get("packed"):
        lengths = np.random.default_rng(batch).integers(1, 10, batch).tolist()
        lengths[batch // 2] = 9  # the longest in the middle: sorted, it moves to the top
    proj = 4 if kind == "LSTM" and options.get("proj") else 0
    args = (kind, 9, batch, 5, 17, options.get("layers", 1), options.get("bidirectional", False),
            options.get("batch_first", False), proj, lengths, dtype, batch)
    ember.set_num_threads(1)
    one = _twin_run(*args, ember)
    assert all(len(shares) == 1 for shares in seen)
    for threads in (2, 3):
        ember.set_num_threads(threads)
        for a, b in zip(one, _twin_run(*args, ember), strict=True):
            np.testing.assert_array_equal(a, b)
    if batch > 1:
        assert any(len(shares) > 1 for shares in seen)  # the shares did run
    rtol, atol = (1e-4, 1e-5) if dtype == np.float32 else (1e-10, 1e-12)
    for a, b in zip(one, _twin_run(*args, torch), strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_loops_advance_only_their_share(dtype):
    # Whole-layer kernels called share by share, one after another, give the whole batch's
    # results bit for bit, with shares of any size: a packed batch where later steps leave
    # some shares without rows.
    batch, hidden = 11, 6
    sizes = [batch, batch, 10, 6, 2, 1]
    steps = rnn_ops._step_pairs([(sum(sizes[:i]), size) for i, size in enumerate(sizes)])
    total = sum(sizes)

    def run(kind, shares):
        rng = np.random.default_rng(1)
        chunks = 4 if kind == "lstm" else 3
        gates = rng.standard_normal((total, chunks * hidden)).astype(dtype)
        weight = (rng.standard_normal((chunks * hidden, hidden)) / 3).astype(dtype)
        bias = rng.standard_normal(chunks * hidden).astype(dtype)
        h = rng.standard_normal((batch, hidden)).astype(dtype)
        c = rng.standard_normal((batch, hidden)).astype(dtype)
        out = [np.zeros((total, hidden), dtype) for _ in range(4)]
        grad_output = rng.standard_normal((total, hidden)).astype(dtype)
        grad_h, grad_c = h.copy(), c.copy()
        grads = [np.zeros((total, chunks * hidden), dtype) for _ in range(2)]
        for share in shares:
            if kind == "lstm":
                _C.kernels.lstm_layer_forward(steps, gates, bias, weight, None, h, c, out[0],
                                              out[1], out[2], None, out[3],
                                              np.zeros((batch, 4 * hidden), dtype), hidden,
                                              hidden, *share)
            else:
                _C.kernels.gru_layer_forward(steps, gates, bias, bias, weight, h, out[0],
                                             out[1], out[3], np.zeros((batch, 3 * hidden), dtype),
                                             hidden, *share)
        for share in shares:
            if kind == "lstm":
                _C.kernels.lstm_layer_backward(steps, grad_output, gates, out[1], out[2], weight,
                                               None, grad_h, grad_c, grads[0], None, None, hidden,
                                               hidden, *share)
            else:
                _C.kernels.gru_layer_backward(steps, grad_output, gates, out[1], out[0], weight,
                                              grad_h, grads[0], grads[1],
                                              np.zeros((batch, hidden), dtype), hidden, *share)
        return [gates, h, c, *out, grad_h, grad_c, *grads]

    for kind in ("lstm", "gru"):
        whole = run(kind, [()])
        for shares in ([(0, 1), (1, batch)], [(0, 5), (5, batch)], [(0, 10), (10, batch)],
                       [(0, 2), (2, 3), (3, 7), (7, batch)]):
            for a, b in zip(whole, run(kind, shares), strict=True):
                np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="not a share"):
        _C.kernels.gru_layer_backward(steps, *_gru_backward_zeros(total, batch, hidden, dtype),
                                      hidden, 3, 2)
    with pytest.raises(ValueError, match="not a share"):
        _C.kernels.gru_layer_backward(steps, *_gru_backward_zeros(total, batch, hidden, dtype),
                                      hidden, 0, batch + 1)


def _gru_backward_zeros(total, batch, hidden, dtype) -> list:
    """Arrays of the right sizes for gru_layer_backward (zeros)."""
    return [np.zeros((total, hidden), dtype), np.zeros((total, 3 * hidden), dtype),
            np.zeros((total, hidden), dtype), np.zeros((total, hidden), dtype),
            np.zeros((3 * hidden, hidden), dtype), np.zeros((batch, hidden), dtype),
            np.zeros((total, 3 * hidden), dtype), np.zeros((total, 3 * hidden), dtype),
            np.zeros((batch, hidden), dtype)]


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(1, 70), min_size=1, max_size=12), threads=st.integers(1, 4),
       packed=st.booleans())
def test_batch_shares_cover_the_batch_and_balance_its_work(sizes, threads, packed):
    batch = max(sizes)
    sizes = sorted(sizes, reverse=True) if packed else [batch] * len(sizes)
    steps = [(sum(sizes[:i]), size) for i, size in enumerate(sizes)]
    saved = ember.get_num_threads()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_parallel, "MIN_PARALLEL_WORK", 0)
        ember.set_num_threads(threads)
        try:
            shares = rnn_ops._batch_shares(steps, batch, 10)
        finally:
            ember.set_num_threads(saved)
    assert shares[0][0] == 0 and shares[-1][1] == batch
    assert len(shares) == min(threads, batch)
    for (_, stop), (first, _) in zip(shares, shares[1:]):
        assert stop == first
    # A row's work is the steps it runs in; each cut is at most one row's work from where an
    # even split of the whole would put it.
    work = [sum(size > row for size in sizes) for row in range(batch)]
    for index, (first, _) in enumerate(shares[1:], 1):
        target = sum(work) * index / threads
        assert abs(sum(work[:first]) - target) <= max(work) or first == shares[index - 1][0] + 1


@needs_gemm
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_products_in_bands_of_row_blocks_have_one_threads_bits(share_small_work, dtype):
    rng = np.random.default_rng(0)
    for rows, inner, columns in [(100, 37, 150), (64, 520, 40), (25, 7, 2), (3, 5, 6),
                                 (90, 1, 30), (50, 30, 1)]:
        a = rng.standard_normal((rows, inner)).astype(dtype)
        b = rng.standard_normal((columns, inner)).astype(dtype)
        for left in (a, a.T.copy().T):  # stored as it is, or transposed
            ember.set_num_threads(1)
            whole = rnn_ops._product(left, b.T)
            np.testing.assert_array_equal(whole, _blas.limited(np.matmul, left, b.T))
            assert whole.flags.c_contiguous
            for threads in (2, 3, 4):
                ember.set_num_threads(threads)
                np.testing.assert_array_equal(rnn_ops._product(left, b.T), whole)
                out = np.empty_like(whole)
                assert rnn_ops._product(left, b.T, out=out) is out
                np.testing.assert_array_equal(out, whole)


def test_no_row_block_means_no_cut_in_products(share_small_work, monkeypatch):
    # Where no row block was found, the products are not cut.
    monkeypatch.setattr(_blas, "_row_blocks", {np.dtype(np.float32): 0})
    ember.set_num_threads(2)
    calls = []
    monkeypatch.setattr(_parallel, "parallel_for", lambda *args, **kw: calls.append(args))
    a = np.ones((64, 8), np.float32)
    np.testing.assert_array_equal(rnn_ops._product(a, a.T), a @ a.T)
    assert calls == []


@needs_gemm
def test_row_block_is_found_once_and_keeps_bands_bits():
    # The probe's answer for each type, and that bands at its multiples (to the end, or to
    # another multiple) reproduce other products of the whole.
    rng = np.random.default_rng(5)
    for dtype in (np.float32, np.float64):
        block = _blas.row_block(dtype)
        assert block == _blas.row_block(np.dtype(dtype)) and block in (0,) + \
            _blas._ROW_BLOCK_CANDIDATES
        if not block:
            continue
        block = max(block, 2)
        for rows, inner, columns in [(7 * block + 5, 300, 70), (3 * block + 1, 9, 33)]:
            a = rng.standard_normal((rows, inner)).astype(dtype)
            b = rng.standard_normal((inner, columns)).astype(dtype)
            whole = _blas.limited(np.matmul, a, b)
            for first in range(0, rows - 1, block):
                for stop in list(range(first + block, rows, block)) + [rows]:
                    if stop - first > 1:
                        np.testing.assert_array_equal(
                            _blas.limited(np.matmul, a[first:stop], b), whole[first:stop])

"""nn.RNN, nn.LSTM, nn.GRU, their cells and nn.utils.rnn against PyTorch.

Each test builds the layer in both libraries, copies PyTorch's weights into ember through
``load_state_dict``, runs the same inputs and compares outputs, final states and the gradients
of the input, the initial states and every parameter.
"""

import itertools
import math

import numpy as np
import pytest
import torch
from twins import as_numpy, check_parameter_grads, copy_weights, errors_of, to_ember

import ember
from ember.nn.utils import rnn as ember_rnn_utils

INPUT, HIDDEN, SEQ, BATCH = 3, 5, 4, 2


def close(ember_value, torch_value, atol=2e-6, rtol=1e-5) -> None:
    np.testing.assert_allclose(as_numpy(ember_value), as_numpy(torch_value), atol=atol,
                               rtol=rtol)


def twin(kind: str, *args, **kwargs):
    """The same layer in both libraries, ember's with PyTorch's weights."""
    torch_module = getattr(torch.nn, kind)(*args, **kwargs)
    ember_module = getattr(ember.nn, kind)(*args, **kwargs)
    copy_weights(ember_module, torch_module)
    return ember_module, torch_module


def leaves(rng, *shapes):
    """Pairs (ember leaf, torch leaf) of the same random values."""
    pairs = []
    for shape in shapes:
        values = torch.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
        pairs.append((to_ember(values, requires_grad=True), values))
    return pairs


def backward_both(ember_outputs, torch_outputs, rng) -> None:
    """The same random output gradients through both graphs."""
    torch_total = ember_total = 0
    for ember_out, torch_out in zip(ember_outputs, torch_outputs):
        weights = torch.tensor(rng.standard_normal(tuple(torch_out.shape)).astype(np.float32))
        torch_total = torch_total + (torch_out * weights).sum()
        ember_total = ember_total + (ember_out * to_ember(weights)).sum()
    torch_total.backward()
    ember_total.backward()


def check_outputs_and_grads(ember_module, torch_module, ember_all, torch_all, pairs, rng):
    """The two layers' outputs (and final states) are equal, and after one backward so are the
    gradients of every parameter and of ``pairs``, (ember, torch) leaves: the input and the
    initial states."""
    for ember_value, torch_value in zip(ember_all, torch_all):
        assert tuple(ember_value.shape) == tuple(torch_value.shape)
        close(ember_value, torch_value)
    backward_both(ember_all, torch_all, rng)
    for ember_leaf, torch_leaf in pairs:
        close(ember_leaf.grad, torch_leaf.grad)
    check_parameter_grads(ember_module, torch_module, rtol=1e-5)


CONFIGS = [dict(num_layers=layers, bias=bias, batch_first=batch_first,
                bidirectional=bidirectional)
           for layers, bias, batch_first, bidirectional
           in itertools.product((1, 2), (True, False), (False, True), (False, True))]
KINDS = [("LSTM", {}), ("GRU", {}), ("RNN", {}), ("RNN", {"nonlinearity": "relu"}),
         ("LSTM", {"proj_size": 3})]


def _ids(value):
    if isinstance(value, dict):
        return "-".join(f"{k}={v}" for k, v in value.items()) or "default"
    return str(value)


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
@pytest.mark.parametrize("kind, extra", KINDS, ids=_ids)
@pytest.mark.parametrize("with_state", [False, True], ids=["zeros", "h0"])
def test_layer_matches_pytorch(kind, extra, config, with_state):
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    ember_module, torch_module = twin(kind, INPUT, HIDDEN, **config, **extra)
    assert list(ember_module.state_dict()) == list(torch_module.state_dict())
    shape = (BATCH, SEQ, INPUT) if config["batch_first"] else (SEQ, BATCH, INPUT)
    (ember_x, torch_x), = leaves(rng, shape)
    layers = config["num_layers"] * (2 if config["bidirectional"] else 1)
    out_size = extra.get("proj_size") or HIDDEN
    states = []
    if with_state:
        states = leaves(rng, (layers, BATCH, out_size), (layers, BATCH, HIDDEN))
        if kind != "LSTM":
            states = states[:1]
    if kind == "LSTM":
        hx = ((states[0][0], states[1][0]), (states[0][1], states[1][1])) if states else (
            None, None)
        ember_out, (ember_h, ember_c) = ember_module(ember_x, hx[0])
        torch_out, (torch_h, torch_c) = torch_module(torch_x, hx[1])
        ember_all, torch_all = (ember_out, ember_h, ember_c), (torch_out, torch_h, torch_c)
    else:
        hx = states[0] if states else (None, None)
        ember_out, ember_h = ember_module(ember_x, hx[0])
        torch_out, torch_h = torch_module(torch_x, hx[1])
        ember_all, torch_all = (ember_out, ember_h), (torch_out, torch_h)
    check_outputs_and_grads(ember_module, torch_module, ember_all, torch_all,
                            [(ember_x, torch_x), *states], rng)


@pytest.mark.parametrize("kind, extra", KINDS, ids=_ids)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequence_matches_pytorch(kind, extra, bidirectional, enforce_sorted):
    rng = np.random.default_rng(1)
    torch.manual_seed(0)
    ember_module, torch_module = twin(kind, INPUT, HIDDEN, num_layers=2,
                                      bidirectional=bidirectional, **extra)
    lengths = [4, 3, 3, 1] if enforce_sorted else [2, 4, 1, 3]
    (ember_x, torch_x), = leaves(rng, (4, 4, INPUT))
    layers = 4 if bidirectional else 2
    states = leaves(rng, (layers, 4, extra.get("proj_size") or HIDDEN), (layers, 4, HIDDEN))
    ember_packed = ember_rnn_utils.pack_padded_sequence(ember_x, lengths,
                                                        enforce_sorted=enforce_sorted)
    torch_packed = torch.nn.utils.rnn.pack_padded_sequence(torch_x, lengths,
                                                           enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(ember_packed.batch_sizes.numpy(),
                                  torch_packed.batch_sizes.numpy())
    close(ember_packed.data, torch_packed.data)
    if kind == "LSTM":
        ember_result = ember_module(ember_packed, (states[0][0], states[1][0]))
        torch_result = torch_module(torch_packed, (states[0][1], states[1][1]))
        ember_finals, torch_finals = ember_result[1], torch_result[1]
    else:
        states = states[:1]
        ember_result = ember_module(ember_packed, states[0][0])
        torch_result = torch_module(torch_packed, states[0][1])
        ember_finals, torch_finals = (ember_result[1],), (torch_result[1],)
    assert isinstance(ember_result[0], ember_rnn_utils.PackedSequence)
    ember_out, ember_lengths = ember_rnn_utils.pad_packed_sequence(ember_result[0],
                                                                   batch_first=True)
    torch_out, torch_lengths = torch.nn.utils.rnn.pad_packed_sequence(torch_result[0],
                                                                      batch_first=True)
    np.testing.assert_array_equal(ember_lengths.numpy(), torch_lengths.numpy())
    ember_all, torch_all = (ember_out, *ember_finals), (torch_out, *torch_finals)
    check_outputs_and_grads(ember_module, torch_module, ember_all, torch_all,
                            [(ember_x, torch_x), *states], rng)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_unbatched_input(kind):
    rng = np.random.default_rng(2)
    ember_module, torch_module = twin(kind, INPUT, HIDDEN, num_layers=2)
    (ember_x, torch_x), = leaves(rng, (SEQ, INPUT))
    (ember_h, torch_h), (ember_c, torch_c) = leaves(rng, (2, HIDDEN), (2, HIDDEN))
    if kind == "LSTM":
        ember_out, ember_states = ember_module(ember_x, (ember_h, ember_c))
        torch_out, torch_states = torch_module(torch_x, (torch_h, torch_c))
    else:
        ember_out, ember_states = ember_module(ember_x, ember_h)
        torch_out, torch_states = torch_module(torch_x, torch_h)
        ember_states, torch_states = (ember_states,), (torch_states,)
    for ember_value, torch_value in zip((ember_out, *ember_states), (torch_out, *torch_states)):
        assert tuple(ember_value.shape) == tuple(torch_value.shape)
        close(ember_value, torch_value)
    backward_both((ember_out, *ember_states), (torch_out, *torch_states), rng)
    close(ember_x.grad, torch_x.grad)
    close(ember_h.grad, torch_h.grad)


@pytest.mark.parametrize("kind, extra", [("LSTMCell", {}), ("GRUCell", {}), ("RNNCell", {}),
                                         ("RNNCell", {"nonlinearity": "relu"})], ids=_ids)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cell_matches_pytorch(kind, extra, bias, batched, with_state):
    rng = np.random.default_rng(3)
    ember_module, torch_module = twin(kind, INPUT, HIDDEN, bias=bias, **extra)
    assert list(ember_module.state_dict()) == list(torch_module.state_dict())
    batch = (BATCH,) if batched else ()
    (ember_x, torch_x), = leaves(rng, batch + (INPUT,))
    states = leaves(rng, batch + (HIDDEN,), batch + (HIDDEN,)) if with_state else []
    if kind == "LSTMCell":
        hx = ((states[0][0], states[1][0]), (states[0][1], states[1][1])) if states else (
            None, None)
        ember_all, torch_all = ember_module(ember_x, hx[0]), torch_module(torch_x, hx[1])
    else:
        states = states[:1]
        hx = states[0] if states else (None, None)
        ember_all, torch_all = (ember_module(ember_x, hx[0]),), (torch_module(torch_x, hx[1]),)
    check_outputs_and_grads(ember_module, torch_module, ember_all, torch_all,
                            [(ember_x, torch_x), *states], rng)


def test_lstm_cell_loop_matches_pytorch():
    """A hand-written loop over time, as time-series examples write it."""
    rng = np.random.default_rng(4)
    ember_cell, torch_cell = twin("LSTMCell", INPUT, HIDDEN)
    (ember_x, torch_x), = leaves(rng, (SEQ, BATCH, INPUT))
    results = []
    for lib, cell, x in ((ember, ember_cell, ember_x), (torch, torch_cell, torch_x)):
        h = c = lib.zeros(BATCH, HIDDEN)
        outputs = []
        for t in range(SEQ):
            h, c = cell(x[t], (h, c))
            outputs.append(h)
        results.append(lib.stack(outputs))
    close(*results)
    backward_both(results[:1], results[1:], rng)
    close(ember_x.grad, torch_x.grad)
    check_parameter_grads(ember_cell, torch_cell)


@pytest.mark.parametrize("args, kwargs", [
    ((10, 20), {}),
    ((10, 20, 2), {"nonlinearity": "relu", "bias": False, "batch_first": True,
                   "dropout": 0.5, "bidirectional": True}),
    ((10, 20), {"num_layers": 3, "proj_size": 5}),
], ids=["default", "everything", "proj"])
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_print_form_and_parameter_names(kind, args, kwargs):
    if kind != "RNN":
        kwargs = {k: v for k, v in kwargs.items() if k != "nonlinearity"}
    if kind != "LSTM":
        kwargs = {k: v for k, v in kwargs.items() if k != "proj_size"}
    ember_module, torch_module = twin(kind, *args, **kwargs)
    assert repr(ember_module) == repr(torch_module)
    assert ([(name, tuple(p.shape)) for name, p in ember_module.named_parameters()]
            == [(name, tuple(p.shape)) for name, p in torch_module.named_parameters()])
    assert ([[tuple(w.shape) for w in weights] for weights in ember_module.all_weights]
            == [[tuple(w.shape) for w in weights] for weights in torch_module.all_weights])
    ember_module.flatten_parameters()


@pytest.mark.parametrize("kind, kwargs", [("RNNCell", {}), ("RNNCell", {"bias": False}),
                                          ("RNNCell", {"nonlinearity": "relu"}),
                                          ("LSTMCell", {}), ("GRUCell", {"bias": False})])
def test_cell_print_form(kind, kwargs):
    ember_module, torch_module = twin(kind, 10, 20, **kwargs)
    assert repr(ember_module) == repr(torch_module)


@pytest.mark.parametrize("kind", ["LSTM", "GRUCell"])
def test_init_is_uniform_on_inverse_sqrt_hidden(kind):
    ember.manual_seed(0)
    module = getattr(ember.nn, kind)(30, 400)
    bound = 1 / math.sqrt(400)
    for parameter in module.parameters():
        values = parameter.detach().numpy()
        assert values.min() >= -bound and values.max() <= bound
        assert values.min() < -0.9 * bound and values.max() > 0.9 * bound


def test_dropout_between_layers_only_in_training():
    ember.manual_seed(0)
    lstm = ember.nn.LSTM(INPUT, HIDDEN, num_layers=2, dropout=0.5)
    x = ember.randn(SEQ, BATCH, INPUT)
    first, second = lstm(x)[0], lstm(x)[0]
    assert not np.allclose(as_numpy(first), as_numpy(second))
    lstm.eval()
    np.testing.assert_array_equal(as_numpy(lstm(x)[0]), as_numpy(lstm(x)[0]))


def test_grad_fn_of_a_single_lstm_layer_is_pytorchs():
    ember_module, torch_module = twin("LSTM", INPUT, HIDDEN)
    x = np.ones((SEQ, BATCH, INPUT), np.float32)
    assert (ember_module(ember.tensor(x))[0].grad_fn.name()
            == torch_module(torch.tensor(x))[0].grad_fn.name())


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.LSTM(3, 4, dropout=1.5),
    lambda lib: lib.nn.LSTM(3, 0),
    lambda lib: lib.nn.GRU(3, 4, num_layers=0),
    lambda lib: lib.nn.LSTM(3, 4, proj_size=-1),
    lambda lib: lib.nn.LSTM(3, 4, proj_size=4),
    lambda lib: lib.nn.GRU(3, 4, proj_size=2),
    lambda lib: lib.nn.RNN(3, 4, nonlinearity="sigmoid"),
    lambda lib: lib.nn.LSTM(3, 4)(lib.zeros(1, 2, 3, 3)),
    lambda lib: lib.nn.LSTM(3, 4)(lib.zeros(2, 3, 5)),
    lambda lib: lib.nn.LSTM(3, 4)(lib.zeros(2, 3, 3), (lib.zeros(2, 3, 4), lib.zeros(1, 3, 4))),
    lambda lib: lib.nn.LSTM(3, 4)(lib.zeros(2, 3, 3), (lib.zeros(1, 3, 4), lib.zeros(1, 2, 4))),
    lambda lib: lib.nn.GRU(3, 4)(lib.zeros(2, 3, 3), lib.zeros(1, 2, 4)),
    lambda lib: lib.nn.GRU(3, 4)(lib.zeros(2, 3), lib.zeros(1, 2, 4)),
    lambda lib: lib.nn.LSTMCell(3, 4)(lib.zeros(2, 2, 3)),
    lambda lib: lib.nn.LSTMCell(3, 4)(lib.zeros(2, 5)),
    lambda lib: lib.nn.GRUCell(3, 4)(lib.zeros(2, 3), lib.zeros(3, 4)),
    lambda lib: lib.nn.GRUCell(3, 4)(lib.zeros(2, 3), lib.zeros(2, 5)),
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(3, 2, 1), [1, 3]),
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(3, 2, 1), [3, 0]),
    lambda lib: lib.nn.utils.rnn.pad_sequence([lib.ones(2)], padding_side="middle"),
    lambda lib: lib.nn.utils.rnn.pad_packed_sequence(
        lib.nn.utils.rnn.pack_sequence([lib.ones(3), lib.ones(2)]), total_length=2),
])
def test_errors_match_pytorch(call):
    ember_error, torch_error = errors_of(call)
    assert ember_error == torch_error


def test_dropout_with_one_layer_warns_as_pytorch():
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater "
                                             "than 1, but got dropout=0.5 and num_layers=1"):
            lib.nn.GRU(3, 4, dropout=0.5)


# ---- nn.utils.rnn ------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_pytorch(batch_first, padding_side):
    rng = np.random.default_rng(5)
    pairs = leaves(rng, (3, 2), (1, 2), (4, 2))
    ember_padded = ember_rnn_utils.pad_sequence([e for e, _ in pairs], batch_first, -1.0,
                                                padding_side)
    torch_padded = torch.nn.utils.rnn.pad_sequence([t for _, t in pairs], batch_first, -1.0,
                                                   padding_side)
    close(ember_padded, torch_padded)
    backward_both([ember_padded], [torch_padded], rng)
    for ember_leaf, torch_leaf in pairs:
        close(ember_leaf.grad, torch_leaf.grad)


def test_packing_round_trip_and_printing():
    sequences = [[1.0, 2.0, 3.0], [4.0], [5.0, 6.0]]
    packed = {lib: lib.nn.utils.rnn.pack_sequence([lib.tensor(s) for s in sequences],
                                                  enforce_sorted=False)
              for lib in (ember, torch)}
    assert repr(packed[ember]) == repr(packed[torch]).replace("torch", "ember")
    for lib in (ember, torch):
        padded, lengths = lib.nn.utils.rnn.pad_packed_sequence(packed[lib], batch_first=True,
                                                               padding_value=9.0,
                                                               total_length=5)
        assert padded.tolist() == [[1, 2, 3, 9, 9], [4, 9, 9, 9, 9], [5, 6, 9, 9, 9]]
        assert lengths.tolist() == [3, 1, 2]
        unpacked = lib.nn.utils.rnn.unpack_sequence(packed[lib])
        assert [u.tolist() for u in unpacked] == sequences
        assert [u.tolist() for u in lib.nn.utils.rnn.unpad_sequence(padded, lengths, True)] == [
            [1.0, 2.0, 3.0], [4.0], [5.0, 6.0]]
    assert ember_rnn_utils.invert_permutation(ember.tensor([2, 0, 1])).tolist() == [1, 2, 0]


def test_packed_sequence_is_a_namedtuple_like_pytorchs():
    packed = ember_rnn_utils.pack_sequence([ember.ones(2, 3), ember.ones(1, 3)])
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert packed._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    assert tuple(data.shape) == (3, 3) and batch_sizes.tolist() == [2, 1]
    assert sorted_indices is None and unsorted_indices is None
    assert packed.to(ember.float64).data.dtype == ember.float64
    assert not packed.is_cuda


def test_pytorchs_module_paths_resolve():
    from ember.nn.modules.rnn import LSTM
    from ember.nn.modules.sparse import Embedding
    from ember.nn.utils.rnn import PackedSequence
    assert (LSTM, Embedding) == (ember.nn.LSTM, ember.nn.Embedding)
    assert ember.nn.utils.rnn.PackedSequence is PackedSequence


def char_model_losses(lib, state=None, steps=3):
    """A char-level language model as PyTorch tutorials write one (Embedding, a 2-layer LSTM
    with dropout, Linear, cross entropy, Adam): the loss after each of ``steps`` updates."""
    class CharModel(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.nn.Embedding(11, 6)
            self.lstm = lib.nn.LSTM(6, 8, num_layers=2, batch_first=True, dropout=0.0)
            self.head = lib.nn.Linear(8, 11)

        def forward(self, tokens, hidden=None):
            output, hidden = self.lstm(self.embed(tokens), hidden)
            return self.head(output), hidden

    model = CharModel()
    if state is not None:
        model.load_state_dict({key: to_ember(value) for key, value in state.items()})
    optimizer = lib.optim.Adam(model.parameters(), lr=0.01)
    tokens = lib.tensor(np.random.default_rng(6).integers(0, 11, (4, 9)))
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        logits, (h, c) = model(tokens[:, :-1])
        loss = lib.nn.functional.cross_entropy(logits.reshape(-1, 11), tokens[:, 1:].reshape(-1))
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    return model, losses


def test_char_language_model_trains_as_in_pytorch():
    torch.manual_seed(0)
    torch_model, torch_losses = char_model_losses(torch)
    torch.manual_seed(0)
    initial = char_model_losses(torch, steps=0)[0].state_dict()
    ember_model, ember_losses = char_model_losses(ember, initial)
    np.testing.assert_allclose(ember_losses, torch_losses, rtol=1e-5)
    for name, parameter in torch_model.named_parameters():
        close(dict(ember_model.named_parameters())[name], parameter, atol=1e-5)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_output_changed_in_place_before_backward(kind):
    """PyTorch's LSTM keeps its output for backward (changing it raises); its GRU and RNN
    outputs are copies (changing them leaves the gradients right): ember does the same."""
    ember_module, torch_module = twin(kind, INPUT, HIDDEN)
    pairs = leaves(np.random.default_rng(7), (SEQ, BATCH, INPUT))
    errors, grads = [], []
    for module, x in ((ember_module, pairs[0][0]), (torch_module, pairs[0][1])):
        output, _ = module(x)
        output.mul_(2)
        try:
            output.sum().backward()
        except RuntimeError as error:
            errors.append(str(error).split(":")[0])
        else:
            grads.append(x.grad)
    if kind == "LSTM":
        assert errors == ["one of the variables needed for gradient computation has been "
                          "modified by an inplace operation"] * 2
    else:
        close(*grads)


@pytest.mark.parametrize("kind, batch_first, shape", [
    ("LSTM", False, (0, 2, 3)), ("GRU", True, (2, 0, 3)), ("RNN", False, (0, 3))])
def test_an_empty_sequence_is_refused_as_pytorch(kind, batch_first, shape):
    for lib in (ember, torch):
        module = getattr(lib.nn, kind)(3, 4, batch_first=batch_first)
        with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0"):
            module(lib.zeros(*shape))


def test_an_empty_batch_is_not_an_empty_sequence():
    ours, theirs = ember.nn.GRU(3, 4, batch_first=True), torch.nn.GRU(3, 4, batch_first=True)
    output = ours(ember.zeros(0, 2, 3))[0]
    assert tuple(output.shape) == tuple(theirs(torch.zeros(0, 2, 3))[0].shape) == (0, 2, 4)


# ---- a cell loop's weight gradients summed on ember's worker thread -------------------------

def _make_cell(lib, kind, weights, dtype):
    cell = getattr(lib.nn, kind)(weights["weight_ih"].shape[1], weights["weight_hh"].shape[1])
    if dtype == np.float64:
        cell = cell.double()
    with lib.no_grad():
        for name, value in weights.items():
            getattr(cell, name).copy_(lib.tensor(value))
    return cell


def _cell_loop(lib, kind, weights, xs, use_weight_elsewhere=False, hook=None, grad_inputs=False):
    """Steps a cell made from ``weights`` over ``xs`` and back; its parameters' gradients (or
    autograd.grad's)."""
    cell = _make_cell(lib, kind, weights, xs.dtype)
    if hook is not None:
        cell.weight_hh.register_hook(hook)
    h = lib.zeros(xs.shape[1], weights["weight_hh"].shape[1], dtype=cell.weight_hh.dtype)
    c = h
    outputs, extra = [], 0
    for step, x in enumerate(lib.tensor(xs)):
        if kind == "LSTMCell":
            h, c = cell(x, (h, c))
        else:
            h = cell(x, h)
        outputs.append(h)
        if use_weight_elsewhere and step in (1, len(xs) - 1):
            # the same leaf also reached by another path, between the steps and after them
            extra = extra + (cell.weight_ih * cell.weight_ih).sum() * (step + 1)
    loss = (lib.stack(outputs) * lib.tensor(np.linspace(-1, 1, h.numel()).reshape(
        h.shape).astype(xs.dtype))).sum() + extra
    params = [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh]
    if grad_inputs:
        return [g.numpy() for g in lib.autograd.grad(loss, params)]
    loss.backward()
    return [p.grad.numpy().copy() for p in params]


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ["plain", "elsewhere", "hook", "autograd.grad"])
def test_cell_weight_gradients_on_the_worker_keep_the_bits(monkeypatch, kind, dtype, case):
    """With two threads, a cell loop's weight gradients are made and summed on ember's worker
    (engine.defer_leaf_gradient) while the backward pass goes on: the same bits as one
    thread, PyTorch's numbers, also where the weight is reached another way too, has a hook
    or is asked for by autograd.grad."""
    from ember import _parallel
    from ember.autograd import engine
    rng = np.random.default_rng(5)
    gates = 4 if kind == "LSTMCell" else 3
    batch, features, hidden, steps = 32, 24, 40, 7  # products under the split threshold
    weights = {"weight_ih": rng.standard_normal((gates * hidden, features)) / 4,
               "weight_hh": rng.standard_normal((gates * hidden, hidden)) / 4,
               "bias_ih": rng.standard_normal(gates * hidden) / 4,
               "bias_hh": rng.standard_normal(gates * hidden) / 4}
    weights = {k: v.astype(dtype) for k, v in weights.items()}
    xs = rng.standard_normal((steps, batch, features)).astype(dtype)
    options = {"use_weight_elsewhere": case == "elsewhere",
               "grad_inputs": case == "autograd.grad"}
    seen = []
    hook = (lambda grad: seen.append(grad.numpy().copy())) if case == "hook" else None
    deferred = []
    original = engine.defer_leaf_gradient

    def spy(node, left, right, product):
        result = original(node, left, right, product)
        deferred.append(engine.current_pass().work is not None)
        return result

    monkeypatch.setattr(engine, "defer_leaf_gradient", spy)
    monkeypatch.setattr(_parallel, "_threads", 1)
    alone = _cell_loop(ember, kind, weights, xs, hook=hook, **options)
    assert deferred and not any(deferred)
    deferred.clear()
    monkeypatch.setattr(_parallel, "_threads", 2)
    on_worker = _cell_loop(ember, kind, weights, xs, hook=hook, **options)
    assert deferred and all(deferred)  # the worker did add them up
    for a, b in zip(alone, on_worker, strict=True):
        assert a.tobytes() == b.tobytes()
    if hook is not None:
        assert len(seen) == 2 and seen[0].tobytes() == seen[1].tobytes()
    theirs = _cell_loop(torch, kind, weights, xs, **options)
    rtol, atol = (1e-4, 1e-5) if dtype == np.float32 else (1e-10, 1e-12)
    for a, b in zip(on_worker, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def test_a_backward_that_raises_leaves_no_work_behind(monkeypatch):
    """The engine waits for the worker's sums also when a backward pass raises, and puts
    OpenBLAS's thread count back."""
    from ember import _blas, _parallel
    from ember.autograd import engine
    monkeypatch.setattr(_parallel, "_threads", 2)
    cell = ember.nn.LSTMCell(8, 16)
    h = c = ember.zeros(32, 16)
    states = []
    for _ in range(4):
        h, c = cell(ember.randn(32, 8), (h, c))
        states.append(h)
    before = _blas.threads()

    def fail(grad):  # runs after the later steps handed their products to the worker
        raise ValueError("a hook fails")

    states[0].register_hook(fail)
    with pytest.raises(ValueError, match="a hook fails"):
        h.sum().backward()
    assert engine.current_pass() is None and _blas._depth == 0 and _blas.threads() == before
    assert cell.weight_ih.grad is None


def test_background_runs_in_order_and_hands_errors_back(monkeypatch):
    from ember import _parallel
    monkeypatch.setattr(_parallel, "_threads", 2)
    work = _parallel.Background()
    order = []
    for index in range(20):
        work.submit(lambda index=index: order.append(index))
    work.wait()
    assert order == list(range(20))

    def fail():
        raise KeyError("inside the worker")

    work.submit(fail)
    work.submit(lambda: order.append("after"))
    with pytest.raises(KeyError, match="inside the worker"):
        work.wait()
    assert order[-1] == "after"  # the rest still ran
    work.wait()  # nothing left: returns at once


def test_backward_passes_on_two_threads_keep_their_own_sums(monkeypatch):
    """Each thread's backward pass has its own worker sums (engine.current_pass is per
    thread): two cell loops run backward at once on two Python threads and each gets the
    gradients it gets alone."""
    import threading

    from ember import _parallel
    monkeypatch.setattr(_parallel, "_threads", 2)
    rng = np.random.default_rng(9)
    weights = {"weight_ih": rng.standard_normal((160, 24)) / 4,
               "weight_hh": rng.standard_normal((160, 40)) / 4,
               "bias_ih": rng.standard_normal(160) / 4, "bias_hh": rng.standard_normal(160) / 4}
    weights = {k: v.astype(np.float32) for k, v in weights.items()}
    inputs = [rng.standard_normal((6, 32, 24)).astype(np.float32) for _ in range(2)]
    alone = [_cell_loop(ember, "LSTMCell", weights, xs) for xs in inputs]
    for _ in range(5):
        together, start = [None, None], threading.Barrier(2)

        def run(index, together=together, start=start):
            start.wait()  # each thread makes its cell (under no_grad) while the other runs
            together[index] = _cell_loop(ember, "LSTMCell", weights, inputs[index])

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for ours, reference in zip(together, alone):
            for a, b in zip(ours, reference, strict=True):
                assert a.tobytes() == b.tobytes()

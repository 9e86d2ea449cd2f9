"""nn.Transformer and its encoder and decoder (layers and stacks) against PyTorch.

Each model is built in both libraries with the same arguments, PyTorch's weights are copied
into ember's, and the two must print alike, name their state alike, and give the same outputs
and gradients (input and every parameter) in evaluation mode, where dropout is off.
"""

import warnings

import numpy as np
import pytest
import torch
from twins import as_numpy, check_parameter_grads, copy_weights

import ember

D_MODEL, HEADS, FEEDFORWARD = 8, 2, 16
SRC, TGT, BATCH = 5, 4, 3


def build(make):
    """``make(lib)`` in both libraries, PyTorch's weights copied into ember's model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the nested-tensor note; test_warnings checks it
        ours, theirs = make(ember), make(torch)
    copy_weights(ours, theirs)
    return ours, theirs


def sequence(rng, length, batch_first=False):
    shape = (BATCH, length, D_MODEL) if batch_first else (length, BATCH, D_MODEL)
    return rng.standard_normal(shape).astype(np.float32)


def compare(ours, theirs, arrays, rng, train=False, **masks):
    """Same output and gradients for ``model(*arrays, **masks)`` (masks as NumPy arrays)."""
    for model in (ours, theirs):
        model.train(train)
    results = []
    for lib, model in ((ember, ours), (torch, theirs)):
        inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
        kwargs = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in masks.items()}
        results.append((inputs, model(*inputs, **kwargs)))
    (our_inputs, out), (their_inputs, expected) = results
    np.testing.assert_allclose(as_numpy(out), as_numpy(expected), rtol=1e-4, atol=1e-5)
    seed = rng.standard_normal(tuple(expected.shape)).astype(np.float32)
    (out * ember.tensor(seed)).sum().backward()
    (expected * torch.tensor(seed)).sum().backward()
    for a, b in zip(our_inputs, their_inputs):
        np.testing.assert_allclose(as_numpy(a.grad), as_numpy(b.grad), rtol=1e-4, atol=1e-5)
    check_parameter_grads(ours, theirs)
    ours.zero_grad()
    theirs.zero_grad()


def causal(length):
    return np.triu(np.full((length, length), -np.inf, np.float32), 1)


def padding(rng, length):
    mask = np.zeros((BATCH, length), bool)
    mask[0, -2:] = True  # trailing padding, as a real batch has it
    mask[1, -1] = True
    return mask


def additive(mask):
    """A boolean mask (True: masked out) as a float one, to go with a float causal mask."""
    return np.where(mask, -np.inf, 0).astype(np.float32)


LAYER_OPTIONS = [{}, {"batch_first": True}, {"norm_first": True}, {"activation": "gelu"},
                 {"bias": False}, {"layer_norm_eps": 1e-3}]


@pytest.mark.parametrize("options", LAYER_OPTIONS, ids=str)
def test_encoder_layer(options, rng):
    ours, theirs = build(lambda lib: lib.nn.TransformerEncoderLayer(
        D_MODEL, HEADS, FEEDFORWARD, **options))
    assert str(ours) == str(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    batch_first = options.get("batch_first", False)
    src = sequence(rng, SRC, batch_first)
    compare(ours, theirs, [src], rng)
    compare(ours, theirs, [src], rng, src_mask=causal(SRC), is_causal=True)
    compare(ours, theirs, [src], rng, src_key_padding_mask=padding(rng, SRC))
    compare(ours, theirs, [src], rng, src_mask=rng.random((SRC, SRC)) > 0.7,
            src_key_padding_mask=padding(rng, SRC))


@pytest.mark.parametrize("options", LAYER_OPTIONS, ids=str)
def test_decoder_layer(options, rng):
    ours, theirs = build(lambda lib: lib.nn.TransformerDecoderLayer(
        D_MODEL, HEADS, FEEDFORWARD, **options))
    assert str(ours) == str(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    batch_first = options.get("batch_first", False)
    tgt, memory = sequence(rng, TGT, batch_first), sequence(rng, SRC, batch_first)
    compare(ours, theirs, [tgt, memory], rng)
    compare(ours, theirs, [tgt, memory], rng, tgt_mask=causal(TGT), tgt_is_causal=True,
            tgt_key_padding_mask=additive(padding(rng, TGT)),
            memory_key_padding_mask=padding(rng, SRC))
    compare(ours, theirs, [tgt, memory], rng,
            memory_mask=rng.standard_normal((TGT, SRC)).astype(np.float32))


def test_activation_module_is_a_submodule(rng):
    ours, theirs = build(lambda lib: lib.nn.TransformerEncoderLayer(
        D_MODEL, HEADS, FEEDFORWARD, activation=lib.nn.GELU()))
    assert str(ours) == str(theirs)
    compare(ours, theirs, [sequence(rng, SRC)], rng)


@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_stack_with_norm(batch_first, rng):
    def make(lib):
        layer = lib.nn.TransformerEncoderLayer(D_MODEL, HEADS, FEEDFORWARD,
                                               batch_first=batch_first)
        return lib.nn.TransformerEncoder(layer, 2, norm=lib.nn.LayerNorm(D_MODEL))
    ours, theirs = build(make)
    assert str(ours) == str(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    src = sequence(rng, SRC, batch_first)
    compare(ours, theirs, [src], rng)
    compare(ours, theirs, [src], rng, mask=causal(SRC))  # detected as causal
    compare(ours, theirs, [src], rng, src_key_padding_mask=padding(rng, SRC))


def test_encoder_zeroes_padding_where_pytorch_packs_the_batch(rng):
    """In evaluation without gradients PyTorch packs a padded batch (batch_first, even heads):
    padded positions come out 0 before the final norm. ember gives the same numbers."""
    def make(lib):
        layer = lib.nn.TransformerEncoderLayer(D_MODEL, HEADS, FEEDFORWARD, batch_first=True)
        return lib.nn.TransformerEncoder(layer, 2)
    ours, theirs = build(make)
    ours.eval()
    theirs.eval()
    src, mask = sequence(rng, SRC, batch_first=True), padding(rng, SRC)
    with torch.no_grad(), ember.no_grad():
        out = ours(ember.tensor(src), src_key_padding_mask=ember.tensor(mask))
        expected = theirs(torch.tensor(src), src_key_padding_mask=torch.tensor(mask))
    assert (as_numpy(expected)[mask] == 0).all()
    np.testing.assert_allclose(as_numpy(out), as_numpy(expected), rtol=1e-4, atol=1e-5)


def test_decoder_stack(rng):
    def make(lib):
        layer = lib.nn.TransformerDecoderLayer(D_MODEL, HEADS, FEEDFORWARD)
        return lib.nn.TransformerDecoder(layer, 2, norm=lib.nn.LayerNorm(D_MODEL))
    ours, theirs = build(make)
    assert str(ours) == str(theirs)
    compare(ours, theirs, [sequence(rng, TGT), sequence(rng, SRC)], rng, tgt_mask=causal(TGT))


@pytest.mark.parametrize("options", [{}, {"batch_first": True, "norm_first": True}], ids=str)
def test_transformer(options, rng):
    ours, theirs = build(lambda lib: lib.nn.Transformer(
        D_MODEL, HEADS, num_encoder_layers=2, num_decoder_layers=1,
        dim_feedforward=FEEDFORWARD, **options))
    assert str(ours) == str(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    batch_first = options.get("batch_first", False)
    src, tgt = sequence(rng, SRC, batch_first), sequence(rng, TGT, batch_first)
    compare(ours, theirs, [src, tgt], rng,
            tgt_mask=as_numpy(torch.nn.Transformer.generate_square_subsequent_mask(TGT)),
            src_key_padding_mask=padding(rng, SRC), memory_key_padding_mask=padding(rng, SRC),
            tgt_key_padding_mask=additive(padding(rng, TGT)))


def test_square_subsequent_mask():
    for size in (1, 4):
        np.testing.assert_array_equal(
            as_numpy(ember.nn.Transformer.generate_square_subsequent_mask(size)),
            as_numpy(torch.nn.Transformer.generate_square_subsequent_mask(size)))
    mask = ember.nn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64)
    assert mask.dtype == ember.float64


def test_a_subclass_can_drop_the_decoder(rng):
    """pytorch/examples' word_language_model: a Transformer subclass that keeps the encoder
    and puts a Linear where the decoder was."""
    def make(lib):
        class TransformerModel(lib.nn.Transformer):
            def __init__(self, ntoken, ninp, nhead, nhid, nlayers):
                super().__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid,
                                 num_encoder_layers=nlayers)
                self.input_emb = lib.nn.Linear(ntoken, ninp)
                self.decoder = lib.nn.Linear(ninp, ntoken)

            def forward(self, src, mask):
                return self.decoder(self.encoder(self.input_emb(src), mask=mask))
        return TransformerModel(10, D_MODEL, HEADS, FEEDFORWARD, 2)
    ours, theirs = build(make)
    assert str(ours) == str(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    src = rng.standard_normal((SRC, BATCH, 10)).astype(np.float32)
    compare(ours, theirs, [src], rng, mask=causal(SRC))


def test_warnings_and_errors_as_pytorch():
    for lib in (ember, torch):
        layer = lib.nn.TransformerEncoderLayer(D_MODEL, HEADS, FEEDFORWARD)
        with pytest.warns(UserWarning, match=r"enable_nested_tensor is True, but "
                          r"self.use_nested_tensor is False because encoder_layer.self_attn."
                          r"batch_first was not True\(use batch_first"):
            lib.nn.TransformerEncoder(layer, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lib.nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
            lib.nn.TransformerEncoderLayer(D_MODEL, HEADS, activation="tanh")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = lib.nn.Transformer(D_MODEL, HEADS, 1, 1, FEEDFORWARD)
        with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
            model(lib.ones(SRC, 2, D_MODEL), lib.ones(TGT, 3, D_MODEL))
        with pytest.raises(RuntimeError, match="the feature number of src and tgt must be"):
            model(lib.ones(SRC, 2, D_MODEL), lib.ones(TGT, 2, 4))


def test_layer_norm_refuses_parameters_of_another_dtype_as_pytorch():
    cases = [("float64", "float32", "mixed dtype (CPU): all inputs must share same datatype."),
             ("float32", "float64", "mixed dtype (CPU): expect parameter to have scalar type "
                                    "of Float")]
    for lib in (ember, torch):
        for input_dtype, parameter_dtype, message in cases:
            x = lib.ones(2, 3, dtype=getattr(lib, input_dtype))
            parameter = lib.ones(3, dtype=getattr(lib, parameter_dtype))
            for weight, bias in ((parameter, None), (None, parameter)):
                with pytest.raises(RuntimeError, match=message.replace("(", r"\(")
                                   .replace(")", r"\)")):
                    lib.nn.functional.layer_norm(x, (3,), weight, bias)


def test_the_benchmarks_gpt_trains_as_in_pytorch():
    """benchmarks/gpt.py's nanoGPT-style model (tied embedding, causal attention through
    scaled_dot_product_attention, AdamW groups, gradient clipping): the same losses over
    three steps in both libraries, from the same weights."""
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "benchmarks", "gpt.py")
    spec = importlib.util.spec_from_file_location("bench_gpt", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    libs = {"ember": ember, "torch": torch}
    models, optimizers = bench.build(libs)
    losses = {name: [] for name in libs}
    for idx, targets in bench.batches(3):
        for name, lib in libs.items():
            step = bench.step_function(lib, models[name], optimizers[name])
            losses[name].append(step(lib.tensor(idx), lib.tensor(targets)).item())
    np.testing.assert_allclose(losses["ember"], losses["torch"], rtol=1e-5)
    assert models["ember"].transformer.wte.weight is models["ember"].lm_head.weight

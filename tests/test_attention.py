"""scaled_dot_product_attention and nn.MultiheadAttention against PyTorch.

op_db's row checks the attention op sample by sample (values, gradients, gradcheck, errors);
this file checks what a row cannot: dropout's statistics, empty inputs, and the module with
PyTorch's weights copied in: outputs, attention weights and every gradient, for masks of each
kind, ``batch_first``, the separate projections and evaluation mode.
"""

import warnings

import numpy as np
import pytest
import torch
from twins import as_numpy, check_parameter_grads, copy_weights

import ember
import ember.nn.functional as F


def leaves(arrays, lib):
    return [lib.tensor(a, requires_grad=a.dtype == np.float32) for a in arrays]


# ---- scaled_dot_product_attention ----------------------------------------------------------

@pytest.mark.parametrize("shapes", [
    ((0, 2, 3, 4), (0, 2, 5, 4), (0, 2, 5, 4)),
    ((1, 2, 0, 4), (1, 2, 5, 4), (1, 2, 5, 4)),
    ((1, 2, 3, 4), (1, 2, 0, 4), (1, 2, 0, 6)),
], ids=["no batch", "no queries", "no keys"])
def test_empty_inputs_give_pytorchs_shapes_and_zeros(shapes, rng):
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ours = F.scaled_dot_product_attention(*leaves(arrays, ember))
    theirs = torch.nn.functional.scaled_dot_product_attention(*leaves(arrays, torch))
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(as_numpy(ours), as_numpy(theirs))


def test_dropout_zeroes_weights_and_rescales_the_rest(rng):
    # With value = identity the output rows are the weights themselves: each is 0 or its
    # undropped weight / (1 - p), and about p of them are 0.
    query = ember.tensor(rng.standard_normal((4, 8, 64, 16)).astype(np.float32))
    key = ember.tensor(rng.standard_normal((4, 8, 64, 16)).astype(np.float32))
    value = ember.eye(64).expand(4, 8, 64, 64)
    weights = as_numpy(F.scaled_dot_product_attention(query, key, value))
    dropped = as_numpy(F.scaled_dot_product_attention(query, key, value, dropout_p=0.25))
    zero = dropped == 0
    assert abs(zero.mean() - 0.25) < 0.01
    np.testing.assert_allclose(dropped[~zero], weights[~zero] / 0.75, rtol=1e-5)


def test_dropout_gradient_flows_through_the_kept_weights_only(rng):
    query = ember.tensor(rng.standard_normal((1, 1, 6, 4)).astype(np.float32),
                         requires_grad=True)
    value = ember.tensor(rng.standard_normal((1, 1, 6, 4)).astype(np.float32),
                         requires_grad=True)
    ember.manual_seed(3)
    out = F.scaled_dot_product_attention(query, query, value, dropout_p=0.5)
    out.sum().backward()
    # d(sum out)/d(value[j]) is the column sum of the dropped weights: replaying the same
    # draw with value = identity gives those weights.
    ember.manual_seed(3)
    dropped = F.scaled_dot_product_attention(query.detach(), query.detach(), ember.eye(6))
    ember.manual_seed(3)
    replay = F.scaled_dot_product_attention(query.detach(), query.detach(), ember.eye(6),
                                            dropout_p=0.5)
    assert (as_numpy(replay) == 0).any() and not (as_numpy(dropped) == 0).any()
    np.testing.assert_allclose(as_numpy(value.grad)[0, 0],
                               np.repeat(as_numpy(replay)[0, 0].sum(0)[:, None], 4, 1),
                               rtol=1e-5)


def test_causal_is_the_lower_triangular_mask_upper_left_aligned(rng):
    query = ember.tensor(rng.standard_normal((2, 3, 4, 8)).astype(np.float32))
    key = ember.tensor(rng.standard_normal((2, 3, 6, 8)).astype(np.float32))
    mask = ember.tensor(np.tril(np.ones((4, 6), bool)))
    np.testing.assert_allclose(
        as_numpy(F.scaled_dot_product_attention(query, key, key, is_causal=True)),
        as_numpy(F.scaled_dot_product_attention(query, key, key, attn_mask=mask)), rtol=1e-6)


def test_grad_fn_is_pytorchs_fused_node():
    q = ember.ones(1, 2, 3, 4, requires_grad=True)
    out = F.scaled_dot_product_attention(q, q, q)
    assert out.grad_fn.name() == "ScaledDotProductFlashAttentionForCpuBackward0"


# ---- MultiheadAttention --------------------------------------------------------------------

CONFIGS = [{}, {"batch_first": True}, {"bias": False}, {"add_bias_kv": True},
           {"add_zero_attn": True}, {"kdim": 6, "vdim": 5}]
L, S, N, E, HEADS = 4, 5, 3, 8, 2


def mha_pair(config):
    theirs = torch.nn.MultiheadAttention(E, HEADS, **config)
    ours = ember.nn.MultiheadAttention(E, HEADS, **config)
    copy_weights(ours, theirs)
    return ours, theirs


def mha_inputs(rng, config, self_attention=False):
    def draw(length, features):
        shape = (N, length, features) if config.get("batch_first") else (length, N, features)
        return rng.standard_normal(shape).astype(np.float32)
    query = draw(L, E)
    if self_attention:
        return [query]
    return [query, draw(S, config.get("kdim", E)), draw(S, config.get("vdim", E))]


def compare_mha(ours, theirs, arrays, rng, **kwargs):
    """Outputs, weights and the gradients of inputs and parameters, for one call."""
    tensors = {}
    for lib in (ember, torch):
        inputs = leaves(arrays, lib)
        call = inputs * 3 if len(inputs) == 1 else inputs
        masks = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        tensors[lib] = inputs, (ours if lib is ember else theirs)(*call, **masks)
    (our_inputs, (out, weights)), (their_inputs, (expected, expected_weights)) = \
        tensors[ember], tensors[torch]
    np.testing.assert_allclose(as_numpy(out), as_numpy(expected), rtol=1e-5, atol=1e-6)
    assert (weights is None) == (expected_weights is None)
    seed = rng.standard_normal(tuple(expected.shape)).astype(np.float32)
    losses = [(o * lib.tensor(seed)).sum() for o, lib in ((out, ember), (expected, torch))]
    if weights is not None:
        np.testing.assert_allclose(as_numpy(weights), as_numpy(expected_weights), rtol=1e-5,
                                   atol=1e-6)
        losses = [loss + w.square().sum() for loss, w in zip(losses, (weights, expected_weights))]
    for loss in losses:
        loss.backward()
    for a, b in zip(our_inputs, their_inputs):
        np.testing.assert_allclose(as_numpy(a.grad), as_numpy(b.grad), rtol=1e-4, atol=1e-5)
    check_parameter_grads(ours, theirs)
    ours.zero_grad()
    theirs.zero_grad()


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_mha_prints_and_names_its_parameters_as_pytorch(config):
    ours, theirs = mha_pair(config)
    assert str(ours) == str(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


@pytest.mark.parametrize("config", CONFIGS, ids=str)
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_matches_pytorch(config, need_weights, rng):
    ours, theirs = mha_pair(config)
    arrays = mha_inputs(rng, config)
    padding = rng.random((N, S)) > 0.7
    padding[:, 0] = False
    blocked = rng.random((L, S)) > 0.8
    blocked[:, 1] = False
    compare_mha(ours, theirs, arrays, rng, need_weights=need_weights)
    compare_mha(ours, theirs, arrays, rng, need_weights=need_weights, key_padding_mask=padding,
                attn_mask=blocked)
    compare_mha(ours, theirs, arrays, rng, need_weights=need_weights,
                attn_mask=rng.standard_normal((N * HEADS, L, S)).astype(np.float32),
                average_attn_weights=False)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_self_attention_causal_and_unbatched(need_weights, rng):
    ours, theirs = mha_pair({})
    causal = np.triu(np.full((L, L), -np.inf, np.float32), 1)
    arrays = mha_inputs(rng, {}, self_attention=True)
    compare_mha(ours, theirs, arrays, rng, attn_mask=causal, is_causal=True,
                need_weights=need_weights)
    compare_mha(ours, theirs, [arrays[0][:, 0]], rng, need_weights=need_weights)


def test_mha_fully_padded_sequence_is_nan_with_weights_and_zero_without(rng):
    ours, theirs = mha_pair({})
    arrays = mha_inputs(rng, {})
    padding = np.zeros((N, S), bool)
    padding[0] = True
    for need_weights in (True, False):
        out = ours(*leaves(arrays, ember), key_padding_mask=ember.tensor(padding),
                   need_weights=need_weights)[0]
        expected = theirs(*leaves(arrays, torch), key_padding_mask=torch.tensor(padding),
                          need_weights=need_weights)[0]
        np.testing.assert_allclose(as_numpy(out), as_numpy(expected), rtol=1e-5, atol=1e-6)
        assert np.isnan(as_numpy(out)).any() == need_weights


def test_mha_eval_mode_switches_dropout_off(rng):
    ours, theirs = mha_pair({"dropout": 0.5, "batch_first": True})
    ours.eval()
    theirs.eval()
    (query,) = mha_inputs(rng, {"batch_first": True}, self_attention=True)
    with torch.no_grad(), ember.no_grad():
        np.testing.assert_allclose(
            as_numpy(ours(*[ember.tensor(query)] * 3)[0]),
            as_numpy(theirs(*[torch.tensor(query)] * 3)[0]), rtol=1e-5, atol=1e-6)


def test_mha_errors_as_pytorch():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
            lib.nn.MultiheadAttention(0, 2)
        with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
            lib.nn.MultiheadAttention(6, 4)
        attention = lib.nn.MultiheadAttention(8, 2)
        x = lib.ones(4, 3, 8)
        with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal"):
            attention(x, x, x, is_causal=True)
        with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is"):
            attention(x, x, x, attn_mask=lib.ones(3, 3))
        with pytest.raises(AssertionError, match="query should be unbatched 2D or batched 3D"):
            attention(lib.ones(8), lib.ones(8), lib.ones(8))
        with pytest.raises(AssertionError, match="only bool and floating types"):
            attention(x, x, x, key_padding_mask=lib.ones(3, 4, dtype=lib.int64))


def test_mha_warns_about_mismatched_mask_types():
    for lib in (ember, torch):
        attention = lib.nn.MultiheadAttention(8, 2)
        x = lib.ones(4, 3, 8)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            attention(x, x, x, key_padding_mask=lib.zeros(3, 4, dtype=lib.bool),
                      attn_mask=lib.zeros(4, 4))
        assert any("Support for mismatched key_padding_mask and attn_mask is deprecated"
                   in str(w.message) for w in caught)

"""nn.Embedding and F.embedding against PyTorch: lookups, gradients (padding_idx,
scale_grad_by_freq, repeated indices, each backward path), max_norm, init, print forms and
errors."""


import numpy as np
import pytest
import torch
from twins import as_numpy, copy_weights, errors_of

import ember
import ember.nn.functional as F
from ember.ops import embedding as embedding_ops


@pytest.mark.parametrize("num_embeddings", [10, 300])
@pytest.mark.parametrize("index_dtype", [np.int64, np.int32])
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 2}, {"padding_idx": -1},
                                    {"scale_grad_by_freq": True},
                                    {"padding_idx": 0, "scale_grad_by_freq": True}],
                         ids=str)
def test_functional_matches_pytorch(num_embeddings, index_dtype, kwargs):
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((num_embeddings, 4)).astype(np.float32)
    # repeats, the padding rows and the last row, in a 2-D batch
    indices = rng.integers(0, num_embeddings, (3, 7)).astype(index_dtype)
    indices[0, :3] = [2, 2, num_embeddings - 1]
    indices[1, 0] = 0
    grad = rng.standard_normal((3, 7, 4)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        w = lib.tensor(weight, requires_grad=True)
        out = lib.nn.functional.embedding(lib.tensor(indices), w, **kwargs)
        out.backward(lib.tensor(grad))
        results.append((out, w.grad, out.grad_fn.name()))
    (ember_out, ember_grad, ember_name), (torch_out, torch_grad, torch_name) = results
    np.testing.assert_allclose(as_numpy(ember_out), as_numpy(torch_out))
    np.testing.assert_allclose(as_numpy(ember_grad), as_numpy(torch_grad), atol=1e-6,
                               rtol=1e-5)
    assert ember_name == torch_name == "EmbeddingBackward0"


@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 0, 3)], ids=str)
def test_index_shapes(shape):
    weight = np.arange(12, dtype=np.float32).reshape(6, 2)
    indices = np.full(shape, 3, np.int64)
    outputs = []
    for lib in (ember, torch):
        w = lib.tensor(weight, requires_grad=True)
        out = lib.nn.functional.embedding(lib.tensor(indices), w)
        out.sum().backward()
        outputs.append((out, w.grad))
    assert tuple(outputs[0][0].shape) == tuple(outputs[1][0].shape)
    for ember_value, torch_value in zip(*outputs):
        np.testing.assert_array_equal(as_numpy(ember_value), as_numpy(torch_value))


@pytest.mark.parametrize("rows, size", [(3, 500), (65, 500), (1000, 500), (50000, 300),
                                        (10, 1), (10, 0), (3, 40000), (65, 5000)])
@pytest.mark.parametrize("skewed", [False, True])
def test_backward_sums_agree_with_add_at(rows, size, skewed):
    """The backward (a one-hot product for tiny lookups; else sorted: one sum per frequent
    index, rank-by-rank adds for the rest) gives ``np.add.at``'s sums, for small and large
    vocabularies and a skewed distribution."""
    rng = np.random.default_rng(1)
    index = rng.integers(0, rows, size)
    if skewed:  # one index (a padding token, say) takes most positions
        index[rng.random(size) < 0.7] = rows - 1
    grad = rng.standard_normal((size, 8))
    expected = np.zeros((rows, 8))
    np.add.at(expected, index, grad)
    np.testing.assert_allclose(embedding_ops._scatter_rows(np, index, grad, rows), expected,
                               atol=1e-12)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5])
def test_max_norm_renormalises_looked_up_rows_in_place(norm_type):
    rng = np.random.default_rng(2)
    weight = (rng.standard_normal((6, 3)) * 3).astype(np.float32)
    indices = np.array([[1, 1, 4], [0, 4, 1]])
    results = []
    for lib in (ember, torch):
        w = lib.tensor(weight, requires_grad=True)
        with lib.no_grad():
            w_work = w.clone()
        w_work.requires_grad_()
        out = lib.nn.functional.embedding(lib.tensor(indices), w_work, max_norm=1.5,
                                          norm_type=norm_type)
        out.sum().backward()
        results.append((out, w_work, w_work.grad))
    for ember_value, torch_value in zip(*results):
        np.testing.assert_allclose(as_numpy(ember_value), as_numpy(torch_value), rtol=1e-5,
                                   atol=1e-6)


def test_module_matches_pytorch_with_the_same_weights():
    torch_module = torch.nn.Embedding(20, 5, padding_idx=3)
    ember_module = ember.nn.Embedding(20, 5, padding_idx=3)
    copy_weights(ember_module, torch_module)
    assert list(ember_module.state_dict()) == list(torch_module.state_dict())
    indices = np.array([[3, 4, 4], [19, 0, 3]])
    ember_out = ember_module(ember.tensor(indices))
    torch_out = torch_module(torch.tensor(indices))
    np.testing.assert_array_equal(as_numpy(ember_out), as_numpy(torch_out))
    ember_out.pow(2).sum().backward()
    torch_out.pow(2).sum().backward()
    np.testing.assert_allclose(as_numpy(ember_module.weight.grad),
                               as_numpy(torch_module.weight.grad), rtol=1e-6)
    assert not as_numpy(ember_module.weight.grad)[3].any()


def test_init_is_standard_normal_with_the_padding_row_zeroed():
    ember.manual_seed(0)
    weight = as_numpy(ember.nn.Embedding(2000, 50, padding_idx=-3).weight)
    assert not weight[1997].any()
    values = np.delete(weight, 1997, axis=0)
    assert abs(values.mean()) < 0.01 and abs(values.std() - 1) < 0.01


@pytest.mark.parametrize("args, kwargs", [
    ((10, 3), {}),
    ((10, 3), {"padding_idx": -2, "max_norm": 1.0, "norm_type": 1.0,
               "scale_grad_by_freq": True}),
    ((10, 3), {"max_norm": 2, "norm_type": 2}),
])
def test_print_form(args, kwargs):
    ember_module, torch_module = ember.nn.Embedding(*args, **kwargs), torch.nn.Embedding(
        *args, **kwargs)
    assert repr(ember_module) == repr(torch_module)
    assert ember_module.padding_idx == torch_module.padding_idx


def test_from_pretrained():
    weights = np.arange(8, dtype=np.float32).reshape(4, 2)
    for freeze in (True, False):
        ember_module = ember.nn.Embedding.from_pretrained(ember.tensor(weights), freeze=freeze,
                                                          padding_idx=1, max_norm=20.0)
        torch_module = torch.nn.Embedding.from_pretrained(torch.tensor(weights), freeze=freeze,
                                                          padding_idx=1, max_norm=20.0)
        assert repr(ember_module) == repr(torch_module)
        assert ember_module.weight.requires_grad == torch_module.weight.requires_grad == (
            not freeze)
        np.testing.assert_array_equal(as_numpy(ember_module(ember.tensor([3, 1]))),
                                      as_numpy(torch_module(torch.tensor([3, 1]))))
    module = ember.nn.Embedding(4, 2, _weight=ember.tensor(weights))
    np.testing.assert_array_equal(as_numpy(module.weight), weights)
    assert module.weight.requires_grad


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.embedding(lib.tensor([1.0]), lib.ones(4, 2)),
    lambda lib: lib.nn.functional.embedding(lib.tensor([1], dtype=lib.int16), lib.ones(4, 2)),
    lambda lib: lib.nn.functional.embedding(lib.tensor([1], dtype=lib.uint8), lib.ones(4, 2)),
    lambda lib: lib.nn.functional.embedding(lib.tensor([4]), lib.ones(4, 2)),
    lambda lib: lib.nn.functional.embedding(lib.tensor([[0, -1]]), lib.ones(4, 2)),
    lambda lib: lib.nn.functional.embedding(lib.tensor([1]), lib.ones(4)),
    lambda lib: lib.nn.functional.embedding(lib.tensor([1]), lib.ones(4, 2), padding_idx=4),
    lambda lib: lib.nn.functional.embedding(lib.tensor([1]), lib.ones(4, 2), padding_idx=-5),
    lambda lib: lib.nn.Embedding(10, 3, padding_idx=10),
    lambda lib: lib.nn.Embedding(10, 3, padding_idx=-11),
    lambda lib: lib.nn.Embedding(5, 2, _weight=lib.ones(4, 2)),
    lambda lib: lib.nn.Embedding.from_pretrained(lib.ones(4)),
])
def test_errors_match_pytorch(call):
    ember_error, torch_error = errors_of(call)
    assert ember_error == torch_error


def test_sparse_gradients_are_refused_clearly():
    with pytest.raises(NotImplementedError, match="sparse=True"):
        ember.nn.Embedding(10, 3, sparse=True)
    with pytest.raises(NotImplementedError, match="sparse=True"):
        F.embedding(ember.tensor([1]), ember.ones(4, 2), sparse=True)


def test_in_place_change_of_the_indices_is_caught():
    weight = ember.ones(4, 2, requires_grad=True)
    indices = ember.tensor([1, 2])
    out = F.embedding(indices, weight)
    indices.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()

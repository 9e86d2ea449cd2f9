"""Errors a differential fuzzer found: each case raises PyTorch's exception type and message."""

import pytest
import torch

import ember


def _outcome(call, lib):
    try:
        call(lib)
    except Exception as error:  # noqa: BLE001 - the type is what is compared
        return type(error).__name__, str(error).split("\n")[0]
    return None


EMPTY = lambda lib: lib.zeros(0, 3)  # noqa: E731

ERROR_CASES = {
    "argmax": lambda lib: EMPTY(lib).argmax(),
    "argmin": lambda lib: EMPTY(lib).argmin(),
    "argmax_dim": lambda lib: EMPTY(lib).argmax(0),
    "argmax_negative_dim": lambda lib: EMPTY(lib).argmax(-2),
    "argmin_keepdim": lambda lib: EMPTY(lib).argmin(keepdim=True),
    "amax": lambda lib: EMPTY(lib).amax(),
    "amax_dim": lambda lib: EMPTY(lib).amax(0),
    "amax_negative_dim": lambda lib: EMPTY(lib).amax(-2),
    "amax_dims": lambda lib: lib.zeros(3, 0).amax((0, 1)),
    "amin": lambda lib: EMPTY(lib).amin(),
    "amin_dim": lambda lib: EMPTY(lib).amin(0, keepdim=True),
    "max": lambda lib: EMPTY(lib).max(),
    "max_dim": lambda lib: EMPTY(lib).max(0),
    "min": lambda lib: EMPTY(lib).min(),
    "min_dim": lambda lib: EMPTY(lib).min(-2),
    "norm_inf": lambda lib: EMPTY(lib).norm(float("inf")),
    "norm_negative_inf": lambda lib: EMPTY(lib).norm(float("-inf")),
    "norm_inf_dim": lambda lib: EMPTY(lib).norm(float("inf"), 0),
    "mv_vector_vector": lambda lib: lib.mv(lib.ones(3), lib.ones(3)),
    "mv_matrix_matrix": lambda lib: lib.mv(lib.ones(2, 3), lib.ones(3, 2)),
    "mv_3d": lambda lib: lib.mv(lib.ones(2, 2, 3), lib.ones(3)),
    "mv_scalar_vec": lambda lib: lib.mv(lib.ones(2, 3), lib.tensor(1.0)),
    "matmul_batch": lambda lib: lib.matmul(lib.ones(2, 2, 3), lib.ones(3, 3, 4)),
    "matmul_batch_4d": lambda lib: lib.matmul(lib.ones(4, 2, 2, 3), lib.ones(3, 3, 4)),
    "matmul_inner": lambda lib: lib.matmul(lib.ones(2, 2, 3), lib.ones(2, 4, 4)),
    "mm_vector": lambda lib: lib.mm(lib.ones(3), lib.ones(3, 2)),
    "mm_3d": lambda lib: lib.mm(lib.ones(2, 3), lib.ones(3, 3, 3)),
    "bmm_2d": lambda lib: lib.bmm(lib.ones(2, 3), lib.ones(3, 2)),
    "bmm_batch": lambda lib: lib.bmm(lib.ones(2, 2, 3), lib.ones(3, 3, 4)),
    "dot_2d": lambda lib: lib.dot(lib.ones(2, 2), lib.ones(2, 2)),
    "dot_sizes": lambda lib: lib.dot(lib.ones(3), lib.ones(4)),
}


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_error_matches_pytorch(name):
    expected = _outcome(ERROR_CASES[name], torch)
    assert expected is not None, "PyTorch accepts this case: it belongs elsewhere"
    assert _outcome(ERROR_CASES[name], ember) == expected


@pytest.mark.parametrize("call", [
    lambda lib: lib.zeros(0, 3).argmax(1),
    lambda lib: lib.zeros(0, 3).amax(1),
    lambda lib: lib.zeros(0, 3).max(1).values,
    lambda lib: lib.zeros(0, 3).norm(float("inf"), 1),
    lambda lib: lib.zeros(0, 3).norm(),
    lambda lib: lib.tensor(2.0).argmax(0),
    lambda lib: lib.tensor(2.0).amax(),
], ids=["argmax", "amax", "max", "norm_inf", "norm_2", "argmax_0d", "amax_0d"])
def test_reductions_over_non_empty_dims_work(call):
    expected, result = call(torch), call(ember)
    assert tuple(result.shape) == tuple(expected.shape)
    assert result.tolist() == expected.tolist()


@pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])
def test_scalar_base_pow_notices_its_exponent_changed_in_place(lib):
    x = lib.ones(3, requires_grad=True)
    exponent = x * 1
    y = 2 ** exponent
    exponent.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_scalar_base_pow_gradient_at_zero_base():
    grads = []
    for lib in (torch, ember):
        x = lib.tensor([0.0, 1.0, -1.0, 2.5], requires_grad=True)
        (0.0 ** x).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]


def test_sign_of_nan_is_zero():
    values = [float("nan"), -2.0, 0.0, 3.0]
    assert ember.sign(ember.tensor(values)).tolist() == torch.sign(torch.tensor(values)).tolist()

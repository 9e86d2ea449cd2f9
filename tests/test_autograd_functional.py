"""ember.autograd.functional against torch.autograd.functional: vjp, jacobian and jvp give
PyTorch's values in PyTorch's structure (tensor / tuple / tuple of tuples), and its errors."""

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import ember
import ember.autograd.functional as EF


def to_torch(value):
    if isinstance(value, tuple):
        return tuple(to_torch(v) for v in value)
    return torch.tensor(value)


def to_ember(value):
    if isinstance(value, tuple):
        return tuple(to_ember(v) for v in value)
    return ember.tensor(value)


def assert_same(ours, theirs):
    """Same nesting of tuples, same shapes and values, no graph on ember's results."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same(o, t)
        return
    assert isinstance(ours, ember.Tensor)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert not ours.requires_grad and ours.grad_fn is None
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-12)


def rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape)


# (name, function written against a module m, inputs, v for vjp (per output), v for jvp)
CASES = [
    ("one_in_one_out", lambda m: lambda x: (x.exp() * x).sum(1), rand(3, 4), rand(3, seed=1),
     rand(3, 4, seed=2)),
    ("scalar_out", lambda m: lambda x: (x ** 3).sum(), rand(5), None, rand(5, seed=1)),
    ("scalar_in", lambda m: lambda x: x * m.tensor([1.0, 2.0, 3.0], dtype=m.float64),
     np.array(0.5), rand(3), None),
    ("two_in_one_out", lambda m: lambda x, y: x @ y, (rand(2, 3), rand(3, 2, seed=1)),
     rand(2, 2, seed=3), (rand(2, 3, seed=4), rand(3, 2, seed=5))),
    ("one_in_two_out", lambda m: lambda x: (x.sin(), (x * x).sum()), rand(4),
     (rand(4, seed=6), np.array(2.0)), rand(4, seed=7)),
    ("two_in_two_out", lambda m: lambda x, y: (x * y, x.tanh()), (rand(3), rand(3, seed=1)),
     (rand(3, seed=8), rand(3, seed=9)), (rand(3, seed=10), rand(3, seed=11))),
    ("unused_input", lambda m: lambda x, y: x * 2, (rand(3), rand(2, seed=1)), rand(3, seed=2),
     (rand(3, seed=3), rand(2, seed=4))),
    ("constant_output", lambda m: lambda x: m.ones(2, dtype=m.float64), rand(3), rand(2),
     rand(3, seed=1)),
]


@pytest.mark.parametrize("name, make, inputs, v, _", CASES, ids=[c[0] for c in CASES])
def test_vjp_matches_torch(name, make, inputs, v, _):
    theirs = TF.vjp(make(torch), to_torch(inputs), None if v is None else to_torch(v))
    ours = EF.vjp(make(ember), to_ember(inputs), None if v is None else to_ember(v))
    assert_same(ours, theirs)


@pytest.mark.parametrize("name, make, inputs, _, __", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("vectorize", [False, True])
def test_jacobian_matches_torch(name, make, inputs, _, __, vectorize):
    theirs = TF.jacobian(make(torch), to_torch(inputs), vectorize=vectorize)
    ours = EF.jacobian(make(ember), to_ember(inputs), vectorize=vectorize)
    assert_same(ours, theirs)


@pytest.mark.parametrize("name, make, inputs, _, v", CASES, ids=[c[0] for c in CASES])
def test_jvp_matches_torch(name, make, inputs, _, v):
    theirs = TF.jvp(make(torch), to_torch(inputs), None if v is None else to_torch(v))
    ours = EF.jvp(make(ember), to_ember(inputs), None if v is None else to_ember(v))
    assert_same(ours, theirs)


def test_jacobian_forward_mode_strategy_gives_the_same_values():
    def f(m):
        return lambda x: x.exp() * x.sum()
    x = rand(3)
    theirs = TF.jacobian(f(torch), to_torch(x), vectorize=True, strategy="forward-mode")
    assert_same(EF.jacobian(f(ember), to_ember(x), vectorize=True, strategy="forward-mode"),
                theirs)


def test_inputs_are_not_modified_and_need_not_require_grad():
    x = ember.tensor([1.0, 2.0])
    EF.jacobian(lambda t: t * t, x)
    assert not x.requires_grad and x.grad is None
    y = ember.tensor([1.0, 2.0], requires_grad=True)
    out, grad = EF.vjp(lambda t: (t * t).sum(), y)
    assert y.grad is None and out.grad_fn is None
    np.testing.assert_array_equal(grad.numpy(), [2.0, 4.0])


def error_of(call):
    with pytest.raises(Exception) as info:
        call()
    return info.type, str(info.value)


@pytest.mark.parametrize("call", [
    lambda m, F: F.vjp(lambda x: x * 2, m.ones(3)),
    lambda m, F: F.vjp(lambda x: x * 2, m.ones(3), m.ones(2)),
    lambda m, F: F.vjp(lambda x: (x, x), m.ones(3), (m.ones(3),)),
    lambda m, F: F.vjp(lambda x: x * 2, m.ones(3), (m.ones(3), m.ones(3))),
    lambda m, F: F.vjp(lambda x: (x, x), m.ones(3), (m.ones(3), m.ones(2))),
    lambda m, F: F.vjp(lambda x: x * 2, [m.ones(3)], m.ones(3)),
    lambda m, F: F.vjp(lambda x, y: x * 2, (m.ones(3), 2.0), m.ones(3)),
    lambda m, F: F.vjp(lambda x: 2.0, m.ones(3), m.ones(3)),
    lambda m, F: F.vjp(lambda x, y: x * 2, (m.ones(3), m.ones(3)), m.ones(3), strict=True),
    lambda m, F: F.vjp(lambda x: m.ones(3), m.ones(3), m.ones(3), strict=True),
    lambda m, F: F.jacobian(lambda x, y: x * 2, (m.ones(3), m.ones(3)), strict=True),
    lambda m, F: F.jacobian(lambda x: x, m.ones(3), strict=True, vectorize=True),
    lambda m, F: F.jacobian(lambda x: x, m.ones(3), strategy="sideways"),
    lambda m, F: F.jacobian(lambda x: x, m.ones(3), strategy="forward-mode"),
    lambda m, F: F.jacobian(lambda x: x, m.ones(3), strategy="forward-mode", strict=True),
    lambda m, F: F.jvp(lambda x: x * 2, m.ones(3)),
    lambda m, F: F.jvp(lambda x: x * 2, m.ones(3), m.ones(2)),
    lambda m, F: F.jvp(lambda x, y: x * y, (m.ones(3), m.ones(3)), (m.ones(3), m.ones(2))),
])
def test_errors_match_torch(call):
    kind, message = error_of(lambda: call(torch, TF))
    ours_kind, ours_message = error_of(lambda: call(ember, EF))
    assert ours_kind is kind
    assert ours_message == message.replace("torch.Size", "ember.Size")


@pytest.mark.parametrize("call", [
    lambda: EF.vjp(lambda x: x.sum(), ember.ones(2), create_graph=True),
    lambda: EF.jacobian(lambda x: x, ember.ones(2), create_graph=True),
    lambda: EF.jvp(lambda x: x, ember.ones(2), ember.ones(2), create_graph=True),
    lambda: EF.jvp(lambda x: x, ember.ones(2), ember.ones(2), strict=True),
    lambda: EF.hessian(lambda x: (x ** 3).sum(), ember.ones(2)),
    lambda: EF.hvp(lambda x: (x ** 3).sum(), ember.ones(2), ember.ones(2)),
    lambda: EF.vhp(lambda x: (x ** 3).sum(), ember.ones(2), ember.ones(2)),
])
def test_second_derivatives_say_create_graph_is_missing(call):
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        call()


def test_reachable_as_torch_autograd_functional():
    assert ember.autograd.functional is EF
    assert sorted(EF.__all__) == sorted(TF.__all__)

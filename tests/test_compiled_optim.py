"""The compiled optimizer updates (ember/_C/adaptive.c: Adam and AdamW, RMSprop, Adagrad)
against their NumPy twins: the same bits in parameters and state after several steps, over
options and dtypes, with parameters that join late, are 0-d or empty, and with refused arrays
taking the NumPy code (``make test`` also runs tests/test_optim.py against PyTorch without the
extension)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from ember import _C

needs_kernels = pytest.mark.skipif(_C.kernels is None, reason=f"ember._C: {_C.reason}")

SHAPES = [(3, 4), (5,), (), (0, 2), (2, 3)]


def _run(make, dtype, steps=5, seed=1):
    """Parameters and state (as arrays) after ``steps`` updates of ``make(params)``; one
    parameter joins on step 3 and one has no gradient on step 2."""
    rng = np.random.default_rng(seed)
    params = [ember.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
              for shape in SHAPES]
    optimizer = make(params)
    for step in range(steps):
        for index, param in enumerate(params):
            grad = rng.standard_normal(param.shape).astype(dtype)
            late, missing = index == 1 and step < 3, index == 4 and step == 2
            param.grad = None if late or missing else ember.tensor(grad)
        optimizer.step()
    arrays = [p.detach().numpy() for p in params]
    for param in params:
        state = optimizer.state[param]
        arrays += [state[key].numpy() for key in sorted(state)]
    return arrays


def _assert_same_bits(make, dtype):
    compiled = _run(make, dtype)
    kernels, _C.kernels = _C.kernels, None
    try:
        reference = _run(make, dtype)
    finally:
        _C.kernels = kernels
    assert len(compiled) == len(reference)
    for got, want in zip(compiled, reference):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@needs_kernels
@settings(max_examples=40, deadline=None)
@given(amsgrad=st.booleans(), maximize=st.booleans(), decoupled=st.booleans(),
       weight_decay=st.sampled_from([0.0, 0.05]), lr=st.sampled_from([1e-3, 0.1]),
       betas=st.sampled_from([(0.9, 0.999), (0.5, 0.9), (0.0, 0.0)]),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_adam_kernel_matches_numpy_bit_for_bit(amsgrad, maximize, decoupled, weight_decay, lr,
                                               betas, dtype):
    _assert_same_bits(lambda params: ember.optim.Adam(
        params, lr=lr, betas=betas, weight_decay=weight_decay, amsgrad=amsgrad,
        maximize=maximize, decoupled_weight_decay=decoupled), dtype)


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adamw_kernel_matches_numpy_bit_for_bit(dtype):
    _assert_same_bits(lambda params: ember.optim.AdamW(params, lr=0.01, amsgrad=True), dtype)


@needs_kernels
@settings(max_examples=30, deadline=None)
@given(centered=st.booleans(), momentum=st.sampled_from([0.0, 0.9]), maximize=st.booleans(),
       weight_decay=st.sampled_from([0.0, 0.05]), alpha=st.sampled_from([0.99, 0.5]),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_rmsprop_kernel_matches_numpy_bit_for_bit(centered, momentum, maximize, weight_decay,
                                                  alpha, dtype):
    _assert_same_bits(lambda params: ember.optim.RMSprop(
        params, lr=0.01, alpha=alpha, weight_decay=weight_decay, momentum=momentum,
        centered=centered, maximize=maximize), dtype)


@needs_kernels
@settings(max_examples=20, deadline=None)
@given(lr_decay=st.sampled_from([0.0, 0.1]), maximize=st.booleans(),
       weight_decay=st.sampled_from([0.0, 0.05]), initial=st.sampled_from([0.0, 0.5]),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_adagrad_kernel_matches_numpy_bit_for_bit(lr_decay, maximize, weight_decay, initial,
                                                  dtype):
    _assert_same_bits(lambda params: ember.optim.Adagrad(
        params, lr=0.1, lr_decay=lr_decay, weight_decay=weight_decay,
        initial_accumulator_value=initial, maximize=maximize), dtype)


@needs_kernels
def test_adagrad_kernel_for_a_group_added_later():
    def make(params):
        optimizer = ember.optim.Adagrad(params[:2], lr=0.1)
        optimizer.add_param_group({"params": params[2:], "lr_decay": 0.5})
        return optimizer
    _assert_same_bits(make, np.float32)


@needs_kernels
def test_adam_kernel_runs_on_contiguous_float_arrays(monkeypatch):
    calls = []
    kernel = _C.kernels.adam_step

    class Spy:
        def __getattr__(self, name):
            return getattr(kernel.__self__, name)

        @staticmethod
        def adam_step(*args):
            calls.append(len(args[0]))
            return kernel(*args)

    monkeypatch.setattr(_C, "kernels", Spy())
    weight = ember.ones(2, 3, requires_grad=True)
    bias = ember.ones(3, requires_grad=True)
    optimizer = ember.optim.Adam([weight, bias], lr=0.1)
    weight.grad, bias.grad = ember.ones(2, 3), ember.ones(3)
    optimizer.step()
    assert calls == [2]  # one call for the group
    weight.grad = ember.ones(3, 2).t()  # not contiguous: the NumPy code
    optimizer.step()
    assert calls == [2]
    assert float(optimizer.state[weight]["step"]) == 2.0
    np.testing.assert_allclose(weight.detach().numpy(), np.full((2, 3), 0.8), rtol=1e-6)


@needs_kernels
def test_adam_kernel_refuses_arrays_it_cannot_read():
    adam = _C.kernels.adam_step
    param, grad = np.zeros(4, np.float32), np.ones(4, np.float32)
    moments = [np.zeros(4, np.float32), np.zeros(4, np.float32)]
    hyper = (0.1, 0.9, 0.999, 1e-8, 0.0, False, False, False)
    with pytest.raises(ValueError, match="one length"):
        adam([param], [grad], [moments[0]], [moments[1]], [None], [], *hyper)
    with pytest.raises(ValueError, match="expected 4 elements, got 3"):
        adam([param], [grad], [moments[0][:3]], [moments[1]], [None],
             [np.zeros((), np.float32)], *hyper)
    with pytest.raises(TypeError, match="float32"):
        adam([param], [grad], moments[:1], moments[1:], [None], [np.zeros((), np.int64)],
             *hyper)
    with pytest.raises(ValueError, match="expected 1 elements, got 2"):
        adam([param], [grad], moments[:1], moments[1:], [None], [np.zeros(2)], *hyper)
    assert not param.any() and not moments[0].any()  # nothing was written by a refused call

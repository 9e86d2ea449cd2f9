"""Behaviour of cumsum/cumprod, flip/roll, sort/argsort/topk, the rounding and log ops, lerp and
F.pad's reflect/replicate/circular modes beyond the op table: errors, ties, NaN and edge sizes,
each compared with PyTorch."""

import itertools
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F


def _pair(array, requires_grad=False):
    ours = ember.tensor(array)
    theirs = torch.tensor(array)
    if requires_grad:
        ours.requires_grad_()
        theirs.requires_grad_()
    return ours, theirs


def _same(ours, theirs, atol=1e-6):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=atol)


def _raised(call, lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as info:
            call(lib)
    return info.type, str(info.value).replace("torch.", "ember.")


ERRORS = [
    ("topk_too_large", lambda lib: lib.topk(lib.zeros(3), 4)),
    ("topk_negative", lambda lib: lib.zeros(2, 3).topk(-1)),
    ("topk_dim", lambda lib: lib.topk(lib.zeros(3), 1, dim=1)),
    ("sort_dim", lambda lib: lib.sort(lib.zeros(2, 3), dim=2)),
    ("cumsum_dim", lambda lib: lib.cumsum(lib.zeros(3), 1)),
    ("cumprod_dim", lambda lib: lib.zeros(2, 3).cumprod(-3)),
    ("flip_repeated", lambda lib: lib.flip(lib.zeros(2, 3), (0, -2))),
    ("flip_dim", lambda lib: lib.zeros(2, 3).flip(2)),
    ("roll_mismatch", lambda lib: lib.roll(lib.zeros(2, 3), (1, 2), 0)),
    ("roll_no_dims", lambda lib: lib.roll(lib.zeros(2, 3), (1, 2))),
    ("roll_dim", lambda lib: lib.roll(lib.zeros(2, 3), 1, 2)),
    ("floor_bool", lambda lib: lib.floor(lib.tensor([True]))),
    ("ceil_bool", lambda lib: lib.tensor([True]).ceil()),
    ("round_bool", lambda lib: lib.round(lib.tensor([True]))),
    ("round_decimals_int", lambda lib: lib.round(lib.tensor([1, 2]), decimals=1)),
    ("round_decimals_zero_int", lambda lib: lib.round(lib.tensor([1, 2]), decimals=0)),
    ("lerp_dtypes", lambda lib: lib.lerp(lib.zeros(3), lib.zeros(3, dtype=lib.float64), 0.5)),
    ("lerp_int", lambda lib: lib.lerp(lib.tensor([1, 2]), lib.tensor([1, 2]), 0.5)),
    ("lerp_shapes", lambda lib: lib.lerp(lib.zeros(3), lib.zeros(2), 0.5)),
    ("pad_mode", lambda lib: lib.nn.functional.pad(lib.zeros(1, 3), (1, 1), mode="mirror")),
    ("pad_reflect_value",
     lambda lib: lib.nn.functional.pad(lib.zeros(1, 3), (1, 1), mode="reflect", value=1.0)),
    ("pad_circular_value",
     lambda lib: lib.nn.functional.pad(lib.zeros(1, 3), (1, 1), mode="circular", value=2)),
    ("pad_reflect_dims",
     lambda lib: lib.nn.functional.pad(lib.zeros(1, 2, 3, 4), (1, 1), mode="reflect")),
    ("pad_replicate_dims",
     lambda lib: lib.nn.functional.pad(lib.zeros(3, 4), (1, 1, 1, 1), mode="replicate")),
    ("pad_circular_dims",
     lambda lib: lib.nn.functional.pad(lib.zeros(4), (1, 1), mode="circular")),
    ("pad_reflect_too_wide",
     lambda lib: lib.nn.functional.pad(lib.zeros(1, 2, 4), (4, 0), mode="reflect")),
    ("pad_reflect_too_tall",
     lambda lib: lib.nn.functional.pad(lib.zeros(1, 2, 3, 3), (1, 1, 3, 0), mode="reflect")),
    ("pad_reflect_empty",
     lambda lib: lib.nn.functional.pad(lib.zeros(1, 2, 0), (1, 1), mode="reflect")),
    ("pad_replicate_empty_channels",
     lambda lib: lib.nn.functional.pad(lib.zeros(1, 0, 3, 2), (1, 1, 1, 0), mode="replicate")),
    ("pad_replicate_too_small",
     lambda lib: lib.nn.functional.pad(lib.zeros(1, 2, 4), (-4, 0), mode="replicate")),
    ("pad_replicate_too_small_2d",
     lambda lib: lib.nn.functional.pad(lib.zeros(1, 2, 3, 3), (-1, -2, -1, -2),
                                       mode="replicate")),
    ("pad_circular_wraps_twice",
     lambda lib: lib.nn.functional.pad(lib.zeros(1, 2, 4), (5, 0), mode="circular")),
    ("pad_circular_negative",
     lambda lib: lib.nn.functional.pad(lib.zeros(1, 2, 4), (-5, 0), mode="circular")),
]


@pytest.mark.parametrize("call", [pytest.param(call, id=name) for name, call in ERRORS])
def test_errors_match_torch(call):
    """The same exception type and message as PyTorch (``torch.`` read as ``ember.``)."""
    assert _raised(call, ember) == _raised(call, torch)


def test_lerp_end_must_be_a_tensor():
    with pytest.raises(TypeError, match="lerp"):
        ember.lerp(ember.zeros(2), 1.0, 0.5)
    with pytest.raises(TypeError):
        torch.lerp(torch.zeros(2), 1.0, 0.5)


# ---- sorting: ties, stability, NaN, gradients -----------------------------------------------

@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sort_with_many_ties_is_stable_like_torch(descending, dim):
    values = np.random.default_rng(3).integers(0, 4, size=(6, 7, 5)).astype(np.float32)
    ours, theirs = _pair(values, requires_grad=True)
    result = ember.sort(ours, dim=dim, descending=descending, stable=True)
    expected = torch.sort(theirs, dim=dim, descending=descending, stable=True)
    _same(result.values, expected.values)
    _same(result.indices, expected.indices)
    _same(ember.argsort(ours, dim=dim, descending=descending, stable=True),
          torch.argsort(theirs, dim=dim, descending=descending, stable=True))
    seed = np.random.default_rng(4).standard_normal(values.shape).astype(np.float32)
    result.values.backward(ember.tensor(seed))
    expected.values.backward(torch.tensor(seed))
    _same(ours.grad, theirs.grad)


def test_sort_return_type_and_nan_order():
    ours, theirs = _pair(np.array([[2.0, np.nan, -1.0, np.nan, 0.5]], np.float32))
    for descending in (False, True):
        result = ours.sort(descending=descending)
        expected = theirs.sort(descending=descending)
        np.testing.assert_array_equal(result.values.numpy(), expected.values.numpy())
        np.testing.assert_array_equal(result.indices.numpy(), expected.indices.numpy())
    values, indices = ember.sort(ember.tensor([3.0, 1.0]))
    assert values.tolist() == [1.0, 3.0] and indices.tolist() == [1, 0]
    assert type(ember.sort(ember.zeros(2))).__name__ == "sort"
    assert type(ember.topk(ember.zeros(2), 1)).__name__ == "topk"
    assert repr(ember.sort(ember.tensor([2.0, 1.0]))).startswith("ember.return_types.sort(")


def test_sort_and_topk_of_a_0d_tensor():
    ours, theirs = _pair(np.array(2.5, np.float32), requires_grad=True)
    for name in ("sort", "topk"):
        args = (1,) if name == "topk" else ()
        result = getattr(ours, name)(*args)
        expected = getattr(theirs, name)(*args)
        _same(result.values, expected.values)
        _same(result.indices, expected.indices)
    ours.sort().values.backward()
    assert ours.grad.item() == 1.0


def test_topk_indices_are_not_differentiable_and_values_backprop():
    ours, theirs = _pair(np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::-1].copy(),
                         requires_grad=True)
    result = ours.topk(2, dim=1, largest=False)
    expected = theirs.topk(2, dim=1, largest=False)
    assert not result.indices.requires_grad and result.indices.grad_fn is None
    assert result.values.grad_fn.name() == expected.values.grad_fn.name() == "TopkBackward0"
    (result.values * 3).sum().backward()
    (expected.values * 3).sum().backward()
    _same(ours.grad, theirs.grad)


def test_sort_under_no_grad_records_nothing():
    x = ember.randn(4, requires_grad=True)
    with ember.no_grad():
        result = x.sort()
    assert result.values.grad_fn is None and not result.values.requires_grad


# ---- cumsum / cumprod -------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, 2])
def test_cumprod_gradient_with_zeros_matches_torch(dim):
    rng = np.random.default_rng(5)
    values = rng.standard_normal((4, 5, 3)).astype(np.float64)
    values[rng.random(values.shape) < 0.3] = 0.0  # several zeros per slice, some adjacent
    ours, theirs = _pair(values, requires_grad=True)
    seed = rng.standard_normal(values.shape)
    ember.cumprod(ours, dim).backward(ember.tensor(seed))
    torch.cumprod(theirs, dim).backward(torch.tensor(seed))
    _same(ours.grad, theirs.grad, atol=1e-12)


def test_cumprod_detects_inplace_change_of_its_input():
    x = ember.randn(3, requires_grad=True)
    h = x * 1
    y = h.cumprod(0)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_cumsum_dtypes_match_torch():
    for array in (np.arange(4, dtype=np.int32), np.array([True, False, True]),
                  np.arange(4, dtype=np.uint8), np.ones(3, np.float64)):
        ours, theirs = _pair(array)
        _same(ours.cumsum(0), theirs.cumsum(0))
        _same(ember.cumprod(ours, 0), torch.cumprod(theirs, 0))
        _same(ours.cumsum(0, dtype=ember.float32), theirs.cumsum(0, dtype=torch.float32))


# ---- flip / roll ------------------------------------------------------------------------------

def test_flip_copies_and_roll_flattens():
    x = ember.arange(6).reshape(2, 3)
    flipped = x.flip(0)
    flipped[0, 0] = 100
    assert x[1, 0].item() == 3  # flip is a copy, as in PyTorch
    t = torch.arange(6).reshape(2, 3)
    _same(x.roll(-4), t.roll(-4))
    _same(ember.roll(x, (1, 1), (1, 1)), torch.roll(t, (1, 1), (1, 1)))
    _same(ember.flip(ember.tensor(2.0), ()), torch.flip(torch.tensor(2.0), ()))


# ---- elementwise ------------------------------------------------------------------------------

def test_rounding_and_logs_at_special_values():
    values = np.array([-np.inf, -2.5, -0.5, -0.0, 0.0, 0.5, 2.5, 1e-9, np.inf, np.nan],
                      np.float32)
    ours, theirs = _pair(values)
    for name in ("floor", "ceil", "round", "log1p", "expm1", "log2", "log10"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # NumPy's divide/invalid warnings stay quiet
            result = getattr(ember, name)(ours)
        np.testing.assert_allclose(result.numpy(), getattr(torch, name)(theirs).numpy(),
                                   rtol=1e-6, atol=0, err_msg=name)


def test_rounding_gradients_are_zero_even_for_infinite_grads():
    ours, theirs = _pair(np.array([0.3, 1.7], np.float32), requires_grad=True)
    for name in ("floor", "ceil", "round"):
        ours.grad = theirs.grad = None
        getattr(ember, name)(ours).backward(ember.tensor([np.inf, 1.0]))
        getattr(torch, name)(theirs).backward(torch.tensor([np.inf, 1.0]))
        _same(ours.grad, theirs.grad)


def test_lerp_weight_tensor_gradient_and_name():
    start, tstart = _pair(np.array([1.0, 2.0], np.float32), requires_grad=True)
    end, tend = _pair(np.array([3.0, -2.0], np.float32))
    weight, tweight = _pair(np.array([[0.5], [2.0]], np.float32), requires_grad=True)
    result, expected = ember.lerp(start, end, weight), torch.lerp(tstart, tend, tweight)
    assert result.grad_fn.name() == expected.grad_fn.name()
    result.sum().backward()
    expected.sum().backward()
    _same(start.grad, tstart.grad)
    _same(weight.grad, tweight.grad)
    assert end.grad is None


# ---- F.pad in reflect, replicate and circular modes -------------------------------------------

AMOUNTS = range(-3, 5)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_1d_every_amount_matches_torch(mode):
    """Every (left, right) in -3..4 on a width of 4: the same values and gradients as PyTorch,
    or the same error."""
    values = np.arange(8, dtype=np.float64).reshape(1, 2, 4) ** 1.5
    seed_rng = np.random.default_rng(6)
    for amounts in itertools.product(AMOUNTS, AMOUNTS):
        ours, theirs = _pair(values, requires_grad=True)
        try:
            expected = TF.pad(theirs, amounts, mode=mode)
        except RuntimeError as error:
            if "refer to a single memory location" in str(error):
                continue  # PyTorch cannot wrap around an empty or cropped-away middle
            with pytest.raises(RuntimeError) as info:
                F.pad(ours, amounts, mode=mode)
            assert str(info.value) == str(error), amounts
            continue
        result = F.pad(ours, amounts, mode=mode)
        period = 4 - max(-amounts[0], 0) - max(-amounts[1], 0)
        if mode == "circular" and max(amounts) > period:
            # PyTorch wraps by copying slices of its output into itself; where a pad is wider
            # than what cropping left, those copies overlap: it may read unwritten memory, and
            # its gradient loses part of the output's. Ours repeats the period, exactly.
            continue
        _same(result, expected)
        if expected.numel():
            seed = seed_rng.standard_normal(tuple(expected.shape))
            result.backward(ember.tensor(seed))
            expected.backward(torch.tensor(seed))
            _same(ours.grad, theirs.grad, atol=1e-12)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_2d_integer_input_and_grad_fn(mode):
    values = np.arange(24).reshape(2, 3, 4)
    ours, theirs = _pair(values)
    _same(F.pad(ours, (1, 2, 2, 1), mode=mode), TF.pad(theirs, (1, 2, 2, 1), mode=mode))
    x, tx = _pair(np.ones((1, 1, 3, 3), np.float32), requires_grad=True)
    assert (F.pad(x, (1, 1, 1, 1), mode=mode).grad_fn.name()
            == TF.pad(tx, (1, 1, 1, 1), mode=mode).grad_fn.name())
    assert F.pad(x, (0, 0, 0, 0), mode=mode)._data is not x._data  # always a new tensor


def test_pad_circular_around_nothing_is_an_error():
    """PyTorch returns uninitialised memory when cropping leaves nothing to wrap around."""
    with pytest.raises(RuntimeError, match="nothing to wrap around"):
        F.pad(ember.zeros(1, 2, 4), (-4, 1), mode="circular")
    assert F.pad(ember.zeros(1, 2, 4), (-2, -2), mode="circular").shape == (1, 2, 0)


# ---- issue 10: multinomial, factories with out=, legacy types, memory formats, indexing -----

def test_multinomial_distribution_with_replacement():
    """Frequencies of 40000 draws per row within 1.5% of the weights (normalized)."""
    ember.manual_seed(0)
    weights = [[1.0, 2.0, 7.0, 0.0], [0.0, 5.0, 5.0, 0.0]]
    draws = ember.multinomial(ember.tensor(weights), 40000, replacement=True)
    assert draws.shape == (2, 40000) and draws.dtype == ember.int64
    for row, weight in zip(draws.numpy(), weights):
        frequencies = np.bincount(row, minlength=4) / row.size
        np.testing.assert_allclose(frequencies, np.array(weight) / sum(weight), atol=0.015)


def test_multinomial_without_replacement():
    """No repeats in a row; the first draw follows the weights; zero weights come last."""
    ember.manual_seed(1)
    weights = ember.tensor([[1.0, 3.0, 0.0, 4.0]]).repeat(20000, 1)
    draws = ember.multinomial(weights, 3).numpy()
    assert all(len(set(row)) == 3 for row in draws[:100])
    assert not (draws == 2).any()  # three categories of weight > 0: the zero one never drawn
    np.testing.assert_allclose(np.bincount(draws[:, 0], minlength=4) / len(draws),
                               [0.125, 0.375, 0.0, 0.5], atol=0.015)
    assert ember.multinomial(ember.tensor([0.0, 2.0, 0.0]), 3).tolist()[0] == 1


def test_multinomial_generator_and_out():
    weights = ember.tensor([0.2, 0.3, 0.5])
    first = ember.multinomial(weights, 10, True, generator=ember.Generator().manual_seed(3))
    again = ember.multinomial(weights, 10, True, generator=ember.Generator().manual_seed(3))
    assert first.tolist() == again.tolist()
    out = ember.empty(0, dtype=ember.int64)
    assert ember.multinomial(weights, 2, out=out) is out and out.shape == (2,)
    assert weights.multinomial(1).shape == (1,)


@pytest.mark.parametrize("make", [
    lambda lib, out: lib.zeros(2, 3, out=out),
    lambda lib, out: lib.ones((4,), out=out),
    lambda lib, out: lib.full((2, 2), 7, out=out),
    lambda lib, out: lib.arange(5, out=out),
    lambda lib, out: lib.arange(0, 1, 0.25, out=out),
    lambda lib, out: lib.linspace(0, 1, 5, out=out),
    lambda lib, out: lib.eye(3, out=out),
    lambda lib, out: lib.empty(2, 2, out=out).shape,
])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_factories_write_into_out(make, dtype):
    """The result goes into ``out`` (resized silently) in out's dtype, as in PyTorch."""
    ours_out = ember.empty(5, dtype=getattr(ember, dtype))
    theirs_out = torch.empty(5, dtype=getattr(torch, dtype))
    try:
        theirs = make(torch, theirs_out)
    except Exception as error:  # arange(0, 1, 0.25) into int64: its step rounds to 0
        with pytest.raises(type(error)):
            make(ember, ours_out)
        return
    ours = make(ember, ours_out)
    if isinstance(theirs, torch.Size):
        assert tuple(ours) == tuple(theirs) and ours_out.shape == theirs_out.shape
        return
    assert ours is ours_out
    _same(ours, theirs)


def test_random_factories_write_into_out():
    out = ember.empty(3, dtype=ember.float64)
    for make in (ember.rand, ember.randn):
        assert make(2, 4, out=out) is out and out.shape == (2, 4) and out.dtype == ember.float64
    ints = ember.empty(0, dtype=ember.int64)
    assert ember.randint(0, 5, (6,), out=ints) is ints and ints.shape == (6,)
    assert 0 <= int(ints.min()) and int(ints.max()) < 5
    assert sorted(ember.randperm(4, out=ints).tolist()) == [0, 1, 2, 3]


def test_factory_out_errors_as_pytorch():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match=r"dtype Float does not match dtype of out "
                                                r"parameter \(Double\)"):
            lib.zeros(2, dtype=lib.float32, out=lib.empty(2, dtype=lib.float64))
        with pytest.raises(RuntimeError, match="functions with out=... arguments don't "
                                               "support automatic differentiation"):
            lib.ones(2, out=lib.empty(2, requires_grad=True))


def test_empty_forms_and_empty_strided():
    for ours, theirs in ((ember.empty(0), torch.empty(0)),
                         (ember.empty((2, 3)), torch.empty((2, 3))),
                         (ember.empty(2, 3, dtype=ember.int32), torch.empty(2, 3,
                                                                           dtype=torch.int32)),
                         (ember.empty([]), torch.empty([]))):
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert str(ours.dtype)[6:] == str(theirs.dtype)[6:]
    ours, theirs = ember.empty_strided((2, 3), (1, 2)), torch.empty_strided((2, 3), (1, 2))
    assert ours.stride() == theirs.stride() and ours.shape == theirs.shape
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match=r"dimensionality of sizes \(2\) must match "
                                               r"dimensionality of strides \(1\)"):
            lib.empty_strided((2, 3), (1,))


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor",
                                  "IntTensor", "ShortTensor", "CharTensor", "ByteTensor",
                                  "BoolTensor"])
def test_legacy_tensor_types(name):
    """Called with sizes or data; isinstance by dtype; ``t.type(...)`` converts."""
    ours_type, theirs_type = getattr(ember, name), getattr(torch, name)
    ours, theirs = ours_type([1, 0, 2]), theirs_type([1, 0, 2])
    _same(ours, theirs)
    assert type(ours) is ember.Tensor
    assert ours_type(2, 3).shape == theirs_type(2, 3).shape
    assert ours_type(ember.Size([4])).shape == (4,)
    for dtype in ("float32", "int64", "bool"):
        assert isinstance(ember.zeros(1, dtype=getattr(ember, dtype)), ours_type) == \
            isinstance(torch.zeros(1, dtype=getattr(torch, dtype)), theirs_type)
    converted = ember.tensor([1.5, 0.0]).type(ours_type)
    _same(converted, torch.tensor([1.5, 0.0]).type(theirs_type))
    assert ember.tensor([1.5]).type(f"torch.{name}").dtype == converted.dtype


def test_legacy_constructors_and_type_names():
    assert ember.Tensor(2, 3).shape == (2, 3)
    _same(ember.Tensor([1, 2]), torch.Tensor([1, 2]))
    assert ember.ones(2).type() == "ember.FloatTensor"
    assert ember.ones(2, dtype=ember.int64).type() == "ember.LongTensor"
    with pytest.raises(TypeError):
        ember.FloatTensor(ember.tensor([1, 2]))
    with pytest.raises(ValueError, match="invalid type"):
        ember.ones(2).type("torch.NoSuchTensor")


def test_predicates():
    for make in (lambda lib: lib.ones(2), lambda lib: lib.ones(2, dtype=lib.int64),
                 lambda lib: lib.ones(2, dtype=lib.bool)):
        ours, theirs = make(ember), make(torch)
        assert ember.is_floating_point(ours) == torch.is_floating_point(theirs)
        assert ember.is_complex(ours) == torch.is_complex(theirs) is False
        assert ours.is_complex() == theirs.is_complex()
        assert ours.is_sparse == theirs.is_sparse is False
    assert ember.ones(1, requires_grad=True).is_leaf


@pytest.mark.parametrize("make", [
    lambda lib: lib.ones(2, 3, 4, 5).contiguous(memory_format=lib.channels_last),
    lambda lib: lib.ones(2, 3, 4, 5).clone(memory_format=lib.channels_last),
    lambda lib: lib.ones(2, 3, 4, 5).contiguous(memory_format=lib.channels_last).clone(),
    lambda lib: lib.ones(2, 3, 4, 5).contiguous(memory_format=lib.channels_last)
    .contiguous(),
    lambda lib: lib.ones(2, 3, 4, 5).contiguous(memory_format=lib.channels_last)
    .clone(memory_format=lib.contiguous_format),
    lambda lib: lib.ones(2, 3, 4).permute(2, 0, 1).clone(),
    lambda lib: lib.ones(2, 3, 4).permute(2, 0, 1).clone(memory_format=lib.preserve_format),
    lambda lib: lib.ones(2, 3, 4)[:, ::2].clone(),
    lambda lib: lib.ones(2, 3).t().contiguous(memory_format=lib.contiguous_format),
    lambda lib: lib.ones(1, 2, 3, 4, 5).contiguous(memory_format=lib.channels_last_3d),
])
def test_memory_formats(make):
    ours, theirs = make(ember), make(torch)
    assert ours.stride() == theirs.stride()
    assert ours.is_contiguous() == theirs.is_contiguous()
    if ours.ndim == 4:
        assert ours.is_contiguous(memory_format=ember.channels_last) == \
            theirs.is_contiguous(memory_format=torch.channels_last)
    assert repr(ember.channels_last) == "ember.channels_last"


def test_memory_format_errors_and_gradient():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last "
                                               "format"):
            lib.ones(2, 3).contiguous(memory_format=lib.channels_last)
    x = ember.randn(2, 3, 2, 2, requires_grad=True)
    y = x.contiguous(memory_format=ember.channels_last)
    (y * ember.arange(24.0).reshape(2, 3, 2, 2)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(24.0).reshape(2, 3, 2, 2))


@pytest.mark.parametrize("key", [range(1, 3), range(0, 3, 2), (range(2), 1), [0, slice(1, 3)],
                                 [[0, 1], [1, 2]], [slice(None), [0, 2]], [None, 0]])
def test_indexing_with_ranges_and_lists_of_slices(key):
    """A range indexes as the list of its numbers; a list holding slices or sequences indexes
    as the tuple of its items (PyTorch's legacy rule, with its warning)."""
    ours, theirs = _pair(np.arange(15.0).reshape(3, 5))
    with warnings.catch_warnings(record=True) as ours_warnings:
        warnings.simplefilter("always")
        ours_value = ours[key]
    with warnings.catch_warnings(record=True) as theirs_warnings:
        warnings.simplefilter("always")
        theirs_value = theirs[key]
    _same(ours_value, theirs_value)
    assert len(ours_warnings) == len(theirs_warnings)
    ours[key] = -1.0
    theirs[key] = -1.0
    _same(ours, theirs)


@pytest.mark.parametrize("assign", [
    lambda x: x.__setitem__(slice(None, None, 2), x[1]),
    lambda x: x.__setitem__((), x[3]),
    lambda x: x.__setitem__(slice(1, 3), x[2]),
    lambda x: x.__setitem__(1, x[1]),
])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_setitem_of_a_0d_element_of_the_same_tensor_fills(assign, requires_grad):
    """A 0-d tensor written through basic indexing is read, then filled in: it may be an
    element of the very tensor written, as PyTorch allows (fuzz finding 76)."""
    leaves = _pair(np.array([1.5, -2.0, 0.25, 4.0, 3.0]), requires_grad)
    results = []
    for leaf in leaves:
        x = leaf * 1.0
        assign(x)
        if requires_grad:
            (x * x).sum().backward()
        results.append(x)
    _same(*results)
    if requires_grad:
        _same(leaves[0].grad, leaves[1].grad)


def test_setitem_of_an_overlapping_slice_still_raises():
    for lib in (ember, torch):
        x = lib.arange(6.0)
        with pytest.raises(RuntimeError, match="single memory location"):
            x[1:4] = x[0:3]


@pytest.mark.parametrize("call, message", [
    (lambda lib: lib.linalg.inv(lib.tensor([[1.0, 2.0], [2.0, 4.0]])),
     "linalg.inv: The diagonal element 2 is zero, the inversion could not be completed because "
     "the input matrix is singular."),
    (lambda lib: lib.linalg.inv(lib.stack([lib.eye(2), lib.zeros(2, 2)])),
     "linalg.inv: (Batch element 1): The diagonal element 1 is zero, the inversion could not "
     "be completed because the input matrix is singular."),
    (lambda lib: lib.linalg.solve(lib.zeros(2, 2), lib.ones(2)),
     "{lib}.linalg.solve: The solver failed because the input matrix is singular."),
    (lambda lib: lib.linalg.cholesky(-lib.eye(2)),
     "linalg.cholesky: The factorization could not be completed because the input is not "
     "positive-definite (the leading minor of order 1 is not positive-definite)."),
    (lambda lib: lib.linalg.cholesky(lib.tensor([[1.0, 2.0], [2.0, 1.0]])),
     "linalg.cholesky: The factorization could not be completed because the input is not "
     "positive-definite (the leading minor of order 2 is not positive-definite)."),
])
def test_linalg_errors_are_linalg_errors(call, message):
    """A singular or indefinite matrix raises ``linalg.LinAlgError`` (a RuntimeError)."""
    for lib in (ember, torch):
        with pytest.raises(lib.linalg.LinAlgError) as info:
            call(lib)
        assert str(info.value) == message.format(lib=lib.__name__)
        assert isinstance(info.value, RuntimeError)


def test_cross_without_dim_warns_and_takes_the_first_dim_of_size_3():
    a, b = np.random.default_rng(0).standard_normal((2, 3, 3)).astype(np.float32)
    with pytest.warns(UserWarning, match="Using torch.cross without specifying the dim arg"):
        ours = ember.cross(ember.tensor(a), ember.tensor(b))
    with pytest.warns(UserWarning):
        theirs = torch.cross(torch.tensor(a), torch.tensor(b))
    _same(ours, theirs, atol=1e-5)


def test_random_fills_in_place():
    """bernoulli_, bernoulli, random_ and exponential_: ranges, means and dtypes."""
    ember.manual_seed(2)
    x = ember.empty(20000)
    assert x.bernoulli_(0.3) is x
    assert set(np.unique(x.numpy())) <= {0.0, 1.0} and abs(float(x.mean()) - 0.3) < 0.02
    probabilities = ember.tensor([0.0, 1.0]).repeat(100)
    np.testing.assert_array_equal(ember.bernoulli(probabilities).numpy(), probabilities.numpy())
    with pytest.raises(RuntimeError, match="Expected p_in >= 0 && p_in <= 1"):
        ember.bernoulli(ember.tensor([1.5]))
    ints = ember.empty(5000, dtype=ember.int64).random_(3, 7)
    assert set(np.unique(ints.numpy())) == {3, 4, 5, 6}
    assert set(np.unique(ember.empty(5000).random_(4).numpy())) == {0.0, 1.0, 2.0, 3.0}
    assert float(ember.empty(5000).random_().max()) <= 2 ** 24
    draws = ember.empty(20000, dtype=ember.float64).exponential_(2.0)
    assert draws.dtype == ember.float64 and abs(float(draws.mean()) - 0.5) < 0.02
    with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to'"):
        ember.empty(2).random_(5, 5)
    leaf = ember.ones(2, requires_grad=True)
    for lib_leaf in (leaf, torch.ones(2, requires_grad=True)):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            lib_leaf.bernoulli_(0.5)


def test_type_as_and_predicates():
    _same(ember.ones(2).type_as(ember.tensor([1])), torch.ones(2).type_as(torch.tensor([1])))
    assert ember.ones(2).is_same_size(ember.zeros(2)) and not ember.ones(2).is_same_size(
        ember.zeros(3))
    assert ember.tensor([2.0]).is_nonzero() is True
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        ember.ones(2).is_nonzero()


@pytest.mark.parametrize("args", [(3, 3), (3, 4, 1), (4, 2, -1), (0, 3), (3, 3, 5)])
def test_triangle_indices(args):
    for name in ("tril_indices", "triu_indices"):
        ours, theirs = getattr(ember, name)(*args), getattr(torch, name)(*args)
        _same(ours, theirs)


def test_legacy_svd_as_pytorch():
    """torch.svd returns V (not its transpose), reduced unless some=False, and zero U and V
    when compute_uv=False; the gradient through a sign-free use equals PyTorch's."""
    rng = np.random.default_rng(0)
    values, weights = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3))
    results = {}
    for lib in (ember, torch):
        a = lib.tensor(values, requires_grad=True)
        U, S, V = lib.svd(a)
        product = (U * S.unsqueeze(-2)) @ V.transpose(-2, -1) + U @ V.transpose(-2, -1)
        (product * lib.tensor(weights)).sum().backward()
        full = lib.svd(a.detach(), some=False)
        values_only = a.detach().svd(compute_uv=False)
        results[lib] = (product.detach().numpy(), S.detach().numpy(), a.grad.numpy(),
                        tuple(full.U.shape), tuple(full.V.shape),
                        values_only.U.numpy(), values_only.V.numpy(), values_only.S.numpy(),
                        V.grad_fn.name())
    for ours, theirs in zip(results[ember], results[torch]):
        if isinstance(ours, np.ndarray):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
        else:
            assert ours == theirs


def test_randint_takes_size_by_keyword():
    for lib in (ember, torch):
        assert tuple(lib.randint(5, size=(3,)).shape) == (3,)
        assert tuple(lib.randint(5, (2, 2)).shape) == (2, 2)
        assert tuple(lib.randint(2, 5, size=(4,)).shape) == (4,)
        assert int(lib.randint(3, 4, size=()).item()) == 3


@pytest.mark.parametrize("name", ember._INPLACE_FUNCTIONS)
def test_top_level_inplace_functions_as_pytorch(name):
    """``torch.sin_(t)`` changes ``t`` as ``t.sin_()`` does and returns it."""
    arguments = {"addmv_": lambda lib: (lib.ones(3, 2), lib.ones(2)),
                 "clamp_": lambda lib: (0.2, 0.4), "clip_": lambda lib: (0.2, 0.4),
                 "clamp_max_": lambda lib: (0.4,), "clamp_min_": lambda lib: (0.4,),
                 "fill_": lambda lib: (3.0,), "xlogy_": lambda lib: (2.0,),
                 "index_put_": lambda lib: ((lib.tensor([1]),), lib.tensor(9.0))}
    results = []
    for lib in (ember, torch):
        t = lib.tensor([0.25, 0.5, 0.75])
        returned = getattr(lib, name)(t, *arguments.get(name, lambda lib: ())(lib))
        assert returned is t
        results.append(t.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


@pytest.mark.parametrize("shape, how, dim", [
    ((0,), ("split", 0), 0), ((3, 0), ("split", 0), 1), ((0,), ("split", 2), 0),
    ((5,), ("split", 2), 0), ((2, 7, 3), ("split", 3), 1), ((6,), ("split", 10), 0),
    ((0,), ("split", []), 0), ((2, 0), ("split", [0, 0]), 1), ((0,), ("chunk", 3), 0),
    ((2, 0), ("chunk", 2), 1), ((5,), ("chunk", 3), 0)])
def test_split_gives_pytorchs_pieces_and_gradient(shape, how, dim):
    # An empty dimension splits into one empty piece, also with split_size 0 (which used to
    # divide by zero), into none for no sizes, and chunks into `chunks` empty pieces; the
    # pieces are views, and their gradients meet in the input's.
    values = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    x, tx = ember.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    method, argument = how
    ours, theirs = getattr(x, method)(argument, dim), getattr(tx, method)(argument, dim)
    assert [tuple(p.shape) for p in ours] == [tuple(p.shape) for p in theirs]
    assert [type(p.grad_fn).__name__ for p in ours] == [type(p.grad_fn).__name__
                                                          for p in theirs]
    if not theirs:
        return
    for index, (p, tp) in enumerate(zip(ours, theirs)):
        np.testing.assert_array_equal(p.detach().numpy(), tp.detach().numpy())
        (p * (index + 1)).sum().backward(retain_graph=True)
        (tp * (index + 1)).sum().backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())

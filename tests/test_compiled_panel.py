"""ember/_C/panel.c: the products of the recurrent layers' time loops, ember's own. Within
float rounding of the exact product, the same bits for a row whatever other rows a call
multiplies (which lets threads share a batch anywhere), and NumPy's NaNs and infinities."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ember import _C

pytestmark = pytest.mark.skipif(_C.kernels is None, reason=f"ember._C: {_C.reason}")


def panel_product(a, b, trans_b):
    """a @ b (b stored transposed where ``trans_b``) through panel_matmul."""
    m, k = a.shape
    n = b.shape[0] if trans_b else b.shape[1]
    c = np.full((m, n), np.nan, a.dtype)
    _C.kernels.panel_matmul(a, b, c, (m, n, k), trans_b)
    return c


def assert_within_rounding(got, a, b):
    """Each result within k + 1 roundings of its terms' sizes of the exact product (the
    standard bound for a sum of k products; float64 checked against long double)."""
    wide = np.longdouble if a.dtype == np.float64 else np.float64
    exact = a.astype(wide) @ b.astype(wide)
    scale = np.abs(a).astype(wide) @ np.abs(b).astype(wide)
    bound = (a.shape[1] + 1) * np.finfo(a.dtype).eps * scale
    assert np.all(np.abs(got.astype(wide) - exact) <= bound)


@settings(max_examples=150, deadline=None)
@given(m=st.one_of(st.integers(0, 30), st.sampled_from([47, 48, 49, 97])),
       n=st.sampled_from([0, 1, 3, 8, 15, 16, 17, 33, 64, 100]),
       k=st.integers(0, 70), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_products_are_within_rounding_and_the_same_stored_either_way(m, n, k, dtype, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    got = panel_product(a, b, False)
    assert_within_rounding(got, a, b)
    np.testing.assert_array_equal(panel_product(a, np.ascontiguousarray(b.T), True), got)


@settings(max_examples=60, deadline=None)
@given(m=st.one_of(st.integers(1, 40), st.sampled_from([48, 49, 97, 130])),
       n=st.sampled_from([1, 5, 16, 40, 512]), k=st.integers(1, 130),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16),
       data=st.data())
def test_a_rows_result_does_not_depend_on_the_other_rows(m, n, k, dtype, seed, data):
    # Sizes past one block of 48 rows (ROW_BLOCK) too: a row's block changes with the cut.
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(dtype)
    w = rng.standard_normal((n, k)).astype(dtype)
    whole = panel_product(a, w, True)
    first = data.draw(st.integers(0, m - 1))
    stop = data.draw(st.integers(first + 1, m))
    np.testing.assert_array_equal(panel_product(a[first:stop].copy(), w, True),
                                  whole[first:stop])
    rows = data.draw(st.lists(st.integers(0, m - 1), min_size=1, max_size=8))
    np.testing.assert_array_equal(panel_product(a[rows], w, True), whole[rows])


def test_nonfinite_values_as_numpys_product():
    a = np.array([[1, 2, 3], [np.inf, 0, 1], [np.nan, 1, 1], [1, -np.inf, 0]], np.float32)
    b = np.arange(-9, 30, dtype=np.float32).reshape(3, 13) / 7
    b[1, 4] = 0
    with np.errstate(invalid="ignore"):
        got, want = panel_product(a, b, False), a @ b
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = ~np.isnan(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-6)
    # a zero inner size gives zeros, as NumPy's
    np.testing.assert_array_equal(panel_product(np.ones((3, 0)), np.ones((0, 20)), False),
                                  np.zeros((3, 20)))


def test_sizes_and_types_are_checked_against_the_buffers():
    a, b = np.ones((4, 3), np.float32), np.ones((3, 5), np.float32)
    c = np.empty((4, 5), np.float32)
    _C.kernels.panel_matmul(a, b, c, (4, 5, 3), False)
    np.testing.assert_array_equal(c, np.full((4, 5), 3))
    with pytest.raises(ValueError, match="expected 20 elements, got 16"):
        _C.kernels.panel_matmul(a, b, np.empty((4, 4), np.float32), (4, 5, 3), False)
    with pytest.raises(ValueError, match="bad sizes"):
        _C.kernels.panel_matmul(a, b, c, (4, -5, 3), False)
    with pytest.raises(TypeError, match="float32"):
        _C.kernels.panel_matmul(a, b.astype(np.float64), c, (4, 5, 3), False)
    c.flags.writeable = False
    with pytest.raises((ValueError, BufferError)):
        _C.kernels.panel_matmul(a, b, c, (4, 5, 3), False)

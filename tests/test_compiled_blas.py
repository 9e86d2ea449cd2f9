"""ember/_C/blas.c: kernels multiply matrices through the BLAS NumPy loaded, with the calls NumPy's
matmul makes for the same shapes, so the products have NumPy's bits."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ember import _C, _blas

needs_blas = pytest.mark.skipif(not _C.gemm_ready(), reason="no extension, or no OpenBLAS")


def product(a, b, m, n, k, trans_a, trans_b):
    c = np.full((m, n), np.nan, a.dtype)
    _C.kernels.matmul(a, b, c, (m, n, k), trans_a, trans_b)
    return c


@needs_blas
@settings(max_examples=150, deadline=None)
@given(m=st.integers(0, 40), n=st.integers(0, 40), k=st.integers(0, 40),
       trans_a=st.booleans(), trans_b=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_products_have_numpys_bits(m, n, k, trans_a, trans_b, dtype, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    expected = (a.T if trans_a else a) @ (b.T if trans_b else b)
    np.testing.assert_array_equal(product(a, b, m, n, k, trans_a, trans_b), expected)


@needs_blas
@pytest.mark.parametrize("m, n, k", [(1, 120, 576), (64, 6, 25), (1, 1, 300), (300, 1, 7),
                                     (257, 129, 33), (1, 9, 1), (4, 5, 1)])
def test_shapes_numpy_treats_apart(m, n, k):
    """One row (gemv), one column (gemv), one element (dot), inner size 1 (NumPy's loop)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    np.testing.assert_array_equal(product(a, b, m, n, k, False, False), a @ b)


@needs_blas
def test_nonfinite_values_and_signed_zeros():
    a = np.array([[np.inf, -0.0], [np.nan, 1.0]], np.float32)
    b = np.array([[1.0, 0.0], [-0.0, 2.0]], np.float32)
    with np.errstate(invalid="ignore"):  # inf * 0
        expected = a @ b
    np.testing.assert_array_equal(product(a, b, 2, 2, 2, False, False), expected)
    col, row = np.array([[-0.0]], np.float32), np.array([[1.0, 2.0]], np.float32)
    out = product(col, row, 1, 2, 1, False, False)  # inner size 1: NumPy's 0 + a*b, so +0
    np.testing.assert_array_equal(np.signbit(out), np.signbit(col @ row))


@needs_blas
def test_sizes_are_checked_against_the_buffers():
    a, b, c = np.ones((2, 3), np.float32), np.ones((3, 4), np.float32), np.empty((2, 4),
                                                                                  np.float32)
    with pytest.raises(ValueError, match="expected 8 elements, got 6"):
        _C.kernels.matmul(a, b, c, (2, 4, 4), False, False)  # a is not (2, 4)
    with pytest.raises(ValueError, match="bad sizes"):
        _C.kernels.matmul(a, b, c, (2**62, 2**62, 4), False, False)  # overflowing sizes
    with pytest.raises(TypeError, match="float32"):
        _C.kernels.matmul(a, b.astype(np.float64), c, (2, 4, 3), False, False)
    with pytest.raises(ValueError, match="not C-contiguous"):  # NumPy's refusal to export it
        _C.kernels.matmul(a, b, np.empty((2, 8), np.float32)[:, ::2], (2, 4, 3), False, False)


@pytest.mark.skipif(_C.kernels is None, reason=f"ember._C: {_C.reason}")
def test_blas_is_found_where_numpy_has_openblas():
    functions = _blas.blas_functions()
    if _blas._openblas() is None:
        assert functions is None and not _C.gemm_ready()
    else:
        single, double, sizes64 = functions
        assert len(single) == len(double) == 3 and all(single) and all(double)
        assert isinstance(sizes64, bool) and _C.gemm_ready()


def test_numpys_own_openblas_is_taken_before_another_packages():
    # SciPy's wheels load an OpenBLAS of their own, whose name may sort first.
    import os
    numpy_libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    ours = os.path.join(numpy_libs, "libscipy_openblas64_-x.so")
    paths = ["/opt/aaa/libopenblas.so", ours, "/site/scipy.libs/libscipy_openblas-y.so"]
    assert _blas._numpy_first(paths)[0] == ours
    assert _blas._numpy_first(paths[::2]) == sorted(paths[::2])

/* Matrix products inside kernels, through the BLAS that NumPy itself loaded.
 *
 * A kernel that multiplies matrices (a convolution's columns by its weight, a linear layer's
 * input by its weight) calls `product_f32`/`_f64` or `gemm_f32`/`_f64` here instead of
 * returning to Python for NumPy's `@`: the same library does the same product, without a
 * Python call between the passes around it. The extension links no BLAS of its own:
 * ember/_blas.py finds NumPy's (OpenBLAS, from the process's memory map) and `set_blas` hands
 * over the addresses of its cblas_?gemm, cblas_?gemv and cblas_?dot. Until then, or where there
 * is none, `blas_ready()` is False and the ops keep their NumPy products.
 *
 * `product` makes the calls NumPy's matmul makes for the same shapes (a dot product for a
 * 1x1 result, gemv when the result is one row or one column, its own loop when the inner size
 * is 1 or 0, gemm otherwise), so a kernel's product has the bits of the NumPy code it
 * replaces. (NumPy also calls syrk for `a @ a.T` on one buffer; kernels never pass that.) */
#include "kernels.h"

#include <stdint.h>

/* CBLAS's argument values (cblas.h): storage order, and whether to transpose. */
enum { ROW_MAJOR = 101, COL_MAJOR = 102, NO_TRANS = 111, TRANS = 112 };

/* One element type's functions (NULL until set_blas), and whether sizes are 64-bit. */
typedef struct {
    void *gemm, *gemv, *dot;
    int sizes64;
} blas_functions;

static blas_functions blas_f32, blas_f64;

int blas_available(void)
{
    return blas_f32.gemm != NULL && blas_f64.gemm != NULL;
}

/* With 32-bit sizes, a product whose sizes do not fit cannot be handed over. */
static int fits32(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, Py_ssize_t lda, Py_ssize_t ldb,
                  Py_ssize_t ldc)
{
    const Py_ssize_t limit = INT32_MAX;
    return m <= limit && n <= limit && k <= limit && lda <= limit && ldb <= limit
           && ldc <= limit;
}

#define KERNELS "blas.inc"
#include "each_type.h"

PyObject *set_blas(PyObject *self, PyObject *args)
{
    unsigned long long f[6];
    int wide;
    if (!PyArg_ParseTuple(args, "(KKK)(KKK)p:set_blas", &f[0], &f[1], &f[2], &f[3], &f[4],
                          &f[5], &wide))
        return NULL;
    for (int i = 0; i < 6; i++)
        if (f[i] == 0) {
            PyErr_SetString(PyExc_ValueError, "set_blas: a function's address is 0");
            return NULL;
        }
    blas_f32 = (blas_functions){(void *)(uintptr_t)f[0], (void *)(uintptr_t)f[1],
                                (void *)(uintptr_t)f[2], wide};
    blas_f64 = (blas_functions){(void *)(uintptr_t)f[3], (void *)(uintptr_t)f[4],
                                (void *)(uintptr_t)f[5], wide};
    Py_RETURN_NONE;
}

PyObject *blas_ready(PyObject *self, PyObject *args)
{
    return PyBool_FromLong(blas_available());
}

int product_args(PyObject *a, PyObject *b, PyObject *c, Py_ssize_t m, Py_ssize_t n,
                 Py_ssize_t k, Py_buffer *views, void **p, int *dtype, const char *name)
{
    if (m < 0 || n < 0 || k < 0 || (k && (m > PY_SSIZE_T_MAX / k || n > PY_SSIZE_T_MAX / k))
        || (n && m > PY_SSIZE_T_MAX / n)) {
        PyErr_Format(PyExc_ValueError, "%s: bad sizes", name);
        return -1;
    }
    PyObject *arrays[3] = {a, b, c};
    const Py_ssize_t counts[3] = {m * k, k * n, m * n};
    const int writable[3] = {0, 0, 1};
    return array_args(arrays, 3, counts, writable, NULL, views, p, dtype, name);
}

/* matmul(a, b, c, (m, n, k), trans_a, trans_b): c (m, n) = op(a) @ op(b) by `product`, where
 * op(a) is (m, k), op(b) is (k, n), and a transposed operand is stored as its transpose. What
 * the tests check the bridge with (the same bits as NumPy's matmul). */
PyObject *matmul(PyObject *self, PyObject *args)
{
    PyObject *a, *b, *c;
    Py_ssize_t m, n, k;
    int trans_a, trans_b;
    if (!PyArg_ParseTuple(args, "OOO(nnn)pp:matmul", &a, &b, &c, &m, &n, &k, &trans_a,
                          &trans_b))
        return NULL;
    if (!blas_available()) {
        PyErr_SetString(PyExc_RuntimeError, "matmul: no BLAS was handed over (set_blas)");
        return NULL;
    }
    Py_buffer views[3];
    void *p[3];
    int dtype = -1, failed;
    if (product_args(a, b, c, m, n, k, views, p, &dtype, "matmul") < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        failed = product_f32(trans_a, trans_b, m, n, k, p[0], p[1], p[2]);
    else
        failed = product_f64(trans_a, trans_b, m, n, k, p[0], p[1], p[2]);
    Py_END_ALLOW_THREADS
    release_args(views, 3);
    if (failed) {
        PyErr_SetString(PyExc_ValueError, "matmul: sizes too large for this BLAS");
        return NULL;
    }
    Py_RETURN_NONE;
}

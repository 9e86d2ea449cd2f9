/* Matrix products of ember's own, for the products inside the recurrent layers' time loops
 * (rnn.inc): each step multiplies the batch's hidden state, a few dozen rows, by the same
 * weight W_hh.
 *
 * Why not the BLAS NumPy loaded (blas.c), as every other kernel's products do: two reasons,
 * measured on the benchmark's LSTM step (32 rows, 128 by 512 weight, AVX2). OpenBLAS packs the
 * weight again at every call, 50 times a layer for the same values; packed once per layer
 * call here, a step's product takes 46 us where OpenBLAS's took 61. And OpenBLAS's rows are
 * computed in blocks of 12 (ember/_blas.py's row_block), so a batch could only be shared
 * between threads at multiples of 12 rows: 32 rows went 12 and 20. Here every result is the
 * same chain of multiply-adds over k in order, whatever rows a call is given, so the batch is
 * cut anywhere (16 and 16) and any thread count still gives one thread's bits.
 *
 * The results differ from NumPy's product in the last places (another order of sums, and
 * fused multiply-adds where the CPU has them: FUSED_WIDE_LOOPS, kernels.h); the tests hold
 * them to the NumPy code's within float rounding, and to PyTorch's numbers. */
#include "kernels.h"

#include <string.h>

FUSE_MULTIPLY_ADD  /* kernels.h: a * b + c as one rounding on CPUs with FMA */

#define KERNELS "panel.inc"
#include "each_type.h"

/* panel_matmul(a, b, c, (m, n, k), trans_b): c (m, n) = a (m, k) @ op(b), op(b) (k, n) being
 * b or, with trans_b, the transpose of b stored as (n, k); through pack_panels and
 * panel_product. What the tests check the products with. */
PyObject *panel_matmul(PyObject *self, PyObject *args)
{
    PyObject *a, *b, *c;
    Py_ssize_t m, n, k;
    int trans_b;
    if (!PyArg_ParseTuple(args, "OOO(nnn)p:panel_matmul", &a, &b, &c, &m, &n, &k, &trans_b))
        return NULL;
    if (m < 0 || n < 0 || k < 0 || (k && (m > PY_SSIZE_T_MAX / k || n > PY_SSIZE_T_MAX / k))
        || (n && m > PY_SSIZE_T_MAX / n) || n > PY_SSIZE_T_MAX / 16 - 16) {
        PyErr_SetString(PyExc_ValueError, "panel_matmul: bad sizes");
        return NULL;
    }
    PyObject *arrays[3] = {a, b, c};
    const Py_ssize_t counts[3] = {m * k, k * n, m * n};
    const int writable[3] = {0, 0, 1};
    Py_buffer views[3];
    void *p[3];
    int dtype = -1, failed = 0;
    if (array_args(arrays, 3, counts, writable, NULL, views, p, &dtype, "panel_matmul") < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32) {
        float *panels = malloc((panel_size_f32(k, n) + 1) * sizeof(float));
        if (panels) {
            pack_panels_f32(trans_b, k, n, p[1], panels);
            panel_product_f32(m, n, k, p[0], k, panels, p[2], n);
        }
        failed = panels == NULL;
        free(panels);
    } else {
        double *panels = malloc((panel_size_f64(k, n) + 1) * sizeof(double));
        if (panels) {
            pack_panels_f64(trans_b, k, n, p[1], panels);
            panel_product_f64(m, n, k, p[0], k, panels, p[2], n);
        }
        failed = panels == NULL;
        free(panels);
    }
    Py_END_ALLOW_THREADS
    release_args(views, 3);
    if (failed)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

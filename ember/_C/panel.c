/* Matrix products of ember's own, for many small products with one operand: the recurrent
 * layers' time loops (rnn.inc), where each step multiplies the batch's hidden state, a few
 * dozen rows, by the same weight W_hh; and attention's heads (attention.inc), a few dozen
 * rows each, whose strided views and transposed operands they read in place.
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
 * b or, with trans_b, the transpose of b stored as (n, k) (packed_product). What the tests
 * check the products with. */
PyObject *panel_matmul(PyObject *self, PyObject *args)
{
    PyObject *a, *b, *c;
    Py_ssize_t m, n, k;
    int trans_b;
    if (!PyArg_ParseTuple(args, "OOO(nnn)p:panel_matmul", &a, &b, &c, &m, &n, &k, &trans_b))
        return NULL;
    if (n > PY_SSIZE_T_MAX / 16 - 16) {  /* n rounded up to whole panels must fit */
        PyErr_SetString(PyExc_ValueError, "panel_matmul: bad sizes");
        return NULL;
    }
    Py_buffer views[3];
    void *p[3];
    int dtype = -1, failed;
    if (product_args(a, b, c, m, n, k, views, p, &dtype, "panel_matmul") < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    failed = dtype == DTYPE_FLOAT32 ? packed_product_f32(trans_b, m, n, k, p[0], p[1], p[2])
                                    : packed_product_f64(trans_b, m, n, k, p[0], p[1], p[2]);
    Py_END_ALLOW_THREADS
    release_args(views, 3);
    if (failed)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

/* Linear layers: addmm and mm (F.linear's ops) forward and backward, one call each, with the
 * products through NumPy's BLAS (blas.c) and the bias add and bias gradient around them. */
#include "kernels.h"

#include <stdatomic.h>

/* One call's operands and sizes, for the ranges that linear.inc's forward_band and
 * backward_task run over ember's threads (parallel_ranges). */
typedef struct {
    const void *a, *b, *bias, *grad;
    void *out, *grad_a, *grad_bt, *grad_bias;
    Py_ssize_t m, n, k;
    int trans_a, trans_b;
    atomic_int failed;
} linear_call;

#define KERNELS "linear.inc"
#include "each_type.h"

/* Sizes m, n, k of the product (m, k) @ (k, n), checked: none negative, no count overflows. */
static int linear_sizes(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, const char *name)
{
    if (m < 0 || n < 0 || k < 0 || (m && (n > PY_SSIZE_T_MAX / m || k > PY_SSIZE_T_MAX / m))
        || (n && k > PY_SSIZE_T_MAX / n)) {
        PyErr_Format(PyExc_ValueError, "%s: invalid sizes", name);
        return -1;
    }
    return 0;
}

/* linear_forward(a, b, bias, out, (m, n, k), trans_a, trans_b, parts=1): out = op(a) @ op(b)
 * + bias, in `parts` bands of rows over ember's threads (a must then be stored untransposed). */
PyObject *linear_forward(PyObject *self, PyObject *args)
{
    PyObject *objects[4];
    Py_ssize_t m, n, k;
    int trans_a, trans_b, failed, parts = 1;
    if (!PyArg_ParseTuple(args, "OOOO(nnn)pp|i:linear_forward", &objects[0], &objects[1],
                          &objects[2], &objects[3], &m, &n, &k, &trans_a, &trans_b, &parts)
        || linear_sizes(m, n, k, "linear_forward") < 0)
        return NULL;
    if (parts > 1 && trans_a) {
        PyErr_SetString(PyExc_ValueError, "linear_forward: bands need a untransposed");
        return NULL;
    }
    if (objects[0] == Py_None || objects[1] == Py_None || objects[3] == Py_None) {
        PyErr_SetString(PyExc_TypeError, "linear_forward: only the bias may be None");
        return NULL;
    }
    const Py_ssize_t counts[4] = {m * k, k * n, n, m * n};
    const int writable[4] = {0, 0, 0, 1}, optional[4] = {0, 0, 1, 0};  /* the bias may be None */
    Py_buffer views[4];
    void *p[4];
    int dtype = -1;
    if (array_args(objects, 4, counts, writable, optional, views, p, &dtype,
                   "linear_forward") < 0)
        return NULL;
    linear_call call = {.a = p[0], .b = p[1], .bias = p[2], .out = p[3], .m = m, .n = n, .k = k,
                        .trans_b = trans_b};
    Py_BEGIN_ALLOW_THREADS
    if (parts > 1) {
        parallel_ranges(m, parts, dtype == DTYPE_FLOAT32 ? forward_band_f32 : forward_band_f64,
                        &call);
        failed = atomic_load(&call.failed);
    } else if (dtype == DTYPE_FLOAT32) {
        failed = linear_forward_f32(p[0], p[1], p[2], p[3], m, n, k, trans_a, trans_b);
    } else {
        failed = linear_forward_f64(p[0], p[1], p[2], p[3], m, n, k, trans_a, trans_b);
    }
    Py_END_ALLOW_THREADS
    release_args(views, 4);
    if (failed) {
        PyErr_SetString(PyExc_ValueError, "linear_forward: sizes too large for this BLAS");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* linear_backward(grad, a, b, grad_a, grad_bt, grad_bias, (m, n, k), trans_a, trans_b,
 * parts=1): the gradients that are not None (linear.inc says which is what); a is needed for
 * grad_bt and b for grad_a, else either may be None. With parts 2 and both grad_a and grad_bt
 * wanted, the two are made at the same time on two of ember's threads, each whole. */
PyObject *linear_backward(PyObject *self, PyObject *args)
{
    PyObject *objects[6];
    Py_ssize_t m, n, k;
    int trans_a, trans_b, failed, parts = 1;
    if (!PyArg_ParseTuple(args, "OOOOOO(nnn)pp|i:linear_backward", &objects[0], &objects[1],
                          &objects[2], &objects[3], &objects[4], &objects[5], &m, &n, &k,
                          &trans_a, &trans_b, &parts)
        || linear_sizes(m, n, k, "linear_backward") < 0)
        return NULL;
    if (objects[0] == Py_None || (objects[3] != Py_None && objects[2] == Py_None)
        || (objects[4] != Py_None && objects[1] == Py_None)) {
        PyErr_SetString(PyExc_TypeError,
                        "linear_backward: grad, and the operand each gradient needs, are required");
        return NULL;
    }
    const Py_ssize_t counts[6] = {m * n, m * k, k * n, m * k, n * k, n};
    const int writable[6] = {0, 0, 0, 1, 1, 1}, optional[6] = {1, 1, 1, 1, 1, 1};
    Py_buffer views[6];
    void *p[6];
    int dtype = -1;
    if (array_args(objects, 6, counts, writable, optional, views, p, &dtype,
                   "linear_backward") < 0)
        return NULL;
    linear_call call = {.grad = p[0], .a = p[1], .b = p[2], .grad_a = p[3], .grad_bt = p[4],
                        .grad_bias = p[5], .m = m, .n = n, .k = k, .trans_a = trans_a,
                        .trans_b = trans_b};
    Py_BEGIN_ALLOW_THREADS
    if (parts > 1 && p[3] != NULL && p[4] != NULL) {
        parallel_ranges(2, 2, dtype == DTYPE_FLOAT32 ? backward_task_f32 : backward_task_f64,
                        &call);
        failed = atomic_load(&call.failed);
    } else if (dtype == DTYPE_FLOAT32) {
        failed = linear_backward_f32(p[0], p[1], p[2], p[3], p[4], p[5], m, n, k, trans_a,
                                     trans_b);
    } else {
        failed = linear_backward_f64(p[0], p[1], p[2], p[3], p[4], p[5], m, n, k, trans_a,
                                     trans_b);
    }
    Py_END_ALLOW_THREADS
    release_args(views, 6);
    if (failed) {
        PyErr_SetString(PyExc_ValueError, "linear_backward: sizes too large for this BLAS");
        return NULL;
    }
    Py_RETURN_NONE;
}

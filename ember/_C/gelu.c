/* GELU, exact (erf) and tanh forms, forward and backward: one pass each where the NumPy code
 * makes about twenty (gelu.inc; vexp.h for the exp the loops run on vectors). */
#include "kernels.h"

FUSE_MULTIPLY_ADD  /* kernels.h: GELU's kernels and their exp with fused multiply-adds */

#include "vexp.h"

#define KERNELS "gelu.inc"
#include "each_type.h"

/* The erf series handed over from Python: 3 + terms float64 values, terms 9 for float32 and
 * 21 for float64 (ops/activation.py's _ERFC_SERIES; gelu.inc unrolls that many). */
static int series_arg(PyObject *obj, Py_buffer *view, int dtype)
{
    const Py_ssize_t terms = dtype == DTYPE_FLOAT32 ? 9 : 21;
    int series_dtype = DTYPE_FLOAT64;
    return array_arg(obj, view, 3 + terms, 0, &series_dtype, "gelu: series");
}

/* One call of a GELU kernel, for its ranges over ember's threads (parallel_ranges). */
enum { ERF_FORWARD, ERF_BACKWARD, TANH_FORWARD, TANH_BACKWARD };
typedef struct {
    int kernel, dtype;
    void *p[4];
    const double *series;
} gelu_call;

#define AT(type, i) ((type *)call->p[i] + start)
#define GELU_RANGE(type, suffix)                                                              \
    switch (call->kernel) {                                                                    \
    case ERF_FORWARD:                                                                          \
        gelu_erf_forward##suffix(AT(type, 0), AT(type, 1), AT(type, 2), n, call->series);      \
        break;                                                                                 \
    case ERF_BACKWARD:                                                                         \
        gelu_erf_backward##suffix(AT(type, 0), AT(type, 1), AT(type, 2), AT(type, 3), n);      \
        break;                                                                                 \
    case TANH_FORWARD:                                                                         \
        gelu_tanh_forward##suffix(AT(type, 0), AT(type, 1), n);                                \
        break;                                                                                 \
    default:                                                                                   \
        gelu_tanh_backward##suffix(AT(type, 0), AT(type, 1), AT(type, 2), n);                 \
    }

/* Elements [start, stop) of every array: each element is computed alone, so the ranges of a
 * split give the bits of one call over all. */
static void gelu_range(void *context, Py_ssize_t start, Py_ssize_t stop)
{
    const gelu_call *call = context;
    const Py_ssize_t n = stop - start;
    if (call->dtype == DTYPE_FLOAT32) {
        GELU_RANGE(float, _f32)
    } else {
        GELU_RANGE(double, _f64)
    }
}
#undef GELU_RANGE
#undef AT

/* Runs `call` over n elements in `parts` ranges, without the global lock. */
static void run_gelu(gelu_call *call, void **pointers, int count, Py_ssize_t n, int parts)
{
    for (int i = 0; i < count; i++)
        call->p[i] = pointers[i];
    Py_BEGIN_ALLOW_THREADS
    parallel_ranges(n, parts, gelu_range, call);
    Py_END_ALLOW_THREADS
}

/* gelu_erf_forward(input, output, cdf, series, parts=1): output = input * cdf, cdf = Phi(input);
 * in `parts` ranges over ember's threads (each takes the same argument from here on). */
PyObject *gelu_erf_forward(PyObject *self, PyObject *args)
{
    PyObject *objects[3], *series;
    int parts = 1;
    if (!PyArg_ParseTuple(args, "OOOO|i:gelu_erf_forward", &objects[0], &objects[1],
                          &objects[2], &series, &parts))
        return NULL;
    Py_buffer views[4];
    void *p[3];
    int dtype = -1;
    Py_ssize_t n;
    const int writable[3] = {0, 1, 1};
    if (same_size_args(objects, 3, writable, views, p, &dtype, &n, "gelu_erf_forward") < 0)
        return NULL;
    if (series_arg(series, &views[3], dtype) < 0) {
        release_args(views, 3);
        return NULL;
    }
    gelu_call call = {ERF_FORWARD, dtype, {NULL}, views[3].buf};
    run_gelu(&call, p, 3, n, parts);
    release_args(views, 4);
    Py_RETURN_NONE;
}

/* gelu_erf_backward(input, cdf, grad_output, grad_input, parts=1). */
PyObject *gelu_erf_backward(PyObject *self, PyObject *args)
{
    PyObject *objects[4];
    int parts = 1;
    if (!PyArg_ParseTuple(args, "OOOO|i:gelu_erf_backward", &objects[0], &objects[1],
                          &objects[2], &objects[3], &parts))
        return NULL;
    Py_buffer views[4];
    void *p[4];
    int dtype = -1;
    Py_ssize_t n;
    const int writable[4] = {0, 0, 0, 1};
    if (same_size_args(objects, 4, writable, views, p, &dtype, &n, "gelu_erf_backward") < 0)
        return NULL;
    gelu_call call = {ERF_BACKWARD, dtype, {NULL}, NULL};
    run_gelu(&call, p, 4, n, parts);
    release_args(views, 4);
    Py_RETURN_NONE;
}

/* gelu_tanh_forward(input, output, parts=1). */
PyObject *gelu_tanh_forward(PyObject *self, PyObject *args)
{
    PyObject *objects[2];
    int parts = 1;
    if (!PyArg_ParseTuple(args, "OO|i:gelu_tanh_forward", &objects[0], &objects[1], &parts))
        return NULL;
    Py_buffer views[2];
    void *p[2];
    int dtype = -1;
    Py_ssize_t n;
    const int writable[2] = {0, 1};
    if (same_size_args(objects, 2, writable, views, p, &dtype, &n, "gelu_tanh_forward") < 0)
        return NULL;
    gelu_call call = {TANH_FORWARD, dtype, {NULL}, NULL};
    run_gelu(&call, p, 2, n, parts);
    release_args(views, 2);
    Py_RETURN_NONE;
}

/* gelu_tanh_backward(input, grad_output, grad_input, parts=1). */
PyObject *gelu_tanh_backward(PyObject *self, PyObject *args)
{
    PyObject *objects[3];
    int parts = 1;
    if (!PyArg_ParseTuple(args, "OOO|i:gelu_tanh_backward", &objects[0], &objects[1],
                          &objects[2], &parts))
        return NULL;
    Py_buffer views[3];
    void *p[3];
    int dtype = -1;
    Py_ssize_t n;
    const int writable[3] = {0, 0, 1};
    if (same_size_args(objects, 3, writable, views, p, &dtype, &n, "gelu_tanh_backward") < 0)
        return NULL;
    gelu_call call = {TANH_BACKWARD, dtype, {NULL}, NULL};
    run_gelu(&call, p, 3, n, parts);
    release_args(views, 3);
    Py_RETURN_NONE;
}

/* GELU, exact (erf) and tanh forms, forward and backward: one pass each where the NumPy code
 * makes about twenty (gelu.inc; vexp.h for the exp the loops run on vectors). */
#include "kernels.h"
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

/* gelu_erf_forward(input, output, cdf, series): output = input * cdf, cdf = Phi(input). */
PyObject *gelu_erf_forward(PyObject *self, PyObject *args)
{
    PyObject *objects[3], *series;
    if (!PyArg_ParseTuple(args, "OOOO:gelu_erf_forward", &objects[0], &objects[1],
                          &objects[2], &series))
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
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        gelu_erf_forward_f32(p[0], p[1], p[2], n, views[3].buf);
    else
        gelu_erf_forward_f64(p[0], p[1], p[2], n, views[3].buf);
    Py_END_ALLOW_THREADS
    release_args(views, 4);
    Py_RETURN_NONE;
}

/* gelu_erf_backward(input, cdf, grad_output, grad_input). */
PyObject *gelu_erf_backward(PyObject *self, PyObject *args)
{
    PyObject *objects[4];
    if (!PyArg_ParseTuple(args, "OOOO:gelu_erf_backward", &objects[0], &objects[1],
                          &objects[2], &objects[3]))
        return NULL;
    Py_buffer views[4];
    void *p[4];
    int dtype = -1;
    Py_ssize_t n;
    const int writable[4] = {0, 0, 0, 1};
    if (same_size_args(objects, 4, writable, views, p, &dtype, &n, "gelu_erf_backward") < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        gelu_erf_backward_f32(p[0], p[1], p[2], p[3], n);
    else
        gelu_erf_backward_f64(p[0], p[1], p[2], p[3], n);
    Py_END_ALLOW_THREADS
    release_args(views, 4);
    Py_RETURN_NONE;
}

/* gelu_tanh_forward(input, output). */
PyObject *gelu_tanh_forward(PyObject *self, PyObject *args)
{
    PyObject *objects[2];
    if (!PyArg_ParseTuple(args, "OO:gelu_tanh_forward", &objects[0], &objects[1]))
        return NULL;
    Py_buffer views[2];
    void *p[2];
    int dtype = -1;
    Py_ssize_t n;
    const int writable[2] = {0, 1};
    if (same_size_args(objects, 2, writable, views, p, &dtype, &n, "gelu_tanh_forward") < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        gelu_tanh_forward_f32(p[0], p[1], n);
    else
        gelu_tanh_forward_f64(p[0], p[1], n);
    Py_END_ALLOW_THREADS
    release_args(views, 2);
    Py_RETURN_NONE;
}

/* gelu_tanh_backward(input, grad_output, grad_input). */
PyObject *gelu_tanh_backward(PyObject *self, PyObject *args)
{
    PyObject *objects[3];
    if (!PyArg_ParseTuple(args, "OOO:gelu_tanh_backward", &objects[0], &objects[1],
                          &objects[2]))
        return NULL;
    Py_buffer views[3];
    void *p[3];
    int dtype = -1;
    Py_ssize_t n;
    const int writable[3] = {0, 0, 1};
    if (same_size_args(objects, 3, writable, views, p, &dtype, &n, "gelu_tanh_backward") < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        gelu_tanh_backward_f32(p[0], p[1], p[2], n);
    else
        gelu_tanh_backward_f64(p[0], p[1], p[2], n);
    Py_END_ALLOW_THREADS
    release_args(views, 3);
    Py_RETURN_NONE;
}

/* Layer normalization over rows, forward and backward (norm.inc): one pass over a row for
 * each statistic where the NumPy code makes a dozen whole-array passes and temporaries. */
#include "kernels.h"

#include <math.h>

#define KERNELS "norm.inc"
#include "each_type.h"

/* Float64 buffers of `counts[i]` values (None allowed where `optional[i]`), which the kernels
 * keep in double whatever the element type: the mean, the weight and bias sums. */
static int double_args(PyObject *const *objects, int count, const Py_ssize_t *counts,
                       const int *writable, const int *optional, Py_buffer *views,
                       void **pointers, const char *name)
{
    int dtype = DTYPE_FLOAT64;
    return array_args(objects, count, counts, writable, optional, views, pointers, &dtype,
                      name);
}

static int norm_sizes(Py_ssize_t rows, Py_ssize_t cols, const char *name)
{
    if (rows < 0 || cols <= 0 || rows > PY_SSIZE_T_MAX / cols) {
        PyErr_Format(PyExc_ValueError, "%s: invalid sizes", name);
        return -1;
    }
    return 0;
}

/* layer_norm_forward(input, weight, bias, output, mean, inv_std, rows, cols, eps): weight
 * and bias may be None; mean is float64 whatever the type of the others. */
PyObject *layer_norm_forward(PyObject *self, PyObject *args)
{
    PyObject *objects[5], *mean_object;
    Py_ssize_t rows, cols;
    double eps;
    if (!PyArg_ParseTuple(args, "OOOOOOnnd:layer_norm_forward", &objects[0], &objects[1],
                          &objects[2], &objects[3], &mean_object, &objects[4], &rows, &cols,
                          &eps)
        || norm_sizes(rows, cols, "layer_norm_forward") < 0)
        return NULL;
    const Py_ssize_t counts[5] = {rows * cols, cols, cols, rows * cols, rows};
    const int writable[5] = {0, 0, 0, 1, 1}, optional[5] = {0, 1, 1, 0, 0};
    Py_buffer views[5], mean_view;
    void *p[5], *mean;
    int dtype = -1;
    if (array_args(objects, 5, counts, writable, optional, views, p, &dtype,
                   "layer_norm_forward") < 0)
        return NULL;
    const int one = 1, no = 0;
    if (double_args(&mean_object, 1, &rows, &one, &no, &mean_view, &mean,
                    "layer_norm_forward: mean") < 0) {
        release_args(views, 5);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        layer_norm_forward_f32(p[0], p[1], p[2], p[3], mean, p[4], rows, cols, eps);
    else
        layer_norm_forward_f64(p[0], p[1], p[2], p[3], mean, p[4], rows, cols, eps);
    Py_END_ALLOW_THREADS
    release_args(views, 5);
    release_args(&mean_view, 1);
    Py_RETURN_NONE;
}

/* layer_norm_backward(input, mean, inv_std, weight, grad_output, grad_input, weight_sums,
 * bias_sums, rows, cols): weight and the three outputs may be None; mean, weight_sums and
 * bias_sums are float64 (the sums are added to). */
PyObject *layer_norm_backward(PyObject *self, PyObject *args)
{
    PyObject *objects[5], *wide_objects[3];
    Py_ssize_t rows, cols;
    if (!PyArg_ParseTuple(args, "OOOOOOOOnn:layer_norm_backward", &objects[0],
                          &wide_objects[0], &objects[1], &objects[2], &objects[3], &objects[4],
                          &wide_objects[1], &wide_objects[2], &rows, &cols)
        || norm_sizes(rows, cols, "layer_norm_backward") < 0)
        return NULL;
    const Py_ssize_t counts[5] = {rows * cols, rows, cols, rows * cols, rows * cols};
    const int writable[5] = {0, 0, 0, 0, 1}, optional[5] = {0, 0, 1, 0, 1};
    const Py_ssize_t wide_counts[3] = {rows, cols, cols};
    const int wide_writable[3] = {0, 1, 1}, wide_optional[3] = {0, 1, 1};
    Py_buffer views[5], wide_views[3];
    void *p[5], *w[3];
    int dtype = -1;
    if (array_args(objects, 5, counts, writable, optional, views, p, &dtype,
                   "layer_norm_backward") < 0)
        return NULL;
    if (double_args(wide_objects, 3, wide_counts, wide_writable, wide_optional, wide_views, w,
                    "layer_norm_backward: mean and sums") < 0) {
        release_args(views, 5);
        return NULL;
    }
    /* A row's normalized values and grad * weight, computed once (norm.inc). */
    const size_t itemsize = dtype == DTYPE_FLOAT32 ? sizeof(float) : sizeof(double);
    char *scratch = (size_t)cols > PY_SSIZE_T_MAX / (2 * itemsize) ? NULL
                    : PyMem_RawMalloc(2 * (size_t)cols * itemsize);
    if (scratch == NULL) {
        release_args(views, 5);
        release_args(wide_views, 3);
        return PyErr_NoMemory();
    }
    void *gn = scratch + (size_t)cols * itemsize;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        layer_norm_backward_f32(p[0], w[0], p[1], p[2], p[3], p[4], w[1], w[2], rows, cols,
                                (float *)scratch, gn);
    else
        layer_norm_backward_f64(p[0], w[0], p[1], p[2], p[3], p[4], w[1], w[2], rows, cols,
                                (double *)scratch, gn);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(scratch);
    release_args(views, 5);
    release_args(wide_views, 3);
    Py_RETURN_NONE;
}

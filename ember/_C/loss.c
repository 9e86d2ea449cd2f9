/* log_softmax and nll_loss: the two ops of cross_entropy, forward and backward in one pass. */
#include "kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

enum { REDUCTION_NONE = 0, REDUCTION_MEAN = 1, REDUCTION_SUM = 2 };

/* exp for float32 in operations the compiler can run on vectors (libm's expf is a call per
 * element): exp(x) = 2^k exp(r) with k = round(x / log 2) and |r| <= log(2) / 2, where a
 * polynomial of degree 6 gives exp(r) to within about one unit in the last place. Results
 * below the smallest normal float are 0 (the softmax's sums are at least 1, so nothing is lost
 * there), above the largest infinite, and NaN stays NaN. */
static inline float exp_f32(float x)
{
    const float high = 88.37f, low = -87.33f;
    float clamped = x > high ? high : (x < low ? low : x);
    /* Adding and subtracting 1.5 * 2^23 rounds to the nearest integer. */
    float k = (clamped * 1.44269504f + 12582912.0f) - 12582912.0f;
    float r = (clamped - k * 0.693359375f) - k * -2.12194440e-4f;
    float p = 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    union { int32_t bits; float value; } scale = {((int32_t)k + 127) << 23};
    float result = p * scale.value;
    result = x > high ? (float)HUGE_VAL : (x < low ? 0.0f : result);
    return x != x ? x : result;
}

#define real float
#define EXP exp_f32
#define KERNEL(name) CONCAT(name, _f32)
#include "loss.inc"
#undef real
#undef EXP
#undef KERNEL

#define real double
#define EXP exp
#define KERNEL(name) CONCAT(name, _f64)
#include "loss.inc"
#undef real
#undef EXP
#undef KERNEL

/* A C-contiguous int64 array of `count` elements (the class targets). */
static int index_arg(PyObject *obj, Py_buffer *view, Py_ssize_t count, const char *name)
{
    const char *format = get_buffer(obj, view, 0);
    if (format == NULL)
        return -1;
    if ((strcmp(format, "q") != 0 && strcmp(format, "l") != 0) || view->itemsize != 8
        || sizeof(long long) != 8) {
        PyErr_Format(PyExc_TypeError, "%s: expected an int64 array, got format '%s'", name,
                     view->format);
        PyBuffer_Release(view);
        return -1;
    }
    if (count > PY_SSIZE_T_MAX / 8 || view->len != count * view->itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd elements, got %zd", name, count,
                     view->len / view->itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* The (outer, classes, inner) view's sizes, checked: none negative, and no product overflows. */
static int check_sizes(Py_ssize_t outer, Py_ssize_t classes, Py_ssize_t inner, Py_ssize_t *count,
                       const char *name)
{
    if (outer < 0 || classes < 0 || inner < 0
        || (classes && inner && outer > PY_SSIZE_T_MAX / classes / inner)) {
        PyErr_Format(PyExc_ValueError, "%s: invalid sizes", name);
        return -1;
    }
    *count = outer * classes * inner;
    return 0;
}

PyObject *log_softmax_forward(PyObject *self, PyObject *args)
{
    PyObject *input, *output;
    Py_ssize_t outer, classes, inner, count;
    if (!PyArg_ParseTuple(args, "OOnnn:log_softmax_forward", &input, &output, &outer, &classes,
                          &inner)
        || check_sizes(outer, classes, inner, &count, "log_softmax_forward") < 0)
        return NULL;
    Py_buffer views[2];
    int dtype = -1;
    if (array_arg(input, &views[0], count, 0, &dtype, "log_softmax_forward") < 0)
        return NULL;
    if (array_arg(output, &views[1], count, 1, &dtype, "log_softmax_forward") < 0) {
        release_all(views, 1);
        return NULL;
    }
    if (classes > 0) {
        Py_BEGIN_ALLOW_THREADS
        if (dtype == DTYPE_FLOAT32)
            log_softmax_forward_f32(views[0].buf, views[1].buf, outer, classes, inner);
        else
            log_softmax_forward_f64(views[0].buf, views[1].buf, outer, classes, inner);
        Py_END_ALLOW_THREADS
    }
    release_all(views, 2);
    Py_RETURN_NONE;
}

PyObject *log_softmax_backward(PyObject *self, PyObject *args)
{
    PyObject *grad, *output, *grad_input;
    Py_ssize_t outer, classes, inner, count;
    if (!PyArg_ParseTuple(args, "OOOnnn:log_softmax_backward", &grad, &output, &grad_input,
                          &outer, &classes, &inner)
        || check_sizes(outer, classes, inner, &count, "log_softmax_backward") < 0)
        return NULL;
    Py_buffer views[3];
    int dtype = -1, held = 0;
    PyObject *arrays[3] = {grad, output, grad_input};
    for (; held < 3; held++)
        if (array_arg(arrays[held], &views[held], count, held == 2, &dtype,
                      "log_softmax_backward") < 0) {
            release_all(views, held);
            return NULL;
        }
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        log_softmax_backward_f32(views[0].buf, views[1].buf, views[2].buf, outer, classes,
                                 inner);
    else
        log_softmax_backward_f64(views[0].buf, views[1].buf, views[2].buf, outer, classes,
                                 inner);
    Py_END_ALLOW_THREADS
    release_all(views, 3);
    Py_RETURN_NONE;
}

/* Buffers of nll_loss's arrays in views[0..3]: `table` (rows x classes: the input, or the
 * gradient backward writes), target (rows), weight (classes, or None: views[2] unused) and
 * `per_row` (rows elements for 'none', else 1: the loss forward writes, or its gradient).
 * Returns 0, or -1 with an exception set and nothing held. */
static int nll_loss_buffers(PyObject *table, PyObject *target, PyObject *weight,
                            PyObject *per_row, Py_ssize_t rows, Py_ssize_t classes,
                            int reduction, int backward, Py_buffer *views, int *dtype,
                            const char *name)
{
    Py_ssize_t count;
    if (check_sizes(rows, classes, 1, &count, name) < 0)
        return -1;
    if (reduction < REDUCTION_NONE || reduction > REDUCTION_SUM) {
        PyErr_Format(PyExc_ValueError, "%s: invalid reduction", name);
        return -1;
    }
    if (array_arg(table, &views[0], count, backward, dtype, name) < 0)
        return -1;
    if (index_arg(target, &views[1], rows, name) < 0) {
        release_all(views, 1);
        return -1;
    }
    int has_weight = weight != Py_None;
    if (has_weight && array_arg(weight, &views[2], classes, 0, dtype, name) < 0) {
        release_all(views, 2);
        return -1;
    }
    Py_ssize_t outputs = reduction == REDUCTION_NONE ? rows : 1;
    if (array_arg(per_row, &views[3], outputs, !backward, dtype, name) < 0) {
        release_all(views, has_weight ? 3 : 2);
        return -1;
    }
    return 0;
}

static void nll_loss_release(Py_buffer *views, PyObject *weight)
{
    release_all(views, weight != Py_None ? 3 : 2);
    PyBuffer_Release(&views[3]);
}

/* nll_loss_forward(input, target, weight, out, rows, classes, ignore_index, reduction):
 * returns (the first row whose target is out of range or -1, the total weight). */
PyObject *nll_loss_forward(PyObject *self, PyObject *args)
{
    PyObject *input, *target, *weight, *out;
    Py_ssize_t rows, classes;
    long long ignore_index;
    int reduction, dtype = -1;
    if (!PyArg_ParseTuple(args, "OOOOnnLi:nll_loss_forward", &input, &target, &weight, &out,
                          &rows, &classes, &ignore_index, &reduction))
        return NULL;
    Py_buffer views[4];
    if (nll_loss_buffers(input, target, weight, out, rows, classes, reduction, 0, views, &dtype,
                         "nll_loss_forward") < 0)
        return NULL;
    const void *weights = weight != Py_None ? views[2].buf : NULL;
    Py_ssize_t bad;
    double total_weight = 0;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        bad = nll_loss_forward_f32(views[0].buf, views[1].buf, weights, views[3].buf, rows,
                                   classes, ignore_index, reduction, &total_weight);
    else
        bad = nll_loss_forward_f64(views[0].buf, views[1].buf, weights, views[3].buf, rows,
                                   classes, ignore_index, reduction, &total_weight);
    Py_END_ALLOW_THREADS
    nll_loss_release(views, weight);
    return Py_BuildValue("nd", bad, total_weight);
}

/* nll_loss_backward(grad_input, target, weight, grad, rows, classes, ignore_index, reduction,
 * total_weight): fills grad_input. */
PyObject *nll_loss_backward(PyObject *self, PyObject *args)
{
    PyObject *grad_input, *target, *weight, *grad;
    Py_ssize_t rows, classes;
    long long ignore_index;
    int reduction, dtype = -1;
    double total_weight;
    if (!PyArg_ParseTuple(args, "OOOOnnLid:nll_loss_backward", &grad_input, &target, &weight,
                          &grad, &rows, &classes, &ignore_index, &reduction, &total_weight))
        return NULL;
    Py_buffer views[4];
    if (nll_loss_buffers(grad_input, target, weight, grad, rows, classes, reduction, 1, views,
                         &dtype, "nll_loss_backward") < 0)
        return NULL;
    const void *weights = weight != Py_None ? views[2].buf : NULL;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        nll_loss_backward_f32(views[3].buf, views[1].buf, weights, views[0].buf, rows, classes,
                              ignore_index, reduction, total_weight);
    else
        nll_loss_backward_f64(views[3].buf, views[1].buf, weights, views[0].buf, rows, classes,
                              ignore_index, reduction, total_weight);
    Py_END_ALLOW_THREADS
    nll_loss_release(views, weight);
    Py_RETURN_NONE;
}

/* mse_loss_forward(input, target, out, reduction): the losses into out (input's size) for
 * 'none', else their sum or mean into out's one element. */
PyObject *mse_loss_forward(PyObject *self, PyObject *args)
{
    PyObject *input, *target, *out;
    int reduction, dtype = -1;
    if (!PyArg_ParseTuple(args, "OOOi:mse_loss_forward", &input, &target, &out, &reduction))
        return NULL;
    if (reduction < REDUCTION_NONE || reduction > REDUCTION_SUM) {
        PyErr_SetString(PyExc_ValueError, "mse_loss_forward: invalid reduction");
        return NULL;
    }
    Py_buffer views[3];
    if (array_arg(input, &views[0], -1, 0, &dtype, "mse_loss_forward") < 0)
        return NULL;
    Py_ssize_t n = views[0].len / views[0].itemsize;
    if (array_arg(target, &views[1], n, 0, &dtype, "mse_loss_forward") < 0) {
        release_all(views, 1);
        return NULL;
    }
    if (array_arg(out, &views[2], reduction == REDUCTION_NONE ? n : 1, 1, &dtype,
                  "mse_loss_forward") < 0) {
        release_all(views, 2);
        return NULL;
    }
    /* A reduction needs the losses somewhere before it sums them: on the stack when few. */
    double small[256];
    void *losses = reduction == REDUCTION_NONE ? views[2].buf : small;
    if (reduction != REDUCTION_NONE && n * views[0].itemsize > (Py_ssize_t)sizeof(small)) {
        losses = PyMem_RawMalloc((size_t)(n * views[0].itemsize));
        if (losses == NULL) {
            release_all(views, 3);
            return PyErr_NoMemory();
        }
    }
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        mse_loss_forward_f32(views[0].buf, views[1].buf, losses, views[2].buf, n, reduction);
    else
        mse_loss_forward_f64(views[0].buf, views[1].buf, losses, views[2].buf, n, reduction);
    Py_END_ALLOW_THREADS
    if (losses != small && losses != views[2].buf)
        PyMem_RawFree(losses);
    release_all(views, 3);
    Py_RETURN_NONE;
}

/* mse_loss_backward(grad, input, target, grad_input, grad_target, scale, reduction). */
PyObject *mse_loss_backward(PyObject *self, PyObject *args)
{
    PyObject *grad, *input, *target, *grad_input, *grad_target;
    double scale;
    int reduction, dtype = -1, held = 0;
    if (!PyArg_ParseTuple(args, "OOOOOdi:mse_loss_backward", &grad, &input, &target,
                          &grad_input, &grad_target, &scale, &reduction))
        return NULL;
    if (reduction < REDUCTION_NONE || reduction > REDUCTION_SUM) {
        PyErr_SetString(PyExc_ValueError, "mse_loss_backward: invalid reduction");
        return NULL;
    }
    Py_buffer views[5];
    if (array_arg(input, &views[0], -1, 0, &dtype, "mse_loss_backward") < 0)
        return NULL;
    Py_ssize_t n = views[0].len / views[0].itemsize;
    PyObject *rest[4] = {target, grad, grad_input, grad_target};
    const Py_ssize_t counts[4] = {n, reduction == REDUCTION_NONE ? n : 1, n, n};
    for (held = 1; held < 5; held++) {
        if (held == 4 && grad_target == Py_None)
            break;
        if (array_arg(rest[held - 1], &views[held], counts[held - 1], held >= 3, &dtype,
                      "mse_loss_backward") < 0) {
            release_all(views, held);
            return NULL;
        }
    }
    void *grad_target_buf = grad_target == Py_None ? NULL : views[4].buf;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        mse_loss_backward_f32(views[2].buf, views[0].buf, views[1].buf, views[3].buf,
                              grad_target_buf, n, scale, reduction);
    else
        mse_loss_backward_f64(views[2].buf, views[0].buf, views[1].buf, views[3].buf,
                              grad_target_buf, n, scale, reduction);
    Py_END_ALLOW_THREADS
    release_all(views, held);
    Py_RETURN_NONE;
}

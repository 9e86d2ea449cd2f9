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

/* One call of a LayerNorm kernel, for its ranges of rows over ember's threads
 * (parallel_ranges). Backward's range i adds its rows' weight and bias sums to sums of its
 * own (2 * cols doubles at `sums + 2 * cols * i`, zeroed) with scratch of its own. */
typedef struct {
    int dtype;
    const void *x, *weight, *bias, *inv_std, *grad;
    const double *mean;
    void *out, *inv_std_out, *grad_input;
    double *mean_out;
    double *weight_sums, *bias_sums;  /* the caller's; each range's own with several */
    double *sums;
    char *scratch;
    int parts;
    Py_ssize_t rows, cols;
    double eps;
} norm_call;

#define ROWS(type, pointer) ((type *)(pointer) + (pointer == NULL ? 0 : start * cols))

static void forward_range(void *context, Py_ssize_t start, Py_ssize_t stop)
{
    const norm_call *c = context;
    const Py_ssize_t cols = c->cols;
    if (c->dtype == DTYPE_FLOAT32)
        layer_norm_forward_f32(ROWS(const float, c->x), c->weight, c->bias,
                               ROWS(float, c->out), c->mean_out + start,
                               (float *)c->inv_std_out + start, stop - start, cols, c->eps);
    else
        layer_norm_forward_f64(ROWS(const double, c->x), c->weight, c->bias,
                               ROWS(double, c->out), c->mean_out + start,
                               (double *)c->inv_std_out + start, stop - start, cols, c->eps);
}

static void backward_range(void *context, Py_ssize_t start, Py_ssize_t stop)
{
    const norm_call *c = context;
    const Py_ssize_t cols = c->cols;
    /* Which range this is: parallel_ranges' bounds are rows * i / parts. */
    int index = 0;
    while (index + 1 < c->parts && c->rows * (index + 1) / c->parts <= start)
        index++;
    double *weight_sums = c->weight_sums, *bias_sums = c->bias_sums;
    if (c->parts > 1) {
        weight_sums = weight_sums ? c->sums + 2 * cols * index : NULL;
        bias_sums = bias_sums ? c->sums + 2 * cols * index + cols : NULL;
    }
    const size_t itemsize = c->dtype == DTYPE_FLOAT32 ? sizeof(float) : sizeof(double);
    char *scratch = c->scratch + 2 * (size_t)cols * itemsize * (size_t)index;
    void *gn = scratch + (size_t)cols * itemsize;
    if (c->dtype == DTYPE_FLOAT32)
        layer_norm_backward_f32(ROWS(const float, c->x), c->mean + start,
                                (const float *)c->inv_std + start, c->weight,
                                ROWS(const float, c->grad), ROWS(float, c->grad_input),
                                weight_sums, bias_sums, stop - start, cols, (float *)scratch, gn);
    else
        layer_norm_backward_f64(ROWS(const double, c->x), c->mean + start,
                                (const double *)c->inv_std + start, c->weight,
                                ROWS(const double, c->grad), ROWS(double, c->grad_input),
                                weight_sums, bias_sums, stop - start, cols, (double *)scratch,
                                gn);
}
#undef ROWS

static int norm_sizes(Py_ssize_t rows, Py_ssize_t cols, const char *name)
{
    if (rows < 0 || cols <= 0 || rows > PY_SSIZE_T_MAX / cols) {
        PyErr_Format(PyExc_ValueError, "%s: invalid sizes", name);
        return -1;
    }
    return 0;
}

/* layer_norm_forward(input, weight, bias, output, mean, inv_std, rows, cols, eps, parts=1):
 * weight and bias may be None; mean is float64 whatever the type of the others. The rows in
 * `parts` ranges over ember's threads. */
PyObject *layer_norm_forward(PyObject *self, PyObject *args)
{
    PyObject *objects[5], *mean_object;
    Py_ssize_t rows, cols;
    double eps;
    int parts = 1;
    if (!PyArg_ParseTuple(args, "OOOOOOnnd|i:layer_norm_forward", &objects[0], &objects[1],
                          &objects[2], &objects[3], &mean_object, &objects[4], &rows, &cols,
                          &eps, &parts)
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
    norm_call call = {.dtype = dtype, .x = p[0], .weight = p[1], .bias = p[2], .out = p[3],
                      .mean_out = mean, .inv_std_out = p[4], .cols = cols, .eps = eps};
    Py_BEGIN_ALLOW_THREADS
    parallel_ranges(rows, parts, forward_range, &call);
    Py_END_ALLOW_THREADS
    release_args(views, 5);
    release_args(&mean_view, 1);
    Py_RETURN_NONE;
}

/* layer_norm_backward(input, mean, inv_std, weight, grad_output, grad_input, weight_sums,
 * bias_sums, rows, cols, parts=1): weight and the three outputs may be None; mean,
 * weight_sums and bias_sums are float64 (the sums are added to). The rows in `parts` ranges
 * over ember's threads: each range sums its rows from zero, and the ranges' sums are added
 * in their order, then to weight_sums and bias_sums. */
PyObject *layer_norm_backward(PyObject *self, PyObject *args)
{
    PyObject *objects[5], *wide_objects[3];
    Py_ssize_t rows, cols;
    int parts = 1;
    if (!PyArg_ParseTuple(args, "OOOOOOOOnn|i:layer_norm_backward", &objects[0],
                          &wide_objects[0], &objects[1], &objects[2], &objects[3], &objects[4],
                          &wide_objects[1], &wide_objects[2], &rows, &cols, &parts)
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
    parts = parallel_parts(rows, parts);
    /* Per range: a row's normalized values and grad * weight, computed once (norm.inc); with
     * several ranges, their own weight and bias sums. */
    const size_t itemsize = dtype == DTYPE_FLOAT32 ? sizeof(float) : sizeof(double);
    const size_t per_range = 2 * (size_t)cols * itemsize + (parts > 1 ? 2 * (size_t)cols
                                                                       * sizeof(double) : 0);
    char *scratch = (size_t)cols > PY_SSIZE_T_MAX / (4 * sizeof(double) * (size_t)parts) ? NULL
                    : PyMem_RawCalloc((size_t)parts, per_range);
    if (scratch == NULL) {
        release_args(views, 5);
        release_args(wide_views, 3);
        return PyErr_NoMemory();
    }
    double *sums = (double *)(scratch + 2 * (size_t)cols * itemsize * (size_t)parts);
    norm_call call = {.dtype = dtype, .x = p[0], .mean = w[0], .inv_std = p[1],
                      .weight = p[2], .grad = p[3], .grad_input = p[4], .weight_sums = w[1],
                      .bias_sums = w[2], .sums = sums, .parts = parts, .rows = rows,
                      .cols = cols, .scratch = scratch};
    Py_BEGIN_ALLOW_THREADS
    if (parts > 1) {
        parallel_ranges(rows, parts, backward_range, &call);
        for (int which = 0; which < 2; which++) {
            double *target = w[1 + which];
            if (target == NULL)
                continue;
            for (Py_ssize_t j = 0; j < cols; j++) {
                double total = sums[j + which * cols];
                for (int i = 1; i < parts; i++)
                    total += sums[2 * cols * i + j + which * cols];
                target[j] += total;
            }
        }
    } else {
        backward_range(&call, 0, rows);
    }
    Py_END_ALLOW_THREADS
    PyMem_RawFree(scratch);
    release_args(views, 5);
    release_args(wide_views, 3);
    Py_RETURN_NONE;
}

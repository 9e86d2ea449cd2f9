/* Two-dimensional convolution: im2col, col2im and the bias's passes (ops/conv.py calls them;
 * the matrix products between them stay in NumPy's BLAS). */
#include "kernels.h"

#include <string.h>

/* One convolution's sizes, for one image (the batch is the kernels' loop around it). */
typedef struct {
    Py_ssize_t channels, height, width;          /* the unpadded input image */
    Py_ssize_t kernel_height, kernel_width;
    Py_ssize_t stride_h, stride_w, top, left, dilation_h, dilation_w;
    Py_ssize_t out_height, out_width;
} geometry;

/* For kernel column offset j: the output columns [first, last) whose input column
 * x*sw + j*dw - left lies inside the image, and that input column for x = first. */
typedef struct {
    Py_ssize_t first, last, start;
} span;

static Py_ssize_t ceil_div(Py_ssize_t a, Py_ssize_t b)
{
    return a <= 0 ? 0 : (a + b - 1) / b;
}

static span valid_span(const geometry *g, Py_ssize_t j)
{
    Py_ssize_t offset = j * g->dilation_w - g->left;
    span s;
    s.first = ceil_div(-offset, g->stride_w);
    s.last = ceil_div(g->width - offset, g->stride_w);
    if (s.first > g->out_width)
        s.first = g->out_width;
    if (s.last > g->out_width)
        s.last = g->out_width;
    s.start = s.first * g->stride_w + offset;
    return s;
}

#define KERNELS "conv.inc"
#include "each_type.h"

/* a * b, or -1 when either is negative or the product overflows. */
static Py_ssize_t product(Py_ssize_t a, Py_ssize_t b)
{
    if (a < 0 || b < 0 || (b != 0 && a > PY_SSIZE_T_MAX / b))
        return -1;
    return a * b;
}

/* Parse the geometry tuple that ops/conv.py builds, and the element counts of one image and of
 * its columns. Returns 0, or -1 with a Python exception set. */
static int parse_geometry(PyObject *tuple, geometry *g, Py_ssize_t *image,
                          Py_ssize_t *columns, const char *name)
{
    if (!PyArg_ParseTuple(tuple, "nnnnnnnnnnnnn", &g->channels, &g->height, &g->width,
                          &g->kernel_height, &g->kernel_width, &g->stride_h, &g->stride_w,
                          &g->top, &g->left, &g->dilation_h, &g->dilation_w, &g->out_height,
                          &g->out_width))
        return -1;
    if (g->channels < 0 || g->height < 0 || g->width < 0 || g->kernel_height < 1
        || g->kernel_width < 1 || g->stride_h < 1 || g->stride_w < 1 || g->top < 0
        || g->left < 0 || g->dilation_h < 1 || g->dilation_w < 1 || g->out_height < 0
        || g->out_width < 0) {
        PyErr_Format(PyExc_ValueError, "%s: kernel sizes, strides and dilations must be "
                     "positive, image sizes and padding non-negative", name);
        return -1;
    }
    *image = product(product(g->channels, g->height), g->width);
    *columns = product(product(product(product(g->channels, g->kernel_height),
                                       g->kernel_width), g->out_height), g->out_width);
    /* A pixel's coordinate is y*sh + i*dh - top (and so for columns): each term stays below a
     * quarter of the largest size, so the sum cannot overflow (an overflowed product, -1, is
     * the largest size_t). */
    const Py_ssize_t quarter = PY_SSIZE_T_MAX / 4;
    if (*image < 0 || *columns < 0 || g->top > quarter || g->left > quarter
        || (size_t)product(g->out_height, g->stride_h) > (size_t)quarter
        || (size_t)product(g->out_width, g->stride_w) > (size_t)quarter
        || (size_t)product(g->kernel_height, g->dilation_h) > (size_t)quarter
        || (size_t)product(g->kernel_width, g->dilation_w) > (size_t)quarter) {
        PyErr_Format(PyExc_ValueError, "%s: sizes too large", name);
        return -1;
    }
    return 0;
}

/* conv2d_im2col(input, columns, batch, geometry) and conv2d_col2im(columns, image, batch,
 * geometry) share their checks: `which` says which one runs. */
static PyObject *columns_kernel(PyObject *args, int to_columns)
{
    const char *name = to_columns ? "conv2d_im2col" : "conv2d_col2im";
    PyObject *source, *target, *shape;
    Py_ssize_t batch, image, columns;
    geometry g;
    if (!PyArg_ParseTuple(args, "OOnO!", &source, &target, &batch, &PyTuple_Type, &shape))
        return NULL;
    if (parse_geometry(shape, &g, &image, &columns, name) < 0)
        return NULL;
    Py_ssize_t images = product(batch, image), all_columns = product(batch, columns);
    if (images < 0 || all_columns < 0) {
        PyErr_Format(PyExc_ValueError, "%s: bad batch size %zd", name, batch);
        return NULL;
    }
    Py_buffer views[2];
    int dtype = -1;
    if (array_arg(source, &views[0], to_columns ? images : all_columns, 0, &dtype, name) < 0)
        return NULL;
    if (array_arg(target, &views[1], to_columns ? all_columns : images, 1, &dtype, name) < 0) {
        release_all(views, 1);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (to_columns && dtype == DTYPE_FLOAT32)
        im2col_f32(views[0].buf, views[1].buf, batch, &g);
    else if (to_columns)
        im2col_f64(views[0].buf, views[1].buf, batch, &g);
    else if (dtype == DTYPE_FLOAT32)
        col2im_f32(views[0].buf, views[1].buf, batch, &g);
    else
        col2im_f64(views[0].buf, views[1].buf, batch, &g);
    Py_END_ALLOW_THREADS
    release_all(views, 2);
    Py_RETURN_NONE;
}

PyObject *conv2d_im2col(PyObject *self, PyObject *args)
{
    return columns_kernel(args, 1);
}

PyObject *conv2d_col2im(PyObject *self, PyObject *args)
{
    return columns_kernel(args, 0);
}

/* conv2d_add_bias(output, bias, positions) and conv2d_bias_grad(grad, sums, positions): an
 * array of (n, channels, positions) for any n, and one of (channels,). */
static PyObject *bias_kernel(PyObject *args, int add)
{
    const char *name = add ? "conv2d_add_bias" : "conv2d_bias_grad";
    PyObject *planes, *bias;
    Py_ssize_t positions;
    if (!PyArg_ParseTuple(args, "OOn", &planes, &bias, &positions))
        return NULL;
    if (positions < 1) {
        PyErr_Format(PyExc_ValueError, "%s: positions must be positive", name);
        return NULL;
    }
    Py_buffer views[2];
    int dtype = -1;
    if (array_arg(planes, &views[0], -1, add, &dtype, name) < 0)
        return NULL;
    if (array_arg(bias, &views[1], -1, !add, &dtype, name) < 0) {
        release_all(views, 1);
        return NULL;
    }
    Py_ssize_t total = views[0].len / views[0].itemsize;
    Py_ssize_t channels = views[1].len / views[1].itemsize;
    Py_ssize_t plane = product(channels, positions);
    if (plane < 0 || (plane == 0 ? total != 0 : total % plane != 0)) {
        PyErr_Format(PyExc_ValueError, "%s: %zd elements are not images of %zd channels of "
                     "%zd positions", name, total, channels, positions);
        release_all(views, 2);
        return NULL;
    }
    Py_ssize_t n = plane == 0 ? 0 : total / plane;
    double *totals = NULL;
    if (!add && (totals = PyMem_Malloc((size_t)(channels ? channels : 1) * sizeof(double)))
                == NULL) {
        release_all(views, 2);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    if (add && dtype == DTYPE_FLOAT32)
        add_bias_f32(views[0].buf, views[1].buf, n, channels, positions);
    else if (add)
        add_bias_f64(views[0].buf, views[1].buf, n, channels, positions);
    else if (dtype == DTYPE_FLOAT32)
        channel_sums_f32(views[0].buf, views[1].buf, totals, n, channels, positions);
    else
        channel_sums_f64(views[0].buf, views[1].buf, totals, n, channels, positions);
    Py_END_ALLOW_THREADS
    PyMem_Free(totals);
    release_all(views, 2);
    Py_RETURN_NONE;
}

PyObject *conv2d_add_bias(PyObject *self, PyObject *args)
{
    return bias_kernel(args, 1);
}

PyObject *conv2d_bias_grad(PyObject *self, PyObject *args)
{
    return bias_kernel(args, 0);
}

/* Two-dimensional convolution. conv2d_forward and conv2d_backward run the whole convolution
 * of a range of images, image by image (im2col, the products through NumPy's BLAS, col2im, the
 * bias), so that one image's columns stay in cache and no Python runs between the passes.
 * conv2d_im2col, conv2d_col2im and the bias's two kernels are the passes on their own: what
 * unfold, fold and the transposed convolution use, and conv2d where no BLAS was handed over
 * (ops/conv.py then makes the products with NumPy). */
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

/* For the short row copies of im2col and col2im: inlined into each (AVX2) version of their
 * callers, where GCC would otherwise call one baseline copy per row. */
#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* The spans of the first SPANS kernel columns, which im2col and col2im work out once per call
 * instead of once per channel and kernel row (each takes two divisions: for the tutorial
 * net's second convolution, about a quarter of im2col's time went to them). */
#define SPANS 16

static void first_spans(const geometry *g, span *spans)
{
    for (Py_ssize_t j = 0; j < g->kernel_width && j < SPANS; j++)
        spans[j] = valid_span(g, j);
}

static span column_span(const geometry *g, const span *spans, Py_ssize_t j)
{
    return j < SPANS ? spans[j] : valid_span(g, j);
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

/* What conv2d_forward and conv2d_backward share: the geometry, the channel counts and the
 * element counts of the batch's images, outputs and weight. Returns 0, or -1 with a Python
 * exception set. */
typedef struct {
    geometry g;
    Py_ssize_t batch, out_channels, groups;
    Py_ssize_t images, outputs, weight, columns;  /* element counts; columns: one image's */
} convolution;

static int parse_convolution(PyObject *shape, Py_ssize_t batch, Py_ssize_t out_channels,
                             Py_ssize_t groups, convolution *c, const char *name)
{
    Py_ssize_t image;
    if (parse_geometry(shape, &c->g, &image, &c->columns, name) < 0)
        return -1;
    if (groups < 1 || out_channels < 0 || batch < 0 || c->g.channels % groups != 0
        || out_channels % groups != 0) {
        PyErr_Format(PyExc_ValueError, "%s: %zd groups must divide %zd input and %zd output "
                     "channels (batch %zd)", name, groups, c->g.channels, out_channels, batch);
        return -1;
    }
    if (!blas_available()) {
        PyErr_Format(PyExc_RuntimeError, "%s: no BLAS was handed over (set_blas)", name);
        return -1;
    }
    c->batch = batch;
    c->out_channels = out_channels;
    c->groups = groups;
    /* columns is C*kh*kw*Ho*Wo and did not overflow, so neither do its factors' products. */
    Py_ssize_t positions = c->g.out_height * c->g.out_width;
    c->weight = product(out_channels, c->g.channels / groups * c->g.kernel_height
                                      * c->g.kernel_width);
    c->images = product(batch, image);
    c->outputs = product(product(batch, out_channels), positions);
    if (c->weight < 0 || c->images < 0 || c->outputs < 0) {
        PyErr_Format(PyExc_ValueError, "%s: sizes too large", name);
        return -1;
    }
    return 0;
}

/* conv2d_forward(input, weight, bias, output, batch, out_channels, groups, geometry). */
PyObject *conv2d_forward(PyObject *self, PyObject *args)
{
    const char *name = "conv2d_forward";
    PyObject *input, *weight, *bias, *output, *shape;
    Py_ssize_t batch, out_channels, groups;
    convolution c;
    if (!PyArg_ParseTuple(args, "OOOOnnnO!", &input, &weight, &bias, &output, &batch,
                          &out_channels, &groups, &PyTuple_Type, &shape))
        return NULL;
    if (parse_convolution(shape, batch, out_channels, groups, &c, name) < 0)
        return NULL;
    PyObject *arrays[4] = {input, weight, bias, output};
    const Py_ssize_t counts[4] = {c.images, c.weight, out_channels, c.outputs};
    const int writable[4] = {0, 0, 0, 1}, optional[4] = {0, 0, 1, 0};  /* the bias may be None */
    Py_buffer views[4];
    void *p[4];
    int dtype = -1;
    if (array_args(arrays, 4, counts, writable, optional, views, p, &dtype, name) < 0)
        return NULL;
    size_t size = dtype == DTYPE_FLOAT32 ? sizeof(float) : sizeof(double);
    /* One image's columns: counted by the geometry alone, not by any buffer checked above. */
    Py_ssize_t bytes = product(c.columns ? c.columns : 1, (Py_ssize_t)size);
    if (bytes < 0) {
        release_args(views, 4);
        PyErr_Format(PyExc_ValueError, "%s: sizes too large", name);
        return NULL;
    }
    void *columns = PyMem_Malloc((size_t)bytes);
    if (columns == NULL) {
        release_args(views, 4);
        return PyErr_NoMemory();
    }
    int failed;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        failed = forward_f32(p[0], p[1], p[2], p[3], columns, batch, out_channels, groups,
                             &c.g);
    else
        failed = forward_f64(p[0], p[1], p[2], p[3], columns, batch, out_channels, groups,
                             &c.g);
    Py_END_ALLOW_THREADS
    PyMem_Free(columns);
    release_args(views, 4);
    if (failed) {
        PyErr_Format(PyExc_ValueError, "%s: sizes too large for this BLAS", name);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* conv2d_backward(input, weight, grad_output, grad_input, grad_weight, grad_bias, batch,
 * out_channels, groups, geometry): the gradients asked for (the others None), of which
 * grad_input needs weight and grad_weight needs input. */
PyObject *conv2d_backward(PyObject *self, PyObject *args)
{
    const char *name = "conv2d_backward";
    PyObject *input, *weight, *grad_output, *grad_input, *grad_weight, *grad_bias, *shape;
    Py_ssize_t batch, out_channels, groups;
    convolution c;
    if (!PyArg_ParseTuple(args, "OOOOOOnnnO!", &input, &weight, &grad_output, &grad_input,
                          &grad_weight, &grad_bias, &batch, &out_channels, &groups,
                          &PyTuple_Type, &shape))
        return NULL;
    if (parse_convolution(shape, batch, out_channels, groups, &c, name) < 0)
        return NULL;
    if ((grad_input != Py_None && weight == Py_None)
        || (grad_weight != Py_None && input == Py_None)) {
        PyErr_Format(PyExc_ValueError, "%s: the input's gradient needs the weight, and the "
                     "weight's needs the input", name);
        return NULL;
    }
    Py_buffer views[6];
    PyObject *arrays[6] = {grad_output, input, weight, grad_input, grad_weight, grad_bias};
    const Py_ssize_t counts[6] = {c.outputs, c.images, c.weight, c.images, c.weight,
                                  out_channels};
    const int writable[6] = {0, 0, 0, 1, 1, 1}, optional[6] = {0, 1, 1, 1, 1, 1};
    void *p[6];
    int dtype = -1;
    if (array_args(arrays, 6, counts, writable, optional, views, p, &dtype, name) < 0)
        return NULL;
    size_t size = dtype == DTYPE_FLOAT32 ? sizeof(float) : sizeof(double);
    /* One block: one image's columns, one image's share of the weight's gradient, and the
     * bias's running sums (doubles first, for their alignment). */
    Py_ssize_t reals = c.columns > PY_SSIZE_T_MAX - c.weight ? -1 : c.columns + c.weight;
    Py_ssize_t sums = product(out_channels, (Py_ssize_t)sizeof(double));
    Py_ssize_t bytes = product(reals > 0 ? reals : (reals == 0 ? 1 : -1), (Py_ssize_t)size);
    if (sums < 0 || bytes < 0 || bytes > PY_SSIZE_T_MAX - sums) {
        release_args(views, 6);
        PyErr_Format(PyExc_ValueError, "%s: sizes too large", name);
        return NULL;
    }
    char *scratch = PyMem_Malloc((size_t)(sums + bytes));
    if (scratch == NULL) {
        release_args(views, 6);
        return PyErr_NoMemory();
    }
    double *totals = grad_bias != Py_None ? (double *)scratch : NULL;
    void *columns = scratch + (size_t)out_channels * sizeof(double);
    void *share = (char *)columns + (size_t)c.columns * size;
    int failed;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; totals != NULL && k < out_channels; k++)
        totals[k] = 0;
    if (dtype == DTYPE_FLOAT32)
        failed = backward_f32(p[1], p[2], p[0], p[3], p[4], totals, columns, share, batch,
                              out_channels, groups, &c.g);
    else
        failed = backward_f64(p[1], p[2], p[0], p[3], p[4], totals, columns, share, batch,
                              out_channels, groups, &c.g);
    if (!failed && totals != NULL) {
        for (Py_ssize_t k = 0; k < out_channels; k++) {
            if (dtype == DTYPE_FLOAT32)
                ((float *)p[5])[k] = (float)totals[k];
            else
                ((double *)p[5])[k] = totals[k];
        }
    }
    Py_END_ALLOW_THREADS
    PyMem_Free(scratch);
    release_args(views, 6);
    if (failed) {
        PyErr_Format(PyExc_ValueError, "%s: sizes too large for this BLAS", name);
        return NULL;
    }
    Py_RETURN_NONE;
}

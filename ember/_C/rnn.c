/* Recurrent layers: the pointwise part of LSTM and GRU steps (rnn.inc), and the sigmoid and
 * tanh they use, written so that the compiler vectorizes the loops that call them. */
#include "kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The loops are compiled for AVX-512 and AVX2 as well as the baseline, and the best the CPU
 * has is picked as the extension loads (GCC's and Clang's function multiversioning, which
 * needs glibc's indirect functions), since the build cannot assume more than the baseline
 * instruction set (no -march=native). Elsewhere the loops are compiled for the baseline. */
#if defined(__x86_64__) && defined(__GLIBC__) && (defined(__GNUC__) || defined(__clang__))
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_CLONES
#endif

/* GCC keeps a division or a clamp that the source evaluates on one branch off the other
 * (it could raise a floating-point exception flag), which stops it from vectorizing the loops;
 * ember never reads those flags. The values computed are the same. (Clang assumes this.) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

/* float32: e^x - 1 as 2^n (e^r - 1) + (2^n - 1), with n = round(x / ln 2) and |r| <= ln(2) / 2:
 * n is rounded by adding 1.5 * 2^23, which leaves it in the sum's low bits, from which 2^n's
 * bits follow; ln(2) is split in two so that n * ln2_hi is exact; e^r - 1 is its Taylor series
 * to r^7 (error below 3e-8 relative), and the n = 0 case keeps the relative precision of
 * small x. Arguments are clamped to [-87, 88], where 2^n stays a normal float; a NaN stays a
 * NaN (the comparisons are false), and so does the result. */
static inline float expm1_f32(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float shifted = x * 1.44269504f + 12582912.0f;
    float n = shifted - 12582912.0f;
    float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
    float p = r + r * r * (1.0f / 2 + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (
        1.0f / 720 + r * (1.0f / 5040))))));
    uint32_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    bits = (bits + 127u) << 23;  /* n + 127 in the exponent field: 2^n */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return scale * p + (scale - 1.0f);
}

static inline float sigmoid_f32(float x)
{
    return 1.0f / (2.0f + expm1_f32(-x));
}

/* tanh(x) = (e^2x - 1) / (e^2x + 1); the sign is copied for tanh(-0) = -0. */
static inline float tanh_f32(float x)
{
    float e = expm1_f32(2 * x);
    return copysignf(e / (e + 2.0f), x);
}

/* float64 (gradient checks, mostly): the C library's functions, exact to an ulp or so. */
static inline double sigmoid_f64(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static inline double tanh_f64(double x)
{
    return tanh(x);
}

/* The steps of a whole-layer loop (rnn.inc): the first row and the row count of each, in the
 * order the layer visits them, and the sizes of a row: `hidden`, and `width` for the hidden
 * state (the projection's size with an LSTM's W_hr, else hidden). A call advances the rows
 * [first, stop) of the batch only (all of them unless ember's threads share the batch; see
 * rnn.inc). */
typedef struct {
    const Py_ssize_t *starts, *sizes;
    Py_ssize_t count, hidden, width, first, stop;
} rnn_steps;

/* The arrays of the four loops (their comments in rnn.inc say what each holds). */
typedef struct {
    rnn_steps steps;
    void *gates, *h, *c, *h_prev, *c_prev, *tanh_c, *cells, *output, *hh;
    const void *bias, *weight_hh, *weight_hr;
} lstm_forward_loop;

typedef struct {
    rnn_steps steps;
    const void *grad_output, *gates, *c_prev, *tanh_c, *weight_hh, *weight_hr;
    void *grad_h, *grad_c, *grad_pre, *grad_h_all, *grad_m;
} lstm_backward_loop;

typedef struct {
    rnn_steps steps;
    void *gates, *h, *h_prev, *h_n, *output, *hh;
    const void *bias_ih, *bias_hh, *weight_hh;
} gru_forward_loop;

typedef struct {
    rnn_steps steps;
    const void *grad_output, *gates, *h_n, *h_prev, *weight_hh;
    void *grad_h, *grad_pre_x, *grad_pre_h, *product;
} gru_backward_loop;

/* The rows of step `s` a whole-layer loop advances: the first is returned, their count put in
 * `*rows` (0 where the share has no row still running at that step). */
static inline Py_ssize_t share_of_step(const rnn_steps *steps, Py_ssize_t s, Py_ssize_t *rows)
{
    Py_ssize_t size = steps->sizes[s], stop = size < steps->stop ? size : steps->stop;
    *rows = stop > steps->first ? stop - steps->first : 0;
    return steps->starts[s] + steps->first;
}

#define KERNELS "rnn.inc"
#include "each_type.h"

/* Get `obj` as a buffer of `count` elements into views[*held] (then counted in `*held`), or
 * NULL for None where `optional`. Returns 0, or -1 with a Python exception set. */
static int take(PyObject *obj, Py_buffer *views, int *held, void **data, Py_ssize_t count,
                int writable, int optional, int *dtype, const char *name)
{
    if (obj == Py_None && optional) {
        *data = NULL;
        return 0;
    }
    if (array_arg(obj, &views[*held], count, writable, dtype, name) < 0)
        return -1;
    *data = views[(*held)++].buf;
    return 0;
}

/* The rows of a step: the size of `obj` (the cell state or a gradient of h, (rows, hidden))
 * over `hidden`, which it must divide. Returns -1 with a Python exception set otherwise. */
static Py_ssize_t step_rows(PyObject *obj, Py_ssize_t hidden, const char *name)
{
    Py_buffer view;
    if (hidden <= 0) {
        PyErr_Format(PyExc_ValueError, "%s: hidden must be positive, got %zd", name, hidden);
        return -1;
    }
    if (PyObject_GetBuffer(obj, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    Py_ssize_t elements = view.itemsize > 0 ? view.len / view.itemsize : 0;
    PyBuffer_Release(&view);
    if (elements % hidden != 0) {
        PyErr_Format(PyExc_ValueError, "%s: %zd elements are not rows of %zd", name, elements,
                     hidden);
        return -1;
    }
    return elements / hidden;
}

PyObject *lstm_forward(PyObject *self, PyObject *args)
{
    PyObject *gates, *hh, *bias, *c, *c_prev, *tanh_c, *h;
    Py_ssize_t hidden;
    if (!PyArg_ParseTuple(args, "OOOOOOOn:lstm_forward", &gates, &hh, &bias, &c, &c_prev,
                          &tanh_c, &h, &hidden))
        return NULL;
    Py_ssize_t rows = step_rows(c, hidden, "lstm_forward");
    if (rows < 0)
        return NULL;
    Py_buffer views[7];
    void *p[7];
    int held = 0, dtype = -1;
    Py_ssize_t n = rows * hidden;
    if (take(gates, views, &held, &p[0], 4 * n, 1, 0, &dtype, "lstm_forward") < 0
        || take(hh, views, &held, &p[1], 4 * n, 0, 0, &dtype, "lstm_forward") < 0
        || take(bias, views, &held, &p[2], 4 * hidden, 0, 0, &dtype, "lstm_forward") < 0
        || take(c, views, &held, &p[3], n, 1, 0, &dtype, "lstm_forward") < 0
        || take(c_prev, views, &held, &p[4], n, 1, 1, &dtype, "lstm_forward") < 0
        || take(tanh_c, views, &held, &p[5], n, 1, 0, &dtype, "lstm_forward") < 0
        || take(h, views, &held, &p[6], n, 1, 0, &dtype, "lstm_forward") < 0) {
        release_all(views, held);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        lstm_forward_f32(p[0], p[1], p[2], p[3], p[4], p[5], p[6], rows, hidden);
    else
        lstm_forward_f64(p[0], p[1], p[2], p[3], p[4], p[5], p[6], rows, hidden);
    Py_END_ALLOW_THREADS
    release_all(views, held);
    Py_RETURN_NONE;
}

PyObject *lstm_backward(PyObject *self, PyObject *args)
{
    PyObject *grad_h, *grad_out, *grad_c, *gates, *c_prev, *tanh_c, *grad_pre;
    Py_ssize_t hidden;
    if (!PyArg_ParseTuple(args, "OOOOOOOn:lstm_backward", &grad_h, &grad_out, &grad_c, &gates,
                          &c_prev, &tanh_c, &grad_pre, &hidden))
        return NULL;
    Py_ssize_t rows = step_rows(grad_c, hidden, "lstm_backward");
    if (rows < 0)
        return NULL;
    Py_buffer views[7];
    void *p[7];
    int held = 0, dtype = -1;
    Py_ssize_t n = rows * hidden;
    if (take(grad_h, views, &held, &p[0], n, 1, 0, &dtype, "lstm_backward") < 0
        || take(grad_out, views, &held, &p[1], n, 0, 1, &dtype, "lstm_backward") < 0
        || take(grad_c, views, &held, &p[2], n, 1, 0, &dtype, "lstm_backward") < 0
        || take(gates, views, &held, &p[3], 4 * n, 0, 0, &dtype, "lstm_backward") < 0
        || take(c_prev, views, &held, &p[4], n, 0, 0, &dtype, "lstm_backward") < 0
        || take(tanh_c, views, &held, &p[5], n, 0, 0, &dtype, "lstm_backward") < 0
        || take(grad_pre, views, &held, &p[6], 4 * n, 1, 0, &dtype, "lstm_backward") < 0) {
        release_all(views, held);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        lstm_backward_f32(p[0], p[1], p[2], p[3], p[4], p[5], p[6], rows, hidden);
    else
        lstm_backward_f64(p[0], p[1], p[2], p[3], p[4], p[5], p[6], rows, hidden);
    Py_END_ALLOW_THREADS
    release_all(views, held);
    Py_RETURN_NONE;
}

PyObject *gru_forward(PyObject *self, PyObject *args)
{
    PyObject *gates, *hh, *bias_ih, *bias_hh, *h, *h_n, *h_out;
    Py_ssize_t hidden;
    if (!PyArg_ParseTuple(args, "OOOOOOOn:gru_forward", &gates, &hh, &bias_ih, &bias_hh, &h,
                          &h_n, &h_out, &hidden))
        return NULL;
    Py_ssize_t rows = step_rows(h, hidden, "gru_forward");
    if (rows < 0)
        return NULL;
    Py_buffer views[7];
    void *p[7];
    int held = 0, dtype = -1;
    Py_ssize_t n = rows * hidden;
    if (take(gates, views, &held, &p[0], 3 * n, 1, 0, &dtype, "gru_forward") < 0
        || take(hh, views, &held, &p[1], 3 * n, 0, 0, &dtype, "gru_forward") < 0
        || take(bias_ih, views, &held, &p[2], 3 * hidden, 0, 0, &dtype, "gru_forward") < 0
        || take(bias_hh, views, &held, &p[3], 3 * hidden, 0, 0, &dtype, "gru_forward") < 0
        || take(h, views, &held, &p[4], n, 0, 0, &dtype, "gru_forward") < 0
        || take(h_n, views, &held, &p[5], n, 1, 0, &dtype, "gru_forward") < 0
        || take(h_out, views, &held, &p[6], n, 1, 0, &dtype, "gru_forward") < 0) {
        release_all(views, held);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        gru_forward_f32(p[0], p[1], p[2], p[3], p[4], p[5], p[6], rows, hidden);
    else
        gru_forward_f64(p[0], p[1], p[2], p[3], p[4], p[5], p[6], rows, hidden);
    Py_END_ALLOW_THREADS
    release_all(views, held);
    Py_RETURN_NONE;
}

PyObject *gru_backward(PyObject *self, PyObject *args)
{
    PyObject *grad_h, *grad_out, *gates, *h_n, *h_prev, *grad_x, *grad_hh;
    Py_ssize_t hidden;
    if (!PyArg_ParseTuple(args, "OOOOOOOn:gru_backward", &grad_h, &grad_out, &gates, &h_n,
                          &h_prev, &grad_x, &grad_hh, &hidden))
        return NULL;
    Py_ssize_t rows = step_rows(grad_h, hidden, "gru_backward");
    if (rows < 0)
        return NULL;
    Py_buffer views[7];
    void *p[7];
    int held = 0, dtype = -1;
    Py_ssize_t n = rows * hidden;
    if (take(grad_h, views, &held, &p[0], n, 1, 0, &dtype, "gru_backward") < 0
        || take(grad_out, views, &held, &p[1], n, 0, 1, &dtype, "gru_backward") < 0
        || take(gates, views, &held, &p[2], 3 * n, 0, 0, &dtype, "gru_backward") < 0
        || take(h_n, views, &held, &p[3], n, 0, 0, &dtype, "gru_backward") < 0
        || take(h_prev, views, &held, &p[4], n, 0, 0, &dtype, "gru_backward") < 0
        || take(grad_x, views, &held, &p[5], 3 * n, 1, 0, &dtype, "gru_backward") < 0
        || take(grad_hh, views, &held, &p[6], 3 * n, 1, 0, &dtype, "gru_backward") < 0) {
        release_all(views, held);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        gru_backward_f32(p[0], p[1], p[2], p[3], p[4], p[5], p[6], rows, hidden);
    else
        gru_backward_f64(p[0], p[1], p[2], p[3], p[4], p[5], p[6], rows, hidden);
    Py_END_ALLOW_THREADS
    release_all(views, held);
    Py_RETURN_NONE;
}

/* The steps of a whole-layer loop from `obj`, an int64 array of (first row, row count) pairs
 * in visiting order, each checked to lie within `total` rows with at most `batch` rows (the
 * hidden state's). Fills `steps` (starts and sizes in one allocation, which free_steps
 * frees). Returns 0, or -1 with a Python exception set. */
static int take_steps(PyObject *obj, Py_ssize_t total, Py_ssize_t batch, Py_ssize_t hidden,
                      Py_ssize_t width, rnn_steps *steps, const char *name)
{
    Py_buffer view;
    const char *format = get_buffer(obj, &view, 0);
    if (format == NULL)
        return -1;
    if ((strcmp(format, "q") != 0 && strcmp(format, "l") != 0) || view.itemsize != 8
        || view.len % 16 != 0) {
        PyErr_Format(PyExc_TypeError, "%s: steps must be int64 (first row, row count) pairs",
                     name);
        PyBuffer_Release(&view);
        return -1;
    }
    Py_ssize_t count = view.len / 16;
    Py_ssize_t *rows = PyMem_Malloc((count ? count : 1) * 2 * sizeof(Py_ssize_t));
    if (rows == NULL) {
        PyBuffer_Release(&view);
        PyErr_NoMemory();
        return -1;
    }
    const int64_t *pairs = view.buf;
    for (Py_ssize_t s = 0; s < count; s++) {
        int64_t start = pairs[2 * s], size = pairs[2 * s + 1];
        if (start < 0 || size < 0 || size > batch || start > total - size) {
            PyErr_Format(PyExc_ValueError, "%s: step %zd (rows %lld to %lld) is outside the %zd "
                         "rows or larger than the batch of %zd", name, s, (long long)start,
                         (long long)(start + size), total, batch);
            PyMem_Free(rows);
            PyBuffer_Release(&view);
            return -1;
        }
        rows[s] = (Py_ssize_t)start;
        rows[count + s] = (Py_ssize_t)size;
    }
    PyBuffer_Release(&view);
    *steps = (rnn_steps){rows, rows + count, count, hidden, width, 0, batch};
    return 0;
}

static void free_steps(rnn_steps *steps)
{
    PyMem_Free((void *)steps->starts);
}

/* Take a layer kernel's `n` arrays (`o[i]`: `counts[i]` elements, writable where asked, None
 * allowed where `optional[i]`) into `views` and `p`, then its steps; on failure, release what
 * was taken. Returns 0, or -1 with a Python exception set. */
static int take_layer(PyObject *const *o, int n, const Py_ssize_t *counts, const int *writable,
                      const int *optional, Py_buffer *views, void **p, int *dtype,
                      PyObject *steps_obj, Py_ssize_t total, Py_ssize_t batch, Py_ssize_t hidden,
                      Py_ssize_t width, const Py_ssize_t *share, rnn_steps *steps,
                      const char *name)
{
    *dtype = -1;
    Py_ssize_t first = share[0], stop = share[1] == -1 ? batch : share[1];
    if (first < 0 || first > stop || stop > batch) {
        PyErr_Format(PyExc_ValueError, "%s: rows %zd to %zd are not a share of the batch of %zd",
                     name, first, stop, batch);
        return -1;
    }
    if (array_args(o, n, counts, writable, optional, views, p, dtype, name) < 0)
        return -1;
    if (take_steps(steps_obj, total, batch, hidden, width, steps, name) < 0) {
        release_args(views, n);
        return -1;
    }
    steps->first = first;
    steps->stop = stop;
    return 0;
}

/* The row counts a whole-layer kernel needs: `batch` from the hidden state `h` (width
 * elements a row) and `total` from the projections `gates` (`chunks` * hidden a row). */
static int layer_rows(PyObject *h, Py_ssize_t width, PyObject *gates, Py_ssize_t chunks,
                      Py_ssize_t hidden, Py_ssize_t *batch, Py_ssize_t *total, const char *name)
{
    if (hidden <= 0 || width <= 0 || hidden > PY_SSIZE_T_MAX / chunks) {
        PyErr_Format(PyExc_ValueError, "%s: sizes must be positive", name);
        return -1;
    }
    *batch = step_rows(h, width, name);
    if (*batch < 0)
        return -1;
    *total = step_rows(gates, chunks * hidden, name);
    return *total < 0 ? -1 : 0;
}

/* Run `loop` on `args` without the interpreter lock; a failure (no memory for the packed
 * weights) as an exception. */
#define RUN_LOOP(loop, args, dtype, failed)                                                   \
    do {                                                                                      \
        Py_BEGIN_ALLOW_THREADS                                                                \
        failed = (dtype) == DTYPE_FLOAT32 ? loop##_f32(args) : loop##_f64(args);              \
        Py_END_ALLOW_THREADS                                                                  \
    } while (0)

static PyObject *loop_result(int failed, const char *name)
{
    if (failed) {
        PyErr_Format(PyExc_MemoryError, "%s: no memory for the packed weights", name);
        return NULL;
    }
    Py_RETURN_NONE;
}

PyObject *lstm_layer_forward(PyObject *self, PyObject *args)
{
    PyObject *steps_obj, *o[12];
    Py_ssize_t hidden, width, batch, total, share[2] = {0, -1};
    const char *name = "lstm_layer_forward";
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOOOnn|nn:lstm_layer_forward", &steps_obj, &o[0], &o[1],
                          &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &o[8], &o[9], &o[10],
                          &o[11], &hidden, &width, &share[0], &share[1]))
        return NULL;
    /* gates, bias, weight_hh, weight_hr, h, c, h_prev, c_prev, tanh_c, cells, output, hh */
    if (layer_rows(o[4], width, o[0], 4, hidden, &batch, &total, name) < 0)
        return NULL;
    int projected = o[3] != Py_None;
    if (!projected && width != hidden) {
        PyErr_Format(PyExc_ValueError, "%s: width %zd without W_hr must be hidden (%zd)", name,
                     width, hidden);
        return NULL;
    }
    const Py_ssize_t counts[12] = {total * 4 * hidden, 4 * hidden, 4 * hidden * width,
                                   width * hidden, batch * width, batch * hidden, total * width,
                                   total * hidden, total * hidden, total * hidden,
                                   total * width, batch * 4 * hidden};
    const int writable[12] = {1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    const int optional[12] = {0, 0, 0, 1, 0, 0, 0, 0, 0, !projected, 0, 0};
    Py_buffer views[12];
    void *p[12];
    int dtype;
    rnn_steps steps;
    if (take_layer(o, 12, counts, writable, optional, views, p, &dtype, steps_obj,
                   total, batch, hidden, width, share, &steps, name) < 0)
        return NULL;
    lstm_forward_loop loop = {.steps = steps, .gates = p[0], .bias = p[1], .weight_hh = p[2],
                              .weight_hr = p[3], .h = p[4], .c = p[5], .h_prev = p[6],
                              .c_prev = p[7], .tanh_c = p[8], .cells = p[9], .output = p[10],
                              .hh = p[11]};
    int failed;
    RUN_LOOP(lstm_layer_forward, &loop, dtype, failed);
    free_steps(&loop.steps);
    release_args(views, 12);
    return loop_result(failed, name);
}

PyObject *lstm_layer_backward(PyObject *self, PyObject *args)
{
    PyObject *steps_obj, *o[11];
    Py_ssize_t hidden, width, batch, total, share[2] = {0, -1};
    const char *name = "lstm_layer_backward";
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOOnn|nn:lstm_layer_backward", &steps_obj, &o[0], &o[1],
                          &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &o[8], &o[9], &o[10],
                          &hidden, &width, &share[0], &share[1]))
        return NULL;
    /* grad_output, gates, c_prev, tanh_c, weight_hh, weight_hr, grad_h, grad_c, grad_pre,
     * grad_h_all, grad_m */
    if (layer_rows(o[6], width, o[1], 4, hidden, &batch, &total, name) < 0)
        return NULL;
    int projected = o[5] != Py_None;
    if (!projected && width != hidden) {
        PyErr_Format(PyExc_ValueError, "%s: width %zd without W_hr must be hidden (%zd)", name,
                     width, hidden);
        return NULL;
    }
    const Py_ssize_t counts[11] = {total * width, total * 4 * hidden, total * hidden,
                                   total * hidden, 4 * hidden * width, width * hidden,
                                   batch * width, batch * hidden, total * 4 * hidden,
                                   total * width, batch * hidden};
    const int writable[11] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
    const int optional[11] = {0, 0, 0, 0, 0, 1, 0, 0, 0, !projected, !projected};
    Py_buffer views[11];
    void *p[11];
    int dtype;
    rnn_steps steps;
    if (take_layer(o, 11, counts, writable, optional, views, p, &dtype, steps_obj,
                   total, batch, hidden, width, share, &steps, name) < 0)
        return NULL;
    lstm_backward_loop loop = {.steps = steps, .grad_output = p[0], .gates = p[1], .c_prev = p[2],
                               .tanh_c = p[3], .weight_hh = p[4], .weight_hr = p[5], .grad_h = p[6],
                               .grad_c = p[7], .grad_pre = p[8], .grad_h_all = p[9],
                               .grad_m = p[10]};
    int failed;
    RUN_LOOP(lstm_layer_backward, &loop, dtype, failed);
    free_steps(&loop.steps);
    release_args(views, 11);
    return loop_result(failed, name);
}

PyObject *gru_layer_forward(PyObject *self, PyObject *args)
{
    PyObject *steps_obj, *o[9];
    Py_ssize_t hidden, batch, total, share[2] = {0, -1};
    const char *name = "gru_layer_forward";
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOn|nn:gru_layer_forward", &steps_obj, &o[0], &o[1],
                          &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &o[8], &hidden,
                          &share[0], &share[1]))
        return NULL;
    /* gates, bias_ih, bias_hh, weight_hh, h, h_prev, h_n, output, hh */
    if (layer_rows(o[4], hidden, o[0], 3, hidden, &batch, &total, name) < 0)
        return NULL;
    const Py_ssize_t counts[9] = {total * 3 * hidden, 3 * hidden, 3 * hidden,
                                  3 * hidden * hidden, batch * hidden, total * hidden,
                                  total * hidden, total * hidden, batch * 3 * hidden};
    const int writable[9] = {1, 0, 0, 0, 1, 1, 1, 1, 1};
    const int optional[9] = {0};
    Py_buffer views[9];
    void *p[9];
    int dtype;
    rnn_steps steps;
    if (take_layer(o, 9, counts, writable, optional, views, p, &dtype, steps_obj,
                   total, batch, hidden, hidden, share, &steps, name) < 0)
        return NULL;
    gru_forward_loop loop = {.steps = steps, .gates = p[0], .bias_ih = p[1], .bias_hh = p[2],
                             .weight_hh = p[3], .h = p[4], .h_prev = p[5], .h_n = p[6],
                             .output = p[7], .hh = p[8]};
    int failed;
    RUN_LOOP(gru_layer_forward, &loop, dtype, failed);
    free_steps(&loop.steps);
    release_args(views, 9);
    return loop_result(failed, name);
}

PyObject *gru_layer_backward(PyObject *self, PyObject *args)
{
    PyObject *steps_obj, *o[9];
    Py_ssize_t hidden, batch, total, share[2] = {0, -1};
    const char *name = "gru_layer_backward";
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOn|nn:gru_layer_backward", &steps_obj, &o[0], &o[1],
                          &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &o[8], &hidden,
                          &share[0], &share[1]))
        return NULL;
    /* grad_output, gates, h_n, h_prev, weight_hh, grad_h, grad_pre_x, grad_pre_h, product */
    if (layer_rows(o[5], hidden, o[1], 3, hidden, &batch, &total, name) < 0)
        return NULL;
    const Py_ssize_t counts[9] = {total * hidden, total * 3 * hidden, total * hidden,
                                  total * hidden, 3 * hidden * hidden, batch * hidden,
                                  total * 3 * hidden, total * 3 * hidden, batch * hidden};
    const int writable[9] = {0, 0, 0, 0, 0, 1, 1, 1, 1};
    const int optional[9] = {0};
    Py_buffer views[9];
    void *p[9];
    int dtype;
    rnn_steps steps;
    if (take_layer(o, 9, counts, writable, optional, views, p, &dtype, steps_obj,
                   total, batch, hidden, hidden, share, &steps, name) < 0)
        return NULL;
    gru_backward_loop loop = {.steps = steps, .grad_output = p[0], .gates = p[1], .h_n = p[2],
                              .h_prev = p[3], .weight_hh = p[4], .grad_h = p[5], .grad_pre_x = p[6],
                              .grad_pre_h = p[7], .product = p[8]};
    int failed;
    RUN_LOOP(gru_layer_backward, &loop, dtype, failed);
    free_steps(&loop.steps);
    release_args(views, 9);
    return loop_result(failed, name);
}

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

/* Attention (attention.inc): the whole of softmax(q kᵀ * scale) v and its backward, matrix
 * by matrix over ember's threads, and the softmax alone, forward and backward over rows of
 * score matrices in place (one pass a row where the NumPy code makes six whole-array
 * passes). */
#include "kernels.h"
#include "vexp.h"

#include <stdatomic.h>
#include <string.h>

/* A stack of (batch, head) matrices as NumPy hands them over, views included (heads split
 * out of one projection): matrix t = (b, h) starts at data + b * batch + h * head elements,
 * its rows `row` elements apart, each row's elements contiguous. */
typedef struct {
    void *data;
    Py_ssize_t batch, head, row;
} attention_matrices;

/* One call of attention_forward or _backward: `heads` matrices a batch, L queries, S keys, D
 * features of a query or key and Dv of a value. `out` is the output forward and the
 * output's gradient backward; `weights` and `keep` (NULL: no dropout) are contiguous (L, S)
 * matrices, one per (batch, head). */
typedef struct {
    int dtype, backward, causal;
    Py_ssize_t heads, L, S, D, Dv;
    double scale;
    attention_matrices query, key, value, out, grad_query, grad_key, grad_value;
    void *weights, *keep;
    atomic_int failed;  /* a range found no memory for its scratch */
} attention_call;

#define KERNELS "attention.inc"
#include "each_type.h"

/* Matrices [start, stop) of the call (parallel_ranges). */
static void attention_range(void *context, Py_ssize_t start, Py_ssize_t stop)
{
    attention_call *c = context;
    int failed;
    if (c->dtype == DTYPE_FLOAT32)
        failed = c->backward ? attention_backward_range_f32(c, start, stop)
                             : attention_forward_range_f32(c, start, stop);
    else
        failed = c->backward ? attention_backward_range_f64(c, start, stop)
                             : attention_forward_range_f64(c, start, stop);
    if (failed)
        atomic_store(&c->failed, 1);
}

/* `obj` (None where `optional`: data NULL) as 4-D matrices of shape `shape` into `*m`, its
 * buffer in views[*held]. Returns 0, or -1 with a Python exception set. */
static int matrices_arg(PyObject *obj, const Py_ssize_t shape[4], int writable, int optional,
                        attention_matrices *m, Py_buffer *views, int *held, int *dtype,
                        const char *name)
{
    if (obj == Py_None && optional) {
        m->data = NULL;
        return 0;
    }
    Py_buffer *view = &views[*held];
    if (strided_arg(obj, view, 4, writable, dtype, name) < 0)
        return -1;
    (*held)++;
    for (int i = 0; i < 4; i++)
        if (view->shape[i] != shape[i]) {
            PyErr_Format(PyExc_ValueError, "%s: expected shape (%zd, %zd, %zd, %zd), got "
                         "(%zd, %zd, %zd, %zd)", name, shape[0], shape[1], shape[2], shape[3],
                         view->shape[0], view->shape[1], view->shape[2], view->shape[3]);
            return -1;
        }
    *m = (attention_matrices){view->buf, view->strides[0] / view->itemsize,
                              view->strides[1] / view->itemsize,
                              view->strides[2] / view->itemsize};
    return 0;
}

/* The call's contiguous weights and keep (None: no dropout), L * S per matrix. */
static int weights_args(PyObject *weights, PyObject *keep, int writable, attention_call *c,
                        Py_ssize_t matrices, Py_buffer *views, int *held, int *dtype,
                        const char *name)
{
    const Py_ssize_t count = matrices * c->L * c->S;
    if (array_arg(weights, &views[*held], count, writable, dtype, name) < 0)
        return -1;
    c->weights = views[(*held)++].buf;
    c->keep = NULL;
    if (keep == Py_None)
        return 0;
    if (array_arg(keep, &views[*held], count, 0, dtype, name) < 0)
        return -1;
    c->keep = views[(*held)++].buf;
    return 0;
}

/* Runs the call over its matrices in `parts` ranges, without the global lock; releases the
 * views. */
static PyObject *run_attention(attention_call *c, Py_ssize_t matrices, int parts,
                               Py_buffer *views, int held)
{
    Py_BEGIN_ALLOW_THREADS
    parallel_ranges(matrices, parts, attention_range, c);
    Py_END_ALLOW_THREADS
    release_all(views, held);
    if (atomic_load(&c->failed))
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

/* The call's sizes (B, H, L, S, D, Dv) from `sizes`, checked: none negative, and the
 * weights' count B * H * L * S, the largest, fits; `shapes` gets the 4-D shapes of the query,
 * key, value and output. Returns the matrix count B * H, or -1 with a Python exception set. */
static Py_ssize_t call_sizes(PyObject *sizes, attention_call *c, Py_ssize_t shapes[4][4],
                             const char *name)
{
    Py_ssize_t B, H;
    if (!PyArg_ParseTuple(sizes, "nnnnnn", &B, &H, &c->L, &c->S, &c->D, &c->Dv))
        return -1;
    const Py_ssize_t all[6] = {B, H, c->L, c->S, c->D, c->Dv};
    Py_ssize_t product = 1;
    for (int i = 0; i < 6; i++) {
        if (all[i] < 0 || (i < 4 && all[i] && product > PY_SSIZE_T_MAX / all[i])) {
            PyErr_Format(PyExc_ValueError, "%s: invalid sizes", name);
            return -1;
        }
        product *= i < 4 ? all[i] : 1;
    }
    c->heads = H;
    const Py_ssize_t q[4] = {B, H, c->L, c->D}, k[4] = {B, H, c->S, c->D};
    const Py_ssize_t v[4] = {B, H, c->S, c->Dv}, o[4] = {B, H, c->L, c->Dv};
    memcpy(shapes[0], q, sizeof q);
    memcpy(shapes[1], k, sizeof k);
    memcpy(shapes[2], v, sizeof v);
    memcpy(shapes[3], o, sizeof o);
    return B * H;
}

/* What both directions read: the sizes, then `inputs` (query, key, value, weights, keep),
 * the weights writable forward. `shapes` as call_sizes fills it; `*matrices` gets B * H.
 * Returns 0, or -1 with a Python exception set (the views held counted in `*held`). */
static int call_args(attention_call *c, PyObject *sizes, PyObject *const inputs[5],
                     int weights_writable, Py_ssize_t shapes[4][4], Py_ssize_t *matrices,
                     Py_buffer *views, int *held, int *dtype, const char *name)
{
    atomic_init(&c->failed, 0);
    *matrices = call_sizes(sizes, c, shapes, name);
    if (*matrices < 0)
        return -1;
    if (matrices_arg(inputs[0], shapes[0], 0, 0, &c->query, views, held, dtype, name) < 0
        || matrices_arg(inputs[1], shapes[1], 0, 0, &c->key, views, held, dtype, name) < 0
        || matrices_arg(inputs[2], shapes[2], 0, 0, &c->value, views, held, dtype, name) < 0)
        return -1;
    return weights_args(inputs[3], inputs[4], weights_writable, c, *matrices, views, held,
                        dtype, name);
}

/* attention_forward(query, key, value, weights, out, keep, (B, H, L, S, D, Dv), scale,
 * causal, parts=1): for each (batch, head) matrix of the 4-D query (B, H, L, D), key
 * (B, H, S, D) and value (B, H, S, Dv), weights (B * H * L * S, contiguous) =
 * softmax(q kᵀ * scale), the keys after each query masked where causal, and out
 * (B, H, L, Dv) = (weights * keep) v; keep None for no dropout. */
PyObject *attention_forward(PyObject *self, PyObject *args)
{
    PyObject *inputs[5], *out, *sizes;
    double scale;
    int causal, parts = 1;
    if (!PyArg_ParseTuple(args, "OOOOOOOdp|i:attention_forward", &inputs[0], &inputs[1],
                          &inputs[2], &inputs[3], &out, &inputs[4], &sizes, &scale, &causal,
                          &parts))
        return NULL;
    const char *name = "attention_forward";
    attention_call c = {.backward = 0, .causal = causal, .scale = scale};
    Py_ssize_t shapes[4][4], matrices;
    Py_buffer views[6];
    int held = 0, dtype = -1;
    if (call_args(&c, sizes, inputs, 1, shapes, &matrices, views, &held, &dtype, name) < 0
        || matrices_arg(out, shapes[3], 1, 0, &c.out, views, &held, &dtype, name) < 0) {
        release_all(views, held);
        return NULL;
    }
    c.dtype = dtype;
    return run_attention(&c, matrices, parts, views, held);
}

/* attention_backward(grad_output, query, key, value, weights, keep, grad_query, grad_key,
 * grad_value, (B, H, L, S, D, Dv), scale, parts=1): the gradients of attention_forward's
 * inputs from that of its output (B, H, L, Dv), into the 4-D grad_query, grad_key and
 * grad_value (each None when not wanted), from the weights forward kept. */
PyObject *attention_backward(PyObject *self, PyObject *args)
{
    PyObject *grad_output, *inputs[5], *grads[3], *sizes;
    double scale;
    int parts = 1;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOd|i:attention_backward", &grad_output, &inputs[0],
                          &inputs[1], &inputs[2], &inputs[3], &inputs[4], &grads[0],
                          &grads[1], &grads[2], &sizes, &scale, &parts))
        return NULL;
    const char *name = "attention_backward";
    attention_call c = {.backward = 1, .scale = scale};
    Py_ssize_t shapes[4][4], matrices;
    Py_buffer views[9];
    int held = 0, dtype = -1;
    attention_matrices *targets[3] = {&c.grad_query, &c.grad_key, &c.grad_value};
    int failed = call_args(&c, sizes, inputs, 0, shapes, &matrices, views, &held, &dtype,
                           name) < 0;
    if (!failed)
        failed = matrices_arg(grad_output, shapes[3], 0, 0, &c.out, views, &held, &dtype,
                              name) < 0;
    for (int i = 0; i < 3 && !failed; i++)
        failed = matrices_arg(grads[i], shapes[i], 1, 1, targets[i], views, &held, &dtype,
                              name) < 0;
    if (failed) {
        release_all(views, held);
        return NULL;
    }
    c.dtype = dtype;
    return run_attention(&c, matrices, parts, views, held);
}

static int attention_sizes(Py_ssize_t a, Py_ssize_t b, Py_ssize_t c, const char *name)
{
    if (a < 0 || b < 0 || c < 0 || (a && b > PY_SSIZE_T_MAX / a)
        || (a != 0 && b != 0 && c > PY_SSIZE_T_MAX / (a * b))) {
        PyErr_Format(PyExc_ValueError, "%s: invalid sizes", name);
        return -1;
    }
    return 0;
}

/* attention_softmax_forward(weights, matrices, L, S, scale, causal): in place. */
PyObject *attention_softmax_forward(PyObject *self, PyObject *args)
{
    PyObject *weights;
    Py_ssize_t matrices, L, S;
    double scale;
    int causal;
    if (!PyArg_ParseTuple(args, "Onnndp:attention_softmax_forward", &weights, &matrices, &L,
                          &S, &scale, &causal)
        || attention_sizes(matrices, L, S, "attention_softmax_forward") < 0)
        return NULL;
    Py_buffer view;
    int dtype = -1;
    if (array_arg(weights, &view, matrices * L * S, 1, &dtype, "attention_softmax_forward") < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        attention_softmax_forward_f32(view.buf, matrices, L, S, (float)scale, causal);
    else
        attention_softmax_forward_f64(view.buf, matrices, L, S, scale, causal);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

/* attention_softmax_backward(grad, weights, rows, S, scale): grad in place. */
PyObject *attention_softmax_backward(PyObject *self, PyObject *args)
{
    PyObject *objects[2];
    Py_ssize_t rows, S;
    double scale;
    if (!PyArg_ParseTuple(args, "OOnnd:attention_softmax_backward", &objects[0], &objects[1],
                          &rows, &S, &scale)
        || attention_sizes(rows, S, 1, "attention_softmax_backward") < 0)
        return NULL;
    const Py_ssize_t counts[2] = {rows * S, rows * S};
    const int writable[2] = {1, 0};
    Py_buffer views[2];
    void *p[2];
    int dtype = -1;
    if (array_args(objects, 2, counts, writable, NULL, views, p, &dtype,
                   "attention_softmax_backward") < 0)
        return NULL;
    void *products = PyMem_Malloc((S ? S : 1) * (dtype == DTYPE_FLOAT32 ? 4 : 8));
    if (products == NULL) {
        release_args(views, 2);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        attention_softmax_backward_f32(p[0], p[1], products, rows, S, (float)scale);
    else
        attention_softmax_backward_f64(p[0], p[1], products, rows, S, scale);
    Py_END_ALLOW_THREADS
    PyMem_Free(products);
    release_args(views, 2);
    Py_RETURN_NONE;
}

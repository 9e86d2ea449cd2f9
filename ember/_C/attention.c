/* Attention's softmax, forward and backward over rows of score matrices, in place
 * (attention.inc): one pass a row where the NumPy code makes six whole-array passes. */
#include "kernels.h"
#include "vexp.h"

#define KERNELS "attention.inc"
#include "each_type.h"

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

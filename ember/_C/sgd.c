/* Optimizer updates: every parameter of a group in one call. */
#include "kernels.h"

#define KERNELS "sgd.inc"
#include "each_type.h"

/* The buffers of parameter k's param, grad and momentum buffer (None: none), all of the
 * param's size and dtype, the param and buffer writable; how many it holds in *held. */
static int sgd_views(PyObject *params, PyObject *grads, PyObject *buffers, Py_ssize_t k,
                     Py_buffer *views, int *dtype, int *held)
{
    *dtype = -1;
    *held = 0;
    if (array_arg(PyList_GET_ITEM(params, k), &views[0], -1, 1, dtype, "sgd_step") < 0)
        return -1;
    /* The parameter's size sets the others'. */
    Py_ssize_t n = views[0].len / views[0].itemsize;
    *held = 1;
    if (array_arg(PyList_GET_ITEM(grads, k), &views[1], n, 0, dtype, "sgd_step") < 0)
        return -1;
    *held = 2;
    PyObject *buffer = PyList_GET_ITEM(buffers, k);
    if (buffer != Py_None) {
        if (array_arg(buffer, &views[2], n, 1, dtype, "sgd_step") < 0)
            return -1;
        *held = 3;
    }
    return 0;
}

PyObject *sgd_step(PyObject *self, PyObject *args)
{
    PyObject *params, *grads, *buffers;
    double lr, momentum, dampening, weight_decay;
    int nesterov, maximize, first, fallback = 0;
    if (!PyArg_ParseTuple(args, "O!O!O!ddddppp|p:sgd_step", &PyList_Type, &params, &PyList_Type,
                          &grads, &PyList_Type, &buffers, &lr, &momentum, &dampening,
                          &weight_decay, &nesterov, &maximize, &first, &fallback))
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(params);
    if (PyList_GET_SIZE(grads) != count || PyList_GET_SIZE(buffers) != count) {
        PyErr_SetString(PyExc_ValueError, "sgd_step: params, grads and buffers differ in length");
        return NULL;
    }
    /* Every array is taken before any is written: a refused one leaves all untouched. */
    Py_buffer *views = PyMem_Calloc(count ? 3 * count : 1, sizeof(Py_buffer));
    int *dtypes = PyMem_Calloc(count ? 2 * count : 1, sizeof(int));
    if (views == NULL || dtypes == NULL) {
        PyMem_Free(views);
        PyMem_Free(dtypes);
        return PyErr_NoMemory();
    }
    int *held = dtypes + count;
    Py_ssize_t taken = 0;
    PyObject *result = NULL;
    for (; taken < count; taken++)
        if (sgd_views(params, grads, buffers, taken, views + 3 * taken, &dtypes[taken],
                      &held[taken]) < 0) {
            release_all(views + 3 * taken, held[taken]);
            break;
        }
    if (taken < count) {
        /* With fallback, an array the kernel cannot read (not C-contiguous, read-only, of
         * another dtype or size, not an array) is the caller's to handle in NumPy. */
        if (fallback && (PyErr_ExceptionMatches(PyExc_TypeError)
                         || PyErr_ExceptionMatches(PyExc_ValueError)
                         || PyErr_ExceptionMatches(PyExc_BufferError))) {
            PyErr_Clear();
            result = Py_NewRef(Py_False);
        }
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < count; k++) {
        Py_buffer *v = views + 3 * k;
        Py_ssize_t n = v[0].len / v[0].itemsize;
        void *buffer = held[k] == 3 ? v[2].buf : NULL;
        if (dtypes[k] == DTYPE_FLOAT32)
            sgd_f32(v[0].buf, v[1].buf, buffer, n, lr, momentum, dampening, weight_decay,
                    nesterov, maximize, first);
        else
            sgd_f64(v[0].buf, v[1].buf, buffer, n, lr, momentum, dampening, weight_decay,
                    nesterov, maximize, first);
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_True);
done:
    for (Py_ssize_t k = 0; k < taken; k++)
        release_all(views + 3 * k, held[k]);
    PyMem_Free(views);
    PyMem_Free(dtypes);
    return result;
}

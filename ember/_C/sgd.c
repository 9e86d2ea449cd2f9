/* Optimizer updates: every parameter of a group in one call. */
#include "kernels.h"

#define KERNELS "sgd.inc"
#include "each_type.h"

PyObject *sgd_step(PyObject *self, PyObject *args)
{
    PyObject *params, *grads, *buffers;
    double lr, momentum, dampening, weight_decay;
    int nesterov, maximize, first;
    if (!PyArg_ParseTuple(args, "O!O!O!ddddppp:sgd_step", &PyList_Type, &params, &PyList_Type,
                          &grads, &PyList_Type, &buffers, &lr, &momentum, &dampening,
                          &weight_decay, &nesterov, &maximize, &first))
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(params);
    if (PyList_GET_SIZE(grads) != count || PyList_GET_SIZE(buffers) != count) {
        PyErr_SetString(PyExc_ValueError, "sgd_step: params, grads and buffers differ in length");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < count; k++) {
        Py_buffer views[3];
        int dtype = -1, held = 0;
        PyObject *buffer = PyList_GET_ITEM(buffers, k);
        if (array_arg(PyList_GET_ITEM(params, k), &views[0], -1, 1, &dtype, "sgd_step") < 0)
            return NULL;
        /* The parameter's size sets the others'. */
        Py_ssize_t n = views[0].len / views[0].itemsize;
        held = 1;
        if (array_arg(PyList_GET_ITEM(grads, k), &views[1], n, 0, &dtype, "sgd_step") < 0)
            goto fail;
        held = 2;
        if (buffer != Py_None) {
            if (array_arg(buffer, &views[2], n, 1, &dtype, "sgd_step") < 0)
                goto fail;
            held = 3;
        }
        Py_BEGIN_ALLOW_THREADS
        if (dtype == DTYPE_FLOAT32)
            sgd_f32(views[0].buf, views[1].buf, held == 3 ? views[2].buf : NULL, n, lr,
                    momentum, dampening, weight_decay, nesterov, maximize, first);
        else
            sgd_f64(views[0].buf, views[1].buf, held == 3 ? views[2].buf : NULL, n, lr,
                    momentum, dampening, weight_decay, nesterov, maximize, first);
        Py_END_ALLOW_THREADS
        release_all(views, held);
        continue;
    fail:
        release_all(views, held);
        return NULL;
    }
    Py_RETURN_NONE;
}

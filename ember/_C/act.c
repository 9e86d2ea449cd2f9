/* Activations: ReLU forward and backward. */
#include "kernels.h"

#define KERNELS "act.inc"
#include "each_type.h"

PyObject *relu_forward(PyObject *self, PyObject *args)
{
    PyObject *objects[2];
    if (!PyArg_ParseTuple(args, "OO:relu_forward", &objects[0], &objects[1]))
        return NULL;
    Py_buffer views[2];
    void *p[2];
    int dtype = -1;
    Py_ssize_t n;
    const int writable[2] = {0, 1};
    if (same_size_args(objects, 2, writable, views, p, &dtype, &n, "relu_forward") < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        relu_forward_f32(p[0], p[1], n);
    else
        relu_forward_f64(p[0], p[1], n);
    Py_END_ALLOW_THREADS
    release_args(views, 2);
    Py_RETURN_NONE;
}

PyObject *relu_backward(PyObject *self, PyObject *args)
{
    PyObject *objects[3];
    if (!PyArg_ParseTuple(args, "OOO:relu_backward", &objects[0], &objects[1], &objects[2]))
        return NULL;
    Py_buffer views[3];
    void *p[3];
    int dtype = -1;
    Py_ssize_t n;
    const int writable[3] = {0, 0, 1};
    if (same_size_args(objects, 3, writable, views, p, &dtype, &n, "relu_backward") < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        relu_backward_f32(p[0], p[1], p[2], n);
    else
        relu_backward_f64(p[0], p[1], p[2], n);
    Py_END_ALLOW_THREADS
    release_args(views, 3);
    Py_RETURN_NONE;
}

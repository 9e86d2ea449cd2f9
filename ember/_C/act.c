/* Activations: ReLU forward and backward. */
#include "kernels.h"

#define KERNELS "act.inc"
#include "each_type.h"

PyObject *relu_forward(PyObject *self, PyObject *args)
{
    PyObject *a, *out;
    if (!PyArg_ParseTuple(args, "OO:relu_forward", &a, &out))
        return NULL;
    Py_buffer views[2];
    int dtype = -1;
    if (array_arg(a, &views[0], -1, 0, &dtype, "relu_forward") < 0)
        return NULL;
    Py_ssize_t n = views[0].len / views[0].itemsize;
    if (array_arg(out, &views[1], n, 1, &dtype, "relu_forward") < 0) {
        release_all(views, 1);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        relu_forward_f32(views[0].buf, views[1].buf, n);
    else
        relu_forward_f64(views[0].buf, views[1].buf, n);
    Py_END_ALLOW_THREADS
    release_all(views, 2);
    Py_RETURN_NONE;
}

PyObject *relu_backward(PyObject *self, PyObject *args)
{
    PyObject *out, *grad, *grad_input;
    if (!PyArg_ParseTuple(args, "OOO:relu_backward", &out, &grad, &grad_input))
        return NULL;
    Py_buffer views[3];
    int dtype = -1, held = 0;
    if (array_arg(out, &views[0], -1, 0, &dtype, "relu_backward") < 0)
        return NULL;
    held = 1;
    Py_ssize_t n = views[0].len / views[0].itemsize;
    if (array_arg(grad, &views[1], n, 0, &dtype, "relu_backward") < 0)
        goto fail;
    held = 2;
    if (array_arg(grad_input, &views[2], n, 1, &dtype, "relu_backward") < 0)
        goto fail;
    held = 3;
    Py_BEGIN_ALLOW_THREADS
    if (dtype == DTYPE_FLOAT32)
        relu_backward_f32(views[0].buf, views[1].buf, views[2].buf, n);
    else
        relu_backward_f64(views[0].buf, views[1].buf, views[2].buf, n);
    Py_END_ALLOW_THREADS
    release_all(views, held);
    Py_RETURN_NONE;
fail:
    release_all(views, held);
    return NULL;
}

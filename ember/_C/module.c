/* The module ember._C._kernels: its method table, and the argument checks kernels share. */
#include "kernels.h"

#include <string.h>

int array_arg(PyObject *obj, Py_buffer *view, Py_ssize_t count, int writable, int *dtype,
              const char *name)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0)
        return -1;
    const char *format = view->format ? view->format : "B";
    if (format[0] == '<' || format[0] == '=' || format[0] == '@')
        format++;
    int found = -1;
    if (strcmp(format, "f") == 0 && view->itemsize == 4)
        found = DTYPE_FLOAT32;
    else if (strcmp(format, "d") == 0 && view->itemsize == 8)
        found = DTYPE_FLOAT64;
    if (found < 0 || (*dtype >= 0 && found != *dtype)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a %s array, got format '%s'", name,
                     *dtype == DTYPE_FLOAT64 ? "float64" : "float32 or float64", view->format);
        PyBuffer_Release(view);
        return -1;
    }
    if (count >= 0 && view->len != count * view->itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd elements, got %zd", name, count,
                     view->len / view->itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    *dtype = found;
    return 0;
}

void release_all(Py_buffer *views, int count)
{
    for (int i = 0; i < count; i++)
        PyBuffer_Release(&views[i]);
}

static PyMethodDef methods[] = {
    {"sgd_step", sgd_step, METH_VARARGS,
     "sgd_step(params, grads, buffers, lr, momentum, dampening, weight_decay, nesterov, "
     "maximize, first): SGD's update of every parameter in the lists, in place"},
    {"lstm_forward", lstm_forward, METH_VARARGS,
     "lstm_forward(gates, hh, bias, c, c_prev, tanh_c, h, hidden): the pointwise part of an "
     "LSTM step, in place (see rnn.inc)"},
    {"lstm_backward", lstm_backward, METH_VARARGS,
     "lstm_backward(grad_h, grad_out, grad_c, gates, c_prev, tanh_c, grad_pre, hidden): its "
     "backward"},
    {"gru_forward", gru_forward, METH_VARARGS,
     "gru_forward(gates, hh, bias_ih, bias_hh, h, h_n, h_out, hidden): the pointwise part of a "
     "GRU step, in place (see rnn.inc)"},
    {"gru_backward", gru_backward, METH_VARARGS,
     "gru_backward(grad_h, grad_out, gates, h_n, h_prev, grad_x, grad_hh, hidden): its "
     "backward"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernels",
    "ember's compiled CPU kernels; the ops in ember/ops call them (see ember/_C/__init__.py).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void)
{
    return PyModule_Create(&module);
}

/* Optimizers with per-element step sizes (Adam and AdamW, RMSprop, Adagrad): every parameter
 * of a group in one call, its step counter included. */
#include "kernels.h"

#include <math.h>

typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
    int maximize, decoupled;
} adam_options;

typedef struct {
    double lr, alpha, eps, weight_decay, momentum;
    int maximize;
} rmsprop_options;

#define real float
#define SQRT sqrtf
#define KERNEL(name) CONCAT(name, _f32)
#include "adaptive.inc"
#undef real
#undef SQRT
#undef KERNEL

#define real double
#define SQRT sqrt
#define KERNEL(name) CONCAT(name, _f64)
#include "adaptive.inc"
#undef real
#undef SQRT
#undef KERNEL

/* Add one to a parameter's step counter (a float32 or float64 array of one element), in its
 * type as NumPy's `counter += 1` does, and set `*step` to the new count. Returns 0, or -1 with
 * an exception set. */
static int advance_step(PyObject *counter, double *step, const char *name)
{
    Py_buffer view;
    int dtype = -1;
    if (array_arg(counter, &view, 1, 1, &dtype, name) < 0)
        return -1;
    if (dtype == DTYPE_FLOAT32) {
        float *count = view.buf;
        *count = *count + 1.0f;
        *step = *count;
    } else {
        double *count = view.buf;
        *count = *count + 1.0;
        *step = *count;
    }
    PyBuffer_Release(&view);
    return 0;
}

/* Check that the lists each hold `count` items. */
static int same_lengths(PyObject **lists, int number, const char *name)
{
    for (int k = 0; k < number; k++)
        if (!PyList_Check(lists[k]) || PyList_GET_SIZE(lists[k]) != PyList_GET_SIZE(lists[0])) {
            PyErr_Format(PyExc_ValueError, "%s: expected lists of one length", name);
            return -1;
        }
    return 0;
}

PyObject *adam_step(PyObject *self, PyObject *args)
{
    PyObject *lists[6];  /* params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps */
    adam_options o;
    int amsgrad;
    if (!PyArg_ParseTuple(args, "OOOOOOdddddppp:adam_step", &lists[0], &lists[1], &lists[2],
                          &lists[3], &lists[4], &lists[5], &o.lr, &o.beta1, &o.beta2, &o.eps,
                          &o.weight_decay, &amsgrad, &o.maximize, &o.decoupled)
        || same_lengths(lists, 6, "adam_step") < 0)
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(lists[0]);
    for (Py_ssize_t k = 0; k < count; k++) {
        Py_buffer views[5];
        int dtype = -1, held = 0, used = amsgrad ? 5 : 4;
        if (array_arg(PyList_GET_ITEM(lists[0], k), &views[0], -1, 1, &dtype, "adam_step") < 0)
            return NULL;
        /* The parameter's size sets the others'. */
        Py_ssize_t n = views[0].len / views[0].itemsize;
        for (held = 1; held < used; held++)
            if (array_arg(PyList_GET_ITEM(lists[held], k), &views[held], n, held != 1, &dtype,
                          "adam_step") < 0) {
                release_all(views, held);
                return NULL;
            }
        double step;
        if (advance_step(PyList_GET_ITEM(lists[5], k), &step, "adam_step") < 0) {
            release_all(views, used);
            return NULL;
        }
        /* The bias corrections in double, as Python computes them from the count. */
        double step_size = o.lr / (1 - pow(o.beta1, step));
        double bias_correction2_sqrt = sqrt(1 - pow(o.beta2, step));
        Py_BEGIN_ALLOW_THREADS
        if (dtype == DTYPE_FLOAT32)
            adam_f32(views[0].buf, views[1].buf, views[2].buf, views[3].buf,
                     amsgrad ? views[4].buf : NULL, n, &o, step_size, bias_correction2_sqrt);
        else
            adam_f64(views[0].buf, views[1].buf, views[2].buf, views[3].buf,
                     amsgrad ? views[4].buf : NULL, n, &o, step_size, bias_correction2_sqrt);
        Py_END_ALLOW_THREADS
        release_all(views, used);
    }
    Py_RETURN_NONE;
}

/* rmsprop_step(params, grads, square_avgs, grad_avgs, buffers, steps, lr, alpha, eps,
 * weight_decay, momentum, centered, maximize): grad_avgs are used when centered, buffers
 * when momentum > 0 (other entries may be None). */
PyObject *rmsprop_step(PyObject *self, PyObject *args)
{
    PyObject *lists[6];  /* params, grads, square_avgs, grad_avgs, buffers, steps */
    rmsprop_options o;
    int centered;
    if (!PyArg_ParseTuple(args, "OOOOOOdddddpp:rmsprop_step", &lists[0], &lists[1], &lists[2],
                          &lists[3], &lists[4], &lists[5], &o.lr, &o.alpha, &o.eps,
                          &o.weight_decay, &o.momentum, &centered, &o.maximize)
        || same_lengths(lists, 6, "rmsprop_step") < 0)
        return NULL;
    int with_momentum = o.momentum > 0;
    Py_ssize_t count = PyList_GET_SIZE(lists[0]);
    for (Py_ssize_t k = 0; k < count; k++) {
        Py_buffer views[5];
        int dtype = -1, held = 0;
        if (array_arg(PyList_GET_ITEM(lists[0], k), &views[0], -1, 1, &dtype, "rmsprop_step")
            < 0)
            return NULL;
        Py_ssize_t n = views[0].len / views[0].itemsize;
        for (held = 1; held < 5; held++) {
            if ((held == 3 && !centered) || (held == 4 && !with_momentum)) {
                views[held].obj = NULL;  /* unused: PyBuffer_Release skips it */
                continue;
            }
            if (array_arg(PyList_GET_ITEM(lists[held], k), &views[held], n, held != 1, &dtype,
                          "rmsprop_step") < 0) {
                release_all(views, held);
                return NULL;
            }
        }
        double step;
        if (advance_step(PyList_GET_ITEM(lists[5], k), &step, "rmsprop_step") < 0) {
            release_all(views, 5);
            return NULL;
        }
        void *grad_avg = centered ? views[3].buf : NULL;
        void *buffer = with_momentum ? views[4].buf : NULL;
        Py_BEGIN_ALLOW_THREADS
        if (dtype == DTYPE_FLOAT32)
            rmsprop_f32(views[0].buf, views[1].buf, views[2].buf, grad_avg, buffer, n, &o);
        else
            rmsprop_f64(views[0].buf, views[1].buf, views[2].buf, grad_avg, buffer, n, &o);
        Py_END_ALLOW_THREADS
        release_all(views, 5);
    }
    Py_RETURN_NONE;
}

/* adagrad_step(params, grads, sums, steps, lr, lr_decay, weight_decay, eps, maximize). */
PyObject *adagrad_step(PyObject *self, PyObject *args)
{
    PyObject *lists[4];  /* params, grads, sums, steps */
    double lr, lr_decay, weight_decay, eps;
    int maximize;
    if (!PyArg_ParseTuple(args, "OOOOddddp:adagrad_step", &lists[0], &lists[1], &lists[2],
                          &lists[3], &lr, &lr_decay, &weight_decay, &eps, &maximize)
        || same_lengths(lists, 4, "adagrad_step") < 0)
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(lists[0]);
    for (Py_ssize_t k = 0; k < count; k++) {
        Py_buffer views[3];
        int dtype = -1, held = 0;
        if (array_arg(PyList_GET_ITEM(lists[0], k), &views[0], -1, 1, &dtype, "adagrad_step")
            < 0)
            return NULL;
        Py_ssize_t n = views[0].len / views[0].itemsize;
        for (held = 1; held < 3; held++)
            if (array_arg(PyList_GET_ITEM(lists[held], k), &views[held], n, held == 2, &dtype,
                          "adagrad_step") < 0) {
                release_all(views, held);
                return NULL;
            }
        double step;
        if (advance_step(PyList_GET_ITEM(lists[3], k), &step, "adagrad_step") < 0) {
            release_all(views, 3);
            return NULL;
        }
        /* In double, as Python computes it from the count. */
        double decayed_lr = lr / (1 + (step - 1) * lr_decay);
        Py_BEGIN_ALLOW_THREADS
        if (dtype == DTYPE_FLOAT32)
            adagrad_f32(views[0].buf, views[1].buf, views[2].buf, n, decayed_lr, weight_decay,
                        eps, maximize);
        else
            adagrad_f64(views[0].buf, views[1].buf, views[2].buf, n, decayed_lr, weight_decay,
                        eps, maximize);
        Py_END_ALLOW_THREADS
        release_all(views, 3);
    }
    Py_RETURN_NONE;
}

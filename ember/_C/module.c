/* The module ember._C._kernels: its method table, and the argument checks kernels share. */
#include "kernels.h"

#include <string.h>

/* The buffer of `obj` with `flags` (and PyBUF_FORMAT), and its format without the byte-order
 * mark, or NULL with a Python exception set. */
static const char *buffer_with(PyObject *obj, Py_buffer *view, int flags)
{
    if (PyObject_GetBuffer(obj, view, flags | PyBUF_FORMAT) < 0)
        return NULL;
    const char *format = view->format ? view->format : "B";
    if (format[0] == '<' || format[0] == '=' || format[0] == '@')
        format++;  /* native order and size: what NumPy exports */
    return format;
}

const char *get_buffer(PyObject *obj, Py_buffer *view, int writable)
{
    return buffer_with(obj, view, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0));
}

/* The element type of a buffer got with `format`: float32 or float64, and the one `*dtype`
 * names if it is set. Returns it, or -1 with a TypeError set and the buffer released. */
static int buffer_dtype(Py_buffer *view, const char *format, const int *dtype, const char *name)
{
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
    return found;
}

int strided_arg(PyObject *obj, Py_buffer *view, int ndim, int writable, int *dtype,
                const char *name)
{
    const char *format = buffer_with(obj, view, PyBUF_STRIDES | (writable ? PyBUF_WRITABLE : 0));
    if (format == NULL)
        return -1;
    const int found = buffer_dtype(view, format, dtype, name);
    if (found < 0)
        return -1;
    /* A last dimension of one element has any stride: NumPy exports an array that is also
     * column-major with a column-major stride there, and only its index 0 is read. */
    int rows = view->ndim == ndim
               && (view->shape[ndim - 1] == 1 || view->strides[ndim - 1] == view->itemsize);
    for (int i = 0; rows && i < ndim; i++)
        rows = view->strides[i] % view->itemsize == 0;
    if (!rows) {
        PyErr_Format(PyExc_ValueError, "%s: expected %d dimensions, the last contiguous", name,
                     ndim);
        PyBuffer_Release(view);
        return -1;
    }
    *dtype = found;
    return 0;
}

int array_arg(PyObject *obj, Py_buffer *view, Py_ssize_t count, int writable, int *dtype,
              const char *name)
{
    const char *format = get_buffer(obj, view, writable);
    if (format == NULL)
        return -1;
    const int found = buffer_dtype(view, format, dtype, name);
    if (found < 0)
        return -1;
    /* A count whose bytes overflow would wrap around to a small size that some array has. */
    if (count >= 0 && (count > PY_SSIZE_T_MAX / view->itemsize
                       || view->len != count * view->itemsize)) {
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

int array_args(PyObject *const *objects, int count, const Py_ssize_t *counts,
               const int *writable, const int *optional, Py_buffer *views, void **pointers,
               int *dtype, const char *name)
{
    for (int i = 0; i < count; i++) {
        if (objects[i] == Py_None && optional != NULL && optional[i]) {
            views[i].buf = views[i].obj = NULL;
        } else if (array_arg(objects[i], &views[i], counts[i], writable[i], dtype, name) < 0) {
            release_args(views, i);
            return -1;
        }
        pointers[i] = views[i].buf;
    }
    return 0;
}

void release_args(Py_buffer *views, int count)
{
    for (int i = 0; i < count; i++)
        if (views[i].obj != NULL)
            PyBuffer_Release(&views[i]);
}

int same_size_args(PyObject *const *objects, int count, const int *writable, Py_buffer *views,
                   void **pointers, int *dtype, Py_ssize_t *n, const char *name)
{
    Py_ssize_t counts[8];
    if (count < 1 || count > 8) {
        PyErr_Format(PyExc_SystemError, "%s: same_size_args takes 1 to 8 arrays", name);
        return -1;
    }
    if (array_arg(objects[0], &views[0], -1, writable[0], dtype, name) < 0)
        return -1;
    *n = views[0].len / views[0].itemsize;
    pointers[0] = views[0].buf;
    for (int i = 1; i < count; i++)
        counts[i] = *n;
    if (array_args(objects + 1, count - 1, counts + 1, writable + 1, NULL, views + 1,
                   pointers + 1, dtype, name) < 0) {
        release_args(views, 1);
        return -1;
    }
    return 0;
}

static PyMethodDef methods[] = {
    {"set_blas", set_blas, METH_VARARGS,
     "set_blas(sgemm_address, dgemm_address, sizes64): the cblas_sgemm and cblas_dgemm that "
     "kernels multiply matrices with (ember/_C/__init__.py finds NumPy's)"},
    {"blas_ready", blas_ready, METH_NOARGS, "blas_ready(): whether set_blas was called"},
    {"matmul", matmul, METH_VARARGS,
     "matmul(a, b, c, (m, n, k), trans_a, trans_b): c = op(a) @ op(b) through that BLAS"},
    {"panel_matmul", panel_matmul, METH_VARARGS,
     "panel_matmul(a, b, c, (m, n, k), trans_b): c = a @ op(b) by ember's own product, the "
     "recurrent layers' loops'"},
    {"sgd_step", sgd_step, METH_VARARGS,
     "sgd_step(params, grads, buffers, lr, momentum, dampening, weight_decay, nesterov, "
     "maximize, first, fallback=False): SGD's update of every parameter in the lists, in "
     "place, every array taken before any is written; True, or with fallback False (nothing "
     "written) where an array is not one it reads (the caller's NumPy code then runs)"},
    {"adam_step", adam_step, METH_VARARGS,
     "adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, lr, beta1, beta2, "
     "eps, weight_decay, amsgrad, maximize, decoupled): Adam's update of every parameter in the "
     "lists and of its state, in place"},
    {"rmsprop_step", rmsprop_step, METH_VARARGS,
     "rmsprop_step(params, grads, square_avgs, grad_avgs, buffers, steps, lr, alpha, eps, "
     "weight_decay, momentum, centered, maximize): RMSprop's update, in place"},
    {"adagrad_step", adagrad_step, METH_VARARGS,
     "adagrad_step(params, grads, sums, steps, lr, lr_decay, weight_decay, eps, maximize): "
     "Adagrad's update, in place"},
    {"log_softmax_forward", log_softmax_forward, METH_VARARGS,
     "log_softmax_forward(input, output, outer, classes, inner): log_softmax along the middle "
     "dimension of (outer, classes, inner) into output"},
    {"log_softmax_backward", log_softmax_backward, METH_VARARGS,
     "log_softmax_backward(grad, output, grad_input, outer, classes, inner): its gradient"},
    {"nll_loss_forward", nll_loss_forward, METH_VARARGS,
     "nll_loss_forward(input, target, weight, out, rows, classes, ignore_index, reduction): "
     "the loss into out; returns (first row with a bad target or -1, total weight)"},
    {"nll_loss_backward", nll_loss_backward, METH_VARARGS,
     "nll_loss_backward(grad_input, target, weight, grad, rows, classes, ignore_index, "
     "reduction, total_weight): its gradient into grad_input"},
    {"relu_forward", relu_forward, METH_VARARGS, "relu_forward(input, output)"},
    {"relu_backward", relu_backward, METH_VARARGS,
     "relu_backward(output, grad_output, grad_input)"},
    {"max_pool2x2_forward", max_pool2x2_forward, METH_VARARGS,
     "max_pool2x2_forward(input, output, corners, (H, W)): 2x2 windows, stride 2; corners "
     "(int8) says which of each window's four holds its maximum"},
    {"max_pool2x2_backward", max_pool2x2_backward, METH_VARARGS,
     "max_pool2x2_backward(grad_output, corners, grad_input, (H, W))"},
    {"max_pool2d_forward", max_pool2d_forward, METH_VARARGS,
     "max_pool2d_forward(input, output, indices, (H, W), (Ho, Wo), kernel_size, stride, "
     "padding, dilation)"},
    {"max_pool2d_backward", max_pool2d_backward, METH_VARARGS,
     "max_pool2d_backward(grad_output, indices, grad_input, (H, W), (Ho, Wo), kernel_size, "
     "stride, padding, dilation)"},
    {"avg_pool2d_forward", avg_pool2d_forward, METH_VARARGS,
     "avg_pool2d_forward(input, output, (H, W), (Ho, Wo), kernel_size, stride, padding, "
     "count_include_pad, divisor_override)"},
    {"avg_pool2d_backward", avg_pool2d_backward, METH_VARARGS,
     "avg_pool2d_backward(grad_output, grad_input, (H, W), (Ho, Wo), kernel_size, stride, "
     "padding, count_include_pad, divisor_override)"},
    {"conv2d_im2col", conv2d_im2col, METH_VARARGS,
     "conv2d_im2col(input, columns, batch, geometry): the columns (batch, C*kh*kw, Ho*Wo) of "
     "unpadded images (batch, C, H, W); geometry is (C, H, W, kh, kw, sh, sw, top, left, dh, "
     "dw, Ho, Wo)"},
    {"conv2d_col2im", conv2d_col2im, METH_VARARGS,
     "conv2d_col2im(columns, image, batch, geometry): im2col's adjoint, overwriting image"},
    {"conv2d_add_bias", conv2d_add_bias, METH_VARARGS,
     "conv2d_add_bias(output, bias, positions): output (n, C, positions) += bias per channel"},
    {"conv2d_bias_grad", conv2d_bias_grad, METH_VARARGS,
     "conv2d_bias_grad(grad, sums, positions): sums (C,) = grad (n, C, positions) summed over "
     "images and positions"},
    {"linear_forward", linear_forward, METH_VARARGS,
     "linear_forward(a, b, bias, out, (m, n, k), trans_a, trans_b, parts=1): out (m, n) = "
     "op(a) @ op(b) + bias (n, or None), where op(a) is (m, k) and a transposed operand is "
     "stored as its transpose (see linear.inc); in `parts` bands of rows over ember's threads"},
    {"linear_backward", linear_backward, METH_VARARGS,
     "linear_backward(grad, a, b, grad_a, grad_bt, grad_bias, (m, n, k), trans_a, trans_b, "
     "parts=1): the gradients of linear_forward that are not None: grad_a = grad @ op(b).T, "
     "grad_bt = grad.T @ op(a) (op(b)'s gradient, transposed), grad_bias = grad summed over "
     "rows; with parts 2, grad_a and grad_bt on two of ember's threads"},
    {"parallel_threads", parallel_threads, METH_NOARGS,
     "parallel_threads(): how many threads the kernels' pool has started (threads.c)"},
    {"mse_loss_forward", mse_loss_forward, METH_VARARGS,
     "mse_loss_forward(input, target, out, reduction): (input - target) ** 2 into out, or "
     "its sum (reduction 2) or mean (1) into out's one element"},
    {"mse_loss_backward", mse_loss_backward, METH_VARARGS,
     "mse_loss_backward(grad, input, target, grad_input, grad_target, scale, reduction): "
     "grad_input = grad * (input - target) * scale (grad: one per element for reduction 0, "
     "else one), grad_target = -grad_input unless None"},
    {"conv2d_forward", conv2d_forward, METH_VARARGS,
     "conv2d_forward(input, weight, bias, output, batch, out_channels, groups, geometry): the "
     "whole convolution of batch images, im2col, product and bias per image (bias may be "
     "None)"},
    {"conv2d_backward", conv2d_backward, METH_VARARGS,
     "conv2d_backward(input, weight, grad_output, grad_input, grad_weight, grad_bias, batch, "
     "out_channels, groups, geometry): the gradients asked for (the others None), per image"},
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
    {"lstm_layer_forward", lstm_layer_forward, METH_VARARGS,
     "lstm_layer_forward(steps, gates, bias, weight_hh, weight_hr, h, c, h_prev, c_prev, "
     "tanh_c, cells, output, hh, hidden, width[, first, stop]): an LSTM layer's time loop, for "
     "the batch rows [first, stop) if given (see rnn.inc)"},
    {"lstm_layer_backward", lstm_layer_backward, METH_VARARGS,
     "lstm_layer_backward(steps, grad_output, gates, c_prev, tanh_c, weight_hh, weight_hr, "
     "grad_h, grad_c, grad_pre, grad_h_all, grad_m, hidden, width[, first, stop]): its backward"},
    {"gru_layer_forward", gru_layer_forward, METH_VARARGS,
     "gru_layer_forward(steps, gates, bias_ih, bias_hh, weight_hh, h, h_prev, h_n, output, hh, "
     "hidden[, first, stop]): a GRU layer's time loop (see rnn.inc)"},
    {"gru_layer_backward", gru_layer_backward, METH_VARARGS,
     "gru_layer_backward(steps, grad_output, gates, h_n, h_prev, weight_hh, grad_h, "
     "grad_pre_x, grad_pre_h, product, hidden[, first, stop]): its backward"},
    /* ember.compile (replay.c) */
    {"replay", replay, METH_VARARGS,
     "replay(program, slots): run a plan of ember.compile (compile.py's _run_program)"},
    {"replay_holds", replay_holds, METH_VARARGS,
     "replay_holds(externals, modules, slots): whether a plan's guards hold (compile.py's "
     "_holds_python), each external's array put in its slot"},
    {"replay_describe", replay_describe, METH_VARARGS,
     "replay_describe(args, tensor_type, tensors): (_signature(args), _aliasing) of a tuple "
     "of tensors, or None for other arguments"},
    {"replay_same_free", replay_same_free, METH_VARARGS,
     "replay_same_free(namespace, names, cells, seen, missing): whether the values a "
     "function reaches by name are the objects of seen"},
    /* Transformer pieces (gelu.c, norm.c, attention.c). */
    {"gelu_erf_forward", gelu_erf_forward, METH_VARARGS,
     "gelu_erf_forward(input, output, cdf, series): output = input * cdf, cdf the standard "
     "normal CDF of input, erf by the series (largest, scale, offset, coefficients) of "
     "ops/activation.py"},
    {"gelu_erf_backward", gelu_erf_backward, METH_VARARGS,
     "gelu_erf_backward(input, cdf, grad_output, grad_input)"},
    {"gelu_tanh_forward", gelu_tanh_forward, METH_VARARGS,
     "gelu_tanh_forward(input, output): GELU's tanh approximation"},
    {"gelu_tanh_backward", gelu_tanh_backward, METH_VARARGS,
     "gelu_tanh_backward(input, grad_output, grad_input)"},
    {"layer_norm_forward", layer_norm_forward, METH_VARARGS,
     "layer_norm_forward(input, weight, bias, output, mean, inv_std, rows, cols, eps): each "
     "row of cols values normalized, times weight, plus bias (either None); mean (float64) "
     "and inv_std per row for backward"},
    {"layer_norm_backward", layer_norm_backward, METH_VARARGS,
     "layer_norm_backward(input, mean, inv_std, weight, grad_output, grad_input, weight_sums, "
     "bias_sums, rows, cols): grad_input, and grad * normalized and grad summed over the rows "
     "added to the float64 sums (any output None)"},
    {"attention_forward", attention_forward, METH_VARARGS,
     "attention_forward(query, key, value, weights, out, keep, (B, H, L, S, D, Dv), scale, "
     "causal, parts=1): "
     "softmax(q kT * scale) v per (batch, head) matrix, with ember's own products"},
    {"attention_backward", attention_backward, METH_VARARGS,
     "attention_backward(grad_output, query, key, value, weights, keep, grad_query, "
     "grad_key, grad_value, (B, H, L, S, D, Dv), scale, parts=1): the wanted gradients "
     "(None: not wanted)"},
    {"attention_softmax_forward", attention_softmax_forward, METH_VARARGS,
     "attention_softmax_forward(weights, matrices, L, S, scale, causal): weights (matrices, "
     "L, S) = softmax(weights * scale) over S, in place, query i seeing keys 0..i if causal"},
    {"attention_softmax_backward", attention_softmax_backward, METH_VARARGS,
     "attention_softmax_backward(grad, weights, rows, S, scale): grad = (grad - sum(grad * "
     "weights)) * weights * scale per row of S, in place"},
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

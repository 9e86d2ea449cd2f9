/* ember.compile's replay loop: one pass over a plan's program, in C.

   ember/compile.py's _run_program is the reference and the fallback without the extension;
   this is its twin, entry for entry. A program is a tuple of (entry, frees): an entry is a
   Python closure of the slot list, called with it, or a kernel call (kernel, args, fills,
   copies): the compiled kernel is called with the tuple args, where each (position, slot)
   of fills puts in the array of that slot, then each (target, source) of copies sets a slot
   (a result that is one of the op's inputs). frees are the slots to empty afterwards. The
   kernels are ember's own, called through vectorcall: what this saves is the Python frame
   of each entry, the argument tuples and the ctx objects, not the kernels' checks. */
#include "kernels.h"

#define MAX_KERNEL_ARGS 16  /* the most arguments a kernel of ember/_C takes is 9 */

/* The slot number at `number`, checked against the slot list's length. */
static int slot_number(PyObject *number, PyObject *slots, Py_ssize_t *slot)
{
    Py_ssize_t value = PyLong_AsSsize_t(number);
    if (value == -1 && PyErr_Occurred())
        return -1;
    if (value < 0 || value >= PyList_GET_SIZE(slots)) {
        PyErr_Format(PyExc_IndexError, "replay: slot %zd out of range", value);
        return -1;
    }
    *slot = value;
    return 0;
}

/* The two numbers of the pair `pair` (a tuple of two ints), the second a slot. */
static int pair_of(PyObject *pair, PyObject *slots, Py_ssize_t *first, Py_ssize_t *slot,
                   int first_is_slot)
{
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
        PyErr_SetString(PyExc_TypeError, "replay: expected a pair (position, slot)");
        return -1;
    }
    if (first_is_slot) {
        if (slot_number(PyTuple_GET_ITEM(pair, 0), slots, first) < 0)
            return -1;
    } else {
        *first = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 0));
        if (*first == -1 && PyErr_Occurred())
            return -1;
    }
    return slot_number(PyTuple_GET_ITEM(pair, 1), slots, slot);
}

static int call_kernel(PyObject *entry, PyObject *slots)
{
    if (PyTuple_GET_SIZE(entry) != 4 || !PyTuple_Check(PyTuple_GET_ITEM(entry, 1))
        || !PyTuple_Check(PyTuple_GET_ITEM(entry, 2))
        || !PyTuple_Check(PyTuple_GET_ITEM(entry, 3))) {
        PyErr_SetString(PyExc_TypeError, "replay: a kernel entry is (kernel, args, fills, "
                        "copies)");
        return -1;
    }
    PyObject *kernel = PyTuple_GET_ITEM(entry, 0), *template = PyTuple_GET_ITEM(entry, 1);
    PyObject *fills = PyTuple_GET_ITEM(entry, 2), *copies = PyTuple_GET_ITEM(entry, 3);
    Py_ssize_t count = PyTuple_GET_SIZE(template);
    if (count > MAX_KERNEL_ARGS) {
        PyErr_SetString(PyExc_ValueError, "replay: too many kernel arguments");
        return -1;
    }
    /* Borrowed references: the template and the slot list hold them through the call. */
    PyObject *args[MAX_KERNEL_ARGS];
    for (Py_ssize_t i = 0; i < count; i++)
        args[i] = PyTuple_GET_ITEM(template, i);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(fills); i++) {
        Py_ssize_t position, slot;
        if (pair_of(PyTuple_GET_ITEM(fills, i), slots, &position, &slot, 0) < 0)
            return -1;
        if (position < 0 || position >= count) {
            PyErr_Format(PyExc_IndexError, "replay: argument %zd out of range", position);
            return -1;
        }
        args[position] = PyList_GET_ITEM(slots, slot);
    }
    PyObject *result = PyObject_Vectorcall(kernel, args, (size_t)count, NULL);
    if (result == NULL)
        return -1;
    Py_DECREF(result);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(copies); i++) {
        Py_ssize_t target, source;
        if (pair_of(PyTuple_GET_ITEM(copies, i), slots, &target, &source, 1) < 0)
            return -1;
        PyObject *value = PyList_GET_ITEM(slots, source);
        Py_INCREF(value);
        PyList_SetItem(slots, target, value);  /* steals value, releases the old item */
    }
    return 0;
}

/* replay(program, slots): run the program on the slot list. */
PyObject *replay(PyObject *self, PyObject *args)
{
    PyObject *program, *slots;
    if (!PyArg_ParseTuple(args, "O!O!:replay", &PyTuple_Type, &program, &PyList_Type, &slots))
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(program); i++) {
        PyObject *step = PyTuple_GET_ITEM(program, i);
        if (!PyTuple_Check(step) || PyTuple_GET_SIZE(step) != 2
            || !PyTuple_Check(PyTuple_GET_ITEM(step, 1))) {
            PyErr_SetString(PyExc_TypeError, "replay: a program step is (entry, frees)");
            return NULL;
        }
        PyObject *entry = PyTuple_GET_ITEM(step, 0), *frees = PyTuple_GET_ITEM(step, 1);
        if (PyTuple_Check(entry)) {
            if (call_kernel(entry, slots) < 0)
                return NULL;
        } else {
            PyObject *result = PyObject_CallOneArg(entry, slots);
            if (result == NULL)
                return NULL;
            Py_DECREF(result);
        }
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(frees); j++) {
            Py_ssize_t slot;
            if (slot_number(PyTuple_GET_ITEM(frees, j), slots, &slot) < 0)
                return NULL;
            Py_INCREF(Py_None);
            PyList_SetItem(slots, slot, Py_None);
        }
    }
    Py_RETURN_NONE;
}

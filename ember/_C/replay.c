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

/* ---- The guards of a replay (compile.py's _Plan.valid, _holds_python its twin) ---------- */

/* Interned attribute names, made at the first call. */
static PyObject *name_data, *name_requires_grad, *name_shape, *name_dtype, *name_strides,
    *name_training, *name_parameters, *name_modules;

static int intern_names(void)
{
    if (name_modules != NULL)
        return 0;
    name_data = PyUnicode_InternFromString("_data");
    name_requires_grad = PyUnicode_InternFromString("_requires_grad");
    name_shape = PyUnicode_InternFromString("shape");
    name_dtype = PyUnicode_InternFromString("dtype");
    name_strides = PyUnicode_InternFromString("strides");
    name_training = PyUnicode_InternFromString("training");
    name_parameters = PyUnicode_InternFromString("_parameters");
    name_modules = PyUnicode_InternFromString("_modules");
    return name_data && name_requires_grad && name_shape && name_dtype && name_strides
        && name_training && name_parameters && name_modules ? 0 : -1;
}

/* Whether obj.name is `expected`, or equal to it where `by_value` (1, 0, or -1 on error).
 * Identity first: the dtype object is almost always the very one the capture saw. */
static int attribute_is(PyObject *obj, PyObject *name, PyObject *expected, int by_value)
{
    PyObject *value = PyObject_GetAttr(obj, name);
    if (value == NULL)
        return -1;
    int same = value == expected ? 1 : by_value ? PyObject_RichCompareBool(value, expected,
                                                                             Py_EQ) : 0;
    Py_DECREF(value);
    return same;
}

/* Whether state[name] (a module's __dict__ and one of its dicts of members) is a dict holding
 * the objects whose ids are `ids`, in order (an empty tuple: the dict is empty). */
static int members_are(PyObject *state, PyObject *name, PyObject *ids)
{
    PyObject *members = PyDict_GetItemWithError(state, name);  /* borrowed */
    if (members == NULL)
        return PyErr_Occurred() ? -1 : 0;
    if (!PyTuple_Check(ids)) {
        PyErr_SetString(PyExc_TypeError, "replay_holds: a module's member ids are a tuple");
        return -1;
    }
    if (!PyDict_CheckExact(members)) {
        /* Not the plain dict Module keeps (an OrderedDict put there, say): its values(), in
         * its own order, as the Python twin reads them. */
        PyObject *values = PyObject_CallMethod(members, "values", NULL);
        PyObject *items = values != NULL ? PySequence_Tuple(values) : NULL;
        Py_XDECREF(values);
        if (items == NULL)
            return -1;
        int same = PyTuple_GET_SIZE(items) == PyTuple_GET_SIZE(ids);
        for (Py_ssize_t i = 0; same == 1 && i < PyTuple_GET_SIZE(items); i++) {
            void *id = PyLong_AsVoidPtr(PyTuple_GET_ITEM(ids, i));
            if (id == NULL && PyErr_Occurred())
                same = -1;
            else
                same = id == (void *)PyTuple_GET_ITEM(items, i);
        }
        Py_DECREF(items);
        return same;
    }
    if (PyDict_GET_SIZE(members) != PyTuple_GET_SIZE(ids))
        return 0;
    /* A plain dict iterates in insertion order, as .values() does. */
    Py_ssize_t position = 0, i = 0;
    PyObject *key, *value;
    while (PyDict_Next(members, &position, &key, &value)) {
        void *id = PyLong_AsVoidPtr(PyTuple_GET_ITEM(ids, i++));
        if (id == NULL && PyErr_Occurred())
            return -1;
        if (id != (void *)value)
            return 0;
    }
    return 1;
}

/* One external (slot, tensor, shape, dtype, requires_grad, strides): whether its tensor kept
 * them; if so, its array goes to the slot. */
static int external_holds(PyObject *external, PyObject *slots)
{
    if (!PyTuple_Check(external) || PyTuple_GET_SIZE(external) != 6) {
        PyErr_SetString(PyExc_TypeError, "replay_holds: an external is (slot, tensor, shape, "
                        "dtype, requires_grad, strides)");
        return -1;
    }
    Py_ssize_t slot;
    if (slot_number(PyTuple_GET_ITEM(external, 0), slots, &slot) < 0)
        return -1;
    PyObject *tensor = PyTuple_GET_ITEM(external, 1);
    int same = attribute_is(tensor, name_requires_grad, PyTuple_GET_ITEM(external, 4), 0);
    if (same != 1)
        return same;
    PyObject *data = PyObject_GetAttr(tensor, name_data);
    if (data == NULL)
        return -1;
    same = attribute_is(data, name_shape, PyTuple_GET_ITEM(external, 2), 1);
    if (same == 1)
        same = attribute_is(data, name_dtype, PyTuple_GET_ITEM(external, 3), 1);
    if (same == 1)
        same = attribute_is(data, name_strides, PyTuple_GET_ITEM(external, 5), 1);
    if (same == 1)
        PyList_SetItem(slots, slot, data);  /* steals data, releases the old item */
    else
        Py_DECREF(data);
    return same;
}

/* One module (its __dict__, training, parameter ids, child ids): whether it kept its mode
 * (None: not guarded), its parameters and its children. */
static int module_holds(PyObject *module)
{
    if (!PyTuple_Check(module) || PyTuple_GET_SIZE(module) != 4
        || !PyDict_Check(PyTuple_GET_ITEM(module, 0))) {
        PyErr_SetString(PyExc_TypeError, "replay_holds: a module is (its __dict__, training, "
                        "parameters, children)");
        return -1;
    }
    PyObject *state = PyTuple_GET_ITEM(module, 0), *training = PyTuple_GET_ITEM(module, 1);
    if (training != Py_None) {
        PyObject *mode = PyDict_GetItemWithError(state, name_training);  /* borrowed */
        if (mode != training)
            return mode == NULL && PyErr_Occurred() ? -1 : 0;
    }
    int same = members_are(state, name_parameters, PyTuple_GET_ITEM(module, 2));
    if (same == 1)
        same = members_are(state, name_modules, PyTuple_GET_ITEM(module, 3));
    return same;
}

/* replay_holds(externals, modules, slots): whether the tensors from outside kept their
 * requires_grad, shape, dtype and strides and the modules their mode, parameters and
 * children; while they do, each external's array is put in its slot of the slot list. */
PyObject *replay_holds(PyObject *self, PyObject *args)
{
    PyObject *externals, *modules, *slots;
    if (!PyArg_ParseTuple(args, "O!O!O!:replay_holds", &PyTuple_Type, &externals,
                          &PyTuple_Type, &modules, &PyList_Type, &slots))
        return NULL;
    if (intern_names() < 0)
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(externals); i++) {
        int same = external_holds(PyTuple_GET_ITEM(externals, i), slots);
        if (same < 0)
            return NULL;
        if (!same)
            Py_RETURN_FALSE;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(modules); i++) {
        int same = module_holds(PyTuple_GET_ITEM(modules, i));
        if (same < 0)
            return NULL;
        if (!same)
            Py_RETURN_FALSE;
    }
    Py_RETURN_TRUE;
}

/* ---- The guard key's parts (compile.py's CompiledFunction.__call__) ---------------------- */

/* replay_describe(args, tensor_type, tensors): for a tuple of tensors only (the usual
 * arguments of a step), what _signature(args, tensors) and _aliasing(tensors) give: the
 * tuple (tuple, (type(data), shape, strides, dtype, requires_grad) for each) and None, or
 * the index of the first tensor sharing each one's array; the tensors are appended to
 * `tensors`. None when an argument is not a tensor: the Python code then describes them. */
PyObject *replay_describe(PyObject *self, PyObject *args)
{
    PyObject *arguments, *tensor_type, *tensors;
    if (!PyArg_ParseTuple(args, "O!O!O!:replay_describe", &PyTuple_Type, &arguments,
                          &PyType_Type, &tensor_type, &PyList_Type, &tensors))
        return NULL;
    if (intern_names() < 0)
        return NULL;
    Py_ssize_t count = PyTuple_GET_SIZE(arguments);
    for (Py_ssize_t i = 0; i < count; i++)
        if (!PyObject_TypeCheck(PyTuple_GET_ITEM(arguments, i), (PyTypeObject *)tensor_type))
            Py_RETURN_NONE;
    PyObject *signature = PyTuple_New(count + 1), *arrays = PyList_New(count);
    PyObject *aliasing = NULL, *result = NULL;
    if (signature == NULL || arrays == NULL)
        goto done;
    PyTuple_SET_ITEM(signature, 0, Py_NewRef((PyObject *)&PyTuple_Type));
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *tensor = PyTuple_GET_ITEM(arguments, i);
        if (PyList_Append(tensors, tensor) < 0)
            goto done;
        PyObject *data = PyObject_GetAttr(tensor, name_data);
        if (data == NULL)
            goto done;
        PyList_SET_ITEM(arrays, i, data);  /* the list owns it now */
        PyObject *description = PyTuple_New(5);
        if (description == NULL)
            goto done;
        PyTuple_SET_ITEM(signature, i + 1, description);
        PyTuple_SET_ITEM(description, 0, Py_NewRef((PyObject *)Py_TYPE(data)));
        PyObject *names[4] = {name_shape, name_strides, name_dtype, name_requires_grad};
        for (int k = 0; k < 4; k++) {
            PyObject *value = PyObject_GetAttr(k < 3 ? data : tensor, names[k]);
            if (value == NULL)
                goto done;
            PyTuple_SET_ITEM(description, k + 1, value);
        }
    }
    /* Which tensors share an array: pairs compared by identity (steps take a few arguments). */
    for (Py_ssize_t i = 1; i < count && aliasing == NULL; i++)
        for (Py_ssize_t j = 0; j < i; j++)
            if (PyList_GET_ITEM(arrays, i) == PyList_GET_ITEM(arrays, j)) {
                aliasing = PyTuple_New(count);
                break;
            }
    if (aliasing != NULL) {
        for (Py_ssize_t i = 0; i < count; i++) {
            Py_ssize_t first = 0;
            while (PyList_GET_ITEM(arrays, first) != PyList_GET_ITEM(arrays, i))
                first++;
            PyObject *index = PyLong_FromSsize_t(first);
            if (index == NULL)
                goto done;
            PyTuple_SET_ITEM(aliasing, i, index);
        }
    }
    result = PyTuple_Pack(2, signature, aliasing != NULL ? aliasing : Py_None);
done:
    Py_XDECREF(signature);
    Py_XDECREF(arrays);
    Py_XDECREF(aliasing);
    return result;
}

/* replay_same_free(namespace, names, cells, seen, missing): whether the values the function
 * reaches by name, namespace.get(name, missing) for each name then each cell's contents, are
 * the very objects of `seen` (a list), as _free_values compares them. An emptied cell: no. */
PyObject *replay_same_free(PyObject *self, PyObject *args)
{
    PyObject *namespace, *names, *cells, *seen, *missing;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O:replay_same_free", &PyDict_Type, &namespace,
                          &PyTuple_Type, &names, &PyTuple_Type, &cells, &PyList_Type, &seen,
                          &missing))
        return NULL;
    Py_ssize_t count = PyTuple_GET_SIZE(names);
    if (PyList_GET_SIZE(seen) != count + PyTuple_GET_SIZE(cells))
        Py_RETURN_FALSE;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *value = PyDict_GetItemWithError(namespace, PyTuple_GET_ITEM(names, i));
        if (value == NULL) {
            if (PyErr_Occurred())
                return NULL;
            value = missing;
        }
        if (value != PyList_GET_ITEM(seen, i))
            Py_RETURN_FALSE;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(cells); i++) {
        PyObject *cell = PyTuple_GET_ITEM(cells, i);
        if (!PyCell_Check(cell) || PyCell_GET(cell) == NULL
            || PyCell_GET(cell) != PyList_GET_ITEM(seen, count + i))
            Py_RETURN_FALSE;
    }
    Py_RETURN_TRUE;
}

# The C side of tuples.py for Cython (loadtool.speedups): the compiled core's modules cimport it to
# build a record without tuple.__new__'s call. tuples.py itself stays Python (tuple.__new__).
cdef extern from *:
    """
    static CYTHON_INLINE PyObject *loadtool_tuples_make(PyTypeObject *type, PyObject *fields) {
        /* tuple.__new__(cls, fields) for a subclass of tuple (tuple_subtype_new): its type's
           allocation, then the fields, without parsing arguments or a tuple to copy from. */
        Py_ssize_t size = PyTuple_GET_SIZE(fields), index;
        PyObject *made;
        if (!PyType_IsSubtype(type, &PyTuple_Type) || type == &PyTuple_Type) {
            PyErr_SetString(PyExc_TypeError, "tuples.make: cls must be a subclass of tuple");
            return NULL;
        }
        made = type->tp_alloc(type, size);
        if (made == NULL) return NULL;
        for (index = 0; index < size; index++) {
            PyObject *field = PyTuple_GET_ITEM(fields, index);
            Py_INCREF(field);
            PyTuple_SET_ITEM(made, index, field);
        }
        return made;
    }
    """
    object make "loadtool_tuples_make"(type cls, tuple fields)

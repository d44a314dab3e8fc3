# The C types of work.py for Cython (loadtool.speedups): the .py is the source; this only declares.
cimport cython

from loadtool.metrics cimport tuples  # tuples.make() is a C call


@cython.final
cdef class Work:
    cdef public object _ops, _pacer, _clock, _stopping, _control, _lock
    cdef public double _deadline, _base
    cdef public bint _timed
    cdef public Py_ssize_t issued

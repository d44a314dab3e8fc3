# The C types of guard.py for Cython (loadtool.speedups): the .py is the source; this only declares.
cimport cython


@cython.final
cdef class _Guarded:
    cdef public object parser, handler

# The C types of histograms.py for Cython (loadtool.speedups): the .py is the source; this only declares.
cimport cython

cdef long long _NONE_SMALL[2048]  # SMALL_US


cdef class Values:
    cdef public object _histogram
    cdef public dict pending
    cdef long long small[2048]  # SMALL_US
    @cython.locals(value=Py_ssize_t, count=cython.longlong)
    cpdef settle(self)
    @cython.locals(value=Py_ssize_t, count=cython.longlong, pending=dict)
    cpdef merge(self, Values other)

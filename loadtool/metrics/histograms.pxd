# The C types of histograms.py for Cython (loadtool.speedups): the .py is the source; this only declares.
cimport cython

cdef long long _NONE_SMALL[8192]  # SLOTS
cdef int _SHIFTS[64]  # COUNTED_US >> 11

cpdef Py_ssize_t slot_value(Py_ssize_t index)


cdef class Values:
    cdef public object _histogram
    cdef public dict pending
    cdef long long small[8192]  # SLOTS
    cdef Py_ssize_t _top
    @cython.locals(index=Py_ssize_t, count=cython.longlong)
    cpdef settle(self)
    @cython.locals(shift=cython.int, index=Py_ssize_t, pending=dict)
    cpdef add(self, long long value)
    @cython.locals(index=Py_ssize_t, count=cython.longlong, pending=dict)
    cpdef merge(self, Values other)

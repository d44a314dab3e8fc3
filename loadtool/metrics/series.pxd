# The C types of series.py for Cython (loadtool.speedups): the .py is the source; this only declares.
cimport cython
from loadtool.metrics.histograms cimport Values

cdef class _Second:
    cdef public long long ops, failed, errors, bytes
    cdef public Values live
    cdef public object encoded

cdef class Series:
    cdef public dict _rows
    cdef public object _hot
    cdef public _Second _hot_row, _spare
    @cython.locals(row=_Second, live=Values)
    cpdef add(self, second, long long latency, bint failed, bint errored, long long nbytes)
    cpdef _Second _row(self, second)

# The C types of sink.py for Cython (loadtool.speedups): the .py is the source; this only declares.
from loadtool.metrics.stats cimport Stats as _Stats  # (the .py imports the name Stats)

cdef class Sink:
    cdef public bint open_model, keep_records, _closed
    cdef public double epoch
    cdef public long long recorded
    cdef public _Stats stats
    cdef public object _write, _records, _lock, details
    cpdef record(self, sample)

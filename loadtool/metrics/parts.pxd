# The C types of parts.py for Cython (loadtool.speedups): the .py is the source; this only declares.
cimport cython
from loadtool.metrics.histograms cimport Values
from loadtool.metrics.series cimport Series

cdef class Counts:
    cdef public long long ops, ok, attempts, bytes, decoded_bytes, compressed, undecoded, abandoned, elsewhere
    cdef public long long worker_peak_bytes
    cdef public dict failed_status, _status, _protocols, _connections, tracebacks
    cdef public object status_key, protocol_key
    cdef public long long status_run, protocol_run, reused
    cpdef count_status(self, status)
    cpdef count_protocol(self, protocol)
    cdef public object errors, first_error, cpu_s

cdef class Latency:
    cdef public Values latency
    cdef public object service
    cdef public object behind_us
    cdef public list sends

cdef class Phases:
    cdef public list values
    @cython.locals(values=list, held=Values, index=Py_ssize_t, seconds=cython.double,
                   value=cython.longlong)
    cpdef add(self, tuple phases)

cdef class Checks:
    cdef public list counts

cdef class PerSecond:
    cdef public Series latency
    cdef public object service

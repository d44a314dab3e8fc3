# The C types of policy.py for Cython (loadtool.speedups): the .py is the source; this only declares.
cimport cython

from loadtool.metrics cimport tuples  # tuples.make() is a C call


@cython.final
cdef class Policy:
    cdef public double timeout_s, connect_timeout_s
    cdef public Py_ssize_t retries
    cdef public object seed, first_limits, checks, kind_of
    cdef public bint idempotent, _reads
    cdef public bytes _ok
    cpdef answered(self, attempt, status, nbytes, double now, protocol=*, connected=*, phases=*, answer=*,
                   decoded=*, elsewhere=*)
    cpdef sample(self, attempt, double now, status=*, nbytes=*, kind=*, detail=*, protocol=*, connected=*,
                 phases=*, decoded=*, elsewhere=*)

# The C types of callbacks.py for Cython (loadtool.speedups): the .py is the source; this only declares.
cdef class Worker:
    cdef public object attempt
    cdef public bint in_flight
    cpdef answered(self, status, nbytes, protocol=*, connected=*, phases=*, now=*, answer=*, decoded=*,
                   elsewhere=*)
    cpdef failed(self, error, detail=*, stale=*)

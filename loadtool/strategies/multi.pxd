# The C types of multi.py for Cython (loadtool.speedups): the .py is the source; this only declares.
cimport cython

from loadtool.metrics cimport clock  # clock.now() is a C call

from loadtool.engines.policy cimport Policy
from loadtool.strategies.work cimport Work


@cython.final
cdef class MultiDriver:
    cdef public Policy policy
    cdef public object control, sink, pool, _order, held, batch, count, begin
    cdef public Work work
    cdef public list free, retries
    cdef public dict attempts
    cdef public bint exhausted
    cpdef _start(self, double now)
    cpdef _send(self, Py_ssize_t slot, attempt, double now, limits=*)
    @cython.locals(now=cython.double)
    cpdef _ended(self, Py_ssize_t slot, outcome)
    @cython.locals(wait=cython.double)
    cpdef double _wait_s(self, double now)
    cpdef _hand_over(self)

# The C types of loop.py for Cython (loadtool.speedups): the .py is the source; this only declares.
cimport cython

from loadtool.metrics cimport clock  # clock.now() is a C call

from loadtool.engines.callbacks cimport Worker
from loadtool.engines.policy cimport Policy
from loadtool.strategies.work cimport Work

cdef class LoopDriver


# Not final: it overrides Worker's answered and failed (Cython allows no final override).
cdef class LoopWorker(Worker):
    cdef public LoopDriver driver
    cdef public object channel
    cdef public bint done
    cpdef answered(self, status, nbytes, protocol=*, connected=*, phases=*, now=*, answer=*, decoded=*,
                   elsewhere=*)
    cpdef failed(self, error, detail=*, stale=*)
    cpdef next(self)
    cpdef send(self, attempt)


@cython.final
cdef class LoopDriver:
    cdef public Policy policy
    cdef public object engine, control, sink, loop, batch, count, begin, finished, workers
    cdef public Work work
    cdef public Py_ssize_t _left
    cdef public double _loop_offset

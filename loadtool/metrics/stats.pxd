# The C types of stats.py for Cython (loadtool.speedups): the .py is the source; this only declares.
cimport cython

from loadtool.metrics cimport clock  # clock.wall() is a C call
from loadtool.metrics.parts cimport Counts, Latency, Phases, Checks, PerSecond

cdef class Stats:
    cdef public double epoch
    cdef public Counts counts
    cdef public Latency timing
    cdef public Phases phase_times
    cdef public Checks check_counts
    cdef public PerSecond per_second
    cdef public object step_times
    # The Sample's numbers as C numbers (every Sample is built by Policy.sample, of ints and a bool).
    @cython.locals(counts=Counts, timing=Latency, latency=cython.longlong,
                   second=cython.longlong, ok=bint, attempts=cython.longlong,
                   nbytes=cython.longlong, latency_us=cython.longlong, wall_s=cython.double)
    cpdef add(self, sample, now=*)

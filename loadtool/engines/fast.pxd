# The C types of fast.py for Cython (loadtool.speedups): the .py is the source; this only declares.
cimport cython

from loadtool.engines cimport scan  # scan.find() is a C call
from loadtool.engines.callbacks cimport Worker  # its answered and failed are C calls
from loadtool.metrics cimport clock  # clock.now() is a C call


cpdef _encoding(bytes head, Py_ssize_t end)

cdef class Channel


@cython.final
cdef class Wire:
    cdef public Channel channel
    cdef public Worker worker
    cdef public object keep, limit, body, transport, parser, version, pending
    cdef public bytes head
    cdef public bint keepalive, head_request, timed, headers_done, broken, redirecting
    cdef public Py_ssize_t status, size
    cdef public double first_s
    cpdef _complete(self)


@cython.final
cdef class Channel:
    cdef public object engine, loop, origin, payload, url, target, requests, setup, asked
    cdef public Worker worker
    cdef public Wire wire
    cdef public bint connecting, reused, heading, timed, follows, away, as_get
    cdef public Py_ssize_t hops
    cdef public double sent_s
    @cython.locals(sent=cython.double, ready=cython.double, wait=cython.double)
    cpdef tuple phases(self, double first_s, double now)
    cpdef _write(self, transport)
    cpdef _send(self, target)

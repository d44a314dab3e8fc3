# The C types of curl.py for Cython (loadtool.speedups): the .py is the source; this only declares.
cimport cython

from loadtool.metrics cimport tuples  # tuples.make() is a C call


@cython.final
cdef class _Receiver:
    cdef public list lines
    cdef public object keep, limit, body, error
    cdef public bint started


@cython.final
cdef class _Slot:
    cdef public Py_ssize_t index
    cdef public object handle, hooks, url, proxy, request, limits, timeouts, version, plain_version
    cdef public list lines
    cdef public _Receiver receiver
    cdef public bint named
    cpdef list head(self)


cpdef tuple _kept_phases(double pretransfer, double first_byte, double total)


@cython.locals(pretransfer=cython.double, first_byte=cython.double, total=cython.double, dns=cython.double,
               connect=cython.double, tls=cython.double, ready=cython.double)
cpdef tuple _phases(_Slot slot, bint connected)


@cython.final
cdef class CurlPool:
    cdef public CurlEngine engine
    cdef public object multi
    cdef public list slots
    cdef public dict of, fresh
    @cython.locals(slot=_Slot, receiver=_Receiver)
    cpdef start(self, Py_ssize_t index, target, limits)
    cpdef list wait(self, double timeout_s)
    @cython.locals(slot=_Slot, ended=list, of=dict)
    cpdef list _ended(self)


@cython.final
cdef class CurlEngine:
    cdef public object fetch, version, wanted, proxies, keep
    cdef public bint phases
    cdef public Py_ssize_t streams, connections
    @cython.locals(receiver=_Receiver, lines=list, connected=bint, count=Py_ssize_t, blank_end=bint, facts=tuple,
                   pretransfer=cython.double, first_byte=cython.double, total=cython.double)
    cpdef outcome(self, _Slot slot, int code, text)

# The C types of histograms.py for Cython (loadtool.speedups): the .py is the source; this only declares.
cdef class Values:
    cdef public object _histogram
    cdef public dict pending

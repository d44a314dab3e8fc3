# The C side of clock.py for Cython (loadtool.speedups): the compiled core's modules cimport it to
# read the clocks without a Python call. clock.py itself stays Python (it only names time's clocks).
cdef extern from *:
    """
    #if PY_VERSION_HEX >= 0x030D0000
    static CYTHON_INLINE double loadtool_clock_now(void) {
        PyTime_t t;
        return PyTime_PerfCounterRaw(&t) < 0 ? 0.0 : PyTime_AsSecondsDouble(t);
    }
    static CYTHON_INLINE double loadtool_clock_wall(void) {
        PyTime_t t;
        return PyTime_TimeRaw(&t) < 0 ? 0.0 : PyTime_AsSecondsDouble(t);
    }
    #else
    static CYTHON_INLINE double loadtool_clock_now(void) { return _PyTime_AsSecondsDouble(_PyTime_GetPerfCounter()); }
    static CYTHON_INLINE double loadtool_clock_wall(void) { return _PyTime_AsSecondsDouble(_PyTime_GetSystemClock()); }
    #endif
    """
    double now "loadtool_clock_now"() nogil
    double wall "loadtool_clock_wall"() nogil

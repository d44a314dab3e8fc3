# The C side of scan.py for Cython (loadtool.speedups): the compiled core's modules cimport it to
# search an answer's head without a method call. scan.py itself stays Python (bytes.find).
cdef extern from *:
    """
    #include <string.h>
    static CYTHON_INLINE Py_ssize_t loadtool_scan_find(PyObject *data, PyObject *needle, Py_ssize_t end) {
        const char *at = PyBytes_AS_STRING(data), *want = PyBytes_AS_STRING(needle);
        Py_ssize_t size = PyBytes_GET_SIZE(needle), left = PyBytes_GET_SIZE(data);
    #if defined(__GLIBC__) || defined(__APPLE__) || defined(__FreeBSD__)
        const char *hit;
        if (end < left) left = end < 0 ? 0 : end;
        hit = memmem(at, (size_t)left, want, (size_t)size);
        return hit == NULL ? -1 : hit - at;
    #else
        const char *start = at, *hit;
        if (end < left) left = end < 0 ? 0 : end;
        if (size == 0) return 0;
        while (left >= size && (hit = memchr(at, want[0], (size_t)(left - size + 1))) != NULL) {
            if (memcmp(hit, want, (size_t)size) == 0) return hit - start;
            left -= hit + 1 - at;
            at = hit + 1;
        }
    #endif
        return -1;
    }
    """
    Py_ssize_t find "loadtool_scan_find"(bytes data, bytes needle, Py_ssize_t end)

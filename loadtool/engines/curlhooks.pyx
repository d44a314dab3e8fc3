# cython: language_level=3
"""libcurl's header and write callbacks as C functions, for the curl engine (compiled only).

Through pycurl, every header line and every chunk of a body is a Python call: pycurl takes
the GIL, builds the bytes and an argument tuple, calls, and lets the GIL go again — eleven
times a request for a 1 KiB answer with ten header lines, a tenth of the curl engine's
instructions a request (callgrind, 4,000 requests over TLS against nginx). Here libcurl
calls C: a header line is copied into the slot's buffer, a chunk of a body that nothing
decodes or keeps is only counted by libcurl; Python is called only for a body that must be
decoded or kept (``engines.encoding``), with the same receiver the pure path uses.

pycurl has no C API, so the easy handle is read from its object (``CurlObject``: its
``handle`` follows ``PyObject_HEAD``, ``dict`` and ``weakreflist`` in every pycurl since
7.19) and checked against the back-reference pycurl sets on it (``CURLINFO_PRIVATE``) before
anything is set; libcurl's functions are looked up in the library pycurl itself loaded
(``dlsym`` on pycurl's module finds its dependencies). Where any of that fails, ``Hooks``
raises ``HooksUnavailable`` and the curl engine keeps pycurl's Python callbacks, as it does
with ``LOADTOOL_NO_EXTENSIONS=1``.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdlib cimport free, realloc
from libc.string cimport memcpy

cdef extern from "<dlfcn.h>" nogil:
    void *dlopen(const char *filename, int flags)
    void *dlsym(void *handle, const char *symbol)
    int RTLD_NOW
    int RTLD_NOLOAD

cdef extern from *:
    """
    #include <string.h>
    #include <strings.h>
    typedef int (*loadtool_setopt_t)(void *, int, ...);
    typedef int (*loadtool_getinfo_t)(void *, int, ...);
    typedef size_t (*loadtool_callback_t)(char *, size_t, size_t, void *);
    /* pycurl's CurlObject, as far as its easy handle (src/pycurl.h) */
    typedef struct { PyObject_HEAD PyObject *dict; PyObject *weakreflist; void *handle; } loadtool_CurlObject;
    static int loadtool_setopt_ptr(loadtool_setopt_t f, void *h, int option, void *value) {
        return f(h, option, value);
    }
    static int loadtool_setopt_fn(loadtool_setopt_t f, void *h, int option, loadtool_callback_t value) {
        return f(h, option, value);
    }
    static int loadtool_getinfo_ptr(loadtool_getinfo_t f, void *h, int info, void *out) {
        return f(h, info, out);
    }
    /* Whether a header line names Content-Encoding (in any case, after any blanks). */
    static int loadtool_names_encoding(const char *p, size_t n) {
        while (n && (*p == ' ' || *p == '\t')) { p++; n--; }
        return n >= 16 && strncasecmp(p, "content-encoding", 16) == 0;
    }
    """
    ctypedef int (*loadtool_setopt_t)(void *, int, ...) nogil
    ctypedef int (*loadtool_getinfo_t)(void *, int, ...) nogil
    ctypedef size_t (*loadtool_callback_t)(char *, size_t, size_t, void *) noexcept nogil
    ctypedef struct loadtool_CurlObject:
        void *handle
    int loadtool_setopt_ptr(loadtool_setopt_t f, void *h, int option, void *value) nogil
    int loadtool_setopt_fn(loadtool_setopt_t f, void *h, int option, loadtool_callback_t value) nogil
    int loadtool_getinfo_ptr(loadtool_getinfo_t f, void *h, int info, void *out) nogil
    int loadtool_names_encoding(const char *p, size_t n) nogil

# libcurl's numbers (curl.h): options and facts, by type.
cdef int WRITEFUNCTION = 20011, WRITEDATA = 10001, HEADERFUNCTION = 20079, HEADERDATA = 10029
cdef int INFO_PRIVATE = 0x100000 + 21
cdef int INFO_TYPEMASK = 0xf00000, INFO_STRING = 0x100000, INFO_LONG = 0x200000, INFO_DOUBLE = 0x300000
cdef int INFO_OFF_T = 0x600000

# The facts an attempt's outcome reads, as pycurl numbers them.
import pycurl
cdef int HTTP_VERSION = pycurl.INFO_HTTP_VERSION, RESPONSE_CODE = pycurl.RESPONSE_CODE
cdef int SIZE_DOWNLOAD = pycurl.SIZE_DOWNLOAD_T, NUM_CONNECTS = pycurl.NUM_CONNECTS
cdef int REDIRECT_COUNT = pycurl.REDIRECT_COUNT, PRETRANSFER = pycurl.PRETRANSFER_TIME
cdef int STARTTRANSFER = pycurl.STARTTRANSFER_TIME, TOTAL = pycurl.TOTAL_TIME

#: The room a slot keeps for its header lines between attempts (bytes).
cdef Py_ssize_t KEPT_ROOM = 65536

cdef loadtool_setopt_t _setopt = NULL
cdef loadtool_getinfo_t _getinfo = NULL


class HooksUnavailable(Exception):
    """The C callbacks cannot be set on this pycurl: the engine keeps pycurl's."""


cdef int _load() except -1:
    """libcurl's setopt and getinfo, from the library pycurl loaded."""
    global _setopt, _getinfo
    if _setopt != NULL:
        return 0
    try:
        import pycurl._pycurl as module  # pycurl >= 7.46: a package around its C module
    except ImportError:
        module = pycurl  # before: the C module itself
    name = module.__file__.encode()
    cdef void *library = dlopen(name, RTLD_NOW | RTLD_NOLOAD)
    if library == NULL:
        raise HooksUnavailable(f"pycurl's module is not loaded as {module.__file__}")
    setopt, getinfo = dlsym(library, b"curl_easy_setopt"), dlsym(library, b"curl_easy_getinfo")
    if setopt == NULL or getinfo == NULL:
        raise HooksUnavailable("libcurl's curl_easy_setopt is not found through pycurl")
    _setopt, _getinfo = <loadtool_setopt_t>setopt, <loadtool_getinfo_t>getinfo
    return 0


cdef struct Head:
    char *data  # the header lines of the attempt, one after another
    Py_ssize_t size, room
    Py_ssize_t *ends  # where each line ends in data
    Py_ssize_t count, room_ends
    bint blank_end  # the last line is the blank line that ends a head
    bint named_encoding  # some line is a Content-Encoding header
    bint keeps  # the receiver keeps every body (for checks)
    bint python  # this body goes to the receiver: it must be decoded or kept
    bint started
    void *owner  # the Hooks (borrowed: it outlives the handle's transfers)


cdef size_t _on_header(char *ptr, size_t size, size_t nmemb, void *data) noexcept nogil:
    cdef Head *head = <Head *>data
    cdef size_t n = size * nmemb
    cdef Py_ssize_t room
    cdef void *grown
    if head.size + <Py_ssize_t>n > head.room:
        room = max(head.room * 2, head.size + <Py_ssize_t>n, 1024)
        grown = realloc(head.data, room)
        if grown == NULL:  # (0: libcurl stops the transfer, a write error)
            return 0
        head.data, head.room = <char *>grown, room
    if head.count == head.room_ends:
        room = max(head.room_ends * 2, 32)
        grown = realloc(head.ends, room * sizeof(Py_ssize_t))
        if grown == NULL:
            return 0
        head.ends, head.room_ends = <Py_ssize_t *>grown, room
    memcpy(head.data + head.size, ptr, n)
    head.size += n
    head.ends[head.count] = head.size
    head.count += 1
    head.blank_end = (n == 2 and ptr[0] == b'\r' and ptr[1] == b'\n') or (n == 1 and ptr[0] == b'\n')
    if not head.named_encoding and loadtool_names_encoding(ptr, n):
        head.named_encoding = 1
    return n


cdef size_t _on_body(char *ptr, size_t size, size_t nmemb, void *data) noexcept nogil:
    cdef Head *head = <Head *>data
    cdef size_t n = size * nmemb
    if not head.started:
        head.started = 1
        head.python = head.keeps or head.named_encoding
    if not head.python:
        return n
    with gil:
        return (<Hooks>head.owner).give(ptr, n)


cdef class Hooks:
    """One easy handle's header and write callbacks in C. ``receiver`` (curl._Receiver)
    takes the body when it must be decoded or kept; its ``lines`` are then the head's."""

    cdef Head head
    cdef void *handle
    cdef public object receiver

    def __cinit__(self, curl, receiver):
        if type(curl) is not pycurl.Curl:
            raise HooksUnavailable(f"not a pycurl.Curl: {type(curl).__name__}")
        _load()
        cdef void *handle = (<loadtool_CurlObject *><void *>curl).handle
        cdef void *back = NULL
        if handle == NULL or loadtool_getinfo_ptr(_getinfo, handle, INFO_PRIVATE, &back) != 0 \
                or back != <void *>curl:
            raise HooksUnavailable("this pycurl's Curl object is not laid out as loadtool knows it")
        self.handle, self.receiver = handle, receiver
        self.head.owner = <void *>self
        self.head.keeps = receiver.keep is not None
        if (loadtool_setopt_fn(_setopt, handle, HEADERFUNCTION, _on_header)
                or loadtool_setopt_ptr(_setopt, handle, HEADERDATA, &self.head)
                or loadtool_setopt_fn(_setopt, handle, WRITEFUNCTION, _on_body)
                or loadtool_setopt_ptr(_setopt, handle, WRITEDATA, &self.head)):
            raise HooksUnavailable("libcurl refused the callbacks")
        # The handle keeps its hooks alive: libcurl holds a pointer into them while it lives.
        curl.loadtool_hooks = self

    def __dealloc__(self):
        free(self.head.data)
        free(self.head.ends)

    cpdef reset(self):
        """Before an attempt: no lines, no body (and the room of a head far larger than most
        given back, as a list of lines would be: a hostile server's 300 KiB stays with no slot)."""
        if self.head.room > KEPT_ROOM:
            free(self.head.data)
            free(self.head.ends)
            self.head.data, self.head.ends, self.head.room, self.head.room_ends = NULL, NULL, 0, 0
        self.head.size = self.head.count = 0
        self.head.blank_end = self.head.named_encoding = self.head.python = self.head.started = False

    @property
    def count(self):
        """How many header lines came (of every answer: redirects', interim ones)."""
        return self.head.count

    @property
    def size(self):
        """The bytes of those lines."""
        return self.head.size

    @property
    def blank_end(self):
        """Whether the last line is the blank one that ends a head."""
        return self.head.blank_end

    cpdef list lines(self):
        """The header lines, as pycurl's HEADERFUNCTION would have been given them."""
        cdef list lines = []
        cdef Py_ssize_t index, start = 0
        for index in range(self.head.count):
            lines.append(PyBytes_FromStringAndSize(self.head.data + start, self.head.ends[index] - start))
            start = self.head.ends[index]
        return lines

    cdef size_t give(self, char *ptr, size_t n) noexcept:
        """A chunk of a body the receiver takes (at its first, with the head's lines to read)."""
        receiver = self.receiver
        try:
            if not receiver.started:
                receiver.lines = self.lines()
            answer = receiver(PyBytes_FromStringAndSize(ptr, n))
        except BaseException as exc:  # libcurl cannot take an exception: the transfer stops, and says why
            receiver.error = exc
            return 0
        return n if answer is None else answer

    cpdef tuple facts(self, Py_ssize_t most_lines, Py_ssize_t longest):
        """After a transfer that ended well, on a head whole (ended by its blank line) and within
        the limits (``most_lines`` lines, none longer than ``longest``: its whole size is not):
        (HTTP version, status, body size, connections made, redirects, and the pretransfer,
        first-byte and total times), in one call for the usual case. Else None: the caller
        looks closer."""
        cdef Head *head = &self.head
        cdef long version = 0, status = 0, connects = 0, redirects = 0
        cdef long long size = 0
        cdef double pretransfer = 0, first_byte = 0, total = 0
        if head.count == 0 or not head.blank_end or head.count > most_lines or head.size > longest:
            return None
        if (loadtool_getinfo_ptr(_getinfo, self.handle, HTTP_VERSION, &version)
                or loadtool_getinfo_ptr(_getinfo, self.handle, RESPONSE_CODE, &status)
                or loadtool_getinfo_ptr(_getinfo, self.handle, SIZE_DOWNLOAD, &size)
                or loadtool_getinfo_ptr(_getinfo, self.handle, NUM_CONNECTS, &connects)
                or loadtool_getinfo_ptr(_getinfo, self.handle, REDIRECT_COUNT, &redirects)
                or loadtool_getinfo_ptr(_getinfo, self.handle, PRETRANSFER, &pretransfer)
                or loadtool_getinfo_ptr(_getinfo, self.handle, STARTTRANSFER, &first_byte)
                or loadtool_getinfo_ptr(_getinfo, self.handle, TOTAL, &total)):
            return None
        return (version, status, size, connects, redirects, pretransfer, first_byte, total)

    cpdef info(self, int option):
        """libcurl's CURLINFO ``option`` (pycurl's INFO_*/*_TIME/... numbers), as pycurl's getinfo."""
        cdef long long_value = 0
        cdef double double_value = 0
        cdef long long off_value = 0
        cdef const char *text = NULL
        cdef int kind = option & INFO_TYPEMASK
        if kind == INFO_LONG:
            if loadtool_getinfo_ptr(_getinfo, self.handle, option, &long_value) == 0:
                return long_value
        elif kind == INFO_DOUBLE:
            if loadtool_getinfo_ptr(_getinfo, self.handle, option, &double_value) == 0:
                return double_value
        elif kind == INFO_OFF_T:
            if loadtool_getinfo_ptr(_getinfo, self.handle, option, &off_value) == 0:
                return off_value
        elif kind == INFO_STRING:
            if loadtool_getinfo_ptr(_getinfo, self.handle, option, &text) == 0:
                return None if text == NULL else text.decode("utf-8", "replace")
        raise ValueError(f"libcurl has no fact {option} of this kind")

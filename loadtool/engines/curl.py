"""The curl engine (``--engine curl``): libcurl's multi interface — TLS, HTTP/2, HTTP/3, proxies.

libcurl is the HTTP client of the field: it speaks HTTP/1.1, HTTP/2 (ALPN over TLS, or
prior knowledge over plain http) and HTTP/3 (QUIC), verifies TLS with OpenSSL, goes
through proxies, and times every phase of every request. A ``CurlPool`` is one
CurlMulti with a reusable easy handle per slot; the multi driver (``strategies.multi``)
starts attempts on free slots and collects what ends.

Measured here before choosing how to drive it (nginx, 1 KiB, 50 connections): a
perform/select loop in a thread of its own did 69k req/s at 14 µs of CPU a request (wrk:
66k); CurlMulti on the event loop's socket callbacks did 20k at 49 µs — libcurl asks to
watch and release each socket on every request, and each change is a Python call and
a system call. So the pool is driven by its own loop, and never from the event loop.

libcurl keeps its own rules in line with the other engines': at most --max-redirects,
http and https only; interim 1xx answers skipped; a request on a kept-alive connection
that died is sent again on a fresh one (libcurl does it itself); and the head limits
of every engine (100 lines, 64 KiB a line) are checked from the header lines it hands
over. A version asked for with --http that the server did not speak is an error, never
a silent downgrade.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

import pycurl

from .checks import headers_of, wanted
from .encoding import BadEncoding, TooLarge, accept_header, outcome_sizes, receiving
from .. import speedups
from ..metrics import tuples
from ..system import out_of_descriptors
from .http import MAX_HEADERS, MAX_LINE, USER_AGENT, elsewhere, is_address, request_of
from .policy import Limits, Outcome

#: libcurl's header and write callbacks in C (curlhooks, compiled only); without them (the pure
#: path, or a pycurl laid out otherwise) pycurl calls the Python ones here, a tenth slower.
Hooks = HooksUnavailable = None
if not speedups.disabled():
    try:
        from .curlhooks import Hooks, HooksUnavailable
    except ImportError:
        pass

#: What --http asks libcurl for: over https, and over plain http (h2c needs prior knowledge).
_VERSIONS = {
    "1.1": (pycurl.CURL_HTTP_VERSION_1_1, pycurl.CURL_HTTP_VERSION_1_1),
    "2": (pycurl.CURL_HTTP_VERSION_2TLS, pycurl.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE),
    "3": (pycurl.CURL_HTTP_VERSION_3ONLY, pycurl.CURL_HTTP_VERSION_3ONLY),
}
#: The version libcurl reports (CURLINFO_HTTP_VERSION), as the report names it.
PROTOCOLS = {pycurl.CURL_HTTP_VERSION_1_0: "HTTP/1.0", pycurl.CURL_HTTP_VERSION_1_1: "HTTP/1.1",
             pycurl.CURL_HTTP_VERSION_2_0: "HTTP/2", pycurl.CURL_HTTP_VERSION_3: "HTTP/3"}
WANTED = {"1.1": "HTTP/1.1", "2": "HTTP/2", "3": "HTTP/3"}
_TLS_MIN = {"1.2": pycurl.SSLVERSION_TLSv1_2, "1.3": pycurl.SSLVERSION_TLSv1_3}

#: libcurl's error codes (CURLcode, named as in curl.h), by the kind every engine names them.
KINDS = {
    1: "invalid_url",    # UNSUPPORTED_PROTOCOL (a redirect to ftp://, say)
    3: "invalid_url",    # URL_MALFORMAT
    5: "dns",            # COULDNT_RESOLVE_PROXY
    6: "dns",            # COULDNT_RESOLVE_HOST
    7: "connect_refused",  # COULDNT_CONNECT
    8: "protocol",       # WEIRD_SERVER_REPLY
    16: "protocol",      # HTTP2
    18: "truncated",     # PARTIAL_FILE
    35: "tls", 51: "tls", 53: "tls", 54: "tls", 58: "tls", 59: "tls", 60: "tls", 64: "tls", 66: "tls",
    77: "tls", 80: "tls", 82: "tls", 83: "tls", 90: "tls", 91: "tls", 98: "tls", 101: "tls",  # SSL_*, ECH
    47: "too_many_redirects",  # TOO_MANY_REDIRECTS
    52: "reset",         # GOT_NOTHING: the server closed without answering
    55: "reset",         # SEND_ERROR
    56: "reset",         # RECV_ERROR
    61: "protocol",      # BAD_CONTENT_ENCODING
    92: "protocol",      # HTTP2_STREAM
    95: "protocol",      # HTTP3
    96: "connect_refused",  # QUIC_CONNECT_ERROR: no QUIC server answered
    97: "connect_refused",  # PROXY: the proxy refused the connection
    100: "protocol",     # TOO_LARGE: a header beyond libcurl's own limits
}
TIMED_OUT = 28  # OPERATION_TIMEDOUT: connecting, or the whole transfer
COULDNT_CONNECT = 7  # no connection: refused, or no socket to make one with
HTTP2_FRAMING = 16  # HTTP2: the framing layer failed
WRITE_ERROR = 23  # WRITE_ERROR: our WRITEFUNCTION stopped the transfer (a bomb, a bad encoding)
#: Codes that mean two things, told apart by libcurl's message: (code, words) -> kind.
MESSAGES = {
    (1, "HTTP/"): "protocol",   # "Received HTTP/0.9 when not allowed", "Unsupported HTTP/1 subversion"
    (56, "chunk"): "protocol",  # "chunk hex-length char not a hex digit"
    (56, "SSL routines"): "tls",  # "OpenSSL SSL_read: ... tlsv13 alert certificate required": the server's alert
    (55, "SSL routines"): "tls",
}


#: libcurl's facts read after every transfer, looked up once (each pycurl.NAME is a module lookup).
_HTTP_VERSION, _HEADER_SIZE, _SIZE_DOWNLOAD = pycurl.INFO_HTTP_VERSION, pycurl.HEADER_SIZE, pycurl.SIZE_DOWNLOAD_T
_RESPONSE_CODE, _NUM_CONNECTS = pycurl.RESPONSE_CODE, pycurl.NUM_CONNECTS
_REDIRECT_COUNT, _EFFECTIVE_URL = pycurl.REDIRECT_COUNT, pycurl.EFFECTIVE_URL
#: The line that ends a head.
_BLANK = frozenset({b"\r\n", b"\n"})
_NAMELOOKUP, _CONNECT, _APPCONNECT = pycurl.NAMELOOKUP_TIME, pycurl.CONNECT_TIME, pycurl.APPCONNECT_TIME
_PRETRANSFER, _STARTTRANSFER, _TOTAL = pycurl.PRETRANSFER_TIME, pycurl.STARTTRANSFER_TIME, pycurl.TOTAL_TIME
_PERFORM_AGAIN = pycurl.E_CALL_MULTI_PERFORM


def _kept_phases(pretransfer: float, first_byte: float, total: float) -> tuple:
    """The phases of a transfer on a kept connection: send, wait and read (no name, connect
    or TLS phase: libcurl made none)."""
    return (None, None, None, max(pretransfer, 0.0), max(first_byte - pretransfer, 0.0), max(total - first_byte, 0.0))


def _phases(slot: _Slot, connected: bool) -> tuple:
    """The phases of a finished transfer from libcurl's times (seconds from its start, each
    the end of a step). On a reused connection (``connected`` False: libcurl made none) the
    name, connect and TLS times read 0 — no such phase, not a phase of no length — and are
    not asked for: each fact is a call into libcurl, per request."""
    hooks = slot.hooks  # the calls written out: a generator over them cost a request 4%
    info = slot.handle.getinfo if hooks is None else hooks.info
    pretransfer, first_byte, total = info(_PRETRANSFER), info(_STARTTRANSFER), info(_TOTAL)
    if not connected:
        return _kept_phases(pretransfer, first_byte, total)
    dns, connect, tls = info(_NAMELOOKUP), info(_CONNECT), info(_APPCONNECT)
    connected = connect > 0
    ready = max(dns, connect, tls)
    return (dns if connected and slot.named else None, connect - dns if connected else None,
            tls - connect if tls > 0 else None, max(pretransfer - ready, 0.0), max(first_byte - pretransfer, 0.0),
            max(total - first_byte, 0.0))


class _Slot:
    """One slot of a pool: its easy handle, the header lines and body of its attempt, and
    what was last set on the handle (each setopt is a call into libcurl, made only when a
    value changes). Kept here, not as attributes of the handle: pycurl finds those only
    after a failed lookup has built an AttributeError, 0.5 µs a read, ten reads a request."""

    __slots__ = ("index", "handle", "lines", "receiver", "hooks", "url", "named", "proxy", "request", "limits",
                 "timeouts", "version", "plain_version")

    def __init__(self, index: int, handle: pycurl.Curl, receiver: _Receiver) -> None:
        self.index, self.handle, self.receiver, self.lines = index, handle, receiver, receiver.lines
        #: The C callbacks (curlhooks.Hooks), or None: pycurl's calls to receiver and lines.append.
        self.hooks = None
        self.url = self.proxy = self.request = self.limits = self.timeouts = None
        self.named = True
        self.version = self.plain_version = 0

    def head(self) -> list[bytes]:
        """The header lines of the attempt (of every answer in it)."""
        return self.lines if self.hooks is None else self.hooks.lines()


class _Receiver:
    """libcurl's WRITEFUNCTION for one handle: at an answer's first chunk it looks at the head
    (the header lines libcurl handed over) and, when the body is encoded or checks keep it,
    decodes and keeps it as every engine does (encoding.Body); else the chunks only pass
    (libcurl counts them: SIZE_DOWNLOAD_T). A bomb or a bad encoding stops the transfer
    (returning 0 is CURLE_WRITE_ERROR), and ``error`` says why."""

    __slots__ = ("lines", "keep", "limit", "started", "body", "error")

    def __init__(self, lines: list[bytes], keep: int | None, limit: int) -> None:
        self.lines, self.keep, self.limit = lines, keep, limit
        self.reset()

    def reset(self) -> None:
        self.started, self.body, self.error = False, None, None

    def __call__(self, chunk: bytes) -> int | None:
        if not self.started:
            self.started = True
            encoding = None
            # A C search first: most answers name no encoding. (find, not ``in``: bytes.__contains__
            # first tries its argument as an int, and builds a TypeError to learn it is not.)
            head = b"".join(self.lines)
            if head.find(b"ncoding") >= 0 or head.find(b"NCODING") >= 0:
                encoding = dict(headers_of(self.lines)).get("content-encoding")
            if encoding is not None or self.keep is not None:
                self.body = receiving(encoding, self.keep, self.limit)
        if self.body is not None:
            try:
                self.body.feed(chunk)
            except (TooLarge, BadEncoding) as exc:
                self.error = exc
                return 0
        return None


def _hooks(handle: pycurl.Curl, receiver: _Receiver):
    """The C callbacks on ``handle`` (curlhooks), or None where they cannot be set: then
    pycurl's Python ones, and a line that says so (the curl engine runs a tenth slower)."""
    global Hooks
    if Hooks is None:
        return None
    try:
        return Hooks(handle, receiver)
    except HooksUnavailable as exc:
        Hooks = None
        print(f"loadtool: the curl engine's C callbacks are off: {exc}", file=sys.stderr)
        return None


def _head_problem(lines: list[bytes]) -> str | None:
    """Whether the header lines of an attempt's answers break the limits every engine holds
    (the lines of redirects and interim answers count answer by answer)."""
    count = 0
    for line in lines:
        if line.startswith(b"HTTP/"):
            count = 0
        elif len(line) > 2:
            count += 1
            if count > MAX_HEADERS:
                return f"more than {MAX_HEADERS} header lines"
        if len(line) > MAX_LINE:
            return f"a header line over {MAX_LINE // 1024} KiB"
    return None


class CurlPool:
    """One CurlMulti with ``slots`` reusable easy handles: start an attempt on a free slot,
    collect the attempts that ended. Used by one thread only (the multi driver's)."""

    def __init__(self, engine: CurlEngine, slots: int) -> None:
        self.engine = engine
        self.multi = pycurl.CurlMulti()
        self.multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, engine.connections)
        if engine.version != "1.1":
            self.multi.setopt(pycurl.M_PIPELINING, pycurl.PIPE_MULTIPLEX)
            self.multi.setopt(pycurl.M_MAX_CONCURRENT_STREAMS, engine.streams)
        self.slots = [engine.slot(index) for index in range(slots)]
        #: The slot of each handle, for the handles libcurl says have ended.
        self.of = {slot.handle: slot for slot in self.slots}
        #: Slots whose next attempt (a replay after a stale connection) goes on a new connection,
        #: as another the pool kept may be as stale and libcurl would take it: 1, FRESH_CONNECT
        #: on for it; 2, on for the last, off for the next.
        self.fresh: dict[int, int] = {}

    def start(self, index: int, target, limits: Limits) -> None:
        slot = self.slots[index]
        handle = slot.handle
        if type(target) is str:
            url = target
        else:  # a whole Request, from a targets file
            url = target.url
            if target != slot.request:
                slot.request = target
                method, _, headers, body = request_of(target, self.engine.fetch)
                self.engine.request(handle, method, headers, body)
        if slot.hooks is None:
            slot.lines.clear()
        else:
            slot.hooks.reset()
        receiver = slot.receiver  # reset() written out: this runs once per attempt
        receiver.started = False
        receiver.body = receiver.error = None
        # Options are set only when they change: most attempts go to the same URL with the
        # whole timeout left (the same Limits), and each setopt is a call into libcurl.
        if url != slot.url:
            slot.url = url
            handle.setopt(pycurl.URL, url)
            slot.named = not is_address(urlsplit(url).hostname or "")  # an address has no name to look up
            if self.engine.version == "2":  # h2 needs ALPN over TLS, prior knowledge over plain http
                handle.setopt(pycurl.HTTP_VERSION, slot.plain_version if url.startswith("http:") else slot.version)
            proxy = self.engine.proxies.for_url(url) or ""  # "": directly, whatever libcurl's environment says
            if proxy != slot.proxy:
                slot.proxy = proxy
                handle.setopt(pycurl.PROXY, proxy)
        if limits is not slot.limits:
            slot.limits = limits
            timeouts = (max(int(limits.total_s * 1000), 1), max(int(limits.connect_s * 1000), 1))
            if timeouts != slot.timeouts:
                slot.timeouts = timeouts
                handle.setopt(pycurl.TIMEOUT_MS, timeouts[0])
                handle.setopt(pycurl.CONNECTTIMEOUT_MS, timeouts[1])
        if self.fresh and (fresh := self.fresh.pop(index, 0)):
            handle.setopt(pycurl.FRESH_CONNECT, int(fresh == 1))
            if fresh == 1:
                self.fresh[index] = 2
        self.multi.add_handle(handle)

    def wait(self, timeout_s: float) -> list[tuple[int, Outcome]]:
        """Run libcurl, waiting up to ``timeout_s`` for sockets; the attempts that ended."""
        multi = self.multi
        while multi.perform()[0] == _PERFORM_AGAIN:
            pass
        ended = self._ended()
        if not ended and timeout_s > 0:
            multi.select(timeout_s)
            while multi.perform()[0] == _PERFORM_AGAIN:
                pass
            ended = self._ended()
        return ended

    def _ended(self) -> list[tuple[int, Outcome]]:
        ended = []
        outcome, of, multi = self.engine.outcome, self.of, self.multi
        while True:
            queued, ok, failed = multi.info_read()
            for handle in ok:
                multi.remove_handle(handle)
                slot = of[handle]
                ended.append((slot.index, outcome(slot, 0, "")))
            for handle, code, text in failed:
                multi.remove_handle(handle)
                slot = of[handle]
                seen = outcome(slot, code, text)
                if seen.stale:
                    self.fresh[slot.index] = 1
                ended.append((slot.index, seen))
            if not queued:
                return ended

    def abort(self, index: int) -> None:
        """Drop the attempt on slot ``index`` (after the grace period)."""
        try:
            self.multi.remove_handle(self.slots[index].handle)
        except pycurl.error:
            pass  # it had ended already

    def close(self) -> None:
        for slot in self.slots:
            self.abort(slot.index)
            slot.handle.close()
        self.multi.close()


class CurlEngine:

    def __init__(self, job) -> None:
        fetch = job.fetch
        self.fetch, self.version = fetch, fetch.http
        #: The protocol an answer must come in: --http's, never a silent downgrade.
        self.wanted = WANTED[fetch.http]
        self.proxies = fetch.proxies()
        self.phases = fetch.phases
        #: What checks need of each answer (engines.checks.wanted): None, or bytes of its body.
        self.keep = wanted(fetch)
        self.streams = fetch.streams if fetch.http != "1.1" else 1
        #: Connections per host: one per operation in flight, or per ``streams`` of them.
        self.connections = max(1, -(-job.concurrency // self.streams))

    def pool(self, slots: int) -> CurlPool:
        return CurlPool(self, slots)

    def slot(self, index: int) -> _Slot:
        """A slot: an easy handle with the job's fixed options, reused for every attempt on it."""
        fetch, handle = self.fetch, pycurl.Curl()
        slot = _Slot(index, handle, _Receiver([], self.keep, fetch.max_decoded))
        handle.setopt(pycurl.NOSIGNAL, 1)
        # Bodies are counted (SIZE_DOWNLOAD_T), and decoded or kept only where they must be.
        slot.hooks = _hooks(handle, slot.receiver)
        if slot.hooks is None:
            handle.setopt(pycurl.WRITEFUNCTION, slot.receiver)
            handle.setopt(pycurl.HEADERFUNCTION, slot.lines.append)
        # libcurl sends no Authorization or Cookie given as headers to another origin (since 7.83.1).
        handle.setopt(pycurl.FOLLOWLOCATION, int(fetch.max_redirects > 0))
        handle.setopt(pycurl.MAXREDIRS, fetch.max_redirects)
        handle.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        handle.setopt(pycurl.REDIR_PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        handle.setopt(pycurl.USERAGENT, USER_AGENT)
        if not fetch.keepalive:
            handle.setopt(pycurl.FORBID_REUSE, 1)
        self.request(handle, fetch.method, (), fetch.body)
        slot.version, slot.plain_version = _VERSIONS[self.version]
        handle.setopt(pycurl.HTTP_VERSION, slot.version)
        self._tls(handle, fetch.tls)
        if fetch.cookies:
            handle.setopt(pycurl.COOKIEFILE, "")  # a jar per slot: cookies kept, from no file
        if self.version != "1.1":
            handle.setopt(pycurl.PIPEWAIT, 1)  # wait for a connection to multiplex on, not a new one
        return slot

    def request(self, handle: pycurl.Curl, method: str, headers: tuple, body: bytes | None) -> None:
        """Set what ``handle`` sends: ``method``, the job's headers and ``headers``, ``body``.
        A POST carries its body as libcurl's own POST (so a 303 turns it into a GET, as in
        every engine); other methods beside GET and HEAD are named as custom requests. POST,
        PUT and PATCH always send a body, if an empty one (Content-Length: 0), as the fast
        engine does."""
        accept = accept_header(self.fetch)
        lines = [f"{name}: {value}" for name, value in (*self.fetch.headers, *headers, *filter(None, [accept]))]
        if not any(line[:13].lower() == "content-type:" for line in lines):
            lines.append("Content-Type:")  # libcurl would say form-urlencoded; no engine invents a type
        handle.setopt(pycurl.HTTPHEADER, lines)
        handle.setopt(pycurl.NOBODY, 0)
        handle.setopt(pycurl.HTTPGET, 1)  # from a clean GET: no body, no custom method
        if method == "HEAD":
            handle.setopt(pycurl.NOBODY, 1)
        if body is not None or method in ("POST", "PUT", "PATCH"):
            handle.setopt(pycurl.POSTFIELDSIZE_LARGE, len(body or b""))
            handle.setopt(pycurl.POSTFIELDS, body or b"")
        if method in ("GET", "HEAD", "POST"):
            handle.unsetopt(pycurl.CUSTOMREQUEST)
        else:
            handle.setopt(pycurl.CUSTOMREQUEST, method)

    @staticmethod
    def _tls(handle: pycurl.Curl, tls) -> None:
        """The job's TLS choices as libcurl options (what engines.tls makes for the others)."""
        if tls.insecure:
            handle.setopt(pycurl.SSL_VERIFYPEER, 0)
            handle.setopt(pycurl.SSL_VERIFYHOST, 0)
        if tls.cacert:
            handle.setopt(pycurl.CAINFO, tls.cacert)
        if tls.cert:
            handle.setopt(pycurl.SSLCERT, tls.cert)
            handle.setopt(pycurl.SSLKEY, tls.key or tls.cert)
        if tls.min_version:
            handle.setopt(pycurl.SSLVERSION, _TLS_MIN[tls.min_version])

    def outcome(self, slot: _Slot, code: int, text: str) -> Outcome:
        """What one finished attempt saw, in the terms of every engine."""
        receiver, hooks = slot.receiver, slot.hooks
        if hooks is not None and not code and receiver.body is None and self.keep is None:
            # The usual answer, read in one call: no body kept or decoded, a head whole and within
            # the limits, on a connection kept from before and with no redirect.
            facts = hooks.facts(MAX_HEADERS + 2, MAX_LINE)
            if facts is not None:
                version, status, size, connects, redirects, pretransfer, first_byte, total = facts
                protocol = PROTOCOLS.get(version)
                if not connects and not redirects and protocol == self.wanted:
                    return tuples.make(Outcome, (status, size, None, None, False, protocol, False,
                                                 _kept_phases(pretransfer, first_byte, total) if self.phases else None,
                                                 None, None, False))
        if hooks is None:
            info, lines = slot.handle.getinfo, slot.lines
            count = len(lines)
            blank_end = count > 0 and lines[-1] in _BLANK
        else:  # the lines stay in C unless they are looked at
            info, count, blank_end = hooks.info, hooks.count, hooks.blank_end
        protocol = PROTOCOLS.get(info(_HTTP_VERSION))
        received = receiver.body
        if code == WRITE_ERROR and receiver.error is not None:
            return Outcome(error=receiver.error, protocol=protocol)
        if received is not None and not code:
            try:
                received.finish()
            except BadEncoding as exc:
                return Outcome(error=exc, protocol=protocol)
        if code:
            kind = KINDS.get(code, "other")
            for (known, words), named in MESSAGES.items():
                if code == known and words in text:
                    kind = named
            if code == HTTP2_FRAMING and self.wanted == "HTTP/2" and slot.url.startswith("http:"):
                # h2c by prior knowledge to a server that speaks HTTP/1.1: not spoken, as over TLS
                return Outcome(error="wrong_protocol", detail=f"asked for HTTP/2 (prior knowledge over plain http); "
                                                              f"curl {code}: {text}", protocol=protocol)
            if code == COULDNT_CONNECT and out_of_descriptors():
                kind = "open_files"  # no socket to connect with: the client's limit, not the server
            if code == TIMED_OUT:
                # No connection yet: still connecting. (The times cannot tell: CONNECT_TIME reads 0 on
                # a reused connection, PRETRANSFER_TIME the moment of the failure.)
                connecting = "Connection timed out" in text or not info(pycurl.PRIMARY_IP)
                kind = "connect_timeout" if connecting else "read_timeout"
            # A reset before any byte of an answer, on a connection kept from an earlier request
            # (libcurl opened none for it): stale, for the policy to send once more.
            stale = kind == "reset" and not count and info(_NUM_CONNECTS) == 0
            return Outcome(error=kind, detail=f"curl {code}: {text}", stale=stale, protocol=protocol)
        if count and not blank_end:  # libcurl takes a close mid-head for the head's end
            return Outcome(error="truncated", detail="the connection closed before the answer's head ended")
        if count > MAX_HEADERS + 2 or (info(_HEADER_SIZE) if hooks is None else hooks.size) > MAX_LINE:
            problem = _head_problem(slot.head())
            if problem is not None:
                return Outcome(error="protocol", detail=problem)
        if protocol != self.wanted:
            return Outcome(error="wrong_protocol", detail=f"asked for {self.wanted}, the server spoke {protocol}")
        if received is None:
            size, decoded = info(_SIZE_DOWNLOAD), None
        else:
            size, decoded = outcome_sizes(received, 0)
        # Built with tuples.make: a NamedTuple's own __new__ (keywords and all) costs 3x, per request.
        connected = info(_NUM_CONNECTS) > 0
        return tuples.make(Outcome, (info(_RESPONSE_CODE), size, None, None, False, protocol, connected,
                                     _phases(slot, connected) if self.phases else None,
                                     None if self.keep is None else (headers_of(slot.head()),
                                                                     b"" if received is None else received.take()),
                                     decoded, info(_REDIRECT_COUNT) > 0 and elsewhere(slot.url, info(_EFFECTIVE_URL))))

"""The fast engine (``--engine fast``): HTTP/1.1 keep-alive on asyncio protocols and httptools.

A client that costs more CPU per request than the server measures itself. aiohttp is
general and pays for it (a task, futures and several layers per request); this engine
does one thing: each worker owns a connection (a ``Channel``) and sends its next request
from inside the callback that parsed the last answer, with no coroutine, future or timer
per request. Requests for a URL are built once and cached. It speaks HTTP/1.1, plain or
over TLS (the event loop's SSL transport), with Content-Length or chunked bodies, and
follows redirects as the other engines do. Its deadlines, retries and Samples are the policy's, like
every engine's: the loop driver (``strategies.loop``) sweeps its operations every tick.
"""

from __future__ import annotations

import asyncio
import functools
import re
import socket
from dataclasses import replace
from urllib.parse import urljoin, urlsplit

import httptools

from ..metrics import clock
from . import scan
from .callbacks import Worker
from .checks import headers_of, wanted
from .encoding import BadEncoding, Body, TooLarge, accept_header, outcome_sizes, receiving
from .http import MAX_HEADERS, MAX_LINE, USER_AGENT, elsewhere, is_address, request_of, without_credentials
from .tls import context as tls_context

URL_CACHE = 4096
#: ... and at most this many bytes of them (requests from a targets file may carry bodies).
CACHE_BYTES = 64 << 20


class Unsupported(ValueError):
    """A URL the fast engine cannot fetch (not http or https): counted as invalid_url."""


class Requests:
    """Request bytes per target (a URL, or a whole Request from a targets file), built once:
    ((host, port, tls), bytes, whether it is a HEAD request)."""

    def __init__(self, fetch) -> None:
        self.fetch = fetch
        self.method = fetch.method
        self.proxies = fetch.proxies()
        self._cache: dict[object, tuple[tuple[str, int, bool], bytes, bool]] = {}
        self._cached_bytes = 0
        accept = accept_header(fetch)
        self._extra = "".join(f"{name}: {value}\r\n" for name, value in (*fetch.headers, *filter(None, [accept])))
        self._tail = self._tail_of(fetch.method, (), fetch.body)

    def _tail_of(self, method: str, headers: tuple, body: bytes | None) -> bytes:
        own = "".join(f"{name}: {value}\r\n" for name, value in headers)
        body = body or b""
        length = f"Content-Length: {len(body)}\r\n" if body or method in ("POST", "PUT", "PATCH") else ""
        # loadtool's User-Agent unless the job's headers or the request's name one (as every engine)
        named = any(name.lower() == "user-agent" for name, _ in (*self.fetch.headers, *headers))
        agent = "" if named else f"User-Agent: {USER_AGENT}\r\n"
        return f"{agent}{self._extra}{own}{length}\r\n".encode("latin-1") + body

    def get(self, target) -> tuple[tuple[str, int, bool], bytes, bool]:
        built = self._cache.get(target)
        if built is None:
            built = self._build(target)
            self._cached_bytes += len(built[1])
            if len(self._cache) >= URL_CACHE or self._cached_bytes > CACHE_BYTES:
                self._cache.clear()
                self._cached_bytes = len(built[1])
            self._cache[target] = built
        return built

    def _build(self, target) -> tuple[tuple[str, int, bool], bytes, bool]:
        if type(target) is str:
            url, method, tail = target, self.method, self._tail
        else:
            method, url, headers, body = request_of(target, self.fetch)
            tail = self._tail_of(method, headers, body)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise Unsupported(f"{parts.scheme}:// is not supported by --engine fast (http and https only)")
        if self.proxies.for_url(url):
            raise Unsupported("the environment sends it through a proxy, and --engine fast connects directly "
                              "(--no-proxy-env, or --engine curl or aiohttp)")
        tls = parts.scheme == "https"
        default = 443 if tls else 80
        port = parts.port or default
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.hostname if port == default else f"{parts.hostname}:{port}"
        head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n".encode("latin-1")
        return (parts.hostname, port, tls), head + tail, method == "HEAD"


#: A head still unfinished at this size is refused at once, not buffered further.
HEAD_CAP = MAX_HEADERS * MAX_LINE
_LOCATION = re.compile(rb"\nlocation[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)
_ENCODING = re.compile(rb"\ncontent-encoding[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)


def _encoding(head: bytes, end: int) -> str | None:
    """An answer's Content-Encoding, read from its head (``head`` up to ``end``; the bytes
    after may be body, and a search through a 1 KiB body cost 12% of a request). A C search
    comes first: most answers have none."""
    if scan.find(head, b"ncoding", end) < 0 and scan.find(head, b"NCODING", end) < 0:
        return None
    found = _ENCODING.search(head, 0, end)
    return None if found is None else found.group(1).decode("latin-1")
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_VERSIONS = {"1.1": "HTTP/1.1", "1.0": "HTTP/1.0"}


#: A head this short cannot hold more header lines than allowed: each is at least "a:" and CRLF.
_SHORT_HEAD = 4 * (MAX_HEADERS + 1)


def _head_problem(head: bytes) -> str | None:
    """Why an answer's head breaks the limits (``head`` may run on into the body), or None."""
    end = head.find(b"\r\n\r\n")
    end = head.find(b"\n\n") if end < 0 else end
    lines = head.count(b"\n", 0, end)
    if lines > MAX_HEADERS + 1:  # the status line, then the headers
        return f"more than {MAX_HEADERS} header lines"
    if end > MAX_LINE and max(len(line) for line in head[:end].split(b"\n")) > MAX_LINE:
        return f"a header line over {MAX_LINE // 1024} KiB"
    return None


#: The setup phases of an answer on a reused connection: none.
_NOT_CONNECTED = (None, None, None)


class _Dropped(Exception):
    """Raised from a parser callback that failed the attempt, to stop the parser."""


class Wire:
    """One TCP connection: parses answers and tells its channel how each attempt ended.

    The raw head of the answer in progress is kept until its headers end (the first chunk
    of a small answer is kept by reference, not copied): the limits and a redirect's
    Location are read from it, and whether any byte arrived tells a stale connection.

    An asyncio protocol by its methods, not by asyncio.Protocol as a base: compiled
    (loadtool.speedups) it is a C struct, which cannot derive from a Python class.
    """

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.worker = channel.worker
        #: What checks (or a crawl) keep of each answer: None, or bytes of its decoded body.
        self.keep, self.limit = channel.engine.keep, channel.engine.max_decoded
        self.keepalive = channel.engine.keepalive
        #: The body being received, when it must be decoded or kept (else it is only counted).
        self.body: Body | None = None
        #: Whether the attempt on this connection is a HEAD request (no body follows its answer).
        self.head_request = channel.heading
        self.timed = channel.timed
        self.transport: asyncio.Transport | None = None
        self.parser = self._parser()
        self.head = b""
        self.status = 0
        self.size = 0
        self.headers_done = False
        self.broken = False
        self.first_s = 0.0
        #: The HTTP version the server answers in on this connection.
        self.version: str | None = None
        #: The answer just parsed — the worker's answered's arguments, or with ``redirecting``
        #: the channel's redirect's — said once the parser has read all it was given: bytes
        #: after a complete answer (no request is pipelined) then close the connection, not
        #: fail the next attempt sent on it.
        self.pending: tuple | None = None
        self.redirecting = False

    def _parser(self) -> httptools.HttpResponseParser:
        parser = httptools.HttpResponseParser(self)
        parser.set_dangerous_leniencies(lenient_optional_cr_before_lf=True)  # bare LF, as the others read it
        return parser

    def _mine(self) -> bool:
        """Whether this connection carries its worker's attempt now."""
        return self.channel.wire is self and self.worker.in_flight

    # asyncio callbacks
    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.headers_done:
            if not self.head and self.timed:
                self.first_s = clock.now()  # the first byte of this answer
            self.head += data
            if len(self.head) > HEAD_CAP:
                self._fail("protocol", f"an answer head over {HEAD_CAP // 1024} KiB")
                return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError:
            pass  # a callback failed the attempt and stopped the parser: nothing more to read
        except httptools.HttpParserUpgrade:
            self._fail("protocol", "upgrade responses are not supported")
        except httptools.HttpParserError as exc:
            if self.pending is None:
                self._fail("protocol", str(exc) or type(exc).__name__)
            else:  # bytes after a whole answer: the answer stands, the connection is not used again
                self.close()
        pending = self.pending
        if pending is not None:
            self.pending = None
            if self.redirecting:
                self.redirecting = False
                self.channel.redirect(pending[0], pending[1])
                return
            status, size, version, connected, phases, now, seen, decoded, away = pending
            self.worker.answered(status, size, version, connected, phases, now, seen, decoded, away)

    def eof_received(self) -> None:
        """The server half-closed: the transport closes (asyncio.Protocol's own answer)."""
        return None

    def pause_writing(self) -> None:
        """Nothing to pause: a request is written whole (asyncio.Protocol's own answer)."""

    def resume_writing(self) -> None:
        """(asyncio.Protocol's own answer.)"""

    def connection_lost(self, exc: Exception | None) -> None:
        self.broken = True
        if self._mine():
            # Nothing of an answer on a connection kept from an earlier request: it was stale.
            stale = self.channel.reused and not self.head
            if exc is not None:
                self.worker.failed(exc, None, stale)
            elif self.headers_done:
                self.worker.failed("truncated", "the connection closed before the body ended")
            elif self.head:
                self.worker.failed("truncated", "the connection closed before the answer's head ended")
            else:
                self.worker.failed("reset", "the connection closed without an answer", stale)

    # httptools callbacks
    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.headers_done = True
        # Runs once per answer: a blank line in its first bytes says the head is too short to
        # break a limit, and only a longer head is read.
        head = self.head
        end = scan.find(head, b"\r\n\r\n", _SHORT_HEAD)
        if end < 0:
            problem = _head_problem(head)
            if problem is not None:
                self._fail("protocol", problem)
                raise _Dropped  # stops the parser: the rest of this answer must not count for the next attempt
            end = len(head)
        encoding = _encoding(head, end)
        if encoding is not None or self.keep is not None:
            self.body = receiving(encoding, self.keep, self.limit)
        if self.head_request:  # no body follows an answer to HEAD, whatever its headers say
            self._complete()

    def on_body(self, body: bytes) -> None:
        received = self.body
        if received is None:
            self.size += len(body)
            return
        try:
            received.feed(body)
        except (TooLarge, BadEncoding) as exc:
            self._fail("too_large" if type(exc) is TooLarge else "protocol", str(exc))
            raise _Dropped from None

    def on_message_complete(self) -> None:
        if not self.head_request:
            self._complete()

    def _complete(self) -> None:
        status, size, head, received = self.status, self.size, self.head, self.body
        self.status = self.size = 0
        self.head = b""
        self.headers_done = False
        self.body = None
        decoded = seen = None
        if received is not None:
            try:
                received.finish()
            except BadEncoding as exc:
                self._fail("protocol", str(exc))
                return
            size, decoded = outcome_sizes(received, 0)
            if self.keep is not None:
                end = head.find(b"\r\n\r\n")
                seen = headers_of(head[:end if end >= 0 else head.find(b"\n\n")].split(b"\n")), received.take()
        if 100 <= status < 200 and status != 101:
            return  # an interim answer (100 Continue, 103 Early Hints): the real one follows
        if self.head_request:
            self.parser = self._parser()
        if not self.parser.should_keep_alive() or not self.keepalive:
            self.close()
        channel = self.channel
        if not 200 <= status < 300 and status in REDIRECTS and channel.follows:  # one comparison for the usual 2xx
            location = _LOCATION.search(head)
            if location is not None:
                self.pending, self.redirecting = (status, location.group(1).decode("latin-1").strip()), True
                return
        if self.timed:
            now = clock.now()
            phases = channel.phases(self.first_s, now)
        else:
            now, phases = None, None
        version = self.version
        if version is None:  # read once a connection: httptools formats it as text on every call
            version = self.version = _VERSIONS.get(self.parser.get_http_version())
        self.pending = (status, size, version, not channel.reused, phases, now, seen, decoded,
                        channel.away and elsewhere(channel.asked, channel.url))

    def _fail(self, kind: str, detail: str) -> None:
        self.close()
        if self._mine():
            self.worker.failed(kind, detail)

    def close(self) -> None:
        self.broken = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.broken = True
        if self.transport is not None:
            self.transport.abort()


#: What a connection over TLS decrypts into, at most, for each read (64 KiB, made once).
DECRYPT_BYTES = 64 << 10


class _Decrypted(asyncio.BufferedProtocol):
    """Between the loop's SSL transport and a Wire: the buffer the transport decrypts into.

    Given a protocol without one, uvloop's SSL transport reads each record into a fresh
    256 KiB bytes and shrinks it (an mmap, mremap and munmap a response: strace, 1 KiB
    answers); this buffer is made once a connection, and the Wire gets the bytes read.
    """

    __slots__ = ("wire", "view")

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.view = memoryview(bytearray(DECRYPT_BYTES))

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view

    def buffer_updated(self, nbytes: int) -> None:
        self.wire.data_received(bytes(self.view[:nbytes]))

    def eof_received(self) -> None:
        return self.wire.eof_received()

    def pause_writing(self) -> None:
        self.wire.pause_writing()

    def resume_writing(self) -> None:
        self.wire.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.wire.connection_lost(exc)


class Channel:
    """One worker's connection: it sends each attempt on the open connection when it goes to
    the same origin, else connects first, and follows redirects as the other engines do."""

    __slots__ = ("engine", "loop", "worker", "wire", "origin", "connecting", "payload", "reused", "url", "target",
                 "hops", "requests", "timed", "setup", "sent_s", "heading", "follows", "asked", "away", "as_get")

    def __init__(self, engine: FastEngine, loop: asyncio.AbstractEventLoop, worker: Worker) -> None:
        self.engine, self.loop, self.worker = engine, loop, worker
        self.wire: Wire | None = None
        self.origin: tuple[str, int] | None = None
        self.connecting = False
        self.reused = False
        self.payload = b""
        self.url = ""
        self.target = None
        self.heading = False
        self.hops = 0
        self.requests = engine.requests
        #: Whether redirects are followed (--max-redirects 0: the 3xx answer counts as it came).
        self.follows = engine.max_redirects > 0
        #: The URL the operation asked for, and whether a redirect took it to another origin:
        #: from then on its credentials stay behind.
        self.asked = ""
        self.away = self.as_get = False
        #: Phases (--no-phases turns this off): a new connection's dns, connect and tls times,
        #: and when the request was written.
        self.timed = engine.phases
        self.setup: tuple = _NOT_CONNECTED
        self.sent_s = 0.0

    def phases(self, first_s: float, now: float) -> tuple:
        """The phases of the answer that ended at ``now`` (its first byte at ``first_s``): send
        runs from when the attempt, or its connection, was ready to when the request was written.
        Runs once per answer: the usual case, a reused connection, is the short way."""
        sent, ready = self.sent_s, self.worker.attempt.start_s
        wait = first_s - sent if first_s > sent else 0.0
        setup = self.setup
        if setup is _NOT_CONNECTED:
            return None, None, None, sent - ready if sent > ready else 0.0, wait, now - first_s
        self.setup = _NOT_CONNECTED  # the next answer on this connection reuses it
        dns, connect, tls = setup
        ready += (dns or 0.0) + (connect or 0.0) + (tls or 0.0)
        return dns, connect, tls, sent - ready if sent > ready else 0.0, wait, now - first_s

    def _write(self, transport) -> None:
        transport.write(self.payload)
        if self.timed:
            self.sent_s = clock.now()

    def start(self, target) -> None:
        """Send one attempt at ``target`` (a URL, or a Request); the answer or failure reaches
        the worker (the driver keeps its deadline by its sweep). Raises ValueError (at once)
        for a target this engine cannot fetch."""
        self.hops = 0
        self.away = False
        requests = self.engine.requests
        wire = self.wire
        if target is self.target and self.requests is requests and wire is not None and not wire.broken:
            # The target of the last attempt again (a run of one URL), on its open connection:
            # its request is the one already built.
            self.reused = True
            wire.head_request = self.heading
            self._write(wire.transport)
            return
        self.requests = requests
        self._send(target)

    def _send(self, target) -> None:
        origin, self.payload, self.heading = self.requests.get(target)
        self.target = target
        self.url = target if type(target) is str else target.url
        wire = self.wire
        if wire is not None and not wire.broken and self.origin == origin:
            self.reused = True
            wire.head_request = self.heading
            self._write(wire.transport)
            return
        if wire is not None:
            wire.close()
        self.wire, self.origin, self.connecting, self.reused = None, origin, True, False
        self.loop.create_task(self._connect(*origin))

    def redirect(self, status: int, location: str) -> None:
        """Follow a redirect: at most --max-redirects, to http only. 303 — and 301 or 302 after
        a POST — fetch with GET and no body, as browsers, requests and aiohttp do. A redirect to
        another origin leaves the credentials behind (Authorization, Cookie: RFC 9110 §15.4),
        for the rest of the operation."""
        engine = self.engine
        if self.hops == engine.max_redirects:
            self.worker.failed("too_many_redirects", f"more than {engine.max_redirects} redirects")
            return
        if self.hops == 0:
            self.asked, self.as_get = self.url, False
        self.hops += 1
        target = self.target
        method = self.requests.method if type(target) is str else target.method
        if status == 303 or (status in (301, 302) and method == "POST"):
            self.as_get = True
            if type(target) is not str:
                target = target._replace(method="GET", body=None)
        try:
            url = urljoin(self.url, location)
            if not self.away and elsewhere(self.asked, url):
                self.away = True
                if type(target) is not str:
                    target = target._replace(headers=without_credentials(target.headers))
            self.requests = engine.redirected[self.as_get, self.away]
            self._send(url if type(target) is str else target._replace(url=url))
        except ValueError as exc:
            self.worker.failed("invalid_url", f"redirect to {location!r}: {exc}")

    async def _connect(self, host: str, port: int, tls: bool) -> None:
        try:
            wire = await self._open(host, port, tls)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed connect is an outcome for the policy
            self.connecting = False
            if self.worker.in_flight:
                self.worker.failed(exc)
            return
        self.connecting = False
        if not self.worker.in_flight:  # timed out (or stopped) while connecting
            wire.close()
            return
        self.wire = wire
        self._write(wire.transport)

    async def _open(self, host: str, port: int, tls: bool) -> Wire:
        """A new connection, timed phase by phase: the name (when it is not an address), the TCP
        connection, then TLS on the loop's SSL transport (SNI and the check from the URL's host)."""
        loop, start = self.loop, clock.now()
        dns = None
        addresses: list = [(host, port)]
        if not is_address(host):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            addresses = [info[4][:2] for info in infos]
            dns = clock.now() - start
        resolved = clock.now()
        for index, (address, address_port) in enumerate(addresses):
            try:
                transport, wire = await loop.create_connection(lambda: self.engine.wire(self), address,
                                                               address_port)
                break
            except OSError:
                if index == len(addresses) - 1:
                    raise
        connected = clock.now()
        handshake = None
        if tls:
            try:
                wire.transport = await loop.start_tls(transport, _Decrypted(wire), self.engine.ssl_context,
                                                        server_hostname=host)
            except BaseException:
                transport.abort()
                raise
            handshake = clock.now() - connected
        self.setup = (dns, connected - resolved, handshake)
        return wire

    def abort(self) -> None:
        """Drop the attempt in flight: its connection cannot carry another answer in order."""
        if self.wire is not None:
            self.wire.abort()
            self.wire = None

    def close(self) -> None:
        if self.wire is not None:
            self.wire.close()
            self.wire = None


class FastEngine:

    def __init__(self, job) -> None:
        fetch = job.fetch
        self.requests = Requests(fetch)
        #: What a redirect sends, by (whether it turned the request into a GET, whether it went
        #: to another origin: no credentials then).
        foreign = replace(fetch, headers=without_credentials(fetch.headers))
        self.redirected = {(False, False): self.requests,
                           (True, False): Requests(replace(fetch, method="GET", body=None)),
                           (False, True): Requests(foreign),
                           (True, True): Requests(replace(foreign, method="GET", body=None))}
        self.max_redirects = fetch.max_redirects
        self.tls = job.fetch.tls
        self.phases = job.fetch.phases
        #: What checks need of each answer (engines.checks.wanted): None, or bytes of its body.
        self.keep = wanted(job.fetch)
        self.max_decoded = job.fetch.max_decoded
        self.keepalive = job.fetch.keepalive
        self.wire = Wire

    @functools.cached_property
    def ssl_context(self):
        """Made at the first https connection: a plain-http run never loads the system's CAs."""
        return tls_context(self.tls)

    def channel(self, loop: asyncio.AbstractEventLoop, worker: Worker) -> Channel:
        return Channel(self, loop, worker)

    @staticmethod
    def refuses(job) -> str | None:
        """Why this engine cannot run ``job`` (a usage error), or None."""
        fetch = job.fetch
        if fetch is None:
            return "--engine chooses how async fetches; it does not apply to read"
        if fetch.polite:
            return "--engine fast does not apply --per-host or --host-rate yet; use --engine aiohttp"
        if fetch.cookies:
            return "--engine fast keeps no cookies: --cookies needs --engine curl or aiohttp"
        if fetch.proxy:
            return "--engine fast connects directly: through --proxy use --engine curl or aiohttp"
        return None

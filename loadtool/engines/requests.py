"""The requests engine: one blocking HTTP attempt with a requests Session (sync strategies).

Each worker (a thread, a process) keeps its own Session, so connections are kept alive
and reused. Bodies are read in chunks and counted, not kept, so memory does not grow
with response size times concurrency.

Where http.client is looser or stricter than the other engines, its connections are
made to agree with them (the conformance suite holds them to it): interim 1xx answers
(103 Early Hints) are skipped like 100 Continue; a Content-Length that is negative or
not a number is a protocol error; and the whole attempt keeps its deadline through the
watchdog, where requests would only bound each recv.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .checks import answer, wanted
from .encoding import accept_header, outcome_sizes, receiving
from .http import USER_AGENT, elsewhere, request_of
from ..errors import classify
from .policy import Limits, Outcome
from .tls import context as tls_context
from .watchdog import WATCHDOG

CHUNK = 64 * 1024

_VERSIONS = {11: "HTTP/1.1", 10: "HTTP/1.0"}
#: The attempt in flight in this thread, so the connection it runs on can be watched.
_current = threading.local()


class TotalTimeout(TimeoutError):
    """The attempt ran past its deadline (the watchdog ended it)."""


class BadContentLength(http.client.HTTPException):
    """A Content-Length that is negative or not a whole number: not valid HTTP."""


class CutHead(http.client.HTTPException):
    """The connection closed before the answer's head ended (http.client takes the end of
    the stream for the blank line that ends a head)."""


class _Lines:
    """The reader of an answer's head, noting whether the stream ended where a line was due."""

    __slots__ = ("fp", "ended")

    def __init__(self, fp) -> None:
        self.fp, self.ended = fp, False

    def readline(self, limit: int = -1) -> bytes:
        line = self.fp.readline(limit)
        self.ended = not line
        return line

    def __getattr__(self, name: str):
        return getattr(self.fp, name)


class _Response(http.client.HTTPResponse):
    """http.client's response, made as strict and as lenient as the other engines."""

    def _read_status(self):
        # http.client skips 100 Continue only; any interim 1xx answer (103 Early Hints) comes
        # before the real one. 101 (a protocol switch) is final.
        while True:
            version, status, reason = super()._read_status()
            if not 100 < status < 200 or status == 101:
                return version, status, reason
            http.client.parse_headers(self.fp)

    def begin(self) -> None:
        if self.headers is not None:  # begun already
            return
        body, self.fp = self.fp, _Lines(self.fp)
        try:
            super().begin()
        finally:
            lines, self.fp = self.fp, body
        if lines.ended:
            raise CutHead("the connection closed before the answer's head ended")
        for value in self.headers.get_all("Content-Length") or ():
            if not value.strip().isdigit():
                raise BadContentLength(f"Content-Length {value!r} is not a length")


class _Watched:
    """Connections that tell the watchdog which socket the attempt in this thread runs on, and
    note its phases: the TCP connect (urllib3 resolves the name in it: no dns phase of its
    own), the TLS handshake, writing the request, waiting for the status line and headers."""

    response_class = _Response

    def _new_conn(self):
        start = time.perf_counter()
        sock = super()._new_conn()
        _note("connect", time.perf_counter() - start)
        return sock

    def connect(self) -> None:
        start = time.perf_counter()
        watch = getattr(_current, "watch", None)
        if watch is not None:
            watch.connecting = True
        super().connect()
        if watch is not None and self.sock is not None and hasattr(self.sock, "version"):  # a TLS socket
            watch.times["tls"] = time.perf_counter() - start - watch.times.get("connect", 0.0)
        self.fresh = True  # for https urllib3 connects before request(): not a reuse
        if watch is not None:
            watch.connecting = False
            WATCHDOG.attach(watch, self.sock)

    def request(self, *args, **kwargs):
        watch = getattr(_current, "watch", None)
        if watch is not None and self.sock is not None:  # connected: kept alive (reused), or just now
            WATCHDOG.attach(watch, self.sock, reused=not getattr(self, "fresh", False))
        start = time.perf_counter()
        try:
            return super().request(*args, **kwargs)  # for plain http, connect() happens in here
        finally:
            self.fresh = False
            if watch is not None:
                connecting = watch.times.get("connect", 0.0) + watch.times.get("tls", 0.0)
                watch.times["send"] = max(time.perf_counter() - start - connecting, 0.0)

    def getresponse(self):
        start = time.perf_counter()
        try:
            response = super().getresponse()
        finally:
            _note("wait", time.perf_counter() - start)
        response.__class__ = _Body  # urllib3 makes its own: the chunk sizes every engine reads, on it
        return response


def _note(phase: str, seconds: float) -> None:
    watch = getattr(_current, "watch", None)
    if watch is not None:
        watch.times[phase] = seconds


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _Body(urllib3.response.HTTPResponse):
    """urllib3's response, reading chunk sizes as the other engines do: a size below 2^64, never
    negative (urllib3 takes ``-5`` for minus five and 20 F's for a chunk to wait for)."""

    def _update_chunk_length(self) -> None:
        if self.chunk_left is not None:
            return
        super()._update_chunk_length()
        if self.chunk_left is not None and not 0 <= self.chunk_left < 1 << 64:
            size, self.chunk_left = self.chunk_left, None
            self.close()
            raise urllib3.exceptions.InvalidChunkLength(self, str(size).encode())


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _Adapter(HTTPAdapter):
    """requests' adapter with the watched connections, the job's TLS context, and no urllib3
    retries of its own."""

    def __init__(self, ssl_context, **kwargs) -> None:
        self.ssl_context = ssl_context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, ssl_context=self.ssl_context, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


class _Session(requests.Session):
    """requests' Session, keeping a Cookie header given for a request on a redirect to the same
    origin (requests drops it at every hop, to rebuild it from the jar), as the other engines
    do; to another origin it stays behind, with Authorization."""

    def rebuild_auth(self, prepared_request, response) -> None:
        super().rebuild_auth(prepared_request, response)
        before = response.request
        cookie = before.headers.get("Cookie")
        if cookie and "Cookie" not in prepared_request.headers and not elsewhere(before.url, prepared_request.url):
            prepared_request.headers["Cookie"] = cookie


def _joined(headers: tuple[tuple[str, str], ...]) -> dict[str, str] | None:
    """A request's own headers as requests takes them: a name given twice has its values
    joined with commas, as HTTP allows."""
    if not headers:
        return None
    joined: dict[str, str] = {}
    for name, value in headers:
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    return joined


class RequestsEngine:

    def __init__(self, job) -> None:
        self.fetch = job.fetch
        self.ssl_context = tls_context(job.fetch.tls)
        self.proxies = job.fetch.proxies()
        #: What checks need of each answer (engines.checks.wanted): None, or bytes of its body.
        self.keep = wanted(job.fetch)
        #: Follow redirects (a crawl does not: it queues the Location, so no URL is fetched twice).
        self.follow = True
        if job.fetch.tls.insecure:  # asked for: not a warning per request
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    @contextmanager
    def session(self) -> Iterator[requests.Session]:
        """A Session for one worker: keep-alive, no urllib3 retries of its own."""
        session = _Session()
        tls = self.fetch.tls
        session.verify = False if tls.insecure else (tls.cacert or True)  # -k wins over --cacert, as elsewhere
        if tls.cert:
            session.cert = (tls.cert, tls.key) if tls.key else tls.cert
        adapter = _Adapter(self.ssl_context, pool_connections=4, pool_maxsize=4, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        # Not following (--max-redirects 0), requests still reads the next hop: it must be allowed one.
        session.max_redirects = max(self.fetch.max_redirects, 1)
        session.headers["User-Agent"] = USER_AGENT
        accept = accept_header(self.fetch)
        if accept is not None:
            session.headers[accept[0]] = accept[1]
        session.headers.update(dict(self.fetch.headers))
        session.trust_env = False  # proxies come from engines.proxy, the same for every engine
        if not self.fetch.cookies:  # off unless --cookies: each request stands alone
            session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        try:
            yield session
        finally:
            session.close()

    def attempt(self, session: requests.Session, target, limits: Limits) -> Outcome:
        method, url, headers, body = request_of(target, self.fetch)
        watch = _current.watch = WATCHDOG.watch(time.perf_counter() + limits.total_s)
        answered = False
        proxy = self.proxies.for_url(url)
        try:
            with session.request(method, url, data=body, headers=_joined(headers), stream=True,
                                 allow_redirects=self.follow and self.fetch.max_redirects > 0,
                                 timeout=(limits.connect_s, limits.total_s),
                                 proxies={"http": proxy, "https": proxy} if proxy else None) as response:
                answered = True
                body_start = time.perf_counter()
                size, received = 0, receiving(response.headers.get("Content-Encoding"), self.keep,
                                              self.fetch.max_decoded)
                for chunk in response.raw.stream(CHUNK, decode_content=False):
                    if received is None:
                        size += len(chunk)
                    else:
                        received.feed(chunk)
                if received is not None:
                    received.finish()
            times = watch.times
            phases = (None, times.get("connect"), times.get("tls"), times.get("send"), times.get("wait"),
                      time.perf_counter() - body_start) if self.fetch.phases else None
            size, decoded = outcome_sizes(received, size)
            outcome = Outcome(response.status_code, size, protocol=_VERSIONS.get(response.raw.version),
                              connected=not watch.reused, phases=phases,
                              answer=None if self.keep is None else answer(response.headers.items(), received),
                              decoded=decoded, elsewhere=bool(response.history) and elsewhere(url, response.url))
        except Exception as exc:  # noqa: BLE001 - every failure is an outcome for the policy
            # Failed before any answer on a connection kept from an earlier request: it was
            # stale (the server closed it meanwhile), and the policy may replay the request.
            outcome = Outcome(error=exc, stale=watch.reused and not answered)
            if watch.connecting and classify(exc) == "read_timeout":  # urllib3 names a TLS handshake's timeout so
                outcome = Outcome(error="connect_timeout", detail=f"no connection (TLS handshake) within "
                                                                  f"{limits.connect_s:g}s")
        finally:
            _current.watch = None
            if not self.fetch.keepalive:  # --no-keepalive: the connection ends with its request
                session.get_adapter(url).poolmanager.clear()
        if WATCHDOG.release(watch):  # whatever came back was cut off by the watchdog
            return Outcome(error=TotalTimeout(f"no full answer within the time left ({limits.total_s:g}s)"))
        return outcome

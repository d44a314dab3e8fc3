"""The aiohttp engine: one HTTP attempt as a coroutine (the async twin of the requests engine).

One ClientSession serves a whole event loop, with at most C connections. Bodies are
counted, not kept.
"""

from __future__ import annotations

import contextvars
import functools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from ..metrics import tuples
from .checks import answer, wanted
from .encoding import accept_header, outcome_sizes, receiving
from .guard import Handler
from .http import MAX_HEADERS, MAX_LINE, USER_AGENT, elsewhere, request_of
from .policy import Limits, Outcome
from .tls import context as tls_context


class _Connector(aiohttp.TCPConnector):
    """aiohttp's connector, noting when each new connection was asked for and when it was
    ready (name lookup, TCP and TLS handshakes: aiohttp does them in one step), by protocol.

    This replaces aiohttp's trace hooks for phases: a trace sends six signals a request,
    each with an object of its own, which cost aiohttp a fifth of its requests a second;
    a connection is made far less often than a request."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        #: protocol -> (asked, ready), until the attempt it was made for takes it.
        self.made: dict = {}
        if isinstance(getattr(self, "_factory", None), functools.partial):  # aiohttp's, to make protocols
            self._factory = functools.partial(Handler, *self._factory.args, **self._factory.keywords)

    async def _create_connection(self, req, traces, timeout):
        _OPENED.set(True)  # for the attempt, in its task: its request went on a new connection
        asked = time.perf_counter()
        protocol = await super()._create_connection(req, traces, timeout)
        if len(self.made) > MADE_KEPT:  # those of redirects' first hops, never taken
            self.made.clear()
        self.made[protocol] = (asked, time.perf_counter())
        return protocol


#: Connections' timings kept for attempts to take, at most.
MADE_KEPT = 10_000
#: Whether an attempt opened a connection (set by _Connector._create_connection in the
#: attempt's own task, which aiohttp connects in): a failure before any answer on one it did
#: not open is a stale connection's. (A set a request costs less than overriding connect().)
_OPENED: contextvars.ContextVar[bool] = contextvars.ContextVar("loadtool_aiohttp_opened", default=False)
#: Whether the task's next attempt goes on a connection of its own: its last one met a stale
#: connection, and aiohttp, which sends a request once more itself, took another from its pool
#: that the server had closed too (1 in 40 requests at 8 in flight to a server that closes
#: each connection after answering), where curl and the fast engine open a new one.
_FRESH: contextvars.ContextVar[bool] = contextvars.ContextVar("loadtool_aiohttp_fresh", default=False)


def _phases(start: float, made: tuple | None, headers_at: float) -> tuple:
    """dns, connect, tls, send, wait, read of one attempt. aiohttp makes a connection in one
    step, so name lookup and TLS handshake are in connect; the request's sending is in wait."""
    now = time.perf_counter()
    if made is None:
        return None, None, None, None, headers_at - start, now - headers_at  # each clock read after the last
    asked, ready = made
    return None, ready - asked, None, None, max(headers_at - ready, 0.0), now - headers_at


_NO_TYPE = ("Content-Type",)
_PROTOCOLS = {aiohttp.HttpVersion11: "HTTP/1.1", aiohttp.HttpVersion10: "HTTP/1.0"}


class AiohttpEngine:

    def __init__(self, job) -> None:
        self.fetch = job.fetch
        self.timeout_s = job.timeout_s
        self.proxies = job.fetch.proxies()
        #: What checks need of each answer (engines.checks.wanted): None, or bytes of its body.
        self.keep = wanted(job.fetch)
        #: Follow redirects (a crawl does not: it queues the Location, so no URL is fetched twice).
        self.follow = True
        self._timeout_for: tuple[Limits | None, aiohttp.ClientTimeout | None] = (None, None)
        #: The TLS context of the loop's session (session()), for a replay's session of its own.
        self._tls = None
        #: The session's ClientRequest, with loadtool's default headers (session()).
        self._request_class = aiohttp.ClientRequest
        #: The keywords of every request, those not aiohttp's defaults (session()); and the Limits
        #: the session's timeout is made of: an attempt under others names its own timeout.
        self._options = self._own_options()
        self._session_limits: Limits | None = None

    @staticmethod
    def refuses(job) -> str | None:
        proxies = job.fetch.proxies()
        if any((proxy or "").startswith("socks") for proxy in (proxies.proxy, *proxies.env.values())):
            return "--engine aiohttp goes through http(s) proxies only: for socks5 use --engine curl"
        return None

    def _own_options(self) -> dict:
        """The keywords every request of the job is sent with, where aiohttp's defaults differ."""
        # aiohttp stops at max_redirects - 1 redirects; the other engines follow --max-redirects.
        options = {"max_redirects": self.fetch.max_redirects + 1}
        if not (self.follow and self.fetch.max_redirects > 0):
            options["allow_redirects"] = False
        return options

    def _ssl(self):
        """The job's TLS context; with no TLS option given, True: aiohttp's own verifying
        context, made when aiohttp was imported (a second one costs 20 ms of loading the
        system's CAs, for a run that may never speak https)."""
        tls = self.fetch.tls
        if not (tls.insecure or tls.cacert or tls.cert or tls.min_version):
            return True
        return tls_context(tls)

    @asynccontextmanager
    async def session(self, limit: int) -> AsyncIterator[aiohttp.ClientSession]:
        """One session for the loop, at most ``limit`` connections open."""
        self._tls = self._ssl()
        connector = _Connector(limit=limit, limit_per_host=0, ttl_dns_cache=300, ssl=self._tls,
                               force_close=not self.fetch.keepalive)
        limits = self._session_limits = Limits(min(self.fetch.connect_timeout_s, self.timeout_s), self.timeout_s)
        timeout = aiohttp.ClientTimeout(total=limits.total_s, sock_connect=limits.connect_s)
        self._options = self._own_options()  # (a crawl has set follow by now)
        # loadtool's User-Agent and Accept-Encoding as aiohttp's own defaults, each sent unless
        # the job's headers name it: as the session's headers, aiohttp would copy and merge them
        # into every request (2k of the engine's 327k instructions a request). Named by aiohttp's
        # own header names (istr): multidict folds a plain str's case at every request.
        defaults = {**aiohttp.ClientRequest.DEFAULT_HEADERS, aiohttp.hdrs.USER_AGENT: USER_AGENT}
        if accepted := accept_header(self.fetch):
            defaults[aiohttp.hdrs.ACCEPT_ENCODING] = accepted[1]
        self._request_class = type("Request", (aiohttp.ClientRequest,), {"DEFAULT_HEADERS": defaults})
        async with aiohttp.ClientSession(
                connector=connector, timeout=timeout, auto_decompress=False,
                # Cookies would make request i depend on the answers before it: off unless --cookies,
                # and then a jar per worker (worker()).
                cookie_jar=aiohttp.DummyCookieJar(), headers=dict(self.fetch.headers) or None,
                request_class=self._request_class,
                # The limits of an answer's head as http.client holds them, so every engine agrees.
                max_line_size=MAX_LINE, max_field_size=MAX_LINE, max_headers=MAX_HEADERS) as session:
            yield session

    @asynccontextmanager
    async def worker(self, shared: aiohttp.ClientSession) -> AsyncIterator[aiohttp.ClientSession]:
        """One worker's session: the shared one, or with --cookies one with a jar of its own
        on the shared connections."""
        if not self.fetch.cookies:
            yield shared
            return
        async with self._sibling(shared, shared.connector, aiohttp.CookieJar(unsafe=True)) as session:
            yield session

    def _sibling(self, session: aiohttp.ClientSession, connector, jar, owner: bool = False) -> aiohttp.ClientSession:
        """A session as ``session`` is, on ``connector``, with the cookie ``jar`` given."""
        return aiohttp.ClientSession(connector=connector, connector_owner=owner, timeout=session.timeout,
                                     auto_decompress=False, cookie_jar=jar, headers=session.headers,
                                     request_class=self._request_class,
                                     max_line_size=MAX_LINE, max_field_size=MAX_LINE, max_headers=MAX_HEADERS)

    def _timeout(self, limits: Limits) -> aiohttp.ClientTimeout:
        """aiohttp's timeout for ``limits``: most attempts are first ones, with the policy's
        one first_limits, so its ClientTimeout is made once (each costs a few µs)."""
        made_for, timeout = self._timeout_for
        if limits is not made_for:
            timeout = aiohttp.ClientTimeout(total=limits.total_s, sock_connect=limits.connect_s)
            self._timeout_for = (limits, timeout)  # one assignment: safe with loops in other threads
        return timeout

    async def attempt(self, session: aiohttp.ClientSession, target, limits: Limits) -> Outcome:
        if _FRESH.get():  # after a stale connection: on a new one of its own (the worker's cookies)
            _FRESH.set(False)
            connector = _Connector(limit=1, ssl=self._ssl() if self._tls is None else self._tls, force_close=True)
            async with self._sibling(session, connector, session.cookie_jar, owner=True) as fresh:
                return await self.attempt(fresh, target, limits)
        fetch = self.fetch
        method, url, headers, body = request_of(target, fetch)
        options = self._options
        if body is not None or headers or self.proxies.any or limits != self._session_limits:
            # No Content-Type unless one is given: aiohttp would invent application/octet-stream
            # for a body. (Only with one: naming a header to skip leaves aiohttp's fast path
            # for headers, 8-10 µs a request.) Keywords only when they say something: each
            # costs a request its passing on through aiohttp's calls.
            options = {**options, "data": body, "headers": headers or None, "timeout": self._timeout(limits),
                       "skip_auto_headers": None if body is None else _NO_TYPE, "proxy": self.proxies.for_url(url)}
        start = time.perf_counter()
        if _OPENED.get():  # a set makes the task's context anew: only when it changes
            _OPENED.set(False)
        answered = False
        try:
            response = await session.request(method, url, **options)
            answered = True
            try:
                headers_at = time.perf_counter() if fetch.phases else 0.0
                # The protocol the answer came on (a private attribute: response.connection is
                # already None when a small body came with the head), when a connection was made.
                made = session.connector.made
                made = made.pop(getattr(response, "_protocol", None), None) if made else None
                # (Two calls fewer for the usual answer: nothing to keep, no encoding.)
                encoding = response.headers.get(aiohttp.hdrs.CONTENT_ENCODING)
                received = None if encoding is None and self.keep is None else \
                    receiving(encoding, self.keep, fetch.max_decoded)
                size = 0
                content = response.content
                # Until the body is all read: a last readany for the b"" at its end cost a coroutine a
                # request (with the two calls above, 323k -> 315k instructions a request; callgrind).
                while not content.at_eof():
                    chunk = await content.readany()
                    if received is None:
                        size += len(chunk)
                    else:
                        received.feed(chunk)
                if received is not None:
                    received.finish()
                version = response.version
                protocol = _PROTOCOLS.get(version) or f"HTTP/{version.major}.{version.minor}"
                size, decoded = (size, None) if received is None else outcome_sizes(received, size)
                # Built with tuples.make: a NamedTuple's own __new__ with keywords costs 3x, per request.
                return tuples.make(Outcome, (response.status, size, None, None, False, protocol, made is not None,
                                             _phases(start, made, headers_at) if fetch.phases else None,
                                             None if self.keep is None else answer(response.headers.items(), received),
                                             decoded, bool(response.history) and elsewhere(url, str(response.url))))
            finally:
                # What leaving ``async with`` on the response does (its __aexit__): the two
                # context managers' four coroutines cost a request 2.7k instructions (callgrind).
                response.release()
                await response.wait_for_close()
        except Exception as exc:  # noqa: BLE001 - every failure is an outcome for the policy
            # Nothing of an answer on a kept connection (aiohttp has sent it once more itself,
            # and met another the server had closed as well): stale, for the policy to replay.
            stale = not answered and not _OPENED.get()
            if stale:  # the replay goes on a new connection: the pool's others may be as stale
                _FRESH.set(True)
            return Outcome(error=exc, stale=stale)

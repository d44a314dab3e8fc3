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
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .. import __version__
from .policy import Limits, Outcome
from .watchdog import WATCHDOG

USER_AGENT = f"loadtool/{__version__}"
MAX_REDIRECTS = 10
CHUNK = 64 * 1024

#: The attempt in flight in this thread, so the connection it runs on can be watched.
_current = threading.local()


class TotalTimeout(TimeoutError):
    """The attempt ran past its deadline (the watchdog ended it)."""


class BadContentLength(http.client.HTTPException):
    """A Content-Length that is negative or not a whole number: not valid HTTP."""


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
        super().begin()
        for value in self.headers.get_all("Content-Length") or ():
            if not value.strip().isdigit():
                raise BadContentLength(f"Content-Length {value!r} is not a length")


class _Watched:
    """Connections that tell the watchdog which socket the attempt in this thread runs on."""

    response_class = _Response

    def connect(self) -> None:
        super().connect()
        watch = getattr(_current, "watch", None)
        if watch is not None:
            WATCHDOG.attach(watch, self.sock)

    def request(self, *args, **kwargs):
        watch = getattr(_current, "watch", None)
        if watch is not None and self.sock is not None:  # a kept-alive connection, reused
            WATCHDOG.attach(watch, self.sock, reused=True)
        return super().request(*args, **kwargs)


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _Adapter(HTTPAdapter):
    """requests' adapter with the watched connections, and no urllib3 retries of its own."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


class RequestsEngine:
    style = "sync"

    def __init__(self, job) -> None:
        self.fetch = job.fetch

    @contextmanager
    def session(self) -> Iterator[requests.Session]:
        """A Session for one worker: keep-alive, no urllib3 retries of its own."""
        session = requests.Session()
        adapter = _Adapter(pool_connections=4, pool_maxsize=4, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.max_redirects = MAX_REDIRECTS
        session.headers["User-Agent"] = USER_AGENT
        session.headers.update(dict(self.fetch.headers))
        try:
            yield session
        finally:
            session.close()

    def attempt(self, session: requests.Session, url: str, limits: Limits) -> Outcome:
        fetch = self.fetch
        watch = _current.watch = WATCHDOG.watch(time.perf_counter() + limits.total_s)
        answered = False
        try:
            with session.request(fetch.method, url, data=fetch.body, stream=True, allow_redirects=True,
                                 timeout=(limits.connect_s, limits.total_s)) as response:
                answered = True
                size = 0
                for chunk in response.raw.stream(CHUNK, decode_content=False):
                    size += len(chunk)
            outcome = Outcome(response.status_code, size)
        except Exception as exc:  # noqa: BLE001 - every failure is an outcome for the policy
            # Failed before any answer on a connection kept from an earlier request: it was
            # stale (the server closed it meanwhile), and the policy may replay the request.
            outcome = Outcome(error=exc, stale=watch.reused and not answered)
        finally:
            _current.watch = None
        if WATCHDOG.release(watch):  # whatever came back was cut off by the watchdog
            return Outcome(error=TotalTimeout(f"no full answer within the time left ({limits.total_s:g}s)"))
        return outcome

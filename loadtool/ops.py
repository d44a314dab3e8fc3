"""One operation each: fetch a URL or read a file, sync or async; each returns one Sample.

The sync and async twins share everything but the I/O call: timing, retries, error
classification and the Sample they build. Bodies are read in chunks and counted, not
kept, so memory does not grow with response size times concurrency.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import requests
from requests.adapters import HTTPAdapter

from . import __version__
from .errors import classify, message
from .metrics import Sample
from .targets import InvalidTarget
from .work import Op

USER_AGENT = f"loadtool/{__version__}"
MAX_REDIRECTS = 10
CHUNK = 64 * 1024
#: Errors worth another attempt: the next try may well succeed.
RETRIABLE = {"connect_refused", "connect_timeout", "read_timeout", "reset", "truncated", "protocol", "dns"}
BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 2.0


class TotalTimeout(TimeoutError):
    """The operation as a whole took longer than --timeout."""


def backoff_s(attempt: int) -> float:
    """Exponential backoff with full jitter before retry number ``attempt`` (1, 2, …)."""
    return random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1)))


def _micros(start: float, end: float) -> int:
    return int((end - start) * 1_000_000)


class Attempts:
    """Timing and outcome of one operation across its attempts; builds its Sample."""

    __slots__ = ("op", "job", "started", "count")

    def __init__(self, job, op: Op) -> None:
        self.job, self.op = job, op
        self.started = time.perf_counter()
        self.count = 0

    def sample(self, status: int | None = None, nbytes: int = 0, error: str | None = None,
               detail: str | None = None) -> Sample:
        end = time.perf_counter()
        origin = self.started if self.op.due is None else min(self.op.due, self.started)
        ok = error is None and status is not None and self.job.is_ok(status)
        return Sample(
            latency_us=_micros(origin, end), ok=ok if self.job.kind == "fetch" else error is None,
            status=status, error=error, bytes=nbytes, attempts=max(self.count, 1), detail=detail,
            service_us=None if self.op.due is None else _micros(self.started, end),
        )

    def failed(self, exc: BaseException) -> Sample:
        return self.sample(error=classify(exc), detail=message(exc))

    def retry_after_s(self, exc: BaseException | None = None, status: int | None = None) -> float | None:
        """Seconds to wait before trying again after an error or a 5xx answer, or None
        when the outcome is final."""
        retriable = classify(exc) in RETRIABLE if exc is not None else status is not None and status >= 500
        if self.count > self.job.retries or not retriable:
            return None
        pause = backoff_s(self.count)
        return pause if pause < self.remaining_s() else None

    def settle(self, status: int | None = None, size: int = 0, exc: BaseException | None = None) -> Sample | float:
        """After an attempt: the operation's Sample if that was its last attempt, else the
        seconds to wait before the next one. Sync and async fetches share this decision."""
        pause = self.retry_after_s(exc, status)
        if pause is not None:
            return pause
        return self.failed(exc) if exc is not None else self.sample(status, size)

    def remaining_s(self) -> float:
        return self.job.timeout_s - (time.perf_counter() - self.started)


def invalid(job, op: Op) -> Sample:
    return Attempts(job, op).sample(error="invalid_url", detail=op.target.detail)


# --- fetch, sync (requests) ---------------------------------------------------------

def new_sync_session(job) -> requests.Session:
    """A requests Session for one worker: keep-alive, no urllib3 retries of its own."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=4, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.max_redirects = MAX_REDIRECTS
    session.headers["User-Agent"] = USER_AGENT
    session.headers.update(dict(job.headers))
    return session


def _fetch_once_sync(session: requests.Session, job, url: str, attempts: Attempts) -> tuple[int, int]:
    read_timeout = max(attempts.remaining_s(), 0.001)
    with session.request(job.method, url, data=job.body, stream=True, allow_redirects=True,
                         timeout=(min(job.connect_timeout_s, read_timeout), read_timeout)) as response:
        size = 0
        for chunk in response.raw.stream(CHUNK, decode_content=False):
            size += len(chunk)
            if attempts.remaining_s() < 0:
                raise TotalTimeout(f"no full answer within {job.timeout_s:g}s")
        return response.status_code, size


def fetch_sync(session: requests.Session, job, op: Op) -> Sample:
    """GET (or --method) one URL with requests; the body is counted, not kept."""
    if isinstance(op.target, InvalidTarget):
        return invalid(job, op)
    attempts = Attempts(job, op)
    while True:
        attempts.count += 1
        try:
            outcome = attempts.settle(*_fetch_once_sync(session, job, op.target, attempts))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a counted Sample
            outcome = attempts.settle(exc=exc)
        if isinstance(outcome, Sample):
            return outcome
        time.sleep(outcome)


# --- fetch, async (aiohttp) ---------------------------------------------------------

def new_async_session(job, limit: int) -> aiohttp.ClientSession:
    """One aiohttp session for a whole async run, at most ``limit`` connections open."""
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=0, ttl_dns_cache=300)
    timeout = aiohttp.ClientTimeout(total=job.timeout_s, sock_connect=job.connect_timeout_s)
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=False,
        # Cookies would make request i depend on the answers before it.
        cookie_jar=aiohttp.DummyCookieJar(),
        headers={"User-Agent": USER_AGENT, **dict(job.headers)},
    )


def _remaining_timeout(job, attempts: Attempts) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=max(attempts.remaining_s(), 0.001), sock_connect=job.connect_timeout_s)


async def _fetch_once_async(session: aiohttp.ClientSession, job, url: str,
                            attempts: Attempts) -> tuple[int, int]:
    # A retry gets what is left of --timeout; the first attempt uses the session's.
    # (aiohttp reads timeout=None as "no timeout", so the argument is left out instead.)
    retry = {} if attempts.count == 1 else {"timeout": _remaining_timeout(job, attempts)}
    async with session.request(job.method, url, data=job.body, allow_redirects=True,
                               max_redirects=MAX_REDIRECTS, **retry) as response:
        size = 0
        while chunk := await response.content.readany():
            size += len(chunk)
        return response.status, size


async def fetch_async(session: aiohttp.ClientSession, job, op: Op) -> Sample:
    """The async twin of ``fetch_sync``, with aiohttp."""
    if isinstance(op.target, InvalidTarget):
        return invalid(job, op)
    attempts = Attempts(job, op)
    while True:
        attempts.count += 1
        try:
            outcome = attempts.settle(*await _fetch_once_async(session, job, op.target, attempts))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a counted Sample
            outcome = attempts.settle(exc=exc)
        if isinstance(outcome, Sample):
            return outcome
        await asyncio.sleep(outcome)


# --- what strategies see --------------------------------------------------------------

class FetchIO:
    """The fetch operation as strategies use it: open a session, do one op (sync or async)."""

    def __init__(self, job) -> None:
        self.job = job

    @contextmanager
    def session(self) -> Iterator[requests.Session]:
        session = new_sync_session(self.job)
        try:
            yield session
        finally:
            session.close()

    def do(self, session: requests.Session, op: Op) -> Sample:
        return fetch_sync(session, self.job, op)

    def asession(self, limit: int) -> aiohttp.ClientSession:
        return new_async_session(self.job, limit)

    async def ado(self, session: aiohttp.ClientSession, op: Op) -> Sample:
        return await fetch_async(session, self.job, op)


def io_for(job):
    """The I/O of a job's kind (fetch or read), with the same shape for every strategy."""
    if job.kind == "read":
        from .fileops import ReadIO

        return ReadIO(job)
    return FetchIO(job)

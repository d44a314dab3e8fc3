"""The fast engine (``--engine fast``): HTTP/1.1 keep-alive on asyncio protocols and httptools.

A client that costs more CPU per request than the server measures itself. aiohttp is
general and pays for it (a task, futures and several layers per request); this engine
does one thing: C connections, each sending its next request from inside the callback
that parsed the last response, with no coroutine, future or timer per request. Requests
for a URL are built once and cached; timeouts are enforced by one sweep every tick
rather than a timer per request. It speaks plain HTTP/1.1 (no TLS) and does not follow
redirects (a 3xx is counted by status); responses with Content-Length or chunked bodies.
The Samples it produces are the same as every other engine's.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import httptools

from .errors import classify, message
from .metrics import Stats
from .ops import RETRIABLE, USER_AGENT, backoff_s
from .targets import InvalidTarget
from .work import Recorder, Work

#: How often in-flight operations are checked against their timeouts.
TICK_S = 0.05
URL_CACHE = 4096


class Unsupported(ValueError):
    """A URL the fast engine cannot fetch (https): counted as invalid_url, with this reason."""


class Requests:
    """Request bytes per URL, built once: (host, port, bytes)."""

    def __init__(self, job) -> None:
        self.job = job
        self._cache: dict[str, tuple[str, int, bytes]] = {}
        extra = "".join(f"{name}: {value}\r\n" for name, value in job.headers)
        body = job.body or b""
        length = f"Content-Length: {len(body)}\r\n" if body or job.method in ("POST", "PUT", "PATCH") else ""
        self._tail = f"User-Agent: {USER_AGENT}\r\n{extra}{length}\r\n".encode("latin-1") + body

    def get(self, url: str) -> tuple[str, int, bytes]:
        built = self._cache.get(url)
        if built is None:
            built = self._build(url)
            if len(self._cache) >= URL_CACHE:
                self._cache.clear()
            self._cache[url] = built
        return built

    def _build(self, url: str) -> tuple[str, int, bytes]:
        parts = urlsplit(url)
        if parts.scheme != "http":
            raise Unsupported(f"{parts.scheme}:// is not supported by --engine fast (plain http only)")
        port = parts.port or 80
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.hostname if port == 80 else f"{parts.hostname}:{port}"
        head = f"{self.job.method} {target} HTTP/1.1\r\nHost: {host}\r\n".encode("latin-1")
        return parts.hostname, port, head + self._tail


class Wire(asyncio.Protocol):
    """One TCP connection: parses responses and tells its Worker how each one ended."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.size = 0
        self.headers_done = False
        self.broken = False

    # asyncio callbacks
    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail("protocol", "upgrade responses are not supported")
        except httptools.HttpParserError as exc:
            self._fail("protocol", str(exc) or type(exc).__name__)

    def connection_lost(self, exc: Exception | None) -> None:
        self.broken = True
        if self.worker.wire is self and self.worker.in_flight:
            if exc is not None:
                self.worker.failed(classify(exc), message(exc))
            elif self.headers_done:
                self.worker.failed("truncated", "the connection closed before the body ended")
            else:
                self.worker.failed("reset", "the connection closed without an answer")

    # httptools callbacks
    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.headers_done = True
        if self.worker.head_request:  # no body follows an answer to HEAD, whatever its headers say
            self._complete()

    def on_body(self, body: bytes) -> None:
        self.size += len(body)

    def on_message_complete(self) -> None:
        if not self.worker.head_request:
            self._complete()

    def _complete(self) -> None:
        status, size, keep = self.status, self.size, self.parser.should_keep_alive()
        self.status = self.size = 0
        self.headers_done = False
        if self.worker.head_request:
            self.parser = httptools.HttpResponseParser(self)
        if not keep:
            self.close()
        self.worker.answered(status, size)

    def _fail(self, kind: str, detail: str) -> None:
        self.close()
        if self.worker.wire is self and self.worker.in_flight:
            self.worker.failed(kind, detail)

    def close(self) -> None:
        self.broken = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.broken = True
        if self.transport is not None:
            self.transport.abort()


class Worker:
    """One of C workers: takes operations from Work and runs them on its connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.job = engine.job
        self.head_request = self.job.method == "HEAD"
        self.wire: Wire | None = None
        self.origin: tuple[str, int] | None = None
        self.in_flight = False
        self.connecting = False
        self.done = False
        self.op = None
        self.payload = b""
        self.started = 0.0
        self.attempts = 0

    def next(self) -> None:
        """Start the next operation, or finish when Work has none left."""
        engine = self.engine
        while True:
            try:
                op = next(engine.work)
            except StopIteration:
                self.finish()
                return
            target = op.target
            if isinstance(target, InvalidTarget):
                engine.record(op, time.perf_counter(), 1, kind="invalid_url", detail=target.detail)
                continue
            try:
                host, port, payload = engine.requests.get(target)
            except (Unsupported, ValueError) as exc:
                engine.record(op, time.perf_counter(), 1, kind="invalid_url", detail=str(exc))
                continue
            self.op, self.payload = op, payload
            if op.due is not None and op.due > time.perf_counter():
                engine.loop.call_at(engine.loop_time(op.due), self.send, host, port)
            else:
                self.send(host, port)
            return

    def send(self, host: str, port: int, retry: bool = False) -> None:
        """Send the current operation; a retry keeps its start, so latency spans every attempt."""
        if retry:
            self.attempts += 1
        else:
            self.attempts, self.started = 1, time.perf_counter()
        self.in_flight = True
        wire = self.wire
        if wire is not None and not wire.broken and self.origin == (host, port):
            wire.transport.write(self.payload)
            return
        if wire is not None:
            wire.close()
        self.wire, self.origin, self.connecting = None, (host, port), True
        self.engine.loop.create_task(self._connect(host, port))

    async def _connect(self, host: str, port: int) -> None:
        loop = self.engine.loop
        try:
            _, wire = await loop.create_connection(lambda: Wire(self), host, port)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed connect is a counted error
            self.connecting = False
            if self.in_flight:
                self.failed(classify(exc), message(exc))
            return
        self.connecting = False
        if not self.in_flight:  # timed out (or stopped) while connecting
            wire.close()
            return
        self.wire = wire
        wire.transport.write(self.payload)

    def answered(self, status: int, size: int) -> None:
        if not self.in_flight:
            return
        if status >= 500 and self._retry():
            return
        self.in_flight = False
        self.engine.record(self.op, self.started, self.attempts, status, size)
        self.next()

    def failed(self, kind: str, detail: str) -> None:
        if not self.in_flight:
            return
        if self.wire is not None:
            self.wire.abort()
            self.wire = None
        if kind in RETRIABLE and self._retry():
            return
        self.in_flight = False
        self.engine.record(self.op, self.started, self.attempts, kind=kind, detail=detail)
        self.next()

    def _retry(self) -> bool:
        """Send the operation again after a backoff, if retries and time are left."""
        job = self.job
        if self.attempts > job.retries:
            return False
        pause = backoff_s(self.attempts)
        first = self.op.due if self.op.due is not None else self.started
        if time.perf_counter() + pause - first > job.timeout_s:
            return False
        self.in_flight = False
        host, port = self.origin
        self.engine.loop.call_later(pause, self.send, host, port, True)
        return True

    def check_timeout(self, now: float) -> None:
        if not self.in_flight:
            return
        elapsed = now - self.started
        if self.connecting and elapsed > self.job.connect_timeout_s:
            self.failed("connect_timeout", f"no connection within {self.job.connect_timeout_s:g}s")
        elif elapsed > self.job.timeout_s:
            self.failed("read_timeout", f"no full answer within {self.job.timeout_s:g}s")

    def finish(self) -> None:
        if self.wire is not None:
            self.wire.close()
        self.done = True
        self.engine.worker_done()


class Engine:
    """C Workers sharing one Work. Operations are counted in the engine's own Stats (one
    thread, so no lock per request) and handed to the recorder every tick."""

    def __init__(self, job, recorder: Recorder, loop: asyncio.AbstractEventLoop) -> None:
        self.job, self.recorder, self.loop = job, recorder, loop
        self.work = Work(job, recorder.stopping, recorder.epoch)
        self.stats = self._new_stats()
        self.requests = Requests(job)
        self.workers = [Worker(self) for _ in range(job.concurrency)]
        self._left = len(self.workers)
        self.finished = loop.create_future()
        # perf_counter() and the loop's clock differ by a constant: due times convert once.
        self._loop_offset = loop.time() - time.perf_counter()

    def loop_time(self, perf: float) -> float:
        return perf + self._loop_offset

    def _new_stats(self) -> Stats:
        return Stats(self.recorder.epoch, open_model=self.job.rate is not None)

    def record(self, op, started: float, attempts: int, status: int | None = None, size: int = 0,
               kind: str | None = None, detail: str | None = None) -> None:
        """Count one operation: an answer (``status``, ``size``) or a failure (``kind``, ``detail``).
        Latency runs from when it was due (open model) or started; service time from the send."""
        end = time.perf_counter()
        ok = kind is None and self.job.is_ok(status)
        if op.due is None:
            self.stats.record(int((end - started) * 1e6), ok, status, kind, size, None, attempts, detail)
        else:
            self.stats.record(int((end - min(op.due, started)) * 1e6), ok, status, kind, size,
                              int((end - started) * 1e6), attempts, detail)

    def hand_over(self) -> None:
        """Give what was counted since the last tick to the recorder (progress sees it)."""
        if self.stats.ops:
            self.recorder.merge(self.stats)
            self.stats = self._new_stats()

    def worker_done(self) -> None:
        self._left -= 1
        if self._left == 0 and not self.finished.done():
            self.finished.set_result(None)

    def tick(self) -> None:
        """Every TICK_S: time out what is overdue, hand the counts over."""
        now = time.perf_counter()
        for worker in self.workers:
            worker.check_timeout(now)
        self.hand_over()
        if not self.finished.done():
            self.loop.call_later(TICK_S, self.tick)

    def abandon(self) -> None:
        """After the grace period: drop operations still in flight, close every connection."""
        for worker in self.workers:
            worker.in_flight = False
            if worker.wire is not None:
                worker.wire.abort()
            if not worker.done:
                worker.done = True
                self.worker_done()

    async def run(self, grace_s: float) -> None:
        stopped = asyncio.Event()
        unregister = self.recorder.on_stop(lambda: self.loop.call_soon_threadsafe(stopped.set))
        try:
            for worker in self.workers:
                worker.next()
            self.loop.call_later(TICK_S, self.tick)
            stop_wait = asyncio.ensure_future(stopped.wait())
            await asyncio.wait({self.finished, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
            stop_wait.cancel()
            if not self.finished.done():
                await asyncio.wait({self.finished}, timeout=grace_s)
                self.abandon()
        finally:
            unregister()
            self.hand_over()


async def run_fast(job, recorder: Recorder) -> None:
    """Run the job with the fast engine on the running loop."""
    await Engine(job, recorder, asyncio.get_running_loop()).run(job.grace_s)


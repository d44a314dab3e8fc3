"""The fast engine (``--engine fast``): HTTP/1.1 keep-alive on asyncio protocols and httptools.

A client that costs more CPU per request than the server measures itself. aiohttp is
general and pays for it (a task, futures and several layers per request); this engine
does one thing: each worker owns a connection (a ``Channel``) and sends its next request
from inside the callback that parsed the last answer, with no coroutine, future or timer
per request. Requests for a URL are built once and cached. It speaks plain HTTP/1.1 (no
TLS) and does not follow redirects (a 3xx is counted by status); bodies with
Content-Length or chunked. Its deadlines, retries and Samples are the policy's, like
every engine's: the loop driver (``strategies.loop``) sweeps its operations every tick.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httptools

from .requests import USER_AGENT

URL_CACHE = 4096


class Unsupported(ValueError):
    """A URL the fast engine cannot fetch (https): counted as invalid_url, with this reason."""


class Requests:
    """Request bytes per URL, built once: (host, port, bytes)."""

    def __init__(self, fetch) -> None:
        self.method = fetch.method
        self._cache: dict[str, tuple[str, int, bytes]] = {}
        extra = "".join(f"{name}: {value}\r\n" for name, value in fetch.headers)
        body = fetch.body or b""
        length = f"Content-Length: {len(body)}\r\n" if body or fetch.method in ("POST", "PUT", "PATCH") else ""
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
        head = f"{self.method} {target} HTTP/1.1\r\nHost: {host}\r\n".encode("latin-1")
        return parts.hostname, port, head + self._tail


class Wire(asyncio.Protocol):
    """One TCP connection: parses answers and tells its worker how each attempt ended."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.worker = channel.worker
        self.head_request = channel.engine.head_request
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.size = 0
        self.headers_done = False
        self.broken = False

    def _mine(self) -> bool:
        """Whether this connection carries its worker's attempt now."""
        return self.channel.wire is self and self.worker.in_flight

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
        if self._mine():
            if exc is not None:
                self.worker.failed(exc)
            elif self.headers_done:
                self.worker.failed("truncated", "the connection closed before the body ended")
            else:
                self.worker.failed("reset", "the connection closed without an answer")

    # httptools callbacks
    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.headers_done = True
        if self.head_request:  # no body follows an answer to HEAD, whatever its headers say
            self._complete()

    def on_body(self, body: bytes) -> None:
        self.size += len(body)

    def on_message_complete(self) -> None:
        if not self.head_request:
            self._complete()

    def _complete(self) -> None:
        status, size, keep = self.status, self.size, self.parser.should_keep_alive()
        self.status = self.size = 0
        self.headers_done = False
        if self.head_request:
            self.parser = httptools.HttpResponseParser(self)
        if not keep:
            self.close()
        self.worker.answered(status, size)

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


class Channel:
    """One worker's connection: it sends each attempt on the open connection when it goes to
    the same origin, else connects first."""

    __slots__ = ("engine", "loop", "worker", "wire", "origin", "connecting", "payload")

    def __init__(self, engine: FastEngine, loop: asyncio.AbstractEventLoop, worker) -> None:
        self.engine, self.loop, self.worker = engine, loop, worker
        self.wire: Wire | None = None
        self.origin: tuple[str, int] | None = None
        self.connecting = False
        self.payload = b""

    def start(self, url: str, deadline_s: float) -> None:
        """Send one attempt; the answer or failure reaches the worker (the driver enforces
        ``deadline_s`` by its sweep). Raises ValueError (at once) for a URL this engine
        cannot fetch."""
        host, port, self.payload = self.engine.requests.get(url)
        wire = self.wire
        if wire is not None and not wire.broken and self.origin == (host, port):
            wire.transport.write(self.payload)
            return
        if wire is not None:
            wire.close()
        self.wire, self.origin, self.connecting = None, (host, port), True
        self.loop.create_task(self._connect(host, port))

    async def _connect(self, host: str, port: int) -> None:
        try:
            _, wire = await self.loop.create_connection(lambda: Wire(self), host, port)
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
        wire.transport.write(self.payload)

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
    style = "loop"

    def __init__(self, job) -> None:
        self.requests = Requests(job.fetch)
        self.head_request = job.fetch.method == "HEAD"

    def channel(self, loop: asyncio.AbstractEventLoop, worker) -> Channel:
        return Channel(self, loop, worker)

    @staticmethod
    def refuses(job) -> str | None:
        """Why this engine cannot run ``job`` (a usage error), or None."""
        fetch = job.fetch
        if fetch is None:
            return "--engine chooses how async fetches; it does not apply to read"
        if fetch.polite:
            return "--engine fast does not apply --per-host or --host-rate yet; use --engine aiohttp"
        if any(url.startswith("https:") for url in getattr(job.targets, "items", ())):
            return "--engine fast speaks plain http only (no TLS yet); use --engine aiohttp for https"
        return None

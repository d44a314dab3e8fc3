"""A misbehaving HTTP server for the conformance suite: raw bytes, one misbehaviour per path.

Every behaviour writes bytes by hand on a raw asyncio stream (no HTTP library on this
side), so each fault is exactly what its name says. ``GET /b/NAME`` selects behaviour
NAME; ``EXPECTED`` says what every engine must make of it: an HTTP status, or an error
kind. ``never-accepts`` is not a path but a second port whose listen backlog is full.

The server runs on its own event loop in a thread, on 127.0.0.1 and a free port, and
every behaviour ends by itself (the endless ones after at most ``MAX_S``).
"""

from __future__ import annotations

import asyncio
import collections
import socket
import struct
import threading
import zlib
from collections.abc import Awaitable, Callable

#: The longest any behaviour keeps a connection busy, whatever the client does.
MAX_S = 30.0
#: The timeout the suite runs with; "inside" and "beyond" are relative to it.
TIMEOUT_S = 1.0

OK_BODY = b"ok"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, str], Awaitable[bool]]
BEHAVIOURS: dict[str, Handler] = {}
#: What every engine must count for each behaviour: ("status", code) or ("error", kind).
EXPECTED: dict[str, tuple[str, object]] = {}
#: What each behaviour does, in words (for the README's table of error kinds).
WHAT: dict[str, str] = {}


def behaviour(name: str, expected: tuple[str, object], what: str):
    """Register a handler: it gets the connection and the request's path and returns
    whether the connection may carry another request."""
    def register(handler: Handler) -> Handler:
        BEHAVIOURS[name], EXPECTED[name], WHAT[name] = handler, expected, what
        return handler
    return register


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0) instead of an orderly FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _trickle(writer: asyncio.StreamWriter, data: bytes, over_s: float) -> None:
    pause = over_s / max(len(data), 1)
    for index in range(len(data)):
        if writer.is_closing():
            return
        writer.write(data[index:index + 1])
        await writer.drain()
        await asyncio.sleep(pause)


# --- resets and closes ----------------------------------------------------------------

@behaviour("reset-before", ("error", "reset"), "reads the request, then resets the connection")
async def reset_before(reader, writer, path):
    _reset(writer)
    return False


@behaviour("reset-inside", ("error", "reset"), "headers and part of the body, then a reset")
async def reset_inside(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)
    await writer.drain()
    _reset(writer)
    return False


@behaviour("reset-between", ("status", 200),
           "answers in full with keep-alive, then resets the idle connection before the next request")
async def reset_between(reader, writer, path):
    writer.write(OK)
    await writer.drain()
    await asyncio.sleep(0.01)
    _reset(writer)
    return False


@behaviour("keepalive-then-close", ("status", 200), "answers with keep-alive, then closes at once")
async def keepalive_then_close(reader, writer, path):
    writer.write(OK)
    await writer.drain()
    return False


@behaviour("keepalive-ignoring-close", ("status", 200),
           "answers and keeps the connection open, even when the request said Connection: close")
async def keepalive_ignoring_close(reader, writer, path):
    writer.write(OK)
    await writer.drain()
    return True


@behaviour("close-no-answer", ("error", "reset"), "reads the request and closes without answering")
async def close_no_answer(reader, writer, path):
    return False


# --- not HTTP, or not valid HTTP --------------------------------------------------------

@behaviour("garbage", ("error", "protocol"), "bytes that are not HTTP")
async def garbage(reader, writer, path):
    writer.write(b"SSH-2.0-this is not HTTP\r\n\r\n")
    return False


@behaviour("http09", ("error", "protocol"), "an HTTP/0.9 answer: a body with no status line")
async def http09(reader, writer, path):
    writer.write(b"<html><body>hello from 1991</body></html>\n")
    return False


@behaviour("bad-status-line", ("error", "protocol"), "a status line that is not one")
async def bad_status_line(reader, writer, path):
    writer.write(b"HTTP/1.1 abc Not A Number\r\nContent-Length: 2\r\n\r\nok")
    return False


@behaviour("status-999", ("status", 999), "status 999 (three digits: valid syntax, no meaning)")
async def status_999(reader, writer, path):
    writer.write(b"HTTP/1.1 999 Whatever\r\nContent-Length: 2\r\n\r\nok")
    return True


@behaviour("huge-header", ("error", "protocol"), "a header line of 1 MiB")
async def huge_header(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\r\nX-Huge: " + b"h" * (1 << 20) + b"\r\nContent-Length: 2\r\n\r\nok")
    await writer.drain()
    return False


@behaviour("many-headers", ("error", "protocol"), "20,000 header lines")
async def many_headers(reader, writer, path):
    lines = b"".join(b"X-H%d: v\r\n" % index for index in range(20_000))
    writer.write(b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 2\r\n\r\nok")
    await writer.drain()
    return False


@behaviour("duplicate-length", ("error", "protocol"), "two Content-Length headers that disagree")
async def duplicate_length(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nok")
    return False


@behaviour("negative-length", ("error", "protocol"), "Content-Length: -5")
async def negative_length(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nok")
    return False


@behaviour("bad-chunk-size", ("error", "protocol"), "a chunked body whose chunk size is not hexadecimal")
async def bad_chunk_size(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\nnope\r\n0\r\n\r\n")
    return False


@behaviour("negative-chunk", ("error", "protocol"), "a chunked body whose chunk size is -5")
async def negative_chunk(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n")
    return False


@behaviour("huge-chunk", ("error", "protocol"), "a chunk size of twenty hexadecimal F's (over 2^64)")
async def huge_chunk(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"F" * 20 + b"\r\nhello\r\n0\r\n\r\n")
    return False


@behaviour("cut-head", ("error", "truncated"), "a head cut mid-header ('Content-Le'), then a close")
async def cut_head(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Le")
    await writer.drain()
    return False


@behaviour("long-body", ("status", 200),
           "Content-Length: 5 and more bytes after the body, kept open: the answer is its first 5 bytes, "
           "and the connection is not used again")
async def long_body(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA BYTES THAT ARE NO ANSWER\r\n\r\n")
    await writer.drain()
    return True


@behaviour("bare-lf", ("status", 200), "lines ended by a bare LF instead of CRLF")
async def bare_lf(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok")
    return True


# --- interim answers --------------------------------------------------------------------

@behaviour("continue-then-200", ("status", 200), "100 Continue, then 200")
async def continue_then_200(reader, writer, path):
    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" + OK)
    return True


@behaviour("early-hints", ("status", 200), "103 Early Hints with a Link header, then 200")
async def early_hints(reader, writer, path):
    writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + OK)
    return True


@behaviour("lone-1xx", ("error", "reset"), "100 Continue, then a close: no final answer")
async def lone_1xx(reader, writer, path):
    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    await writer.drain()
    return False


# --- short, long and slow bodies ----------------------------------------------------------

@behaviour("short-body-close", ("error", "truncated"), "Content-Length 100, 10 bytes, then a close")
async def short_body_close(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
    return False


@behaviour("short-body-open", ("error", "read_timeout"), "Content-Length 100, 10 bytes, and the connection kept open")
async def short_body_open(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
    await writer.drain()
    await asyncio.sleep(MAX_S)
    return False


@behaviour("chunked-no-end", ("error", "truncated"), "a chunked body cut off before its last chunk, then a close")
async def chunked_no_end(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n")
    return False


@behaviour("endless-body", ("error", "read_timeout"), "a body that never ends")
async def endless_body(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")
    loop = asyncio.get_running_loop()
    end = loop.time() + MAX_S
    while loop.time() < end and not writer.is_closing():
        writer.write(b"e" * 1024)
        await writer.drain()
        await asyncio.sleep(0.01)
    return False


@behaviour("trickle-inside", ("status", 200), "the whole answer a byte at a time, within the timeout")
async def trickle_inside(reader, writer, path):
    await _trickle(writer, OK, TIMEOUT_S * 0.3)
    return True


@behaviour("trickle-beyond", ("error", "read_timeout"), "the whole answer a byte at a time, beyond the timeout")
async def trickle_beyond(reader, writer, path):
    body = b"y" * 200
    await _trickle(writer, b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n" + body, TIMEOUT_S * 6)
    return False


@behaviour("headers-trickle", ("error", "read_timeout"), "one header line every 0.2 s for 30 s")
async def headers_trickle(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\r\n")
    for index in range(int(MAX_S / 0.2)):
        await asyncio.sleep(0.2)
        if writer.is_closing():
            return False
        writer.write(b"X-Slow-%d: %d\r\n" % (index, index))
    writer.write(b"Content-Length: 2\r\n\r\nok")
    return False


@behaviour("chunk-short-end", ("error", "protocol"),
           "a chunk shorter than its size line, then the last chunk (read as the chunk's data, and then no valid "
           "size line), the connection kept open")
async def chunk_short_end(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab\r\n0\r\n\r\n")
    await writer.drain()
    await asyncio.sleep(MAX_S)
    return False


@behaviour("chunk-short-open", ("error", "read_timeout"),
           "a chunk shorter than its size line, and the connection kept open")
async def chunk_short_open(reader, writer, path):
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nhello\r\n")
    await writer.drain()
    await asyncio.sleep(MAX_S)
    return False


# --- encoded bodies ---------------------------------------------------------------------------

#: What --max-decoded the suite runs with: a bomb past it is quick to find.
MAX_DECODED = 1 << 20


def _encoded(body: bytes, encoding: bytes, extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: " + encoding + extra +
            b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


@behaviour("gzip", ("status", 200), "a gzip-encoded answer (decoded, and counted both ways)")
async def gzip_body(reader, writer, path):
    writer.write(_encoded(_gzip(b"<p>ok</p>" * 100), b"gzip"))
    return True


@behaviour("deflate-raw", ("status", 200), "Content-Encoding: deflate, as raw deflate with no zlib wrapper")
async def deflate_raw(reader, writer, path):
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    writer.write(_encoded(packer.compress(b"<p>ok</p>" * 100) + packer.flush(), b"deflate"))
    return True


@behaviour("encoding-unknown", ("status", 200),
           "Content-Encoding: x-weird (counted as it came, and as an encoding not decoded)")
async def encoding_unknown(reader, writer, path):
    writer.write(_encoded(b"<p>weird</p>", b"x-weird"))
    return True


@behaviour("gzip-corrupt", ("error", "protocol"), "Content-Encoding: gzip, and a body that is not gzip")
async def gzip_corrupt(reader, writer, path):
    writer.write(_encoded(b"this is not gzip at all", b"gzip"))
    return True


@behaviour("gzip-cut", ("error", "protocol"), "a gzip body whose stream ends early (its Content-Length kept)")
async def gzip_cut(reader, writer, path):
    writer.write(_encoded(_gzip(bytes(range(256)) * 64)[:200], b"gzip"))
    return True


@behaviour("gzip-bomb", ("error", "too_large"),
           "a gzip body of 8 KiB that decodes to 8 MiB, past --max-decoded (a compression bomb)")
async def gzip_bomb(reader, writer, path):
    writer.write(_encoded(_BOMB, b"gzip"))
    return True


_BOMB = _gzip(bytes(8 << 20))


# --- redirects ------------------------------------------------------------------------------

@behaviour("redirect-loop", ("error", "too_many_redirects"), "a redirect to itself, forever")
async def redirect_loop(reader, writer, path):
    writer.write(b"HTTP/1.1 302 Found\r\nLocation: /b/redirect-loop\r\nContent-Length: 0\r\n\r\n")
    return True


@behaviour("redirect-scheme", ("error", "invalid_url"), "a redirect to ftp://")
async def redirect_scheme(reader, writer, path):
    writer.write(b"HTTP/1.1 302 Found\r\nLocation: ftp://127.0.0.1/file\r\nContent-Length: 0\r\n\r\n")
    return True


#: Where ``to-other`` sends its redirect: the same server on another loopback address (another
#: origin), set when the server starts.
OTHER = {"origin": ""}


@behaviour("to-other", ("status", 200), "a redirect to another origin (127.0.0.2), which answers 200")
async def to_other(reader, writer, path):
    writer.write(b"HTTP/1.1 302 Found\r\nLocation: %s/b/landed\r\nContent-Length: 0\r\n\r\n"
                 % OTHER["origin"].encode())
    return True


@behaviour("to-self", ("status", 200), "a redirect to the same origin, which answers 200")
async def to_self(reader, writer, path):
    writer.write(b"HTTP/1.1 302 Found\r\nLocation: /b/landed\r\nContent-Length: 0\r\n\r\n")
    return True


@behaviour("landed", ("status", 200), "where the redirects land: 200 (the server keeps each request's head)")
async def landed(reader, writer, path):
    writer.write(OK)
    return True


async def slow_500(reader, writer, path):
    """500, after 0.6 of the timeout: a retry is made, and the deadline falls inside it."""
    await asyncio.sleep(TIMEOUT_S * 0.6)
    writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
    return True


# Not a row of the suite (with no retries it is a plain 500): the retry test's server.
BEHAVIOURS["slow-500"] = slow_500


# Two behaviours live on ports of their own: nothing is read there, or nothing accepted.
def _redirect_chain(hops: int) -> Handler:
    async def chain(reader, writer, path):
        parts = path.split("/")  # /b/redirect-N/LEFT after the first hop
        left = int(parts[3]) if len(parts) > 3 else hops
        if left == 0:
            writer.write(OK)
        else:
            writer.write(b"HTTP/1.1 302 Found\r\nLocation: /b/redirect-%d/%d\r\nContent-Length: 0\r\n\r\n"
                         % (hops, left - 1))
        return True
    return chain


for _hops, _expected in ((10, ("status", 200)), (11, ("error", "too_many_redirects"))):
    behaviour(f"redirect-{_hops}", _expected, f"{_hops} redirects, then 200 (at most 10 are followed)")(
        _redirect_chain(_hops))


WHAT["never-reads"] = "accepts the connection and never reads the request or answers"
EXPECTED["never-reads"] = ("error", "read_timeout")
WHAT["never-accepts"] = "a listen backlog that is full: the connection is never accepted"
EXPECTED["never-accepts"] = ("error", "connect_timeout")
WHAT["tls-stall"] = "https to a server that accepts and never answers the TLS handshake (it is part of connecting)"
EXPECTED["tls-stall"] = ("error", "connect_timeout")


class ConformanceServer:
    """The misbehaving server on a free loopback port, in a thread of its own.

    ``url(name)`` is the URL of behaviour ``name`` (``never-accepts`` included).
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="conformance-server", daemon=True)
        self.port = self.never_reads_port = 0
        self._backlog: list[socket.socket] = []
        #: How many connections asked for each behaviour (counted on the server's side).
        self.connections: collections.Counter[str] = collections.Counter()
        #: The heads of the requests that landed (``landed``), as (the address that took it, head).
        self.landed: list[tuple[str, bytes]] = []

    def url(self, name: str) -> str:
        if name == "never-accepts":
            return f"http://127.0.0.1:{self._backlog[0].getsockname()[1]}/b/never-accepts"
        if name == "never-reads":
            return f"http://127.0.0.1:{self.never_reads_port}/b/never-reads"
        if name == "tls-stall":
            return f"https://127.0.0.1:{self.never_reads_port}/b/tls-stall"
        return f"http://127.0.0.1:{self.port}/b/{name}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        asked: set[str] = set()
        try:
            keep = True
            while keep:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                path = head.split(b" ", 2)[1].decode("latin-1")
                parts = path.split("/")
                name = parts[2] if len(parts) > 2 else ""
                handler = BEHAVIOURS.get(name)
                if name == "landed":
                    self.landed.append((writer.get_extra_info("sockname")[0], head))
                if name not in asked:
                    asked.add(name)
                    self.connections[name] += 1
                if handler is None:
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    continue
                keep = await handler(reader, writer, path)
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass  # the client went, or the server is shutting down
        finally:
            if not writer.transport.is_closing():
                writer.close()

    async def _never_reads(self, reader, writer) -> None:
        try:
            await asyncio.sleep(MAX_S)
        except asyncio.CancelledError:
            pass  # the server is shutting down
        writer.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024))
        self.port = server.sockets[0].getsockname()[1]
        other = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.2", 0))
        OTHER["origin"] = f"http://127.0.0.2:{other.sockets[0].getsockname()[1]}"
        quiet = self.loop.run_until_complete(asyncio.start_server(self._never_reads, "127.0.0.1", 0))
        self.never_reads_port = quiet.sockets[0].getsockname()[1]
        self._fill_backlog()
        self.ready.set()
        self.loop.run_forever()
        server.close()
        other.close()
        quiet.close()
        self.loop.run_until_complete(server.wait_closed())
        self.loop.close()

    def _fill_backlog(self) -> None:
        """A listening socket that never accepts, with its accept queue full: the kernel drops
        further SYNs, so a connect times out."""
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        self._backlog.append(listener)
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            try:
                filler.connect(listener.getsockname())
            except BlockingIOError:
                pass
            self._backlog.append(filler)

    def __enter__(self) -> ConformanceServer:
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("the conformance server did not start")
        return self

    async def _shutdown(self) -> None:
        """Cancel every behaviour still running (the endless ones) and wait for them."""
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        for sock in self._backlog:
            sock.close()

"""Fault endpoints: targets that misbehave on purpose, deterministically.

A load tool must keep measuring when its target resets connections, truncates bodies,
hangs, dribbles its headers, breaks chunked encoding, fails some of the time, or does
not speak HTTP at all. Each of these answers one way every time (``flaky`` by a seeded
hash of ``i``), so tests can say exactly which error kind each strategy must count.
Handlers that break HTTP write to the connection themselves and close it.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import socket
import struct
import time
import zlib

from aiohttp import web

from .args import SEED, float_arg, int_arg

MAX_HANGS = 1000
MAX_HANG_S = 300.0
MAX_STALL_MS = 5000
MAX_SLOW_HEADER_S = 60.0
FAULT_BODY = 10_000

HANGS = web.AppKey("hangs", list)
COUNTER = web.AppKey("counter", itertools.count)


def _reset(request: web.Request) -> None:
    """Close with a TCP RST (SO_LINGER 0) instead of an orderly FIN."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _raw(request: web.Request, data: bytes) -> web.Response:
    """Write ``data`` as the whole answer and close; aiohttp's own response goes nowhere."""
    if request.transport is not None:
        request.transport.write(data)
        request.transport.close()
    return web.Response()


async def _partial_body(request: web.Request) -> None:
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    response.content_length = FAULT_BODY
    await response.prepare(request)
    await response.write(b"x" * (FAULT_BODY // 10))
    await response.drain()


async def reset(request: web.Request) -> web.Response:
    """Headers and a tenth of the body, then a connection reset."""
    await _partial_body(request)
    _reset(request)
    return web.Response()


async def truncate(request: web.Request) -> web.Response:
    """A Content-Length of 10000, a tenth of it sent, then an orderly close."""
    await _partial_body(request)
    request.transport.close()
    return web.Response()


async def hang(request: web.Request) -> web.Response:
    """Accept and never answer (until the client gives up, or 300 s pass)."""
    hangs = request.app[HANGS]
    if len(hangs) >= MAX_HANGS:
        raise web.HTTPServiceUnavailable(text=f"at most {MAX_HANGS} hanging requests at once\n")
    hangs.append(request)
    try:
        await asyncio.sleep(MAX_HANG_S)
    finally:
        hangs.remove(request)
    raise web.HTTPGatewayTimeout(text="hung for the longest allowed\n")


async def slow_headers(request: web.Request) -> web.Response:
    """The status line at once, then one header line every ``interval_ms`` (default 2 s)."""
    interval_s = float_arg(request, "interval_ms", 2000.0, MAX_SLOW_HEADER_S * 1000) / 1000
    lines = int_arg(request, "lines", 100) if "lines" in request.query else 3
    if interval_s * lines > MAX_SLOW_HEADER_S:
        raise web.HTTPBadRequest(text=f"interval_ms × lines must be at most {MAX_SLOW_HEADER_S:g}s\n")
    transport = request.transport
    transport.write(b"HTTP/1.1 200 OK\r\n")
    for index in range(lines):
        await asyncio.sleep(interval_s)
        if transport.is_closing():
            return web.Response()
        transport.write(f"X-Slow-{index}: {index}\r\n".encode())
    return _raw(request, b"Content-Length: 2\r\nConnection: close\r\n\r\nok")


async def bad_chunked(request: web.Request) -> web.Response:
    """A chunked body whose second chunk size is not hexadecimal."""
    return _raw(request, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
                         b"5\r\nhello\r\nZZ\r\nnot a chunk\r\n0\r\n\r\n")


async def garbage(request: web.Request) -> web.Response:
    """Bytes that are not HTTP at all."""
    return _raw(request, b"SSH-2.0-this is not HTTP\r\n\r\n")


def flaky_fails(seed: int, index: int, share: float) -> str | None:
    """Whether request ``index`` of a flaky endpoint fails, and how ("500" or "reset")."""
    digest = hashlib.blake2b(f"flaky:{seed}:{index}".encode(), digest_size=8).digest()
    draw = int.from_bytes(digest, "little") / 2**64
    if draw >= share:
        return None
    return "500" if digest[0] & 1 else "reset"


async def flaky(request: web.Request) -> web.Response:
    """Fails a seeded share ``p`` of requests (default 0.2), half with 500, half with a reset.

    ``i`` names the request (``/fault/flaky?p=0.2&i={i}`` gives each operation its own
    fate); without it, requests are numbered in the order they arrive.
    """
    share = float_arg(request, "p", 0.2, 1.0)
    index = int_arg(request, "i", 10**12) if "i" in request.query else next(request.app[COUNTER])
    fate = flaky_fails(request.app[SEED], index, share)
    if fate == "500":
        raise web.HTTPInternalServerError(text="flaky: failed on purpose\n")
    if fate == "reset":
        _reset(request)
        return web.Response()
    return web.Response(text="flaky: fine this time\n")


async def stall(request: web.Request) -> web.Response:
    """Block the whole server for ``ms`` milliseconds (default 300): every request waits."""
    stall_ms = int_arg(request, "ms", MAX_STALL_MS) if "ms" in request.query else 300
    time.sleep(stall_ms / 1000)  # blocking on purpose: a stalled server, not a slow request
    return web.Response(text=f"stalled the server for {stall_ms} ms\n")


#: One gzip member of 1 MiB of spaces (about 1 KiB): a bomb is as many as it has MiB decoded,
#: gzip members one after another being one body, so it is made at once.
_MIB_OF_SPACES = zlib.compressobj(9, zlib.DEFLATED, 31)
_MIB_OF_SPACES = _MIB_OF_SPACES.compress(b" " * (1 << 20)) + _MIB_OF_SPACES.flush()
#: The largest bomb served: 10 GiB decoded (10 MB on the wire).
MAX_BOMB_MIB = 10 * 1024


async def gzip_bomb(request: web.Request) -> web.StreamResponse:
    """``/fault/gzip-bomb?mib=10240``: a gzip-encoded answer of about ``mib`` KiB that decodes to
    ``mib`` MiB (10 MB -> 10 GB by default): a client must not hold it."""
    mib = int_arg(request, "mib", MAX_BOMB_MIB, low=1) if "mib" in request.query else MAX_BOMB_MIB
    response = web.StreamResponse(headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})
    response.content_length = mib * len(_MIB_OF_SPACES)
    await response.prepare(request)
    for _ in range(mib):
        await response.write(_MIB_OF_SPACES)
    return response


def add_fault_routes(app: web.Application) -> None:
    app[HANGS], app[COUNTER] = [], itertools.count()
    for path, handler in (("reset", reset), ("truncate", truncate), ("hang", hang),
                          ("slow-headers", slow_headers), ("bad-chunked", bad_chunked), ("garbage", garbage),
                          ("flaky", flaky), ("stall", stall), ("gzip-bomb", gzip_bomb)):
        app.router.add_get(f"/fault/{path}", handler)

"""The fixture server over HTTP/2 and HTTP/3: its core endpoints as an ASGI app for hypercorn.

aiohttp serves HTTP/1.1 only, so ``loadtool serve --http 2`` (h2 over TLS, h2c over
plain TCP) and ``--http 3`` (QUIC) run this app on hypercorn instead: the same answers
for /health, /bytes/{n}, /delay/{ms}, /status/{code}, /redirect/{n}, /page/{i} and
/site/{h}/page/{i}, from the same seeded content. The faults stay HTTP/1.1's: they
break HTTP/1.1 on purpose, byte by byte.
"""

from __future__ import annotations

import asyncio
import os
import re

from .profiles import PROFILES, page
from .app import CHUNK, MAX_BYTES, MAX_DELAY_MS, MAX_REDIRECTS, PATTERN, page_html

_ROUTES = [
    (re.compile(r"/health"), "health"),
    (re.compile(r"/bytes/(\d+)"), "bytes"),
    (re.compile(r"/delay/(\d+)"), "delay"),
    (re.compile(r"/status/(\d+)"), "status"),
    (re.compile(r"/redirect/(\d+)"), "redirect"),
    (re.compile(r"(?:/site/[^/]+)?/page/(\d+)"), "page"),
]


def make_app(seed: int = 0, profile: str = "web"):
    """The ASGI app of the fixture's core endpoints, for ``seed`` and ``profile``."""
    if profile not in PROFILES:
        raise ValueError(f"no profile {profile!r}; there are {', '.join(PROFILES)}")

    async def answer(send, status: int, body: bytes, content_type: str = "text/plain", headers=()) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
                                *headers]})
        await send({"type": "http.response.body", "body": body})

    async def app(scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        path = scope["path"]
        for pattern, name in _ROUTES:
            match = pattern.fullmatch(path)
            if match:
                number = int(match.group(1)) if match.groups() else 0
                await _endpoint(name, number, seed, profile, answer, send)
                return
        await answer(send, 404, b"no such endpoint\n")

    return app


async def _endpoint(name: str, number: int, seed: int, profile: str, answer, send) -> None:
    if name == "health":
        await answer(send, 200, b"ok\n", headers=[(b"x-pid", str(os.getpid()).encode())])
    elif name == "bytes":
        if number > MAX_BYTES:
            await answer(send, 400, f"n must be at most {MAX_BYTES}\n".encode())
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/octet-stream"), (b"content-length", str(number).encode())]})
        left = number
        while left > 0:
            piece = PATTERN[:min(left, CHUNK)]
            left -= len(piece)
            await send({"type": "http.response.body", "body": piece, "more_body": left > 0})
        if number == 0:
            await send({"type": "http.response.body", "body": b""})
    elif name == "delay":
        await asyncio.sleep(min(number, MAX_DELAY_MS) / 1000)
        await answer(send, 200, f'{{"delay_ms": {number}}}\n'.encode(), "application/json")
    elif name == "status":
        await answer(send, number if 200 <= number <= 599 else 400, f"status {number}\n".encode())
    elif name == "redirect":
        if number == 0:
            await answer(send, 200, b"redirects done\n")
        else:
            await answer(send, 302, b"", headers=[(b"location", f"/redirect/{min(number, MAX_REDIRECTS) - 1}".encode())])
    else:
        spec = page(seed, number, profile)
        await asyncio.sleep(spec.latency_s)
        await answer(send, 200, page_html(seed, number, spec.size_bytes), "text/html")

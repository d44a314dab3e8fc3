"""The fixture server's routes: httpbin-like endpoints and a seeded scraping-like site.

Every answer is a pure function of the request and the server's seed, so a run is
repeatable. Sizes, delays and counts are capped; a request beyond a cap gets a 400
saying which cap, so a typo cannot exhaust the server.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import zlib
from pathlib import Path

from aiohttp import web

from .profiles import PROFILES, page, prose
from .limits import add_limits
from .args import BEHAVIOUR, FILES, PROFILE, SEED, Behaviour, float_arg, int_arg
from .api import add_api_routes
from .faults import add_fault_routes
from .hostile import add_hostile_routes
from .web import add_web_routes

MAX_BYTES = 64 * 1024 * 1024
MAX_DELAY_MS = 60_000
MAX_STREAM_LINES = 100_000
MAX_REDIRECTS = 100
MAX_DRIP_S = 60.0
CHUNK = 64 * 1024
#: One block of deterministic bytes that every body is cut from.
PATTERN = hashlib.shake_256(b"loadtool fixture").digest(CHUNK)
_FILLER = prose()

async def _write_body(response: web.StreamResponse, size: int) -> None:
    while size > 0:
        piece = PATTERN[:min(size, CHUNK)]
        await response.write(piece)
        size -= len(piece)


#: What the root lists, as httpbin's does: each endpoint and what it answers.
ENDPOINTS = {
    "/health": "ok",
    "/bytes/{n}": "n deterministic bytes",
    "/delay/{ms}": "an answer after ms milliseconds",
    "/status/{code}": "that status",
    "/echo": "the request, as JSON",
    "/stream/{n}": "n lines, streamed",
    "/drip?duration=S&numbytes=N": "N bytes dripped over S seconds",
    "/redirect/{n}": "n redirects, then 200",
    "/page/{i}": "a page of the seeded site (its profile's latency and size)",
    "/site/{h}/page/{i}": "page i of host h",
    "/web/{h}/page/{i}": "the fixture web: pages linking across hosts, robots.txt, sitemaps",
    "/hostile/{h}/page/{i}": "the hostile web: hosts that behave as the web's worst do",
    "/fault/{reset,truncate,hang,slow-headers,bad-chunked,garbage,flaky,stall}": "misbehaviours",
    "/api/login, /api/items, /api/items/{id}": "an API: log in, cursor pages, items (see /api/served)",
    "/files/PATH": "files under serve --files DIR",
}


async def index(request: web.Request) -> web.Response:
    """The root: the endpoints, as httpbin's root lists its own."""
    return web.json_response({"loadtool fixture server": ENDPOINTS}, dumps=lambda data: json.dumps(data, indent=1))


async def health(request: web.Request) -> web.Response:
    # X-Pid names the server process that answered (there are several with --workers).
    return web.Response(text="ok\n", headers={"X-Pid": str(os.getpid())})


async def bytes_(request: web.Request) -> web.StreamResponse:
    size = int_arg(request, "n", MAX_BYTES)
    if size <= CHUNK:
        return web.Response(body=PATTERN[:size], content_type="application/octet-stream")
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    response.content_length = size
    await response.prepare(request)
    await _write_body(response, size)
    return response


async def delay(request: web.Request) -> web.Response:
    delay_ms = int_arg(request, "ms", MAX_DELAY_MS)
    await asyncio.sleep(delay_ms / 1000)
    return web.Response(text=f'{{"delay_ms": {delay_ms}}}\n', content_type="application/json")


async def echo(request: web.Request) -> web.Response:
    """The request as the server saw it, as JSON: method, path, headers, body (UTF-8 text,
    undecodable bytes replaced) and its size — what request files and checks are tried on."""
    body = await request.read()
    headers = {name: ", ".join(request.headers.getall(name)) for name in dict.fromkeys(request.headers)}
    seen = {"method": request.method, "path": request.path_qs, "headers": headers,
            "body": body.decode("utf-8", "replace"), "body_bytes": len(body)}
    return web.json_response(seen)


async def status(request: web.Request) -> web.Response:
    code = int_arg(request, "code", 599, low=200)
    if code in (204, 304):
        return web.Response(status=code)
    return web.Response(status=code, text=f"status {code}\n")


async def stream(request: web.Request) -> web.StreamResponse:
    lines = int_arg(request, "n", MAX_STREAM_LINES)
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    for index in range(lines):
        await response.write(json.dumps({"id": index, "path": request.path}).encode() + b"\n")
    await response.write_eof()
    return response


async def drip(request: web.Request) -> web.StreamResponse:
    """``numbytes`` bytes spread evenly over ``duration`` seconds, as httpbin's /drip."""
    duration_s = float_arg(request, "duration", 2.0, MAX_DRIP_S)
    size = int_arg(request, "numbytes", MAX_BYTES) if "numbytes" in request.query else 10
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    response.content_length = size
    await response.prepare(request)
    pause = duration_s / size if size else 0.0
    for _ in range(size):
        await asyncio.sleep(pause)
        await response.write(b"*")
    return response


async def redirect(request: web.Request) -> web.Response:
    hops = int_arg(request, "n", MAX_REDIRECTS)
    if hops == 0:
        return web.Response(text="redirects done\n")
    raise web.HTTPFound(f"/redirect/{hops - 1}")


def page_html(seed: int, index: int, size: int) -> bytes:
    """A page of exactly ``size`` bytes (at least its head) that links to other pages."""
    links = "".join(f'<li><a href="/page/{(index * 7 + k * 131 + seed) % 1_000_000}">page</a></li>'
                    for k in range(1, 6))
    head = f"<!doctype html><html><head><title>Page {index}</title></head><body><ul>{links}</ul><p>".encode()
    tail = b"</p></body></html>\n"
    room = max(size - len(head) - len(tail), 0)
    filler = (_FILLER * (room // len(_FILLER) + 1))[:room]
    return head + filler + tail


async def page_(request: web.Request) -> web.Response:
    index = int_arg(request, "i", 10**12)
    seed, profile = request.app[SEED], request.query.get("profile", request.app[PROFILE])
    if profile not in PROFILES:
        raise web.HTTPBadRequest(text=f"no profile {profile!r}; there are {', '.join(PROFILES)}\n")
    spec = page(seed, index, profile)
    await asyncio.sleep(spec.latency_s)
    return web.Response(body=page_html(seed, index, spec.size_bytes), content_type="text/html")


async def files(request: web.Request) -> web.StreamResponse:
    """A file under the served directory; anything outside it (``..``, symlinks out) is a 404."""
    root = request.app[FILES]
    if root is None:
        raise web.HTTPNotFound(text="no directory is served here (loadtool serve --files DIR)\n")
    wanted = (root / request.match_info["path"]).resolve()
    if not wanted.is_relative_to(root) or not wanted.is_file():
        raise web.HTTPNotFound(text="no such file\n")
    return web.FileResponse(wanted)


#: Content types compressed when the client asks (nginx's gzip_types, more or less).
COMPRESSED_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "image/svg")


def _codings(request: web.Request) -> tuple[str, ...]:
    """The codings the request accepts, of those the server makes (a q of 0 refuses one)."""
    accepted = []
    for part in request.headers.get("Accept-Encoding", "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding in ("gzip", "deflate") and params.replace(" ", "") not in ("q=0", "q=0.0"):
            accepted.append(coding)
    return tuple(accepted)


#: Bodies shorter than this go out as they are, compression or not.
MIN_COMPRESSED = 256


async def compress_answer(request: web.Request, response: web.StreamResponse) -> None:
    """Compress a whole answer (a Response with a body) when the client asks and its type is
    text, before its head goes out: gzip if accepted, else deflate (zlib-wrapped), at level 1
    — deterministic bytes (no timestamp), and cheap enough not to make the server the limit."""
    if not request.app[BEHAVIOUR].compress or not isinstance(response, web.Response):
        return
    body = response.body
    # As real servers do (nginx's gzip_min_length): a body this small is not worth compressing.
    if not isinstance(body, bytes) or len(body) < MIN_COMPRESSED or response.headers.get("Content-Encoding"):
        return
    if not response.content_type.lower().startswith(COMPRESSED_TYPES):
        return
    codings = _codings(request)
    if not codings:
        return
    wbits = 31 if "gzip" in codings else 15  # 31: a gzip wrapper; 15: zlib (HTTP's "deflate")
    packer = zlib.compressobj(1, zlib.DEFLATED, wbits)
    response.body = packed = packer.compress(body) + packer.flush()
    response.headers["Content-Length"] = str(len(packed))
    response.headers["Content-Encoding"] = "gzip" if wbits == 31 else "deflate"
    response.headers["Vary"] = "Accept-Encoding"


def build_app(seed: int = 0, profile: str = "web", files_root: str | None = None,
              behaviour: Behaviour = Behaviour()) -> web.Application:
    """The fixture server's application; ``seed`` and ``profile`` shape ``/page/{i}``,
    ``files_root`` is served under ``/files/``, and ``behaviour`` says how real it is."""
    if profile not in PROFILES:
        raise ValueError(f"no profile {profile!r}; there are {', '.join(PROFILES)}")
    app = web.Application()
    app[SEED], app[PROFILE], app[BEHAVIOUR] = seed, profile, behaviour
    app.on_response_prepare.append(compress_answer)
    app[FILES] = None if files_root is None else Path(files_root).resolve()
    app.router.add_get("/", index)
    app.router.add_get("/health", health)
    app.router.add_get("/bytes/{n}", bytes_)
    app.router.add_route("*", "/delay/{ms}", delay)
    app.router.add_route("*", "/status/{code}", status)
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/stream/{n}", stream)
    app.router.add_get("/drip", drip)
    app.router.add_get("/redirect/{n}", redirect)
    app.router.add_get("/page/{i}", page_)
    app.router.add_get("/site/{host}/page/{i}", page_)
    app.router.add_get("/files/{path:.*}", files)
    add_fault_routes(app)
    add_web_routes(app)
    add_hostile_routes(app)
    add_api_routes(app)
    add_limits(app)
    return app

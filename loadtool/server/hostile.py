"""The hostile web: hosts that behave as the web's worst do, for crawls to be tested against.

Like ``/web/{h}/``, ``/hostile/{h}/`` stands for host h. Each host misbehaves one way, and
what a crawl must do with it is written beside it (``HOSTS``); a crawl from
``/hostile/0/page/0`` (with --sitemaps) meets them all. Every answer is compressed when
asked (the server's Behaviour), and with ``count=1`` in the query the server counts each
path (``/web/hits``), so a test can say exactly what was fetched.
"""

from __future__ import annotations

import asyncio
import zlib
from html import escape

from aiohttp import web

from .web import count_hit, counted_page

#: What each host does, and what a crawl must make of it.
HOSTS = {
    0: "the seed: links to every other host",
    1: "robots.txt answers 500: crawl nothing there (RFC 9309 2.3.1.4)",
    2: "robots.txt answers 503: crawl nothing there",
    3: "robots.txt never answers: unreachable, crawl nothing there",
    4: "robots.txt is a 301 to the real one, which disallows /private/: follow it, obey it",
    5: "robots.txt is a 404 (crawl freely); pages say Content-Type: TEXT/HTML (a MIME type's case means nothing)",
    6: "robots.txt names a sitemap index that lists itself and a gzipped sitemap: read each once",
    7: "robots.txt names a sitemap bomb: 1 MB of gzip that inflates to 1 GB of XML",
    8: "a trap: each page links to one whose URL is 600 characters longer",
}
#: Pages each host has (leaves, but for the links written below).
PAGES = 3
#: The trap's step, in characters a level.
TRAP_STEP = 600


def _page(h: int, i: int, query: str, links: list[str]) -> web.Response:
    anchors = "".join(f'<li><a href="{escape(link + query)}">{escape(link)}</a></li>' for link in links)
    body = f"<!doctype html><html><head><title>Hostile {h}, page {i}</title></head><body><ul>{anchors}</ul></body></html>"
    response = web.Response(text=body, content_type="text/html")
    if h == 5:
        response.headers["Content-Type"] = "TEXT/HTML; charset=UTF-8"
    return response


def _query(request: web.Request) -> str:
    return f"?{request.query_string}" if request.query_string else ""


def _host(request: web.Request) -> int:
    text = request.match_info["h"]
    if not text.isdigit() or int(text) not in HOSTS:
        raise web.HTTPNotFound(text="no such host\n")
    return int(text)


@counted_page
async def page(request: web.Request) -> web.Response:
    h, i = _host(request), int(request.match_info["i"]) if request.match_info["i"].isdigit() else -1
    if not 0 <= i < PAGES:
        raise web.HTTPNotFound(text="no such page\n")
    links = []
    if h == 0 and i == 0:
        links = [f"/hostile/{other}/page/0" for other in HOSTS if other]
    elif h == 4 and i == 0:
        links = ["/hostile/4/private/0", "/hostile/4/page/1"]
    elif h == 5 and i == 0:
        links = ["/hostile/5/page/1"]
    elif h == 8 and i == 0:
        links = ["/hostile/8/trap/" + "x" * TRAP_STEP]
    return _page(h, i, _query(request), links)


@counted_page
async def private(request: web.Request) -> web.Response:
    return web.Response(text="<!doctype html><p>robots.txt disallows this page</p>", content_type="text/html")


@counted_page
async def trap(request: web.Request) -> web.Response:
    pad = request.match_info["pad"]
    return _page(8, len(pad) // TRAP_STEP, _query(request), [f"/hostile/8/trap/{pad}{'x' * TRAP_STEP}"])


async def robots(request: web.Request) -> web.Response:
    count_hit(request)
    h, query = _host(request), _query(request)
    if h in (1, 2):
        return web.Response(status=500 if h == 1 else 503, text="try again later\n")
    if h == 3:
        await asyncio.sleep(3600)  # until the client gives up (the handler is cancelled then)
    if h == 4:
        raise web.HTTPMovedPermanently(f"/hostile/4/robots-real.txt{query}")
    if h == 5:
        raise web.HTTPNotFound(text="no robots.txt here\n")
    sitemap = {6: "sitemap-index.xml", 7: "bomb.xml.gz"}.get(h)
    lines = "User-agent: *\nAllow: /\n" + (f"Sitemap: {request.scheme}://{request.host}/hostile/{h}/{sitemap}{query}\n"
                                           if sitemap else "")
    return web.Response(text=lines)


async def robots_real(request: web.Request) -> web.Response:
    count_hit(request)
    return web.Response(text="User-agent: *\nDisallow: /hostile/4/private/\n")


def _urlset(request: web.Request, h: int, pages: range) -> bytes:
    base, query = f"{request.scheme}://{request.host}/hostile/{h}", _query(request)
    urls = "".join(f"<url><loc>{escape(f'{base}/page/{i}{query}')}</loc></url>" for i in pages)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}'.encode()


async def sitemap_index(request: web.Request) -> web.Response:
    count_hit(request)
    base, query = f"{request.scheme}://{request.host}/hostile/6", _query(request)
    entries = "".join(f"<sitemap><loc>{escape(f'{base}/{name}{query}')}</loc></sitemap>"
                      for name in ("sitemap-index.xml", "sitemap.xml.gz", "sitemap-index.xml"))
    return web.Response(text=f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                             f"{entries}</sitemapindex>", content_type="application/xml")


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


async def sitemap_gz(request: web.Request) -> web.Response:
    count_hit(request)
    return web.Response(body=_gzip(_urlset(request, 6, range(1, PAGES)) + b"</urlset>"),
                        content_type="application/gzip")


#: One gzip member of 1 MiB of spaces (about 1 KiB compressed): a bomb is a thousand of them,
#: gzip members one after another being one file, so it is made at once.
_SPACES = _gzip(b" " * (1 << 20))


async def bomb(request: web.Request) -> web.Response:
    """Two real pages, then a gigabyte of whitespace that never closes the urlset."""
    count_hit(request)
    return web.Response(body=_gzip(_urlset(request, 7, range(1, PAGES))) + _SPACES * 1000,
                        content_type="application/gzip")


def add_hostile_routes(app: web.Application) -> None:
    app.router.add_get("/hostile/{h}/page/{i}", page)
    app.router.add_get("/hostile/{h}/private/{i}", private)
    app.router.add_get("/hostile/{h}/trap/{pad}", trap)
    app.router.add_get("/hostile/{h}/robots.txt", robots)
    app.router.add_get("/hostile/4/robots-real.txt", robots_real)
    app.router.add_get("/hostile/6/sitemap-index.xml", sitemap_index)
    app.router.add_get("/hostile/6/sitemap.xml.gz", sitemap_gz)
    app.router.add_get("/hostile/7/bomb.xml.gz", bomb)

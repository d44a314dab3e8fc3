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
    9: "a page as a browser reads it: <base href>, one URL written three ways, a meta refresh",
    10: "every way a page leads on: <area>, <link rel>, frames, rel=nofollow, robots nofollow by meta and "
        "header, one query in two orders",
}
#: Hosts no page links to: a crawl meets one only from its own seed.
APART = {
    11: "robots.txt asks a Crawl-delay of 10^9 seconds: capped, and said",
    12: "robots.txt begins with a UTF-8 byte order mark, then disallows /hostile/12/secret: obey it",
    13: "every page answers 429 with Retry-After: 1000000000: the wait is capped and ends with the run",
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
    if not text.isdigit() or (int(text) not in HOSTS and int(text) not in APART):
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
    elif h == 11 and i == 0:
        links = ["/hostile/11/page/1", "/hostile/11/page/2"]
    elif h == 12 and i == 0:
        links = ["/hostile/12/secret/0", "/hostile/12/page/1"]
    elif h == 13:
        return web.Response(status=429, text="slow down\n", headers={"Retry-After": "1000000000"})
    elif h == 5 and i == 0:
        links = ["/hostile/5/page/1"]
    elif h == 8 and i == 0:
        links = ["/hostile/8/trap/" + "x" * TRAP_STEP]
    elif h in (9, 10) and i == 0:
        return _browser_page(request, h)
    return _page(h, i, _query(request), links)


def _browser_page(request: web.Request, h: int) -> web.Response:
    """Host 9's page: what a browser makes of it is /hostile/9/b/x, /hostile/9/c/~user (written
    three ways) and /hostile/9/d/refreshed. Host 10's: every element a browser navigates by,
    beside some it does not (a stylesheet, an icon, an image)."""
    q = escape(_query(request))
    if h == 9:
        return web.Response(content_type="text/html", text=(
            f'<!doctype html><html><head><title>Hostile 9</title><base href="/hostile/9/b/">'
            f'<meta http-equiv="refresh" content="0; url=/hostile/9/d/refreshed{q}"></head><body>'
            f'<a href="x{q}">x</a> <a href="HTTP://{request.host}/hostile/9/c/%7euser{q}">~user</a> '
            f'<a href="/hostile/9/c/%7Euser{q}">~user again</a></body></html>'))
    and_q = escape(f"&{request.query_string}" if request.query_string else "")
    return web.Response(content_type="text/html", text=(
        f'<!doctype html><html><head><title>Hostile 10</title>'
        f'<link rel="next" href="/hostile/10/page/1{q}"><link rel="alternate" hreflang="de" href="/hostile/10/de{q}">'
        f'<link rel="stylesheet" href="/hostile/10/style.css{q}"><link rel="icon" href="/hostile/10/favicon.ico{q}">'
        f'</head><body><img usemap="#m" src="/hostile/10/map.png{q}" alt="map">'
        f'<map name="m"><area href="/hostile/10/area{q}" alt="area"></map>'
        f'<iframe src="/hostile/10/framed{q}"></iframe><a href="/hostile/10/frames{q}">frames</a>'
        f'<a rel="nofollow" href="/hostile/10/nofollowed{q}">nofollow</a>'
        f'<a href="/hostile/10/robots-meta{q}">meta</a><a href="/hostile/10/robots-header{q}">header</a>'
        f'<a href="/hostile/10/robots-other{q}">for another crawler</a>'
        f'<a href="/hostile/10/order?a=1&amp;b=2{and_q}">a, b</a><a href="/hostile/10/order?b=2&amp;a=1{and_q}">b, a</a>'
        f'</body></html>'))


#: Host 10's other pages: (the head's extra, the header X-Robots-Tag, the body).
_HOST_10 = {
    "frames": ("", None, '<frameset><frame src="/hostile/10/left{q}"><frame src="/hostile/10/right{q}"></frameset>'),
    "robots-meta": ('<meta name="robots" content="noindex, nofollow">', None,
                    '<a href="/hostile/10/hidden-by-meta{q}">hidden</a>'),
    "robots-header": ("", "noindex, nofollow", '<a href="/hostile/10/hidden-by-header{q}">hidden</a>'),
    "robots-other": ("", "otherbot: nofollow", '<a href="/hostile/10/shown{q}">shown</a>'),
}


@counted_page
async def browser_leaf(request: web.Request) -> web.Response:
    """Any other page of hosts 9 and 10 (host 10's frames and robots pages as ``_HOST_10`` says)."""
    leaf = ("", None, "<p>a leaf</p>")
    head, robots_tag, body = _HOST_10.get(request.match_info["rest"], leaf) if request.match_info["h"] == "10" else leaf
    q = escape(_query(request))
    response = web.Response(content_type="text/html", text=f"<!doctype html><html><head><title>leaf</title>"
                                                           f"{head}</head>{body.format(q=q)}</html>")
    if robots_tag:
        response.headers["X-Robots-Tag"] = robots_tag
    return response


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
    if h == 11:
        return web.Response(text="User-agent: *\nCrawl-delay: 1000000000\nAllow: /\n")
    if h == 12:
        return web.Response(body="\ufeffUser-agent: *\nDisallow: /hostile/12/secret\n".encode("utf-8"))
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
    app.router.add_get("/hostile/{h}/secret/{i}", private)
    app.router.add_get("/hostile/{h}/trap/{pad}", trap)
    app.router.add_get("/hostile/{h}/robots.txt", robots)
    app.router.add_get("/hostile/4/robots-real.txt", robots_real)
    app.router.add_get("/hostile/6/sitemap-index.xml", sitemap_index)
    app.router.add_get("/hostile/6/sitemap.xml.gz", sitemap_gz)
    app.router.add_get("/hostile/7/bomb.xml.gz", bomb)
    app.router.add_get(r"/hostile/{h:9|10}/{rest:.+}", browser_leaf)

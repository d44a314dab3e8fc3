"""The fixture site as a web, for crawls: ``/web/{h}/page/{i}`` is page i of host h, and
its links follow a seeded graph — a heavy-tailed number of links a page, mostly within
its host, some across hosts, cycles everywhere, and the things a crawler must cope with:
pages robots.txt disallows, 404s, redirects, images that are not HTML, fragments and
relative links. Each host has ``/web/{h}/robots.txt`` (Disallow, and on every fourth host
a Crawl-delay) and ``/web/{h}/sitemap.xml``.

Like ``/site/{h}/`` for fetches, ``/web/{h}/`` stands for host h, so per-host queues,
politeness and robots.txt are exercised on one loopback server. The graph is a pure
function of (seed, hosts, pages, h, i) — ``links`` — so a test can compute what a crawl
must reach. ``?hosts=H&pages=P`` sizes the web (links carry the query on), and with
``count=1`` in the query the server counts the requests of each path (``/web/hits``)
and keeps, per host and per ``run`` (a query parameter a test names its crawl by), the
most pages it was answering at once and the shortest gap between two of their arrivals
(``/web/politeness``): what a crawler's politeness looks like from the server's side.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass
from html import escape
from typing import NamedTuple

from aiohttp import web

from .profiles import PROFILES, page, prose
from .args import PROFILE, SEED

HOSTS, PAGES = 16, 1000
MAX_HOSTS, MAX_PAGES = 10_000, 10_000_000
#: The most links a page has (the out-degree's heavy tail is cut here).
MAX_LINKS = 60
HITS = web.AppKey("web_hits", Counter)


@dataclass
class HostSeen:
    """One host's pages as the server saw them arrive (robots.txt and sitemaps aside)."""

    pages: int = 0
    in_flight: int = 0
    most_in_flight: int = 0
    first_arrival: float | None = None
    last_arrival: float | None = None
    shortest_gap_s: float | None = None

    def arrive(self, now: float) -> None:
        if self.first_arrival is None:
            self.first_arrival = now
        if self.last_arrival is not None:
            gap = now - self.last_arrival
            self.shortest_gap_s = gap if self.shortest_gap_s is None else min(self.shortest_gap_s, gap)
        self.pages += 1
        self.last_arrival = now
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)


SEEN = web.AppKey("web_seen", dict)
_FILLER = b"<p>" + prose() + b"</p>\n"


class Link(NamedTuple):
    """One link of a page: the path it resolves to, and how the page writes it (``href``)."""

    path: str
    href: str


def _draws(seed: int, h: int, i: int, count: int) -> list[int]:
    digest = hashlib.shake_256(f"web:{seed}:{h}:{i}".encode()).digest(8 * count)
    return [int.from_bytes(digest[k:k + 8], "little") for k in range(0, 8 * count, 8)]


def degree(seed: int, h: int, i: int) -> int:
    """How many links page i of host h has: 2 and up, heavy-tailed (a Pareto of shape 1.2), 6.5 on average."""
    u = (_draws(seed, h, i, 1)[0] >> 11) * 2.0**-53 + 2.0**-54
    return min(int(2 * u ** (-1 / 1.2)), MAX_LINKS)


def links(seed: int, hosts: int, pages: int, h: int, i: int) -> list[Link]:
    """The links of page i of host h, in order, each as the path it leads to and its href."""
    count = degree(seed, h, i)
    out = []
    for k, draw in enumerate(_draws(seed, h, i, 1 + count)[1:]):
        kind, j, other = draw % 100, (draw >> 8) % pages, (draw >> 40) % hosts
        if kind < 55:
            path = f"/web/{h}/page/{j}"
            href = f"{j}" if k % 3 == 0 else f"{path}#s{k}" if k % 3 == 1 else path  # relative, fragment, absolute
        elif kind < 80:
            path = href = f"/web/{other}/page/{j}"
        elif kind < 87:
            path = href = f"/web/{h}/private/{j}"
        elif kind < 91:
            path = href = f"/web/{h}/missing/{j}"
        elif kind < 95:
            path = href = f"/web/{h}/moved/{j}"
        else:
            path = href = f"/web/{h}/img/{j}.png"
        out.append(Link(path, href))
    return out


def _shape(request: web.Request) -> tuple[int, int, str]:
    """The web's size from the query (hosts, pages) and the query links carry on."""
    try:
        hosts = int(request.query.get("hosts", HOSTS))
        pages = int(request.query.get("pages", PAGES))
    except ValueError:
        raise web.HTTPBadRequest(text="hosts and pages must be whole numbers\n") from None
    if not (1 <= hosts <= MAX_HOSTS and 1 <= pages <= MAX_PAGES):
        raise web.HTTPBadRequest(text=f"hosts must be 1..{MAX_HOSTS} and pages 1..{MAX_PAGES}\n")
    return hosts, pages, f"?{request.query_string}" if request.query_string else ""


def _host(request: web.Request, hosts: int) -> int:
    """The path's host number h, or a 404 when the web has no such host."""
    text = request.match_info["h"]
    if not text.isdigit() or int(text) >= hosts:
        raise web.HTTPNotFound(text="no such host\n")
    return int(text)


def _host_page(request: web.Request, hosts: int, pages: int, name: str = "i") -> tuple[int, int]:
    try:
        h, i = int(request.match_info["h"]), int(request.match_info[name])
    except ValueError:
        raise web.HTTPNotFound(text="no such page\n") from None
    if not (0 <= h < hosts and 0 <= i < pages):
        raise web.HTTPNotFound(text="no such page\n")
    return h, i


def _with_query(href: str, query: str) -> str:
    """``href`` with the web's query carried on (before any fragment)."""
    base, sep, fragment = href.partition("#")
    return f"{base}{query}{sep}{fragment}"


def count_hit(request: web.Request) -> None:
    """Count this request's path and query (with count=1 in the query: a test's own requests)."""
    if request.query.get("count") == "1":
        request.app[HITS][request.path_qs] += 1


def _seen(request: web.Request) -> HostSeen | None:
    """The host's record of this run (with count=1), a page arriving now; None when not counted."""
    if request.query.get("count") != "1":
        return None
    key = (request.query.get("run", ""), request.match_info["h"])
    seen = request.app[SEEN].setdefault(key, HostSeen())
    seen.arrive(time.monotonic())
    return seen


def counted_page(handler):
    """A handler of one of a host's pages, counted (``_count``) and seen in flight (``_seen``)."""
    async def handle(request: web.Request) -> web.StreamResponse:
        count_hit(request)
        seen = _seen(request)
        try:
            return await handler(request)
        finally:
            if seen is not None:
                seen.in_flight -= 1
    return handle


@counted_page
async def web_page(request: web.Request) -> web.Response:
    hosts, pages, query = _shape(request)
    h, i = _host_page(request, hosts, pages)
    seed, profile = request.app[SEED], request.app[PROFILE]
    spec = page(seed, h * 1_000_003 + i, profile if profile in PROFILES else "web")
    await asyncio.sleep(spec.latency_s)
    anchors = "".join(f'<li><a href="{_with_query(link.href, query)}">{link.path}</a></li>'
                      for link in links(seed, hosts, pages, h, i))
    head = (f"<!doctype html><html><head><title>Host {h}, page {i}</title></head>"
            f"<body><h1>Host {h}, page {i}</h1><ul>{anchors}</ul>\n").encode()
    tail = b"</body></html>\n"
    room = max(spec.size_bytes - len(head) - len(tail), 0)
    body = head + (_FILLER * (room // len(_FILLER) + 1))[:room] + tail
    return web.Response(body=body, content_type="text/html")


async def web_robots(request: web.Request) -> web.Response:
    count_hit(request)
    hosts, _, query = _shape(request)
    h = _host(request, hosts)
    delay = "Crawl-delay: 0.05\n" if h % 4 == 3 else ""
    text = (f"User-agent: *\nDisallow: /web/{h}/private/\n{delay}\n"
            f"Sitemap: {request.scheme}://{request.host}/web/{h}/sitemap.xml{query}\n")
    return web.Response(text=text)


async def web_sitemap(request: web.Request) -> web.Response:
    count_hit(request)
    hosts, pages, query = _shape(request)
    h = _host(request, hosts)
    urls = "".join(f"<url><loc>{escape(f'{request.scheme}://{request.host}/web/{h}/page/{j}{query}')}</loc></url>"
                   for j in range(min(pages, 100)))
    return web.Response(text=f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns='
                             f'"http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n',
                        content_type="application/xml")


@counted_page
async def web_moved(request: web.Request) -> web.Response:
    hosts, pages, query = _shape(request)
    h, i = _host_page(request, hosts, pages)
    raise web.HTTPMovedPermanently(f"/web/{h}/page/{i}{query}")


@counted_page
async def web_other(request: web.Request) -> web.Response:
    """private/ (a page robots.txt forbids: fetching it is a crawler's bug), missing/ (404)
    and img/ (an image, not HTML: nothing to parse)."""
    kind = request.match_info["kind"]
    if kind == "img":
        return web.Response(body=b"\x89PNG\r\n\x1a\n" + bytes(64), content_type="image/png")
    if kind == "private":
        return web.Response(text="<!doctype html><p>robots.txt disallows this page</p>", content_type="text/html")
    raise web.HTTPNotFound(text="no such page\n")


async def web_hits(request: web.Request) -> web.Response:
    """The requests counted so far (paths whose query had count=1), optionally only those
    whose path and query contain ``match``."""
    match = request.query.get("match", "")
    return web.json_response({path: n for path, n in request.app[HITS].items() if match in path},
                             dumps=lambda data: json.dumps(data, sort_keys=True))


async def web_politeness(request: web.Request) -> web.Response:
    """Per host of one run (``?run=...``): pages, the most answered at once, and the shortest
    and the mean gap between two arrivals in ms (null with fewer than two). The mean is the
    pace a crawler kept; the shortest also has the jitter of its sends in it."""
    run = request.query.get("run", "")
    return web.json_response({host: {"pages": seen.pages, "most_in_flight": seen.most_in_flight,
                                     "shortest_gap_ms": None if seen.shortest_gap_s is None
                                     else round(seen.shortest_gap_s * 1000, 3),
                                     "mean_gap_ms": None if seen.shortest_gap_s is None
                                     else round((seen.last_arrival - seen.first_arrival) / (seen.pages - 1) * 1000, 3)}
                              for (key, host), seen in request.app[SEEN].items() if key == run})


def add_web_routes(app: web.Application) -> None:
    app[HITS] = Counter()
    app[SEEN] = {}
    app.router.add_get("/web/hits", web_hits)
    app.router.add_get("/web/politeness", web_politeness)
    app.router.add_get("/web/{h}/page/{i}", web_page)
    app.router.add_get("/web/{h}/robots.txt", web_robots)
    app.router.add_get("/web/{h}/sitemap.xml", web_sitemap)
    app.router.add_get("/web/{h}/moved/{i}", web_moved)
    app.router.add_get("/web/{h}/{kind:private|missing|img}/{rest}", web_other)

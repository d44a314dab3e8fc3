"""A site that saturates, or limits its clients, as real ones do.

``serve --capacity N``: each host answers at most N requests at once; the rest wait their
turn, as they do for a server's pool of workers — so past N in flight, more connections
only queue, and latency grows with them (Little's law). ``serve --rate-limit R/s``: each
host accepts R requests a second (a token bucket holding one second's worth); beyond
that it answers 429 Too Many Requests with a Retry-After of the whole seconds until it
accepts again, as rate limiters do. A host is the fixture web's ``/web/{h}/`` (``/site/{h}/``,
``/hostile/{h}/``), or the site as a whole for every other path. robots.txt and the
server's own reports are exempt, so a crawler reads the rules before it meets the limit.

What a client did is kept for tests (``/web/limits``): per host, when it was first told
429, and how long after that it was told again (a client that honours Retry-After and
paces itself is not).
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from dataclasses import dataclass, field

from aiohttp import web

from .args import BEHAVIOUR

_HOST = re.compile(r"/(site|web|hostile)/([^/]+)/")
#: Paths no limit applies to: the server's own reports, and the rules a crawler reads first.
_EXEMPT = ("/health", "/web/hits", "/web/politeness", "/web/limits")
#: At most this many later 429s are remembered per host (their offsets from the first).
KEPT_LATER = 1000


@dataclass
class Host:
    """One host's limits: a queue of ``capacity`` workers, and a token bucket of ``rate`` a second."""

    capacity: asyncio.Semaphore | None
    rate: float | None
    tokens: float = 0.0
    refilled: float = field(default_factory=time.monotonic)
    #: When it first answered 429, and how long after that each later 429 came (seconds).
    first_429: float | None = None
    later_429_s: list[float] = field(default_factory=list)

    def take(self, now: float) -> float:
        """Take a token: 0 when one was there, else the seconds until there is one."""
        self.tokens = min(self.rate, self.tokens + (now - self.refilled) * self.rate)
        self.refilled = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate

    def refused(self, now: float) -> None:
        if self.first_429 is None:
            self.first_429 = now
        elif len(self.later_429_s) < KEPT_LATER:
            self.later_429_s.append(round(now - self.first_429, 4))


HOSTS = web.AppKey("limited_hosts", dict)


def _host(request: web.Request) -> Host:
    behaviour = request.app[BEHAVIOUR]
    match = _HOST.match(request.path)
    key = f"{match.group(1)}/{match.group(2)}" if match else ""
    hosts = request.app[HOSTS]
    host = hosts.get(key)
    if host is None:
        capacity = asyncio.Semaphore(behaviour.capacity) if behaviour.capacity else None
        rate = behaviour.rate_limit
        host = hosts[key] = Host(capacity, rate, tokens=rate or 0.0)
    return host


@web.middleware
async def limit(request: web.Request, handler) -> web.StreamResponse:
    """Answer within the host's capacity and rate limit (see the module)."""
    if request.path.startswith(_EXEMPT) or request.path.endswith("/robots.txt"):
        return await handler(request)
    host = _host(request)
    if host.rate is not None:
        now = time.monotonic()
        wait_s = host.take(now)
        if wait_s:
            host.refused(now)
            return web.Response(status=429, text="too many requests\n",
                                headers={"Retry-After": str(max(1, math.ceil(wait_s)))})
    if host.capacity is None:
        return await handler(request)
    async with host.capacity:
        return await handler(request)


async def web_limits(request: web.Request) -> web.Response:
    """Per host told 429: how long after its first 429 each later one came, in seconds."""
    return web.json_response({key or "site": {"later_429_s": host.later_429_s}
                              for key, host in request.app[HOSTS].items() if host.first_429 is not None})


def add_limits(app: web.Application) -> None:
    """Limit the app as its Behaviour says (nothing when it says nothing)."""
    app[HOSTS] = {}
    app.router.add_get("/web/limits", web_limits)
    behaviour = app[BEHAVIOUR]
    if behaviour.capacity or behaviour.rate_limit:
        app.middlewares.append(limit)

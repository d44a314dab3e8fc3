"""robots.txt as RFC 9309 reads it: fetched once per host before its first page, parsed by protego.

- Where: always ``scheme://host[:port]/robots.txt`` — never the page's path or query (on the
  fixture web, whose ``/web/{h}/`` stands for host h, that host's own; ``urls.robots_url``).
- 2xx: its rules, from at most its first 500 KiB (RFC 9309 2.5: at least 500 KiB).
- 3xx: followed, at most five redirects (2.3.1.2); more, and it is taken as unavailable.
- 4xx (404, 403...): unavailable — the host may be crawled freely (2.3.1.3).
- 5xx, or unreachable (refused, reset, timed out): the host is held back — nothing of it is
  fetched (2.3.1.4: "complete disallow") — and robots.txt is asked again a while later.
- Crawl-delay (not in the RFC; honoured as Scrapy and Bing do) slows the host down, to at most
  a page a minute (``MAX_CRAWL_DELAY_S``): a longer delay is capped, and counted.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import NamedTuple
from urllib.parse import urljoin

from .urls import robots_url

#: The user agent loadtool's crawl reads its rules for.
AGENT = "loadtool"
#: The most of a robots.txt parsed: RFC 9309 asks crawlers to parse at least 500 KiB.
MAX_BYTES = 500 * 1024
#: Redirects followed to a robots.txt, at most (RFC 9309 2.3.1.2: at least five).
REDIRECTS = 5
#: How long a host whose robots.txt could not be had is held back before it is asked again.
RETRY_S = 60.0
#: The longest Crawl-delay honoured: a host asking for more (10^9 seconds, say) gets a page a
#: minute, and the report says so.
MAX_CRAWL_DELAY_S = 60.0


class HeldBack(NamedTuple):
    """A host whose robots.txt answered 5xx or could not be reached: nothing of it is fetched
    until ``until`` (a time.monotonic() reading), when robots.txt is asked again."""

    reason: str
    until: float


async def read_rules(fetch_one: Callable[[str], Awaitable], url: str, now: Callable[[], float] = time.monotonic):
    """What ``url``'s host says: a protego parser of its rules, False when there are none to
    obey (unavailable: crawl freely), or HeldBack (crawl nothing there, for now)."""
    target = robots_url(url)
    for _ in range(REDIRECTS + 1):
        outcome = await fetch_one(target)
        if outcome.error is not None:
            kind = outcome.error if isinstance(outcome.error, str) else _kind(outcome.error)
            return HeldBack(f"robots.txt unreachable ({kind})", now() + RETRY_S)
        status, (headers, body) = outcome.status, outcome.answer or ((), b"")
        if 300 <= status < 400:
            location = dict(headers).get("location")
            if not location:
                return False
            target = urljoin(target, location)
            continue
        if status >= 500:
            return HeldBack(f"robots.txt answered {status}", now() + RETRY_S)
        if status >= 400:
            return False
        from protego import Protego

        # utf-8-sig: a byte order mark before the first line would hide that line's rule.
        return Protego.parse(body[:MAX_BYTES].decode("utf-8-sig", "replace"))
    return False  # more than five redirects: unavailable, as a 4xx is


def _kind(error: BaseException) -> str:
    from ..errors import classify

    return classify(error)


def allows(rules, url: str) -> bool:
    return rules is False or (not isinstance(rules, HeldBack) and rules.can_fetch(url, AGENT))


def crawl_delay_s(rules) -> float:
    """The pause robots.txt asks for between pages of its host (0: none), as asked."""
    delay = rules.crawl_delay(AGENT) if rules and not isinstance(rules, HeldBack) else None
    return float(delay) if delay else 0.0

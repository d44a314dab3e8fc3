"""robots.txt: fetched once per host before its first page, parsed by protego.

A host whose robots.txt cannot be had (404, an error) is crawled freely, as browsers and
Scrapy do; its Crawl-delay slows the host down in the frontier.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from .urls import robots_url

#: The user agent loadtool's crawl reads its rules for.
AGENT = "loadtool"


async def read_rules(fetch_one: Callable[[str], Awaitable], url: str):
    """The rules of ``url``'s host: a protego parser, or False when there are none to obey."""
    from protego import Protego

    outcome = await fetch_one(robots_url(url))
    if outcome.status != 200 or outcome.answer is None:
        return False
    return Protego.parse(outcome.answer[1].decode("utf-8", "replace"))


def allows(rules, url: str) -> bool:
    return rules is False or rules.can_fetch(url, AGENT)


def crawl_delay_s(rules) -> float:
    """The pause robots.txt asks for between pages of its host (0: none)."""
    delay = rules.crawl_delay(AGENT) if rules else None
    return float(delay) if delay else 0.0

"""The crawl on one event loop: C coroutines take URLs from the frontier, fetch, follow links.

Each page is an operation: fetched with the policy's retries and deadline, counted as a
Sample, then its links queued (redirects are not followed, but their Location is queued
like a link, so every URL is fetched at most once). Before a host's first page its
robots.txt is read; with --sitemaps, the sitemaps it names queue their pages too.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, NamedTuple
from urllib.parse import urlsplit

from ..strategies.politeness import host_of
from ..strategies.work import Op
from . import robots
from .frontier import Frontier
from .parser import parse_in_process, parse_page
from .ratelimit import DEFAULT_WAIT_S, MAX_TRIES, MAX_WAIT_S, Pacing, asked_wait_s
from .seen import Seen
from .sitemaps import SITEMAPS_PER_HOST, sitemap_locations
from .tally import Tally
from .urls import canonical, links_of, normalize

#: Hosts counted by name in the report's per-host summary; the rest count together.
HOSTS_NAMED = 10_000
#: Links longer than this are dropped (and counted): Scrapy's limit, and the longest URL old
#: browsers took. A trap whose links grow a level at a time stops here.
MAX_URL_LENGTH = 2083


class Fetcher(NamedTuple):
    """Fetching for the crawl: ``page(op)`` awaits (Sample, Outcome) with the policy's retries
    and deadline; ``robots(url)`` awaits one attempt's Outcome (robots.txt, sitemaps)."""

    page: Callable
    robots: Callable


class Crawler:
    """A crawl in progress on one event loop: its frontier, seen set and tally, shared by C
    coroutines that each run ``run`` (one loop: no locks)."""

    def __init__(self, crawl, fetcher: Fetcher, frontier: Frontier, seen: Seen, tally: Tally,
                 scope: set[str], budget, sink, control, pool=None, mesh=None, parsers=None) -> None:
        self.crawl, self.options = crawl, crawl.options
        self.fetcher = fetcher
        self.frontier, self.seen, self.tally, self.scope = frontier, seen, tally, scope
        self.budget, self.sink, self.control, self.pool = budget, sink, control, pool
        #: The parsing processes (strategies.pool.Workers), to name one that dies.
        self.parsers = parsers
        self.mesh = mesh
        #: Hosts that answered 429 (or 503 with a Retry-After): how each is paced now.
        self.pacing: dict[str, Pacing] = {}
        #: Pages answered 429, put back: how many times each was tried.
        self.tries: dict[str, int] = {}

    async def run(self) -> None:
        while not self.control.stopped:
            taken = await self.frontier.take()
            if taken is None:
                return
            url, depth, host = taken
            try:
                if not await self._allowed(url, host):
                    continue
                index = await self.budget.take()
                if index is None:  # --max-pages reached: this worker is done, and soon all are
                    return
                started = time.monotonic()
                sample, outcome = await self.fetcher.page(Op(index, url, None))
                self.sink.record(sample)
                self.tally.pages_by_host[self._named(host, self.tally.pages_by_host)] += 1
                if outcome is None or outcome.answer is None:
                    continue
                if outcome.status in (429, 503) and self._limited(url, depth, host, outcome, started):
                    continue
                if host in self.pacing and (gap_s := self.pacing[host].answered()) is not None:
                    self.frontier.pace(host, gap_s)
                    self.tally.paced(self._named(host, self.tally.hosts_limited), gap_s)
                self.tries.pop(url, None)
                await self._follow(url, depth, outcome.status, outcome.answer)
            finally:
                self.frontier.done(host)
                if self.mesh is not None:
                    self.mesh.settle()

    @staticmethod
    def _named(host: str, counts) -> str:
        """The host, or "other" once HOSTS_NAMED hosts are named."""
        return host if len(counts) < HOSTS_NAMED or host in counts else "other"

    def _limited(self, url: str, depth: int, host: str, outcome, started: float) -> bool:
        """A 429, or a 503 with a Retry-After: the host asked to be left alone. It waits as
        long as it said (``ratelimit.asked_wait_s``; a 429 without one: DEFAULT_WAIT_S), is then
        paced (``ratelimit.Pacing``), and the page goes back to the head of its queue (at most
        ``MAX_TRIES`` times). Other hosts go on meanwhile."""
        wait_s = asked_wait_s(outcome.answer[0])
        if wait_s is None and outcome.status == 503:
            return False  # an error, not a limit
        wait_s = DEFAULT_WAIT_S if wait_s is None else min(wait_s, MAX_WAIT_S)
        now = time.monotonic()
        pacing = self.pacing.setdefault(host, Pacing(self.options.adaptive_rate))
        gap_s = pacing.limited(wait_s, self.frontier.recent_rate(host, now), started, now)
        added_s = max(0.0, now + wait_s - max(now, self.frontier.slots.free_at(host)))  # pages in flight overlap
        self.frontier.pause(host, now + wait_s)
        self.frontier.pace(host, gap_s)
        self.tally.limited(self._named(host, self.tally.hosts_limited), added_s, gap_s)
        tries = self.tries.pop(url, 0) + 1
        if tries <= MAX_TRIES:
            self.tries[url] = tries
            self.frontier.requeue(url, depth)
        return True

    async def _allowed(self, url: str, name: str) -> bool:
        """Whether the host's robots.txt lets ``url`` be fetched (read first, once per host, and
        again once a host held back for an unreachable robots.txt is due to be asked again)."""
        if not self.options.robots:
            return True
        host = self.frontier.host(name)
        held = host.robots if isinstance(host.robots, robots.HeldBack) else None
        if host.robots is None or (held is not None and time.monotonic() >= held.until):
            host.robots = asyncio.Event()
            host.robots = await self._robots(url, name, host.robots)
        elif isinstance(host.robots, asyncio.Event):
            await host.robots.wait()
        if isinstance(host.robots, robots.HeldBack):
            self.tally.robots_held_back += 1
            return False
        if not robots.allows(host.robots, url):
            self.tally.robots_blocked += 1
            return False
        return True

    async def _robots(self, url: str, name: str, waiting: asyncio.Event):
        try:
            rules = await robots.read_rules(self.fetcher.robots, url)
            self.tally.robots_fetched += 1
            if isinstance(rules, robots.HeldBack):
                self.tally.hosts_held_back[rules.reason] += 1
                return rules
            delay_s = robots.crawl_delay_s(rules)
            if delay_s > robots.MAX_CRAWL_DELAY_S:
                self.tally.delay_capped(self._named(name, self.tally.delays_capped), delay_s)
                delay_s = robots.MAX_CRAWL_DELAY_S
            self.frontier.slow_down(name, delay_s)
            if rules and self.options.sitemaps:
                await self._sitemaps(list(rules.sitemaps))
            return rules
        finally:
            waiting.set()

    async def _sitemaps(self, todo: list[str]) -> None:
        """Queue the pages of a host's sitemaps (one click from its robots.txt: depth 1),
        following sitemap indexes — each file once, however often it is listed (an index
        that lists itself) — at most SITEMAPS_PER_HOST files."""
        todo, read = [url for url in (normalize(url, "") for url in todo) if url], set()
        while todo and len(read) < SITEMAPS_PER_HOST:
            sitemap = todo.pop(0)
            if sitemap in read:
                self.tally.sitemaps_repeated += 1
                continue
            read.add(sitemap)
            outcome = await self.fetcher.robots(sitemap)
            self.tally.sitemaps_fetched += 1
            if outcome.status != 200 or outcome.answer is None:
                continue
            index, locations = sitemap_locations(outcome.answer[1])
            if index:
                todo.extend(url for url in (normalize(url, "") for url in locations) if url)
                continue
            self.tally.sitemap_urls += len(locations)
            for location in locations:
                self.queue(normalize(location, ""), 1)

    def _lost_parser(self) -> None:
        if self.control.stopped or self.parsers is None:
            return
        processes = self.parsers.processes
        self.parsers.lose(self.control, self.sink, {pid: f"1 of {len(processes)} parsing processes" for pid in processes},
                          ["the pages being parsed"])

    async def _follow(self, url: str, depth: int, status: int, answer: tuple) -> None:
        headers, body = answer
        head = dict(headers)
        if 300 <= status < 400 and "location" in head:
            self.queue(normalize(url, head["location"]), depth)
            return
        if status != 200 or "html" not in head.get("content-type", "").lower():  # MIME types ignore case
            return
        follow = self.options.follow_nofollow
        if self.pool is not None:
            try:
                links, cpu_us, failed = await asyncio.get_running_loop().run_in_executor(
                    self.pool, parse_in_process, url, status, head, body, follow)
            except BrokenProcessPool:  # a parsing process died: what was crawled stands, the run ends
                self._lost_parser()
                return
        elif self.crawl.parser is not None and inspect.iscoroutinefunction(self.crawl.parser):
            started = time.thread_time()
            links, failed = links_of(body, url, head, follow), False
            try:
                await self.crawl.parser(url, status, head, body)
            except Exception:  # noqa: BLE001 - a user's parser failing is counted, not fatal
                failed = True
            cpu_us = max(1, int((time.thread_time() - started) * 1e6))
        else:
            links, cpu_us, failed = parse_page(self.crawl.parser, url, status, head, body, follow)
        self.tally.parse_errors += failed
        self.tally.parse_us.record_value(cpu_us)
        self.tally.links += len(links.hrefs) + (links.refresh is not None)
        self.tally.nofollow += links.nofollow
        if links.refresh is not None:  # a redirect, as a 301 is: queued at this page's depth
            self.queue(normalize(links.base, links.refresh), depth)
        for href in links.hrefs:
            self.queue(normalize(links.base, href), depth + 1)

    def queue(self, url: str | None, depth: int, seed: bool = False) -> None:
        """Queue a link found at ``depth`` (a seed: in scope whatever the limits say) unless
        it is out of bounds or met before; a partition sends other hosts' links to their owner."""
        options = self.options
        if url is None:
            return
        if len(url) > MAX_URL_LENGTH:
            self.tally.too_long += 1
            return
        if options.max_depth is not None and depth > options.max_depth:
            self.tally.too_deep += 1
            return
        if not seed and not self._in_scope(url):
            self.tally.out_of_scope += 1
            return
        if self.mesh is not None and self.mesh.route(url, depth):
            return  # another partition's host: its owner knows whether it is new
        if not self.seen.add(canonical(url, options.sort_query)):
            self.tally.duplicates += 1
            return
        self.frontier.put(url, depth)

    def _in_scope(self, url: str) -> bool:
        options = self.options
        if options.same_host and host_of(url) not in self.scope:
            return False
        if options.allow_domains:
            hostname = urlsplit(url).hostname or ""
            return any(hostname == domain or hostname.endswith("." + domain) for domain in options.allow_domains)
        return True

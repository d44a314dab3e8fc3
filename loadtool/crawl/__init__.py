"""loadtool crawl: a scraping job as it really runs — URLs discovered as pages arrive, a
frontier with a queue per host, robots.txt obeyed, duplicates dropped, every page parsed.

The crawl is a Strategy like the others (``run(job, control, sink)``), so a crawl has the
same Result, report, thresholds, --raw and progress as a fetch: each page fetched is an
operation. What only a crawl has (links found, duplicates, robots, the frontier over
time, hosts, parse CPU) goes into ``details["crawl"]``.

- Frontier: a deque per host and a heap of hosts by when each may next be fetched, so a
  slow or rate-limited host never blocks the others. Per host: at most ``--per-host``
  pages in flight, ``--host-rate`` starts a second, and robots.txt's Crawl-delay. URLs
  beyond FRONTIER_IN_MEMORY wait in a temporary file and come back as the queues drain,
  so the frontier's memory is bounded whatever the web.
- Duplicates: every URL is normalized (scheme and host lower-cased, default port and
  fragment dropped, the path resolved), then remembered as a 64-bit hash — exactly, in a
  set, up to EXACT_SEEN URLs; past that, in a Bloom filter (rbloom) of BLOOM_CAPACITY
  URLs at a false-positive rate of BLOOM_ERROR, whose memory is allocated once. A false
  positive drops a URL never seen, never fetches one twice.
- robots.txt: fetched once per host before its first page, parsed by protego; a host
  whose robots.txt cannot be had (404, an error) is crawled freely, as browsers and
  Scrapy do. ``--ignore-robots`` turns it off.
- Links: lxml's HTML parser (26 µs for a 22 KiB page here, against 54 µs for
  selectolax's lexbor); redirects are not followed but their Location is queued like a
  link, so every URL is fetched at most once.
- ``--parse module:function``: the user's own function, called with (url, status,
  headers, body) for every HTML page, sync or async; the CPU it takes is measured
  (thread CPU time around the call; for an async function, around its awaits too).

Strategies: ``async`` fetches and parses on one event loop; ``threads`` fetches with
requests in C threads (each blocked on its page, as a thread pool crawler is) while the
frontier stays on the loop; ``hybrid`` fetches on the loop and parses (links and --parse)
in P worker processes, so parsing that needs more than one core does not hold the
fetching back — the seed's lesson that a CPU-bound step wants processes, with numbers;
``processes`` and ``cluster`` partition the frontier by host over P processes or dask
workers, each an async crawl of its own hosts (crawl.mesh).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import importlib
import inspect
import itertools
import math
import os
import tempfile
import threading
import time
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field, replace
from typing import Any, Callable, NamedTuple
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

from hdrh.histogram import HdrHistogram

from ..errors import UsageError
from ..metrics import mean_of, new_histogram
from ..politeness import host_of
from ..strategies import Layout, Strategy
from ..system import cpu_count
from ..work import Op

#: URLs held in memory by the frontier; more wait on disk.
FRONTIER_IN_MEMORY = 10_000
#: Hosts remembered (robots.txt rules, politeness timing); past this, the least recently
#: busy idle hosts are forgotten, and one met again has its robots.txt fetched again.
HOSTS_REMEMBERED = 10_000
#: URLs remembered exactly; past this, in Bloom filters of BLOOM_CAPACITY URLs each (7 MiB
#: at BLOOM_ERROR), a new one whenever the last is full, so the false-positive rate holds.
EXACT_SEEN = 20_000
BLOOM_CAPACITY, BLOOM_ERROR = 2_000_000, 1e-6
#: The most bytes of a page kept for links and --parse.
MAX_PAGE = 8 * 1024 * 1024
#: Sitemap files read per host at most (an index and the sitemaps it lists).
SITEMAPS_PER_HOST = 50
#: Hosts counted by name in the report's per-host summary; the rest count together.
HOSTS_NAMED = 10_000
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class CrawlOptions:
    """What a crawl may do besides fetching: its limits, robots, and the user's parser."""

    max_pages: int
    max_depth: int | None = None
    same_host: bool = False
    allow_domains: tuple[str, ...] = ()
    robots: bool = True
    #: Queue the URLs of the sitemaps each host's robots.txt names.
    sitemaps: bool = False
    parse: str | None = None
    #: hybrid: worker processes that parse (0: parse on the event loop, the async strategy).
    processes: int = 0
    #: threads: fetch with requests in C threads instead of on the event loop.
    threads: bool = False
    #: processes: this many processes, each crawling the hosts it owns on its own loop.
    partitions: int = 0
    #: cluster: the partitions are dask tasks, one per worker (see crawl.mesh).
    cluster: bool = False

    def by(self, strategy: str, processes: int) -> CrawlOptions:
        """This crawl with ``strategy`` (hybrid and processes: with ``processes``)."""
        return replace(self, threads=strategy == "threads", processes=processes if strategy == "hybrid" else 0,
                       partitions=processes if strategy == "processes" else 0, cluster=strategy == "cluster")


# --- URLs ----------------------------------------------------------------------------------

def normalize(base: str, href: str) -> str | None:
    """The absolute, normalized URL ``href`` on page ``base`` leads to, or None when it is
    not a web page address (mailto:, javascript:, a malformed URL)."""
    try:
        url = urldefrag(urljoin(base, href.strip()))[0]
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def links_of(body: bytes) -> list[str]:
    """The hrefs of a page's <a> elements, in order."""
    import lxml.etree
    import lxml.html

    try:
        root = lxml.html.fromstring(body)
    except (lxml.etree.ParserError, ValueError):
        return []
    return [href for element in root.iter("a") if (href := element.get("href"))]


def sitemap_locations(body: bytes) -> tuple[bool, list[str]]:
    """A sitemap's <loc> URLs, and whether it is an index (its locations are sitemaps).
    Gzipped sitemaps are unpacked; a broken one gives what could be read of it."""
    import gzip

    import lxml.etree

    if body[:2] == b"\x1f\x8b":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError):
            return False, []
    parser = lxml.etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    try:
        root = lxml.etree.fromstring(body, parser)
    except lxml.etree.XMLSyntaxError:
        return False, []
    if root is None:
        return False, []
    locations = [element.text.strip() for element in root.iter("{*}loc") if element.text and element.text.strip()]
    return lxml.etree.QName(root).localname == "sitemapindex", locations


def robots_url(url: str) -> str:
    """Where the robots.txt of ``url``'s host is: /robots.txt, or on the fixture web
    (``/web/{h}/``, which stands for host h) that host's own."""
    parts = urlsplit(url)
    root = host_of(url)[len(parts.netloc):]
    return urlunsplit((parts.scheme, parts.netloc, f"{root}/robots.txt", parts.query, ""))


class Seen:
    """The URLs met so far: exact up to ``exact``, then in Bloom filters of ``capacity``."""

    def __init__(self, exact: int = EXACT_SEEN, capacity: int = BLOOM_CAPACITY) -> None:
        self._exact: set[int] | None = set()
        self._blooms: list = []
        self._limit, self._capacity = exact, capacity
        self._in_last = 0

    @staticmethod
    def _key(url: str) -> int:
        return int.from_bytes(hashlib.blake2b(url.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")

    def add(self, url: str) -> bool:
        """Remember ``url``; False when it was (or, past ``exact``, may have been) met before."""
        key = self._key(url)
        if self._exact is not None:
            if key in self._exact:
                return False
            self._exact.add(key)
            if len(self._exact) > self._limit:
                self._new_bloom().update(self._exact)
                self._in_last, self._exact = len(self._exact), None
            return True
        if any(key in bloom for bloom in self._blooms):
            return False
        if self._in_last >= self._capacity:
            self._new_bloom()
            self._in_last = 0
        self._blooms[-1].add(key)
        self._in_last += 1
        return True

    def _new_bloom(self):
        from rbloom import Bloom

        self._blooms.append(Bloom(self._capacity, BLOOM_ERROR))
        return self._blooms[-1]

    @property
    def exact(self) -> bool:
        return self._exact is not None


# --- the frontier ------------------------------------------------------------------------------

@dataclass
class _Host:
    queue: deque = field(default_factory=deque)
    in_flight: int = 0
    next_s: float = 0.0
    interval_s: float = 0.0
    #: robots.txt: None not asked yet, an Event while it is fetched, then a parser or False (none).
    robots: Any = None
    scheduled: bool = False


class Frontier:
    """URLs to fetch, a queue per host, handed out as hosts allow."""

    def __init__(self, per_host: int | None, host_rate: float | None, in_memory: int = FRONTIER_IN_MEMORY,
                 hosts: int = HOSTS_REMEMBERED) -> None:
        #: By how recently each was busy, least recent first.
        self.hosts: OrderedDict[str, _Host] = OrderedDict()
        self._hosts_kept = self._forget_at = hosts
        #: Hosts met (one forgotten and met again counts again), and hosts forgotten.
        self.met = self.forgotten = 0
        self._ready: list[tuple[float, int, str]] = []  # (when, tie, host)
        self._tie = 0
        self.per_host = per_host or 1_000_000
        self.interval_s = 1 / host_rate if host_rate else 0.0
        self.queued = 0
        self.in_flight = 0
        self._in_memory = in_memory
        self._spill = None
        self._spilled = 0
        self._changed = asyncio.Event()
        self.peak = 0
        #: A partition's frontier (processes, cluster) is fed from outside: empty, it waits
        #: for more until ``end``; a whole crawl's frontier, empty, is the end.
        self.fed = False
        self.ended = False

    def host(self, name: str) -> _Host:
        host = self.hosts.get(name)
        if host is None:
            if len(self.hosts) >= self._forget_at:
                self._forget(time.monotonic())
                # Busy hosts are kept, however many: look again a tenth of the limit later.
                self._forget_at = max(self._hosts_kept, len(self.hosts) + self._hosts_kept // 10)
            host = self.hosts[name] = _Host(interval_s=self.interval_s)
            self.met += 1
        else:
            self.hosts.move_to_end(name)
        return host

    def _forget(self, now: float) -> None:
        """Forget the least recently busy tenth of the hosts that are idle: nothing queued or
        in flight, robots.txt not being fetched, and free to be fetched again (forgetting a
        host never shortens its Crawl-delay)."""
        idle = []
        for name, host in self.hosts.items():
            if len(idle) >= max(1, self._hosts_kept // 10):
                break
            if not (host.queue or host.in_flight or host.scheduled or host.next_s > now
                    or isinstance(host.robots, asyncio.Event)):
                idle.append(name)
        for name in idle:
            del self.hosts[name]
        self.forgotten += len(idle)

    def put(self, url: str, depth: int) -> None:
        self.queued += 1
        self.peak = max(self.peak, self.queued)
        if self.queued - self._spilled > self._in_memory:
            if self._spill is None:
                self._spill = tempfile.TemporaryFile("w+", encoding="utf-8")
                self._read_at = 0
            self._spill.seek(0, os.SEEK_END)
            self._spill.write(f"{depth} {url}\n")
            self._spilled += 1
            return
        name = host_of(url)
        host = self.host(name)
        host.queue.append((url, depth))
        self._schedule(name, host)

    def _schedule(self, name: str, host: _Host) -> None:
        if not host.scheduled and host.queue and host.in_flight < self.per_host:
            host.scheduled = True
            self._tie += 1
            heapq.heappush(self._ready, (host.next_s, self._tie, name))
            self._changed.set()

    def _refill(self) -> None:
        """Bring URLs back from disk while memory has room."""
        if not self._spilled or self.queued - self._spilled > self._in_memory // 2:
            return
        self._spill.seek(self._read_at)
        for _ in range(min(self._spilled, self._in_memory // 2)):
            line = self._spill.readline()
            depth, url = line.rstrip("\n").split(" ", 1)
            self._spilled -= 1
            self.queued -= 1
            self.put(url, int(depth))
        self._read_at = self._spill.tell()

    def poll(self, now: float) -> tuple[str, int, str] | None:
        """The next (url, depth, host) a host allows at ``now`` (monotonic seconds), or None
        when none does yet; ``take`` waits for one."""
        self._refill()
        if not self._ready or self._ready[0][0] > now:
            return None
        _, _, name = heapq.heappop(self._ready)
        host = self.hosts[name]
        host.scheduled = False
        url, depth = host.queue.popleft()
        self.queued -= 1
        host.in_flight += 1
        self.in_flight += 1
        host.next_s = now + host.interval_s
        self._schedule(name, host)
        return url, depth, name

    async def take(self) -> tuple[str, int, str] | None:
        """The next (url, depth, host) a host allows now; None when the crawl is over
        (nothing queued and nothing in flight that could queue more)."""
        while True:
            if self.ended:
                return None
            now = time.monotonic()
            taken = self.poll(now)
            if taken is not None:
                return taken
            if not self._ready and not self.in_flight and not self._spilled and not self.fed:
                self.end()  # wake the other workers: they are done too
                return None
            self._changed.clear()
            wait = self._ready[0][0] - now if self._ready else None
            try:
                await asyncio.wait_for(self._changed.wait(), wait)
            except asyncio.TimeoutError:
                pass

    def end(self) -> None:
        """No more pages: ``take`` returns None from now on."""
        self.ended = True
        self._changed.set()

    def done(self, name: str) -> None:
        host = self.hosts[name]
        host.in_flight -= 1
        self.in_flight -= 1
        self._schedule(name, host)
        self._changed.set()

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()


# --- the crawl -------------------------------------------------------------------------------

def load_parser(spec: str) -> Callable:
    """``module:function`` (a module on sys.path, or a .py file path before the colon)."""
    module_name, sep, name = spec.rpartition(":")
    if not sep or not module_name or not name:
        raise UsageError(f"--parse {spec!r}: give MODULE:FUNCTION, e.g. myparsers:parse_product")
    try:
        if module_name.endswith(".py"):
            location = importlib.util.spec_from_file_location("loadtool_user_parser", module_name)
            module = importlib.util.module_from_spec(location)
            location.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except (ImportError, OSError, SyntaxError) as exc:
        raise UsageError(f"--parse {spec!r}: cannot import {module_name}: {exc}") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise UsageError(f"--parse {spec!r}: {module_name} has no function {name}")
    return function


class Tally:
    """What a crawl counts besides its operations; a partitioned crawl's partitions each
    count their own, and the parent merges them (``to_wire``, ``merge``)."""

    COUNTS = ("links", "duplicates", "robots_blocked", "robots_fetched", "sitemaps_fetched", "sitemap_urls",
              "out_of_scope", "too_deep", "parse_errors", "frontier_left", "hosts", "hosts_forgotten")

    def __init__(self) -> None:
        for name in self.COUNTS:
            setattr(self, name, 0)
        self.parse_us = new_histogram()
        self.pages_by_host: Counter[str] = Counter()
        self.frontier: list[int] = []
        self.frontier_peak = 0
        self.exact = True
        self.started = time.perf_counter()

    def close(self, frontier: Frontier, seen: Seen) -> Tally:
        self.frontier_left, self.frontier_peak = frontier.queued, frontier.peak
        self.hosts, self.hosts_forgotten = frontier.met, frontier.forgotten
        self.exact = seen.exact
        return self

    def to_wire(self) -> dict[str, Any]:
        wire = {name: getattr(self, name) for name in self.COUNTS}
        wire.update(parse_us=self.parse_us.encode(), pages_by_host=dict(self.pages_by_host), frontier=self.frontier,
                    frontier_peak=self.frontier_peak, exact=self.exact)
        return wire

    def merge(self, wire: dict[str, Any]) -> None:
        """Add a partition's counts. Its frontier is a part of the whole: the series add up
        second by second; the peak is the larger of the parts' and the sum's."""
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + wire[name])
        self.parse_us.add(HdrHistogram.decode(wire["parse_us"]))
        self.pages_by_host.update(wire["pages_by_host"])
        theirs = wire["frontier"]
        self.frontier = [a + b for a, b in itertools.zip_longest(self.frontier, theirs, fillvalue=0)]
        self.frontier_peak = max(self.frontier_peak, wire["frontier_peak"], *self.frontier, 0)
        self.frontier_peak = max(self.frontier_peak, self.frontier_left)
        self.exact = self.exact and wire["exact"]

    def details(self) -> dict[str, Any]:
        parse = self.parse_us
        values = parse.get_percentile_to_value_dict([50, 99]) if parse.get_total_count() else {}
        return {
            "links_found": self.links, "duplicates": self.duplicates, "robots_blocked": self.robots_blocked,
            "robots_fetched": self.robots_fetched, "sitemaps_fetched": self.sitemaps_fetched,
            "sitemap_urls": self.sitemap_urls, "out_of_scope": self.out_of_scope, "too_deep": self.too_deep,
            "parse_errors": self.parse_errors, "frontier_left": self.frontier_left, "frontier_peak": self.frontier_peak,
            "frontier_by_second": self.frontier, "hosts": self.hosts, "hosts_forgotten": self.hosts_forgotten,
            "top_hosts": dict(self.pages_by_host.most_common(10)),
            "seen": "exact" if self.exact else f"bloom filter, false-positive rate {BLOOM_ERROR:g}",
            "parse_cpu_ms": {"p50": values.get(50, 0) / 1000 if values else None,
                             "p99": values.get(99, 0) / 1000 if values else None,
                             "mean": mean_of(parse) / 1000 if parse.get_total_count() else None},
            "links_per_s": round(self.links / max(time.perf_counter() - self.started, 1e-9), 1),
        }


class Budget:
    """The operation indices of a crawl's pages: 0 to --max-pages, or without end."""

    def __init__(self, count: int | None) -> None:
        self._indices = iter(range(count)) if count else itertools.count()

    async def take(self) -> int | None:
        return next(self._indices, None)


def parse_page(parser: Callable | None, url: str, status: int, headers: dict, body: bytes) -> tuple[list, int, bool]:
    """A page's links and the user's parser on it: (hrefs, CPU µs, whether the parser failed).
    Async parsers are awaited by the caller; here (in a process) one is run to completion."""
    started = time.thread_time()
    hrefs, failed = links_of(body), False
    if parser is not None:
        try:
            value = parser(url, status, headers, body)
            if inspect.isawaitable(value):
                asyncio.run(_awaited(value))
        except Exception:  # noqa: BLE001 - a user's parser failing is counted, not fatal
            failed = True
    return hrefs, max(1, int((time.thread_time() - started) * 1e6)), failed


async def _awaited(value) -> None:
    await value


#: In a hybrid crawl's worker process: the user's parser, loaded once.
_PARSER: Callable | None = None


def _start_parser(spec: str | None) -> None:
    global _PARSER
    _PARSER = load_parser(spec) if spec else None


def _parse_in_process(url: str, status: int, headers: dict, body: bytes) -> tuple[list, int, bool]:
    return parse_page(_PARSER, url, status, headers, body)


class Crawl(Strategy):
    """Crawl from the job's targets (the seeds): on one event loop (async), fetching in
    threads (threads), parsing in processes (hybrid), or with the frontier partitioned by
    host over processes or dask workers (processes, cluster: see crawl.mesh)."""

    engines = {"fetch": ("aiohttp",), "read": ()}

    def __init__(self, options: CrawlOptions) -> None:
        self.options = options
        self.name = ("cluster" if options.cluster else "processes" if options.partitions else
                     "hybrid" if options.processes else "threads" if options.threads else "async")
        self.crosses_processes = options.cluster or bool(options.partitions)
        self.parser = load_parser(options.parse) if options.parse else None

    def layout(self, job) -> Layout:
        if self.options.cluster or self.options.partitions:
            from .mesh import layout

            return layout(self.options, job)
        if self.options.threads:
            return Layout(in_flight=job.concurrency, threads=job.concurrency)
        if self.options.processes:
            # The connections are all this process's; the parsing processes add cores, not fetches.
            return Layout(in_flight=job.concurrency, connections=job.concurrency,
                          cores=min(1 + self.options.processes, cpu_count()),
                          why=f"fetched on one event loop, parsed in {self.options.processes} processes")
        return Layout(in_flight=job.concurrency, connections=job.concurrency)

    def run(self, job, control, sink) -> Layout | None:
        from ..system import event_loop_factory

        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            if self.options.cluster or self.options.partitions:
                from .mesh import coordinate

                return runner.run(coordinate(self, job, control, sink))
            tally = runner.run(self._crawl(job, control, sink))
            sink.details["crawl"] = tally.details()
            return None

    async def _crawl(self, job, control, sink, mesh=None) -> Tally:
        """Crawl on this event loop: the whole crawl, or with ``mesh`` one partition of it
        (its hosts' URLs, pages numbered by leases from the parent, links to other hosts
        sent to their owners)."""
        from ..engines.policy import Policy

        policy = Policy.for_job(job)
        fetch = job.fetch
        frontier = Frontier(fetch.per_host, fetch.host_rate)
        seen, tally = Seen(), Tally()
        scope = {host_of(url) for url in self.seeds(job)}
        budget = Budget(job.count) if mesh is None else mesh.lease
        deadline = time.perf_counter() + job.duration_s if job.duration_s and mesh is None else math.inf
        sampler = asyncio.ensure_future(self._sample_frontier(frontier, tally))
        pool = None
        if self.options.processes:
            from concurrent.futures import ProcessPoolExecutor

            from ..strategies.processes import context

            pool = ProcessPoolExecutor(self.options.processes, mp_context=context(), initializer=_start_parser,
                                       initargs=(self.options.parse,))
        try:
            async with self._fetcher(job, policy) as fetcher:
                crawl = _Worker(self, fetcher, frontier, seen, tally, scope, budget, sink, control, pool, deadline, mesh)
                jobs = [crawl.run() for _ in range(job.concurrency)]
                if mesh is None:
                    for url in self.seeds(job):
                        crawl.queue(url, 0, seed=True)
                else:
                    frontier.fed = True
                    jobs.append(mesh.serve(crawl, sink))
                workers = asyncio.gather(*jobs)
                if not await control.await_done(workers):
                    workers.cancel()
                    try:
                        await workers
                    except asyncio.CancelledError:
                        if asyncio.current_task().cancelling():
                            raise
        finally:
            sampler.cancel()
            frontier.close()
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
                # Parsing ran in the pool's processes: their CPU is the run's too.
                parse = tally.parse_us
                sink.stats.cpu_s += mean_of(parse) * parse.get_total_count() / 1e6
        return tally.close(frontier, seen)

    @contextlib.asynccontextmanager
    async def _fetcher(self, job, policy):
        """How pages and robots.txt are fetched: on the event loop (aiohttp), or in C threads
        with requests, each thread with its own Session."""
        from .. import engines
        from ..engines.policy import Limits
        from ..strategies.workers import attempt_async, attempt_sync

        limits = Limits(policy.connect_timeout_s, policy.timeout_s)  # robots.txt: one attempt
        if not self.options.threads:
            engine = engines.load("aiohttp", job)
            engine.keep, engine.follow = MAX_PAGE, False
            async with engine.session(job.concurrency) as session:
                yield _Fetcher(lambda op: attempt_async(engine, session, policy, op),
                               lambda url: engine.attempt(session, url, limits))
            return
        from concurrent.futures import ThreadPoolExecutor

        engine = engines.load("requests", job)
        engine.keep, engine.follow = MAX_PAGE, False
        local, opened = threading.local(), []

        def session():
            if not hasattr(local, "session"):
                opened.append(engine.session())
                local.session = opened[-1].__enter__()
            return local.session

        loop, pool = asyncio.get_running_loop(), ThreadPoolExecutor(job.concurrency, thread_name_prefix="crawl")
        try:
            yield _Fetcher(lambda op: loop.run_in_executor(pool, lambda: attempt_sync(engine, session(), policy, op)),
                           lambda url: loop.run_in_executor(pool, lambda: engine.attempt(session(), url, limits)))
        finally:
            # Not waiting: after a finished crawl every fetch is done; after a stop, a thread
            # still blocked in a request past the grace period must not hold the report back.
            pool.shutdown(wait=False, cancel_futures=True)
            for each in opened:
                each.__exit__(None, None, None)

    @staticmethod
    def seeds(job) -> list[str]:
        seeds = []
        for _, target in job.targets.iter_from(0, job.targets.distinct() or 1):
            url = normalize(target if isinstance(target, str) else target.url, "")
            if url is not None:
                seeds.append(url)
        return seeds

    @staticmethod
    async def _sample_frontier(frontier: Frontier, tally: Tally) -> None:
        while True:
            tally.frontier.append(frontier.queued)
            await asyncio.sleep(1)


class _Fetcher(NamedTuple):
    """Fetching for the crawl's workers: ``page(op)`` awaits (Sample, Outcome) with the
    policy's retries and deadline; ``robots(url)`` awaits one attempt's Outcome."""

    page: Callable
    robots: Callable


class _Worker:
    """One of C coroutines taking URLs from the frontier; all share its state (one loop)."""

    def __init__(self, crawl: Crawl, fetcher: _Fetcher, frontier: Frontier, seen: Seen, tally: Tally,
                 scope: set[str], budget, sink, control, pool=None, deadline: float = math.inf, mesh=None) -> None:
        self.crawl, self.options = crawl, crawl.options
        self.fetcher = fetcher
        self.frontier, self.seen, self.tally, self.scope = frontier, seen, tally, scope
        self.budget, self.sink, self.control, self.pool = budget, sink, control, pool
        self.deadline, self.mesh = deadline, mesh

    async def run(self) -> None:
        while not self.control.stopped and time.perf_counter() < self.deadline:
            taken = await self.frontier.take()
            if taken is None:
                return
            url, depth, host = taken
            try:
                if not await self._allowed(url, host):
                    self.tally.robots_blocked += 1
                    continue
                index = await self.budget.take()
                if index is None:  # --max-pages reached: this worker is done, and soon all are
                    return
                sample, outcome = await self.fetcher.page(Op(index, url, None))
                self.sink.record(sample)
                self.tally.pages_by_host[host if len(self.tally.pages_by_host) < HOSTS_NAMED or
                                         host in self.tally.pages_by_host else "other"] += 1
                if outcome is not None and outcome.answer is not None:
                    await self._follow(url, depth, outcome.status, outcome.answer)
            finally:
                self.frontier.done(host)
                if self.mesh is not None:
                    self.mesh.settle()

    async def _allowed(self, url: str, name: str) -> bool:
        if not self.options.robots:
            return True
        host = self.frontier.host(name)
        if host.robots is None:
            host.robots = asyncio.Event()
            host.robots = await self._robots(url, host)
        elif isinstance(host.robots, asyncio.Event):
            await host.robots.wait()
        return host.robots is False or host.robots.can_fetch(url, "loadtool")

    async def _robots(self, url: str, host: _Host):
        from protego import Protego

        waiting = host.robots
        try:
            outcome = await self.fetcher.robots(robots_url(url))
            self.tally.robots_fetched += 1
            if outcome.status != 200 or outcome.answer is None:
                return False
            rules = Protego.parse(outcome.answer[1].decode("utf-8", "replace"))
            delay = rules.crawl_delay("loadtool")
            if delay:
                host.interval_s = max(host.interval_s, float(delay))
            if self.options.sitemaps:
                await self._sitemaps(list(rules.sitemaps))
            return rules
        finally:
            waiting.set()

    async def _sitemaps(self, todo: list[str]) -> None:
        """Queue the pages of a host's sitemaps (one click from its robots.txt: depth 1),
        following sitemap indexes, at most SITEMAPS_PER_HOST files."""
        todo = [url for url in (normalize(url, "") for url in todo) if url]
        for _ in range(SITEMAPS_PER_HOST):
            if not todo:
                return
            outcome = await self.fetcher.robots(todo.pop(0))
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

    async def _follow(self, url: str, depth: int, status: int, answer: tuple) -> None:
        headers, body = answer
        head = dict(headers)
        if 300 <= status < 400 and "location" in head:
            self.queue(normalize(url, head["location"]), depth)
            return
        if status != 200 or "html" not in head.get("content-type", ""):
            return
        if self.pool is not None:
            hrefs, cpu_us, failed = await asyncio.get_running_loop().run_in_executor(
                self.pool, _parse_in_process, url, status, head, body)
        elif self.crawl.parser is not None and inspect.iscoroutinefunction(self.crawl.parser):
            started = time.thread_time()
            hrefs, failed = links_of(body), False
            try:
                await self.crawl.parser(url, status, head, body)
            except Exception:  # noqa: BLE001 - a user's parser failing is counted, not fatal
                failed = True
            cpu_us = max(1, int((time.thread_time() - started) * 1e6))
        else:
            hrefs, cpu_us, failed = parse_page(self.crawl.parser, url, status, head, body)
        self.tally.parse_errors += failed
        self.tally.parse_us.record_value(cpu_us)
        self.tally.links += len(hrefs)
        for href in hrefs:
            self.queue(normalize(url, href), depth + 1)

    def queue(self, url: str | None, depth: int, seed: bool = False) -> None:
        """Queue a link found at ``depth`` (a seed: in scope whatever the limits say) unless
        it is out of bounds or met before; a partition sends other hosts' links to their owner."""
        options = self.options
        if url is None:
            return
        if options.max_depth is not None and depth > options.max_depth:
            self.tally.too_deep += 1
            return
        if not seed and not self._in_scope(url):
            self.tally.out_of_scope += 1
            return
        if self.mesh is not None and self.mesh.route(url, depth):
            return  # another partition's host: its owner knows whether it is new
        if not self.seen.add(url):
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

"""loadtool crawl: a scraping job as it really runs — URLs discovered as pages arrive, a
frontier with a queue per host, robots.txt obeyed, duplicates dropped, every page parsed.

The crawl is a Strategy like the others (``run(job, control, sink)``), so a crawl has the
same Result, report, thresholds, --raw and progress as a fetch: each page fetched is an
operation. What only a crawl has (links found, duplicates, robots, the frontier over
time, hosts, parse CPU) goes into ``details["crawl"]``. One concept a module:

- ``urls``: URLs as fetched and as keyed (canonical), a page's links as a browser reads
  them, where robots.txt is;
- ``seen``: the URLs met (exact, then Bloom filters); ``frontier``: a queue per host,
  handed out as the hosts' limits allow (``politeness.Slots``, as a fetch's);
- ``robots``, ``sitemaps``: what hosts say about themselves;
- ``parser``: the user's ``--parse`` function and its CPU; ``tally``: what a crawl counts;
- ``crawler``: the crawl on one event loop; ``mesh``: the crawl partitioned by host.

Strategies (``STRATEGIES``, the names the command line offers): ``async`` fetches and
parses on one event loop; ``threads`` fetches with requests in C threads (each blocked on
its page, as a thread pool crawler is) while the frontier stays on the loop; ``hybrid``
fetches on the loop and parses (links and --parse) in P worker processes, so parsing that
needs more than one core does not hold the fetching back — the seed's lesson that a
CPU-bound step wants processes, with numbers; ``processes`` and ``cluster`` partition the
frontier by host over P processes or dask workers, each an async crawl of its own hosts.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import threading
from dataclasses import dataclass, replace

from ..errors import UsageError
from ..metrics import mean_of
from ..names import CRAWL_STRATEGIES
from ..strategies.politeness import host_of
from ..strategies import Layout, Scale, Strategy
from ..system import cpu_count
from .crawler import Crawler, Fetcher
from .frontier import Frontier
from .parser import load_parser, start_parser
from .seen import Seen
from .sitemaps import sitemap_locations
from .tally import Tally
from .urls import Links, canonical, links_of, normalize, robots_url

__all__ = ["STRATEGIES", "Crawl", "CrawlOptions", "Frontier", "Links", "Seen", "canonical", "links_of", "normalize",
           "robots_url", "sitemap_locations"]

#: The crawl's strategies: names.CRAWL_STRATEGIES, which --help shows.
STRATEGIES = CRAWL_STRATEGIES
#: Strategies whose frontier is partitioned by host over processes or machines (crawl.hub).
PARTITIONED = ("processes", "cluster")
#: How each scales on one machine (loadtool plan --crawl): one loop, threads, or a process per core.
SCALES = {"threads": Scale(max_workers=512), "async": Scale(max_workers=10_000),
          **dict.fromkeys(("processes", "hybrid", "cluster"),
                          Scale(max_workers=40_000, all_cores=True, memory_per_process=True))}
#: The most pages of a body kept for links and --parse.
MAX_PAGE = 8 * 1024 * 1024


@dataclass(frozen=True)
class CrawlOptions:
    """What a crawl may do besides fetching: its limits, robots, the user's parser, and how it
    runs (a strategy of ``STRATEGIES``, with ``processes`` for hybrid and processes)."""

    max_pages: int
    max_depth: int | None = None
    same_host: bool = False
    allow_domains: tuple[str, ...] = ()
    robots: bool = True
    #: Queue the URLs of the sitemaps each host's robots.txt names.
    sitemaps: bool = False
    parse: str | None = None
    #: Follow links marked rel="nofollow", and those of pages whose robots directives say nofollow.
    follow_nofollow: bool = False
    #: Count URLs whose query differs only in its parameters' order as one.
    sort_query: bool = False
    #: After a 429, find each host's rate (crawl.ratelimit) instead of one page per Retry-After.
    adaptive_rate: bool = False
    strategy: str = "async"
    #: hybrid: worker processes that parse; processes: processes that each crawl their hosts.
    processes: int = 0

    def by(self, strategy: str, processes: int) -> CrawlOptions:
        """This crawl with ``strategy`` (hybrid and processes: with ``processes``)."""
        return replace(self, strategy=strategy, processes=processes if strategy in ("hybrid", "processes") else 0)


class Budget:
    """The operation indices of a crawl's pages: 0 to --max-pages, or without end."""

    def __init__(self, count: int | None) -> None:
        self._indices = iter(range(count)) if count else itertools.count()
        #: Pages handed out (their operation numbers): those not counted at the end were abandoned.
        self.issued = 0

    async def take(self) -> int | None:
        index = next(self._indices, None)
        self.issued += index is not None
        return index


class Crawl(Strategy):
    """Crawl from the job's targets (the seeds) with one of ``STRATEGIES``."""

    @property
    def waits(self) -> str:
        """A crawl's threads block in requests; its other ways crawl on event loops (its
        processes too: each partition is a loop of its own)."""
        return "blocking" if self.name == "threads" else "loop"

    @property
    def engines(self) -> dict[str, tuple[str, ...]]:
        """A crawl fetches with its way's default engine (requests in threads, aiohttp on a
        loop): the one whose answers it can read whole and whose redirects it follows itself."""
        return {"fetch": super().engines["fetch"][:1], "read": (), "run": ()}

    def __init__(self, options: CrawlOptions) -> None:
        if options.strategy not in STRATEGIES:
            raise UsageError(f"--strategy must be one of {', '.join(STRATEGIES)}, not {options.strategy!r}")
        self.options = options
        self.name = options.strategy
        self.crosses_processes = options.strategy in PARTITIONED
        self.scale = SCALES[options.strategy]
        self.parser = load_parser(options.parse) if options.parse else None

    def layout(self, job) -> Layout:
        strategy, processes = self.options.strategy, self.options.processes
        if strategy in PARTITIONED:
            from .hub import partitioned_layout

            return partitioned_layout(self.options, job)
        if strategy == "threads":
            return Layout(in_flight=job.concurrency, threads=job.concurrency)
        if strategy == "hybrid":
            # The connections are all this process's; the parsing processes add cores, not fetches.
            return Layout(in_flight=job.concurrency, connections=job.concurrency,
                          cores=min(1 + processes, cpu_count()),
                          why=f"fetched on one event loop, parsed in {processes} processes")
        return Layout(in_flight=job.concurrency, connections=job.concurrency)

    def run(self, job, layout, control, sink) -> Layout | None:
        from ..system import event_loop_factory

        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            if self.options.strategy in PARTITIONED:
                from .hub import coordinate

                return runner.run(coordinate(self, job, layout, control, sink))
            tally = runner.run(self.on_loop(job, control, sink))
            sink.details["crawl"] = tally.details()
            return None

    async def on_loop(self, job, control, sink, mesh=None) -> Tally:
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
        sampler = asyncio.ensure_future(self._sample_frontier(frontier, tally))
        pool = parsers = None
        if self.options.strategy == "hybrid":
            from concurrent.futures import ProcessPoolExecutor, wait

            from ..strategies.pool import Workers, context, ready

            pool = ProcessPoolExecutor(self.options.processes, mp_context=context(), initializer=start_parser,
                                       initargs=(self.options.parse, os.getpid()))
            # Started now, so each is known should one die (the report names it).
            wait([pool.submit(ready) for _ in range(self.options.processes)])
            parsers = Workers(pool)
        try:
            async with self._fetcher(job, policy) as fetcher:
                crawl = Crawler(self, fetcher, frontier, seen, tally, scope, budget, sink, control, pool, mesh, parsers)
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
            sink.settle(budget.issued)
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
        engine = engines.load(self.engines["fetch"][0], job)
        engine.keep, engine.follow = MAX_PAGE, False
        if self.waits == "loop":
            async with engine.session(job.concurrency) as session:
                yield Fetcher(lambda op: attempt_async(engine, session, policy, op),
                               lambda url: engine.attempt(session, url, limits))
            return
        from concurrent.futures import ThreadPoolExecutor

        local, opened = threading.local(), []

        def session():
            if not hasattr(local, "session"):
                opened.append(engine.session())
                local.session = opened[-1].__enter__()
            return local.session

        loop, pool = asyncio.get_running_loop(), ThreadPoolExecutor(job.concurrency, thread_name_prefix="crawl")
        try:
            yield Fetcher(lambda op: loop.run_in_executor(pool, lambda: attempt_sync(engine, session(), policy, op)),
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

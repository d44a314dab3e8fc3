"""loadtool plan: size a real job from a short pilot run.

"How long will 10 million pages take, and with what?" The pilot measures what the
answer depends on — the targets' latency distribution, and what each strategy and
engine costs the client in CPU and memory per operation — then ``sizing`` answers with
Little's law (concurrency = throughput × latency), bounded by the client's CPU and by
politeness. Every assumption is stated in the report.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from .. import strategies
from ..errors import UsageError
from ..job import Job
from .capacity import Capacity, Level, site_capacity
from ..metrics import mean_of, new_histogram
from ..names import DEFAULT_CONCURRENCY, STRATEGIES, STRATEGY_MODULES, engines_for, lean_engine
from ..runner import measure, ready
from ..strategies.sizing import CPU_TARGET, SITE_MARGIN, Goal, Option, Way, plan_option, predict_wall_s, way_label
from ..strategies import Scale
from ..system import cpu_count

SCHEMA = "loadtool.plan/1"
#: The engines of the ways on an event loop: the default, and the one of least CPU a request.
LOOP, LEAN = engines_for("fetch", "loop")[0], lean_engine("loop")
#: The ways the pilot measures, (strategy, engine): each blocking strategy with its engine;
#: async with the default and the lean engine; hybrid (a loop in a process per core), lean.
WAYS = tuple((name, engines_for("fetch", "blocking")[0]) for name in STRATEGIES
             if STRATEGY_MODULES[name].waits == "blocking") + (("async", LOOP), ("async", LEAN), ("hybrid", LEAN))
#: Share of the pilot spent finding the site's latency and capacity; the rest is split over the ways.
LATENCY_SHARE = 0.4
#: The capacity sweep's concurrency: from SWEEP_FIRST, doubling, at most SWEEP_LAST, each level
#: for a sixth of the sweep's share (at least SWEEP_STEP_S).
SWEEP_FIRST, SWEEP_LAST, SWEEP_STEP_S = 4, 1024, 0.5
#: Levels whose mean latency is within this of the lowest are the site unloaded: their latency
#: is the one Little's law plans with.
UNLOADED = 1.1
#: The pilot measures each way at the concurrency runs use by default (CPU per operation
#: grows with threads contending for the GIL, so the two should match).
PILOT_CONCURRENCY = DEFAULT_CONCURRENCY
#: A way's leg in which no operation finished is run once more, this many times as long.
LONGER_LEG = 4
#: A way's leg lasts at least as long as this many operations take at the site's latency.
LEG_OPS = 25
#: Legs the pilot runs of a way whose workers share one interpreter (threads, under the GIL)
#: at the concurrency the plan gives it, each at least REFINE_LEG_S long.
REFINE_LEGS, REFINE_LEG_S = 2, 1.0
#: A z-score: the 10th and 90th percentiles of a normal distribution lie 1.2816 sd from its mean.
Z_P90 = 1.2816
#: The range is never narrower than this either way: the model itself (Little's law with
#: the pilot's latency and CPU) was within 12% of real runs on the fixture site.
MODEL_ERROR = 0.10
#: The range of a way whose workers share one interpreter (threads, under the GIL), as
#: shares of its predicted throughput, at the least: runs at one concurrency differ by ±10%
#: among themselves (5.08 and 6.13 s for one prediction of 5.7 s), and 33 runs on a saturating
#: site were 16% faster to 10% slower than their plans said (runs are faster more often).
SHARED_SPREAD = (0.90, 1.20)


@dataclass(frozen=True)
class Measured:
    """What the pilot found."""

    latency_mean_s: float
    latency_p10_s: float
    latency_p50_s: float
    latency_p90_s: float
    samples: int
    error_rate: float
    #: Throughput at its p10 and p90, as shares of its mean (how steady the targets were).
    spread: tuple[float, float]
    ways: tuple[Way, ...]
    skipped: tuple[str, ...]
    cores: int
    #: A crawl's pilot (plan --crawl): links a page, the share of them new, parse CPU a page.
    crawl: dict[str, Any] | None = None
    #: The site's capacity as the sweep found it (capacity.Capacity, as a dict), and over how
    #: many hosts the pilot's targets spread.
    capacity: dict[str, Any] | None = None
    pilot_hosts: int = 1
    #: Over https: what a new connection's TLS handshake costs — ``cpu_s`` of the client's CPU
    #: and ``time_s`` (p50) — as a leg of the pilot with a new connection a request measured it.
    tls: dict[str, float] | None = None
    #: An operation of the user's own (its label) rather than pages.
    operation: str | None = None

    def crawled(self, goal: Goal) -> Goal:
        """``goal`` as the pilot's crawl found a crawl goes: the share of its hosts' polite slots
        it keeps busy, and what its start costs (a list of pages: as it is)."""
        crawl = self.crawl or {}
        return replace(goal, politeness_used=crawl.get("politeness_used", 1.0), start_s=crawl.get("start_s", 0.0))

    def range_of(self, way: Way) -> tuple[float, float]:
        """The spread of ``way``'s throughput the table and --check take: its own, where its
        legs measured one (plan._refined), else the pilot's."""
        return way.spread or self.spread

    def connections_per_page(self, goal) -> float:
        """New connections a page of the job opens: one per host, each kept open (a crawl of
        many small hosts pays a handshake every few pages; a fetch of one host, once)."""
        hosts = goal.hosts or self.pilot_hosts
        return min(1.0, hosts / goal.pages) if goal.pages else 0.0

    @property
    def site_per_s(self) -> float:
        """The most the pilot's site serves a second (inf: unknown, it kept up)."""
        per_s = (self.capacity or {}).get("per_s")
        return math.inf if per_s is None else per_s

    def site_per_s_for(self, hosts: int | None) -> float:
        """The site's capacity for a job over ``hosts`` hosts (each host as the pilot's were)."""
        return self.site_per_s * (hosts / self.pilot_hosts if hosts else 1)


def _spread(result, latency_sd_s: float) -> tuple[float, float]:
    """p10/mean and p90/mean of throughput: from whole seconds of the pilot when there are
    enough, else from the uncertainty of the measured mean latency; never narrower than
    the model's own error."""
    per_second = _whole_seconds(result)
    if len(per_second) >= 3 and statistics.mean(per_second) > 0:
        mean = statistics.mean(per_second)
        deciles = statistics.quantiles(per_second, n=10)
        return max(min(deciles[0] / mean, 1 - MODEL_ERROR), 0.05), max(deciles[-1] / mean, 1 + MODEL_ERROR)
    return _spread_of(result.ops, mean_of(result.stats.latency) / 1e6, latency_sd_s)


def _whole_seconds(result) -> list[int]:
    """Operations in each of a run's whole seconds: its first and last are partial (a run
    starting, and waiting out what is in flight)."""
    return [row["ops"] for row in result.stats.series.rows()[1:-1]]


def _spread_of(samples: int, latency_mean_s: float, latency_sd_s: float) -> tuple[float, float]:
    """The p10/mean and p90/mean of throughput from the uncertainty of a mean latency measured
    over ``samples`` operations; never narrower than the model's own error."""
    error = Z_P90 * latency_sd_s / math.sqrt(samples) / latency_mean_s if samples and latency_mean_s > 0 else 0.0
    return max(min(1 - error, 1 - MODEL_ERROR), 0.05), max(1 + error, 1 + MODEL_ERROR)


def _phase(job: Job, progress, strategy: str, engine: str, **changes) -> Any:
    return measure(replace(job, **changes).with_strategy(strategy, engine), progress, handle_signals=False)


def _sweep(bound: Job, progress, engine: str, share_s: float,
           strategy: str = "async") -> tuple[Capacity, Any, int, int]:
    """Raise the concurrency in steps until the site stops keeping up (capacity.site_capacity):
    the capacity, the latency of the levels where the site was unloaded (within UNLOADED of
    the lowest latency seen: their histograms pooled), their operations and failures."""
    levels, runs = [], []
    step_s = max(SWEEP_STEP_S, share_s / 6)
    concurrency = SWEEP_FIRST
    while concurrency <= SWEEP_LAST:
        run = _phase(bound, progress, strategy=strategy, engine=engine, count=None, duration_s=step_s,
                     concurrency=concurrency)
        if not levels and not run.ok:
            statuses = ", ".join(f"{code} ×{count:,}" for code, count in sorted(run.stats.status.items()))
            said = run.stats.first_error or (f"they answered {statuses}" if statuses else "no answer")
            raise RuntimeError(f"the pilot could not fetch the targets: {said}")
        latency = run.stats.latency
        limited = run.stats.status.get(429, 0)
        mean_s = mean_of(latency) / 1e6
        # Little's law: a closed loop of C in flight makes C / latency a second. In a level this
        # short, that is steadier than operations over the wall time, whose start and end
        # (connections opening, the last answers awaited) are a large part of it.
        per_s = concurrency / mean_s * (1 - limited / run.ops) if mean_s > 0 and run.ops else 0.0
        levels.append(Level(concurrency, per_s, mean_s, latency.get_value_at_percentile(99) / 1e6, run.cpu_busy,
                            limited))
        runs.append(run)
        capacity = site_capacity(levels)
        if capacity.settled:
            break
        concurrency *= 2
    lowest = min(level.latency_s for level in levels)
    unloaded = [run for run, level in zip(runs, levels) if level.latency_s <= UNLOADED * lowest]
    pooled = new_histogram()
    for run in unloaded:
        pooled.add(run.stats.latency)
    return capacity, pooled, sum(run.ops for run in unloaded), sum(run.stats.failed for run in unloaded)


def _way_measured(bound: Job, progress, strategy: str, engine: str, leg_s: float, latency_s: float) -> Way | str:
    """A way's CPU and memory per operation, from a leg of ``leg_s`` at PILOT_CONCURRENCY — long
    enough for LEG_OPS operations at the site's latency (half a second of sequential is 9
    pages of 50 ms, whose start-up costs then weigh as much as the pages) — and a leg in which
    no operation finished (a pool of processes still starting, a slow operation) run again,
    LONGER_LEG times as long, before the way is left out (the reason, then)."""
    workers = 1 if strategies.get(strategy).scale.max_workers == 1 else PILOT_CONCURRENCY
    leg_s = max(leg_s, LEG_OPS * latency_s / workers)
    for duration_s in (leg_s, leg_s * LONGER_LEG):
        run = _phase(bound, progress, strategy=strategy, engine=engine, count=None, duration_s=duration_s,
                     concurrency=PILOT_CONCURRENCY, processes=cpu_count() if strategy != "threads" else None)
        if run.ops:
            return Way(strategy, engine, run.cpu_s / run.ops, run.memory_per_worker_bytes,
                       strategies.get(strategy).scale)
    return f"no operation finished within {duration_s:.1f}s"


def _refined(bound: Job, progress, measured: Measured, goal: Goal | None) -> Measured:
    """Threads contend for the GIL: their CPU per operation at the pilot's concurrency is not
    theirs at the plan's (on a site of 48 at once, 1.4-1.9 ms at 10 threads, 1.3 ms at 14). A
    way whose workers share one interpreter is run at the concurrency the plan gives it
    (REFINE_LEGS times at most, each at the concurrency the last gave), and takes the CPU per
    operation measured there."""
    if goal is None:
        return measured
    ways = list(measured.ways)
    for index, way in enumerate(ways):
        if way.scale.all_cores or way.scale.max_workers == 1 or STRATEGY_MODULES[way.strategy].waits != "blocking":
            continue
        tried, found, legs = {PILOT_CONCURRENCY}, [], []
        for _ in range(REFINE_LEGS):
            option = options(replace(measured, ways=(way,)), goal)[0]
            if option.concurrency in tried:
                break
            tried.add(option.concurrency)
            run = _phase(bound, progress, strategy=way.strategy, engine=way.engine, count=None,
                         duration_s=REFINE_LEG_S, concurrency=option.concurrency)
            if not run.ops or not run.ok:
                break
            found.append(run.cpu_s / run.ops)  # a leg this short is noisy: the legs' mean
            legs.append((run.ops, option.concurrency, run.wall_s))
            way = replace(way, cpu_per_op_s=statistics.mean(found))
        ways[index] = replace(way, spread=_legs_spread(way, legs, measured))
    return replace(measured, ways=tuple(ways))


def _legs_spread(way: Way, legs: list[tuple[int, int, float]], measured: Measured) -> tuple[float, float]:
    """A shared interpreter's way's spread: the pilot's, at least SHARED_SPREAD, and as far
    as its own legs at the plan's concurrency ran from what the plan predicts for them (with
    the legs' mean CPU, against the site as the legs met it: the pilot's hosts, not the
    job's) — 4.07 and 3.91 s where 4.6 s was predicted, 5.65 s for 5.27 s."""
    ratios = [predict_wall_s(ops, way, concurrency, measured.latency_mean_s, measured.cores,
                             measured.site_per_s) / wall_s for ops, concurrency, wall_s in legs if wall_s > 0]
    return (min(measured.spread[0], SHARED_SPREAD[0], *ratios), max(measured.spread[1], SHARED_SPREAD[1], *ratios))


def _ways(job: Job) -> tuple[tuple[str, str], ...]:
    """The ways a pilot measures: for an operation of the user's own, each strategy of this
    machine that runs it (a def: sequential, threads, processes; an async def: async, hybrid)."""
    if job.kind != "run":
        return WAYS
    return tuple((name, job.engine) for name in strategies.running(job.engine, names=STRATEGIES))


def pilot(job: Job, pilot_s: float, progress=None, goal: Goal | None = None) -> Measured:
    """Find the site's latency and capacity (a sweep of concurrency), then measure each way's
    CPU and memory per operation (with ``goal``, threads' again at the concurrency the plan
    gives them: ``_refined``)."""
    if job.kind == "run":
        return pilot_operation(job, pilot_s, progress, goal)
    started = time.perf_counter()
    with ready(job) as bound:
        https = _has_https(bound)
        lean_ok = not job.polite and not https
        capacity, histogram, samples, failed = _sweep(bound, progress, LEAN if lean_ok else LOOP,
                                                      pilot_s * LATENCY_SHARE)
        ways, skipped = [], []
        each_s = max(SWEEP_STEP_S, (pilot_s - (time.perf_counter() - started)) / len(WAYS))
        if not lean_ok:
            skipped.append(f"the {LEAN} engine: {'per-host limits' if job.polite else 'https'} need {LOOP}")
        for strategy, engine in WAYS:
            if engine == LEAN and not lean_ok:
                if (strategy, LOOP) in WAYS:
                    continue
                engine = LOOP
            way = _way_measured(bound, progress, strategy, engine, each_s, mean_of(histogram) / 1e6)
            if isinstance(way, str):
                skipped.append(f"{strategy} ({engine}): {way}")
                continue
            ways.append(way)
        tls = _handshake(bound, progress, each_s, ways) if https else None
        measured = _measured(histogram, samples, failed, ways, skipped, capacity, pilot_hosts=_hosts(bound), tls=tls)
        return _refined(bound, progress, measured, goal)


def pilot_operation(job: Job, pilot_s: float, progress=None, goal: Goal | None = None) -> Measured:
    """An operation of the user's own: its latency and what it calls can take (a sweep of
    concurrency with its default strategy), then the CPU and memory an operation costs each
    way that runs it — the user's own parsing and all."""
    started = time.perf_counter()
    with ready(job) as bound:
        capacity, histogram, samples, failed = _sweep(bound, progress, job.engine, pilot_s * LATENCY_SHARE,
                                                      strategy=job.strategy)
        ways, skipped = [], []
        plan = _ways(job)
        each_s = max(SWEEP_STEP_S, (pilot_s - (time.perf_counter() - started)) / len(plan))
        for strategy, engine in plan:
            way = _way_measured(bound, progress, strategy, engine, each_s, mean_of(histogram) / 1e6)
            if isinstance(way, str):
                skipped.append(f"{strategy}: {way}")
                continue
            ways.append(way)
        measured = _measured(histogram, samples, failed, ways, skipped, capacity, operation=job.targets.label())
        return _refined(bound, progress, measured, goal)


def _measured(histogram, samples: int, failed: int, ways: list, skipped: list, capacity: Capacity,
              **more) -> Measured:
    """What a pilot measured: the latency of the sweep's unloaded levels (``histogram``, µs),
    its spread, each way, and ``more`` (the hosts, TLS, the operation)."""
    latency = _latency(histogram)
    return Measured(
        **latency, samples=samples, error_rate=failed / samples if samples else 0.0,
        spread=_spread_of(samples, latency["latency_mean_s"], histogram.get_stddev() / 1e6), ways=tuple(ways),
        skipped=tuple(skipped), cores=cpu_count(), capacity=asdict(capacity), **more)


def _latency(histogram) -> dict[str, float]:
    """A pilot's latency (``histogram``, µs) as Measured holds it: its mean, p10, p50 and p90 in s."""
    return {"latency_mean_s": mean_of(histogram) / 1e6,
            **{f"latency_p{p}_s": histogram.get_value_at_percentile(p) / 1e6 for p in (10, 50, 90)}}


def _handshake(bound: Job, progress, leg_s: float, ways: list) -> dict[str, float] | None:
    """What a TLS handshake costs: async (aiohttp) once more, with a new connection for every
    request; its CPU a request over the kept-alive leg's is the handshake's, and its connect
    phase (aiohttp's holds the handshake) its time."""
    kept = next((way for way in ways if (way.strategy, way.engine) == ("async", LOOP)), None)
    run = _phase(bound, progress, strategy="async", engine=LOOP, count=None, duration_s=leg_s,
                 concurrency=PILOT_CONCURRENCY, fetch=replace(bound.fetch, keepalive=False))
    if kept is None or not run.ok:
        return None
    connect = run.stats.phases_ms().get("connect")
    return {"cpu_s": max(run.cpu_s / run.ops - kept.cpu_per_op_s, 0.0),
            "time_s": connect["p50"] / 1000 if connect else 0.0, "connections": run.stats.connections["new"]}


def pilot_crawl(job: Job, pilot_s: float, crawl_options: Any, progress=None) -> Measured:
    """A crawl's pilot, each leg from the same seeds: half the time an async crawl (pages'
    latency, links found, parse CPU — everything on one core — and how busy politeness let
    it keep its hosts, which wants steady seconds to measure), a quarter each a processes
    one (the frontier partitioned over a process per core) and a hybrid one (parsing in a
    process per core); the CPU a page costs each way is what bounds it."""
    from ..crawl import Crawl

    with ready(job) as bound:
        runs, scales = {}, {}
        for strategy, share in (("async", 0.5), ("processes", 0.25), ("hybrid", 0.25)):
            crawl = Crawl(crawl_options.by(strategy, cpu_count()))
            leg = replace(bound.with_strategy(strategy), engine=crawl.engines["fetch"][0], count=None,
                          duration_s=pilot_s * share, concurrency=PILOT_CONCURRENCY)
            runs[strategy], scales[strategy] = measure(leg, progress, handle_signals=False, strategy=crawl), crawl.scale
    first = runs["async"]
    if not first.ok:
        raise RuntimeError(f"the pilot crawl could not fetch the seeds: {first.stats.first_error or 'no answer'}")
    # The targets' latency from the leg that stood in its own way least: a heavy parser on
    # the event loop delays every answer behind it, and that wait is the client's, not the site's.
    steady = min((run for run in runs.values() if run.ok), key=lambda run: mean_of(run.stats.latency))
    histogram = steady.stats.latency
    latency = _latency(histogram)
    ways = tuple(Way(strategy, run.job.engine, run.cpu_s / run.ops, None, scales[strategy])
                 for strategy, run in runs.items() if run.ops)
    found = first.details["crawl"]
    crawl = {"links_per_page": found["links_found"] / first.ops,
             "new_share": 1 - found["duplicates"] / found["links_found"] if found["links_found"] else 0.0,
             "parse_cpu_ms": found["parse_cpu_ms"]["mean"], "frontier_left": found["frontier_left"],
             "parser": crawl_options.parse, "politeness_used": _politeness_used(job, first, latency["latency_mean_s"]),
             "start_s": _start_s(first)}
    return Measured(
        **latency, samples=steady.ops, error_rate=first.failed_rate, spread=_spread(steady, histogram.get_stddev() / 1e6),
        ways=ways, skipped=(), cores=cpu_count(), crawl=crawl)


def _politeness_used(job: Job, run, latency_s: float) -> float:
    """The share of its hosts' polite slots a polite crawl kept busy (its pages spread unevenly
    over hosts, met as it goes): its pages a second over what politeness allows the hosts it
    met. 1 when the crawl is not polite, or its client's CPU, not politeness, held it back
    (busy as a way the plan finds bound by the CPU is planned)."""
    if not job.polite or run.cpu_busy >= CPU_TARGET:
        return 1.0
    cap = Goal(pages=run.ops, hosts=run.details["crawl"]["hosts"], per_host=job.fetch.per_host,
               host_rate=job.fetch.host_rate).politeness_cap(latency_s)
    rate = _steady_rate(run)  # none: its frontier ran dry, which the plan says, not politeness
    return min(1.0, rate / cap) if rate > 0 and math.isfinite(cap) and cap > 0 else 1.0


def _steady_rate(run) -> float:
    """Pages a second once the crawl is under way: the median of its whole seconds after the
    first, in which it starts from one seed and meets its hosts one by one (a long job is
    nearly all steady), and before the last, in which it only waits out the pages in flight.
    The median, not the mean: one second that a pause on this machine slowed down does not
    move it."""
    steady = _whole_seconds(run)
    return statistics.median(steady) if steady else run.throughput_ops_s


def _start_s(run) -> float:
    """What a crawl's first second costs it over its steady pace, in seconds: the share of a
    steady second's pages it did not fetch while it met its first hosts (0 when the leg was
    too short to hold a steady second, or its frontier ran dry after the first)."""
    rows = run.stats.series.rows()
    steady = _steady_rate(run) if rows and run.wall_s >= 2 else 0.0
    return max(0.0, 1 - rows[0]["ops"] / steady) if steady > 0 else 0.0


def _hosts(job: Job) -> int:
    """Over how many hosts the pilot's targets spread (the first 1000 of them)."""
    from ..strategies.politeness import host_of

    return max(1, len({host_of(target) for _, target in job.targets.iter_from(0, min(job.targets.distinct() or 1,
                                                                                       1000))}))


def _has_https(job: Job) -> bool:
    _, first = next(job.targets.iter_from(0, 1))
    return isinstance(first, str) and first.startswith("https:")


def options(measured: Measured, goal: Goal) -> list[Option]:
    site = measured.site_per_s_for(goal.hosts)
    goal = measured.crawled(goal)
    ways = measured.ways
    if measured.tls:  # each page's share of a new connection's handshake, on top of what it costs
        handshake = measured.tls["cpu_s"] * measured.connections_per_page(goal)
        ways = tuple(replace(way, cpu_per_op_s=way.cpu_per_op_s + handshake) for way in ways)
    return [plan_option(way, goal, measured.latency_mean_s, measured.range_of(way), site) for way in ways]


def assumptions(measured: Measured, goal: Goal) -> list[str]:
    lines = [
        f"Little's law: concurrency = throughput × (latency + the client's CPU time per "
        f"{'operation' if measured.operation else 'page'}), with the "
        f"pilot's mean latency "
        f"{measured.latency_mean_s * 1000:.1f} ms (p10 {measured.latency_p10_s * 1000:.1f}, "
        f"p50 {measured.latency_p50_s * 1000:.1f}, p90 {measured.latency_p90_s * 1000:.1f} ms, "
        f"{measured.samples:,} operations) holding for the whole job.",
        f"Each machine is like this one: {goal.cores} core{'s' if goal.cores > 1 else ''}; one core for "
        f"sequential, threads and async (the GIL, one event loop), all cores for processes and hybrid.",
        ("CPU and memory per operation as the pilot measured them here: the operation's own, all it does "
         "(its parsing included)." if measured.operation else
         "CPU and memory per operation as the pilot measured them here; fetching only — parsing and "
         "storing pages cost extra." if measured.crawl is None else
         "CPU per page as the pilot's crawl measured it here: fetching, finding links"
         + (f" and {measured.crawl['parser']}" if measured.crawl["parser"] else " (no --parse: your own parsing "
            "costs extra)") + "; processes crawl a share of the hosts, and hybrid parses, in a process per core."),
        f"Total time ranges over the throughput's p10–p90 in the pilot, and at least ±{MODEL_ERROR:.0%} for "
        f"the model's own error (×{measured.spread[0]:.2f}–×{measured.spread[1]:.2f} of the mean); with a "
        f"deadline, machines are sized so the p10 throughput meets it.",
    ]
    lines += [f"{way_label(way.strategy, way.engine).capitalize()}: its range is its own (×{way.spread[0]:.2f}–"
              f"×{way.spread[1]:.2f} of the mean): its threads share one interpreter, and its runs at one "
              f"concurrency differ by ±10% among themselves; at least ×{SHARED_SPREAD[0]:.2f}–×{SHARED_SPREAD[1]:.2f}, "
              f"wider where its legs at the plan's concurrency ran further from the plan."
              for way in measured.ways if way.spread and way.spread != measured.spread]
    if measured.capacity is not None:
        capacity = measured.capacity
        lines.append(("Site capacity, found by raising the concurrency in steps (" +
                      ", ".join(f"{level['concurrency']}: {level['per_s']:,.0f}/s at {level['latency_s'] * 1000:,.0f} ms"
                                for level in capacity["levels"]) + f"): {capacity['reason']}.")
                     + (f" Every way's throughput is capped there, its concurrency at {SITE_MARGIN - 1:.0%} over "
                        "what reaches it (a capacity measured a little low would leave the site idle)."
                        if capacity["per_s"] is not None else ""))
    if measured.tls:
        tls, share = measured.tls, measured.connections_per_page(goal)
        lines.append(f"TLS: a new connection's handshake cost {tls['cpu_s'] * 1000:.2f} ms of the client's CPU "
                     f"here and took {tls['time_s'] * 1000:.1f} ms (p50); the plan counts one connection per host, "
                     f"each kept open ({goal.hosts or measured.pilot_hosts:,} over {goal.pages:,} pages: "
                     f"{share:.3g} a page, {tls['cpu_s'] * share * 1e6:,.1f} µs of CPU a page).")
    polite = goal.politeness_cap(measured.latency_mean_s)
    if math.isfinite(polite):
        lines.append(f"Politeness over {goal.hosts:,} hosts caps the whole job at {polite:,.0f} pages/s.")
    if measured.crawl is not None:
        crawl = measured.crawl
        parse = crawl["parse_cpu_ms"]
        lines.append(f"The pilot's crawl found {crawl['links_per_page']:.1f} links a page, {crawl['new_share']:.0%} of "
                     f"them new, and spent {parse or 0:.2f} ms of CPU a page parsing; the job is assumed to keep "
                     f"finding pages as fast as it fetches them"
                     + (" (the pilot's frontier never ran dry)." if crawl["frontier_left"] else
                        " — but the pilot's frontier ran dry: the site may have fewer pages than planned."))
        if crawl.get("politeness_used", 1.0) < 1.0:
            lines.append(f"Politely, the pilot's crawl kept {crawl['politeness_used']:.0%} of its hosts' slots busy "
                         f"(pages spread unevenly over hosts, met as it went): the plan counts on as much.")
        if crawl.get("start_s"):
            lines.append(f"Starting from its seeds, meeting its first hosts, cost the pilot's crawl {crawl['start_s']:.2f} s "
                         f"over its steady pace: the plan adds as much to the job.")
    if measured.error_rate:
        lines.append(f"{measured.error_rate:.1%} of the pilot's operations failed; failures are not retried here.")
    lines += [f"Not planned: {note}." for note in measured.skipped]
    return lines


def to_dict(measured: Measured, goal: Goal, chosen: list[Option]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "goal": asdict(goal),
        "measured": {**{key: value for key, value in asdict(measured).items() if key != "ways"},
                     "ways": [asdict(way) for way in measured.ways]},
        "options": [{"strategy": o.way.strategy, "engine": o.way.engine, "machines": o.machines,
                     "concurrency": o.concurrency, "throughput_per_s": o.throughput_per_s, "bound": o.bound,
                     "total_s": o.total_s, "total_range_s": list(o.total_range_s), "memory_bytes": o.memory_bytes,
                     "meets_deadline": o.meets_deadline} for o in chosen],
        "assumptions": assumptions(measured, goal),
        "operation": measured.operation,
    }


def measured_from(plan: dict[str, Any]) -> Measured:
    """A stored plan's measurements, for ``plan --check``."""
    if not isinstance(plan, dict) or plan.get("schema") != SCHEMA:
        raise UsageError(f"--plan: not a loadtool plan (schema {SCHEMA}); make one with loadtool plan --format json")
    data = dict(plan["measured"])
    data["ways"] = tuple(_way(way) for way in data["ways"])
    data["spread"] = tuple(data["spread"])
    data["skipped"] = tuple(data["skipped"])
    data.setdefault("crawl", None)
    data.setdefault("capacity", None)
    data.setdefault("tls", None)
    data.setdefault("operation", None)
    return Measured(**data)


def _way(stored: dict[str, Any]) -> Way:
    """A Way from a stored plan (one made before plans kept the scale: the strategy's own)."""
    scale, spread = stored.get("scale"), stored.get("spread")
    return Way(**{**stored, "scale": Scale(**scale) if scale else strategies.get(stored["strategy"]).scale,
                  "spread": tuple(spread) if spread else None})


@dataclass(frozen=True)
class Check:
    """A finished run against what the plan predicts for it."""

    strategy: str
    engine: str
    ops: int
    concurrency: int
    predicted_s: float
    range_s: tuple[float, float]
    measured_s: float

    @property
    def error(self) -> float:
        return self.measured_s / self.predicted_s - 1

    @property
    def within_range(self) -> bool:
        return self.range_s[0] * 0.999 <= self.measured_s <= self.range_s[1] * 1.001


def check(measured: Measured, result: dict[str, Any]) -> Check:
    """Predict a stored run's wall time from the plan's measurements and compare."""
    if not isinstance(result, dict) or result.get("schema") != "loadtool.result/1":
        raise UsageError("--check: not a loadtool result (schema loadtool.result/1); make one with "
                         "loadtool fetch --format json")
    strategy, engine = result["strategy"], result["job"].get("engine", LOOP)
    way = next((w for w in measured.ways if (w.strategy, w.engine) == (strategy, engine)), None)
    if way is None:
        raise UsageError(f"the plan measured no {strategy} ({engine}) to compare with")
    crawl = result.get("details", {}).get("crawl")
    job = result["job"]
    # A crawl's politeness bounds it over the hosts it met, as the plan's own politeness cap does.
    goal = measured.crawled(Goal(pages=result["ops"], hosts=crawl["hosts"] if crawl else None,
                                 per_host=job.get("per_host"), host_rate=job.get("host_rate")))
    polite = goal.politeness_cap(measured.latency_mean_s)
    predicted = predict_wall_s(result["ops"], way, result["concurrency"], measured.latency_mean_s, measured.cores,
                               min(measured.site_per_s, polite)) + goal.start_s
    low, high = measured.range_of(way)
    return Check(strategy, engine, result["ops"], result["concurrency"], predicted,
                 (predicted / high, predicted / low), result["wall_s"])

"""The maths of how long a job should take.

``ideal_s`` is the wall time of a perfect client: no overhead at all, operations
taking exactly the latency the fixture server adds, C of them in flight at once, each
worker taking the next operation the instant it is free (and, in the open model, not
before it is due). It is what ``efficiency`` is measured against.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass

from ..names import STRATEGY_MODULES, engines_for
from . import Scale

#: Beyond this many operations the schedule is simulated for a prefix and scaled: the span
#: of greedy scheduling grows linearly with the count (0.1% off at 10^6 pages), and the
#: simulation costs ~4 µs an operation, after the run.
SIMULATE_MAX = 100_000


def schedule_s(latencies_s, workers: int, due_s=None) -> float:
    """When the last of ``latencies_s`` ends, run in order by ``workers`` greedy workers.

    ``due_s``, when given, are the times before which each operation may not start.
    """
    free_at = [0.0] * workers
    end = 0.0
    for index, latency in enumerate(latencies_s):
        start = heapq.heappop(free_at)
        if due_s is not None:
            start = max(start, due_s(index))
        finish = start + latency
        end = max(end, finish)
        heapq.heappush(free_at, finish)
    return end


def ideal_s(job, workers: int) -> float | None:
    """The ideal wall time of ``job`` with ``workers`` in flight, or None if unknowable.

    Known only when the fixture server's latency for every operation is known and the
    job has a fixed count.
    """
    if job.count is None or getattr(job.targets, "latency_s", None) is None or job.polite:
        return None
    count = job.count
    distinct = job.targets.distinct()
    if job.rate is None and distinct == 1:
        latency = job.targets.latency_s(0)
        return None if latency is None else math.ceil(count / workers) * latency
    simulated = min(count, SIMULATE_MAX)
    latencies = [job.targets.latency_s(index) for index in range(min(simulated, distinct or simulated))]
    if any(latency is None for latency in latencies):
        return None
    pacer = None
    if job.rate is not None:
        from .work import Pacer

        pacer = Pacer(job.rate)
    cycle = len(latencies)
    prefix = [latencies[index % cycle] for index in range(simulated)]
    span = schedule_s(prefix, workers, pacer.offset_s if pacer else None)
    if simulated == count:
        return span
    # Scale the prefix: the work grows with the count, the tail (the last wave's slowest
    # operation) does not; with a rate, the schedule's own end bounds it too.
    work = sum(prefix) / workers
    estimate = work * count / simulated + (span - work)
    if pacer is not None:
        estimate = max(estimate, pacer.offset_s(count - 1) + span - pacer.offset_s(simulated - 1))
    return estimate


@dataclass(frozen=True)
class Knee:
    """Where added concurrency stops paying: the level to run at, and why."""

    concurrency: int | None
    reason: str
    found: bool = True


def gain_per_doubling(low: tuple[int, float], high: tuple[int, float]) -> float:
    """Throughput gained per doubling of concurrency between two levels (0.1 = +10%)."""
    (c_low, t_low), (c_high, t_high) = low, high
    if t_low <= 0:
        return math.inf if t_high > 0 else 0.0
    doublings = math.log2(c_high / c_low)
    return (t_high / t_low) ** (1 / doublings) - 1 if doublings > 0 else 0.0


def reference_level(levels: list, index: int) -> int:
    """The earlier level a level's gain is measured from: the highest at most half its
    concurrency (a doubling back), else the one before. Between close levels (20 and 21)
    a step's noise, stretched to a whole doubling, would read as +1000% or -100%."""
    concurrency = levels[index][0]
    for earlier in range(index - 1, -1, -1):
        if levels[earlier][0] * 2 <= concurrency:
            return earlier
    return index - 1


#: The percentiles the default latency rule may read, each with the operations a level needs
#: for it: ten beyond it at least. A level of 20 operations has its slowest as its p99, and
#: one stall of a loaded machine there (43.6 ms against twice 21 ms, seen in CI) named a knee.
STEADY_PERCENTILES = (("p99", 1000), ("p95", 200), ("p90", 100), ("p75", 40), ("p50", 0))


def steady_percentile(ops: int) -> str:
    """The highest percentile a level of ``ops`` operations estimates steadily."""
    return next(name for name, needed in STEADY_PERCENTILES if ops >= needed)


def find_knee(levels: list[tuple[int, float, float | None]], min_gain: float = 0.10,
              p99_max_ms: float | None = None, percentile: str = "p99") -> Knee:
    """The knee of a sweep: the last level before more concurrency stopped buying throughput
    (under ``min_gain`` per doubling) or pushed p99 past ``p99_max_ms`` — by default, past
    twice the lowest level's latency at ``percentile`` (steady_percentile of the levels).

    ``levels`` are (concurrency, ops per second, latency in ms at ``percentile``), in
    increasing concurrency.
    """
    if not levels:
        return Knee(None, "no levels measured", found=False)
    bound = p99_max_ms
    if bound is None and levels[0][2] is not None:
        bound = 2 * levels[0][2]
    for index in range(1, len(levels)):
        (low, t_low, _), (high, t_high, latency_high) = levels[reference_level(levels, index)], levels[index]
        gain = gain_per_doubling((low, t_low), (high, t_high))
        if bound is not None and latency_high is not None and latency_high > bound:
            past = f"{bound:.3g}ms" + ("" if p99_max_ms is not None else f", twice its {percentile} at {levels[0][0]}")
            return Knee(low, f"at {high}, {percentile} rose to {latency_high:.3g}ms, past {past}")
        if gain < min_gain:
            return Knee(low, f"going from {low} to {high} bought {gain:+.0%} throughput per doubling "
                             f"(under {min_gain:.0%})")
    top = levels[-1][0]
    return Knee(top, f"throughput still rising at {top}, the highest level tried: try higher", found=False)


# --- sizing a job (loadtool plan) ---------------------------------------------------
#
# A job is a closed loop: C workers, each waiting on the site (its latency) and then on the
# client's CPU (the GIL, or one event loop: a queue one operation at a time, or one per core
# for processes). Mean value analysis gives its throughput exactly for such a loop, so the
# knee where the CPU fills is curved, as runs show it, not the corner of min(C / latency,
# 1 / CPU). The site itself serves at most ``site_per_s`` (its capacity, found by the pilot):
# past that, more workers only queue at the site.

#: A way bound by the client's CPU is planned at this share of it: a queue near 100% busy
#: makes every operation wait, and latency grows without end.
CPU_TARGET = 0.9
#: With the site as the bound, the concurrency recommended is this much above what reaches
#: its capacity: a capacity measured a little low would otherwise leave the site idle.
SITE_MARGIN = 1.2

@dataclass(frozen=True)
class Way:
    """One way to run the job, as the pilot measured it: a strategy (and its engine), and how
    that strategy scales on one machine (as the strategy itself says: ``Strategy.scale``)."""

    strategy: str
    engine: str
    #: Client CPU seconds per operation, measured.
    cpu_per_op_s: float
    #: Memory per worker in bytes, measured (None: unknown).
    memory_per_worker: int | None
    scale: Scale
    #: The range of this way's own throughput, as shares of the predicted, where its own legs
    #: measured it (threads again at the plan's concurrency: plan._refined); None: the pilot's.
    spread: tuple[float, float] | None = None


def way_label(strategy: str, engine: str) -> str:
    """``threads``, or ``async (fast)``: the engine is named unless it is the only one the
    strategy runs for its kind of job (a crawl's processes fetch on event loops: named)."""
    waits = STRATEGY_MODULES[strategy].waits
    only = any(engines_for(kind, waits) == (engine,) for kind in ("fetch", "run"))
    return strategy if only else f"{strategy} ({engine})"


@dataclass(frozen=True)
class Goal:
    """What the plan must achieve, and the limits it must respect."""

    pages: int
    deadline_s: float | None = None
    hosts: int | None = None
    per_host: int | None = None
    host_rate: float | None = None
    #: Cores of each machine the job will run on.
    cores: int = 1
    #: The share of the hosts' polite slots a job keeps busy: 1 for a list of pages spread
    #: evenly; less for a crawl, whose pages spread unevenly over hosts it meets as it goes
    #: (its pilot measures it).
    politeness_used: float = 1.0
    #: Seconds the job loses at its start over its steady pace: a crawl begins at one seed
    #: and meets its hosts one by one (its pilot measures it); 0 for a list of pages.
    start_s: float = 0.0

    def politeness_cap(self, latency_s: float) -> float:
        """The most operations a second politeness allows, over all machines (inf: none)."""
        caps = [math.inf]
        if self.hosts and self.host_rate:
            caps.append(self.hosts * self.host_rate * self.politeness_used)
        if self.hosts and self.per_host:
            caps.append(self.hosts * self.per_host / latency_s * self.politeness_used)
        return min(caps)


@dataclass(frozen=True)
class Option:
    """One line of a plan: how one way would do the job."""

    way: Way
    machines: int
    #: Workers per machine (threads, connections, processes).
    concurrency: int
    throughput_per_s: float
    #: What sets the throughput: "latency" (Little's law), "cpu", "workers", "politeness" or
    #: "site" (its capacity).
    bound: str
    total_s: float
    total_range_s: tuple[float, float]
    memory_bytes: int | None
    meets_deadline: bool | None


def cpu_ceiling(way: Way, cores: int) -> float:
    """Operations a second one machine's CPU allows this way: one core unless it uses processes."""
    usable = cores if way.scale.all_cores else 1
    return usable / way.cpu_per_op_s if way.cpu_per_op_s > 0 else math.inf


def cycle_s(way: Way, latency_s: float) -> float:
    """How long one worker takes per operation: the target's latency plus the worker's own
    CPU time, which it cannot overlap with its own wait."""
    return latency_s + way.cpu_per_op_s


def closed_rates(way: Way, latency_s: float, cores: int):
    """Throughput with 1, 2, 3, … workers (mean value analysis, see above): the site's latency
    a delay every worker spends on its own, the client's CPU a queue with one server (a core
    of the GIL or the event loop), or one per core for processes (Seidmann's approximation:
    a queue of a core's share, and a delay of the rest)."""
    servers = cores if way.scale.all_cores else 1
    queue_s = way.cpu_per_op_s / servers
    delay_s = latency_s + way.cpu_per_op_s - queue_s
    queued = 0.0
    for workers in range(1, way.scale.max_workers + 1):
        response_s = queue_s * (1 + queued)
        rate = workers / (delay_s + response_s)
        queued = rate * response_s
        yield rate


def closed_throughput(way: Way, workers: int, latency_s: float, cores: int) -> float:
    """Operations a second with ``workers`` in flight (``closed_rates``)."""
    rate = 0.0
    for rate in itertools.islice(closed_rates(way, latency_s, cores), max(1, workers)):
        pass
    return rate


def concurrency_for(way: Way, rate_per_s: float, latency_s: float, cores: int) -> int:
    """The fewest workers that make ``rate_per_s`` (at most the way's ``max_workers``)."""
    workers = 0
    for workers, rate in enumerate(closed_rates(way, latency_s, cores), start=1):
        if rate >= rate_per_s * 0.999:
            break
    return max(1, workers)


def machine_throughput(way: Way, latency_s: float, cores: int) -> tuple[float, str]:
    """The most one machine can do this way, and what bounds it (Little's law: X = N / L;
    the CPU at CPU_TARGET of its share)."""
    by_workers = way.scale.max_workers / cycle_s(way, latency_s)
    by_cpu = CPU_TARGET * cpu_ceiling(way, cores)
    return (by_workers, "workers") if by_workers <= by_cpu else (by_cpu, "cpu")


def plan_option(way: Way, goal: Goal, latency_s: float, spread: tuple[float, float] = (1.0, 1.0),
                site_per_s: float = math.inf) -> Option:
    """How ``way`` would do ``goal``; ``spread`` scales throughput to its p10 and p90;
    ``site_per_s`` is the most the site serves (its capacity, over all machines).

    With a deadline, the job is sized so that even the p10 throughput meets it.
    """
    per_machine, bound = machine_throughput(way, latency_s, goal.cores)
    polite = goal.politeness_cap(latency_s)
    wanted = goal.pages / goal.deadline_s / spread[0] if goal.deadline_s else None
    if wanted is None:
        machines, throughput = 1, min(per_machine, polite)
    else:
        throughput = min(wanted, polite)
        machines = max(1, math.ceil(throughput / per_machine))
        bound = "latency" if throughput <= per_machine else bound
    if polite < min(per_machine * machines, wanted or math.inf):
        throughput, bound = polite, "politeness"
    if site_per_s < throughput:
        throughput, bound = site_per_s, "site"
        machines = max(1, math.ceil(throughput / per_machine))
    per_machine_rate = throughput / machines
    concurrency = concurrency_for(way, per_machine_rate, latency_s, goal.cores)
    if bound == "site":
        concurrency = min(math.ceil(concurrency * SITE_MARGIN), way.scale.max_workers)
    total = goal.pages / throughput + goal.start_s
    low, high = spread
    # A hybrid worker is a process (one per core), holding many connections.
    workers = goal.cores if way.scale.memory_per_process else concurrency
    memory = None if way.memory_per_worker is None else way.memory_per_worker * workers
    meets = None if goal.deadline_s is None else total / low <= goal.deadline_s * 1.0001
    return Option(way, machines, concurrency, throughput, bound, total,
                  (total / high, total / low), memory, meets)


def predict_wall_s(ops: int, way: Way, concurrency: int, latency_s: float, cores: int,
                   site_per_s: float = math.inf) -> float:
    """The wall time of a run of ``ops`` operations at ``concurrency``: at the closed loop's
    throughput (``closed_rates``) within the site's capacity, and never less than waves of
    ``concurrency`` operations take."""
    workers = min(concurrency, way.scale.max_workers)
    by_waves = math.ceil(ops / workers) * cycle_s(way, latency_s)
    return max(by_waves, ops / min(closed_throughput(way, workers, latency_s, cores), site_per_s))

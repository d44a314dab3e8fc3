"""The maths of how long a job should take.

``ideal_s`` is the wall time of a perfect client: no overhead at all, operations
taking exactly the latency the fixture server adds, C of them in flight at once, each
worker taking the next operation the instant it is free (and, in the open model, not
before it is due). It is what ``efficiency`` is measured against.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

#: Beyond this many operations the schedule is simulated for a prefix and scaled.
SIMULATE_MAX = 1_000_000


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
    if job.count is None or getattr(job.targets, "latency_s", None) is None:
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
    span = schedule_s((latencies[index % cycle] for index in range(simulated)), workers,
                      pacer.offset_s if pacer else None)
    return span * count / simulated


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


def find_knee(levels: list[tuple[int, float, float | None]], min_gain: float = 0.10,
              p99_max_ms: float | None = None) -> Knee:
    """The knee of a sweep: the last level before more concurrency stopped buying throughput
    (under ``min_gain`` per doubling) or pushed p99 past ``p99_max_ms`` (by default,
    twice the p99 of the lowest level).

    ``levels`` are (concurrency, ops per second, p99 in ms), in increasing concurrency.
    """
    if not levels:
        return Knee(None, "no levels measured", found=False)
    bound = p99_max_ms
    if bound is None and levels[0][2] is not None:
        bound = 2 * levels[0][2]
    for (low, t_low, _), (high, t_high, p99_high) in zip(levels, levels[1:]):
        gain = gain_per_doubling((low, t_low), (high, t_high))
        if bound is not None and p99_high is not None and p99_high > bound:
            return Knee(low, f"at {high}, p99 rose to {p99_high:.3g}ms, past {bound:.3g}ms")
        if gain < min_gain:
            return Knee(low, f"going from {low} to {high} bought {gain:+.0%} throughput per doubling "
                             f"(under {min_gain:.0%})")
    top = levels[-1][0]
    return Knee(top, f"throughput still rising at {top}, the highest level tried: try higher", found=False)

"""The maths of how long a job should take.

``ideal_s`` is the wall time of a perfect client: no overhead at all, operations
taking exactly the latency the fixture server adds, C of them in flight at once, each
worker taking the next operation the instant it is free (and, in the open model, not
before it is due). It is what ``efficiency`` is measured against.
"""

from __future__ import annotations

import heapq
import math

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

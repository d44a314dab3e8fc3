"""Experiments made of several runs: compare strategies, sweep concurrency.

Both run one job several times on the same targets (one fixture server, one file
tree), one run at a time, so the runs do not compete for the machine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from .. import strategies
from ..job import Job
from ..names import ALL_STRATEGIES, STRATEGIES
from ..runner.result import Result
from ..runner import ProgressFactory, measure, ready
from ..strategies import running
from ..strategies.sizing import Knee, find_knee, steady_percentile

#: compare's default on the fixture server: 100 × /delay/50 takes sequential 5 s.
COMPARE_COUNT = 100
COMPARE_PATH = "/delay/50"
SWEEP_LEVELS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
#: With no --count, each sweep level does this many rounds of its concurrency.
SWEEP_ROUNDS = 10
SWEEP_MIN_COUNT = 20
#: For --raw over several runs: given a run's label, where that run's records go.
RawRuns = Callable[[str], Callable[[list[tuple]], None]]


def compare(job: Job, strategies: tuple[str, ...] = STRATEGIES,
            progress: ProgressFactory | None = None, raw: RawRuns | None = None, also: tuple[Job, ...] = ()) -> list[Result]:
    """Run ``job`` with each strategy in turn; speed-ups are against sequential when it ran.
    With ``raw``, ``raw(strategy)`` takes each run's records as it goes. ``also``: more jobs
    of the same work, each run by the strategies that run it (an operation of the user's
    own as a def and as an async def: the def in sequential, threads and processes, the
    async def in async and hybrid), side by side in one table.

    A run stopped by Ctrl-C or SIGTERM ends the comparison: the runs so far are returned.
    """
    ordered = [name for name in ALL_STRATEGIES if name in strategies]
    results: list[Result] = []
    for each in (job, *also):
        runs = ordered if each.kind != "run" else running(each.engine, names=tuple(ordered))
        with ready(each) as bound:
            for strategy in runs:
                results.append(measure(bound.adopted_by(strategy), progress,
                                       raw=None if raw is None else raw(strategy)))
                if results[-1].interrupted:
                    break
        if results and results[-1].interrupted:
            break
    results.sort(key=lambda result: ALL_STRATEGIES.index(result.strategy))
    sequential = next((r.wall_s for r in results if r.strategy == "sequential" and not r.interrupted), None)
    return [result.with_sequential(sequential) for result in results]


@dataclass(frozen=True)
class Sweep:
    results: list[Result]
    knee: Knee


def sweep(job: Job, levels: tuple[int, ...] = SWEEP_LEVELS, count_given: bool = True,
          min_gain: float = 0.10, p99_max_ms: float | None = None,
          progress: ProgressFactory | None = None, raw: RawRuns | None = None,
          progress_for: Callable[[str], ProgressFactory | None] | None = None) -> Sweep:
    """Run ``job`` at each concurrency level and find the knee (``raw``: as in ``compare``,
    each level's records to ``raw("c<level>")``; ``progress_for``: given what a level is
    — "sweep · concurrency 8 (4 of 4)" — its progress, so a view names the level).

    Without ``count_given`` (and without a duration), each level does
    ``SWEEP_ROUNDS`` × its concurrency operations, so every level runs about as long.
    """
    results = []
    ordered = sorted(set(levels))
    with ready(job) as bound:
        for number, level in enumerate(ordered, 1):
            leveled = strategies.get(bound.strategy).at_concurrency(bound, level)
            if not count_given and bound.duration_s is None:
                leveled = replace(leveled, count=max(SWEEP_MIN_COUNT, SWEEP_ROUNDS * level))
            shown = progress if progress_for is None else progress_for(
                f"sweep · concurrency {level:,} ({number} of {len(ordered)})")
            results.append(measure(leveled, shown, raw=None if raw is None else raw(f"c{level}")))
            if results[-1].interrupted:
                break
    return Sweep(results, knee_of(results, min_gain, p99_max_ms))


def knee_of(results: list, min_gain: float = 0.10, p99_max_ms: float | None = None) -> Knee:
    """The knee of a sweep's levels (sizing.find_knee). With ``p99_max_ms`` the latency rule
    reads p99; without, it reads the highest percentile the smallest level has enough
    operations for (sizing.steady_percentile)."""
    percentile = "p99" if p99_max_ms is not None or not results else steady_percentile(min(r.ops for r in results))
    curve = [(r.concurrency, r.throughput_ops_s, r.latency_ms[percentile]) for r in results]
    return find_knee(curve, min_gain, p99_max_ms, percentile)

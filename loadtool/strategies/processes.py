"""processes: P worker processes, each doing its share of operations one at a time.

Work goes out as index ranges (operation k always has the same target, whoever does
it), never as lists of URLs, and at most 2×P ranges are in flight. Each range comes
back as encoded Stats (HdrHistogram encodings and counters) that the parent merges,
so memory stays flat however many operations run. Each process has its own
interpreter and heap: real parallelism, paid for in start-up time and memory.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import replace

from .. import engines
from .control import RunControl
from ..engines.policy import Policy
from ..metrics.sink import Batch
from .politeness import HostLimits
from ..system import become_worker, cpu_count, peak_rss_bytes
from .work import Share, Work
from . import Layout, Scale, Strategy
from .pool import context, process_count, signal_workers, start_workers
from .workers import sync_worker

#: Per-process state, set once by ``_start_worker`` in each worker process.
_worker: dict = {"busy": False}
#: How long abandoned workers get to hand back what they measured before they are killed.
ABANDON_S = 2.0


class Abandoned(BaseException):
    """Raised in a worker blocked in an operation after the grace period (SIGUSR1).

    A BaseException, so the operation's own error handling does not count it: the
    operation is dropped, as in the other strategies, and the range returns the rest.
    """


def _abandon(signum: int, frame: object) -> None:
    if _worker["busy"]:  # only inside a range; idle workers have nothing to give up
        raise Abandoned


def _start_worker(job, stopping, owner: int) -> None:
    # The parent decides what a signal means and tells workers through ``stopping``.
    become_worker(owner)
    signal.signal(signal.SIGUSR1, _abandon)
    engine = engines.load(job.engine, job)
    resources = ExitStack()  # lives as long as the worker process
    _worker.update(job=job, control=RunControl(job.grace_s, event=stopping), engine=engine,
                   policy=Policy.for_job(job), resources=resources,
                   session=resources.enter_context(engine.session()))


def _run_range(start: int, stop: int | None, share: Share | None, epoch: float) -> dict:
    """Do operations ``start`` up to ``stop`` (of the hosts in ``share``, when given) in this
    worker; return their Stats, encoded."""
    job = _worker["job"] if share is None else replace(_worker["job"], share=share)
    batch = Batch(epoch, open_model=job.rate is not None, records=job.records)
    cpu_start = time.process_time()
    work = Work(job, _worker["control"], epoch, start, stop)
    limits = HostLimits.for_job(job)
    _worker["busy"] = True
    try:
        sync_worker(work, _worker["engine"], _worker["session"], _worker["policy"], batch.add, limits)
    except Abandoned:
        pass
    finally:
        _worker["busy"] = False
        batch.stats.counts.abandoned += max(work.issued - batch.stats.ops, 0)
    batch.stats.cpu_s = time.process_time() - cpu_start
    batch.stats.worker_peak_bytes = peak_rss_bytes()
    return batch.to_wire()


#: How long one range should take: a worker that dies loses at most about this much of its
#: work, and progress moves at least this often; long enough that handing out costs nothing.
RANGE_S = 0.25
#: The size of the first ranges, before the pace of the run is known.
FIRST_RANGE = 8


def range_size(job, processes: int, ops: int, elapsed_s: float) -> int:
    """Operations in the next range: RANGE_S of one process's work at the pace so far (``ops``
    done in ``elapsed_s``; the rate itself in an open model), never so many that the last
    ranges leave processes idle (an eighth of a process's share), at most 1000."""
    if job.rate is not None:
        per_s = job.rate.per_s
    elif ops and elapsed_s > 0:
        per_s = ops / elapsed_s
    else:
        per_s = FIRST_RANGE * processes / RANGE_S
    size = int(per_s / processes * RANGE_S)
    if job.count is not None:
        size = min(size, job.count // (processes * 8))
    return max(1, min(size, 1000))


def ranges(job, processes: int, pace) -> Iterator[tuple[int, int | None, Share | None]]:
    """Index ranges sized by ``range_size`` (``pace()`` says how many operations are done and
    in how long). With per-host limits, one range per process instead: all the operations of
    the hosts it owns, so each host's limits are kept in one place."""
    if job.polite:
        for index in range(processes):
            yield 0, job.count, Share(index, processes, by_host=True)
        return
    start = 0
    while job.count is None or start < job.count:
        stop = start + range_size(job, processes, *pace())
        stop = stop if job.count is None else min(stop, job.count)
        yield start, stop, None
        start = stop


class _InFlight:
    """Ranges submitted to the pool whose Stats have not been merged yet."""

    def __init__(self, sink) -> None:
        self.sink = sink
        self.futures: dict[Future, str] = {}

    def collect(self, timeout: float) -> bool:
        """Merge the ranges that finish within ``timeout``; True when none is left."""
        done, _ = wait(self.futures, timeout=timeout, return_when=FIRST_COMPLETED)
        for future in done:
            self.futures.pop(future)
            self.sink.merge_wire(future.result())
        return not self.futures


class Processes(Strategy):
    name = "processes"
    crosses_processes = True
    scale = Scale(max_workers=64, all_cores=True)

    def layout(self, job) -> Layout:
        processes, why = process_count(job)
        return Layout(in_flight=processes, processes=processes, cores=max(1, min(processes, cpu_count())), why=why)

    def at_concurrency(self, job, level: int):
        return replace(job, concurrency=level, processes=level)

    def run(self, job, layout, control, sink) -> None:
        processes = layout.processes
        mp = context()
        stopping = mp.Event()
        end_forward = control.forward(stopping.set)
        pool = ProcessPoolExecutor(processes, mp_context=mp, initializer=_start_worker,
                                   initargs=(job, stopping, os.getpid()))
        in_flight = _InFlight(sink)
        try:
            workers = start_workers(pool, processes, sink)
            try:
                self._hand_out(job, pool, processes, in_flight, control, sink)
                if not control.wait_until(in_flight.collect):
                    # Still blocked after the grace period: abandon those operations, keep the rest.
                    workers.signal(signal.SIGUSR1)
                    control.wait_until(in_flight.collect, extra_s=ABANDON_S)
            except BrokenProcessPool:
                shares = {pid: f"1 of {processes} processes" for pid in workers.processes}
                workers.lose(control, sink, shares, list(dict.fromkeys(in_flight.futures.values())))
        finally:
            end_forward()
            if control.stopped:
                signal_workers(pool, signal.SIGKILL)
            pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _hand_out(job, pool, processes: int, in_flight: _InFlight, control, sink) -> None:
        """Submit ranges, at most two per process ahead, until the work or the run ends."""
        deadline = time.time() + job.duration_s if job.duration_s else None
        def pace() -> tuple[int, float]:
            return sink.stats.ops, time.time() - sink.epoch

        for start, stop, share in ranges(job, processes, pace):
            while len(in_flight.futures) >= 2 * processes and not control.stopped:
                in_flight.collect(POLL_S)
            if control.stopped or (deadline is not None and time.time() >= deadline):
                return
            what = (f"operations {start:,}-{stop - 1:,}" if share is None else
                    f"the operations of the hosts process {share.index + 1} of {share.of} owns")
            in_flight.futures[pool.submit(_run_range, start, stop, share, sink.epoch)] = what


#: How often the parent looks up from waiting to notice a stop or a deadline.
POLL_S = 0.2


STRATEGY = Processes()

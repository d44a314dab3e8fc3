"""processes: P worker processes, each doing its share of operations one at a time.

Work goes out as index ranges (operation k always has the same target, whoever does
it), never as lists of URLs, and at most 2×P ranges are in flight. Each range comes
back as encoded Stats (HdrHistogram encodings and counters) that the parent merges,
so memory stays flat however many operations run. Each process has its own
interpreter and heap: real parallelism, paid for in start-up time and memory.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import replace

from ..metrics import Stats
from ..ops import io_for
from ..politeness import HostLimits
from ..system import die_with_parent, peak_rss_bytes
from ..work import Recorder, Work
from .common import sync_worker

#: Per-process state, set once by ``_start_worker`` in each worker process.
_worker: dict = {"busy": False}


class Abandoned(BaseException):
    """Raised in a worker blocked in an operation after the grace period (SIGUSR1).

    A BaseException, so the operation's own error handling does not count it: the
    operation is dropped, as in the other strategies, and the range returns the rest.
    """


def _abandon(signum: int, frame: object) -> None:
    if _worker["busy"]:  # only inside a range; idle workers have nothing to give up
        raise Abandoned


def _start_worker(job, stopping) -> None:
    # Ctrl-C at a terminal (or a SIGTERM to the process group) reaches every process;
    # the parent decides what to do and tells workers through ``stopping``.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGUSR1, _abandon)
    die_with_parent()
    io = io_for(job)
    resources = ExitStack()  # lives as long as the worker process
    _worker.update(job=job, stopping=stopping, io=io, resources=resources,
                   session=resources.enter_context(io.session()))


def _ready() -> int:
    """Nothing: submitted once per process so the pool has started before the clock does."""
    return os.getpid()


def _run_range(start: int, stop: int | None, host_share: tuple[int, int] | None, epoch: float) -> dict:
    """Do operations ``start`` up to ``stop`` (of the hosts in ``host_share``, when given) in
    this worker; return their Stats, encoded."""
    job = _worker["job"]
    if host_share is not None:
        job = replace(job, host_share=host_share)
    stats = Stats(epoch, open_model=job.rate is not None)
    cpu_start = time.process_time()
    work = Work(job, _worker["stopping"], epoch, start, stop)
    limits = HostLimits(job.per_host, job.host_rate) if job.polite else None
    _worker["busy"] = True
    try:
        sync_worker(work, _worker["io"], _worker["session"], stats.add, limits)
    except Abandoned:
        pass
    finally:
        _worker["busy"] = False
    stats.cpu_s = time.process_time() - cpu_start
    stats.worker_peak_bytes = peak_rss_bytes()
    return stats.to_wire()


def ranges(job, processes: int) -> Iterator[tuple[int, int | None, tuple[int, int] | None]]:
    """Index ranges small enough to balance the load and show progress, large enough to be
    cheap. With per-host limits, one range per process instead: all the operations of the
    hosts it owns, so each host's limits are kept in one place."""
    if job.polite:
        for index in range(processes):
            yield 0, job.count, (index, processes)
        return
    if job.count is not None:
        size = max(1, min(job.count // (processes * 8), 1000))
        for start in range(0, job.count, size):
            yield start, min(start + size, job.count), None
        return
    size = 100 if job.rate is None else max(1, int(job.rate.per_s / processes))
    start = 0
    while True:
        yield start, start + size, None
        start += size


def context() -> multiprocessing.context.BaseContext:
    # Forking a process that runs threads (progress display, thread pools) can deadlock
    # the child; a fork server forks from a clean single-threaded process instead.
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__, "requests"])
        return context
    return multiprocessing.get_context("spawn")


#: How often the parent looks up from waiting to notice a stop or a deadline.
POLL_S = 0.2
#: How long abandoned workers get to hand back what they measured before they are killed.
ABANDON_S = 2.0


def run(job, recorder: Recorder) -> None:
    processes = job.process_count
    mp = context()
    stopping = mp.Event()
    unregister = recorder.on_stop(stopping.set)
    pool = ProcessPoolExecutor(processes, mp_context=mp, initializer=_start_worker, initargs=(job, stopping))
    start_workers(pool, processes, recorder)
    in_flight: set[Future] = set()
    deadline = time.time() + job.duration_s if job.duration_s else None
    try:
        for start, stop, share in ranges(job, processes):
            while len(in_flight) >= 2 * processes and not recorder.stopping.is_set():
                in_flight = _collect(in_flight, recorder, POLL_S)
            if recorder.stopping.is_set() or (deadline is not None and time.time() >= deadline):
                break
            in_flight.add(pool.submit(_run_range, start, stop, share, recorder.epoch))
        in_flight = _drain(in_flight, recorder, job.grace_s)
        if in_flight:  # still blocked after the grace period: abandon the operations, keep the rest
            signal_workers(pool, signal.SIGUSR1)
            _drain(in_flight, recorder, ABANDON_S)
    finally:
        unregister()
        if recorder.stopping.is_set():
            signal_workers(pool, signal.SIGKILL)
        pool.shutdown(wait=True, cancel_futures=True)


def start_workers(pool: ProcessPoolExecutor, processes: int, recorder: Recorder) -> None:
    """Start the pool's processes, then the run's clock: process start-up is part of the
    wall time, but no operation is due (or late) before workers exist."""
    wait([pool.submit(_ready) for _ in range(processes)])
    recorder.restart_clock()


def _drain(in_flight: set[Future], recorder: Recorder, grace_s: float) -> set[Future]:
    """Collect the ranges still running; after a stop, only for ``grace_s`` more.
    Returns the ranges still running."""
    grace_end = None
    while in_flight:
        timeout = POLL_S
        if recorder.stopping.is_set():
            grace_end = grace_end or time.monotonic() + grace_s
            timeout = grace_end - time.monotonic()
            if timeout <= 0:
                break
        in_flight = _collect(in_flight, recorder, timeout)
    return in_flight


def _collect(futures: set[Future], recorder: Recorder, timeout: float) -> set[Future]:
    """Merge the Stats of the ranges that finish within ``timeout``; return the rest."""
    done, pending = wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)
    for future in done:
        recorder.merge(Stats.from_wire(future.result()))
    return pending


def signal_workers(pool: ProcessPoolExecutor, signum: int) -> None:
    """Send ``signum`` to the pool's live workers (SIGUSR1: abandon; SIGKILL: end)."""
    # ProcessPoolExecutor has no public list of its processes before Python 3.14.
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive() and process.pid != os.getpid():
            try:
                os.kill(process.pid, signum)
            except ProcessLookupError:
                pass

"""The worker loops the strategies share: pull an operation, wait until it is due, do it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..metrics import Sample, Stats
from ..politeness import HostLimits, host_of
from ..work import Recorder, Work


def sync_worker(work: Work, io, session, record: Callable[[Sample], None], limits=None) -> None:
    """Do operations from ``work`` one after another until it runs out (within per-host
    ``limits``, when given)."""
    for op in work:
        if not work.wait_until_due(op):
            return
        if limits is None:
            record(io.do(session, op))
            continue
        host = host_of(op.target)
        if not limits.acquire(host, work.stopping):
            return
        try:
            record(io.do(session, op))
        finally:
            limits.release(host)


async def async_worker(work: Work, io, session, record: Callable[[Sample], None], limits=None) -> None:
    """The async twin of ``sync_worker``: one of C coroutines sharing one ``work``."""
    for op in work:
        if op.due is not None:
            delay = op.due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        if limits is None:
            record(await io.ado(session, op))
            continue
        host = host_of(op.target)
        await limits.acquire(host)
        try:
            record(await io.ado(session, op))
        finally:
            limits.release(host)


class Finish:
    """Set when every worker is done, or ``grace_s`` after a stop, whichever comes first.

    Blocking operations in threads and processes cannot be interrupted; after the
    grace period the strategy stops waiting for them instead.
    """

    def __init__(self, workers: int, recorder, grace_s: float) -> None:
        self._left = workers
        self._lock = threading.Lock()
        self.event = threading.Event()
        self._grace_s = grace_s
        self._unregister = recorder.on_stop(self._start_grace)

    def _start_grace(self) -> None:
        timer = threading.Timer(self._grace_s, self.event.set)
        timer.daemon = True
        timer.start()

    def worker_done(self, *_: object) -> None:
        with self._lock:
            self._left -= 1
            if self._left == 0:
                self.event.set()

    def wait(self) -> None:
        self.event.wait()
        self._unregister()


def run_sync_workers(job, recorder, workers: int) -> None:
    """``workers`` threads, a session each, pulling from one Work until it runs out.

    The main thread only waits, so after a stop it can give up on operations still
    blocked in a socket once the grace period is over.
    """
    from ..ops import io_for

    io = io_for(job)
    work = Work(job, recorder.stopping, recorder.epoch)
    limits = HostLimits(job.per_host, job.host_rate) if job.polite else None

    def worker() -> None:
        with io.session() as session:
            sync_worker(work, io, session, recorder.record, limits)

    finish = Finish(workers, recorder, job.grace_s)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="loadtool-worker")
    try:
        for _ in range(workers):
            pool.submit(worker).add_done_callback(finish.worker_done)
        finish.wait()
    finally:
        # Threads still blocked in a request after the grace period are left to their own
        # --timeout rather than waited for.
        pool.shutdown(wait=not recorder.stopping.is_set(), cancel_futures=True)


#: How often a process running a share of a job checks for a stop from outside.
WATCH_S = 0.25
#: How often it sends its counts onwards, when it does (hybrid).
SHIP_S = 0.25


def run_async_share(job, epoch: float, stopped: Callable[[float], bool], reason: str,
                    ship: Callable[[Stats], None] | None = None,
                    cpu_clock: Callable[[], float] = time.process_time) -> Stats:
    """Run a share of a job with the async strategy in this process (a hybrid process, a
    dask worker) and return its Stats.

    ``stopped(timeout)`` waits up to ``timeout`` for a stop from outside (a
    multiprocessing or dask Event); a stop becomes this run's stop. With ``ship``, counts
    so far are handed to it every SHIP_S, and the Stats returned hold only the rest.
    """
    from . import asyncio as async_strategy

    recorder = Recorder(job, epoch)
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                if stopped(WATCH_S):
                    recorder.stop(reason)
                    return
            except Exception:  # noqa: BLE001 - whoever would send the stop is gone: the run ends anyway
                return

    def send_counts() -> None:
        while not done.wait(SHIP_S):
            taken = recorder.take()
            if taken.ops:
                ship(taken)

    threads = [threading.Thread(target=watch, daemon=True)]
    if ship is not None:
        threads.append(threading.Thread(target=send_counts, daemon=True))
    for thread in threads:
        thread.start()
    cpu_start = cpu_clock()
    try:
        async_strategy.run(job, recorder)
    finally:
        done.set()
        for thread in threads:
            thread.join()
    stats = recorder.close()
    stats.cpu_s = cpu_clock() - cpu_start
    return stats

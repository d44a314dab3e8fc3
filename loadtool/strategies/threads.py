"""threads: C threads of a ThreadPoolExecutor, a session each, pulling from one Work.

C long-lived workers, not a future per operation: memory stays the same at any count.
The GIL lets one thread run Python at a time, but a thread waiting on a socket
releases it, so C threads overlap C waits.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from .. import engines
from ..engines.policy import Policy
from .politeness import HostLimits
from ..system import cpu_count
from .work import Work
from . import Layout, Scale, Strategy, wanted
from .workers import sync_worker


def run_in_threads(job, control, sink, workers: int) -> None:
    """Run the job with ``workers`` threads, each with its own session of the job's engine.

    Threads blocked in an operation cannot be interrupted: after a stop and its grace
    period, the run stops waiting for them (they end at their own deadline).
    """
    engine, policy = engines.load(job.engine, job), Policy.for_job(job)
    work = Work(job, control, sink.epoch)
    limits = HostLimits.for_job(job)
    left, finished, lock = [workers], threading.Event(), threading.Lock()

    def worker() -> None:
        try:
            with engine.session() as session:
                sync_worker(work, engine, session, policy, sink.record, limits)
        finally:
            with lock:
                left[0] -= 1
                if left[0] == 0:
                    finished.set()

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="loadtool-worker")
    try:
        for _ in range(workers):
            pool.submit(worker)
        control.wait_until(finished.wait)
    finally:
        sink.settle(work.issued)
        if limits is not None and limits.said():
            sink.details["retry_after"] = limits.said()
        pool.shutdown(wait=not control.stopped, cancel_futures=True)


class Threads(Strategy):
    name = "threads"
    scale = Scale(max_workers=512)

    def layout(self, job) -> Layout:
        # Threads release the GIL in socket and file calls: up to every core can be busy.
        threads = wanted(job)
        return Layout(in_flight=threads, threads=threads, cores=max(1, min(threads, cpu_count())))

    def run(self, job, layout, control, sink) -> None:
        run_in_threads(job, control, sink, workers=layout.threads)


STRATEGY = Threads()

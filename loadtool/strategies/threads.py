"""threads: C threads of a ThreadPoolExecutor, a requests.Session each, pulling from one Work.

C long-lived workers, not a future per operation: memory stays the same at any count.
The GIL lets one thread run Python at a time, but a thread waiting on a socket
releases it, so C threads overlap C waits.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..ops import io_for
from ..work import Recorder, Work
from .common import Finish, sync_worker


def run(job, recorder: Recorder) -> None:
    io = io_for(job)
    work = Work(job, recorder.stopping, recorder.epoch)

    def worker() -> None:
        with io.session() as session:
            sync_worker(work, io, session, recorder.record)

    finish = Finish(job.concurrency, recorder, job.grace_s)
    pool = ThreadPoolExecutor(max_workers=job.concurrency, thread_name_prefix="loadtool-worker")
    try:
        for _ in range(job.concurrency):
            pool.submit(worker).add_done_callback(finish.worker_done)
        finish.wait()
    finally:
        # After a stop's grace period, threads still blocked in a request are left to
        # their own --timeout rather than waited for.
        pool.shutdown(wait=not recorder.stopping.is_set(), cancel_futures=True)

"""async: one event loop, one aiohttp session, C coroutines pulling from one Work.

``asyncio.gather`` runs C worker coroutines, not one task per operation, so 10^10
operations take the same memory as 10. Each worker awaits its response, and while it
waits the loop runs the others: one thread overlaps C waits with no locks and no
thread switches. uvloop is used when installed.
"""

from __future__ import annotations

import asyncio

from ..fasthttp import run_fast
from ..ops import io_for
from ..politeness import AsyncHostLimits
from ..system import event_loop_factory
from ..work import Recorder, Work
from .common import async_worker


def run(job, recorder: Recorder) -> None:
    """Run the job on a new event loop (uvloop when available)."""
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(run_async(job, recorder))


async def run_async(job, recorder: Recorder) -> None:
    """Run the job on the running event loop (for ``loadtool.arun`` and Jupyter)."""
    if job.engine == "fast":
        await run_fast(job, recorder)
        return
    io = io_for(job)
    work = Work(job, recorder.stopping, recorder.epoch)
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    unregister = recorder.on_stop(lambda: loop.call_soon_threadsafe(stopped.set))
    limits = AsyncHostLimits(job.per_host, job.host_rate) if job.polite else None
    try:
        async with io.asession(job.concurrency) as session:
            workers = asyncio.gather(*(async_worker(work, io, session, recorder.record, limits)
                                       for _ in range(job.concurrency)))
            await _until_done_or_stopped(workers, stopped, job.grace_s)
    finally:
        unregister()


async def _until_done_or_stopped(workers: asyncio.Future, stopped: asyncio.Event, grace_s: float) -> None:
    """Wait for the workers; after a stop, give in-flight operations ``grace_s``, then cancel them."""
    stop_wait = asyncio.ensure_future(stopped.wait())
    try:
        await asyncio.wait({workers, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        if not workers.done():
            await asyncio.wait({workers}, timeout=grace_s)
        if workers.done():
            workers.result()  # a worker's own failure (a bug, never an operation's) surfaces here
            return
        workers.cancel()
        try:
            await workers
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():
                raise  # we are being cancelled ourselves, not just our workers
    finally:
        stop_wait.cancel()

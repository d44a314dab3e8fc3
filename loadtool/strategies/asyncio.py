"""async: one event loop, C workers pulling from one Work.

``asyncio.gather`` runs C worker coroutines, not one task per operation, so 10^10
operations take the same memory as 10. Each worker awaits its answer, and while it
waits the loop runs the others: one thread overlaps C waits with no locks and no thread
switches. An engine that works by callbacks (the fast engine) runs its C workers as
state machines instead (``strategies.loop``). uvloop is used when installed.
"""

from __future__ import annotations

import asyncio
import time

from .. import engines
from ..engines.policy import Policy
from .politeness import AsyncHostLimits
from ..system import cpu_count, event_loop_factory
from .work import Work
from . import Layout, Scale, Strategy, multiplexed, streams, wanted
from .loop import LoopDriver
from .multi import MultiDriver
from .workers import async_worker


async def run_async(job, layout: Layout, control, sink) -> None:
    """Run the job on the running event loop (for ``loadtool.arun`` and Jupyter)."""
    engine, policy = engines.load(job.engine, job), Policy.for_job(job)
    in_flight = layout.in_flight
    style = engines.style(job.engine)
    if style == "multi":  # its own loop, in a thread: it drives its sockets fastest itself
        await asyncio.to_thread(MultiDriver(job, in_flight, engine, policy, control, sink).run)
        return
    if style == "loop":
        await LoopDriver(job, in_flight, engine, policy, control, sink, asyncio.get_running_loop()).run()
        return
    work = Work(job, control, sink.epoch, shared=False)  # every worker runs on this loop
    limits = AsyncHostLimits.for_job(job)
    # An operation of the user's own may block the loop (time.sleep, requests): watched.
    lagging = asyncio.ensure_future(_watch_lag(sink.details)) if job.kind == "run" else None
    async with engine.session(in_flight) as session:
        workers = asyncio.gather(*(async_worker(work, engine, session, policy, sink.record, limits)
                                   for _ in range(in_flight)))
        try:
            if await control.await_done(workers):
                return
            workers.cancel()  # after the grace period: drop what is still in flight
            try:
                await workers
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():
                    raise  # we are being cancelled ourselves, not just our workers
        finally:
            sink.settle(work.issued)
            if limits is not None and limits.said():
                sink.details["retry_after"] = limits.said()
            if lagging is not None:
                lagging.cancel()


#: How often the loop's lag is sampled, and how late a wake-up must be to count as the loop
#: blocked (a loaded machine is late by a millisecond now and then).
LAG_TICK_S, LAG_FLOOR_S = 0.02, 0.002


async def _watch_lag(details: dict) -> None:
    """Sum, in ``details["loop_blocked_s"]``, how long the loop was blocked: how late a timer
    that should wake it every LAG_TICK_S was, where it was late past LAG_FLOOR_S — and off
    the CPU, not waiting for one. A loop busy with many callbacks is late too, but on the CPU;
    one on a busy machine waits for a CPU; one blocked by a call (time.sleep, a socket read)
    waits for neither."""
    loop = asyncio.get_running_loop()
    details["loop_blocked_s"] = 0.0
    while True:
        start, (ran, queued) = loop.time(), _scheduled()
        await asyncio.sleep(LAG_TICK_S)
        took = loop.time() - start
        late = took - LAG_TICK_S
        if late > LAG_FLOOR_S:
            now_ran, now_queued = _scheduled()
            # Off the CPU, less the time it waited for a CPU another process had (a busy machine).
            details["loop_blocked_s"] += min(late, max(took - (now_ran - ran) - (now_queued - queued), 0.0))


def _scheduled() -> tuple[float, float]:
    """This thread's seconds on a CPU, and waiting for one (runnable, another thread running):
    Linux's schedstat; elsewhere its CPU time, and no wait known."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as stat:
            ran_ns, queued_ns, _ = stat.read().split()
        return int(ran_ns) / 1e9, int(queued_ns) / 1e9
    except (OSError, ValueError):
        return time.thread_time(), 0.0


class Async(Strategy):
    name = "async"
    scale = Scale(max_workers=10_000)

    def layout(self, job) -> Layout:
        connections = wanted(job)
        if job.kind == "read":
            # aiofiles runs each file call in a pool of C threads, which release the GIL.
            return Layout(in_flight=connections, threads=connections, connections=connections,
                          cores=max(1, min(connections, cpu_count())))
        per = streams(job)
        return Layout(in_flight=connections, connections=-(-connections // per), streams=per,
                      multiplexed=multiplexed(job), unit="coroutine" if job.kind == "run" else "connection")

    def run(self, job, layout, control, sink) -> None:
        """Run the job on a new event loop (uvloop when available)."""
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(run_async(job, layout, control, sink))


STRATEGY = Async()

"""hybrid: P processes, each running the async strategy (either engine) on its share.

When one core is not enough for the client, wrk adds threads; Python adds processes.
Process p does operations p, p+P, p+2P, … with C/P connections, so each process gets
an even share of an open-model schedule (operation k is still due at k/R). Every
quarter second each process sends what it counted (encoded Stats) to the parent,
which merges them: progress stays live and memory stays flat.
"""

from __future__ import annotations

import math
import os
import queue
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from .. import engines
from ..system import become_worker, cpu_count
from . import Layout, Scale, Strategy, multiplexed, streams, wanted
from .pool import context, process_count, signal_workers, start_workers
from .share import run_share

#: After the grace period, how long the processes get to send what they have.
WIND_DOWN_S = 2.0
#: How long the end of a run waits for the thread that merges the processes' counts.
COLLECT_JOIN_S = 5.0

_shared: dict = {}


def _start_process(stopping, counts, engine: str, owner: int) -> None:
    become_worker(owner)
    engines.engine_class(engine)  # imported now: before the clock starts, not during the run
    _shared.update(stopping=stopping, counts=counts)


def _run_share(job, epoch: float) -> dict:
    """Run this process's share with the async strategy; ship counts as they come (first, which
    process runs which share: should it die, the report names its share)."""
    share = job.share
    _shared["counts"].put(("share", os.getpid(), f"operations {share.index}, {share.index + share.of}, … (every "
                           f"{share.of} from {share.index})" if not share.by_host
                           else f"the hosts of process {share.index + 1} of {share.of}"))
    return run_share(job, epoch, _shared["stopping"].wait, "parent", ship=_shared["counts"].put)


def _collect(counts, sink, shares: dict[int, str]) -> None:
    """Merge the counts the processes send until the run ends (a None on the queue); note which
    process runs which share."""
    while True:
        try:
            wire = counts.get(timeout=1.0)
        except queue.Empty:
            continue
        if wire is None:
            return
        if type(wire) is tuple:
            shares[wire[1]] = wire[2]
            continue
        sink.merge_wire(wire)


def _finished(shares: list[Future]):
    """``done(timeout)`` for RunControl.wait_until: whether every share has finished; a share's
    own failure (a bug, never an operation's) is raised."""
    def done(timeout: float) -> bool:
        _, pending = wait(shares, timeout=timeout)
        for share in shares:
            if share.done() and share.exception() is not None:
                raise share.exception()
        return not pending
    return done


class Hybrid(Strategy):
    name = "hybrid"
    crosses_processes = True
    scale = Scale(max_workers=40_000, all_cores=True, memory_per_process=True)

    def layout(self, job) -> Layout:
        processes, why = process_count(job)
        in_flight = wanted(job)
        processes = min(processes, in_flight)
        per = streams(job)
        return Layout(in_flight=in_flight, processes=processes, streams=per, multiplexed=multiplexed(job),
                      connections=math.ceil(math.ceil(in_flight / processes) / per),
                      cores=max(1, min(processes, cpu_count())), why=why,
                      unit="coroutine" if job.kind == "run" else "connection")

    def run(self, job, layout, control, sink) -> None:
        processes = layout.processes
        mp = context()
        stopping, counts = mp.Event(), mp.Queue()
        end_forward = control.forward(stopping.set)
        pool = ProcessPoolExecutor(processes, mp_context=mp, initializer=_start_process,
                                   initargs=(stopping, counts, job.engine, os.getpid()))
        run_by: dict[int, str] = {}
        collector = threading.Thread(target=_collect, args=(counts, sink, run_by), daemon=True)
        collector.start()
        try:
            workers = start_workers(pool, processes, sink)
            shares = [pool.submit(_run_share, layout.part(job, index), sink.epoch) for index in range(processes)]
            try:
                # Each process keeps the grace period itself; the parent waits for it, then a wind-down.
                control.wait_until(_finished(shares), extra_s=WIND_DOWN_S)
            except BrokenProcessPool:  # a process died: what the others shipped stands
                workers.lose(control, sink, run_by, ["the last quarter second of every share"])
            for share in shares:
                if share.done() and not share.cancelled() and share.exception() is None:
                    sink.merge_wire(share.result())
        finally:
            end_forward()
            counts.put(None)
            # Bounded: a process killed while writing to the queue leaves half a message in its
            # pipe, and the collector waits for the rest for good. It is a daemon; what came
            # whole before it stands.
            collector.join(COLLECT_JOIN_S)
            if control.stopped:
                signal_workers(pool, signal.SIGKILL)
            pool.shutdown(wait=True, cancel_futures=True)


STRATEGY = Hybrid()

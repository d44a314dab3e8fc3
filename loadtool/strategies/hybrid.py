"""hybrid: P processes, each running the async strategy (either engine) on its share.

When one core is not enough for the client, wrk adds threads; Python adds processes.
Process p does operations p, p+P, p+2P, … with C/P connections, so each process gets
an even share of an open-model schedule (operation k is still due at k/R). Every
quarter second each process sends what it counted (encoded Stats) to the parent,
which merges them: progress stays live and memory stays flat.
"""

from __future__ import annotations

import queue
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, wait

from ..metrics import Stats
from ..system import die_with_parent, peak_rss_bytes
from ..work import Recorder
from .common import run_async_share
from .processes import POLL_S, context, signal_workers, start_workers

#: After the grace period, how long the processes get to send what they have.
WIND_DOWN_S = 2.0

_shared: dict = {}


def _start_process(stopping, counts) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    die_with_parent()
    _shared.update(stopping=stopping, counts=counts)


def _run_share(job, epoch: float) -> dict:
    """Run this process's share with the async strategy; ship counts as they come."""
    counts = _shared["counts"]
    rest = run_async_share(job, epoch, _shared["stopping"].wait, "parent",
                           ship=lambda taken: counts.put(taken.to_wire()))
    rest.worker_peak_bytes = peak_rss_bytes()
    return rest.to_wire()


def run(job, recorder: Recorder) -> None:
    processes = max(1, min(job.process_count, job.concurrency))
    mp = context()
    stopping, counts = mp.Event(), mp.Queue()
    unregister = recorder.on_stop(stopping.set)
    pool = ProcessPoolExecutor(processes, mp_context=mp, initializer=_start_process, initargs=(stopping, counts))
    collector = threading.Thread(target=_collect, args=(counts, recorder), daemon=True)
    collector.start()
    try:
        start_workers(pool, processes, recorder)
        shares = [pool.submit(_run_share, job.share(index, processes), recorder.epoch) for index in range(processes)]
        _wait(shares, recorder, job.grace_s)
        for share in shares:
            if share.done() and not share.cancelled() and share.exception() is None:
                recorder.merge(Stats.from_wire(share.result()))
    finally:
        unregister()
        counts.put(None)
        collector.join()
        if recorder.stopping.is_set():
            signal_workers(pool, signal.SIGKILL)
        pool.shutdown(wait=True, cancel_futures=True)


def _wait(shares: list[Future], recorder: Recorder, grace_s: float) -> None:
    """Wait for every share; after a stop, for the grace period and a wind-down at most."""
    pending = set(shares)
    give_up = None
    while pending:
        if recorder.stopping.is_set() and give_up is None:
            give_up = time.monotonic() + grace_s + WIND_DOWN_S
        if give_up is not None and time.monotonic() >= give_up:
            return
        _, pending = wait(pending, timeout=POLL_S)
        for share in shares:
            if share.done() and share.exception() is not None:
                raise share.exception()


def _collect(counts, recorder: Recorder) -> None:
    """Merge the counts the processes send until the run ends (a None on the queue)."""
    while True:
        try:
            wire = counts.get(timeout=1.0)
        except queue.Empty:
            continue
        if wire is None:
            return
        recorder.merge(Stats.from_wire(wire))

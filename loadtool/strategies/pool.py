"""A pool of worker processes, as the processes and hybrid strategies and the partitioned
crawl start them: how they start (a fork server, helpers stopped at exit), how many, how
they are signalled, and how the loss of one is told.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor, wait

from ..system import at_exit, cpu_count
from .control import WORKER_LOST
from . import wanted


def context() -> multiprocessing.context.BaseContext:
    # Forking a process that runs threads (progress display, thread pools) can deadlock
    # the child; a fork server forks from a clean single-threaded process instead.
    at_exit(stop_helpers)
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([f"{__package__}.processes", "requests", f"{__package__}.forkserver"])
        return context
    return multiprocessing.get_context("spawn")


def stop_helpers() -> None:
    """Stop and reap the fork server and resource tracker that multiprocessing started for
    this process. Left alone, they outlive it as zombies until init reaps them; the pools'
    workers are already joined (``shutdown(wait=True)``)."""
    from multiprocessing import forkserver, resource_tracker, util

    # An exit at once (a lost worker, an interrupted run) skips the finalizers that unlink the
    # pools' semaphores: the resource tracker would then unlink them itself, with a warning of
    # "leaked semaphore objects". Those of priority 0 and up only unlink and close (none joins).
    try:
        util._run_finalizers(0)
    except Exception:  # noqa: BLE001 - private, and only tidiness rides on it
        pass
    for helper in (forkserver._forkserver, resource_tracker._resource_tracker):
        try:
            helper._stop()  # private, and the only way short of Python 3.14's public one
        except (AttributeError, ChildProcessError, OSError):
            pass


def _ended_by(code: int) -> str:
    """How a process ended, from its exit code (negative: the signal that killed it; 255: the
    fork server could not say, as when it lost the race with the pool's own look)."""
    if code == 255:
        return "ended abruptly"
    if code >= 0:
        return f"exit code {code}"
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


class Workers:
    """A pool's worker processes, as started: to signal them, and to name the one that died.

    A ProcessPoolExecutor whose worker dies is broken for good: every task in flight fails
    (BrokenProcessPool), and it stops the other workers. What was measured and merged before
    stands; ``lose`` names the dead worker, what it was doing, and stops the run."""

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        # ProcessPoolExecutor has no public list of its processes before Python 3.14.
        self.processes = dict(getattr(pool, "_processes", None) or {})

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the live workers (SIGUSR1: abandon; SIGKILL: end)."""
        for process in self.processes.values():
            if process.is_alive() and process.pid != os.getpid():
                try:
                    os.kill(process.pid, signum)
                except ProcessLookupError:
                    pass

    def lose(self, control, sink, shares: dict[int, str], unfinished: list[str]) -> None:
        """After a worker died: name it (pid, the signal or exit code that ended it, its share)
        in ``details["lost_workers"]``, with the work that never came back, and stop the run."""
        lost = []
        for pid, process in self.processes.items():
            code = process.exitcode
            if code not in (None, 0):
                lost.append({"pid": pid, "ended_by": _ended_by(code), "share": shares.get(pid)})
        sink.details["lost_workers"] = lost or [{"pid": None, "ended_by": "unknown", "share": None}]
        sink.details["unfinished"] = unfinished
        control.stop(WORKER_LOST)
        self.signal(signal.SIGKILL)  # the pool asked the others to stop; they heed only the run


def process_count(job) -> tuple[int, str]:
    """Worker processes of the processes and hybrid strategies, and why that many:
    --processes, else one per CPU, never more than --concurrency."""
    if job.processes:
        return job.processes, ""
    if cpu_count() <= wanted(job):
        return cpu_count(), "one per CPU; -p sets the number"
    return wanted(job), ""


def ready() -> int:
    """Nothing: submitted once per process so the pool has started before the clock does."""
    return os.getpid()


def start_workers(pool: ProcessPoolExecutor, processes: int, sink) -> Workers:
    """Start the pool's processes, then the run's clock: process start-up is part of the
    wall time, but no operation is due (or late) before workers exist."""
    wait([pool.submit(ready) for _ in range(processes)])
    sink.restart_clock()
    return Workers(pool)


def signal_workers(pool: ProcessPoolExecutor, signum: int) -> None:
    """Send ``signum`` to the pool's live workers (SIGUSR1: abandon; SIGKILL: end)."""
    Workers(pool).signal(signum)

"""The shared plumbing of a run: work goes out to workers, Samples come back.

``Work`` hands out operations one at a time to however many workers a strategy runs,
and ends when the count is reached, the duration is over, or the run is stopped.
In the open model (``--rate``) each operation carries the time it is due; latency is
measured from then, so a stalled target cannot hide its stall by slowing the client
down (coordinated omission). ``Recorder`` is where Samples go: one lock around one
Stats, and the stop signal every worker watches.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from itertools import islice
from dataclasses import dataclass

from .metrics import Sample, Stats
from .targets import InvalidTarget
from .units import Rate


class Pacer:
    """When operation *k* is due, in seconds after the start, for a rate and its ramp.

    A linear ramp from 0 to R over T seconds makes R·t²/2T operations due by time t,
    then R more each second; ``offset_s`` inverts that count.
    """

    def __init__(self, rate: Rate) -> None:
        self.per_s, self.ramp_s = rate.per_s, rate.ramp_s
        self._ramp_ops = rate.per_s * rate.ramp_s / 2

    def offset_s(self, index: int) -> float:
        if index < self._ramp_ops:
            return math.sqrt(2 * self.ramp_s * index / self.per_s)
        return self.ramp_s + (index - self._ramp_ops) / self.per_s


@dataclass(frozen=True, slots=True)
class Op:
    """One operation to do: its index in the run, its target, and when it is due."""

    index: int
    target: str | InvalidTarget
    due: float | None = None  # time.perf_counter() time; None in the closed model


def clock_base(epoch: float) -> float:
    """The ``time.perf_counter()`` reading of wall-clock time ``epoch`` in this process."""
    return time.perf_counter() - (time.time() - epoch)


class Work:
    """The operations ``start`` up to ``stop`` of a job, handed out one at a time.

    Thread-safe; any number of workers may pull from one Work. It never holds more
    than one operation, so a run of any length takes the same memory.
    """

    def __init__(self, job, stopping: threading.Event, epoch: float,
                 start: int = 0, stop: int | None = None) -> None:
        self._ops = job.targets.iter_from(start, job.count if stop is None else stop)
        if job.slice is not None:
            offset, step = job.slice
            # Every step-th operation: reading the ones in between is far cheaper than seeking.
            self._ops = islice(self._ops, offset, None, step)
        if job.host_share is not None:
            from .politeness import host_share

            mine, of = job.host_share
            self._ops = ((index, target) for index, target in self._ops if host_share(target, of) == mine)
        base = clock_base(epoch)
        self._deadline = base + job.duration_s if job.duration_s else math.inf
        self._pacer = Pacer(job.rate) if job.rate else None
        self._base = base
        self._stopping = stopping
        self._lock = threading.Lock()

    def __iter__(self) -> Work:
        return self

    def __next__(self) -> Op:
        if self._stopping.is_set() or time.perf_counter() >= self._deadline:
            raise StopIteration
        with self._lock:
            index, target = next(self._ops)
        if self._pacer is None:
            return Op(index, target)
        due = self._base + self._pacer.offset_s(index)
        if due >= self._deadline:
            raise StopIteration
        return Op(index, target, due)

    @property
    def stopping(self) -> threading.Event:
        return self._stopping

    def wait_until_due(self, op: Op) -> bool:
        """Block until ``op`` is due; False if the run was stopped meanwhile."""
        if op.due is not None:
            delay = op.due - time.perf_counter()
            if delay > 0:
                return not self._stopping.wait(delay)
        return not self._stopping.is_set()


class Recorder:
    """Where a strategy's workers put Samples, and how they learn to stop.

    ``record`` may be called from any thread. ``stop`` is safe to call from a signal
    handler: it sets an Event and runs the callbacks strategies registered (an async
    strategy registers one that wakes its event loop).
    """

    def __init__(self, job, epoch: float | None = None) -> None:
        self.job = job
        self.epoch = time.time() if epoch is None else epoch
        self.stats = Stats(self.epoch, open_model=job.rate is not None)
        self.stopping = threading.Event()
        self.stop_reason: str | None = None
        self._lock = threading.Lock()
        self._on_stop: list[Callable[[], None]] = []
        self._closed = False
        #: Facts a strategy reports besides Stats (the cluster's workers, say), for the Result.
        self.details: dict = {}

    def record(self, sample: Sample) -> None:
        with self._lock:
            if not self._closed:
                self.stats.add(sample)

    def merge(self, stats: Stats) -> None:
        with self._lock:
            if not self._closed:
                self.stats.merge(stats)

    def restart_clock(self) -> None:
        """Start the run's schedule now: for strategies that first start workers (processes,
        a cluster), so an open-model schedule and a duration count from when work can
        start, not from before the workers existed. Only before anything is recorded."""
        with self._lock:
            if self.stats.ops:
                raise RuntimeError("restart_clock() after operations were recorded")
            self.epoch = time.time()
            self.stats = Stats(self.epoch, open_model=self.job.rate is not None)

    def take(self) -> Stats:
        """What was counted since the last take (or the start); counting goes on in a new Stats."""
        with self._lock:
            taken, self.stats = self.stats, Stats(self.epoch, open_model=self.job.rate is not None)
            return taken

    def close(self) -> Stats:
        """End the run: operations still in flight (abandoned after a grace period) can no
        longer change what was measured. Returns the final Stats."""
        with self._lock:
            self._closed = True
            return self.stats

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.stopping.set()
        for callback in list(self._on_stop):
            callback()

    def on_stop(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` when the run is stopped; returns a function that unregisters it."""
        self._on_stop.append(callback)
        if self.stopping.is_set():
            callback()
        return lambda: self._on_stop.remove(callback)

    def snapshot(self) -> Snapshot:
        """What the run has done so far (for progress displays)."""
        with self._lock:
            stats = self.stats
            p99 = stats.latency.get_value_at_percentile(99) / 1000 if stats.ops else None
            return Snapshot(stats.ops, stats.failed, p99, stats.first_error)


@dataclass(frozen=True, slots=True)
class Snapshot:
    ops: int
    failed: int
    p99_ms: float | None
    first_error: str | None

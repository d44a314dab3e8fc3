"""Sink: where a run's Samples go — one lock around one Stats.

Every strategy hands its measurements to a Sink: a Sample at a time from threads and
coroutines (``record``), or whole Stats from processes, machines and the fast engines'
own per-tick counts (``merge``). Progress displays read it while the run goes on
(``snapshot``); ``close`` ends the run, so an operation abandoned after the grace period
can no longer change what was measured. With ``write``, each operation's record
(``--raw``) is handed on as soon as it arrives, so records never pile up here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from .metrics import Sample, Stats


class Snapshot(NamedTuple):
    """What a run has done so far."""

    ops: int
    failed: int
    p99_ms: float | None
    first_error: str | None


class Sink:
    """The Stats of one run, safe to add to from any thread."""

    def __init__(self, open_model: bool = False, epoch: float | None = None, records: bool = False,
                 write: Callable[[list[tuple]], None] | None = None) -> None:
        self.open_model = open_model
        self.epoch = time.time() if epoch is None else epoch
        self.keep_records = records or write is not None
        self._write = write
        self.stats = self.new_stats()
        self._lock = threading.Lock()
        self._closed = False
        #: Facts a strategy reports besides Stats (the cluster's workers, say), for the Result.
        self.details: dict[str, Any] = {}

    def record(self, sample: Sample) -> None:
        with self._lock:
            if not self._closed:
                self.stats.add(sample)
                if self._write is not None:
                    self._write(self.stats.take_records())

    def merge(self, stats: Stats) -> None:
        with self._lock:
            if not self._closed:
                self.stats.merge(stats)
                if self._write is not None and self.stats.records:
                    self._write(self.stats.take_records())

    def hand_over(self, stats: Stats) -> None:
        """Merge a worker's counts, which then count from zero again (the same Stats, reused)."""
        if stats.ops:
            self.merge(stats)
            stats.reset()

    def new_stats(self) -> Stats:
        """An empty Stats of this run (same epoch, model and records), for a worker to count into."""
        return Stats(self.epoch, open_model=self.open_model, records=self.keep_records)

    def restart_clock(self) -> None:
        """Start the run's schedule now: for strategies that first start workers (processes, a
        cluster), so an open-model schedule and a duration count from when work can start,
        not from before the workers existed. Only before anything is recorded."""
        with self._lock:
            if self.stats.ops:
                raise RuntimeError("restart_clock() after operations were recorded")
            self.epoch = time.time()
            self.stats = self.new_stats()

    def take_wire(self) -> dict | None:
        """What was counted since the last take (or the start), encoded for another process;
        counting goes on from zero in the same Stats. None when nothing was counted."""
        with self._lock:
            if not self.stats.ops:
                return None
            wire = self.stats.to_wire()
            self.stats.reset()
            return wire

    def close(self) -> Stats:
        """End the run and return its Stats; later records and merges are ignored."""
        with self._lock:
            self._closed = True
            return self.stats

    def read(self, look: Callable[[Stats], Any]) -> Any:
        """``look(stats)`` under the lock, for a reader that needs the counts as one moment
        (a metrics scrape); its value is returned."""
        with self._lock:
            return look(self.stats)

    def snapshot(self) -> Snapshot:
        with self._lock:
            stats = self.stats
            p99 = stats.latency.get_value_at_percentile(99) / 1000 if stats.ops else None
            return Snapshot(stats.ops, stats.failed, p99, stats.first_error)

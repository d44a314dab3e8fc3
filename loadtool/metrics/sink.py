"""Sink: where a run's Samples go — one lock around one Stats, and the run's --raw records.

Every strategy hands its measurements to a Sink: a Sample at a time from threads and
coroutines (``record``), or a whole Batch from workers that count on their own —
processes, machines and the drivers of the fast and curl engines (``hand_over``,
``merge_wire``). Progress displays read it while the run goes on (``snapshot``);
``close`` ends the run, so an operation abandoned after the grace period can no longer
change what was measured. Records (``--raw``) are a log, not a count: with ``write``,
each batch of them is handed on as soon as it arrives, so records never pile up here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from . import Records, Sample, Stats


class Snapshot(NamedTuple):
    """What a run has done so far."""

    ops: int
    failed: int
    p99_ms: float | None
    first_error: str | None


class Batch:
    """What one worker counts on its own, with no lock (one thread, or its own process), until
    it hands the batch over: Stats, and with --raw each operation's record."""

    __slots__ = ("stats", "records", "add")

    def __init__(self, epoch: float, open_model: bool = False, records: bool = False) -> None:
        self.stats = Stats(epoch, open_model=open_model)
        self.records = Records(epoch) if records else None
        #: Count one Sample (its record too, with --raw): the hot path, chosen once.
        self.add: Callable[[Sample], None] = self.stats.add if self.records is None else self._add_with_record

    def _add_with_record(self, sample: Sample) -> None:
        self.stats.add(sample)
        self.records.add(sample)

    def to_wire(self) -> dict[str, Any]:
        """The batch as plain data for another process: encoded Stats, and the records."""
        return {"stats": self.stats.to_wire(), "records": None if self.records is None else self.records.take()}

    def clear(self) -> None:
        """Count from zero again (the Stats keep their histograms' memory)."""
        self.stats.reset()
        if self.records is not None:
            self.records.kept = []


class Sink:
    """The Stats of one run, safe to add to from any thread."""

    def __init__(self, open_model: bool = False, epoch: float | None = None, records: bool = False,
                 write: Callable[[list[tuple]], None] | None = None) -> None:
        self.open_model = open_model
        self.epoch = time.time() if epoch is None else epoch
        self.keep_records = records or write is not None
        self._write = write
        self.stats = Stats(self.epoch, open_model=open_model)
        self._records = Records(self.epoch) if self.keep_records else None
        self._lock = threading.Lock()
        self._closed = False
        #: Operations counted here since the start (take_wire empties the Stats, not this).
        self.recorded = 0
        #: Facts a strategy reports besides Stats (the cluster's workers, say), for the Result.
        self.details: dict[str, Any] = {}

    def record(self, sample: Sample) -> None:
        with self._lock:
            if not self._closed:
                self.recorded += 1
                self.stats.add(sample)
                if self._records is not None:
                    self._records.add(sample)
                    if self._write is not None:
                        self._write(self._records.take())

    def merge(self, stats: Stats, records: list[tuple] | None = None) -> None:
        """Add a worker's Stats (and its records, with --raw)."""
        with self._lock:
            if not self._closed:
                self.recorded += stats.ops
                self.stats.merge(stats)
                if records and self._records is not None:
                    self._records.kept.extend(records)
                    if self._write is not None:
                        self._write(self._records.take())

    def merge_wire(self, wire: dict[str, Any]) -> None:
        """Add a batch another process counted (``Batch.to_wire``, ``take_wire``)."""
        self.merge(Stats.from_wire(wire["stats"]), wire.get("records"))

    def settle(self, issued: int) -> None:
        """The work that fed this sink handed out ``issued`` operations: those not counted were
        abandoned (in flight when the run ended, past the grace period). For a sink fed by one
        Work (a strategy on one loop or thread pool, a worker process's share)."""
        with self._lock:
            if not self._closed and issued > self.recorded:
                self.stats.counts.abandoned += issued - self.recorded
                self.recorded = issued

    def new_batch(self) -> Batch:
        """An empty Batch of this run (same epoch, model and records), for a worker to count into."""
        return Batch(self.epoch, self.open_model, self.keep_records)

    def hand_over(self, batch: Batch) -> None:
        """Merge a worker's batch, which then counts from zero again (the same Batch, reused)."""
        if batch.stats.ops:
            self.merge(batch.stats, None if batch.records is None else batch.records.take())
            batch.clear()

    def restart_clock(self) -> None:
        """Start the run's schedule now: for strategies that first start workers (processes, a
        cluster), so an open-model schedule and a duration count from when work can start,
        not from before the workers existed. Only before anything is recorded."""
        with self._lock:
            if self.stats.ops:
                raise RuntimeError("restart_clock() after operations were recorded")
            self.epoch = time.time()
            self.stats = Stats(self.epoch, open_model=self.open_model)
            if self._records is not None:
                self._records = Records(self.epoch)

    def take_wire(self) -> dict | None:
        """What was counted since the last take (or the start), encoded for another process
        (as ``Batch.to_wire``); counting goes on from zero. None when nothing was counted."""
        with self._lock:
            if not self.stats.ops:
                return None
            return self._wire()

    def close_wire(self, cpu_s: float, peak_bytes: int) -> dict:
        """In a worker process: end its run and return the rest of what it counted, encoded for
        the parent, with the CPU seconds it spent and its peak memory."""
        with self._lock:
            self._closed = True
            self.stats.cpu_s, self.stats.worker_peak_bytes = cpu_s, peak_bytes
            return self._wire()

    def _wire(self) -> dict:
        wire = {"stats": self.stats.to_wire(),
                "records": None if self._records is None else self._records.take()}
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

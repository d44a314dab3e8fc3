"""Samples in, Stats out: what one operation did, and everything a run measured.

``Stats.add`` accumulates one Sample into the parts (``parts``): counts, latency, phases,
checks and the per-second series. Nothing is kept per request, so memory does not grow
with the number of operations, and every part merges exactly, so Stats from threads,
processes or machines add up to the Stats of one run. ``to_wire``/``from_wire`` carry
Stats between processes as plain data.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple

from hdrh.histogram import HdrHistogram

from . import clock
from .histograms import HIGHEST_US, LOWEST_US, PERCENTILES, mean_of
from .parts import Checks, Counts, Latency, PerSecond, Phases
from .steps import Steps



class Sample(NamedTuple):
    """What one operation did.

    ``latency_us`` runs from the moment the operation was due (open model) or first sent
    (closed model) to its end; ``service_us`` from the first send, and is only set when
    the two differ. A failed operation has ``error`` set to an error kind. (A NamedTuple,
    not a frozen dataclass: one is built per operation, and this is 3x cheaper.)
    """

    latency_us: int
    ok: bool
    status: int | None = None
    error: str | None = None
    bytes: int = 0
    service_us: int | None = None
    attempts: int = 1
    detail: str | None = None  # the error's message, kept only for the run's first error
    #: The operation (index, target, due time), for its record; None in hand-made Samples.
    op: Any = None
    #: When the operation was first sent (a ``time.perf_counter()`` reading).
    first_s: float = 0.0
    #: The HTTP version the answer came in ("HTTP/1.1", "HTTP/2", "HTTP/3"), when known.
    protocol: str | None = None
    #: Whether the operation opened a new connection (False: it reused one; None: unknown).
    connected: bool | None = None
    #: Seconds in each of PHASES (None where the engine cannot see one), or None; for an
    #: operation of the user's own, its steps and checks (steps.StepTimes).
    phases: tuple | None = None
    #: Whether the answer passed each of the job's checks, in order (None: no checks ran).
    checks: tuple | None = None
    #: The body's size decoded, when it came encoded (gzip...); None: as it came (``bytes``);
    #: negative (encoding.UNDECODED): in an encoding not decoded here.
    decoded: int | None = None
    #: Whether redirects took the operation to another origin than the one asked.
    elsewhere: bool = False


class Stats:
    """Everything a run measured, accumulated one Sample at a time, in parts.

    ``epoch`` is the wall-clock start of the run (``time.time()``); the series counts
    seconds from it, so Stats made in other processes line up when merged.
    """

    PARTS = ("counts", "timing", "phase_times", "check_counts", "per_second", "step_times")
    __slots__ = ("epoch", *PARTS)

    def __init__(self, epoch: float | None = None, open_model: bool = False) -> None:
        self.epoch = clock.wall() if epoch is None else epoch
        self.counts = Counts()
        self.timing = Latency(open_model)
        self.phase_times = Phases()
        self.check_counts = Checks()
        self.per_second = PerSecond(open_model)
        self.step_times = Steps()

    def add(self, sample: Sample, now: float | None = None) -> None:
        """Count one Sample; ``now`` (wall clock) defaults to the time of the call.

        This runs once per operation, up to 10^5 times a second: the Sample is unpacked
        as the tuple it is, and the clamping is written out inline (Values.add buckets).
        """
        (latency_us, ok, status, error, nbytes, service_us, attempts, detail, op, first_s, protocol, connected,
         phases, checks, decoded, elsewhere) = sample
        latency = LOWEST_US if latency_us < LOWEST_US else HIGHEST_US if latency_us > HIGHEST_US else latency_us
        counts = self.counts
        counts.ops += 1
        counts.ok += ok
        counts.attempts += attempts
        counts.bytes += nbytes
        if decoded is None:
            counts.decoded_bytes += nbytes
        elif decoded >= 0:
            counts.decoded_bytes += decoded
            counts.compressed += 1
        else:  # encoding.UNDECODED: an encoding not decoded here, counted as it came
            counts.decoded_bytes += nbytes
            counts.undecoded += 1
        if status is not None:
            if status == counts.status_key:
                counts.status_run += 1
            else:
                counts.count_status(status)
        if error is not None:
            counts.error(error, detail)
        elif not ok and status is not None:
            counts.refused(status)
        timing = self.timing
        if latency < 2048:  # histograms.SMALL_US: its own bucket, counted by value
            timing.latency.small[latency] += 1
        else:
            timing.latency.add(latency)
        wall_s = clock.wall() if now is None else now
        second = int(wall_s - self.epoch)
        if timing.service is not None:
            self.per_second.service.add(second, timing.add_service(latency_us, service_us, wall_s), False, False, 0)
        self.per_second.latency.add(second, latency, not ok, error is not None, nbytes)
        if protocol is not None:
            if protocol == counts.protocol_key:
                counts.protocol_run += 1
            else:
                counts.count_protocol(protocol)
        if connected is False:
            counts.reused += 1
        elif connected:
            counts.connected(op)
        if phases is not None:  # an engine's phases, or the steps of an operation of the user's own
            if type(phases) is tuple:
                self.phase_times.add(phases)
            else:
                self.step_times.add(phases)
        if checks is not None:
            self.check_counts.add(checks)
        if elsewhere:
            counts.elsewhere += 1

    def merge(self, other: Stats) -> None:
        """Add another Stats of the same run (from a thread, process or machine) to this one."""
        for name in self.PARTS:
            getattr(self, name).merge(getattr(other, name))

    def reset(self) -> None:
        """Count from zero again, keeping the histograms' memory: drivers hand their counts
        over every tick, and a fresh 3-digit histogram each time (180 KB) made the process
        grow with the length of a run."""
        for name in self.PARTS:
            getattr(self, name).reset()

    def to_wire(self) -> dict[str, Any]:
        """Plain, picklable and JSON-able data (histograms HdrHistogram-encoded)."""
        return {"epoch": self.epoch, **{name: getattr(self, name).to_wire() for name in self.PARTS}}

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> Stats:
        stats = cls(epoch=wire["epoch"])
        stats.counts = Counts.from_wire(wire["counts"])
        stats.timing = Latency.from_wire(wire["timing"])
        stats.phase_times = Phases.from_wire(wire["phase_times"])
        stats.check_counts = Checks.from_wire(wire["check_counts"])
        stats.per_second = PerSecond.from_wire(wire["per_second"])
        stats.step_times = Steps.from_wire(wire["step_times"])
        return stats

    def copy(self) -> Stats:
        """An independent copy, as another process would receive it."""
        return Stats.from_wire(self.to_wire())

    # -- what the parts hold, by the names reports and users read ---------------------------

    ops = property(lambda self: self.counts.ops)
    ok = property(lambda self: self.counts.ok)
    attempts = property(lambda self: self.counts.attempts)
    bytes = property(lambda self: self.counts.bytes)
    errors = property(lambda self: self.counts.errors, doc="Operations that ended in an error, by kind.")
    failed_status = property(lambda self: self.counts.failed_status,
                             doc="Answers with a status --ok-status refuses, by status.")
    protocols = property(lambda self: self.counts.protocols)
    connections = property(lambda self: self.counts.connections)
    first_error = property(lambda self: self.counts.first_error)
    behind_us = property(lambda self: self.timing.behind_us,
                         doc="Open model: the latest any operation was sent after it was due, in µs.")
    sends = property(lambda self: self.timing.sends)
    series = property(lambda self: self.per_second.latency)
    service_series = property(lambda self: self.per_second.service)
    checks = property(lambda self: self.check_counts.counts, doc="[passed, failed] for each of the job's checks.")

    @property
    def cpu_s(self) -> float:
        """CPU seconds spent by workers in other processes, reported with their Stats."""
        return self.counts.cpu_s

    @cpu_s.setter
    def cpu_s(self, value: float) -> None:
        self.counts.cpu_s = value

    @property
    def worker_peak_bytes(self) -> int:
        """The largest peak memory of a worker process that reported one (processes, hybrid)."""
        return self.counts.worker_peak_bytes

    @worker_peak_bytes.setter
    def worker_peak_bytes(self, value: int) -> None:
        self.counts.worker_peak_bytes = value

    @property
    def status(self) -> Counter[int]:
        """Answers by HTTP status."""
        return Counter(self.counts.status)

    @property
    def failed(self) -> int:
        """Operations that were not ok: the ``errors`` and the ``failed_status`` together."""
        return self.counts.ops - self.counts.ok

    @property
    def errored(self) -> int:
        """Operations that ended in an error (of any kind in ``errors``)."""
        return sum(self.counts.errors.values())

    @property
    def latency(self) -> HdrHistogram:
        """The latency histogram (µs), with every operation counted so far."""
        return self.timing.latency.histogram

    @property
    def service(self) -> HdrHistogram | None:
        """Open model only: the service-time histogram (µs), from each actual send."""
        return None if self.timing.service is None else self.timing.service.histogram

    def phase(self, index: int) -> HdrHistogram | None:
        """The histogram of phase PHASES[index] (µs), or None when no engine reported it."""
        return self.phase_times.histogram(index)

    def phases_ms(self) -> dict[str, dict[str, float | int]]:
        return self.phase_times.to_ms()

    @property
    def sent_ops_s(self) -> float | None:
        """Open model: the rate operations were sent at, from when the first was due to when
        the last was sent (None: closed model, or fewer than two operations)."""
        first, last = self.timing.sends
        return (self.ops - 1) / (last - first) if self.ops > 1 and last > first else None

    def latency_ms(self, histogram: HdrHistogram | None = None) -> dict[str, float | None]:
        """p50/p75/p90/p95/p99/p999/max/mean in milliseconds (None when nothing was measured)."""
        hist = self.latency if histogram is None else histogram
        if hist.get_total_count() == 0:
            return {name: None for name in (*PERCENTILES, "max", "mean")}
        values = hist.get_percentile_to_value_dict(list(PERCENTILES.values()))
        out = {name: values[pct] / 1000 for name, pct in PERCENTILES.items()}
        out["max"] = hist.get_max_value() / 1000
        out["mean"] = round(mean_of(hist) / 1000, 3)
        return out

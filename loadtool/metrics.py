"""Samples in, Stats out: latency histograms and counters that only count.

``Stats.add`` accumulates one Sample; nothing is kept per request, so memory does not
grow with the number of operations. Latencies go into an HdrHistogram (1 µs .. 1 h,
3 significant digits), the per-second series keeps one row per second, and every part
merges exactly, so Stats from threads, processes or machines add up to the Stats of
one run. ``to_wire``/``from_wire`` carry Stats between processes as plain data.
"""

from __future__ import annotations

import ctypes
import math
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any, NamedTuple

from hdrh.histogram import HdrHistogram

from .targets import url_of

LOWEST_US = 1
HIGHEST_US = 3600 * 1_000_000
DIGITS = 3
#: The per-second rows need only p50/p99 to two digits; a 2-digit histogram is 7x smaller.
SERIES_DIGITS = 2
#: Where an operation's time went, in order, as engines see it: resolving the name,
#: connecting, the TLS handshake, writing the request, waiting for the first byte of the
#: answer, reading the rest. A phase an engine cannot see is None, never zero.
PHASES = ("dns", "connect", "tls", "send", "wait", "read")

_ALL, _LAST_THREE = tuple(range(len(PHASES))), (3, 4, 5)

#: The percentiles every report names, by the key they have in the library, the JSON and
#: --fail-if (where p99.9 is also spelt p99.9).
PERCENTILES = {"p50": 50.0, "p75": 75.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}


def new_histogram(digits: int = DIGITS) -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, digits)


def _clamp_us(value_us: int) -> int:
    """Latencies outside 1 µs .. 1 h are recorded at the nearest bound, never dropped."""
    return min(max(int(value_us), LOWEST_US), HIGHEST_US)


def bucket(value_us: int) -> int:
    """``value_us`` rounded down to the resolution of a 3-digit HdrHistogram.

    With 3 significant digits HdrHistogram keeps 2048 sub-buckets, so a value of b bits
    is resolved to 2^(b-11): keeping its top 11 bits is exactly its bucket. Counting
    bucketed values in a dict and recording them later gives the identical histogram at
    a third of the cost of recording each value as it comes.
    """
    shift = value_us.bit_length() - 11
    return value_us >> shift << shift if shift > 0 else value_us


def recorded(histogram: HdrHistogram) -> list[tuple[int, int]]:
    """(value, count) of each bucket with a count, in order of value (each bucket's value is
    its middle, as hdrh's own mean takes it). hdrh's iterators walk every bucket in Python
    (34 ms a histogram, seven of them in a report); this copies the counts out in C first."""
    if not histogram.get_total_count():
        return []
    top = histogram._counts_index_for(histogram.get_max_value())
    value_at, middle = histogram.get_value_from_index, histogram._hdr_median_equiv_value
    return [(middle(value_at(index)), count) for index, count in enumerate(histogram.counts[:top + 1]) if count]


def mean_of(histogram: HdrHistogram) -> float:
    """The mean of a histogram's values (what ``get_mean_value`` gives, without its iterator)."""
    total = histogram.get_total_count()
    return sum(value * count for value, count in recorded(histogram)) / total if total else 0.0


def clear(histogram: HdrHistogram) -> None:
    """``histogram.reset()`` at C speed: hdrh zeroes its counts one by one in Python (1.9 ms
    for a 3-digit histogram of 1 µs .. 1 h; drivers clear seven of them 20 times a second),
    where one memset of the counts array takes 12 µs."""
    counts = histogram.counts
    ctypes.memset(ctypes.addressof(counts), 0, ctypes.sizeof(counts))
    histogram.total_count = 0
    histogram.min_value = sys.maxsize
    histogram.max_value = 0
    histogram.start_time_stamp_msec = sys.maxsize
    histogram.end_time_stamp_msec = 0


def _merge_counts(histogram: HdrHistogram | None, pending: dict[int, int], their_histogram: HdrHistogram | None,
                  their_pending: dict[int, int]) -> None:
    """Add another Stats' histogram and its values still counted in a dict to ours."""
    if their_histogram is not None and their_histogram.get_total_count():
        histogram.add(their_histogram)
    for value, count in their_pending.items():
        pending[value] = pending.get(value, 0) + count


def _settle(histogram: HdrHistogram, pending: dict[int, int]) -> None:
    """Record the counted values into the histogram (clamped to 1 µs .. 1 h) and forget them."""
    for value, count in pending.items():
        histogram.record_value(LOWEST_US if value < LOWEST_US else HIGHEST_US if value > HIGHEST_US else value,
                               count)
    pending.clear()


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
    #: Seconds in each of PHASES (None where the engine cannot see one), or None.
    phases: tuple | None = None
    #: Whether the answer passed each of the job's checks, in order (None: no checks ran).
    checks: tuple | None = None


#: What a record of one operation holds (``--raw``), in order. Times are milliseconds from
#: the start of the run; ``due_ms`` only in the open model, ``service_ms`` likewise.
RECORD_FIELDS = ("index", "target", "start_ms", "due_ms", "latency_ms", "service_ms", "status", "error",
                 "bytes", "attempts", "protocol", *(f"{phase}_ms" for phase in PHASES))
#: A record's phases when the engine measured none (or --no-phases).
_NO_PHASES = (None,) * len(PHASES)


def _target_text(target) -> str:
    """A target as text: a URL, a file's path, a request's method and URL, or what an unusable
    target said."""
    if isinstance(target, str):
        return target
    if hasattr(target, "method"):
        return f"{target.method} {target.url}"
    return getattr(target, "path", None) or getattr(target, "text", str(target))


class _Second:
    """One row of the per-second series; its histogram is encoded once the second is over."""

    __slots__ = ("ops", "failed", "errors", "bytes", "live", "encoded", "pending")

    def __init__(self) -> None:
        self.ops = self.failed = self.errors = self.bytes = 0
        self.live: HdrHistogram | None = new_histogram(SERIES_DIGITS)
        self.encoded: bytes | None = None
        self.pending: dict[int, int] = {}

    def histogram(self) -> HdrHistogram:
        if self.live is not None:
            _settle(self.live, self.pending)
            return self.live
        return HdrHistogram.decode(self.encoded)

    def thaw(self) -> HdrHistogram:
        if self.live is None:
            self.live, self.encoded = HdrHistogram.decode(self.encoded), None
        return self.live

    def freeze(self) -> None:
        if self.live is not None:
            _settle(self.live, self.pending)
            self.encoded, self.live = self.live.encode(), None


class Series:
    """Operations, failed operations (and of those, errors), bytes and latency per second of
    the run, one row per second."""

    def __init__(self) -> None:
        self._rows: dict[int, _Second] = {}
        self._hot: int | None = None

    def add(self, second: int, latency_bucket: int, failed: bool, errored: bool, nbytes: int) -> None:
        row = self._rows[second] if second == self._hot else self._row(second)
        row.ops += 1
        row.failed += failed
        row.errors += errored
        row.bytes += nbytes
        pending = row.pending
        pending[latency_bucket] = pending.get(latency_bucket, 0) + 1

    def _row(self, second: int) -> _Second:
        if second == self._hot:
            return self._rows[second]
        row = self._rows.get(second)
        if row is None:
            row = self._rows[second] = _Second()
        else:
            row.thaw()
        if self._hot is not None:
            self._rows[self._hot].freeze()
        self._hot = second
        return row

    def merge(self, other: Series) -> None:
        for second, theirs in other._rows.items():
            mine = self._row(second)
            mine.ops += theirs.ops
            mine.failed += theirs.failed
            mine.errors += theirs.errors
            mine.bytes += theirs.bytes
            mine.live.add(theirs.histogram())

    def rows(self) -> list[dict[str, Any]]:
        """The series as plain rows, seconds in order, with gaps (idle seconds) filled."""
        if not self._rows:
            return []
        out = []
        for second in range(min(self._rows), max(self._rows) + 1):
            row = self._rows.get(second)
            if row is None:
                out.append({"second": second, "ops": 0, "failed": 0, "errors": 0, "bytes": 0, "p50_ms": None,
                            "p99_ms": None})
                continue
            hist = row.histogram()
            out.append({
                "second": second, "ops": row.ops, "failed": row.failed, "errors": row.errors, "bytes": row.bytes,
                "p50_ms": hist.get_value_at_percentile(50) / 1000,
                "p99_ms": hist.get_value_at_percentile(99) / 1000,
            })
        return out

    def concurrency(self, second: int) -> float:
        """Operations in flight on average during ``second``, by Little's law: those that
        ended in it times their mean latency (0 for a second with none)."""
        row = self._rows.get(second)
        if row is None or not row.ops:
            return 0.0
        return row.ops * mean_of(row.histogram()) / 1e6

    def histograms(self) -> Iterator[tuple[int, HdrHistogram]]:
        """Each second's latency histogram (µs), seconds in order; idle seconds skipped."""
        for second in sorted(self._rows):
            row = self._rows[second]
            if row.ops:
                yield second, row.histogram()

    def to_wire(self) -> list[list[Any]]:
        for row in self._rows.values():
            row.freeze()
        self._hot = None
        return [[s, r.ops, r.failed, r.errors, r.bytes, r.encoded] for s, r in sorted(self._rows.items())]

    @classmethod
    def from_wire(cls, rows: list[list[Any]]) -> Series:
        series = cls()
        for second, ops, failed, errors, nbytes, encoded in rows:
            row = series._rows[second] = _Second()
            row.ops, row.failed, row.errors, row.bytes = ops, failed, errors, nbytes
            row.live, row.encoded = None, encoded.encode() if isinstance(encoded, str) else encoded
        return series


def _series_wire(series: Series) -> list[list[Any]]:
    return [[s, o, f, e, b, enc.decode("ascii")] for s, o, f, e, b, enc in series.to_wire()]


class Stats:
    """Everything a run measured, accumulated one Sample at a time.

    ``epoch`` is the wall-clock start of the run (``time.time()``); the series counts
    seconds from it, so Stats made in other processes line up when merged. With
    ``records``, each operation's record (RECORD_FIELDS) is kept too, until whoever holds
    the Stats takes them (``--raw``): records travel with Stats, so every strategy's reach
    the parent the way its counts do.
    """

    def __init__(self, epoch: float | None = None, open_model: bool = False, records: bool = False) -> None:
        self.epoch = time.time() if epoch is None else epoch
        self._perf_base: float | None = None
        self._latency = new_histogram()
        #: Service time (from the actual send) is kept apart only in the open model.
        self._service = new_histogram() if open_model else None
        #: One histogram per phase (µs), made when an engine first reports the phase.
        self._phases: list[HdrHistogram | None] = [None] * len(PHASES)
        self._clear(records)

    def reset(self) -> None:
        """Count from zero again, keeping the histograms' memory: drivers hand their counts
        over every tick, and a fresh 3-digit histogram each time (180 KB) made the process
        grow with the length of a run."""
        clear(self._latency)
        if self._service is not None:
            clear(self._service)
        for histogram in self._phases:
            if histogram is not None:
                clear(histogram)
        self._clear(self.records is not None)

    def _clear(self, records: bool) -> None:
        self.records: list[tuple] | None = [] if records else None
        self.ops = 0
        self.ok = 0
        self.attempts = 0
        self.bytes = 0
        #: Operations that ended in an error, by kind (no answer, a broken one, a failed check).
        self.errors: Counter[str] = Counter()
        #: Operations whose answer came with a status --ok-status does not accept, by status.
        #: Together with ``errors``, these are every operation that ``failed``.
        self.failed_status: dict[int, int] = {}
        #: Answers by HTTP status (a plain dict: counted per operation, where a Counter is 2x slower).
        self._status_counts: dict[int, int] = {}
        #: Operations by the HTTP version they got, where the engine tells.
        self.protocols: dict[str, int] = {}
        #: Connections opened, and reused, by the operations whose engine tells; TLS handshakes:
        #: the connections opened to https targets.
        self.connections = {"new": 0, "reused": 0, "tls_handshakes": 0}
        self._pending: dict[int, int] = {}
        self._pending_service: dict[int, int] = {}
        self._pending_phases: list[dict[int, int]] = [{} for _ in PHASES]
        self.series = Series()
        #: Open model: service time per second too (the latency series counts from due times).
        self.service_series: Series | None = None if self._service is None else Series()
        #: CPU seconds spent by workers in other processes, reported with their Stats.
        self.cpu_s = 0.0
        #: Open model: the latest any operation was sent after it was due, in µs.
        self.behind_us = 0
        #: Open model: when (wall clock) the first operation was due and the last was sent, so
        #: the rate actually sent leaves out the drain after the last send.
        self.sends = [math.inf, -math.inf]
        #: The largest peak memory of a worker process that reported one (processes, hybrid).
        self.worker_peak_bytes = 0
        #: The first error, so a run where everything failed can name its cause.
        self.first_error: str | None = None
        #: [passed, failed] for each of the job's checks, in order.
        self.checks: list[list[int]] = []

    def add(self, sample: Sample, now: float | None = None) -> None:
        """Count one Sample; ``now`` (wall clock) defaults to the time of the call.

        This runs once per operation, up to 10^5 times a second: the Sample is unpacked
        as the tuple it is, and ``bucket`` and the clamping are written out inline.
        """
        (latency_us, ok, status, error, nbytes, service_us, attempts, detail, op, first_s, protocol, connected,
         phases, checks) = sample
        latency = LOWEST_US if latency_us < LOWEST_US else HIGHEST_US if latency_us > HIGHEST_US else latency_us
        shift = latency.bit_length() - 11
        if shift > 0:
            latency = latency >> shift << shift
        self.ops += 1
        self.ok += ok
        self.attempts += attempts
        self.bytes += nbytes
        if status is not None:
            counts = self._status_counts
            counts[status] = counts.get(status, 0) + 1
        if error is not None:
            self.errors[error] += 1
            if self.first_error is None:
                self.first_error = f"{error}: {detail}" if detail else error
        elif not ok and status is not None:  # an answer, with a status --ok-status does not accept
            failed = self.failed_status
            failed[status] = failed.get(status, 0) + 1
        pending = self._pending
        pending[latency] = pending.get(latency, 0) + 1
        if now is None:
            now = time.time()
        if self._service is not None:
            self._record_service(latency_us, service_us, now)
        self.series.add(int(now - self.epoch), latency, not ok, error is not None, nbytes)
        if protocol is not None:
            self.protocols[protocol] = self.protocols.get(protocol, 0) + 1
        if connected is False:
            self.connections["reused"] += 1
        elif connected:
            self._count_new_connection(op)
        if phases is not None:
            self._add_phases(phases)
        if checks is not None:
            self._count_checks(checks)
        if self.records is not None and op is not None:
            self.records.append(self._record(sample))

    def _add_phases(self, phases: tuple) -> None:
        """Count one operation's phases. This runs once per operation, so each value is only
        rounded to its bucket here (as latency is, in ``add``) and clamped when recorded; a
        reused connection (the usual case) has no dns, connect or tls to look at."""
        pendings = self._pending_phases
        for index in _LAST_THREE if phases[1] is None else _ALL:
            seconds = phases[index]
            if seconds is not None:
                value = int(seconds * 1e6 + 0.5)
                if value > 2047:
                    shift = value.bit_length() - 11
                    value = value >> shift << shift
                pending = pendings[index]
                pending[value] = pending.get(value, 0) + 1

    def _count_checks(self, passed: tuple, failed: tuple | None = None) -> None:
        """Count one answer's checks (``passed``: a bool per check), or add counts
        (``passed`` and ``failed``: numbers per check)."""
        counts = self.checks
        while len(counts) < len(passed):
            counts.append([0, 0])
        for index, ok in enumerate(passed):
            if failed is None:
                counts[index][0 if ok else 1] += 1
            else:
                counts[index][0] += ok
                counts[index][1] += failed[index]

    def _count_new_connection(self, op) -> None:
        connections = self.connections
        connections["new"] += 1
        if op is not None and url_of(op.target).startswith("https:"):
            connections["tls_handshakes"] += 1

    def _record(self, sample: Sample) -> tuple:
        """One operation's record; its times made relative to the run's start in this process."""
        if self._perf_base is None:
            self._perf_base = time.perf_counter() - (time.time() - self.epoch)
        base, op = self._perf_base, sample.op
        return (op.index, _target_text(op.target), round((sample.first_s - base) * 1000, 3),
                None if op.due is None else round((op.due - base) * 1000, 3), sample.latency_us / 1000,
                None if sample.service_us is None else sample.service_us / 1000, sample.status, sample.error,
                sample.bytes, sample.attempts, sample.protocol,
                *(_NO_PHASES if sample.phases is None else
                  (None if seconds is None else round(seconds * 1000, 3) for seconds in sample.phases)))

    def take_records(self) -> list[tuple]:
        """The records kept so far; keeping goes on in a new list."""
        records, self.records = self.records or [], [] if self.records is not None else None
        return records

    def _record_service(self, latency_us: int, service_us: int | None, now: float) -> None:
        service = latency_us if service_us is None else service_us
        key = bucket(_clamp_us(service))
        self._pending_service[key] = self._pending_service.get(key, 0) + 1
        self.service_series.add(int(now - self.epoch), key, False, False, 0)
        self.behind_us = max(self.behind_us, latency_us - service)
        sends = self.sends
        due, sent = now - latency_us / 1e6, now - service / 1e6
        if due < sends[0]:
            sends[0] = due
        if sent > sends[1]:
            sends[1] = sent

    @property
    def latency(self) -> HdrHistogram:
        """The latency histogram (µs), with every operation counted so far."""
        _settle(self._latency, self._pending)
        return self._latency

    def phase(self, index: int) -> HdrHistogram | None:
        """The histogram of phase PHASES[index] (µs), or None when no engine reported it."""
        pending = self._pending_phases[index]
        if pending:
            if self._phases[index] is None:
                self._phases[index] = new_histogram()
            _settle(self._phases[index], pending)
        histogram = self._phases[index]
        return histogram if histogram is not None and histogram.get_total_count() else None

    def phases_ms(self) -> dict[str, dict[str, float | int]]:
        """Each phase an engine reported: p50, p90, p99, max and mean in ms, and its count."""
        out = {}
        for index, name in enumerate(PHASES):
            histogram = self.phase(index)
            if histogram is not None:
                values = histogram.get_percentile_to_value_dict([50.0, 90.0, 99.0])
                out[name] = {"p50": values[50.0] / 1000, "p90": values[90.0] / 1000, "p99": values[99.0] / 1000,
                             "max": histogram.get_max_value() / 1000,
                             "mean": round(mean_of(histogram) / 1000, 3),
                             "count": histogram.get_total_count()}
        return out

    @property
    def service(self) -> HdrHistogram | None:
        """Open model only: the service-time histogram (µs), from each actual send."""
        if self._service is not None:
            _settle(self._service, self._pending_service)
        return self._service

    def merge(self, other: Stats) -> None:
        """Add another Stats of the same run (from a thread, process or machine) to this one."""
        self.ops += other.ops
        self.ok += other.ok
        self.attempts += other.attempts
        self.bytes += other.bytes
        self.errors.update(other.errors)
        for code, number in other.failed_status.items():
            self.failed_status[code] = self.failed_status.get(code, 0) + number
        counts = self._status_counts
        for code, number in other._status_counts.items():
            counts[code] = counts.get(code, 0) + number
        # Histograms add up in C; the values still counted in dicts are added as counts, not
        # recorded one by one (a driver hands its Stats over 20 times a second, and recording
        # each distinct value then cost more than counting the requests).
        _merge_counts(self._latency, self._pending, other._latency, other._pending)
        if other._service is not None:
            if self._service is None:
                self._service = new_histogram()
            _merge_counts(self._service, self._pending_service, other._service, other._pending_service)
        self.series.merge(other.series)
        if other.service_series is not None:
            if self.service_series is None:
                self.service_series = Series()
            self.service_series.merge(other.service_series)
        self.cpu_s += other.cpu_s
        self.behind_us = max(self.behind_us, other.behind_us)
        self.sends = [min(self.sends[0], other.sends[0]), max(self.sends[1], other.sends[1])]
        self.worker_peak_bytes = max(self.worker_peak_bytes, other.worker_peak_bytes)
        if self.first_error is None:
            self.first_error = other.first_error
        if self.records is not None and other.records:
            self.records.extend(other.records)
        for protocol, number in other.protocols.items():
            self.protocols[protocol] = self.protocols.get(protocol, 0) + number
        for name, number in other.connections.items():
            self.connections[name] += number
        if other.checks:
            self._count_checks(*zip(*other.checks))
        for index, theirs in enumerate(other._phases):
            if theirs is not None and self._phases[index] is None:
                self._phases[index] = new_histogram()
            _merge_counts(self._phases[index], self._pending_phases[index], theirs, other._pending_phases[index])

    @property
    def status(self) -> Counter[int]:
        """Answers by HTTP status."""
        return Counter(self._status_counts)

    @property
    def failed(self) -> int:
        """Operations that were not ok: the ``errors`` and the ``failed_status`` together."""
        return self.ops - self.ok

    def copy(self) -> Stats:
        """An independent copy (records left out), as another process would receive it."""
        return Stats.from_wire(self.to_wire())

    @property
    def sent_ops_s(self) -> float | None:
        """Open model: the rate operations were sent at, from when the first was due to when
        the last was sent (None: closed model, or fewer than two operations)."""
        first, last = self.sends
        return (self.ops - 1) / (last - first) if self.ops > 1 and last > first else None

    @property
    def errored(self) -> int:
        """Operations that ended in an error (of any kind in ``errors``)."""
        return sum(self.errors.values())

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

    def to_wire(self) -> dict[str, Any]:
        """Plain, picklable and JSON-able data (histograms HdrHistogram-encoded)."""
        return {
            "epoch": self.epoch, "ops": self.ops, "ok": self.ok, "attempts": self.attempts,
            "bytes": self.bytes, "errors": dict(self.errors),
            "failed_status": {str(code): n for code, n in self.failed_status.items()},
            "status": {str(code): n for code, n in self.status.items()},
            "latency": self.latency.encode().decode("ascii"),
            "service": None if self.service is None else self.service.encode().decode("ascii"),
            "series": _series_wire(self.series),
            "service_series": None if self.service_series is None else _series_wire(self.service_series),
            "cpu_s": self.cpu_s, "first_error": self.first_error, "behind_us": self.behind_us,
            "sends": self.sends if self.sends[0] <= self.sends[1] else None,
            "worker_peak_bytes": self.worker_peak_bytes, "records": self.records,
            "protocols": self.protocols, "connections": self.connections, "checks": self.checks,
            "phases": [None if self.phase(index) is None else self.phase(index).encode().decode("ascii")
                       for index in range(len(PHASES))],
        }

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> Stats:
        stats = cls(epoch=wire["epoch"])
        stats.ops, stats.ok, stats.attempts, stats.bytes = wire["ops"], wire["ok"], wire["attempts"], wire["bytes"]
        stats.errors = Counter(wire["errors"])
        stats.failed_status = {int(code): n for code, n in wire.get("failed_status", {}).items()}
        stats._status_counts = {int(code): n for code, n in wire["status"].items()}
        stats._latency = HdrHistogram.decode(wire["latency"].encode("ascii"))
        if wire["service"] is not None:
            stats._service = HdrHistogram.decode(wire["service"].encode("ascii"))
        stats.series = Series.from_wire(wire["series"])
        if wire.get("service_series") is not None:
            stats.service_series = Series.from_wire(wire["service_series"])
        stats.cpu_s, stats.first_error = wire["cpu_s"], wire["first_error"]
        stats.behind_us = wire.get("behind_us", 0)
        if wire.get("sends"):
            stats.sends = list(wire["sends"])
        stats.worker_peak_bytes = wire.get("worker_peak_bytes", 0)
        stats.records = wire.get("records")
        stats.protocols = dict(wire.get("protocols", {}))
        stats.connections = dict(wire.get("connections", stats.connections))
        stats.checks = [list(pair) for pair in wire.get("checks", ())]
        for index, encoded in enumerate(wire.get("phases") or ()):
            if encoded is not None:
                stats._phases[index] = HdrHistogram.decode(encoded.encode("ascii"))
        return stats

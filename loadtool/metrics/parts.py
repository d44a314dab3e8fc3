"""The parts a run's Stats are made of, each knowing its own fields.

Each part counts one kind of thing, and knows how to merge with another of its kind (the
same part from another thread, process or machine), how to empty itself, and how to travel
(``to_wire``/``from_wire``: plain, picklable, JSON-able data). A field is named in its part,
once; ``Stats`` only composes them. The hot path (``Stats.add``) writes into the parts'
fields directly; everything else goes through these methods.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from ..targets import url_of
from .histograms import Values, bucket, clamp_us, mean_of
from .series import Series

#: Where an operation's time went, in order, as engines see it: resolving the name,
#: connecting, the TLS handshake, writing the request, waiting for the first byte of the
#: answer, reading the rest. A phase an engine cannot see is None, never zero.
PHASES = ("dns", "connect", "tls", "send", "wait", "read")
_ALL, _LAST_THREE = tuple(range(len(PHASES))), (3, 4, 5)


class _Kind:
    """How one field of Counts starts, merges and travels."""

    def __init__(self, empty, merge, keys=None) -> None:
        self.empty, self.merge, self.keys = empty, merge, keys


def _add_per_key(mine: dict, theirs: dict) -> dict:
    for key, number in theirs.items():
        mine[key] = mine.get(key, 0) + number
    return mine


SUM = _Kind(lambda: 0, lambda mine, theirs: mine + theirs)
MAX = _Kind(lambda: 0, max)
FIRST = _Kind(lambda: None, lambda mine, theirs: theirs if mine is None else mine)
#: Counts per key: per HTTP status (int keys, which JSON turns into strings), per name.
BY_STATUS = _Kind(dict, _add_per_key, keys=int)
BY_NAME = _Kind(dict, _add_per_key)
BY_KIND = _Kind(Counter, _add_per_key)
CONNECTIONS = _Kind(lambda: {"new": 0, "reused": 0, "tls_handshakes": 0}, _add_per_key)
#: The first value per key: the one seen first wins, wherever it was seen.
FIRST_PER_KEY = _Kind(dict, lambda mine, theirs: {**theirs, **mine})
#: Tracebacks kept, at most: one per kind (an exception's type, for operations of the user's own).
MAX_TRACEBACKS = 20


class Counts:
    """Every operation, by how it ended: how many, how many ok, their attempts and bytes;
    errors by kind; answers by status, and those --ok-status refused; protocols spoken;
    connections opened and reused; the first error; and the CPU seconds and peak memory of
    the worker processes that counted them (reported with their counts)."""

    FIELDS = {
        #: ``bytes`` as they came on the wire; ``decoded_bytes`` as they decode (the same for an
        #: answer that was not encoded); ``compressed``: answers that came encoded.
        "ops": SUM, "ok": SUM, "attempts": SUM, "bytes": SUM, "decoded_bytes": SUM, "compressed": SUM,
        #: Answers in an encoding not decoded here (not asked for, or unknown): counted as they came.
        "undecoded": SUM,
        #: Operations that ended in an error, by kind (no answer, a broken one, a failed check).
        "errors": BY_KIND,
        #: Answers with a status --ok-status does not accept, by status; with ``errors``, every
        #: operation that failed.
        "failed_status": BY_STATUS,
        #: Answers by HTTP status (a plain dict: counted per operation, where a Counter is 2x slower).
        "status": BY_STATUS,
        #: Operations by the HTTP version they got, where the engine tells.
        "protocols": BY_NAME,
        #: Connections opened and reused by the operations whose engine tells; TLS handshakes:
        #: the connections opened to https targets.
        "connections": CONNECTIONS,
        #: The first error, so a run where everything failed can name its cause.
        "first_error": FIRST,
        #: The first traceback of each kind (operations of the user's own), shown once.
        "tracebacks": FIRST_PER_KEY,
        #: CPU seconds spent by workers in other processes, reported with their counts.
        "cpu_s": SUM,
        #: The largest peak memory of a worker process that reported one.
        "worker_peak_bytes": MAX,
        #: Operations still in flight when the run ended (its --duration, or a stop) and the
        #: grace period was over: dropped, not in any other count.
        "abandoned": SUM,
        #: Operations that redirects took to another origin (scheme, host, port) than the one
        #: asked, where they were answered.
        "elsewhere": SUM,
    }
    #: The fields the hot path counts by runs (Stats.add): answers of the status (or protocol)
    #: counted last are a C integer (a run) until another comes, and a reused connection is one
    #: always; reading the field folds them in. A dict's get and set, and an int made for each
    #: count past 256, had cost Stats.add 1.5k of its 5.3k instructions a call (callgrind).
    RUNS = ("status", "protocols", "connections")
    __slots__ = (*sorted(FIELDS.keys() - set(RUNS)), "_status", "_protocols", "_connections",
                 "status_key", "status_run", "protocol_key", "protocol_run", "reused")

    def __init__(self) -> None:
        self.status_key = self.protocol_key = None
        self.status_run = self.protocol_run = self.reused = 0
        self.reset()

    @property
    def status(self) -> dict[int, int]:
        if self.status_run:
            _add_per_key(self._status, {self.status_key: self.status_run})
            self.status_run = 0
        return self._status

    @status.setter
    def status(self, value: dict[int, int]) -> None:
        self._status, self.status_run = value, 0

    @property
    def protocols(self) -> dict[str, int]:
        if self.protocol_run:
            _add_per_key(self._protocols, {self.protocol_key: self.protocol_run})
            self.protocol_run = 0
        return self._protocols

    @protocols.setter
    def protocols(self, value: dict[str, int]) -> None:
        self._protocols, self.protocol_run = value, 0

    @property
    def connections(self) -> dict[str, int]:
        if self.reused:
            self._connections["reused"] += self.reused
            self.reused = 0
        return self._connections

    @connections.setter
    def connections(self, value: dict[str, int]) -> None:
        self._connections, self.reused = value, 0

    def count_status(self, status: int) -> None:
        """The first answer of a run of ``status`` (Stats.add counts the rest of it)."""
        counts = self.status  # (reading folds the last run in)
        counts[status] = counts.get(status, 0) + 1
        self.status_key = status

    def count_protocol(self, protocol: str) -> None:
        """The first operation of a run on ``protocol`` (Stats.add counts the rest of it)."""
        counts = self.protocols
        counts[protocol] = counts.get(protocol, 0) + 1
        self.protocol_key = protocol

    def reset(self) -> None:
        for name, kind in self.FIELDS.items():
            setattr(self, name, kind.empty())

    def merge(self, other: Counts) -> None:
        for name, kind in self.FIELDS.items():
            setattr(self, name, kind.merge(getattr(self, name), getattr(other, name)))

    def to_wire(self) -> dict[str, Any]:
        return {name: dict(value) if isinstance(value, dict) else value for name, value in
                ((name, getattr(self, name)) for name in self.FIELDS)}

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> Counts:
        counts = cls()
        for name, kind in cls.FIELDS.items():
            value = wire[name]
            if isinstance(value, dict):
                value = kind.merge(kind.empty(), {kind.keys(key): n for key, n in value.items()} if kind.keys
                                   else value)
            setattr(counts, name, value)
        return counts

    def describe(self) -> dict[str, Any]:
        """The counts as the JSON result (``loadtool.result/1``) has them: keys in order,
        statuses as text, and ``failed`` (every operation that was not ok)."""
        def ordered(counts: dict) -> dict:
            return {str(key): number for key, number in sorted(counts.items())}

        return {"ops": self.ops, "ok": self.ok, "failed": self.ops - self.ok, "attempts": self.attempts,
                "errors": ordered(self.errors), "failed_status": ordered(self.failed_status),
                "status": ordered(self.status), "bytes": self.bytes, "bytes_decoded": self.decoded_bytes,
                "compressed": self.compressed, "undecoded": self.undecoded, "protocols": ordered(self.protocols),
                "connections": dict(self.connections), "first_error": self.first_error,
                "tracebacks": dict(self.tracebacks), "abandoned": self.abandoned,
                "redirected_elsewhere": self.elsewhere}

    # -- the rarer outcomes, out of the hot path ---------------------------------------------

    def error(self, kind: str, detail: str | None) -> None:
        self.errors[kind] += 1
        if detail and "\n" in detail:  # a traceback: kept once per kind, the first error its last line
            if kind not in self.tracebacks and len(self.tracebacks) < MAX_TRACEBACKS:
                self.tracebacks[kind] = detail
            detail = detail.rsplit("\n", 1)[-1]
            if detail.startswith(f"{kind}:"):  # "ValueError: bad 3" names its kind already
                if self.first_error is None:
                    self.first_error = detail
                return
        if self.first_error is None:
            self.first_error = f"{kind}: {detail}" if detail else kind

    def refused(self, status: int) -> None:
        """An answer whose status --ok-status does not accept."""
        self.failed_status[status] = self.failed_status.get(status, 0) + 1

    def connected(self, op) -> None:
        """An operation that opened a new connection (a TLS handshake for https)."""
        self.connections["new"] += 1
        if op is not None and url_of(op.target).startswith("https:"):
            self.connections["tls_handshakes"] += 1


class Latency:
    """Latency of every operation (from when it was due, or first sent); in the open model
    also service time (from the actual send), how far behind schedule sends fell, and when
    the first operation was due and the last one sent."""

    __slots__ = ("latency", "service", "behind_us", "sends")

    def __init__(self, open_model: bool = False) -> None:
        self.latency = Values()
        self.service: Values | None = Values() if open_model else None
        self.behind_us = 0
        self.sends = [math.inf, -math.inf]

    def add_service(self, latency_us: int, service_us: int | None, now: float) -> int:
        """Count one operation's service time (open model); returns it, bucketed."""
        service = latency_us if service_us is None else service_us
        key = bucket(clamp_us(service))
        self.service.add(key)
        self.behind_us = max(self.behind_us, latency_us - service)
        sends = self.sends
        due, sent = now - latency_us / 1e6, now - service / 1e6
        if due < sends[0]:
            sends[0] = due
        if sent > sends[1]:
            sends[1] = sent
        return key

    def merge(self, other: Latency) -> None:
        self.latency.merge(other.latency)
        if other.service is not None:
            if self.service is None:
                self.service = Values()
            self.service.merge(other.service)
        self.behind_us = max(self.behind_us, other.behind_us)
        self.sends = [min(self.sends[0], other.sends[0]), max(self.sends[1], other.sends[1])]

    def reset(self) -> None:
        self.latency.reset()
        if self.service is not None:
            self.service.reset()
        self.behind_us = 0
        self.sends = [math.inf, -math.inf]

    def to_wire(self) -> dict[str, Any]:
        return {"latency": self.latency.to_wire(),
                "service": None if self.service is None else self.service.to_wire(),
                "behind_us": self.behind_us, "sends": self.sends if self.sends[0] <= self.sends[1] else None}

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> Latency:
        part = cls()
        part.latency = Values.from_wire(wire["latency"])
        part.service = None if wire["service"] is None else Values.from_wire(wire["service"])
        part.behind_us = wire["behind_us"]
        if wire["sends"]:
            part.sends = list(wire["sends"])
        return part


class Phases:
    """Time in each of PHASES, a histogram each, made when an engine first reports the phase."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: list[Values | None] = [None] * len(PHASES)

    def add(self, phases: tuple) -> None:
        """Count one operation's phases. This runs once per operation, so each value is only
        counted in its bucket here (Values.add, as latency is in ``Stats.add``) and clamped when
        recorded; a reused connection (the usual case) has no dns, connect or tls to look at."""
        values = self.values
        for index in _LAST_THREE if phases[1] is None else _ALL:
            given = phases[index]
            if given is not None:
                seconds = given  # a C double, compiled: the next line is then C arithmetic
                value = int(seconds * 1e6 + 0.5)
                held = values[index]
                if held is None:
                    held = values[index] = Values()
                if 0 <= value < 2048:  # under histograms.SMALL_US: its own bucket, counted by value
                    held.small[value] += 1
                else:  # bucketed there; a negative value, from a clock step, too: clamped when recorded
                    held.add(value)

    def histogram(self, index: int):
        """The histogram of phase PHASES[index] (µs), or None when no engine reported it."""
        held = self.values[index]
        return held.histogram if held is not None and held.total else None

    def to_ms(self) -> dict[str, dict[str, float | int]]:
        """Each phase an engine reported: p50, p90, p99, max and mean in ms, and its count."""
        out = {}
        for index, name in enumerate(PHASES):
            histogram = self.histogram(index)
            if histogram is not None:
                values = histogram.get_percentile_to_value_dict([50.0, 90.0, 99.0])
                out[name] = {"p50": values[50.0] / 1000, "p90": values[90.0] / 1000, "p99": values[99.0] / 1000,
                             "max": histogram.get_max_value() / 1000, "mean": round(mean_of(histogram) / 1000, 3),
                             "count": histogram.get_total_count()}
        return out

    def merge(self, other: Phases) -> None:
        for index, theirs in enumerate(other.values):
            if theirs is not None:
                if self.values[index] is None:
                    self.values[index] = Values()
                self.values[index].merge(theirs)

    def reset(self) -> None:
        for held in self.values:
            if held is not None:
                held.reset()

    def to_wire(self) -> list[str | None]:
        return [None if self.histogram(index) is None else held.to_wire() for index, held in enumerate(self.values)]

    @classmethod
    def from_wire(cls, wire: list[str | None]) -> Phases:
        part = cls()
        part.values = [None if encoded is None else Values.from_wire(encoded) for encoded in wire]
        return part


class Checks:
    """[passed, failed] for each of the job's checks, in order."""

    __slots__ = ("counts",)

    def __init__(self, counts: list[list[int]] | None = None) -> None:
        self.counts = counts or []

    def add(self, passed: tuple) -> None:
        """Count one answer's checks (a bool per check)."""
        counts = self.counts
        while len(counts) < len(passed):
            counts.append([0, 0])
        for index, ok in enumerate(passed):
            counts[index][0 if ok else 1] += 1

    def merge(self, other: Checks) -> None:
        counts = self.counts
        while len(counts) < len(other.counts):
            counts.append([0, 0])
        for mine, (passed, failed) in zip(counts, other.counts):
            mine[0] += passed
            mine[1] += failed

    def reset(self) -> None:
        self.counts = []

    def to_wire(self) -> list[list[int]]:
        return [list(pair) for pair in self.counts]

    @classmethod
    def from_wire(cls, wire: list[list[int]]) -> Checks:
        return cls([list(pair) for pair in wire])


class PerSecond:
    """The per-second series of latency, and in the open model of service time too."""

    __slots__ = ("latency", "service")

    def __init__(self, open_model: bool = False) -> None:
        self.latency = Series()
        self.service: Series | None = Series() if open_model else None

    def merge(self, other: PerSecond) -> None:
        self.latency.merge(other.latency)
        if other.service is not None:
            if self.service is None:
                self.service = Series()
            self.service.merge(other.service)

    def reset(self) -> None:
        self.latency.reset()
        if self.service is not None:
            self.service.reset()

    def to_wire(self) -> dict[str, Any]:
        return {"latency": self.latency.to_wire(), "service": None if self.service is None else self.service.to_wire()}

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> PerSecond:
        part = cls()
        part.latency = Series.from_wire(wire["latency"])
        part.service = None if wire["service"] is None else Series.from_wire(wire["service"])
        return part

"""Result: one strategy's run of one job, with everything derived from its Stats.

Following vegeta's Metrics: Stats only accumulate; a Result derives the summary once
and says what each number means. ``to_dict`` is the ``loadtool.result/1`` JSON object.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from .assertions import assert_ok
from ..metrics import Stats

#: Client CPU above this share of what it could use means the client, not the target,
#: bounded the figures.
SATURATED = 0.9
#: Runs shorter than this are mostly start-up (imports, connections, the first pages): their
#: CPU share says little about whether the client bounded a steady run.
STEADY_S = 1.0


@dataclass(frozen=True)
class Result:
    """What one strategy measured running one job."""

    job: Any
    strategy: str
    #: Operations in flight at once, as the strategy ran them (1 for sequential, P for processes).
    concurrency: int
    #: ISO 8601 UTC time the run started.
    started_at: str
    #: Seconds from the first operation's start to the last one's end.
    wall_s: float
    stats: Stats = field(repr=False)
    #: Wall time of a perfect client on the fixture server (None when unknown).
    ideal_s: float | None
    #: CPU seconds the client used, all its threads and worker processes together.
    cpu_s: float
    #: Cores the strategy can use (1 for one process, P for P processes).
    cores: int
    #: "SIGINT"/"SIGTERM" when the run was cut short, else None.
    interrupted: str | None = None
    #: Wall time of sequential on the same job, when measured (compare), for speed-up.
    sequential_wall_s: float | None = None
    #: Reads: share of a sample of the files' pages in the page cache before the run.
    page_cache: float | None = None
    #: The client's resident memory at the start and at its peak during the run (None: unknown).
    rss_start_bytes: int | None = None
    rss_peak_bytes: int | None = None
    #: What the strategy reported besides Stats: for cluster, its workers and their counts.
    details: dict[str, Any] = field(default_factory=dict)
    #: How the strategy ran the job: processes, threads and connections (a strategies.Layout).
    layout: Any = None

    @property
    def memory_per_worker_bytes(self) -> int | None:
        """What each worker (thread, connection or process) cost in memory, as measured."""
        if self.stats.worker_peak_bytes:
            return self.stats.worker_peak_bytes
        if self.rss_start_bytes is None or self.rss_peak_bytes is None:
            return None
        return max(self.rss_peak_bytes - self.rss_start_bytes, 0) // max(self.concurrency, 1)

    def with_sequential(self, wall_s: float | None) -> Result:
        return replace(self, sequential_wall_s=wall_s)

    @property
    def ops(self) -> int:
        return self.stats.ops

    @property
    def ok(self) -> int:
        return self.stats.ok

    @property
    def throughput_ops_s(self) -> float:
        return self.stats.ops / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def bytes_per_s(self) -> float:
        return self.stats.bytes / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def failed(self) -> int:
        """Operations that were not ok: an error of some kind, or a status --ok-status refuses."""
        return self.stats.failed

    @property
    def failed_rate(self) -> float:
        """The share of operations that failed (``failed`` over ``ops``)."""
        return self.stats.failed / self.stats.ops if self.stats.ops else 0.0

    @property
    def error_rate(self) -> float:
        """The share of operations that ended in an error (``errors``; bad statuses are not errors)."""
        return self.stats.errored / self.stats.ops if self.stats.ops else 0.0

    @property
    def efficiency(self) -> float | None:
        """Ideal wall time over measured wall time: 1.0 is a client with no overhead."""
        if not self.ideal_s or self.wall_s <= 0 or self.interrupted:
            return None
        return self.ideal_s / self.wall_s

    @property
    def speedup(self) -> float | None:
        """How many times faster than sequential on the same job."""
        if not self.sequential_wall_s or self.wall_s <= 0:
            return None
        return self.sequential_wall_s / self.wall_s

    @property
    def cpu_busy(self) -> float:
        """Client CPU as a share of the cores the strategy could use (0..1)."""
        return self.cpu_s / (self.wall_s * self.cores) if self.wall_s > 0 else 0.0

    @property
    def steady(self) -> bool:
        """Whether the run lasted long enough to be past its start-up (imports, connections,
        the first pages): what its CPU share says of a steady run is worth saying."""
        return self.wall_s >= STEADY_S

    @property
    def client_bound(self) -> bool:
        """Whether the client's own CPU bounded the figures: busy nearly all of a steady run."""
        return self.cpu_busy >= SATURATED and self.steady

    @property
    def behind_s(self) -> float | None:
        """Open model: the furthest behind schedule any operation was sent (None: closed model)."""
        return None if self.stats.service is None else self.stats.behind_us / 1e6

    @property
    def sent_ops_s(self) -> float | None:
        """Open model: the rate operations were actually sent at, first due to last sent (the
        drain after the last send left out). None: closed model."""
        return None if self.stats.service is None else self.stats.sent_ops_s

    @property
    def kept_rate(self) -> bool | None:
        """Open model: whether sends kept to schedule (none more than 10% of a second late)."""
        return None if self.behind_s is None else self.behind_s < 0.1

    @cached_property
    def latency_ms(self) -> dict[str, float | None]:
        """p50, p75, p90, p95, p99, p999 (99.9), max and mean latency, in milliseconds."""
        return self.stats.latency_ms()

    def percentile(self, q: float) -> float | None:
        """The latency at percentile ``q`` (0-100, any value: 99.99 works) in milliseconds."""
        if not 0 <= q <= 100:
            raise ValueError(f"a percentile is between 0 and 100, not {q}")
        histogram = self.stats.latency
        return histogram.get_value_at_percentile(q) / 1000 if histogram.get_total_count() else None

    @property
    def checks(self) -> dict[str, dict[str, int]]:
        """Each check's answers that passed and failed, by its expression (a callable's name).
        An operation that got no answer ran no check."""
        from ..engines.checks import name_of

        if self.stats.step_times.checks:  # an operation of the user's own: its loadtool.check()s
            return {name: {"passed": passed, "failed": failed}
                    for name, (passed, failed) in self.stats.step_times.checks.items()}
        fetch = getattr(self.job, "fetch", None)
        checks = fetch.checks if fetch is not None else ()
        counts = self.stats.checks + [[0, 0]] * (len(checks) - len(self.stats.checks))
        named: dict[str, dict[str, int]] = {}
        for check, (passed, failed) in zip(checks, counts):
            name = name_of(check)
            while name in named:  # two callables of one name
                name += "'"
            named[name] = {"passed": passed, "failed": failed}
        return named

    @property
    def checks_passed(self) -> float | None:
        """The share of all check evaluations that passed (k6's ``checks`` rate); None without checks."""
        from ..engines.checks import checks_share

        return checks_share(self.checks)

    @cached_property
    def service_ms(self) -> dict[str, float | None] | None:
        return None if self.stats.service is None else self.stats.latency_ms(self.stats.service)

    #: Raise AssertionError, with the report, unless the run met every limit (see assertions).
    assert_ok = assert_ok

    def __repr__(self) -> str:
        """One line: what ran and its headline figures (``str()`` gives the whole report)."""
        p99 = self.latency_ms["p99"]
        return (f"<Result {self.job.kind} {self.strategy}"
                + (f" ({self.job.engine})" if self.job.engine else "")
                + f" c={self.concurrency}: {self.ok:,}/{self.ops:,} ok, {self.wall_s:.3g}s, "
                f"{self.throughput_ops_s:,.1f}/s, p99 {'-' if p99 is None else f'{p99:.3g}ms'}"
                + (f", interrupted by {self.interrupted}" if self.interrupted else "") + ">")

    def __str__(self) -> str:
        """The text report, as ``loadtool fetch`` prints it."""
        from ..report import render_text

        return render_text([self], "table").rstrip("\n")

    def _repr_html_(self) -> str:
        """A small table for Jupyter: the report's summary rows."""
        from ..report.notebook import html_table

        return html_table(self)

    def to_json(self, indent: int | None = 2) -> str:
        """The ``loadtool.result/1`` object as JSON text."""
        import json

        return json.dumps(self.to_dict(), indent=indent)

    def to_dict(self, series: bool = True) -> dict[str, Any]:
        """The ``loadtool.result/1`` object (``series``: with the per-second rows)."""
        from ..report.data import result_dict

        return result_dict(self, series)

"""Assertions on a Result, for tests: ``result.assert_ok(p99="200ms", failed_rate=0.01)``.

They speak --fail-if's language (``thresholds``), so a limit means the same in a test, on
the command line and in CI, and a failure carries the whole report.
"""

from __future__ import annotations

from typing import Any


def assert_ok(result: Any, *, p50: str | float | None = None, p90: str | float | None = None,
              p99: str | float | None = None, p999: str | float | None = None, max: str | float | None = None,
              failed_rate: float = 0.0, error_rate: float | None = None, rps: float | None = None,
              fail_if: tuple[str, ...] = ()) -> Any:
    """Raise AssertionError, with the report, unless the run met every limit.

    Latency limits are durations (``"200ms"``, ``"1s"``) or milliseconds; ``failed_rate``
    is the share of operations allowed to fail, for any reason (default none);
    ``error_rate`` the share allowed to end in an error (bad statuses aside); ``rps``
    the least throughput; ``fail_if`` any further --fail-if expressions. Returns the
    Result, so checks can be chained in a test.
    """
    from ..report import render_text
    from ..report.thresholds import failures, parse_threshold

    limits = [f"{name}>{value}" for name, value in
              (("p50", p50), ("p90", p90), ("p99", p99), ("p99.9", p999), ("max", max)) if value is not None]
    limits.append(f"failed>{failed_rate * 100:g}%")
    if error_rate is not None:
        limits.append(f"errors>{error_rate * 100:g}%")
    if rps is not None:
        limits.append(f"rps<{rps:g}")
    problems = failures([parse_threshold(text) for text in (*limits, *fail_if)], [result])
    if result.interrupted:
        problems.insert(0, f"the run was interrupted by {result.interrupted}")
    if result.ops == 0:
        problems.insert(0, "no operation was done")
    if problems:
        raise AssertionError("loadtool: " + "; ".join(problems) + "\n" + render_text([result], "table"))
    return result

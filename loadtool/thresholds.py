"""--fail-if thresholds: ``p99>200ms``, ``errors>1%``, ``rps<500``, checked against a Result.

A threshold names a metric, a comparison and a limit. Durations take units (``ms``,
``s``; a bare number means milliseconds, as in the report); ``errors`` is a share with
``%`` or a count without. A threshold that *holds* fails the run: ``--fail-if
'p99>200ms'`` fails when p99 is above 200 ms.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

from .errors import UsageError
from .units import parse_duration

_OPERATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_SHAPE = re.compile(r"\s*([a-z0-9_.]+)\s*(>=|<=|>|<)\s*(\S+)\s*")

#: Latency metrics in milliseconds, by the names users type.
LATENCY = {"p50": "p50", "p90": "p90", "p99": "p99", "p99.9": "p999", "p999": "p999", "max": "max", "mean": "mean"}
THROUGHPUT = ("rps", "ops_s", "throughput")
METRICS = (*LATENCY, "errors", *THROUGHPUT, "wall", "efficiency")


@dataclass(frozen=True)
class Threshold:
    """One --fail-if expression, parsed."""

    text: str
    metric: str
    op: str
    limit: float
    #: "ms", "share" (0..1), "count", "per_s" or "ratio": how ``limit`` and the actual value read.
    unit: str

    def actual(self, result) -> float | None:
        """The Result's value of this metric, in this threshold's unit."""
        if self.metric in LATENCY:
            return result.latency_ms[LATENCY[self.metric]]
        if self.metric == "errors":
            return result.error_rate if self.unit == "share" else float(result.stats.failed)
        if self.metric in THROUGHPUT:
            return result.throughput_ops_s
        if self.metric == "wall":
            return result.wall_s * 1000
        return result.efficiency

    def failed(self, result) -> bool:
        value = self.actual(result)
        return value is not None and _OPERATORS[self.op](value, self.limit)

    def describe(self, result) -> str:
        value = self.actual(result)
        return f"{self.text}: {self.metric} was {_show(value, self.unit)}, limit {_show(self.limit, self.unit)}"


def _show(value: float | None, unit: str) -> str:
    if value is None:
        return "unknown"
    if unit == "ms":
        return f"{value:.3g}ms" if value < 1000 else f"{value / 1000:.3g}s"
    if unit == "share":
        return f"{value:.2%}"
    if unit == "per_s":
        return f"{value:,.1f}/s"
    return f"{value:g}"


def parse_threshold(text: str) -> Threshold:
    """One expression such as ``p99>200ms``; UsageError naming what is wrong."""
    match = _SHAPE.fullmatch(text.lower())
    if not match:
        raise UsageError(f"--fail-if {text!r} is not METRIC<OP>LIMIT, such as p99>200ms, errors>1%, rps<500")
    metric, op, limit = match.groups()
    if metric not in METRICS:
        raise UsageError(f"--fail-if {text!r}: no metric {metric!r}; there are {', '.join(METRICS)}")
    try:
        value, unit = _limit(metric, limit)
    except ValueError as exc:
        raise UsageError(f"--fail-if {text!r}: {exc}") from None
    return Threshold(text, metric, op, value, unit)


def _limit(metric: str, text: str) -> tuple[float, str]:
    if metric in LATENCY or metric == "wall":
        seconds = float(text) / 1000 if re.fullmatch(r"\d+(\.\d+)?", text) else parse_duration(text)
        return seconds * 1000, "ms"
    if metric == "errors":
        if text.endswith("%"):
            return _number(text[:-1]) / 100, "share"
        return _number(text), "count"
    if metric in THROUGHPUT:
        return _number(text.removesuffix("/s")), "per_s"
    return _number(text.removesuffix("%")) / (100 if text.endswith("%") else 1), "ratio"


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if value < 0 or value != value:
        raise ValueError(f"{text!r} must be zero or more")
    return value


def parse_thresholds(texts) -> tuple[Threshold, ...]:
    return tuple(parse_threshold(text) for text in texts or ())


def failures(thresholds, results) -> list[str]:
    """One line per threshold a result failed, naming the strategy when there are several."""
    lines = []
    for result in results:
        prefix = f"{result.strategy}: " if len(results) > 1 else ""
        lines += [prefix + threshold.describe(result) for threshold in thresholds if threshold.failed(result)]
    return lines

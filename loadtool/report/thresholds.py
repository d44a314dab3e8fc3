"""--fail-if thresholds: ``p99>200ms``, ``failed>1%``, ``rps<500``, ``p99>+10%``.

A threshold names a metric, a comparison and a limit. Durations take units (``ms``,
``s``; a bare number means milliseconds, as in the report); ``failed`` (operations that
were not ok, whatever the reason) and ``errors`` (those that ended in an error: no
answer, a broken one, a failed check — a status --ok-status refuses is a failure, not
an error) are shares with ``%`` or counts without, as the report counts them. A signed percentage (``+10%``, ``-5%``) is relative to the
same metric in a stored result (``--baseline old.json``): a regression gate. A
threshold that *holds* fails the run: ``--fail-if 'p99>200ms'`` fails when p99 is
above 200 ms.
"""

from __future__ import annotations

import json
import operator
import re
from dataclasses import dataclass
from typing import Any

from ..engines.checks import checks_share
from ..errors import UsageError
from ..units import parse_duration

_OPERATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_SHAPE = re.compile(r"\s*([a-z0-9_.]+)\s*(>=|<=|>|<)\s*(\S+)\s*")
_RELATIVE = re.compile(r"([+-]\d+(?:\.\d+)?)%")

#: Latency metrics in milliseconds, by the names users type.
LATENCY = {"p50": "p50", "p75": "p75", "p90": "p90", "p95": "p95", "p99": "p99", "p99.9": "p999", "p999": "p999",
           "max": "max", "mean": "mean"}
THROUGHPUT = ("rps", "ops_s", "throughput")
METRICS = (*LATENCY, "failed", "errors", *THROUGHPUT, "wall", "efficiency", "checks")
#: Metrics that are a share with % and a count without.
SHARES = ("failed", "errors")


def figures(result: Any) -> dict[str, float | None]:
    """The metrics thresholds read, from a Result or from a ``loadtool.result/1`` dict."""
    if isinstance(result, dict):
        data = result
    else:
        data = {"ops": result.ops, "ok": result.ok, "latency_ms": result.latency_ms, "wall_s": result.wall_s,
                "throughput_ops_s": result.throughput_ops_s, "efficiency": result.efficiency,
                "checks": result.checks, "errors": dict(result.stats.errors)}
    ops = data["ops"]
    errored = sum((data.get("errors") or {}).values())
    steps = data.get("steps") if isinstance(result, dict) else result.stats.step_times.describe()
    values: dict[str, float | None] = {name: data["latency_ms"][key] for name, key in LATENCY.items()}
    values.update({
        "failed_share": (ops - data["ok"]) / ops if ops else 0.0,
        "failed_count": float(ops - data["ok"]),
        "errors_share": errored / ops if ops else 0.0,
        "errors_count": float(errored),
        "per_s": data["throughput_ops_s"],
        "wall_ms": data["wall_s"] * 1000,
        "efficiency": data["efficiency"],
        "checks": checks_share(data.get("checks") or {}),
    })
    for name, step in (steps or {}).items():  # an operation of the user's own: its steps
        count = step["count"]
        values.update({f"step.{name}.{metric}": step["latency_ms"][key] for metric, key in LATENCY.items()})
        values.update({f"step.{name}.failed_share": step["failed"] / count if count else 0.0,
                       f"step.{name}.failed_count": float(step["failed"])})
    return values


@dataclass(frozen=True)
class Threshold:
    """One --fail-if expression, parsed."""

    text: str
    metric: str
    op: str
    limit: float
    #: "ms", "share" (0..1), "count", "per_s" or "ratio": how ``limit`` and the actual value read.
    unit: str
    #: For ``+10%``-style limits: the change allowed against the baseline (0.1), else None.
    relative: float | None = None

    def _key(self) -> str:
        if self.metric.startswith("step."):
            return self.metric if self.unit == "ms" else f"{self.metric}_{'share' if self.unit == 'share' else 'count'}"
        if self.metric in LATENCY:
            return self.metric
        if self.metric in SHARES:
            return f"{self.metric}_{'share' if self.unit == 'share' else 'count'}"
        if self.metric in THROUGHPUT:
            return "per_s"
        return {"wall": "wall_ms", "checks": "checks"}.get(self.metric, "efficiency")

    def actual(self, result: Any) -> float | None:
        """The value of this metric in ``result`` (a Result or a result dict)."""
        return figures(result)[self._key()]

    def bound(self, baseline: Any = None) -> float | None:
        """The limit to compare with: fixed, or the baseline's value moved by ``relative``."""
        if self.relative is None:
            return self.limit
        reference = None if baseline is None else self.actual(baseline)
        return None if reference is None else reference * (1 + self.relative)

    def failed(self, result: Any, baseline: Any = None) -> bool:
        value, bound = self.actual(result), self.bound(baseline)
        return value is not None and bound is not None and _OPERATORS[self.op](value, bound)

    def describe(self, result: Any, baseline: Any = None) -> str:
        value, bound = self.actual(result), self.bound(baseline)
        against = ""
        if self.relative is not None:
            against = f" ({self.relative:+.0%} of the baseline's {_show(self.actual(baseline), self.unit)})"
        return f"{self.text}: {self.metric} was {_show(value, self.unit)}, limit {_show(bound, self.unit)}{against}"


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


#: A step's metric (an operation of the user's own): ``step.login.p99``, ``step.login.failed``.
_STEP = re.compile(r"\s*step\.([^.\s<>=]+)\.(\S+?)\s*(>=|<=|>|<)\s*(\S+)\s*")


def parse_threshold(text: str) -> Threshold:
    """One expression such as ``p99>200ms`` or ``p99>+10%``; UsageError naming what is wrong."""
    step = _STEP.fullmatch(text)
    if step:
        name, metric, op, limit = step.groups()
        metric = metric.lower()
        if metric not in LATENCY and metric != "failed":
            raise UsageError(f"--fail-if {text!r}: a step's metrics are {', '.join(LATENCY)} and failed")
        try:
            value, unit = _limit(metric, limit)
        except ValueError as exc:
            raise UsageError(f"--fail-if {text!r}: {exc}") from None
        return Threshold(text, f"step.{name}.{metric}", op, value, unit)
    match = _SHAPE.fullmatch(text.lower())
    if not match:
        raise UsageError(f"--fail-if {text!r} is not METRIC<OP>LIMIT, such as p99>200ms, failed>1%, rps<500")
    metric, op, limit = match.groups()
    if metric not in METRICS:
        raise UsageError(f"--fail-if {text!r}: no metric {metric!r}; there are {', '.join(METRICS)}, and a "
                         f"step's (step.NAME.p99, step.NAME.failed)")
    relative = _RELATIVE.fullmatch(limit)
    try:
        if relative:
            unit = _limit(metric, "0%" if metric in SHARES else "0")[1]
            return Threshold(text, metric, op, 0.0, unit, float(relative.group(1)) / 100)
        value, unit = _limit(metric, limit)
    except ValueError as exc:
        raise UsageError(f"--fail-if {text!r}: {exc}") from None
    return Threshold(text, metric, op, value, unit)


def _limit(metric: str, text: str) -> tuple[float, str]:
    if metric in LATENCY or metric == "wall":
        seconds = float(text) / 1000 if re.fullmatch(r"\d+(\.\d+)?", text) else parse_duration(text)
        return seconds * 1000, "ms"
    if metric in SHARES:
        if text.endswith("%"):
            return _number(text[:-1]) / 100, "share"
        return _number(text), "count"
    if metric in THROUGHPUT:
        return _number(text.removesuffix("/s")), "per_s"
    if metric == "checks":  # the share of checks passed: 99.9% or 0.999
        share = _number(text.removesuffix("%")) / (100 if text.endswith("%") else 1)
        if share > 1:
            raise ValueError(f"{text!r}: the share of checks passed is at most 100%")
        return share, "share"
    return _number(text.removesuffix("%")) / (100 if text.endswith("%") else 1), "ratio"


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if value < 0 or value != value:
        raise ValueError(f"{text!r} must be zero or more")
    return value


def parse_thresholds(texts, baseline: str | None = None) -> tuple[Threshold, ...]:
    thresholds = tuple(parse_threshold(text) for text in texts or ())
    relative = [t.text for t in thresholds if t.relative is not None]
    if relative and baseline is None:
        raise UsageError(f"--fail-if {relative[0]!r} is relative: give the result to compare with, --baseline FILE")
    return thresholds


def load_baseline(path: str) -> list[dict[str, Any]]:
    """The results in a stored JSON report (one object, or a list from compare)."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise UsageError(f"--baseline: cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"--baseline: {path} is not JSON ({exc})") from None
    results = data if isinstance(data, list) else data.get("levels", [data]) if isinstance(data, dict) else []
    if not results or not all(isinstance(r, dict) and r.get("schema", "").startswith("loadtool.result/")
                              for r in results):
        raise UsageError(f"--baseline: {path} is not a loadtool JSON result (schema loadtool.result/1)")
    return results


def baseline_for(result: Any, baseline: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """The stored result to compare ``result`` with: same strategy (and concurrency), else the first."""
    if not baseline:
        return None
    for stored in baseline:
        if stored.get("strategy") == result.strategy and stored.get("concurrency") == result.concurrency:
            return stored
    return next((stored for stored in baseline if stored.get("strategy") == result.strategy), baseline[0])


def _what_ran(data: dict[str, Any]) -> tuple:
    """What a result measured, for telling whether a baseline measured the same thing: the
    kind of job and its targets (a fixture server's port left out: it is new each run)."""
    job = data.get("job") or {}
    targets = dict(job.get("targets") or {})
    if targets.get("kind") == "fixture":
        targets.pop("base_url", None)
    return job.get("kind"), sorted(targets.items(), key=str), job.get("method")


#: The figures --baseline shows a run against: (metric, figures key, unit).
COMPARED = (("p50", "p50", "ms"), ("p99", "p99", "ms"), ("rps", "per_s", "per_s"), ("failed", "failed_share", "share"))


def baseline_notes(results, baseline: list[dict[str, Any]] | None) -> list[str]:
    """For each result, a line of its figures against the baseline's (with the change), and a
    warning when the baseline measured another job, so its deltas compare unlike things."""
    lines = []
    for result in results:
        reference = baseline_for(result, baseline)
        if reference is None:
            continue
        ours, theirs = figures(result), figures(reference)
        prefix = f"{result.strategy}: " if len(results) > 1 else ""
        changes = []
        for name, key, unit in COMPARED:
            now, before = ours[key], theirs[key]
            change = ""
            if now is not None and before:
                change = f" ({(now - before) / before:+.0%})"
            changes.append(f"{name} {_show(now, unit)} vs {_show(before, unit)}{change}")
        lines.append(f"{prefix}against the baseline ({reference.get('strategy')}, concurrency "
                     f"{reference.get('concurrency')}): " + "   ".join(changes))
        if _what_ran(reference) != _what_ran(result.to_dict()):
            lines.append(f"{prefix}warning: the baseline measured another job "
                         f"({_job_label(reference)}; this run: {_job_label(result.to_dict())}): "
                         f"its deltas compare unlike things")
    return lines


def _job_label(data: dict[str, Any]) -> str:
    job = data.get("job") or {}
    targets = job.get("targets") or {}
    shown = targets.get("paths") or targets.get("urls") or targets.get("path") or targets.get("kind")
    if isinstance(shown, list):
        shown = " ".join(map(str, shown[:3])) + (" …" if len(shown) > 3 else "")
    return " ".join(str(part) for part in (job.get("kind"), job.get("method"), shown) if part)


@dataclass(frozen=True)
class Verdict:
    """One threshold checked against one result."""

    threshold: Threshold
    strategy: str
    failed: bool
    line: str


def check(thresholds, results, baseline: list[dict[str, Any]] | None = None) -> list[Verdict]:
    """Every threshold against every result."""
    verdicts = []
    for result in results:
        reference = baseline_for(result, baseline)
        prefix = f"{result.strategy}: " if len(results) > 1 else ""
        for threshold in thresholds:
            verdicts.append(Verdict(threshold, result.strategy, threshold.failed(result, reference),
                                    prefix + threshold.describe(result, reference)))
    return verdicts


def failures(thresholds, results, baseline: list[dict[str, Any]] | None = None) -> list[str]:
    """One line per threshold a result failed, naming the strategy when there are several,
    and which way --fail-if reads when the run looks like it was written as k6's."""
    lines = []
    for verdict in check(thresholds, results, baseline):
        if verdict.failed:
            result = next(result for result in results if result.strategy == verdict.strategy)
            lines.append(verdict.line + k6_hint(verdict.threshold, result))
    return lines


#: A k6-style threshold (``p95<200ms``: pass while below) looks meant so when the run is this
#: far on its passing side: the value under this share of the limit.
K6_FAR = 0.5


def k6_hint(threshold: Threshold, result: Any) -> str:
    """When a threshold held with the value far on the side k6 would call passing
    (``p95<200ms`` with p95 at 17 ms), how --fail-if reads, and the expression meant."""
    value, limit = threshold.actual(result), threshold.bound()
    if value is None or limit is None or threshold.relative is not None:
        return ""
    # k6 writes latency and failure limits as what must stay below (p95<200ms, rate<0.01).
    if threshold.op not in ("<", "<=") or value >= K6_FAR * limit or threshold.unit not in ("ms", "share", "count"):
        return ""
    reverse = {"<": ">=", "<=": ">"}[threshold.op]
    left = threshold.text.split(threshold.op, 1)
    return (f" (--fail-if fails the run when its expression holds; k6's thresholds say when to pass: for k6's "
            f"'{threshold.text.strip()}' write --fail-if '{left[0].strip()}{reverse}{left[1].strip()}')")

"""Steps: the named parts of the user's own operations (``loadtool.step``) and their checks
(``loadtool.check``).

Each step is counted as an operation is — how many, how many failed and how, and its
latency in a histogram of its own, at the same precision — and merges across threads,
processes and machines like every part of Stats. An operation hands its steps over as
one ``StepTimes`` (a tuple of records, in the order they ended): ``(name, seconds, error
kind or None)`` for a step, ``(name, None, passed)`` for a check.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .histograms import PERCENTILES, Values, mean_of

#: Step and check names kept apart, at most: more (names made from data, say) count as OTHER,
#: so memory does not grow with them.
MAX_NAMES = 100
OTHER = "(other)"


class StepTimes(tuple):
    """One operation's step and check records (a tuple, told apart from engines' phases)."""

    __slots__ = ()


class Step:
    """One step's counts: how many ended, how many failed and by what, and their latency."""

    __slots__ = ("count", "failed", "errors", "latency")

    def __init__(self) -> None:
        self.count = self.failed = 0
        self.errors: Counter[str] = Counter()
        self.latency = Values()

    def merge(self, other: Step) -> None:
        self.count += other.count
        self.failed += other.failed
        self.errors.update(other.errors)
        self.latency.merge(other.latency)

    def to_wire(self) -> dict[str, Any]:
        return {"count": self.count, "failed": self.failed, "errors": dict(self.errors),
                "latency": self.latency.to_wire()}

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> Step:
        step = cls()
        step.count, step.failed, step.errors = wire["count"], wire["failed"], Counter(wire["errors"])
        step.latency = Values.from_wire(wire["latency"])
        return step

    def describe(self) -> dict[str, Any]:
        """As the JSON result has it: count, failed, errors by kind, and latency in ms."""
        histogram = self.latency.histogram
        if histogram.get_total_count():
            values = histogram.get_percentile_to_value_dict(list(PERCENTILES.values()))
            latency = {key: values[percentile] / 1000 for key, percentile in PERCENTILES.items()}
            latency.update(max=histogram.get_max_value() / 1000, mean=round(mean_of(histogram) / 1000, 3))
        else:
            latency = dict.fromkeys((*PERCENTILES, "max", "mean"))
        return {"count": self.count, "failed": self.failed, "errors": dict(sorted(self.errors.items())),
                "latency_ms": latency}


class Steps:
    """Every step of a run's operations, by name, and every named check's [passed, failed]."""

    __slots__ = ("steps", "checks")

    def __init__(self) -> None:
        self.steps: dict[str, Step] = {}
        self.checks: dict[str, list[int]] = {}

    def add(self, records: StepTimes) -> None:
        """Count one operation's steps and checks."""
        for name, seconds, outcome in records:
            if seconds is None:
                counts = self.checks.get(name)
                if counts is None:
                    counts = self.checks.setdefault(name if len(self.checks) < MAX_NAMES else OTHER, [0, 0])
                counts[0 if outcome else 1] += 1
                continue
            step = self.steps.get(name)
            if step is None:
                step = self.steps.setdefault(name if len(self.steps) < MAX_NAMES else OTHER, Step())
            step.count += 1
            if outcome is not None:
                step.failed += 1
                step.errors[outcome] += 1
            step.latency.count(int(seconds * 1e6 + 0.5))

    def merge(self, other: Steps) -> None:
        for name, theirs in other.steps.items():
            self.steps.setdefault(name, Step()).merge(theirs)
        for name, (passed, failed) in other.checks.items():
            mine = self.checks.setdefault(name, [0, 0])
            mine[0] += passed
            mine[1] += failed

    def reset(self) -> None:
        self.steps, self.checks = {}, {}

    def to_wire(self) -> dict[str, Any]:
        return {"steps": {name: step.to_wire() for name, step in self.steps.items()},
                "checks": {name: list(pair) for name, pair in self.checks.items()}}

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> Steps:
        part = cls()
        part.steps = {name: Step.from_wire(step) for name, step in wire["steps"].items()}
        part.checks = {name: list(pair) for name, pair in wire["checks"].items()}
        return part

    def describe(self) -> dict[str, dict[str, Any]]:
        """Each step as the JSON result's ``steps`` has it, in the order they first ended."""
        return {name: step.describe() for name, step in self.steps.items()}

"""Records: one line per operation (``--raw``), a log beside the counts, never kept for long.

A record is made in the process that did the operation (its times are that process's
clock readings, made relative to the run's start there) and handed on in batches to
whoever writes them (``report.raw``), so records never pile up.
"""

from __future__ import annotations

import time

from .parts import PHASES

#: What a record of one operation holds (``--raw``), in order. Times are milliseconds from
#: the start of the run; ``due_ms`` only in the open model, ``service_ms`` likewise. ``steps``:
#: an operation of the user's own, its steps in the order they ended (``login=12.3;page=4.1``,
#: ms; ``!KIND`` after one that failed).
RECORD_FIELDS = ("index", "target", "start_ms", "due_ms", "latency_ms", "service_ms", "status", "error",
                 "bytes", "attempts", "protocol", *(f"{phase}_ms" for phase in PHASES), "steps")
#: A record's phases when the engine measured none (or --no-phases).
_NO_PHASES = (None,) * len(PHASES)


def target_text(target) -> str:
    """A target as text: a URL, a file's path, a request's method and URL, or what an unusable
    target said."""
    if isinstance(target, str):
        return target
    if hasattr(target, "method"):
        return f"{target.method} {target.url}"
    return getattr(target, "path", None) or getattr(target, "text", str(target))


def _steps_text(records) -> str:
    return ";".join(f"{name}={round(seconds * 1000, 3)}" + (f"!{kind}" if kind else "")
                    for name, seconds, kind in records if seconds is not None)


class Records:
    """The records of the operations counted in this process since the last ``take``."""

    __slots__ = ("epoch", "_base", "kept")

    def __init__(self, epoch: float) -> None:
        self.epoch = epoch
        self._base: float | None = None
        self.kept: list[tuple] = []

    def add(self, sample) -> None:
        """Keep one Sample's record (a hand-made Sample, with no operation, has none)."""
        if sample.op is None:
            return
        if self._base is None:  # the perf_counter() reading of the run's start, in this process
            self._base = time.perf_counter() - (time.time() - self.epoch)
        base, op = self._base, sample.op
        self.kept.append((
            op.index, target_text(op.target), round((sample.first_s - base) * 1000, 3),
            None if op.due is None else round((op.due - base) * 1000, 3), sample.latency_us / 1000,
            None if sample.service_us is None else sample.service_us / 1000, sample.status, sample.error,
            sample.bytes, sample.attempts, sample.protocol,
            *(_NO_PHASES if sample.phases is None or type(sample.phases) is not tuple else
              (None if seconds is None else round(seconds * 1000, 3) for seconds in sample.phases)),
            None if sample.phases is None or type(sample.phases) is tuple else _steps_text(sample.phases)))

    def take(self) -> list[tuple]:
        """The records kept so far; keeping goes on in a new list."""
        kept, self.kept = self.kept, []
        return kept

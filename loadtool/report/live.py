"""The live view (--live): a run as it goes, as oha and k6 show theirs.

Redrawn four times a second on stderr while the run goes: progress and ETA; throughput
now and over the last minute (a sparkline of ops a second); latency percentiles of the
last five seconds and of the whole run; answers by status and errors by kind; in flight
against the limit, and for the open model how far behind schedule sends are. It fits
80×24, is transient (the final report takes its place), and on a terminal that cannot
redraw (``TERM=dumb``) falls back to the one-line progress bar.

The numbers are read from the run's sink under its lock (``Sink.read``), so they are the
same counts the report is made of; a frame costs a few histogram lookups, whatever the
run's length.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ..metrics import mean_of
from ..units import format_duration

#: Seconds of throughput the sparkline shows, and of latency "now" summarises.
SPARK_S, RECENT_S = 60, 5
#: Before this much of a run, its last whole second says little: rates are the run's so far.
STEADY_S = 2.0
BLOCKS = " ▁▂▃▄▅▆▇█"
PERCENTILES = (("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9))


@dataclass(frozen=True)
class Frame:
    """What the view shows at one moment."""

    ops: int
    failed: int
    elapsed_s: float
    per_second: list[int]
    recent_ms: dict[str, float] | None
    whole_ms: dict[str, float] | None
    status: dict[int, int]
    errors: dict[str, int]
    in_flight: float
    behind_s: float | None


def _percentiles(histogram) -> dict[str, float] | None:
    if not histogram.get_total_count():
        return None
    shown = {name: histogram.get_value_at_percentile(p) / 1000 for name, p in PERCENTILES}
    shown["max"] = histogram.get_max_value() / 1000
    return shown


def capture(stats, elapsed_s: float, open_model: bool) -> Frame:
    """A Frame of ``stats`` (read under the sink's lock)."""
    last = int(time.time() - stats.epoch)
    # The current second is under way: its rate would read low, so the sparkline ends before it.
    counts = stats.series.counts(last, SPARK_S + 1)
    window = stats.series.recent(last, RECENT_S)
    if elapsed_s >= STEADY_S:
        in_flight = stats.series.concurrency(last - 1)
    else:  # no whole second yet: Little's law over the run so far
        in_flight = stats.ops / elapsed_s * mean_of(stats.latency) / 1e6 if stats.ops else 0.0
    return Frame(stats.ops, stats.failed, elapsed_s, counts[:-1], _percentiles(window), _percentiles(stats.latency),
                 dict(stats.status), dict(stats.errors), in_flight, stats.behind_us / 1e6 if open_model else None)


def sparkline(values: list[int], width: int) -> str:
    shown = values[-width:]
    top = max(shown, default=0)
    if not top:
        return " " * len(shown)
    return "".join(BLOCKS[round(value / top * (len(BLOCKS) - 1))] for value in shown)


def _ms(value: float) -> str:
    return format_duration(value / 1000)


def _counts(counts: dict) -> str:
    ordered = sorted(counts.items(), key=lambda item: -item[1])
    return "   ".join(f"{name} ×{count:,}" for name, count in ordered[:6]) or "none yet"


def rows(job, layout, frame: Frame) -> list[tuple[str, str]]:
    """The view's (label, text) rows."""
    if job.count is not None:
        share = min(frame.ops / job.count, 1.0)
        eta = max(job.count - frame.ops, 0) / (frame.ops / frame.elapsed_s) if frame.ops else None
        amount = f"{frame.ops:,} of {job.count:,} ({share:.0%})"
    elif job.duration_s is None:  # a crawl until its frontier runs dry
        share, eta, amount = 0.0, None, f"{frame.ops:,} so far"
    else:
        share = min(frame.elapsed_s / job.duration_s, 1.0)
        eta = max(job.duration_s - frame.elapsed_s, 0.0)
        amount = f"{frame.ops:,} in {format_duration(frame.elapsed_s)} of {format_duration(job.duration_s)}"
    bar = "█" * round(share * 30) + "░" * (30 - round(share * 30))
    mean = frame.ops / frame.elapsed_s if frame.elapsed_s > 0 else 0.0
    now = frame.per_second[-1] if frame.per_second and frame.elapsed_s >= STEADY_S else round(mean)
    out = [
        ("progress", f"{bar}   {amount}   ETA {format_duration(eta) if eta is not None else '-'}"),
        ("ops/s", f"now {now:,}   mean {mean:,.0f}   failed {frame.failed:,}"),
        ("", f"{sparkline(frame.per_second, SPARK_S)}"),
    ]
    for label, shown in ((f"last {RECENT_S}s", frame.recent_ms), ("whole run", frame.whole_ms)):
        text = "   ".join(f"{name} {_ms(value)}" for name, value in shown.items()) if shown else "-"
        out.append((label, text))
    if job.kind == "fetch":
        out.append(("status", "   ".join(f"{code} ×{count:,}" for code, count in sorted(frame.status.items())[:6])
                               or "none yet"))
    if frame.errors:
        out.append(("errors", _counts(frame.errors)))
    in_flight = f"{frame.in_flight:,.0f} of {layout.in_flight:,}"
    if frame.behind_s is not None:
        in_flight += f"   sends behind schedule by up to {format_duration(frame.behind_s)}"
    out.append(("in flight", in_flight))
    return out


def view(job, layout, frame: Frame, what: str | None = None):
    from rich.console import Group
    from rich.text import Text

    from .fit import Summary

    head = Text(f"loadtool {what or job.kind} · {job.strategy} ({job.engine}) · {layout} · "
                f"{format_duration(frame.elapsed_s)}", style="bold")
    return Group(head, Summary(rows(job, layout, frame)))


def can_redraw() -> bool:
    """Whether stderr is a terminal that can redraw a view in place."""
    import sys

    return sys.stderr.isatty() and os.environ.get("TERM", "") not in ("", "dumb", "unknown")


@contextmanager
def live_view(job, layout, sink, refresh_s: float = 0.25, what: str | None = None,
              leave: bool = False) -> Iterator[None]:
    """Show the live view of a run on stderr until it ends (``what``: the command, when the
    job's kind does not say it — a crawl — or which of several runs; ``leave``: one run of
    several, which leaves a line of how it went when its view steps aside)."""
    from .progress import redrawn

    started = time.perf_counter()
    open_model = job.rate is not None

    def frame():
        elapsed = max(time.perf_counter() - started, 1e-9)
        return view(job, layout, sink.read(lambda stats: capture(stats, elapsed, open_model)), what)

    def ended():
        from rich.text import Text

        elapsed = max(time.perf_counter() - started, 1e-9)
        done = sink.read(lambda stats: capture(stats, elapsed, open_model))
        p99 = done.whole_ms.get("p99") if done.whole_ms else None
        return Text(f"{what or job.kind} · {job.strategy} ({job.engine}) · {layout}: {done.ops:,} in "
                    f"{format_duration(elapsed)}, {done.ops / elapsed:,.0f} ops/s, "
                    f"p99 {'-' if p99 is None else format_duration(p99 / 1000)}, failed {done.failed:,}", style="dim")

    with redrawn(frame, "live view", 0.0, refresh_s, after=ended if leave else None):
        yield

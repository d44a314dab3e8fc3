"""Live progress of a run on stderr: done/total, ops/s, errors, p99 so far, ETA.

Shown only on a terminal, only once a run has lasted a second (a quick run should
just print its report), and transient: it disappears when the run ends, so it never
mixes with the report, let alone with JSON on stdout.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..units import format_duration

#: A run that has done this many operations without one success is probably hitting a dead target.
DOWN_AFTER = 5
#: On a terminal that cannot redraw (TERM=dumb), the progress is a new line this often.
DUMB_EVERY_S = 2.0


class _Rate:
    """Operations per second over the last few seconds."""

    def __init__(self, window_s: float = 3.0) -> None:
        self._points: deque[tuple[float, int]] = deque()
        self._window_s = window_s

    def update(self, now: float, ops: int) -> float:
        self._points.append((now, ops))
        while len(self._points) > 2 and now - self._points[0][0] > self._window_s:
            self._points.popleft()
        (then, before) = self._points[0]
        return (ops - before) / (now - then) if now > then else 0.0


def describe(job, sink, started: float, rate: _Rate):
    """The progress renderable of a run at this moment."""
    from rich.progress_bar import ProgressBar
    from rich.table import Table

    snap, now = sink.snapshot(), time.perf_counter()
    elapsed = now - started
    per_s = rate.update(now, snap.ops)
    if job.count is not None:
        total, done = job.count, snap.ops
        eta = (total - done) / per_s if per_s > 0 else None
        if job.duration_s is not None:
            eta = min(eta if eta is not None else job.duration_s, max(job.duration_s - elapsed, 0))
        amount = f"{done:,}/{total:,}"
    else:
        total, done = job.duration_s, min(elapsed, job.duration_s)
        eta, amount = max(job.duration_s - elapsed, 0), f"{snap.ops:,} ops"
    line = Table.grid(padding=(0, 1))
    line.add_row(
        f"[bold]{job.strategy}[/]", ProgressBar(total=total, completed=done, width=24), amount,
        f"{per_s:,.0f} ops/s", f"failed {snap.failed:,}",
        f"p99 {format_duration(snap.p99_ms / 1000) if snap.p99_ms is not None else '-'}",
        f"ETA {format_duration(eta) if eta is not None else '-'}",
    )
    if snap.ops >= DOWN_AFTER and snap.failed == snap.ops:
        from rich.console import Group
        from rich.text import Text

        warning = Text(f"no operation has succeeded yet: target down? first error: {snap.first_error}",
                       style="red", overflow="ellipsis", no_wrap=True)
        return Group(line, warning)
    return line


@contextmanager
def live_progress(job, layout, sink, delay_s: float = 1.0, refresh_s: float = 0.25) -> Iterator[None]:
    """Show a run's progress on stderr from ``delay_s`` after the start until the run ends."""
    started, rate = time.perf_counter(), _Rate()
    with redrawn(lambda: describe(job, sink, started, rate), "progress line", delay_s, refresh_s):
        yield


@contextmanager
def pilot_progress(delay_s: float = 0.5, refresh_s: float = 0.25) -> Iterator[Callable]:
    """One line over the whole pilot of ``loadtool plan`` (its runs are too short for a
    progress line each): how long so far, and what it measures now. Yields the progress factory to
    give each of the pilot's runs; it only notes what the run is."""
    from contextlib import nullcontext

    from rich.progress_bar import ProgressBar
    from rich.table import Table

    started, now = time.perf_counter(), {"what": "starting"}

    def factory(job, layout, sink):
        now["what"] = f"{job.strategy} ({job.engine}) · {layout.in_flight:,} in flight"
        return nullcontext()

    def frame():
        elapsed = time.perf_counter() - started
        line = Table.grid(padding=(0, 1))
        # The pilot runs until what it measures is known (often past --pilot): a pulse, not a bar.
        line.add_row("[bold]plan · pilot[/]", ProgressBar(total=None, width=10), format_duration(elapsed),
                     f"measuring {now['what']}")
        return line

    with redrawn(frame, "pilot's progress line", delay_s, refresh_s):
        yield factory


@contextmanager
def redrawn(frame: Callable[[], Any], name: str, delay_s: float, refresh_s: float,
            after: Callable[[], Any] | None = None) -> Iterator[None]:
    """``frame()`` drawn on stderr from ``delay_s`` after the start, redrawn every ``refresh_s``,
    and gone when the block ends (transient), from a thread of its own: the progress line's
    and the live view's; ``after()``, if given, is printed in its place and stays (one run of
    several leaves a line, so the screen is never blank between them). One that cannot draw
    says so in a line and lets the run go on."""
    from rich.console import Console
    from rich.live import Live

    console, finished = Console(stderr=True), threading.Event()

    def show() -> None:
        if finished.wait(delay_s):
            return
        try:
            if console.is_dumb_terminal:  # it cannot redraw: a line every DUMB_EVERY_S instead
                console.print(frame())
                while not finished.wait(DUMB_EVERY_S):
                    console.print(frame())
                return
            with Live(frame(), console=console, auto_refresh=False, transient=True) as live:
                while not finished.wait(refresh_s):
                    live.update(frame(), refresh=True)
        except Exception as exc:  # noqa: BLE001 - a view that cannot draw must not take the run with it
            console.print(f"loadtool: the {name} stopped: {type(exc).__name__}: {exc}", style="dim")

    thread = threading.Thread(target=show, name=f"loadtool-{name.replace(' ', '-')}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        finished.set()
        thread.join()
        if after is not None:
            console.print(after())

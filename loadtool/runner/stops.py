"""How a run stops, and what its end means: signals during a run and while it is prepared,
and the exit code its results earn.

During a run, SIGINT and SIGTERM stop it gracefully (``stop_on_signals``): the strategy
starts nothing more, operations in flight get the grace period, and the Result keeps
everything measured; a second Ctrl-C stops it at once. While runs are prepared (a fixture
server starting, a file tree written), a signal unwinds what was started and the report,
empty, still comes (``runner.prepared``). Exit codes are in ``names``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from ..names import EXIT_FAILED, EXIT_OK, EXIT_SIGINT, EXIT_SIGTERM, EXIT_THRESHOLD, EXIT_WORKER_LOST
from ..strategies.control import WORKER_LOST, RunControl
from ..system import LEFT_BEHIND


@contextmanager
def _handling_signals(handle: Callable[[int, object], None]) -> Iterator[None]:
    """SIGINT and SIGTERM go to ``handle`` (in the main thread only: elsewhere, nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, handle) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def stop_on_signals(control: RunControl):
    """During a run: SIGINT and SIGTERM stop it gracefully; a second Ctrl-C stops it at once."""
    def handle(signum: int, frame: object) -> None:
        if signum == signal.SIGINT and control.stopped:
            raise KeyboardInterrupt
        control.stop(signal.Signals(signum).name)
    return _handling_signals(handle)


class Interrupted(BaseException):
    """A signal came while a run was being prepared: it never started (``reason``: the signal)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def interruptible():
    """While runs are prepared (a fixture server starting, a file tree written, the page cache
    sampled), SIGINT and SIGTERM raise Interrupted, which unwinds what was started;
    a run in progress handles them itself (``stop_on_signals``)."""
    def handle(signum: int, frame: object) -> None:
        raise Interrupted(signal.Signals(signum).name)
    return _handling_signals(handle)


def left_behind(results: Sequence) -> None:
    """Note that a run abandoned operations: the process then exits at once after its report
    (``system.exit_now``), since threads blocked in them would hold a normal exit."""
    if any(result.stats.counts.abandoned for result in results):
        LEFT_BEHIND.set()


def verdict(results: Sequence, thresholds: tuple = (), baseline: list | None = None) -> tuple[int, list[str]]:
    """The exit code a set of results earns, and a line for each reason."""
    from ..report.thresholds import baseline_notes, failures

    lines = list(baseline_notes(results, baseline))
    for result in results:
        if result.interrupted == WORKER_LOST:
            for lost in result.details.get("lost_workers", ()):
                share = f"; {lost['share']}" if lost["share"] else ""
                lines.append(f"worker process pid {lost['pid']} was lost ({lost['ended_by']}{share}); "
                             f"the run ended with what the others had measured")
            return EXIT_WORKER_LOST, lines
        if result.interrupted:
            return (EXIT_SIGTERM if result.interrupted == "SIGTERM" else EXIT_SIGINT), lines
    failed_thresholds = failures(thresholds, results, baseline)
    lines += [f"threshold failed: {line}" for line in failed_thresholds]
    for result in results:
        if result.ops and not result.ok:
            return EXIT_FAILED, lines + [f"every operation failed ({result.strategy}); {_why_failed(result)}"]
        abandoned = result.stats.counts.abandoned
        if not result.ops and abandoned:
            return EXIT_FAILED, lines + [f"no operation finished ({result.strategy}): {abandoned:,} "
                                         f"{'was' if abandoned == 1 else 'were'} still in flight when the run ended"]
        crawl = result.details.get("crawl")
        if not result.ops and crawl is not None:
            held = sum(crawl.get("hosts_held_back", {}).values())
            why = (f"every host was held back ({held:,}: robots.txt could not be had, RFC 9309)" if held
                   else "no seed could be fetched")
            return EXIT_FAILED, lines + [f"the crawl fetched no page ({result.strategy}): {why}"]
    return (EXIT_THRESHOLD if failed_thresholds else EXIT_OK), lines


def _why_failed(result) -> str:
    if result.stats.first_error:
        return f"first error: {result.stats.first_error}"
    statuses = ", ".join(f"{code} ×{count}" for code, count in result.stats.status.most_common(3))
    return f"statuses: {statuses} (--ok-status decides which count as success)"

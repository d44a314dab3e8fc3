"""--hdr-log: the run's latency as an HdrHistogram interval log, one histogram a second,
written with the hdrh package's own log writer, so HdrHistogram's log readers and
plotters (HistogramLogReader, HistogramLogAnalyzer, hdr-plot) read it.

Values are microseconds; each interval line's max is given in milliseconds. Intervals
are the per-second series the run kept anyway (merged across threads, processes and
machines), so writing the log costs nothing during the run.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, timezone

from .. import __version__


def log_paths(results: Sequence, path: str) -> list[str]:
    """One log per result: ``path`` itself for one, ``name.LABEL.ext`` for several
    (LABEL the strategy, or ``c16`` for a sweep's levels)."""
    if len(results) == 1:
        return [path]
    stem, ext = os.path.splitext(path)
    strategies = {result.strategy for result in results}
    labels = [result.strategy if len(strategies) == len(results) else f"c{result.concurrency}" for result in results]
    return [f"{stem}.{label}{ext or '.hlog'}" for label in labels]


def write_hdr_log(result, handle) -> None:
    """``result``'s latency, one interval histogram per second of the run, to ``handle``."""
    from hdrh.log import HistogramLogWriter

    base_ms = result.stats.epoch * 1000
    writer = HistogramLogWriter(handle)
    writer.output_comment(f"loadtool {__version__} {result.job.kind} {result.strategy}: latency of each "
                          f"operation in microseconds, one interval a second")
    writer.output_log_format_version()
    # hdrh's own output_start_time/output_base_time fail (they read msec as seconds):
    # the lines are written here in the format HdrHistogram's Java writer uses.
    started = datetime.fromtimestamp(result.stats.epoch, timezone.utc).isoformat(" ")
    handle.write(f"#[StartTime: {result.stats.epoch:.3f} (seconds since epoch), {started}]\n")
    handle.write(f"#[BaseTime: {result.stats.epoch:.3f} (seconds since epoch)]\n")
    writer.base_time = base_ms
    writer.output_legend()
    for second, histogram in result.stats.series.histograms():
        histogram.set_start_time_stamp(base_ms + second * 1000)
        histogram.set_end_time_stamp(base_ms + (second + 1) * 1000)
        writer.output_interval_histogram(histogram, max_value_unit_ratio=1000.0)

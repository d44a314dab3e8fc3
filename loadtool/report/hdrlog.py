"""--hdr-log: the run's latency as an HdrHistogram interval log, one histogram a second,
written with the hdrh package's own log writer, so HdrHistogram's log readers and
plotters (HistogramLogReader, HistogramLogAnalyzer, hdr-plot) read it.

Each interval is tagged: ``Tag=latency`` always, and in the open model (--rate)
``Tag=service`` too — the time from the actual send, where latency counts from when the
operation was due. Values are microseconds; each line's max is in milliseconds. The
intervals are the per-second series the run kept anyway (merged across threads,
processes and machines), so writing the log costs nothing during the run.
"""

from __future__ import annotations

import heapq
import io
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


def log_files(results: Sequence, path: str, knee=None, verdicts=()) -> dict[str, str]:
    """``--hdr-log FILE.hlog``: a log for each run."""
    files = {}
    for result, each in zip(results, log_paths(results, path)):
        text = io.StringIO()
        write_hdr_log(result, text)
        files[each] = text.getvalue()
    return files


def write_hdr_log(result, handle) -> None:
    """``result``'s latency, one interval histogram per second of the run, to ``handle``."""
    from hdrh.log import HistogramLogWriter

    base_ms = result.stats.epoch * 1000
    writer = HistogramLogWriter(handle)
    writer.output_comment(f"loadtool {__version__} {result.job.kind} {result.strategy}: latency (and in the open "
                          f"model service time) of each operation in microseconds, one interval a second")
    writer.output_log_format_version()
    # hdrh's own output_start_time/output_base_time fail (they read msec as seconds):
    # the lines are written here in the format HdrHistogram's Java writer uses.
    started = datetime.fromtimestamp(result.stats.epoch, timezone.utc).isoformat(" ")
    handle.write(f"#[StartTime: {result.stats.epoch:.3f} (seconds since epoch), {started}]\n")
    handle.write(f"#[BaseTime: {result.stats.epoch:.3f} (seconds since epoch)]\n")
    writer.base_time = base_ms
    writer.output_legend()
    streams = [("latency", result.stats.series.histograms())]
    if result.stats.service_series is not None:
        streams.append(("service", result.stats.service_series.histograms()))
    # Interleaved by second, as a logger writing while the run went would have.
    for second, tag, histogram in heapq.merge(*([(s, tag, h) for s, h in rows] for tag, rows in streams),
                                               key=lambda item: (item[0], item[1])):
        histogram.set_start_time_stamp(base_ms + second * 1000)
        histogram.set_end_time_stamp(base_ms + (second + 1) * 1000)
        handle.write(f"Tag={tag},")  # hdrh's writer has no tags; its reader does
        writer.output_interval_histogram(histogram, max_value_unit_ratio=1000.0)

"""Samples in, Stats out: latency histograms and counters that only count.

A Sample is what one operation did; ``Stats.add`` accumulates it into parts that each
know their own fields (``parts``): counts, latency (with service time and lateness in
the open model), phases, checks and the per-second series. Nothing is kept per request,
so memory does not grow with the number of operations, and every part merges exactly.
``--raw`` records are a log, not a count: ``records`` makes them, the sink hands them on.
"""

from .histograms import HIGHEST_US, LOWEST_US, Values, bucket, clear, mean_of, new_histogram, recorded
from .parts import PHASES
from .records import RECORD_FIELDS, Records
from .series import Series
from .stats import PERCENTILES, Sample, Stats

__all__ = ["HIGHEST_US", "LOWEST_US", "PERCENTILES", "PHASES", "RECORD_FIELDS", "Records", "Sample", "Series",
           "Stats", "Values", "bucket", "clear", "mean_of", "new_histogram", "recorded"]

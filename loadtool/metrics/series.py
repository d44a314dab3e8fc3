"""The per-second series: operations, failed ones, errors, bytes and latency, one row a second.

Rows count from the run's epoch, so series made in other processes line up when merged.
A second that is over keeps its histogram encoded (a few hundred bytes instead of a live
2-digit histogram), so a run of hours holds one small row a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hdrh.histogram import HdrHistogram

from .histograms import SERIES_DIGITS, SMALL_US, Values, mean_of, new_histogram


class _Second:
    """One row of the per-second series; its histogram is encoded once the second is over.
    While it counts (``live``), its latencies are counted as Values count them: one under
    SMALL_US by its index, in C where compiled, and recorded when its histogram is read."""

    __slots__ = ("ops", "failed", "errors", "bytes", "live", "encoded")

    def __init__(self) -> None:
        self.ops = self.failed = self.errors = self.bytes = 0
        self.live: Values | None = Values(new_histogram(SERIES_DIGITS))
        self.encoded: bytes | None = None

    def histogram(self) -> HdrHistogram:
        if self.live is not None:
            return self.live.histogram
        return HdrHistogram.decode(self.encoded)

    def thaw(self) -> None:
        if self.live is None:
            self.live, self.encoded = Values(HdrHistogram.decode(self.encoded)), None

    def freeze(self) -> None:
        if self.live is not None:
            self.encoded, self.live = self.live.histogram.encode(), None


class Series:
    """Operations, failed operations (and of those, errors), bytes and latency per second of
    the run, one row per second."""

    def __init__(self) -> None:
        self._rows: dict[int, _Second] = {}
        self._hot: int | None = None
        #: The row of second ``_hot``, which every add of that second takes (no dict lookup).
        self._hot_row: _Second | None = None
        #: A live row emptied by reset(), for the next second counted (see reset).
        self._spare: _Second | None = None

    def add(self, second: int, latency: int, failed: bool, errored: bool, nbytes: int) -> None:
        row = self._hot_row if second == self._hot else self._row(second)
        row.ops += 1
        row.failed += failed
        row.errors += errored
        row.bytes += nbytes
        live = row.live
        if 0 <= latency < SMALL_US:  # as Values.add counts it (a call fewer, for most)
            live.small[latency] += 1
        else:
            live.add(latency)

    def _row(self, second: int) -> _Second:
        if second == self._hot:
            return self._rows[second]
        row = self._rows.get(second)
        if row is None:
            row = self._rows[second] = self._spare if self._spare is not None else _Second()
            self._spare = None
        else:
            row.thaw()
        if self._hot is not None:
            self._hot_row.freeze()
        self._hot, self._hot_row = second, row
        return row

    def reset(self) -> None:
        """Empty, keeping the live row's memory for the next second counted: a driver's batch
        is emptied 20 times a second, and a fresh row each time (a histogram and an array of
        counts) grew the process through the allocator (tests/test_memory.py, threads)."""
        row = self._hot_row
        self._rows.clear()
        self._hot = self._hot_row = None
        if row is not None and row.live is not None:
            row.ops = row.failed = row.errors = row.bytes = 0
            row.live.reset()
            self._spare = row

    def merge(self, other: Series) -> None:
        for second, theirs in other._rows.items():
            mine = self._row(second)
            mine.ops += theirs.ops
            mine.failed += theirs.failed
            mine.errors += theirs.errors
            mine.bytes += theirs.bytes
            if theirs.live is None:
                mine.live.histogram.add(theirs.histogram())
            else:  # a row still counting (a driver's batch, handed over 20 times a second): as counts
                mine.live.merge(theirs.live)

    def rows(self) -> list[dict[str, Any]]:
        """The series as plain rows, seconds in order, with gaps (idle seconds) filled."""
        if not self._rows:
            return []
        out = []
        for second in range(min(self._rows), max(self._rows) + 1):
            row = self._rows.get(second)
            if row is None:
                out.append({"second": second, "ops": 0, "failed": 0, "errors": 0, "bytes": 0, "p50_ms": None,
                            "p99_ms": None})
                continue
            hist = row.histogram()
            out.append({
                "second": second, "ops": row.ops, "failed": row.failed, "errors": row.errors, "bytes": row.bytes,
                "p50_ms": hist.get_value_at_percentile(50) / 1000,
                "p99_ms": hist.get_value_at_percentile(99) / 1000,
            })
        return out

    def concurrency(self, second: int) -> float:
        """Operations in flight on average during ``second``, by Little's law: those that
        ended in it times their mean latency (0 for a second with none)."""
        row = self._rows.get(second)
        if row is None or not row.ops:
            return 0.0
        return row.ops * mean_of(row.histogram()) / 1e6

    def counts(self, last: int, seconds: int) -> list[int]:
        """The operations of each of the ``seconds`` seconds up to ``last``, oldest first."""
        rows = self._rows
        return [rows[second].ops if second in rows else 0 for second in range(last - seconds + 1, last + 1)]

    def recent(self, last: int, seconds: int) -> HdrHistogram:
        """One latency histogram of the ``seconds`` seconds up to ``last`` (for a live view:
        its cost bounded by ``seconds``)."""
        merged = new_histogram(SERIES_DIGITS)
        for second in range(last - seconds + 1, last + 1):
            row = self._rows.get(second)
            if row is not None and row.ops:
                merged.add(row.histogram())
        return merged

    def histograms(self) -> Iterator[tuple[int, HdrHistogram]]:
        """Each second's latency histogram (µs), seconds in order; idle seconds skipped."""
        for second in sorted(self._rows):
            row = self._rows[second]
            if row.ops:
                yield second, row.histogram()

    def to_wire(self) -> list[list[Any]]:
        """Plain rows, each second's histogram HdrHistogram-encoded (ASCII)."""
        for row in self._rows.values():
            row.freeze()
        self._hot = self._hot_row = None
        return [[s, r.ops, r.failed, r.errors, r.bytes, r.encoded.decode("ascii")] for s, r in sorted(self._rows.items())]

    @classmethod
    def from_wire(cls, rows: list[list[Any]]) -> Series:
        series = cls()
        for second, ops, failed, errors, nbytes, encoded in rows:
            row = series._rows[second] = _Second()
            row.ops, row.failed, row.errors, row.bytes = ops, failed, errors, nbytes
            row.live, row.encoded = None, encoded.encode() if isinstance(encoded, str) else encoded
        return series

"""Latency histograms: HdrHistograms of microseconds, and values counted before they are recorded.

Every latency goes into an HdrHistogram of 1 µs .. 1 h at 3 significant digits. Recording
each value as it comes costs three times what counting it in a dict does, so the hot path
counts bucketed values (``bucket``) and the histogram takes them in bulk when it is read or
sent (``settle``): the identical histogram, cheaper. A value under 2,048 µs is its own
bucket and is counted in ``Values.small``, by value (compiled, a C array: no int objects and
no dict update, which were half of what phases cost the fast engine); one under 131 ms in
``small`` too, by its bucket's slot (``Values.add``); larger ones in ``Values.pending``.
"""

from __future__ import annotations

import ctypes
import sys

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3600 * 1_000_000
DIGITS = 3
#: The per-second rows need only p50/p99 to two digits; a 2-digit histogram is 7x smaller.
SERIES_DIGITS = 2
#: The percentiles every report names, by the key they have in the library, the JSON and
#: --fail-if (where p99.9 is also spelt p99.9).
PERCENTILES = {"p50": 50.0, "p75": 75.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}


def new_histogram(digits: int = DIGITS) -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, digits)


def clamp_us(value_us: int) -> int:
    """Latencies outside 1 µs .. 1 h are recorded at the nearest bound, never dropped."""
    return LOWEST_US if value_us < LOWEST_US else HIGHEST_US if value_us > HIGHEST_US else int(value_us)


def bucket(value_us: int) -> int:
    """``value_us`` rounded down to the resolution of a 3-digit HdrHistogram.

    With 3 significant digits HdrHistogram keeps 2048 sub-buckets, so a value of b bits
    is resolved to 2^(b-11): keeping its top 11 bits is exactly its bucket. Counting
    bucketed values in a dict and recording them later gives the identical histogram at
    a third of the cost of recording each value as it comes.
    """
    shift = value_us.bit_length() - 11
    return value_us >> shift << shift if shift > 0 else value_us


def recorded(histogram: HdrHistogram) -> list[tuple[int, int]]:
    """(value, count) of each bucket with a count, in order of value (each bucket's value is
    its middle, as hdrh's own mean takes it). hdrh's iterators walk every bucket in Python
    (34 ms a histogram, seven of them in a report); this copies the counts out in C first."""
    if not histogram.get_total_count():
        return []
    top = histogram._counts_index_for(histogram.get_max_value())
    value_at, middle = histogram.get_value_from_index, histogram._hdr_median_equiv_value
    return [(middle(value_at(index)), count) for index, count in enumerate(histogram.counts[:top + 1]) if count]


def mean_of(histogram: HdrHistogram) -> float:
    """The mean of a histogram's values (what ``get_mean_value`` gives, without its iterator)."""
    total = histogram.get_total_count()
    return sum(value * count for value, count in recorded(histogram)) / total if total else 0.0


def clear(histogram: HdrHistogram) -> None:
    """``histogram.reset()`` at C speed: hdrh zeroes its counts one by one in Python (1.9 ms
    for a 3-digit histogram of 1 µs .. 1 h; drivers clear seven of them 20 times a second),
    where one memset of the counts array takes 12 µs."""
    counts = histogram.counts
    ctypes.memset(ctypes.addressof(counts), 0, ctypes.sizeof(counts))
    histogram.total_count = 0
    histogram.min_value = sys.maxsize
    histogram.max_value = 0
    histogram.start_time_stamp_msec = sys.maxsize
    histogram.end_time_stamp_msec = 0


#: Values under this many µs are each their own bucket (``bucket(v) == v``): ``Values.small``
#: counts them by value.
SMALL_US = 2048
#: Bucketed values from SMALL_US up to this many µs (131 ms, where a loaded server's latencies
#: are) are counted in ``Values.small`` too, each at its bucket's slot: 1,024 buckets an octave.
#: (Counted in the dict, after a call to bucket them, Stats.add cost 0.89 µs at 7 ms; so, 0.50.)
COUNTED_US = 1 << 17
#: The slots of ``Values.small``: SMALL_US values, then 1,024 for each octave up to COUNTED_US.
#: (The .pxd sizes the C arrays by the same number.)
SLOTS = SMALL_US + 6 * 1024
#: No value counted yet. (Compiled, a C array too: a reset copies it with one memcpy, where
#: converting a Python list to the C array cost 70k instructions, seven times a tick.)
_NONE_SMALL = tuple([0] * SLOTS)
#: The shift that buckets a value from SMALL_US up to COUNTED_US, by ``value >> 11``: its
#: ``bit_length() - 11``, without a call (compiled, a C array).
_SHIFTS = tuple(high.bit_length() for high in range(COUNTED_US >> 11))


def slot_value(index: int) -> int:
    """The bucketed value counted at slot ``index`` of ``Values.small`` (as ``Values.add`` put it)."""
    if index < SMALL_US:
        return index
    shift = (index >> 10) - 1
    return (index - (shift << 10)) << shift


class Values:
    """One HdrHistogram of µs values, and the values counted (bucketed, by the hot path) that
    it has not taken in yet: each value under COUNTED_US at its slot in ``small`` (a value under
    SMALL_US at its own index), the others in ``pending``. It merges exactly and travels encoded."""

    __slots__ = ("_histogram", "pending", "small", "_top")

    def __init__(self, histogram: HdrHistogram | None = None, digits: int = DIGITS) -> None:
        self._histogram = new_histogram(digits) if histogram is None else histogram
        self.pending: dict[int, int] = {}
        self.small: list[int] = list(_NONE_SMALL)
        #: The slots that may hold a count end before this one: those under SMALL_US, which the
        #: hot paths count in themselves, and the rest up to the highest ``add`` counted in since
        #: the last settle or reset. (Merging and settling look at no more: at most one octave's
        #: worth, 20 times a second, when every value is under SMALL_US, as they did before.)
        self._top = SMALL_US

    @property
    def histogram(self) -> HdrHistogram:
        """The histogram, with every value counted so far."""
        self.settle()
        return self._histogram

    def settle(self) -> None:
        """Record the counted values (clamped to 1 µs .. 1 h) and forget them."""
        record = self._histogram.record_value
        for index in range(self._top):
            count = self.small[index]
            if count:
                record(LOWEST_US if index < LOWEST_US else slot_value(index), count)
                self.small[index] = 0
        self._top = SMALL_US
        for value, count in self.pending.items():
            record(LOWEST_US if value < LOWEST_US else HIGHEST_US if value > HIGHEST_US else value, count)
        self.pending.clear()

    def count(self, value_us: int) -> None:
        """Count one value (not on the hottest paths, which clamp it themselves)."""
        self.add(clamp_us(value_us))

    def add(self, value: int) -> None:
        """Count one value, in its bucket; unclamped: a negative one (a clock's step) is clamped
        when recorded. (The hot paths count one under SMALL_US in ``small`` themselves.)"""
        if 0 <= value < SMALL_US:
            self.small[value] += 1
        elif SMALL_US <= value < COUNTED_US:  # its slot is its bucket's: the bits under its top 11 dropped
            shift = _SHIFTS[value >> 11]
            index = (shift << 10) + (value >> shift)
            self.small[index] += 1
            if index >= self._top:
                self._top = index + 1
        else:
            if value > 0:
                value = bucket(value)
            pending = self.pending
            pending[value] = pending.get(value, 0) + 1

    def counted(self) -> dict[int, int]:
        """Each value counted and not yet recorded, with its count (as the hot paths wrote it:
        bucketed, not clamped)."""
        out = {slot_value(index): self.small[index] for index in range(self._top) if self.small[index]}
        for value, count in self.pending.items():
            out[value] = out.get(value, 0) + count
        return out

    @property
    def total(self) -> int:
        return self._histogram.get_total_count() + sum(self.small) + sum(self.pending.values())

    def merge(self, other: Values) -> None:
        """Add another's values: histograms add up in C, counted values as counts (a driver
        hands its counts over 20 times a second; recording each value then cost more than
        counting the requests)."""
        if other._histogram.get_total_count():
            self._histogram.add(other._histogram)
        for index in range(other._top):
            count = other.small[index]
            if count:
                self.small[index] += count
        if other._top > self._top:
            self._top = other._top
        pending = self.pending
        for value, count in other.pending.items():
            pending[value] = pending.get(value, 0) + count

    def reset(self) -> None:
        """Empty, keeping the histogram's memory (a fresh 3-digit one is 180 KB). A driver's
        batch counts and never records, so its histograms are cleared only if not empty (each
        clear is a memset of the 180 KB; drivers reset seven of them 20 times a second)."""
        if self._histogram.get_total_count():
            clear(self._histogram)
        self.small[:] = _NONE_SMALL
        self._top = SMALL_US
        self.pending.clear()

    def to_wire(self) -> str:
        return self.histogram.encode().decode("ascii")

    @classmethod
    def from_wire(cls, text: str | bytes) -> Values:
        return cls(HdrHistogram.decode(text.encode("ascii") if isinstance(text, str) else text))

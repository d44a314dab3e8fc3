"""Parsing and formatting of the quantities users type: durations, sizes, rates.

Every parser raises ``UsageError`` (a ValueError) with a message that can be shown to
a user as it is: these parse what users type, so the command line shows it as one clear
line and exit 2.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .errors import UsageError

_DURATION_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)")
_SIZE_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3,
}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")
_RATE_PER = {"s": 1.0, "m": 60.0, "h": 3600.0}
_RATE = re.compile(r"(\d+(?:\.\d+)?)(?:/(s|m|h))?")


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``30s``, ``1m30s``, ``250ms`` or a bare ``2.5``."""
    spec = text.strip().lower()
    try:
        value = float(spec)
    except ValueError:
        pos, value = 0, 0.0
        for part in _DURATION_PART.finditer(spec):
            if part.start() != pos:
                break
            value += float(part.group(1)) * _DURATION_UNITS[part.group(2)]
            pos = part.end()
        if pos != len(spec) or not spec:
            raise UsageError(f"not a duration: {text!r} (try 500ms, 30s, 2m, 1h)") from None
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"not a duration: {text!r} (it must be zero or more)")
    return value


_COUNT = re.compile(r"(-?\d+(?:\.\d+)?(?:e\d+)?)([kmg]?)")
_COUNT_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3}


def parse_count(text: str) -> int:
    """A whole number of operations such as ``1010``, ``10k``, ``2.5M`` or ``1e6``."""
    match = _COUNT.fullmatch(text.strip().lower().replace("_", "").replace(",", ""))
    if not match:
        raise UsageError(f"not a count: {text!r} (try 1010, 10k, 2.5M)")
    value = float(match.group(1)) * _COUNT_UNITS[match.group(2)]
    if value != int(value):
        raise UsageError(f"not a whole count: {text!r}")
    return int(value)


def parse_size(text: str) -> int:
    """Bytes in a size such as ``4KiB``, ``1.5MB`` or ``512``."""
    match = _SIZE.fullmatch(text.strip().lower())
    if not match or match.group(2) not in _SIZE_UNITS:
        raise UsageError(f"not a size: {text!r} (try 512, 4KiB, 1MiB, 2MB)")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])


@dataclass(frozen=True)
class Rate:
    """An open-model send rate: ``per_s`` operations a second, reached after ``ramp_s``."""

    per_s: float
    ramp_s: float = 0.0

    def __str__(self) -> str:
        ramp = f":ramp={self.ramp_s:g}s" if self.ramp_s else ""
        return f"{self.per_s:g}/s{ramp}"


def parse_rate(text: str) -> Rate:
    """A rate such as ``100/s``, ``6000/m`` or ``100/s:ramp=30s``."""
    head, _, tail = text.strip().lower().partition(":")
    match = _RATE.fullmatch(head)
    if not match:
        raise UsageError(f"not a rate: {text!r} (try 100/s, 6000/m, 100/s:ramp=30s)")
    per_s = float(match.group(1)) / _RATE_PER[match.group(2) or "s"]
    if per_s <= 0 or not math.isfinite(per_s):
        raise UsageError(f"not a rate: {text!r} (it must be more than zero)")
    ramp_s = 0.0
    if tail:
        key, _, value = tail.partition("=")
        if key != "ramp" or not value:
            raise UsageError(f"not a rate option: {tail!r} (the only one is ramp=DURATION)")
        ramp_s = parse_duration(value)
    return Rate(per_s, ramp_s)


def plural(number: int, word: str, words: str | None = None) -> str:
    """``1 page``, ``2 pages``, ``1,000 pages`` (``words``: an irregular plural)."""
    return f"{number:,} {word if number == 1 else words or word + 's'}"


def format_duration(seconds: float | None) -> str:
    """A short human reading of a duration: ``850µs``, ``12.3ms``, ``4.21s``, ``3m05s``."""
    if seconds is None:
        return "-"
    # Each reading is rounded first, and one that rounds up to the next unit takes that unit
    # (999.7µs is 1ms, not "1000µs"; 0.99999s is 1s, not "1e+03ms"; 59.99s is 1m00s).
    if round(seconds * 1e6) < 1000:
        return f"{seconds * 1e6:.0f}µs"
    if float(f"{seconds * 1e3:.3g}") < 1000:
        return f"{seconds * 1e3:.3g}ms"
    if float(f"{seconds:.3g}") < 60:
        return f"{seconds:.3g}s"
    if round(seconds) < 3600:
        minutes, secs = divmod(round(seconds), 60)
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(round(seconds / 60), 60)  # to the nearest minute, not down to it
    return f"{hours}h{minutes:02d}m"


def format_bytes(count: float, si: bool = False) -> str:
    """A short human reading of a byte count in binary units (``si``: decimal, 1 kB = 1000 B)."""
    step, units = (1000, ("B", "kB", "MB", "GB")) if si else (1024, ("B", "KiB", "MiB", "GiB"))
    for unit in units:
        # As shown (rounded): 1,073,689,396 bytes are 1.0GiB, not "1024.0MiB".
        shown = f"{count:.0f}{unit}" if unit == "B" else f"{count:.1f}{unit}"
        if abs(float(shown.removesuffix(unit))) < step or unit == units[-1]:
            return shown
        count /= step
    raise AssertionError("unreachable")


def parse_levels(text: str) -> tuple[int, ...]:
    """Concurrency levels: ``1,2,4,...,1024`` doubles (three levels before ``...`` set a
    ratio or a step), ``10,20,...,100`` adds 10 (two levels before ``...`` set a step)."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    levels: list[int] = []
    try:
        for position, part in enumerate(parts):
            if part != "...":
                levels.append(int(part))
                continue
            if len(levels) < 2 or position + 1 >= len(parts):
                raise UsageError("'...' needs two levels before it and one after")
            levels += _continue(levels[-3:], int(parts[position + 1]))
    except ValueError as exc:
        raise UsageError(f"not a list of concurrency levels: {text!r} ({exc})") from None
    if not levels or min(levels) < 1 or len(levels) > 64:
        raise UsageError(f"not a list of concurrency levels: {text!r} (1 to 64 levels, each at least 1)")
    return tuple(sorted(set(levels)))


def _continue(before: list[int], end: int) -> list[int]:
    """The levels between ``before[-1]`` and ``end`` that continue ``before``'s pattern."""
    low, high = before[-2], before[-1]
    geometric = len(before) == 3 and before[0] > 0 and before[0] * high == low * low and high > low
    if not geometric and high <= low:
        raise UsageError("levels before '...' must rise")
    levels, value = [], high
    while len(levels) < 64:
        value = value * high // low if geometric else value + (high - low)
        if value >= end:
            break
        levels.append(value)
    return levels


def parse_share(name: str, text: str) -> float:
    """A share such as ``10%`` or ``0.1``."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise UsageError(f"{name} must be a share such as 10% or 0.1, not {text!r}") from None
    if not 0 <= value <= 10:
        raise UsageError(f"{name} must be between 0% and 1000%, not {text!r}")
    return value

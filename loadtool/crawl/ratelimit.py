"""Hosts that ask to be left alone: 429 Too Many Requests, or 503 with a Retry-After.

Such a host waits as long as it said (Retry-After: seconds, or an HTTP date), and is then
paced, while every other host goes on. How it is paced (``Pacing``):

- by default, one page per Retry-After: a rate limiter says "after N seconds" when it has
  no room for N seconds, so one page each N seconds is never faster than the limit it
  implies, and the host is not asked too fast again;
- with ``--adaptive-rate``, as TCP finds a link's speed (and as Scrapy's AutoThrottle
  does with latency): the host's rate is halved at each 429 and grows 2% with each page it
  answers, so the crawl settles near the host's limit — faster than the default, at the
  cost of a 429 now and then.
"""

from __future__ import annotations

from ..strategies.politeness import MAX_WAIT_S, asked_wait_s

__all__ = ["DEFAULT_WAIT_S", "MAX_TRIES", "MAX_WAIT_S", "Pacing", "asked_wait_s"]

#: How long a 429 without a Retry-After makes its host wait.
DEFAULT_WAIT_S = 5.0
#: How often one page answered 429 is put back in its queue before it is given up on.
MAX_TRIES = 3
#: Adaptive pacing: the rate gained with each page answered.
GROWTH = 1.02


class Pacing:
    """How fast one host that said "too many" is asked from then on: the gap between its pages."""

    __slots__ = ("adaptive", "gap_s", "limits", "cut_at")

    def __init__(self, adaptive: bool = False) -> None:
        self.adaptive = adaptive
        self.gap_s = 0.0
        self.limits = 0
        #: When the pace was last cut: a 429 for a page started before that says nothing new.
        self.cut_at = -1.0

    def limited(self, wait_s: float, recent_per_s: float, started: float, now: float) -> float:
        """A 429 (or 503) asking for ``wait_s`` for a page started at ``started``, after the
        host was asked ``recent_per_s`` pages a second: the gap its pages keep from now on.
        The pages in flight when the pace was cut answer 429 too: they cut it only once."""
        self.limits += 1
        if started < self.cut_at:
            return self.gap_s
        self.cut_at = now
        if not self.adaptive:
            self.gap_s = max(self.gap_s, wait_s)
        else:
            rate = 1 / self.gap_s if self.gap_s else max(recent_per_s, 1 / max(wait_s, 0.001))
            self.gap_s = min(2 / rate, max(wait_s, 0.001))  # half the rate, never slower than the default
        return self.gap_s

    def answered(self) -> float | None:
        """A page of the host was answered: adaptively, the new (shorter) gap; else None."""
        if not (self.adaptive and self.gap_s):
            return None
        self.gap_s /= GROWTH
        return self.gap_s

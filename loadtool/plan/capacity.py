"""How much the site serves: the pilot's capacity sweep, read.

Little's law holds at every level of a closed loop: in flight = throughput × latency. A
site that keeps up answers twice the requests when twice are in flight, at the same
latency. A site that saturates answers no more: the extra requests wait in its queue,
and latency grows with them instead. The pilot doubles the concurrency in steps (as
``loadtool sweep`` does) until throughput stops rising while latency rises — the knee —
and the plan caps every way there: ``per_s`` is the most the site served, ``in_flight``
the requests it serves at once (``per_s`` × its unloaded latency). A level whose client
was busy (its own CPU, not the site, the limit) ends the sweep with the site's capacity
unknown, but at least what was measured; a level the site answered 429 caps it at what it
accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..strategies.sizing import gain_per_doubling

#: A doubling of concurrency that buys less throughput than this is past the knee.
KNEE_GAIN = 0.15
#: ...when the latency has grown by this much over the lowest level's (queueing at the site).
LATENCY_GROWTH = 1.3
#: The client's CPU this busy (of the cores it could use) means the client, not the site, is the limit.
CLIENT_BUSY = 0.85


@dataclass(frozen=True)
class Level:
    """One step of the sweep."""

    concurrency: int
    #: Answers a second the site accepted (not 429).
    per_s: float
    latency_s: float
    p99_s: float
    #: The client's CPU, as a share of the cores it could use.
    client_busy: float
    #: Answers that were 429 (rate limited).
    limited: int = 0


@dataclass(frozen=True)
class Capacity:
    """What the sweep found."""

    #: The most the site served a second, or None when it kept up at every level tried.
    per_s: float | None
    #: How many requests it serves at once (per_s × its unloaded latency), or None.
    in_flight: float | None
    reason: str
    levels: tuple[Level, ...] = ()
    #: Whether more levels would tell nothing more (the site saturated or limited, or the client filled).
    settled: bool = True

    @property
    def found(self) -> bool:
        return self.per_s is not None


def site_capacity(levels: list[Level]) -> Capacity:
    """The site's capacity from a sweep's levels (in increasing concurrency)."""
    if not levels:
        return Capacity(None, None, "no level measured")
    base, best = levels[0], 0.0
    for index, level in enumerate(levels):
        best = max(best, level.per_s)  # the most the site served up to this level
        if level.limited:
            return Capacity(best, best * base.latency_s,
                            f"the site rate-limited (429) at {level.concurrency} in flight: it accepted about "
                            f"{best:,.0f} a second", tuple(levels))
        if level.client_busy >= CLIENT_BUSY:
            return Capacity(None, None, f"the client's CPU filled at {level.concurrency} in flight, the site still "
                                        f"keeping up: it serves at least {best:,.0f} a second", tuple(levels))
        if index == 0:
            continue
        gain = gain_per_doubling((levels[index - 1].concurrency, levels[index - 1].per_s),
                                 (level.concurrency, level.per_s))
        if gain < KNEE_GAIN and level.latency_s > LATENCY_GROWTH * base.latency_s:
            in_flight = best * base.latency_s
            return Capacity(best, in_flight,
                            f"the site: about {best:,.0f} pages/s, about {in_flight:,.0f} in flight; more "
                            f"connections only queue (at {level.concurrency} in flight its latency was "
                            f"{level.latency_s * 1000:,.0f} ms, against {base.latency_s * 1000:,.0f} ms at "
                            f"{base.concurrency})", tuple(levels))
    top = levels[-1]
    return Capacity(None, None, f"the site kept up at every level tried, up to {top.concurrency} in flight "
                                f"({top.per_s:,.0f} a second): its capacity is beyond that", tuple(levels),
                    settled=False)

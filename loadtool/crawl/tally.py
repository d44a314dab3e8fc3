"""What a crawl counts besides its operations: links, duplicates, robots, sitemaps, hosts, parse CPU."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from typing import Any

from hdrh.histogram import HdrHistogram

from ..metrics import mean_of, new_histogram
from .seen import BLOOM_ERROR


class Tally:
    """What a crawl counts besides its operations; a partitioned crawl's partitions each
    count their own, and the parent merges them (``to_wire``, ``merge``)."""

    #: Counters that add up across partitions. ``robots_held_back``: pages not fetched because
    #: their host's robots.txt answered 5xx or could not be reached; ``too_long``: links over
    #: the URL length limit, dropped; ``sitemaps_repeated``: sitemap files listed again (an
    #: index that lists itself), not fetched twice; ``nofollow``: links not followed because of
    #: rel="nofollow" or their page's robots directives; ``rate_limited``: pages answered 429 (or
    #: 503 with a Retry-After), put back in their host's queue.
    COUNTS = ("links", "duplicates", "robots_blocked", "robots_fetched", "robots_held_back", "sitemaps_fetched",
              "sitemap_urls", "sitemaps_repeated", "out_of_scope", "too_deep", "too_long", "nofollow", "rate_limited",
              "parse_errors",
              "frontier_left", "hosts", "hosts_forgotten")

    def __init__(self) -> None:
        for name in self.COUNTS:
            setattr(self, name, 0)
        self.parse_us = new_histogram()
        self.pages_by_host: Counter[str] = Counter()
        #: Hosts held back (robots.txt 5xx or unreachable), by why.
        self.hosts_held_back: Counter[str] = Counter()
        #: Hosts that said "too many" (crawl.ratelimit): [times, first (s into the crawl), seconds
        #: waited in all, the gap kept between its pages since].
        self.hosts_limited: dict[str, list[float]] = {}
        #: Hosts whose robots.txt asked for a Crawl-delay over robots.MAX_CRAWL_DELAY_S: what they asked.
        self.delays_capped: dict[str, float] = {}
        self.frontier: list[int] = []
        self.frontier_peak = 0
        self.exact = True
        self.started = time.perf_counter()

    def limited(self, host: str, wait_s: float, gap_s: float) -> None:
        """The host answered 429 (or 503 with a Retry-After), which made it wait ``wait_s`` more;
        it is now paced ``gap_s`` apart."""
        self.rate_limited += 1
        seen = self.hosts_limited.setdefault(host, [0, round(time.perf_counter() - self.started, 3), 0.0, 0.0])
        seen[0] += 1
        seen[2] += wait_s
        seen[3] = gap_s

    def delay_capped(self, host: str, asked_s: float) -> None:
        """The host's robots.txt asked for a Crawl-delay of ``asked_s``, more than is honoured."""
        self.delays_capped[host] = max(self.delays_capped.get(host, 0.0), asked_s)

    def paced(self, host: str, gap_s: float) -> None:
        """The host's pace changed since its last 429 (adaptively): ``gap_s`` apart now."""
        if host in self.hosts_limited:
            self.hosts_limited[host][3] = gap_s

    def close(self, frontier, seen) -> Tally:
        self.frontier_left, self.frontier_peak = frontier.queued, frontier.peak
        self.hosts, self.hosts_forgotten = frontier.met, frontier.forgotten
        self.exact = seen.exact
        return self

    def to_wire(self) -> dict[str, Any]:
        wire = {name: getattr(self, name) for name in self.COUNTS}
        wire.update(parse_us=self.parse_us.encode(), pages_by_host=dict(self.pages_by_host), frontier=self.frontier,
                    frontier_peak=self.frontier_peak, exact=self.exact, hosts_held_back=dict(self.hosts_held_back),
                    hosts_limited=self.hosts_limited, delays_capped=self.delays_capped)
        return wire

    def merge(self, wire: dict[str, Any]) -> None:
        """Add a partition's counts. Its frontier is a part of the whole: the series add up
        second by second; the peak is the larger of the parts' and the sum's."""
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + wire[name])
        self.parse_us.add(HdrHistogram.decode(wire["parse_us"]))
        self.pages_by_host.update(wire["pages_by_host"])
        self.hosts_held_back.update(wire["hosts_held_back"])
        for host, asked_s in wire["delays_capped"].items():
            self.delay_capped(host, asked_s)
        for host, (times, first_s, waited_s, gap_s) in wire["hosts_limited"].items():
            ours = self.hosts_limited.setdefault(host, [0, first_s, 0.0, 0.0])
            ours[:] = [ours[0] + times, min(ours[1], first_s), ours[2] + waited_s, max(ours[3], gap_s)]
        theirs = wire["frontier"]
        self.frontier = [a + b for a, b in itertools.zip_longest(self.frontier, theirs, fillvalue=0)]
        self.frontier_peak = max(self.frontier_peak, wire["frontier_peak"], *self.frontier, 0)
        self.frontier_peak = max(self.frontier_peak, self.frontier_left)
        self.exact = self.exact and wire["exact"]

    def details(self) -> dict[str, Any]:
        parse = self.parse_us
        values = parse.get_percentile_to_value_dict([50, 99]) if parse.get_total_count() else {}
        return {
            "links_found": self.links, "duplicates": self.duplicates, "robots_blocked": self.robots_blocked,
            "robots_fetched": self.robots_fetched, "robots_held_back": self.robots_held_back,
            "hosts_held_back": dict(self.hosts_held_back), "sitemaps_fetched": self.sitemaps_fetched,
            "sitemap_urls": self.sitemap_urls, "sitemaps_repeated": self.sitemaps_repeated,
            "out_of_scope": self.out_of_scope, "too_deep": self.too_deep, "too_long": self.too_long,
            "nofollow": self.nofollow, "rate_limited": self.rate_limited,
            "hosts_limited": {host: {"times": times, "first_s": first_s, "waited_s": round(waited_s, 3),
                                     "gap_s": round(gap_s, 3)}
                              for host, (times, first_s, waited_s, gap_s) in self.hosts_limited.items()},
            "crawl_delays_capped": dict(self.delays_capped),
            "parse_errors": self.parse_errors, "frontier_left": self.frontier_left, "frontier_peak": self.frontier_peak,
            "frontier_by_second": self.frontier, "hosts": self.hosts, "hosts_forgotten": self.hosts_forgotten,
            "top_hosts": dict(self.pages_by_host.most_common(10)),
            "seen": "exact" if self.exact else f"bloom filter, false-positive rate {BLOOM_ERROR:g}",
            "parse_cpu_ms": {"p50": values.get(50, 0) / 1000 if values else None,
                             "p99": values.get(99, 0) / 1000 if values else None,
                             "mean": mean_of(parse) / 1000 if parse.get_total_count() else None},
            "links_per_s": round(self.links / max(time.perf_counter() - self.started, 1e-9), 1),
        }

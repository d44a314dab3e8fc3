"""The frontier: URLs to fetch, a queue per host, handed out as each host's limits allow.

A deque per host and a heap of hosts by when each may next start, so a slow or
rate-limited host never blocks the others. The hosts' limits — ``--per-host`` pages in
flight, ``--host-rate`` starts a second, robots.txt's Crawl-delay — are kept by
``politeness.Slots``, the same bookkeeping a fetch's per-host limits use. URLs beyond
``in_memory`` bytes (the URLs' text and their place in a queue) wait in a temporary file
and come back as the queues drain — bounded in bytes, not in URLs, so a trap whose links
grow a level at a time holds no more memory than a plain crawl — and past ``hosts``
hosts the least recently busy idle ones are forgotten, so the frontier's memory is
bounded whatever the web.
"""

from __future__ import annotations

import asyncio
import heapq
import os
import tempfile
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from ..strategies.politeness import Slots, host_of

#: Bytes of URLs held in memory by the frontier (about 10,000 short ones); more wait on disk.
FRONTIER_IN_MEMORY = 2 * 1024 * 1024
#: What a queued URL costs beyond its text: its tuple with the depth, its slot in a deque.
URL_OVERHEAD = 100
#: Hosts remembered (robots.txt rules, politeness timing); past this, the least recently
#: busy idle hosts are forgotten, and one met again has its robots.txt fetched again.
HOSTS_REMEMBERED = 10_000


@dataclass
class Host:
    """What the frontier keeps of one host besides its limits: its queue and its robots.txt."""

    queue: deque = field(default_factory=deque)
    #: robots.txt: None not asked yet, an Event while it is fetched, then a parser or False (none).
    robots: Any = None
    scheduled: bool = False
    #: Pages started in this second and the one before (``recent_rate``).
    started: int = 0
    started_before: int = 0
    second: int = 0


class Frontier:
    """URLs to fetch, a queue per host, handed out as hosts allow."""

    def __init__(self, per_host: int | None, host_rate: float | None, in_memory: int = FRONTIER_IN_MEMORY,
                 hosts: int = HOSTS_REMEMBERED) -> None:
        #: By how recently each was busy, least recent first.
        self.hosts: OrderedDict[str, Host] = OrderedDict()
        self.slots = Slots(per_host, host_rate)
        self._hosts_kept = self._forget_at = hosts
        #: Hosts met (one forgotten and met again counts again), and hosts forgotten.
        self.met = self.forgotten = 0
        self._ready: list[tuple[float, int, str]] = []  # (when, tie, host)
        self._tie = 0
        self.queued = 0
        self.in_flight = 0
        self._in_memory = in_memory
        #: Bytes of the URLs queued in memory (URL_OVERHEAD each beside their text).
        self._held = 0
        self._spill = None
        self._spilled = 0
        self._changed = asyncio.Event()
        self.peak = 0
        #: A partition's frontier (processes, cluster) is fed from outside: empty, it waits
        #: for more until ``end``; a whole crawl's frontier, empty, is the end.
        self.fed = False
        self.ended = False

    def host(self, name: str) -> Host:
        host = self.hosts.get(name)
        if host is None:
            if len(self.hosts) >= self._forget_at:
                self._forget(time.monotonic())
                # Busy hosts are kept, however many: look again a tenth of the limit later.
                self._forget_at = max(self._hosts_kept, len(self.hosts) + self._hosts_kept // 10)
            host = self.hosts[name] = Host()
            self.met += 1
        else:
            self.hosts.move_to_end(name)
        return host

    def _forget(self, now: float) -> None:
        """Forget the least recently busy tenth of the hosts that are idle: nothing queued or
        in flight, robots.txt not being fetched, and free to be fetched again (forgetting a
        host never shortens its Crawl-delay)."""
        idle = []
        for name, host in self.hosts.items():
            if len(idle) >= max(1, self._hosts_kept // 10):
                break
            fetching_robots = isinstance(host.robots, asyncio.Event)
            if not (host.queue or host.scheduled or fetching_robots) and self.slots.idle(name, now):
                idle.append(name)
        for name in idle:
            del self.hosts[name]
            self.slots.forget(name)
        self.forgotten += len(idle)

    def slow_down(self, name: str, gap_s: float) -> None:
        """Space this host's pages at least ``gap_s`` apart (robots.txt's Crawl-delay)."""
        self.slots.slow_down(name, gap_s)

    def pause(self, name: str, until: float) -> None:
        """Fetch nothing of this host before ``until`` (monotonic seconds: a Retry-After)."""
        self.slots.pause(name, until)

    def pace(self, name: str, gap_s: float) -> None:
        """Space this host's pages ``gap_s`` apart (after a 429; it may shorten again)."""
        self.slots.pace(name, gap_s)

    def recent_rate(self, name: str, now: float) -> float:
        """Pages of this host started a second, lately (over the last one to two seconds)."""
        host = self.hosts.get(name)
        if host is None:
            return 0.0
        second = int(now)
        if second - host.second > 1:
            return 0.0
        before = host.started_before if second == host.second else host.started
        current = host.started if second == host.second else 0
        return (before + current) / (1 + now - second)

    def requeue(self, url: str, depth: int) -> None:
        """Put a page back at the head of its host's queue (one in flight, answered "later")."""
        self.queued += 1
        self._held += len(url) + URL_OVERHEAD
        self.host(host_of(url)).queue.appendleft((url, depth))

    def put(self, url: str, depth: int) -> None:
        self.queued += 1
        self.peak = max(self.peak, self.queued)
        cost = len(url) + URL_OVERHEAD
        if self._spilled or self._held + cost > self._in_memory:
            if self._spill is None:
                self._spill = tempfile.TemporaryFile("w+", encoding="utf-8")
                self._read_at = 0
            self._spill.seek(0, os.SEEK_END)
            self._spill.write(f"{depth} {url}\n")
            self._spilled += 1
            return
        self._held += cost
        name = host_of(url)
        host = self.host(name)
        host.queue.append((url, depth))
        self._schedule(name, host)

    def _schedule(self, name: str, host: Host) -> None:
        if not host.scheduled and host.queue and not self.slots.full(name):
            host.scheduled = True
            self._tie += 1
            heapq.heappush(self._ready, (self.slots.free_at(name), self._tie, name))
            self._changed.set()

    def _refill(self) -> None:
        """Bring URLs back from disk once memory holds less than half its share, until it holds
        half (the rest stays on disk, in order)."""
        if not self._spilled or self._held > self._in_memory // 2:
            return
        self._spill.seek(self._read_at)
        spilled, self._spilled = self._spilled, 0  # put() keeps them in memory meanwhile
        while spilled and self._held <= self._in_memory // 2:
            depth, url = self._spill.readline().rstrip("\n").split(" ", 1)
            spilled -= 1
            self.queued -= 1
            self.put(url, int(depth))
        self._spilled = spilled
        self._read_at = self._spill.tell()

    def poll(self, now: float) -> tuple[str, int, str] | None:
        """The next (url, depth, host) a host allows at ``now`` (monotonic seconds), or None
        when none does yet; ``take`` waits for one."""
        self._refill()
        while self._ready and self._ready[0][0] <= now:
            _, _, name = heapq.heappop(self._ready)
            if self.slots.free_at(name) <= now:
                break
            self._tie += 1  # paused since it was scheduled: its turn comes later
            heapq.heappush(self._ready, (self.slots.free_at(name), self._tie, name))
        else:
            return None
        host = self.hosts[name]
        host.scheduled = False
        url, depth = host.queue.popleft()
        self.queued -= 1
        self._held -= len(url) + URL_OVERHEAD
        self.slots.take(name, now)
        second = int(now)
        if second != host.second:
            host.started_before = host.started if second - host.second == 1 else 0
            host.started, host.second = 0, second
        host.started += 1
        self.in_flight += 1
        self._schedule(name, host)
        return url, depth, name

    async def take(self) -> tuple[str, int, str] | None:
        """The next (url, depth, host) a host allows now; None when the crawl is over
        (nothing queued and nothing in flight that could queue more)."""
        while True:
            if self.ended:
                return None
            now = time.monotonic()
            taken = self.poll(now)
            if taken is not None:
                return taken
            if not self._ready and not self.in_flight and not self._spilled and not self.fed:
                self.end()  # wake the other workers: they are done too
                return None
            self._changed.clear()
            wait = self._ready[0][0] - now if self._ready else None
            try:
                await asyncio.wait_for(self._changed.wait(), wait)
            except asyncio.TimeoutError:
                pass

    def end(self) -> None:
        """No more pages: ``take`` returns None from now on."""
        self.ended = True
        self._changed.set()

    def done(self, name: str) -> None:
        self.slots.give_back(name)
        self.in_flight -= 1
        self._schedule(name, self.hosts[name])
        self._changed.set()

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()

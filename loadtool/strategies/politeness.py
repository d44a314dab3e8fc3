"""Per-host politeness: at most N operations in flight per host, at most R starts a second.

Real scrapers must not hammer one site, so a plan that ignores politeness is fiction.
The limits hold in every strategy: threads share one ``HostLimits``; the async strategy
has its twin ``AsyncHostLimits``; processes (and hybrid) split the work by host, so each
host belongs to exactly one process and its limits are enforced there.

The wait for a host's turn happens before an operation starts: it is the client being
polite, not the server being slow, so it is not part of the operation's latency (in the
open model it is, as latency runs from the due time).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import zlib
from collections import deque
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from ..targets import InvalidTarget, url_of

#: On the fixture site, /site/{h}/... stands for host h (and /web/{h}/, /hostile/{h}/ on the
#: fixture's webs), so limits and robots.txt can be exercised on loopback.
_SITE = re.compile(r"/(site|web|hostile)/([^/]+)/")
#: Past this many hosts, forgotten schedules are pruned, so memory stays bounded.
PRUNE_AT = 10_000
#: How often a thread or coroutine waiting for its host's turn looks whether the run has stopped.
STOP_CHECK_S = 0.1
#: The longest wait a Retry-After is taken at (a host asking for a day waits ten minutes), and
#: never past the run's end: --duration, or a stop, ends the wait.
MAX_WAIT_S = 600.0


def host_of(target) -> str:
    """The host a target counts against: its host:port, or ``site/h`` (``web/h``) on the
    fixture site (web)."""
    if isinstance(target, InvalidTarget):
        return ""
    parts = urlsplit(url_of(target))
    site = _SITE.match(parts.path)
    return f"{parts.netloc}/{site.group(1)}/{site.group(2)}" if site else parts.netloc


def retry_after_s(value: str | None, now_epoch: float) -> float | None:
    """A Retry-After header's wait in seconds (delta-seconds, or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now_epoch)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def asked_wait_s(headers) -> float | None:
    """The wait an answer's Retry-After asks for, in seconds (headers: lower-cased (name,
    value) pairs, as engines keep them), or None when it names none."""
    return retry_after_s(dict(headers).get("retry-after"), time.time())


def host_share(target, processes: int) -> int:
    """Which of ``processes`` processes owns the target's host (stable across processes)."""
    return zlib.crc32(host_of(target).encode()) % processes


class Slots:
    """Per-host limits as pure bookkeeping: who is in flight, and when each host may next start.

    ``take`` either grants a slot — returning when the operation may start (now, or later
    for a per-host rate) — or says the host is full. ``now`` is given, never read, so the
    limits are tested without waiting; the sync and async twins below only wait, and the
    crawl's frontier (which hands out hosts in the order they may start) keeps its hosts'
    limits here too. A host may be slowed down on its own (``slow_down``: robots.txt's
    Crawl-delay): its gap is then the longer of its own and the rate's.
    """

    def __init__(self, per_host: int | None, per_s: float | None) -> None:
        self.per_host = per_host
        self.gap_s = None if per_s is None else 1.0 / per_s
        self.in_flight: dict[str, int] = {}
        self.next_start: dict[str, float] = {}
        #: Hosts with a gap of their own, longer than ``gap_s``: the longer of their delay
        #: (``slow_down``: robots.txt's Crawl-delay) and their pace (``pace``: after a 429).
        self.own_gap_s: dict[str, float] = {}
        self._delay_s: dict[str, float] = {}
        self._pace_s: dict[str, float] = {}

    def full(self, host: str) -> bool:
        """Whether ``per_host`` operations of the host are in flight."""
        return self.per_host is not None and self.in_flight.get(host, 0) >= self.per_host

    def free_at(self, host: str) -> float:
        """When the host may next start (0: at once)."""
        return self.next_start.get(host, 0.0)

    def take(self, host: str, now: float) -> float | None:
        """A slot for ``host``: when it may start, or None while ``per_host`` are in flight."""
        if self.full(host):
            return None
        self.in_flight[host] = self.in_flight.get(host, 0) + 1
        return self.start(host, now)

    def start(self, host: str, now: float) -> float:
        """Reserve the host's next start (for a slot already held): now, or later."""
        gap = self.own_gap_s.get(host, self.gap_s) if self.own_gap_s else self.gap_s
        if gap is None:
            paused = self.next_start.get(host) if self.next_start else None
            return now if paused is None or paused <= now else paused
        start = max(now, self.next_start.get(host, now))
        self.next_start[host] = start + gap
        if len(self.next_start) > PRUNE_AT:
            self.next_start = {key: due for key, due in self.next_start.items() if due > now}
        return start

    def give_back(self, host: str) -> None:
        left = self.in_flight[host] - 1
        if left:
            self.in_flight[host] = left
        else:
            del self.in_flight[host]

    def slow_down(self, host: str, gap_s: float) -> None:
        """Space the host's starts at least ``gap_s`` apart from now on."""
        if gap_s > self._delay_s.get(host, 0.0):
            self._delay_s[host] = gap_s
            self._own(host)

    def pace(self, host: str, gap_s: float) -> None:
        """Space the host's starts ``gap_s`` apart (a pace found after a 429: it may shorten
        again, never below the host's delay or ``gap_s``)."""
        self._pace_s[host] = gap_s
        self._own(host)

    def _own(self, host: str) -> None:
        gap = max(self._delay_s.get(host, 0.0), self._pace_s.get(host, 0.0))
        if gap > (self.gap_s or 0.0):
            self.own_gap_s[host] = gap
        else:
            self.own_gap_s.pop(host, None)

    def pause(self, host: str, until: float) -> None:
        """Start nothing of the host before ``until`` (a Retry-After)."""
        self.next_start[host] = max(until, self.next_start.get(host, 0.0))

    def idle(self, host: str, now: float) -> bool:
        """Whether nothing of the host is in flight and it may start at once."""
        return host not in self.in_flight and self.next_start.get(host, 0.0) <= now

    def forget(self, host: str) -> None:
        """Drop what is kept of an idle host (a crawl over millions of hosts forgets them)."""
        for kept in (self.next_start, self.own_gap_s, self._delay_s, self._pace_s):
            kept.pop(host, None)


class _Limits:
    """What both twins share: their Slots, and honouring a Retry-After (``--retry-after``)."""

    def __init__(self, per_host: int | None, per_s: float | None, retry_after: bool) -> None:
        self.slots = Slots(per_host, per_s)
        self.retry_after = retry_after
        #: Hosts that asked to be left alone (a 429 or 503 with a Retry-After): the longest wait
        #: each asked for, in seconds.
        self.asked: dict[str, float] = {}

    @classmethod
    def for_job(cls, job):
        """The job's per-host limits, or None when it has none."""
        fetch = job.fetch
        return cls(fetch.per_host, fetch.host_rate, fetch.retry_after) if job.polite else None

    def answered(self, host: str, outcome) -> None:
        """After an operation of ``host``: a 429 or 503 with a Retry-After pauses the host that
        long (with --retry-after; the answer's headers are kept for it)."""
        if not self.retry_after or outcome is None or outcome.status not in (429, 503) or not outcome.answer:
            return
        wait_s = asked_wait_s(outcome.answer[0])
        if wait_s:
            if len(self.asked) < PRUNE_AT or host in self.asked:
                self.asked[host] = max(self.asked.get(host, 0.0), wait_s)
            self.pause(host, min(wait_s, MAX_WAIT_S))

    def said(self) -> dict | None:
        """What the hosts asked for, for the report (``details["retry_after"]``); None if none did."""
        if not self.asked:
            return None
        longest = max(self.asked.values())
        return {"hosts": len(self.asked), "longest_asked_s": longest, "longest_taken_s": min(longest, MAX_WAIT_S),
                "cap_s": MAX_WAIT_S}

    def pause(self, host: str, seconds: float) -> None:
        self.slots.pause(host, time.perf_counter() + seconds)


class HostLimits(_Limits):
    """Per-host limits for threads (and sequential): one Slots under a condition."""

    def __init__(self, per_host: int | None, per_s: float | None, retry_after: bool = False) -> None:
        super().__init__(per_host, per_s, retry_after)
        self._changed = threading.Condition()

    def pause(self, host: str, seconds: float) -> None:
        with self._changed:
            super().pause(host, seconds)

    def acquire(self, host: str, stopping) -> bool:
        """Wait for the host's turn; False if the run stopped meanwhile."""
        with self._changed:
            while (start := self.slots.take(host, time.perf_counter())) is None:
                if stopping.is_set():
                    return False
                self._changed.wait(STOP_CHECK_S)  # re-checks the stop flag; a release wakes it sooner
        delay = start - time.perf_counter()
        if delay > 0 and stopping.wait(delay):
            self.release(host)
            return False
        return True

    def release(self, host: str) -> None:
        with self._changed:
            self.slots.give_back(host)
            self._changed.notify_all()


class AsyncHostLimits(_Limits):
    """The async twin of ``HostLimits``: a full host's slots are handed to waiting coroutines in turn."""

    def __init__(self, per_host: int | None, per_s: float | None, retry_after: bool = False) -> None:
        super().__init__(per_host, per_s, retry_after)
        self._waiting: dict[str, deque[asyncio.Future]] = {}

    async def acquire(self, host: str, stopping) -> bool:
        """Wait for the host's turn; False (its slot given back) if the run stopped meanwhile:
        a long wait (a Retry-After) ends with the run, not after its grace period."""
        start = self.slots.take(host, time.perf_counter())
        if start is None:
            turn = asyncio.get_running_loop().create_future()
            self._waiting.setdefault(host, deque()).append(turn)
            await turn  # release() hands its slot over: the count stays as it is
            start = self.slots.start(host, time.perf_counter())
        while (delay := start - time.perf_counter()) > 0:
            if stopping.is_set():
                self.release(host)
                return False
            await asyncio.sleep(min(delay, STOP_CHECK_S))
        return True

    def release(self, host: str) -> None:
        waiting = self._waiting.get(host)
        while waiting:
            turn = waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._waiting.pop(host, None)
        self.slots.give_back(host)

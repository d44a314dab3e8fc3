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
from urllib.parse import urlsplit

from .targets import InvalidTarget

#: On the fixture site, /site/{h}/... stands for host h, so limits can be exercised on loopback.
_SITE = re.compile(r"/site/([^/]+)/")
#: Past this many hosts, forgotten schedules are pruned, so memory stays bounded.
PRUNE_AT = 10_000


def host_of(target) -> str:
    """The host a target counts against: its host:port, or ``site/h`` on the fixture site."""
    if isinstance(target, InvalidTarget) or not isinstance(target, str):
        return ""
    parts = urlsplit(target)
    site = _SITE.match(parts.path)
    return f"{parts.netloc}/site/{site.group(1)}" if site else parts.netloc


def host_share(target, processes: int) -> int:
    """Which of ``processes`` processes owns the target's host (stable across processes)."""
    return zlib.crc32(host_of(target).encode()) % processes


class _Schedule:
    """When each host may next start an operation, for a per-host rate."""

    def __init__(self, per_s: float | None) -> None:
        self.gap_s = None if per_s is None else 1.0 / per_s
        self.next_start: dict[str, float] = {}

    def reserve(self, host: str, now: float) -> float:
        """Reserve the host's next start; returns when it is (now, or later)."""
        if self.gap_s is None:
            return now
        start = max(now, self.next_start.get(host, now))
        self.next_start[host] = start + self.gap_s
        if len(self.next_start) > PRUNE_AT:
            self.next_start = {key: due for key, due in self.next_start.items() if due > now}
        return start


class HostLimits:
    """Per-host limits for threads (and sequential): a condition shared by all workers."""

    def __init__(self, per_host: int | None, per_s: float | None) -> None:
        self.per_host = per_host
        self._schedule = _Schedule(per_s)
        self._in_flight: dict[str, int] = {}
        self._changed = threading.Condition()

    def acquire(self, host: str, stopping) -> bool:
        """Wait for the host's turn; False if the run stopped meanwhile."""
        with self._changed:
            while self.per_host is not None and self._in_flight.get(host, 0) >= self.per_host:
                if stopping.is_set():
                    return False
                self._changed.wait(0.1)  # re-checks the stop flag; a release wakes it sooner
            self._in_flight[host] = self._in_flight.get(host, 0) + 1
            start = self._schedule.reserve(host, time.perf_counter())
        delay = start - time.perf_counter()
        if delay > 0 and stopping.wait(delay):
            self.release(host)
            return False
        return True

    def release(self, host: str) -> None:
        with self._changed:
            left = self._in_flight[host] - 1
            if left:
                self._in_flight[host] = left
            else:
                del self._in_flight[host]
            self._changed.notify_all()


class AsyncHostLimits:
    """The async twin of ``HostLimits``: slots handed to waiting coroutines in turn."""

    def __init__(self, per_host: int | None, per_s: float | None) -> None:
        self.per_host = per_host
        self._schedule = _Schedule(per_s)
        self._in_flight: dict[str, int] = {}
        self._waiting: dict[str, deque[asyncio.Future]] = {}

    async def acquire(self, host: str) -> None:
        if self.per_host is not None and self._in_flight.get(host, 0) >= self.per_host:
            turn = asyncio.get_running_loop().create_future()
            self._waiting.setdefault(host, deque()).append(turn)
            await turn  # release() hands the slot over: the count stays as it is
        else:
            self._in_flight[host] = self._in_flight.get(host, 0) + 1
        delay = self._schedule.reserve(host, time.perf_counter()) - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)

    def release(self, host: str) -> None:
        waiting = self._waiting.get(host)
        while waiting:
            turn = waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._waiting.pop(host, None)
        left = self._in_flight[host] - 1
        if left:
            self._in_flight[host] = left
        else:
            del self._in_flight[host]

"""RunControl: how a run stops — one object, shared by every strategy.

A run ends when its work runs out, when its --duration is over (``end_at``: the deadline
of the whole run, operations in flight included), or when it is stopped (Ctrl-C, SIGTERM,
a parent process, a dask client). After a stop, or the deadline, operations in flight get
``grace_s`` to finish; then the strategy stops waiting for them and abandons them. Every strategy waits the
same way, through ``wait_until`` (threads and processes) or ``await_done`` (an event
loop), so the grace period means the same thing everywhere.

The stop travels one way: ``stop()`` sets one ``threading.Event``. Where a run spans
processes or machines, the other side's event is adapted, not reinvented: ``forward``
copies this stop to an outside event (a multiprocessing or dask Event), and
``follow`` turns an outside event into this stop.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

#: How often a waiting strategy looks up to notice a stop or the end of the grace period.
POLL_S = 0.2
#: The reason of a stop that is a run's own end (its --duration), not an interruption.
DURATION = "duration"
#: The reason a run stopped when one of its worker processes died (killed, out of memory).
WORKER_LOST = "worker lost"


#: How long ending a stop's forwarding waits for the forwarding thread.
FORWARD_JOIN_S = 2.0


class RunControl:
    """The stop signal of one run, its grace period, and how to wait for its work.

    ``stop`` is safe to call from a signal handler: it records the time, sets an Event
    and runs the callbacks registered with ``on_stop`` (which must be as quick and safe).
    ``clock`` is injectable so the grace arithmetic can be tested without sleeping.
    ``event`` adapts a stop event shared with other processes (a multiprocessing Event,
    which a worker process only reads).
    """

    def __init__(self, grace_s: float = 5.0, clock: Callable[[], float] = time.monotonic,
                 event: Any = None) -> None:
        self.grace_s = grace_s
        self.stopping = threading.Event() if event is None else event
        #: True once stop() has run: what the per-operation check reads (Work), a plain attribute
        #: where Event.is_set is a Python call. None when the event is another's (a parent
        #: process's), which only the event itself can tell.
        self.halted: bool | None = False if event is None else None
        self.reason: str | None = None
        self._clock = clock
        self._stopped_at: float | None = None
        self._callbacks: list[Callable[[], None]] = []

    @property
    def stopped(self) -> bool:
        return self.stopping.is_set()

    @property
    def interruption(self) -> str | None:
        """Why the run was cut short (a signal, a parent), or None: also when it simply reached
        the end of its --duration."""
        return None if self.reason == DURATION else self.reason

    def end_at(self, deadline: Callable[[], float]) -> Callable[[], None]:
        """Stop the run when wall-clock time reaches ``deadline()`` (asked again at every poll,
        so a strategy that restarts the run's clock moves it), from a thread of its own:
        operations still in flight then get the grace period, as after Ctrl-C. Returns a
        function that ends the watch."""
        finished = threading.Event()

        def watch() -> None:
            # Asleep until the deadline, or a second at most (should the system clock step): woken
            # 20 times a second, this watch and the memory sampler took 1% of the aiohttp engine's
            # requests a second from the event loop's thread (system.MemoryWatch). (A deadline
            # only moves later: to a restarted clock.)
            while not finished.wait(min(1.0, max(deadline() - time.time(), 0.0))):
                if time.time() >= deadline():
                    self.stop(DURATION)
                    return

        thread = threading.Thread(target=watch, name="loadtool-deadline", daemon=True)
        thread.start()

        def end() -> None:
            finished.set()
            thread.join()

        return end

    def stop(self, reason: str) -> None:
        """Stop the run: no new operations; those in flight get the grace period."""
        if self.reason is None:
            self.reason = reason
            self._stopped_at = self._clock()
        if self.halted is not None:
            self.halted = True
        self.stopping.set()
        for callback in list(self._callbacks):
            callback()

    def on_stop(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` when the run stops (at once if it has); returns an unregister function."""
        self._callbacks.append(callback)
        if self.stopped:
            callback()
        return lambda: self._callbacks.remove(callback)

    def grace_left_s(self, extra_s: float = 0.0) -> float:
        """Seconds until in-flight operations are abandoned (plus ``extra_s``): infinite until
        a stop."""
        if self._stopped_at is None:
            return math.inf
        return max(self._stopped_at + self.grace_s + extra_s - self._clock(), 0.0)

    def wait_until(self, done: Callable[[float], bool], extra_s: float = 0.0) -> bool:
        """Wait until ``done(timeout)`` says the work is over, or until the grace period after a
        stop (plus ``extra_s``) runs out. ``done`` waits at most ``timeout`` seconds itself.

        Returns True when the work finished, False when the rest must be abandoned.
        """
        while True:
            if done(min(POLL_S, self.grace_left_s(extra_s))):
                return True
            if self.grace_left_s(extra_s) <= 0:
                return False

    async def await_done(self, work: Awaitable, extra_s: float = 0.0) -> bool:
        """The event-loop twin of ``wait_until``: await ``work`` (a future or task); after a
        stop, give it the grace period (plus ``extra_s``). True when it finished, False when it
        must be abandoned. A failure of ``work`` itself (a bug, never an operation's) is raised."""
        loop = asyncio.get_running_loop()
        work = asyncio.ensure_future(work)
        stopped = asyncio.Event()
        unregister = self.on_stop(lambda: loop.call_soon_threadsafe(stopped.set))
        stop_wait = asyncio.ensure_future(stopped.wait())
        try:
            await asyncio.wait({work, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():
                left = self.grace_left_s(extra_s)
                await asyncio.wait({work}, timeout=None if math.isinf(left) else left)
        finally:
            stop_wait.cancel()
            unregister()
        if work.done():
            work.result()
            return True
        return False

    def forward(self, set_outside: Callable[[], None]) -> Callable[[], None]:
        """Copy a stop of this run to an outside event (``set_outside``), from a thread of its
        own: setting a dask Event talks to the scheduler, which a signal handler must not do.
        Returns a function that ends the forwarding (after which a stop is not forwarded)."""
        wake, finished = threading.Event(), threading.Event()
        unregister = self.on_stop(wake.set)

        def forward_stop() -> None:
            wake.wait()
            if not finished.is_set():
                set_outside()

        thread = threading.Thread(target=forward_stop, name="loadtool-forward-stop", daemon=True)
        thread.start()

        def end() -> None:
            finished.set()
            wake.set()
            # Bounded: a multiprocessing Event's set() waits for every process that was waiting
            # on it to wake — forever, for a worker killed while it waited (the living ones are
            # woken first). The thread is a daemon: left behind, it holds nothing of the run.
            thread.join(FORWARD_JOIN_S)
            unregister()

        return end

    def follow(self, wait_outside: Callable[[float], bool], reason: str) -> Callable[[], None]:
        """Stop this run when an outside stop arrives: ``wait_outside(timeout)`` (a multiprocessing
        or dask Event's ``wait``) is polled from a thread. Returns a function that ends the watch."""
        finished = threading.Event()

        def watch() -> None:
            while not finished.is_set():
                try:
                    if wait_outside(POLL_S):
                        self.stop(reason)
                        return
                except Exception:  # noqa: BLE001 - the stop can no longer be heard: stop now, not never
                    self.stop(reason)
                    return

        thread = threading.Thread(target=watch, name="loadtool-follow-stop", daemon=True)
        thread.start()

        def end() -> None:
            finished.set()
            thread.join()

        return end

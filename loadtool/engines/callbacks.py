"""What a ``loop`` engine's channel calls back: its ``Worker``.

A loop engine (the fast engine) has no coroutine per request: each worker of the loop
driver (strategies.loop.LoopWorker) owns a channel, starts an attempt on it, and the
channel ends the attempt by calling the worker back from the callback that read the
answer — ``answered`` with what came, or ``failed``. This is that worker, as the engine
sees it: the attempt in flight, if any, and the two calls.

Compiled (loadtool.speedups), it is a C type the engine holds its worker as, so each
answer reaches the worker as a C call rather than through a bound method and a tuple of
arguments (the fast engine 0.7k instructions a request; callgrind).
"""

from __future__ import annotations


class Worker:
    """The worker an attempt on a loop engine's channel belongs to."""

    __slots__ = ("attempt", "in_flight")

    def __init__(self) -> None:
        #: The attempt last started (engines.policy.Attempt), and whether it is in flight.
        self.attempt = None
        self.in_flight = False

    def answered(self, status: int, nbytes: int, protocol: str | None = None, connected: bool | None = None,
                 phases: tuple | None = None, now: float | None = None, answer: tuple | None = None,
                 decoded: int | None = None, elsewhere: bool = False) -> None:
        """The attempt got an answer (at ``now``, when the engine read the clock already);
        ``answer`` is what checks read of it (Outcome.answer)."""
        raise NotImplementedError

    def failed(self, error, detail: str | None = None, stale: bool = False) -> None:
        """The attempt failed: ``error`` an exception or an error kind, ``stale`` when it met
        a kept-alive connection the server had closed."""
        raise NotImplementedError

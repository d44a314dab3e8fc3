"""The policy's watchdog: ends a blocking attempt at its deadline when the library cannot.

requests (urllib3, http.client) applies its timeout to each ``recv``, not to the whole
answer: a server that sends one header line every half second holds a request for as
long as it likes. The watchdog keeps the deadline of every blocking attempt in flight
and, when one passes, shuts its socket down; the blocked call returns at once, and the
attempt counts as ``read_timeout`` (its deadline passed), whatever the library made of
the shut-down socket. One thread per process serves every worker.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time


class Watch:
    """One attempt under watch: the socket it runs on (set by the engine's connection class
    as it sends; kept here, as http.client lets go of it once an answer owns it), whether
    its connection was reused, and whether the deadline fired."""

    __slots__ = ("deadline_s", "sock", "reused", "fired", "done", "times", "connecting")

    def __init__(self, deadline_s: float) -> None:
        self.deadline_s = deadline_s
        #: What the engine's connection class notes of the attempt's phases (connect, tls, send, wait).
        self.times: dict[str, float] = {}
        self.sock = None
        self.reused = False
        self.fired = False
        self.done = False
        #: Whether the attempt is still connecting (TCP, then the TLS handshake): a timeout
        #: then is the connect timeout's, whatever the library calls it.
        self.connecting = False


class Watchdog:
    """Deadlines of blocking attempts, and one thread that enforces them."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, Watch]] = []
        #: Watches in ``_due`` whose attempt already ended. They leave the heap when they reach
        #: its top — a --timeout later — so at 10^4 attempts a second they would hold 10^4 ×
        #: 30 s of them (and their sockets): past half the heap they are swept out at once.
        self._ended = 0
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, deadline_s: float) -> Watch:
        """Start watching an attempt that must end by ``deadline_s`` (a perf_counter time)."""
        watch = Watch(deadline_s)
        with self._changed:
            heapq.heappush(self._due, (deadline_s, next(self._order), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._enforce, name="loadtool-watchdog", daemon=True)
                self._thread.start()
            elif self._due[0][2] is watch:
                self._changed.notify()
        return watch

    def attach(self, watch: Watch, sock: socket.socket, reused: bool = False) -> None:
        """The attempt now runs on ``sock``; if its deadline already passed (it fired while
        connecting), the socket is shut down at once."""
        with self._changed:
            watch.sock = sock
            watch.reused = watch.reused or reused
            if watch.fired:
                _shut(sock)

    def release(self, watch: Watch) -> bool:
        """The attempt ended; returns whether its deadline had fired first."""
        with self._changed:
            watch.done = True
            watch.sock = None
            self._ended += 1
            if self._ended > 64 and 2 * self._ended > len(self._due):
                self._due = [entry for entry in self._due if not entry[2].done]
                heapq.heapify(self._due)
                self._ended = 0
            return watch.fired

    def _enforce(self) -> None:
        with self._changed:
            while True:
                while self._due and self._due[0][2].done:
                    heapq.heappop(self._due)
                    self._ended -= 1
                if not self._due:
                    self._changed.wait()
                    continue
                wait_s = self._due[0][0] - time.perf_counter()
                if wait_s > 0:
                    self._changed.wait(wait_s)
                    continue
                _, _, watch = heapq.heappop(self._due)
                watch.fired = True
                _shut(watch.sock)


def _shut(sock: socket.socket | None) -> None:
    """Shut the socket down both ways: a blocked recv or send returns at once."""
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: the attempt is ending anyway


#: One watchdog per process, started on first use.
WATCHDOG = Watchdog()

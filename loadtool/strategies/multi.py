"""The multi driver: C operations at once on an engine that multiplexes them itself (libcurl).

A ``multi`` engine gives a pool of C slots: ``start(slot, target, limits)`` begins an
attempt, ``wait(timeout)`` runs the engine and returns the attempts that ended. This
driver runs the pool in a thread of its own — libcurl is fastest driving its own sockets
(see ``engines.curl``) — and does what every driver does: take operations from Work
(holding one until it is due), ask the policy what each outcome means (the Sample, or a
retry after a pause), count into its own Stats, and hand them to the sink every tick.
After a stop it starts nothing new; what is still in flight when the grace period ends
is dropped.
"""

from __future__ import annotations

import heapq
import itertools

from ..engines.policy import Retry
from ..metrics import clock
from ..targets import InvalidTarget
from .work import Work

#: How often counts go to the sink, and the longest the driver waits on the engine.
TICK_S = 0.05


class MultiDriver:
    """C slots of one engine pool, driven from one thread."""

    def __init__(self, job, concurrency: int, engine, policy, control, sink) -> None:
        self.policy, self.control, self.sink = policy, control, sink
        self.work = Work(job, control, sink.epoch, shared=False)  # one thread takes from it
        self.pool = engine.pool(concurrency)
        self.free = list(range(concurrency))
        self.attempts: dict = {}  # slot -> its attempt in flight
        self.retries: list = []  # (when, order, slot, attempt), soonest first
        self._order = itertools.count()
        self.held = None  # the next operation, while it is not yet due
        self.batch = sink.new_batch()
        self.count = self.batch.add
        #: Policy.begin, looked up once: it runs per operation. (Policy.answered is called through
        #: the policy: compiled, that is a C call.)
        self.begin = policy.begin
        self.exhausted = False

    def run(self) -> None:
        """Run until the work and everything in flight are done, or the grace period ends."""
        next_hand_over = clock.now() + TICK_S
        try:
            while True:
                now = clock.now()
                self._start(now)
                if self.exhausted and not self.attempts and not self.retries:
                    return
                if self.control.stopped and self.control.grace_left_s() <= 0:
                    return  # the grace period is over: what is in flight is dropped
                if self.attempts:
                    for slot, outcome in self.pool.wait(self._wait_s(now)):
                        self._ended(slot, outcome)
                else:  # waiting for a due time or a retry: nothing for the engine to do
                    self.control.stopping.wait(self._wait_s(now))
                if clock.now() >= next_hand_over:
                    self._hand_over()
                    next_hand_over = clock.now() + TICK_S
        finally:
            self._hand_over()
            self.sink.settle(self.work.issued)
            self.pool.close()

    def _start(self, now: float) -> None:
        """Start retries whose pause is over and new operations that are due, on free slots."""
        while self.retries and self.retries[0][0] <= now:
            _, _, slot, attempt = heapq.heappop(self.retries)
            self._send(slot, attempt, now)
        if not self.free or self.exhausted:
            return
        if self.control.stopped:  # asked once a pass, not once an operation: it is a property over an Event
            self.exhausted = True
            return
        while self.free:  # (exhausted: it returns)
            op = self.held if self.held is not None else next(self.work, None)
            self.held = None
            if op is None:
                self.exhausted = True
                return
            if op.due is not None and op.due > now:
                self.held = op
                return
            if type(op.target) is InvalidTarget:
                self.count(self.policy.invalid(op, op.target.detail, now))
                continue
            self._send(self.free.pop(), self.begin(op, now), now, self.policy.first_limits)

    def _send(self, slot: int, attempt, now: float, limits=None) -> None:
        self.attempts[slot] = attempt
        try:
            self.pool.start(slot, attempt.op.target, limits or self.policy.limits(attempt, now))
        except ValueError as exc:  # a target this engine cannot fetch
            del self.attempts[slot]
            self.free.append(slot)
            self.count(self.policy.invalid(attempt.op, str(exc), now))

    def _ended(self, slot: int, outcome) -> None:
        attempt, now = self.attempts.pop(slot), clock.now()
        status, nbytes, error, _, _, protocol, connected, phases, answer, decoded, elsewhere = outcome
        if error is None:  # an answer: the short way to the same decision
            verdict = self.policy.answered(attempt, status, nbytes, now, protocol, connected, phases, answer,
                                           decoded, elsewhere)
        else:
            verdict = self.policy.settle(attempt, outcome, now)
        if type(verdict) is Retry:
            heapq.heappush(self.retries, (clock.now() + verdict.pause_s, next(self._order), slot,
                                          verdict.attempt))
            return
        self.count(verdict)
        self.free.append(slot)

    def _wait_s(self, now: float) -> float:
        """How long the engine may wait for sockets: until the next retry or due operation."""
        wait = TICK_S
        if self.retries:
            wait = min(wait, self.retries[0][0] - now)
        if self.held is not None and self.free:
            wait = min(wait, self.held.due - now)
        return max(wait, 0.0)

    def _hand_over(self) -> None:
        self.sink.hand_over(self.batch)

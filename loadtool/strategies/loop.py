"""The loop driver: C workers on one event loop for engines that work by callbacks.

A ``loop`` engine (the fast engine) has no coroutine per request; each worker here is
a small state machine: take an operation, wait until it is due, start an attempt on
its channel, and on the engine's callback ask the policy what comes next — count the
Sample and take the next operation, or retry after a pause. Deadlines are enforced by
one sweep every tick (``Policy.expired``) rather than a timer per request, and counts
go into this loop's own Stats (one thread: no lock per request), handed to the sink
every tick so progress stays live.
"""

from __future__ import annotations

import asyncio

from ..engines.callbacks import Worker
from ..engines.policy import Outcome, Retry
from ..metrics import clock
from ..targets import InvalidTarget
from .work import Work

#: How often in-flight operations are checked against their deadlines.
TICK_S = 0.05


class LoopWorker(Worker):
    """One of C workers: takes operations from Work and runs them on its channel."""

    __slots__ = ("driver", "channel", "done")

    def __init__(self, driver: LoopDriver) -> None:
        super().__init__()
        self.driver = driver
        self.channel = driver.engine.channel(driver.loop, self)
        self.done = False

    def next(self) -> None:
        """Start the next operation (now, or when it is due), or finish when Work has none left."""
        driver = self.driver
        work = driver.work
        while (op := next(work, None)) is not None:
            if type(op.target) is InvalidTarget:
                driver.count(driver.policy.invalid(op, op.target.detail, clock.now()))
                continue
            due = op.due
            if due is not None and due > clock.now():
                driver.loop.call_at(driver.loop_time(due), self.begin, op)
            else:
                self.send(driver.begin(op, clock.now()))
            return
        self.finish()

    def begin(self, op) -> None:
        if not self.done:
            self.send(self.driver.begin(op, clock.now()))

    def send(self, attempt) -> None:
        """Start ``attempt`` on the channel (its deadline is kept by the driver's sweep)."""
        if self.done:
            return
        self.attempt, self.in_flight = attempt, True
        try:
            self.channel.start(attempt.op.target)
        except ValueError as exc:  # a target this engine cannot fetch
            self.in_flight = False
            driver = self.driver
            driver.count(driver.policy.invalid(attempt.op, str(exc), clock.now()))
            self.next()

    def answered(self, status: int, nbytes: int, protocol: str | None = None, connected: bool | None = None,
                 phases: tuple | None = None, now: float | None = None, answer: tuple | None = None,
                 decoded: int | None = None, elsewhere: bool = False) -> None:
        if self.in_flight:
            self.in_flight = False
            driver = self.driver
            verdict = driver.policy.answered(self.attempt, status, nbytes, now or clock.now(), protocol,
                                             connected, phases, answer, decoded, elsewhere)
            if type(verdict) is Retry:
                driver.loop.call_later(verdict.pause_s, self.send, verdict.attempt)
                return
            driver.count(verdict)  # _then's work, written out: this runs once per answer
            self.next()

    def failed(self, error, detail: str | None = None, stale: bool = False) -> None:
        if self.in_flight:
            self.in_flight = False
            self.channel.abort()
            self._then(self.driver.policy.settle(self.attempt, Outcome(error=error, detail=detail, stale=stale),
                                                 clock.now()))

    def _then(self, verdict) -> None:
        if type(verdict) is Retry:
            self.driver.loop.call_later(verdict.pause_s, self.send, verdict.attempt)
            return
        self.driver.count(verdict)
        self.next()

    def check(self, now: float) -> None:
        """Fail the attempt in flight if it has run into a deadline."""
        if self.in_flight:
            late = self.driver.policy.expired(self.attempt, now, self.channel.connecting)
            if late is not None:
                self.failed(late.error, late.detail)

    def finish(self) -> None:
        self.channel.close()
        if not self.done:
            self.done = True
            self.driver.worker_done()

    def abandon(self) -> None:
        self.in_flight = False
        self.channel.abort()
        self.finish()


class LoopDriver:
    """C LoopWorkers sharing one Work on the running loop."""

    def __init__(self, job, concurrency: int, engine, policy, control, sink,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.engine, self.policy, self.control, self.sink, self.loop = engine, policy, control, sink, loop
        self.work = Work(job, control, sink.epoch, shared=False)  # every worker runs on this loop
        self.batch = sink.new_batch()
        #: Count one Sample into this loop's own batch (one thread: no lock per request).
        self.count = self.batch.add
        #: The first attempt of an operation (Policy.begin), looked up once: it runs per operation.
        self.begin = policy.begin
        self.finished = loop.create_future()
        self._left = concurrency
        self.workers = [LoopWorker(self) for _ in range(concurrency)]
        # clock.now() (perf_counter) and the loop's clock differ by a constant: due times convert once.
        self._loop_offset = loop.time() - clock.now()

    def loop_time(self, perf: float) -> float:
        return perf + self._loop_offset

    def hand_over(self) -> None:
        """Give what was counted since the last tick to the sink (progress sees it)."""
        self.sink.hand_over(self.batch)

    def worker_done(self) -> None:
        self._left -= 1
        if self._left == 0 and not self.finished.done():
            self.finished.set_result(None)

    def tick(self) -> None:
        """Every TICK_S: fail what is overdue, hand the counts over."""
        now = clock.now()
        for worker in self.workers:
            worker.check(now)
        self.hand_over()
        if not self.finished.done():
            self.loop.call_later(TICK_S, self.tick)

    async def run(self) -> None:
        try:
            for worker in self.workers:
                worker.next()
            self.loop.call_later(TICK_S, self.tick)
            if not await self.control.await_done(self.finished):
                for worker in self.workers:  # after the grace period: drop what is still in flight
                    worker.abandon()
        finally:
            self.hand_over()
            self.sink.settle(self.work.issued)

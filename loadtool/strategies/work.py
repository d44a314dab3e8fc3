"""Work: operations go out to workers one at a time, each with its target and due time.

``Work`` hands out operations to however many workers a strategy runs, and ends when
the count is reached, the duration is over, or the run is stopped. In the open model
(``--rate``) each operation carries the time it is due; latency is measured from then,
so a stalled target cannot hide its stall by slowing the client down (coordinated
omission). A share of the work (every P-th operation, or the hosts one process owns)
is cut here too, so processes, hybrid and cluster get their parts the same way.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, NamedTuple

from ..metrics import tuples
from ..targets import InvalidTarget
from ..units import Rate


class Pacer:
    """When operation *k* is due, in seconds after the start, for a rate and its ramp.

    A linear ramp from 0 to R over T seconds makes R·t²/2T operations due by time t,
    then R more each second; ``offset_s`` inverts that count.
    """

    def __init__(self, rate: Rate) -> None:
        self.per_s, self.ramp_s = rate.per_s, rate.ramp_s
        self._ramp_ops = rate.per_s * rate.ramp_s / 2

    def offset_s(self, index: int) -> float:
        if index < self._ramp_ops:
            return math.sqrt(2 * self.ramp_s * index / self.per_s)
        return self.ramp_s + (index - self._ramp_ops) / self.per_s


class Op(NamedTuple):
    """One operation to do: its index in the run, its target, and when it is due.
    (A NamedTuple: one is made per operation, at a third of a frozen dataclass's cost.)"""

    index: int
    target: str | InvalidTarget
    due: float | None = None  # time.perf_counter() time; None in the closed model


def clock_base(epoch: float, clock: Callable[[], float] = time.perf_counter,
               wall: Callable[[], float] = time.time) -> float:
    """The ``clock()`` reading of wall-clock time ``epoch`` in this process: ``wall()`` read
    between two ``clock()`` readings, the tightest pair of three. Read once each, a process
    preempted between the two reads (a busy machine) put its deadline that much early: a
    threads run of -d 1s measured 0.998 s."""
    pairs = []
    for _ in range(3):
        before, now, after = clock(), wall(), clock()
        pairs.append((after - before, (before + after) / 2 - (now - epoch)))
    return min(pairs)[1]


@dataclass(frozen=True)
class Share:
    """One process's part of a job: every ``of``-th operation from ``index`` — or, with
    ``by_host``, the operations of the hosts that process ``index`` of ``of`` owns, so
    per-host limits hold in one place."""

    index: int
    of: int
    by_host: bool = False


def _share(ops: Iterator[tuple[int, Any]], share: Share) -> Iterator[tuple[int, Any]]:
    if not share.by_host:
        # Every of-th operation: reading the ones in between is far cheaper than seeking.
        return islice(ops, share.index, None, share.of)
    from .politeness import host_share

    return ((index, target) for index, target in ops if host_share(target, share.of) == share.index)


class Work:
    """The operations ``start`` up to ``stop`` of a job, handed out one at a time.

    Thread-safe; any number of workers may pull from one Work (``shared=False`` drops the
    lock, for workers that all run on one event loop). It never holds more than one
    operation, so a run of any length takes the same memory. ``clock`` and ``wall`` are
    injectable, so the schedule can be tested without waiting for it.
    """

    def __init__(self, job, control, epoch: float, start: int = 0, stop: int | None = None,
                 clock: Callable[[], float] = time.perf_counter, wall: Callable[[], float] = time.time,
                 shared: bool = True) -> None:
        self._ops = job.targets.iter_from(start, job.count if stop is None else stop)
        if job.share is not None:
            self._ops = _share(self._ops, job.share)
        base = clock_base(epoch, clock, wall)
        self._deadline = base + job.duration_s if job.duration_s else math.inf
        self._timed = job.duration_s is not None
        self._pacer = Pacer(job.rate) if job.rate else None
        self._base = base
        self._clock = clock
        self._stopping = control.stopping
        #: The control whose ``halted`` says the run stopped, where it can: asked once an operation,
        #: Event.is_set costs a Python call (3% of the fast engine's instructions a request).
        self._control = control if getattr(control, "halted", None) is not None else None
        self._lock = threading.Lock() if shared else None
        #: Operations handed out so far: those not counted at the end were abandoned.
        self.issued = 0

    def __iter__(self) -> Work:
        return self

    def __next__(self) -> Op:
        if (self._stopping.is_set() if self._control is None else self._control.halted) \
                or (self._timed and self._clock() >= self._deadline):
            raise StopIteration
        if self._lock is None:  # one thread: a lock, or even a null context, is a cost per operation
            index, target = next(self._ops)
            self.issued += 1
        else:
            with self._lock:
                index, target = next(self._ops)
                self.issued += 1
        if self._pacer is None:
            return tuples.make(Op, (index, target, None))  # Op's own __new__ costs 2.5x: one per operation
        due = self._base + self._pacer.offset_s(index)
        if due >= self._deadline:
            raise StopIteration
        return tuples.make(Op, (index, target, due))

    @property
    def stopping(self) -> threading.Event:
        return self._stopping

    def wait_until_due(self, op: Op) -> bool:
        """Block until ``op`` is due; False if the run was stopped meanwhile."""
        if op.due is not None:
            delay = op.due - self._clock()
            if delay > 0:
                return not self._stopping.wait(delay)
        return not self._stopping.is_set()

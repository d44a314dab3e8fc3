"""The user's own operation as an engine: a plain ``def`` is a blocking engine (sequential,
threads, processes), an ``async def`` a loop one (async, hybrid, cluster).

An attempt calls the operation with its index and reports what happened as every engine
does: an Outcome for the policy, which owns deadlines and error kinds. An exception is a
failure, counted by its kind where one fits (requests', aiohttp's and httpx's connection
errors and timeouts are loadtool's) and by its type otherwise (``ValueError``); the first
traceback of each type is kept (per process) for the report. ``step`` times named parts of
an operation and ``check`` counts named conditions; both reach Stats through the Outcome's
``phases`` as ``StepTimes``.

A class is instantiated once per worker — a thread or process for a ``def``, an event
loop for an ``async def`` — and entered as a context manager when it is one, before its
worker's first operation; it is exited after the last, also after a stop or an error.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar

from ..errors import kind_or_type
from ..metrics.steps import StepTimes
from .policy import Limits, Outcome

#: The steps and checks of the operation running in this thread or task.
_TAKEN: ContextVar[list | None] = ContextVar("loadtool_steps", default=None)
#: Types of exception with a traceback kept, at most (a storm of distinct types stays small).
MAX_TRACEBACKS = 20


class step:
    """Time a named part of an operation: ``with loadtool.step("login"):`` (or ``async with``
    in an ``async def``). Each step is counted as an operation is: how many, how many failed
    (an exception left it) and by what, and its latency. Outside a run it only times nothing."""

    __slots__ = ("name", "start")

    def __init__(self, name: str) -> None:
        self.name = str(name)

    def __enter__(self) -> step:
        self.start = time.perf_counter()
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        taken = _TAKEN.get()
        if taken is not None:
            taken.append((self.name, time.perf_counter() - self.start, None if exc is None else kind_or_type(exc)))
        return False

    async def __aenter__(self) -> step:
        return self.__enter__()

    async def __aexit__(self, kind, exc, tb) -> bool:
        return self.__exit__(kind, exc, tb)


def check(condition, name: str) -> bool:
    """Count a named condition's pass rate, as ``--check`` does for answers (k6's ``check``):
    an operation with a failed check counts as the error check_failed. Returns the condition."""
    passed = bool(condition)
    taken = _TAKEN.get()
    if taken is not None:
        taken.append((str(name), None, passed))
    return passed


def _outcome(taken: list, error: BaseException | None, late_s: float | None, shown: set[str]) -> Outcome:
    """What one call did: its exception (its first traceback of a type kept as the detail),
    a failed check, running past --timeout, or nothing wrong; its steps as phases."""
    steps = StepTimes(taken) if taken else None
    if error is not None:
        name = type(error).__name__
        detail = None
        if name not in shown and len(shown) < MAX_TRACEBACKS:
            shown.add(name)
            frames = error.__traceback__
            frames = frames.tb_next if frames is not None else None  # the call in this module is not the user's
            detail = "".join(traceback.format_exception(type(error), error, frames)).rstrip()
        return Outcome(error=error, detail=detail, phases=steps)
    if late_s is not None:
        return Outcome(error="timeout", detail=f"ran {late_s:.3g}s, past --timeout (a blocking operation cannot be "
                                                f"interrupted: it was counted when it returned)", phases=steps)
    failed = next((name for name, seconds, passed in taken if seconds is None and not passed), None)
    if failed is not None:
        return Outcome(error="check_failed", detail=f"check {failed!r} failed", phases=steps)
    return Outcome(phases=steps)


class FunctionEngine:
    """A ``def`` (or a class with a plain ``__call__``): called in the worker's thread."""

    def __init__(self, job) -> None:
        self.operation = job.targets
        #: Exception types whose traceback this run has kept in this process: one each is enough.
        self.shown: set[str] = set()

    @contextmanager
    def session(self) -> Iterator:
        """The worker's callable: the function, or its own instance of the class, entered
        (and exited, whatever happens) when it is a context manager."""
        made = self.operation.load()
        if not self.operation.is_class:
            yield made
            return
        instance = made()
        if hasattr(instance, "__enter__") and hasattr(instance, "__exit__"):
            with instance:
                yield instance
        else:
            yield instance

    def attempt(self, call, index: int, limits: Limits) -> Outcome:
        taken: list = []
        token = _TAKEN.set(taken)
        start = time.perf_counter()
        error = None
        try:
            call(index)
        except Exception as exc:  # noqa: BLE001 - the user's exception is the operation's outcome
            error = exc
        finally:
            _TAKEN.reset(token)
        took_s = time.perf_counter() - start
        return _outcome(taken, error, took_s if took_s > limits.total_s else None, self.shown)


#: How often a loop's operations are looked at for their deadline.
SWEEP_S = 0.05


class _Deadlines:
    """The deadlines of a loop's operations, kept by one sweep every SWEEP_S rather than a
    timer each: cheaper, and uvloop holds a cancelled timer's memory until it would have
    fired (asyncio.timeout per operation grew a run of 200,000 by 130 MB)."""

    def __init__(self) -> None:
        self.due: dict[asyncio.Task, float] = {}
        self.expired: set[asyncio.Task] = set()

    async def sweep(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(SWEEP_S)
            now = loop.time()
            for task, deadline in list(self.due.items()):
                if deadline <= now and task not in self.expired:
                    self.expired.add(task)
                    task.cancel()


class _OnLoop:
    """What the loop's workers share: the callable, and the deadlines of their operations."""

    __slots__ = ("call", "deadlines")

    def __init__(self, call, deadlines: _Deadlines) -> None:
        self.call, self.deadlines = call, deadlines


class CoroutineEngine:
    """An ``async def`` (or a class with an async ``__call__``): awaited on the worker's loop,
    and cancelled at its deadline."""

    def __init__(self, job) -> None:
        self.operation = job.targets
        self.shown: set[str] = set()

    @asynccontextmanager
    async def session(self, limit: int) -> AsyncIterator:
        """The loop's callable: the function, or the loop's own instance of the class, entered
        (and exited) when it is an async (or plain) context manager."""
        deadlines = _Deadlines()
        sweeping = asyncio.ensure_future(deadlines.sweep())
        try:
            made = self.operation.load()
            if not self.operation.is_class:
                yield _OnLoop(made, deadlines)
                return
            instance = made()
            if hasattr(instance, "__aenter__") and hasattr(instance, "__aexit__"):
                async with instance:
                    yield _OnLoop(instance, deadlines)
            elif hasattr(instance, "__enter__") and hasattr(instance, "__exit__"):
                with instance:
                    yield _OnLoop(instance, deadlines)
            else:
                yield _OnLoop(instance, deadlines)
        finally:
            sweeping.cancel()

    async def attempt(self, on_loop: _OnLoop, index: int, limits: Limits) -> Outcome:
        taken: list = []
        token = _TAKEN.set(taken)
        deadlines, task = on_loop.deadlines, asyncio.current_task()
        deadlines.due[task] = asyncio.get_running_loop().time() + limits.total_s
        error = None
        try:
            await on_loop.call(index)
        except asyncio.CancelledError:
            if task not in deadlines.expired:
                raise  # the run's own cancellation (after its grace period): not the operation's
            deadlines.expired.discard(task)
            task.uncancel()
            error = "timeout"
        except Exception as exc:  # noqa: BLE001 - the user's exception is the operation's outcome
            error = exc
        finally:
            _TAKEN.reset(token)
            del deadlines.due[task]
        if error == "timeout":
            return Outcome(error="timeout", detail=f"cancelled at --timeout ({limits.total_s:g}s)",
                           phases=StepTimes(taken) if taken else None)
        return _outcome(taken, error, None, self.shown)

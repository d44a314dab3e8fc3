"""The worker loops the strategies share: pull an operation, wait until it is due, do it.

``do_sync`` and ``do_async`` are one operation from start to Sample: attempts by the
engine, decisions by the policy (retry after a pause, or the Sample). The twins share
everything but the waiting. ``sync_worker`` and ``async_worker`` run operations from a
Work one after another, within per-host limits when the job has them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from ..engines.policy import Outcome, Policy, Retry
from ..metrics import Sample
from .politeness import host_of
from ..targets import InvalidTarget
from .work import Op, Work


def do_sync(engine, session, policy: Policy, op: Op) -> Sample:
    """One operation with a blocking engine, retries included."""
    return attempt_sync(engine, session, policy, op)[0]


def attempt_sync(engine, session, policy: Policy, op: Op) -> tuple[Sample, Outcome | None]:
    """``do_sync``, with the last attempt's Outcome too (None for an unusable target)."""
    now = time.perf_counter()
    if isinstance(op.target, InvalidTarget):
        return policy.invalid(op, op.target.detail, now), None
    attempt = policy.begin(op, now)
    limits = policy.first_limits  # sent the moment it began: the same for every first attempt
    while True:
        outcome = engine.attempt(session, op.target, limits)
        verdict = policy.settle(attempt, outcome, time.perf_counter())
        if type(verdict) is not Retry:
            return verdict, outcome
        time.sleep(verdict.pause_s)
        attempt = verdict.attempt
        limits = policy.limits(attempt, time.perf_counter())


async def do_async(engine, session, policy: Policy, op: Op) -> Sample:
    """The async twin of ``do_sync``."""
    return (await attempt_async(engine, session, policy, op))[0]


async def attempt_async(engine, session, policy: Policy, op: Op) -> tuple[Sample, Outcome | None]:
    """``do_async``, with the last attempt's Outcome too (None for an unusable target):
    for a crawl, which reads the answer's links."""
    now = time.perf_counter()
    if isinstance(op.target, InvalidTarget):
        return policy.invalid(op, op.target.detail, now), None
    attempt = policy.begin(op, now)
    # sent the moment it began: the same limits for every first attempt
    outcome = await engine.attempt(session, op.target, policy.first_limits)
    verdict = policy.settle(attempt, outcome, time.perf_counter())
    if type(verdict) is not Retry:
        return verdict, outcome
    return await _retried(engine, session, policy, op, verdict)


async def _retried(engine, session, policy: Policy, op: Op, verdict: Retry) -> tuple[Sample, Outcome]:
    """The attempts after one the policy retries (``verdict``), each after its pause, until one
    it does not: its Sample, and its Outcome."""
    while True:
        await asyncio.sleep(verdict.pause_s)
        attempt = verdict.attempt
        outcome = await engine.attempt(session, op.target, policy.limits(attempt, time.perf_counter()))
        verdict = policy.settle(attempt, outcome, time.perf_counter())
        if type(verdict) is not Retry:
            return verdict, outcome


def sync_worker(work: Work, engine, session, policy: Policy, record: Callable[[Sample], None],
                limits=None) -> None:
    """Do operations from ``work`` one after another until it runs out (within per-host
    ``limits``, when given)."""
    for op in work:
        if not work.wait_until_due(op):
            return
        if limits is None:
            record(do_sync(engine, session, policy, op))
            continue
        host = host_of(op.target)
        if not limits.acquire(host, work.stopping):
            return
        try:
            sample, outcome = attempt_sync(engine, session, policy, op)
            record(sample)
            limits.answered(host, outcome)
        finally:
            limits.release(host)


async def async_worker(work: Work, engine, session, policy: Policy, record: Callable[[Sample], None],
                       limits=None) -> None:
    """The async twin of ``sync_worker``: one of C coroutines sharing one ``work`` (and the
    engine's session, or one of its own when the engine keeps state per worker, as cookies)."""
    worker = getattr(engine, "worker", None)
    if worker is None:
        await _async_work(work, engine, session, policy, record, limits)
        return
    async with worker(session) as own:
        await _async_work(work, engine, own, policy, record, limits)


async def _async_work(work: Work, engine, session, policy: Policy, record: Callable[[Sample], None],
                      limits) -> None:
    for op in work:
        if op.due is not None:
            delay = op.due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        if limits is None:
            # attempt_async, written out: the coroutines between the engine and the loop are passed
            # through at every wake-up of an attempt, and this is one fewer (the aiohttp worker 355-357k
            # instructions a request through attempt_async, 349-352k so; callgrind, 3,000 requests)
            now = time.perf_counter()
            if isinstance(op.target, InvalidTarget):
                record(policy.invalid(op, op.target.detail, now))
                continue
            attempt = policy.begin(op, now)
            outcome = await engine.attempt(session, op.target, policy.first_limits)
            verdict = policy.settle(attempt, outcome, time.perf_counter())
            record(verdict if type(verdict) is not Retry else (await _retried(engine, session, policy, op, verdict))[0])
            continue
        host = host_of(op.target)
        if not await limits.acquire(host, work.stopping):
            return
        try:
            sample, outcome = await attempt_async(engine, session, policy, op)
            record(sample)
            limits.answered(host, outcome)
        finally:
            limits.release(host)

"""The core with a fake clock: Work, Pacer, the operation policy, per-host Slots, RunControl.

No test here sleeps or waits on a real clock: times are made up and handed in.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time

import pytest

from loadtool.strategies.control import RunControl
from loadtool.engines.policy import RETRIABLE, Attempt, Limits, Outcome, Policy, Retry, backoff_s
from loadtool.job import Job
from loadtool.metrics import Sample
from loadtool.strategies.politeness import Slots, host_of, host_share
from loadtool.targets import InvalidTarget, ItemList, Request
from loadtool.units import Rate
from loadtool.strategies.work import Op, Pacer, Share, Work


class FakeClock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _job(**changes) -> Job:
    job = Job.build(targets=ItemList(("http://h{i}.test/x",)), count=changes.pop("count", 10))
    from dataclasses import replace

    return replace(job, **changes)


def _work(job: Job, clock: FakeClock, control: RunControl | None = None, **kwargs) -> Work:
    # epoch == wall(): the run starts at the fake clock's now.
    return Work(job, control or RunControl(), epoch=0.0, clock=clock, wall=lambda: 0.0, **kwargs)


# --- Work --------------------------------------------------------------------------------

def test_work_hands_out_every_operation_once_in_order():
    ops = list(_work(_job(count=5), FakeClock()))
    assert [op.index for op in ops] == [0, 1, 2, 3, 4]
    assert ops[3].target == "http://h3.test/x" and all(op.due is None for op in ops)


def test_work_hands_out_a_range():
    assert [op.index for op in _work(_job(count=100), FakeClock(), start=10, stop=13)] == [10, 11, 12]


def test_a_share_takes_every_nth_operation():
    job = _job(count=10, share=Share(1, 3))
    assert [op.index for op in _work(job, FakeClock())] == [1, 4, 7]


def test_a_host_share_takes_the_hosts_its_process_owns():
    job = _job(count=30, share=Share(0, 2, by_host=True))
    mine = [op.target for op in _work(job, FakeClock())]
    assert mine and all(host_share(target, 2) == 0 for target in mine)
    others = [op.target for op in _work(_job(count=30, share=Share(1, 2, by_host=True)), FakeClock())]
    assert others and len(mine) + len(others) == 30 and not set(mine) & set(others)  # each has some


def test_work_ends_at_the_duration():
    clock = FakeClock(100.0)
    work = _work(_job(count=None, duration_s=2.0), clock)
    assert next(work).index == 0
    clock.now = 101.9
    assert next(work).index == 1
    clock.now = 102.0
    with pytest.raises(StopIteration):
        next(work)


def test_work_ends_when_the_run_is_stopped():
    control = RunControl()
    work = _work(_job(count=10), FakeClock(), control)
    assert next(work).index == 0
    control.stop("SIGINT")
    with pytest.raises(StopIteration):
        next(work)
    assert not work.wait_until_due(Op(1, "x", due=None))


def test_work_ends_when_an_outside_event_says_stop():
    """A worker process's control reads its parent's event, which no stop() of its own sets."""
    event = threading.Event()
    control = RunControl(event=event)
    work = _work(_job(count=10), FakeClock(), control)
    assert control.halted is None and next(work).index == 0
    event.set()
    with pytest.raises(StopIteration):
        next(work)


def test_the_open_model_gives_each_operation_its_due_time():
    clock = FakeClock(50.0)
    ops = list(_work(_job(count=4, rate=Rate(10.0)), clock))
    assert [op.due for op in ops] == pytest.approx([50.0, 50.1, 50.2, 50.3])


def test_no_operation_is_due_after_the_duration():
    ops = list(_work(_job(count=None, duration_s=1.0, rate=Rate(4.0)), FakeClock(0.0)))
    assert [op.index for op in ops] == [0, 1, 2, 3]


# --- Pacer -------------------------------------------------------------------------------

def test_a_constant_rate_spaces_operations_evenly():
    pacer = Pacer(Rate(200.0))
    assert [pacer.offset_s(k) for k in (0, 1, 200)] == pytest.approx([0.0, 0.005, 1.0])


def test_a_ramp_starts_slow_and_reaches_the_rate():
    pacer = Pacer(Rate(100.0, ramp_s=10.0))
    # R·t²/2T operations are due by time t during the ramp: 500 by its end, 125 by halfway.
    assert pacer.offset_s(125) == pytest.approx(5.0)
    assert pacer.offset_s(500) == pytest.approx(10.0)
    assert pacer.offset_s(600) == pytest.approx(11.0)
    gaps = [pacer.offset_s(k + 1) - pacer.offset_s(k) for k in (10, 100, 400)]
    assert gaps[0] > gaps[1] > gaps[2]


# --- the operation policy ------------------------------------------------------------------

def _measured(sample: Sample) -> Sample:
    """A Sample without the operation it carries for its record, to compare the figures."""
    return sample._replace(op=None, first_s=0.0)


def _policy(**changes) -> Policy:
    options = {"timeout_s": 2.0, "connect_timeout_s": 0.5, "retries": 0}
    options.update(changes)
    return Policy(**options)


def test_latency_runs_from_the_first_send_in_the_closed_model():
    policy = _policy()
    attempt = policy.begin(Op(0, "t"), 10.0)
    sample = policy.settle(attempt, Outcome(200, 1234), 10.25)
    assert _measured(sample) == Sample(latency_us=250_000, ok=True, status=200, bytes=1234, attempts=1)
    assert sample.op == Op(0, "t") and sample.first_s == 10.0


def test_latency_runs_from_the_due_time_in_the_open_model():
    policy = _policy()
    attempt = policy.begin(Op(0, "t", due=9.0), 10.0)  # sent one second late
    sample = policy.settle(attempt, Outcome(200, 0), 10.5)
    assert sample.latency_us == 1_500_000 and sample.service_us == 500_000


@pytest.mark.parametrize("due", [None, 9.5])
@pytest.mark.parametrize("answered", [True, False])
def test_every_field_of_an_outcome_reaches_its_own_field_of_the_sample(due, answered):
    """The policy builds Samples by position (a NamedTuple's keywords cost 3x, per operation):
    each field of what the engine saw must land in the Sample's field of that name, in the
    closed and the open model, for an answer and for a failure."""
    policy = _policy()
    op = Op(7, "t", due=due)
    phases = (0.001, 0.002, 0.003, 0.004, 0.005, 0.006)
    outcome = Outcome(status=201 if answered else None, nbytes=1234, error=None if answered else "protocol",
                      detail=None if answered else "bad framing", protocol="HTTP/1.1", connected=True,
                      phases=phases, decoded=5678, elsewhere=True)
    sample = policy.settle(policy.begin(op, 10.0), outcome, 10.25)
    expected = {"status": outcome.status, "error": outcome.error, "bytes": 1234, "detail": outcome.detail,
                "op": op, "first_s": 10.0, "protocol": "HTTP/1.1", "connected": True, "phases": phases,
                "decoded": 5678, "elsewhere": True, "attempts": 1, "ok": answered, "checks": None,
                "latency_us": 750_000 if due else 250_000, "service_us": 250_000 if due else None}
    assert sample._asdict() == expected


def test_the_deadline_counts_from_the_first_send_not_the_due_time():
    policy = _policy(timeout_s=2.0)
    attempt = policy.begin(Op(0, "t", due=5.0), 10.0)
    assert policy.deadline_s(attempt) == 12.0
    assert policy.expired(attempt, 11.9, connecting=False) is None
    late = policy.expired(attempt, 12.1, connecting=False)
    assert late.error == "read_timeout"


def test_a_slow_connect_is_a_connect_timeout_of_its_own():
    policy = _policy(connect_timeout_s=0.5)
    attempt = policy.begin(Op(0, "t"), 10.0)
    assert policy.expired(attempt, 10.4, connecting=True) is None
    assert policy.expired(attempt, 10.6, connecting=True).error == "connect_timeout"
    assert policy.expired(attempt, 10.6, connecting=False) is None


def test_limits_never_reach_past_the_deadline():
    policy = _policy(timeout_s=2.0, connect_timeout_s=0.5)
    attempt = policy.begin(Op(0, "t"), 10.0)
    assert policy.limits(attempt, 10.0) == (0.5, 2.0)
    assert policy.limits(attempt, 11.8) == pytest.approx((0.2, 0.2))


def test_a_5xx_is_retried_while_retries_last():
    policy = _policy(retries=2)
    first = policy.begin(Op(7, "t"), 10.0)
    retry = policy.settle(first, Outcome(503, 10), 10.1)
    assert isinstance(retry, Retry) and retry.attempt.number == 2
    assert retry.attempt.first_s == 10.0 and 0 <= retry.pause_s < 0.05
    second = retry.attempt
    third = policy.settle(second, Outcome(503, 10), 10.2).attempt
    final = policy.settle(third, Outcome(503, 10), 10.3)
    assert _measured(final) == Sample(latency_us=300_000, ok=False, status=503, bytes=10, attempts=3)


@pytest.mark.parametrize("kind", sorted(RETRIABLE))
def test_retriable_kinds_are_retried(kind):
    verdict = _policy(retries=1).settle(Attempt(Op(0, "t"), 10.0, 1, 10.0), Outcome(error=kind), 10.1)
    assert isinstance(verdict, Retry)


@pytest.mark.parametrize("kind", ["invalid_url", "tls", "too_many_redirects", "verify_failed"])
def test_other_kinds_are_final(kind):
    verdict = _policy(retries=3).settle(Attempt(Op(0, "t"), 10.0, 1, 10.0), Outcome(error=kind, detail="why"), 10.1)
    assert _measured(verdict) == Sample(latency_us=100_000, ok=False, error=kind, attempts=1, detail="why")


def test_no_retry_whose_pause_would_pass_the_deadline():
    policy = _policy(retries=5, timeout_s=1.0)
    attempt = policy.begin(Op(0, "t"), 10.0)
    assert isinstance(policy.settle(attempt, Outcome(error="reset"), 10.5), Retry)
    assert isinstance(policy.settle(attempt, Outcome(error="reset"), 10.9999), Sample)


def test_exceptions_are_classified_by_the_policy():
    sample = _policy().settle(Attempt(Op(0, "t"), 1.0, 1, 1.0), Outcome(error=ConnectionRefusedError(111, "Connection refused")), 1.0)
    assert sample.error == "connect_refused" and sample.detail == "Connection refused" and not sample.ok


def test_ok_status_decides_success():
    policy = Policy(timeout_s=1.0, ok_status=((200, 299), (404, 404)))
    assert [policy.is_ok(code) for code in (200, 299, 301, 404, 500, None)] == [True, True, False, True, False, False]


def test_reads_succeed_without_a_status():
    sample = Policy(timeout_s=1.0, reads=True).settle(Attempt(Op(0, "f"), 1.0, 1, 1.0), Outcome(nbytes=4096), 1.001)
    assert sample.ok and sample.bytes == 4096 and sample.status is None


def test_backoff_is_full_jitter_under_a_growing_cap_and_repeatable():
    pauses = [[backoff_s(number, index, 0) for index in range(200)] for number in (1, 2, 3, 7)]
    for pause_list, cap in zip(pauses, (0.05, 0.1, 0.2, 2.0)):
        assert all(0 <= pause < cap for pause in pause_list)
        assert max(pause_list) > cap * 0.9 and min(pause_list) < cap * 0.1  # spread over the whole range
    assert backoff_s(3, 42, seed=1) == backoff_s(3, 42, seed=1) != backoff_s(3, 42, seed=2)


def test_an_invalid_target_is_one_sample_with_its_reason():
    sample = _policy().invalid(Op(0, "ftp://x"), "'ftp://x': unsupported scheme 'ftp'", 3.0)
    assert sample.error == "invalid_url" and sample.latency_us == 0 and "ftp" in sample.detail


# --- per-host slots ------------------------------------------------------------------------

def test_slots_allow_per_host_in_flight_and_no_more():
    slots = Slots(per_host=2, per_s=None)
    assert slots.take("a", 1.0) == 1.0 and slots.take("a", 1.0) == 1.0
    assert slots.take("a", 1.0) is None
    assert slots.take("b", 1.0) == 1.0  # another host is not held up
    slots.give_back("a")
    assert slots.take("a", 2.0) == 2.0
    assert slots.in_flight == {"a": 2, "b": 1}


def test_slots_space_a_hosts_starts_by_its_rate():
    slots = Slots(per_host=None, per_s=5.0)
    starts = [slots.take("a", 10.0) for _ in range(3)]
    assert starts == pytest.approx([10.0, 10.2, 10.4])
    assert slots.take("b", 10.0) == 10.0
    assert slots.take("a", 20.0) == 20.0  # an idle host starts at once


def test_host_of_counts_fixture_sites_as_hosts():
    assert host_of("http://127.0.0.1:8080/site/7/page/1") == "127.0.0.1:8080/site/7"
    assert host_of("https://example.org/a") == "example.org"
    assert host_of(InvalidTarget("http://[", "bad")) == ""  # counted against no host


def test_a_hosts_own_gap_is_the_longer_of_its_delay_and_pace_and_falls_back_to_the_runs():
    """robots.txt's Crawl-delay (slow_down) only lengthens a host's gap; a pace after a 429
    may shorten again but never below the delay, and at or below the run's own gap the host
    has none of its own; other hosts keep the run's gap; forget() drops all of a host."""
    slots = Slots(per_host=None, per_s=10.0)  # the run's gap: 0.1 s
    slots.pace("a", 0.5)  # a pace alone
    assert slots.own_gap_s == {"a": 0.5}
    slots.slow_down("a", 2.0)
    slots.slow_down("a", 1.0)  # a shorter delay later does not shorten it
    slots.pace("a", 3.0)
    assert slots.own_gap_s == {"a": 3.0}
    slots.pace("a", 0.2)
    assert slots.own_gap_s == {"a": 2.0}
    slots.pace("b", 0.05)  # below the run's gap, on a host with none of its own
    assert "b" not in slots.own_gap_s
    slots.pace("c", 0.5)
    slots.pace("c", 0.05)  # back below it
    assert "c" not in slots.own_gap_s
    assert [slots.start("d", 5.0), slots.start("d", 5.0)] == [5.0, 5.1]  # the run's gap, beside a's own
    assert [slots.start("a", 5.0), slots.start("a", 5.0)] == [5.0, 7.0]
    slots.forget("a")
    assert not any("a" in kept for kept in (slots.next_start, slots.own_gap_s, slots._delay_s, slots._pace_s))


def test_a_pause_holds_a_host_without_a_rate_until_its_moment_and_no_other():
    slots = Slots(per_host=None, per_s=None)
    assert slots.idle("a", 0.5)  # never started: idle at any time
    slots.pause("a", 2.0)
    assert [slots.start("a", t) for t in (1.0, 2.0, 3.0)] == [2.0, 2.0, 3.0]
    assert slots.start("b", 1.0) == 1.0
    assert [slots.idle("a", t) for t in (1.99, 2.0)] == [False, True]
    slots.pause("b", 0.5)  # a pause of its own, however short
    slots.pause("a", 4.0)
    slots.pause("a", 3.0)  # a shorter pause asked later does not cut the longer one
    assert (slots.free_at("b"), slots.free_at("a")) == (0.5, 4.0)


def test_past_ten_thousand_hosts_the_schedules_already_due_are_pruned():
    """Memory stays bounded over millions of hosts: past PRUNE_AT hosts, those whose next
    start has come are dropped (an idle host starts at once either way), not before."""
    from loadtool.strategies.politeness import PRUNE_AT

    slots = Slots(per_host=None, per_s=1.0)
    for index in range(PRUNE_AT - 1):
        slots.start(f"h{index}", 0.0)  # each may start again at 1.0
    slots.start("late", 5.0)
    assert len(slots.next_start) == PRUNE_AT
    slots.start("later", 5.0)
    assert slots.next_start == {"late": 6.0, "later": 6.0}


# --- RunControl ---------------------------------------------------------------------------

def test_the_grace_period_starts_at_the_stop():
    clock = FakeClock(10.0)
    control = RunControl(grace_s=5.0, clock=clock)
    assert control.grace_left_s() == math.inf
    control.stop("SIGTERM")
    clock.now = 12.0
    assert control.grace_left_s() == 3.0 and control.grace_left_s(extra_s=2.0) == 5.0
    control.stop("SIGINT")  # a second stop keeps the first reason and time
    assert control.reason == "SIGTERM" and control.grace_left_s() == 3.0
    clock.now = 16.0
    assert control.grace_left_s() == 0.0


def _waiting(clock: FakeClock, finish_at: float = math.inf):
    """A ``done(timeout)`` that advances the fake clock by each timeout it is given."""
    timeouts = []

    def done(timeout: float) -> bool:
        timeouts.append(timeout)
        clock.now += timeout
        return clock.now >= finish_at
    return done, timeouts


def test_wait_until_returns_when_the_work_is_done():
    clock = FakeClock(0.0)
    done, timeouts = _waiting(clock, finish_at=1.0)
    assert RunControl(clock=clock).wait_until(done) is True
    assert clock.now == pytest.approx(1.0) and max(timeouts) <= 0.2


def test_wait_until_gives_up_when_the_grace_period_ends():
    clock = FakeClock(0.0)
    control = RunControl(grace_s=1.0, clock=clock)
    control.stop("SIGINT")
    done, timeouts = _waiting(clock)
    assert control.wait_until(done) is False
    assert clock.now == pytest.approx(1.0)


def test_wait_until_can_wait_past_the_grace_period_for_a_wind_down():
    clock = FakeClock(0.0)
    control = RunControl(grace_s=1.0, clock=clock)
    control.stop("SIGINT")
    done, _ = _waiting(clock)
    assert control.wait_until(done, extra_s=2.0) is False
    assert clock.now == pytest.approx(3.0)


def test_on_stop_runs_at_once_when_already_stopped_and_can_be_undone():
    control, calls = RunControl(), []
    unregister = control.on_stop(lambda: calls.append("first"))
    unregister()
    control.stop("SIGINT")
    control.on_stop(lambda: calls.append("late"))
    assert calls == ["late"]


async def test_await_done_returns_true_for_finished_work():
    control = RunControl(grace_s=0.0)
    assert await control.await_done(asyncio.sleep(0)) is True


async def test_await_done_gives_up_after_the_grace_period():
    control = RunControl(grace_s=0.0)
    never = asyncio.get_running_loop().create_future()
    control.stop("SIGINT")
    assert await control.await_done(never) is False
    never.cancel()


async def test_await_done_raises_the_works_own_failure():
    async def broken():
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        await RunControl().await_done(broken())


def test_forward_copies_a_stop_to_an_outside_event():
    control, outside = RunControl(), threading.Event()
    end = control.forward(outside.set)
    control.stop("SIGTERM")
    assert outside.wait(10)
    end()


def test_forward_ended_before_a_stop_copies_nothing():
    control, outside = RunControl(), threading.Event()
    control.forward(outside.set)()
    control.stop("SIGTERM")
    assert not outside.is_set()


def test_follow_turns_an_outside_stop_into_this_runs_stop():
    control, outside = RunControl(), threading.Event()
    end = control.follow(outside.wait, "parent")
    outside.set()
    assert control.stopping.wait(10) and control.reason == "parent"
    end()


def test_process_ranges_last_a_quarter_second_at_the_pace_so_far():
    """A worker that dies loses about RANGE_S of its work, at any pace: ranges are sized from
    the operations done so far, bounded so the last ones keep every process busy."""
    from loadtool.strategies.processes import FIRST_RANGE, RANGE_S, range_size

    job = Job.build(urls=["/health"], duration=60)
    assert range_size(job, 2, 0, 0.0) == FIRST_RANGE
    assert range_size(job, 2, 40, 1.0) == int(20 * RANGE_S)  # 20 a second a process
    assert range_size(job, 2, 1, 10.0) == 1
    assert range_size(job, 2, 10**7, 1.0) == 1000
    assert range_size(Job.build(urls=["/health"], count=800), 2, 10**7, 1.0) == 800 // 16


def test_the_clock_base_is_not_moved_by_a_pause_between_its_reads():
    """Wall-clock time 100.0 is clock reading 10.0 here. The first try pauses 5 ms between its
    clock and wall reads (preempted on a busy machine), which read once would put the base,
    and every deadline from it, 5 ms early: the tightest of the tries is taken instead."""
    from loadtool.strategies.work import clock_base

    # clock, wall, clock — three times; one sequence, since both are read in turn.
    readings = iter([10.0, 100.005, 10.005, 10.006, 100.0065, 10.007, 10.008, 100.0085, 10.009])
    assert clock_base(100.0, clock=lambda: next(readings), wall=lambda: next(readings)) == pytest.approx(10.0)


def test_the_jitter_hash_is_splitmix64():
    """Retries' jitter is drawn from splitmix64 (so a seed gives the same pauses in every
    version): its reference sequence from state 0 — each output the finaliser of the state
    advanced by the golden gamma."""
    from loadtool.engines.policy import _mix

    gamma, mask = 0x9E3779B97F4A7C15, 2**64 - 1
    assert [_mix(step * gamma & mask) for step in range(3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4,
                                                                0x06C45D188009454F]


@pytest.mark.parametrize("checks, passed, failed", [
    ((), None, None),
    (('status == 201', 'body contains "hello"', "size >= 5000", "time < 300ms"), (True, True, True, True), None),
    (('status == 201', 'body contains "bye"', "time < 200ms"), (True, False, False), 'body contains "bye"'),
])
def test_an_answer_reaches_its_sample_field_by_field_through_its_checks(checks, passed, failed):
    """answered(), the engines' short path, with and without checks: each field of the answer
    in its own field of the Sample; the checks see the status, the body, the decoded size
    (5678, not the 1234 on the wire) and the time from the first send (250 ms); the first
    check that fails names the failure."""
    from loadtool.engines.checks import parse_checks

    policy = _policy(checks=parse_checks(checks))
    op, phases = Op(7, "t"), (0.001, 0.002, 0.003, 0.004, 0.005, 0.006)
    sample = policy.answered(policy.begin(op, 10.0), 201, 1234, 10.25, "HTTP/2", True, phases,
                             ((("content-type", "text/plain"),), b"hello world"), 5678, True)
    assert sample._asdict() == {
        "status": 201, "bytes": 1234, "op": op, "first_s": 10.0, "protocol": "HTTP/2", "connected": True,
        "phases": phases, "decoded": 5678, "elsewhere": True, "attempts": 1, "latency_us": 250_000, "service_us": None,
        "ok": failed is None, "checks": passed, "error": None if failed is None else "check_failed",
        "detail": None if failed is None else f"check {failed!r} failed"}


def test_a_stale_connection_is_met_again_at_once_not_retried_and_only_once():
    """A reset before any answer on a kept-alive connection: the request goes again at once,
    still attempt 1 (no --retries needed); met again, it is the reset it is. Another error
    on a stale connection, or a method that may not be sent twice, is not replayed."""
    policy, stale = _policy(), Outcome(error="reset", stale=True)
    first = policy.begin(Op(0, "http://a/"), 1.0)
    replay = policy.settle(first, stale, 1.2)
    assert isinstance(replay, Retry) and replay.pause_s == 0.0
    assert (replay.attempt.number, replay.attempt.replayed, replay.attempt.start_s, replay.attempt.first_s) == (
        1, True, 1.2, 1.0)
    assert policy.settle(replay.attempt, stale, 1.4).error == "reset"
    assert policy.settle(first, stale._replace(error="read_timeout"), 1.2).error == "read_timeout"
    assert _policy(method="POST").settle(first, stale, 1.2).error == "reset"
    # A retry after a replay keeps it, starts after its pause, which backoff_s gives.
    retried = _policy(retries=2, seed=7).settle(replay.attempt, Outcome(error="connect_refused"), 1.3)
    assert retried.pause_s == backoff_s(1, 0, 7)
    assert (retried.attempt.number, retried.attempt.replayed, retried.attempt.start_s) == (2, True,
                                                                                            1.3 + retried.pause_s)
    assert _policy(retries=1).settle(first, Outcome(error="connect_refused"), 1.1).pause_s == backoff_s(1, 0, 0)


def test_a_requests_own_method_decides_its_replay_not_the_jobs():
    """A request file's line is replayed on a stale connection by its own method: a GET in
    a POST job goes again, a POST in a GET job does not."""
    stale = Outcome(error="reset", stale=True)
    for job_method, method, replayed in (("POST", "GET", True), ("GET", "POST", False), ("GET", "DELETE", True)):
        attempt = _policy(method=job_method).begin(Op(0, Request(method, "http://a/")), 1.0)
        verdict = _policy(method=job_method).settle(attempt, stale, 1.2)
        assert isinstance(verdict, Retry) is replayed, (job_method, method)


def test_checks_see_the_answer_settle_was_given_and_the_size_on_the_wire_when_none_was_decoded():
    """settle() hands the answer to the checks; an engine that kept no answer gives them no
    headers and no body; the size a check sees is the decoded one (0 for an empty body that
    came gzipped in 20 bytes), the wire's when the engine decoded none (None, or -1)."""
    from loadtool.engines.checks import parse_checks

    policy = _policy(checks=parse_checks(("status == 200", "header ETag exists", 'body contains "X"', "size == 20")))
    first = policy.begin(Op(0, "http://a/"), 1.0)
    kept = Outcome(status=200, nbytes=20, answer=((("etag", '"1"'),), b"X"), decoded=20)
    assert policy.settle(first, kept, 1.1).checks == (True, True, True, True)
    for decoded in (None, -1):
        sample = policy.answered(first, 200, 20, 1.1, answer=None, decoded=decoded)
        assert sample.checks == (True, False, False, True) and sample.error == "check_failed"
        assert sample.detail == "check 'header ETag exists' failed"
    assert policy.answered(first, 200, 20, 1.1, answer=None, decoded=0).checks == (True, False, False, False)


def test_an_error_keeps_the_status_it_came_with_and_a_short_call_its_defaults():
    """A body cut short after a 200 is a truncated 200; answered() and invalid() called
    with what they need only: nothing elsewhere, no bytes."""
    policy = _policy()
    first = policy.begin(Op(0, "http://a/"), 1.0)
    cut = policy.settle(first, Outcome(status=200, nbytes=512, error="truncated", detail="cut"), 1.1)
    assert (cut.status, cut.bytes, cut.error, cut.ok) == (200, 512, "truncated", False)
    assert policy.answered(first, 200, 10, 1.1).elsewhere is False
    invalid = policy.invalid(Op(1, "ftp://x"), "no", 1.0)
    assert (invalid.bytes, invalid.elsewhere) == (0, False)


def test_a_retry_that_would_begin_at_the_deadline_is_not_made():
    """A retry's pause must end before the deadline: ending exactly on it leaves the retry
    no time, so the error is final; a hair later a deadline lets the retry go."""
    pause = backoff_s(1, 0, 0)
    at_the_deadline = _policy(retries=1, timeout_s=0.5 + pause)
    first = at_the_deadline.begin(Op(0, "http://a/"), 0.0)
    assert at_the_deadline.settle(first, Outcome(error="reset"), 0.5).error == "reset"
    after_it = _policy(retries=1, timeout_s=math.nextafter(0.5 + pause, 1.0))
    assert isinstance(after_it.settle(first, Outcome(error="reset"), 0.5), Retry)


def test_only_a_5xx_is_retried_of_the_answers_and_the_limits_and_deadlines_are_as_set():
    policy = _policy(retries=1)
    first = policy.begin(Op(0, "http://a/"), 1.0)
    assert isinstance(policy.settle(first, Outcome(status=500), 1.1), Retry)
    assert [policy.settle(first, Outcome(status=code), 1.1).status for code in (200, 499)] == [200, 499]
    assert policy.first_limits == Limits(0.5, 2.0) and _policy(timeout_s=0.2).first_limits == Limits(0.2, 0.2)
    # The connect and whole deadlines: passed only past them, each named with its limit.
    assert policy.expired(first, 1.5, connecting=True) is None
    assert policy.expired(first, 1.5001, connecting=True) == Outcome(error="connect_timeout",
                                                                     detail="no connection within 0.5s")
    assert policy.expired(first, 3.0, connecting=False) is None
    assert policy.expired(first, 3.0001, connecting=False) == Outcome(error="read_timeout",
                                                                      detail="no full answer within 2s")


def test_status_0_can_be_ok_600_never_and_latency_counts_from_the_due_time_only_when_it_was_earlier():
    policy = _policy(ok_status=((0, 0), (200, 299)))
    assert [policy.is_ok(code) for code in (0, 200, 600, 700)] == [True, True, False, False]
    first = policy.begin(Op(0, "http://a/"), 1.0)
    assert [policy.settle(first, Outcome(status=code), 1.5).ok for code in (0, 600)] == [True, False]
    assert policy.settle(first, Outcome(status=200), 1.5).latency_us == 500_000
    late = policy.begin(Op(0, "http://a/", due=0.75), 1.0)  # sent 250 ms after it was due
    early = policy.begin(Op(0, "http://a/", due=1.25), 1.0)
    assert [policy.settle(a, Outcome(status=200), 1.5).latency_us for a in (late, early)] == [750_000, 500_000]


def test_an_operations_own_exceptions_are_named_by_their_type_and_others_classified():
    failed = Outcome(error=LookupError("no such row"))
    first = Attempt(Op(0, "t"), 1.0, 1, 1.0)
    assert _policy(own=True).settle(first, failed, 1.1).error == "LookupError"
    assert _policy().settle(first, failed, 1.1).error != "LookupError"


# --- Retry-After and the host limits' twins, in process ------------------------------------

def test_retry_after_is_read_as_seconds_or_as_an_http_date_and_nothing_else():
    from loadtool.strategies.politeness import asked_wait_s, retry_after_s

    now = 1_700_000_000.0  # Tue, 14 Nov 2023 22:13:20 GMT
    assert [retry_after_s(value, now) for value in ("120", " 5 ", "0")] == [120.0, 5.0, 0.0]
    assert retry_after_s("Tue, 14 Nov 2023 22:13:50 GMT", now) == 30.0
    assert retry_after_s("Tue, 14 Nov 2023 22:00:00 GMT", now) == 0.0  # a date gone by: at once
    assert [retry_after_s(value, now) for value in (None, "", "soon", "1.5", "-3")] == [None] * 5
    assert asked_wait_s((("content-type", "text/plain"), ("retry-after", "7"))) == 7.0
    assert asked_wait_s((("content-type", "text/plain"),)) is None


def _outcome(status, wait=None):
    headers = (("retry-after", wait),) if wait is not None else ()
    return Outcome(status=status, answer=(headers, b""))


def test_a_429_or_503_asking_a_wait_pauses_its_host_that_long_within_the_cap_and_is_said():
    """With --retry-after: a 429 or a 503 naming a wait pauses its host (no other) that long,
    at most MAX_WAIT_S; the longest asked per host is kept and said; a 500, a 429 naming none,
    or a run without --retry-after pauses nothing."""
    from loadtool.strategies.politeness import MAX_WAIT_S, HostLimits

    limits = HostLimits(per_host=None, per_s=None, retry_after=True)
    assert limits.said() is None
    for status, wait in ((500, "9"), (429, None), (429, "0")):
        limits.answered("a", _outcome(status, wait))
    limits.answered("a", None)  # an operation that got no answer
    assert limits.slots.next_start == {} and limits.said() is None
    before = time.perf_counter()
    limits.answered("a", _outcome(429, "2"))
    limits.answered("a", _outcome(503, "1"))  # shorter: the longer pause stands
    limits.answered("b", _outcome(503, str(10**9)))  # a billion seconds: ten minutes
    after = time.perf_counter()
    assert before + 2 <= limits.slots.free_at("a") <= after + 2
    assert before + MAX_WAIT_S <= limits.slots.free_at("b") <= after + MAX_WAIT_S
    assert limits.said() == {"hosts": 2, "longest_asked_s": 1e9, "longest_taken_s": MAX_WAIT_S, "cap_s": MAX_WAIT_S}
    quiet = HostLimits(per_host=None, per_s=None)
    quiet.answered("a", _outcome(429, "2"))
    assert quiet.slots.next_start == {} and quiet.said() is None


def test_the_threads_host_limits_hand_a_full_hosts_slot_over_and_stop_with_the_run():
    from loadtool.strategies.politeness import HostLimits

    limits, stopping = HostLimits(per_host=1, per_s=None), threading.Event()
    assert limits.acquire("a", stopping) and limits.acquire("b", stopping)
    got = []
    waiter = threading.Thread(target=lambda: got.append(limits.acquire("a", stopping)))
    waiter.start()
    limits.release("a")  # the waiter takes a's slot (it re-checks at least every 0.1 s)
    waiter.join(timeout=10)
    assert got == [True] and limits.slots.in_flight == {"a": 1, "b": 1}
    late = threading.Thread(target=lambda: got.append(limits.acquire("a", stopping)))
    late.start()
    stopping.set()  # the run stops: a waiter for a full host gives up
    late.join(timeout=10)
    assert got == [True, False] and limits.slots.in_flight == {"a": 1, "b": 1}
    paused = HostLimits(per_host=1, per_s=None)
    paused.pause("c", 60.0)  # a minute's Retry-After: a stopped run does not wait it out
    assert paused.acquire("c", stopping) is False and paused.slots.in_flight == {}


def test_the_async_host_limits_hand_a_full_hosts_slot_to_the_next_waiter_and_stop_with_the_run():
    from loadtool.strategies.politeness import AsyncHostLimits

    async def scenario():
        limits, stopping = AsyncHostLimits(per_host=1, per_s=None), threading.Event()
        assert await limits.acquire("a", stopping)
        second = asyncio.ensure_future(limits.acquire("a", stopping))
        third = asyncio.ensure_future(limits.acquire("a", stopping))
        await asyncio.sleep(0)  # a yield, not a wait: each task runs to the future of its turn
        limits.release("a")  # handed to the second; the count stays 1
        assert await second and not third.done() and limits.slots.in_flight == {"a": 1}
        limits.release("a")
        assert await third
        limits.release("a")
        assert limits.slots.in_flight == {}
        limits.pause("b", 60.0)
        stopping.set()
        stopped = await limits.acquire("b", stopping)  # its wait ends with the run, slot given back
        return stopped, limits.slots.in_flight

    assert asyncio.run(scenario()) == (False, {})


def test_a_jobs_host_limits_are_made_only_when_it_is_polite():
    from loadtool.strategies.politeness import HostLimits

    url = ["http://h.test/x"]
    assert HostLimits.for_job(Job.build(urls=url, count=1)) is None
    limits = HostLimits.for_job(Job.build(urls=url, count=1, per_host=3, host_rate="5/s"))
    assert (limits.slots.per_host, limits.slots.gap_s, limits.retry_after) == (3, 0.2, False)


def test_a_host_rate_spaces_starts_in_both_twins_and_a_free_host_starts_though_the_run_stops():
    """20/s on one host, one at a time: the second start comes at least 50 ms after the first
    — handed over by a release (async) or taken again (threads) — measured, never capped; a
    host free at once starts even when the run is stopping (only a wait ends with the run)."""
    from loadtool.strategies.politeness import AsyncHostLimits, HostLimits

    async def two_starts():
        limits, stopping = AsyncHostLimits(per_host=1, per_s=20.0), threading.Event()
        first = time.perf_counter()
        assert await limits.acquire("a", stopping)
        second = asyncio.ensure_future(limits.acquire("a", stopping))
        await asyncio.sleep(0)  # a yield, not a wait: the second runs to the future of its turn
        limits.release("a")
        assert await second
        limits.release("a")
        return time.perf_counter() - first, limits

    spent, limits = asyncio.run(two_starts())
    assert spent >= 0.049 and limits._waiting == {} and limits.slots.in_flight == {}
    threads, stopping = HostLimits(per_host=1, per_s=20.0), threading.Event()
    first = time.perf_counter()
    assert threads.acquire("a", stopping)
    threads.release("a")
    assert threads.acquire("a", stopping) and time.perf_counter() - first >= 0.049
    threads.release("a")
    stopping.set()
    assert HostLimits(per_host=1, per_s=None).acquire("b", stopping) is True
    assert [AsyncHostLimits(1, None).retry_after, AsyncHostLimits(1, 20.0, True).retry_after] == [False, True]
    assert AsyncHostLimits(1, 20.0).slots.gap_s == 0.05 and HostLimits(1, None).retry_after is False


def test_what_hosts_asked_is_kept_for_at_most_prune_at_hosts_and_an_http_date_is_read_against_now():
    from email.utils import formatdate

    from loadtool.strategies.politeness import PRUNE_AT, AsyncHostLimits, asked_wait_s

    in_30s = formatdate(time.time() + 30, usegmt=True)
    assert 28 <= asked_wait_s((("retry-after", in_30s),)) <= 30
    limits = AsyncHostLimits(per_host=None, per_s=None, retry_after=True)
    limits.pause = lambda host, seconds: None  # what is asked, not the pauses, is under test
    limits.answered("h0", _outcome(429, "1"))
    for index in range(1, PRUNE_AT + 1):
        limits.answered(f"h{index}", _outcome(429, "2"))
    assert len(limits.asked) == PRUNE_AT and f"h{PRUNE_AT}" not in limits.asked  # full: no new host
    limits.answered("h0", _outcome(503, "5"))  # a host it keeps is still updated
    assert limits.asked["h0"] == 5.0 and limits.said()["hosts"] == PRUNE_AT
    limits.answered("h0", _outcome(429, "1"))  # a shorter wait asked later: the longest is kept
    assert limits.asked["h0"] == 5.0
    soon = AsyncHostLimits(per_host=None, per_s=None, retry_after=True)
    soon.pause = lambda host, seconds: None
    soon.answered("x", _outcome(503, formatdate(math.floor(time.time()) + 1, usegmt=True)))  # within a second
    assert 0 < soon.asked["x"] < 1.0 and soon.said()["longest_asked_s"] == soon.asked["x"]
    job = Job.build(urls=["http://h.test/x"], count=1, retry_after=True)
    assert AsyncHostLimits.for_job(job).retry_after is True

import math

import pytest

from loadtool.job import Job
from loadtool.strategies.sizing import ideal_s, schedule_s
from loadtool.targets import FixturePaths


def test_equal_latencies_take_whole_waves():
    assert schedule_s([0.1] * 10, workers=4) == pytest.approx(0.3)


def test_a_long_operation_sets_the_end():
    assert schedule_s([1.0, 0.1, 0.1, 0.1], workers=2) == pytest.approx(1.0)


def test_due_times_hold_operations_back():
    assert schedule_s([0.1] * 3, workers=10, due_s=lambda k: k * 1.0) == pytest.approx(2.1)


def _job(**options):
    return Job.build(targets=FixturePaths(("/delay/100",), "http://127.0.0.1:1"), **options)


def test_the_ideal_of_delay_endpoints_is_waves_of_the_delay():
    assert ideal_s(_job(count=10010), 1000) == pytest.approx(1.1)
    assert ideal_s(_job(count=50), 1) == pytest.approx(5.0)


def test_an_open_model_ideal_is_bounded_by_the_rate():
    assert ideal_s(_job(count=100, rate="50/s"), 1000) == pytest.approx(99 / 50 + 0.1)


def test_no_ideal_without_a_known_latency_or_count():
    assert ideal_s(Job.build(urls=["http://example.invalid/"], count=5), 5) is None
    assert ideal_s(_job(duration="5s"), 10) is None


def test_a_constant_rate_spaces_operations_evenly():
    from loadtool.units import Rate
    from loadtool.strategies.work import Pacer

    pacer = Pacer(Rate(50.0))
    assert [pacer.offset_s(k) for k in (0, 1, 50)] == pytest.approx([0.0, 0.02, 1.0])


def test_a_ramp_rises_linearly_to_the_rate():
    from loadtool.units import Rate
    from loadtool.strategies.work import Pacer

    pacer = Pacer(Rate(10.0, ramp_s=2.0))  # 10 ops fall due during the 2 s ramp
    assert pacer.offset_s(0) == 0.0
    assert pacer.offset_s(2.5) == pytest.approx(1.0)  # R·t²/2T = 2.5 at t = 1 s
    assert pacer.offset_s(10) == pytest.approx(2.0)
    assert pacer.offset_s(20) == pytest.approx(3.0)  # then one every 1/R


from loadtool.strategies.sizing import (Goal, Way, closed_throughput, concurrency_for, cpu_ceiling, machine_throughput,  # noqa: E402
                             plan_option, predict_wall_s)


def _way(strategy="async", cpu_per_op_s=0.0001, memory=10_000):
    from loadtool import strategies

    return Way(strategy, "aiohttp", cpu_per_op_s, memory, strategies.get(strategy).scale)


def test_littles_law_sets_the_concurrency_a_deadline_needs():
    # 3.6M pages in an hour is 1000 pages/s; at 100 ms a page (+0.1 ms CPU) that is ~101 in flight
    option = plan_option(_way(), Goal(pages=3_600_000, deadline_s=3600, cores=2), latency_s=0.1)
    assert option.throughput_per_s == pytest.approx(1000)
    assert option.concurrency == 101 and option.machines == 1 and option.bound == "latency"
    assert option.total_s == pytest.approx(3600) and option.meets_deadline


def test_the_cpu_ceiling_is_one_core_unless_processes_are_used():
    assert cpu_ceiling(_way("async", 0.0001), cores=4) == pytest.approx(10_000)
    assert cpu_ceiling(_way("threads", 0.0001), cores=4) == pytest.approx(10_000)
    assert cpu_ceiling(_way("processes", 0.0001), cores=4) == pytest.approx(40_000)
    assert cpu_ceiling(_way("hybrid", 0.0001), cores=4) == pytest.approx(40_000)


def test_a_machine_is_bounded_by_cpu_or_by_how_many_workers_it_can_hold():
    assert machine_throughput(_way("async", 0.001), latency_s=0.05, cores=1) == (pytest.approx(900), "cpu")  # 90%
    rate, bound = machine_throughput(_way("threads", 0.00001), latency_s=1.0, cores=1)
    assert bound == "workers" and rate == pytest.approx(512 / 1.00001)


def test_more_machines_when_one_cannot_meet_the_deadline():
    option = plan_option(_way("async", 0.001), Goal(pages=10_000_000, deadline_s=1000, cores=8), latency_s=0.05)
    assert option.machines == 12  # 10,000 pages/s wanted, 900 per machine (one core at 1 ms a page, 90% busy)
    # 833/s a machine: Little's law says 43 in flight; the CPU queue near 83% busy makes it more.
    assert 43 < option.concurrency < 60


def test_the_closed_loop_bends_at_the_cpu_knee():
    """Few workers: Little's law (N / (latency + CPU)); many: the CPU (1 / CPU a page); at the
    knee between them, less than either, as a queue at the CPU forms."""
    way, latency = _way("async", 0.001), 0.049
    assert closed_throughput(way, 1, latency, 1) == pytest.approx(1 / 0.05)
    assert closed_throughput(way, 5, latency, 1) == pytest.approx(5 / 0.05, rel=0.01)
    assert closed_throughput(way, 500, latency, 1) == pytest.approx(1000, rel=0.001)
    knee = closed_throughput(way, 50, latency, 1)  # where N / (L + D) meets 1 / D
    assert 0.8 * 1000 < knee < 0.95 * 1000
    assert concurrency_for(way, knee, latency, 1) == 50


def test_a_site_that_saturates_caps_every_way():
    goal = Goal(pages=100_000, deadline_s=10, cores=2)  # 10,000 pages/s wanted
    option = plan_option(_way("async", 0.0001), goal, latency_s=0.04, site_per_s=1200)
    assert option.bound == "site" and option.throughput_per_s == 1200 and option.machines == 1
    assert option.meets_deadline is False
    # The site serves 1200/s, 48 at once at 40 ms: a little more than that, never far past it.
    assert 48 <= option.concurrency <= 1.25 * 48
    assert predict_wall_s(12_000, _way("async", 0.0001), 200, 0.04, 1, site_per_s=1200) == pytest.approx(10.0)


def test_politeness_caps_the_whole_job():
    goal = Goal(pages=1_000_000, deadline_s=60, hosts=100, host_rate=5.0, cores=4)
    option = plan_option(_way(), goal, latency_s=0.05)
    assert option.bound == "politeness" and option.throughput_per_s == pytest.approx(500)
    assert option.total_s == pytest.approx(2000) and option.meets_deadline is False


def test_per_host_concurrency_bounds_through_latency():
    goal = Goal(pages=100_000, hosts=10, per_host=2, cores=2)
    assert goal.politeness_cap(latency_s=0.1) == pytest.approx(200)


def test_with_a_deadline_the_slow_end_of_the_range_still_meets_it():
    option = plan_option(_way(), Goal(pages=100_000, deadline_s=100, cores=1), latency_s=0.01, spread=(0.8, 1.2))
    assert option.throughput_per_s == pytest.approx(1250)
    assert option.total_range_s[1] == pytest.approx(100) and option.meets_deadline


def test_memory_is_per_worker_times_workers_and_per_process_for_hybrid():
    assert plan_option(_way("threads", memory=1000), Goal(pages=100, cores=4), 0.1).memory_bytes == \
        1000 * plan_option(_way("threads", memory=1000), Goal(pages=100, cores=4), 0.1).concurrency
    assert plan_option(_way("hybrid", memory=1000), Goal(pages=100, cores=4), 0.1).memory_bytes == 4000


def test_predicted_wall_time_is_the_slower_of_latency_and_cpu():
    assert predict_wall_s(1000, _way("async", 0.0), 50, 0.05, 1) == pytest.approx(1.0)
    assert predict_wall_s(40, _way("sequential", 0.001), 50, 0.05, 1) == pytest.approx(40 * 0.051)
    assert predict_wall_s(10_000, _way("async", 0.001), 1000, 0.01, 1) == pytest.approx(10.0)


def test_a_long_run_ideal_is_scaled_from_a_simulated_prefix(monkeypatch):
    import loadtool.strategies.sizing as sizing

    job = Job.build(targets=FixturePaths(("/page/{i}",), "http://127.0.0.1:1"), count=20_000)
    exact = [ideal_s(job, workers) for workers in (50, 500)]
    monkeypatch.setattr(sizing, "SIMULATE_MAX", 2_000)
    # With 500 workers the last wave's tail is a sixth of the run: it is added once, not scaled.
    assert [ideal_s(job, workers) for workers in (50, 500)] == pytest.approx(exact, rel=0.02)


def test_the_ideal_of_a_long_open_run_ends_with_its_last_due_operation():
    """200,000 operations at 1000/s: the last is due at 199.999 s and takes its 100 ms, past
    the 100,000 the schedule simulates."""
    assert ideal_s(_job(count=200_000, rate="1000/s"), 1000) == pytest.approx(199.999 + 0.1, abs=1e-6)


def test_the_ideal_cycles_through_different_paths_and_is_unknown_for_polite_runs_and_files():
    from loadtool.targets import GeneratedTree

    mixed = Job.build(targets=FixturePaths(("/delay/100", "/delay/1000"), "http://127.0.0.1:1"), count=4)
    assert ideal_s(mixed, 1) == pytest.approx(0.1 + 1.0 + 0.1 + 1.0)
    assert ideal_s(_job(count=10, per_host=2), 10) is None  # the slots, not the server, set its pace
    assert ideal_s(Job.build(kind="read", targets=GeneratedTree(5), count=5), 2) is None  # no latency known


def _levels(*rows):
    from loadtool.plan.capacity import Level

    return [Level(concurrency, per_s, latency_s, latency_s * 2, busy, limited)
            for concurrency, per_s, latency_s, busy, limited in rows]


def test_the_site_capacity_is_the_knee_where_doubling_buys_little_and_latency_queues():
    from loadtool.plan.capacity import site_capacity

    # 4 -> 8 doubles throughput; 8 -> 16 buys 10% while latency goes from 40 to 80 ms.
    found = site_capacity(_levels((4, 100, 0.040, 0.1, 0), (8, 200, 0.040, 0.2, 0), (16, 220, 0.080, 0.2, 0)))
    assert found.found and found.settled and found.per_s == 220 and found.in_flight == pytest.approx(220 * 0.040)
    assert "about 220 pages/s" in found.reason and "16 in flight" in found.reason
    # The same gain with latency at exactly 1.3x is not yet queueing; just past it is.
    # (1.3 x 0.05 is 0.065 exactly in floating point; 1.3 x 0.04 is not 0.052.)
    assert not site_capacity(_levels((4, 100, 0.050, 0.1, 0), (8, 110, 0.065, 0.1, 0))).found
    assert site_capacity(_levels((4, 100, 0.050, 0.1, 0), (8, 110, 0.0651, 0.1, 0))).per_s == 110
    # A doubling that buys just over 15% is still worth having; just under it is the knee.
    assert not site_capacity(_levels((4, 100, 0.040, 0.1, 0), (8, 115.1, 0.080, 0.1, 0))).found
    assert site_capacity(_levels((4, 100, 0.040, 0.1, 0), (8, 114.9, 0.080, 0.1, 0))).per_s == 114.9


def test_a_busy_client_a_rate_limit_or_no_knee_ends_the_sweep_as_such():
    from loadtool.plan.capacity import site_capacity

    assert site_capacity([]).reason == "no level measured"
    busy = site_capacity(_levels((4, 100, 0.04, 0.5, 0), (8, 200, 0.04, 0.85, 0), (16, 400, 0.04, 0.1, 0)))
    assert not busy.found and busy.settled and "filled at 8 in flight" in busy.reason and "at least 200" in busy.reason
    assert site_capacity(_levels((4, 100, 0.04, 0.849, 0), (8, 200, 0.04, 0.1, 0))).settled is False
    limited = site_capacity(_levels((4, 100, 0.05, 0.1, 0), (8, 150, 0.05, 0.1, 3), (16, 400, 0.05, 0.1, 0)))
    assert limited.per_s == 150 and limited.in_flight == pytest.approx(150 * 0.05) and "429" in limited.reason
    kept_up = site_capacity(_levels((4, 100, 0.04, 0.1, 0), (8, 200, 0.04, 0.1, 0)))
    assert not kept_up.found and not kept_up.settled and "up to 8 in flight (200 a second)" in kept_up.reason


def test_every_end_of_the_sweep_keeps_its_levels_and_says_its_latencies():
    """The levels go with every verdict (the plan shows them); a site slower than a page a
    second is still counted from zero up; a knee's reason names both latencies in ms; a
    site that kept up is named at the last level, not the second."""
    from loadtool.plan.capacity import site_capacity

    for rows in [((4, 0.25, 0.04, 0.1, 0), (8, 0.5, 0.04, 0.1, 2)), ((4, 100, 0.04, 0.9, 0),),
                 ((4, 100, 0.040, 0.1, 0), (8, 200, 0.040, 0.2, 0), (16, 220, 0.080, 0.2, 0)),
                 ((4, 100, 0.04, 0.1, 0), (8, 200, 0.04, 0.1, 0), (16, 400, 0.04, 0.1, 0))]:
        levels = _levels(*rows)
        assert site_capacity(levels).levels == tuple(levels)
    slow = site_capacity(_levels((4, 0.25, 0.04, 0.1, 0), (8, 0.5, 0.04, 0.1, 2)))
    assert slow.per_s == 0.5 and "accepted about 0 a second" in slow.reason
    knee = site_capacity(_levels((4, 100, 0.040, 0.1, 0), (8, 200, 0.040, 0.2, 0), (16, 220, 0.080, 0.2, 0)))
    assert "its latency was 80 ms, against 40 ms at 4)" in knee.reason
    slow_knee = site_capacity(_levels((4, 4, 1.0, 0.1, 0), (8, 4.2, 2.0, 0.1, 0)))
    assert "its latency was 2,000 ms, against 1,000 ms at 4)" in slow_knee.reason
    kept_up = site_capacity(_levels((4, 100, 0.04, 0.1, 0), (8, 200, 0.04, 0.1, 0), (16, 400, 0.04, 0.1, 0)))
    assert kept_up.settled is False and "up to 16 in flight (400 a second)" in kept_up.reason


def _bare_way(cpu_per_op_s: float, max_workers: int, all_cores: bool = False) -> Way:
    from loadtool.strategies import Scale

    return Way("test", "test", cpu_per_op_s, None, Scale(max_workers, all_cores))


def test_gain_per_doubling_from_none_through_one_and_two_doublings():
    from loadtool.strategies.sizing import gain_per_doubling

    cases = [(((4, 100), (8, 200)), 1.0), (((4, 100), (16, 400)), 1.0), (((4, 100), (16, 225)), 0.5),
             (((4, 100), (4, 150)), 0.0), (((4, 0), (8, 10)), math.inf), (((4, 0), (8, 0.5)), math.inf),
             (((4, 0), (8, 0)), 0.0), (((4, 0.5), (8, 1.0)), 1.0)]
    assert [gain_per_doubling(*levels) for levels, _ in cases] == pytest.approx([gain for _, gain in cases])


def test_processes_queue_on_every_core_and_the_rest_on_one():
    """10 ms of CPU an operation and no wait: one worker does 100 a second; processes on two
    cores reach 200, one core stays at 100; a way with no CPU cost has no CPU ceiling."""
    from loadtool.strategies.sizing import closed_rates

    processes, loop = _bare_way(0.01, 100, all_cores=True), _bare_way(0.01, 100)
    assert closed_throughput(processes, 1, 0.0, 2) == pytest.approx(100)
    assert closed_throughput(processes, 100, 0.0, 2) == pytest.approx(200, rel=0.01)
    assert closed_throughput(loop, 100, 0.0, 2) == pytest.approx(100, rel=0.01)
    assert (cpu_ceiling(processes, 2), cpu_ceiling(loop, 2), cpu_ceiling(_bare_way(0.0, 10), 2)) == (200, 100, math.inf)
    assert len(list(closed_rates(loop, 0.05, 1))) == 100  # one rate per worker, up to the way's most
    idle = _bare_way(0.01, 0)  # a way that may run no worker does nothing, and is sized at one
    assert closed_throughput(idle, 5, 0.05, 1) == 0.0 and concurrency_for(idle, 10, 0.05, 1) == 1
    assert concurrency_for(loop, 1, 0.05, 1) == 1  # a rate one worker makes


def test_what_bounds_a_machine_at_a_tie_is_its_workers():
    # 9 workers of 1 s cycles (0.9 s wait + 0.1 s CPU) make 9/s; the CPU at 90% allows 9/s too.
    assert machine_throughput(_bare_way(0.1, 9), 0.9, 1) == (9.0, "workers")


def test_an_options_range_and_verdict_come_from_its_total_and_the_spread():
    """A site that serves 100 pages a second: 10,000 pages take 100 s whatever the machines,
    125 s at the p10 throughput (80%), which is what a deadline must hold."""
    way = _bare_way(0.001, 1000)
    option = plan_option(way, Goal(pages=10_000), 0.05, spread=(0.8, 1.25), site_per_s=100)
    assert option.way is way and option.total_s == pytest.approx(100)
    assert option.total_range_s == pytest.approx((80, 125))
    verdicts = [plan_option(way, Goal(pages=10_000, deadline_s=deadline), 0.05, spread=(0.8, 1.25),
                            site_per_s=100).meets_deadline for deadline in (130, 125, 110, 125 / 1.5)]
    assert verdicts == [True, True, False, False]


def test_what_bounds_an_option_at_each_limits_edge():
    """Ten workers of 100 ms with no CPU cost make exactly 100 a second on one machine: a
    limit of exactly 100 (the site, politeness, a deadline's rate) is met, not binding."""
    from loadtool.strategies.sizing import SITE_MARGIN

    way = _bare_way(0.0, 10)
    free = plan_option(way, Goal(pages=10_000), 0.1)
    assert (free.machines, free.throughput_per_s, free.bound) == (1, pytest.approx(100), "workers")
    assert plan_option(way, Goal(pages=10_000), 0.1, site_per_s=100).bound == "workers"
    assert plan_option(way, Goal(pages=10_000, hosts=10, host_rate=10), 0.1).bound == "workers"
    assert plan_option(way, Goal(pages=10_000, deadline_s=100), 0.1).bound == "latency"
    started = plan_option(way, Goal(pages=10_000, start_s=2.0), 0.1)
    assert started.total_s == pytest.approx(102)
    site = plan_option(way, Goal(pages=10_000), 0.1, site_per_s=50)
    assert site.bound == "site" and site.concurrency == math.ceil(concurrency_for(way, 50, 0.1, 1) * SITE_MARGIN)


def test_politeness_below_what_a_deadlines_machines_make_binds_and_sets_them():
    """A deadline wants 1000/s, politeness allows 250/s, a machine makes 100/s: three
    machines at the polite 250/s, bound by politeness."""
    option = plan_option(_bare_way(0.0, 10), Goal(pages=100_000, deadline_s=100, hosts=25, host_rate=10), 0.1)
    assert (option.machines, option.throughput_per_s, option.bound) == (3, pytest.approx(250), "politeness")


def test_a_rate_within_a_thousandth_of_the_asked_is_made():
    """concurrency_for allows 0.1% for float error: 999 workers of 1 s make 999/s, enough for 1000/s."""
    assert concurrency_for(_bare_way(0.0, 2000), 1000.0, 1.0, 1) == 999


def test_politeness_caps_by_the_share_of_its_slots_a_job_keeps_busy():
    way = _bare_way(0.0, 1000)
    by_slots = plan_option(way, Goal(pages=10_000, hosts=10, per_host=2, politeness_used=0.5), 0.1)
    assert (by_slots.throughput_per_s, by_slots.bound) == (pytest.approx(100), "politeness")  # 10 x 2 / 0.1 s x 1/2
    by_rate = plan_option(way, Goal(pages=10_000, hosts=10, host_rate=5, politeness_used=0.5), 0.1)
    assert (by_rate.throughput_per_s, by_rate.bound) == (pytest.approx(25), "politeness")
    cpu_bound = plan_option(_bare_way(0.01, 1000), Goal(pages=10_000, deadline_s=10), 0.01)
    assert cpu_bound.machines == math.ceil(1000 / 90) and cpu_bound.bound == "cpu"  # 90/s each at 90% of a core


def test_a_processes_run_is_predicted_over_every_core():
    processes = _bare_way(0.01, 100, all_cores=True)
    assert predict_wall_s(1000, processes, 100, 0.0, 2) == pytest.approx(5.0, rel=0.01)  # 200/s on two cores

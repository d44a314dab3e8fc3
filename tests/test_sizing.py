import pytest

from loadtool.job import Job
from loadtool.sizing import ideal_s, schedule_s
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
    from loadtool.work import Pacer

    pacer = Pacer(Rate(50.0))
    assert [pacer.offset_s(k) for k in (0, 1, 50)] == pytest.approx([0.0, 0.02, 1.0])


def test_a_ramp_rises_linearly_to_the_rate():
    from loadtool.units import Rate
    from loadtool.work import Pacer

    pacer = Pacer(Rate(10.0, ramp_s=2.0))  # 10 ops fall due during the 2 s ramp
    assert pacer.offset_s(0) == 0.0
    assert pacer.offset_s(2.5) == pytest.approx(1.0)  # R·t²/2T = 2.5 at t = 1 s
    assert pacer.offset_s(10) == pytest.approx(2.0)
    assert pacer.offset_s(20) == pytest.approx(3.0)  # then one every 1/R

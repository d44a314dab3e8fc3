import pytest

from loadtool.errors import UsageError
from loadtool.metrics import Sample, Stats
from loadtool.runner.result import Result
from loadtool.report.thresholds import failures, parse_threshold


def _result(latencies_ms, failed=0, wall_s=1.0):
    stats = Stats(epoch=0.0)
    for latency in latencies_ms:
        stats.add(Sample(latency_us=int(latency * 1000), ok=True, status=200), now=0.5)
    for _ in range(failed):
        stats.add(Sample(latency_us=1000, ok=False, error="reset"), now=0.5)
    return Result(job=None, strategy="async", concurrency=1, started_at="", wall_s=wall_s, stats=stats,
                  ideal_s=None, cpu_s=0.1, cores=1)


@pytest.mark.parametrize("text, metric, op, limit, unit", [
    ("p99>200ms", "p99", ">", 200.0, "ms"),
    ("p99 > 0.5s", "p99", ">", 500.0, "ms"),
    ("p50>=80", "p50", ">=", 80.0, "ms"),
    ("p99.9>1s", "p99.9", ">", 1000.0, "ms"),
    ("errors>1%", "errors", ">", 0.01, "share"),
    ("errors>=3", "errors", ">=", 3.0, "count"),
    ("rps<500", "rps", "<", 500.0, "per_s"),
    ("RPS<500/s", "rps", "<", 500.0, "per_s"),
])
def test_thresholds_parse(text, metric, op, limit, unit):
    threshold = parse_threshold(text)
    assert (threshold.metric, threshold.op, threshold.limit, threshold.unit) == (metric, op, pytest.approx(limit), unit)


@pytest.mark.parametrize("text", ["p99", "p99>>2", "p98>1ms", "errors>lots", "rps<-1", "p99>2 parsecs", ""])
def test_malformed_thresholds_are_usage_errors(text):
    with pytest.raises(UsageError, match="--fail-if"):
        parse_threshold(text)


def test_a_threshold_that_holds_fails_the_run_with_a_readable_line():
    result = _result([10] * 98 + [500, 600])
    assert parse_threshold("p99>200ms").failed(result)
    assert not parse_threshold("p50>200ms").failed(result)
    lines = failures([parse_threshold("p99>200ms"), parse_threshold("p50>200ms")], [result])
    assert lines == ["p99>200ms: p99 was 500ms, limit 200ms"]


def test_error_thresholds_read_shares_and_counts():
    result = _result([5] * 97, failed=3)
    assert parse_threshold("errors>2%").failed(result)
    assert not parse_threshold("errors>3%").failed(result)
    assert parse_threshold("errors>=3").failed(result)


def test_throughput_thresholds_use_ops_per_second():
    result = _result([5] * 100, wall_s=0.5)
    assert parse_threshold("rps<300").failed(result)
    assert not parse_threshold("rps<100").failed(result)


@pytest.mark.parametrize("op, at, below, above", [
    # --fail-if says when to fail: at the limit itself, only the operators with '=' fail.
    (">", False, False, True), (">=", True, False, True), ("<", False, True, False), ("<=", True, True, False)])
@pytest.mark.parametrize("limit, unit", [("3", "count"), ("3%", "share")])
def test_every_operator_at_its_boundary(op, at, below, above, limit, unit):
    """100 operations with 2, 3 and 4 errors: the count (or share) just under, at and just
    over the limit of 3 (3%)."""
    threshold = parse_threshold(f"errors{op}{limit}")
    assert threshold.unit == unit
    for failed, expected in ((2, below), (3, at), (4, above)):
        assert threshold.failed(_result([5] * (100 - failed), failed=failed)) is expected, (op, failed)


def test_a_throughput_at_its_limit_and_a_latency_at_its_value():
    """rps reads operations over the wall time (150 in 0.5 s: 300 a second); a latency limit
    reads the histogram's value, so 'p50>V' with V the p50 itself does not fail."""
    result = _result([5] * 150, wall_s=0.5)
    assert not parse_threshold("rps<300").failed(result) and parse_threshold("rps<=300").failed(result)
    assert parse_threshold("rps<301").failed(result) and not parse_threshold("rps>300").failed(result)
    p50 = result.latency_ms["p50"]
    assert not parse_threshold(f"p50>{p50}ms").failed(result) and parse_threshold(f"p50>={p50}ms").failed(result)

import pytest

from loadtool.errors import UsageError
from loadtool.metrics import Sample, Stats
from loadtool.runner.result import Result
from loadtool.report.thresholds import baseline_for, failures, k6_hint, parse_threshold


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


#: A stored result (loadtool.result/1's fields thresholds read), every value set here: 200
#: operations, 190 ok, 4 errors, a latency each percentile apart, 2 s at 100/s, 80% of the
#: ideal, 297 of 300 checks passed, and a step "login" of 50 with 5 failed.
STORED = {"ops": 200, "ok": 190, "errors": {"reset": 3, "ValueError": 1}, "wall_s": 2.0, "throughput_ops_s": 100.0,
          "efficiency": 0.8, "checks": {"status == 200": {"passed": 197, "failed": 3},
                                        "time < 1s": {"passed": 100, "failed": 0}},
          "latency_ms": {"p50": 10.0, "p75": 20.0, "p90": 30.0, "p95": 40.0, "p99": 50.0, "p999": 60.0,
                         "max": 70.0, "mean": 15.0},
          "steps": {"login": {"count": 50, "failed": 5, "latency_ms": {
              "p50": 1.0, "p75": 2.0, "p90": 3.0, "p95": 4.0, "p99": 5.0, "p999": 6.0, "max": 7.0, "mean": 1.5}}}}


@pytest.mark.parametrize("text, actual, limit, unit", [
    ("p50>10ms", 10.0, 10.0, "ms"), ("p75>20", 20.0, 20.0, "ms"), ("p90>0.03s", 30.0, 30.0, "ms"),
    ("p95>40ms", 40.0, 40.0, "ms"), ("p99>50ms", 50.0, 50.0, "ms"), ("p99.9>60ms", 60.0, 60.0, "ms"),
    ("p999>60ms", 60.0, 60.0, "ms"), ("max>70ms", 70.0, 70.0, "ms"), ("mean>15ms", 15.0, 15.0, "ms"),
    ("failed>5%", 0.05, 0.05, "share"), ("failed>10", 10.0, 10.0, "count"),
    ("errors>2%", 0.02, 0.02, "share"), ("errors>4", 4.0, 4.0, "count"),
    ("rps<100", 100.0, 100.0, "per_s"), ("ops_s<100/s", 100.0, 100.0, "per_s"),
    ("throughput<100", 100.0, 100.0, "per_s"), ("wall>2s", 2000.0, 2000.0, "ms"), ("wall>2000", 2000.0, 2000.0, "ms"),
    ("efficiency<80%", 0.8, 0.8, "ratio"), ("efficiency<0.8", 0.8, 0.8, "ratio"),
    ("checks<99%", 0.99, 0.99, "share"), ("checks<0.99", 0.99, 0.99, "share"),
    ("step.login.p50>1ms", 1.0, 1.0, "ms"), ("step.login.p99>5", 5.0, 5.0, "ms"), ("step.login.max>7ms", 7.0, 7.0, "ms"),
    ("step.login.failed>10%", 0.1, 0.1, "share"), ("step.login.failed>5", 5.0, 5.0, "count"),
])
def test_every_metric_reads_its_own_figure_and_holds_at_its_boundary(text, actual, limit, unit):
    """Each metric and unit a user can type, against a result whose every figure is set here:
    the value read, the limit as parsed, its unit; at the limit a strict comparison holds no
    run to account, and the same limit as ">=" or "<=" does."""
    threshold = parse_threshold(text)
    assert threshold.actual(STORED) == pytest.approx(actual) and threshold.limit == pytest.approx(limit)
    assert threshold.unit == unit and not threshold.failed(STORED)
    inclusive = parse_threshold(text.replace(">", ">=", 1) if ">" in text else text.replace("<", "<=", 1))
    assert inclusive.failed(STORED), inclusive.describe(STORED)


@pytest.mark.parametrize("text, shown", [
    ("p99>20ms", "p99>20ms: p99 was 50ms, limit 20ms"),
    ("wall>1s", "wall>1s: wall was 2s, limit 1s"),
    ("failed>1%", "failed>1%: failed was 5.00%, limit 1.00%"),
    ("rps<500", "rps<500: rps was 100.0/s, limit 500.0/s"),
    ("errors>3", "errors>3: errors was 4, limit 3"),
])
def test_a_failed_threshold_says_the_value_and_the_limit_in_its_unit(text, shown):
    threshold = parse_threshold(text)
    assert threshold.failed(STORED) and threshold.describe(STORED) == shown


def test_a_relative_limit_moves_the_baselines_value():
    """p99>+10% against a baseline whose p99 was 40 ms: the bound is 44 ms (50 ms fails);
    rps<-10% against one at 120/s: the bound is 108/s (100/s fails); no baseline, no verdict."""
    baseline = {**STORED, "latency_ms": {**STORED["latency_ms"], "p99": 40.0}, "throughput_ops_s": 120.0}
    p99, rps = parse_threshold("p99>+10%"), parse_threshold("rps<-10%")
    assert p99.bound(baseline) == pytest.approx(44.0) and p99.failed(STORED, baseline)
    assert rps.bound(baseline) == pytest.approx(108.0) and rps.failed(STORED, baseline)
    assert p99.bound(None) is None and not p99.failed(STORED)
    assert p99.describe(STORED, baseline) == "p99>+10%: p99 was 50ms, limit 44ms (+10% of the baseline's 40ms)"
    assert not parse_threshold("p99>+30%").failed(STORED, baseline)  # 50 ms against 52 ms


@pytest.mark.parametrize("text, hint", [
    ("p95<200ms", "for k6's 'p95<200ms' write --fail-if 'p95>=200ms'"),  # 40 ms: far below
    ("p95 <= 81ms", "for k6's 'p95 <= 81ms' write --fail-if 'p95>81ms'"),  # 40 ms: just under half
    ("failed<20%", "for k6's 'failed<20%' write --fail-if 'failed>=20%'"),  # 5%
    ("errors<9", "for k6's 'errors<9' write --fail-if 'errors>=9'"),  # 4
])
def test_a_k6_style_threshold_far_on_its_passing_side_is_read_back_as_meant(text, hint):
    assert parse_threshold(text).failed(STORED)
    said = k6_hint(parse_threshold(text), STORED)
    assert said.startswith(" (--fail-if fails the run when its expression holds; k6's thresholds say when to pass: ")
    assert said.endswith(hint + ")")


@pytest.mark.parametrize("text", [
    "p95<80ms",  # 40 ms is half the limit: near enough to have been meant
    "p95>20ms",  # not written as k6 writes a limit
    "rps<500",  # throughput: k6 limits what stays below, not rates
    "efficiency<90%", "p95<-10%"])
def test_no_k6_hint_where_the_threshold_reads_as_meant(text):
    threshold = parse_threshold(text)
    assert k6_hint(threshold, STORED) == ""


def test_the_baseline_is_the_stored_run_of_the_same_strategy_and_concurrency():
    from types import SimpleNamespace

    stored = [{"strategy": "threads", "concurrency": 10, "n": 0}, {"strategy": "async", "concurrency": 10, "n": 1},
              {"strategy": "async", "concurrency": 50, "n": 2}]
    run = SimpleNamespace
    assert baseline_for(run(strategy="async", concurrency=50), stored)["n"] == 2
    assert baseline_for(run(strategy="async", concurrency=20), stored)["n"] == 1  # the strategy's first
    assert baseline_for(run(strategy="hybrid", concurrency=50), stored)["n"] == 0  # else the first stored
    assert baseline_for(run(strategy="async", concurrency=50), []) is None
    assert baseline_for(run(strategy="async", concurrency=50), None) is None


def test_each_run_is_checked_against_its_own_strategys_baseline_and_named():
    from dataclasses import replace

    from loadtool.report.thresholds import check, parse_thresholds

    runs = [_result([10.0] * 100), replace(_result([30.0] * 100), strategy="threads")]
    stored = [{**STORED, "strategy": strategy, "concurrency": 1,
               "latency_ms": {**STORED["latency_ms"], "p99": p99}} for strategy, p99 in (("threads", 10.0), ("async", 8.0))]
    thresholds = parse_thresholds(["p99>+50%"], baseline="stored.json")
    # async: 10 ms against 8 ms x 1.5 = 12 ms holds; threads: 30 ms against 15 ms fails.
    verdicts = check(thresholds, runs, stored)
    assert [(v.strategy, v.failed) for v in verdicts] == [("async", False), ("threads", True)]
    assert verdicts[0].line.startswith("async: p99>+50%: p99 was 10") and "baseline's 8ms" in verdicts[0].line
    assert failures(thresholds, runs, stored) == [verdicts[1].line]
    assert check(thresholds, runs[:1], stored)[0].line.startswith("p99>+50%: p99 was")  # one run: no name
    with pytest.raises(UsageError, match="--baseline FILE"):
        parse_thresholds(["p99>+10%"])
    assert parse_thresholds(None) == ()


@pytest.mark.parametrize("text, said", [
    ("checks<101%", "--fail-if 'checks<101%': '101%': the share of checks passed is at most 100%"),
    ("checks<150%", "--fail-if 'checks<150%': '150%': the share of checks passed is at most 100%"),
    ("errors>abc%", "--fail-if 'errors>abc%': 'abc' is not a number"),
    ("rps<-1", "--fail-if 'rps<-1': '-1' must be zero or more"),
    ("step.login.p98>1ms", "--fail-if 'step.login.p98>1ms': a step's metrics are "
                           "p50, p75, p90, p95, p99, p99.9, p999, max, mean and failed"),
    ("step.login.failed>x%", "--fail-if 'step.login.failed>x%': 'x' is not a number"),
    ("zzz>1", "--fail-if 'zzz>1': no metric 'zzz'; there are p50, p75, p90, p95, p99, p99.9, p999, max, mean, "
              "failed, errors, rps, ops_s, throughput, wall, efficiency, checks, and a step's"),
])
def test_a_bad_threshold_says_what_is_wrong_with_it_in_one_line(text, said):
    with pytest.raises(UsageError) as raised:
        parse_threshold(text)
    assert str(raised.value).startswith(said) and "\n" not in str(raised.value)


def test_the_edges_and_unknowns_of_a_threshold_read_as_they_should():
    """100% of checks is a limit; a step's threshold keeps its text; a relative limit on a
    share reads as a share; an empty run has no failed or errored share (0, not a division
    by zero); an unknown value shows as unknown and gets no k6 hint; a run's checks are read
    from the Result as from its JSON."""
    assert parse_threshold("checks<100%").limit == 1.0
    assert parse_threshold("step.login.p99>200ms").text == "step.login.p99>200ms"
    assert parse_threshold("failed>+10%").unit == "share"
    empty = {**STORED, "ops": 0, "ok": 0, "errors": {}}
    assert [parse_threshold(text).actual(empty) for text in ("failed>1%", "errors>1%")] == [0.0, 0.0]
    unknown = {**STORED, "efficiency": None}
    assert parse_threshold("efficiency<90%").describe(unknown) == "efficiency<90%: efficiency was unknown, limit 0.9"
    assert k6_hint(parse_threshold("efficiency<90%"), unknown) == ""
    stats = Stats(epoch=0.0)
    for passed in ((True,), (True,), (False,), (True,)):
        stats.add(Sample(latency_us=1000, ok=all(passed), status=200, checks=passed), now=0.5)
    from loadtool.job import Job

    job = Job.build(urls=["http://127.0.0.1:1/"], count=4, checks=("status == 200",))
    result = Result(job=job, strategy="async", concurrency=1, started_at="", wall_s=1.0, stats=stats,
                    ideal_s=None, cpu_s=0.1, cores=1)
    assert parse_threshold("checks<80%").actual(result) == pytest.approx(0.75)
    from loadtool.metrics.steps import StepTimes

    result.stats.step_times.add(StepTimes((("login", 0.002, None), ("login", 0.004, "reset"))))
    assert parse_threshold("step.login.failed>10%").actual(result) == 0.5  # a step's figures from the Result

import pytest

from loadtool.metrics import Sample, Stats


def _sample(latency_ms: float, ok: bool = True, status: int = 200, error: str | None = None) -> Sample:
    return Sample(latency_us=int(latency_ms * 1000), ok=ok, status=None if error else status,
                  error=error, bytes=100)


def _fill(stats: Stats, latencies_ms, start_s: float = 0.0) -> None:
    for offset, latency in enumerate(latencies_ms):
        stats.add(_sample(latency), now=stats.epoch + start_s + offset * 0.01)


def test_percentiles_come_from_the_histogram_within_its_precision():
    stats = Stats(epoch=1000.0)
    _fill(stats, range(1, 1001))
    latency = stats.latency_ms()
    assert latency["p50"] == pytest.approx(500, rel=0.002)
    assert latency["p99"] == pytest.approx(990, rel=0.002)
    assert latency["max"] == pytest.approx(1000, rel=0.002)
    assert latency["mean"] == pytest.approx(500.5, rel=0.002)


def test_failures_are_counted_by_kind_and_the_first_is_remembered():
    stats = Stats(epoch=0.0)
    stats.add(Sample(latency_us=10, ok=False, error="reset", detail="peer reset"), now=1.0)
    stats.add(Sample(latency_us=10, ok=False, error="connect_refused"), now=1.0)
    stats.add(_sample(5), now=1.0)
    assert stats.failed == 2
    assert stats.errors == {"reset": 1, "connect_refused": 1}
    assert stats.first_error == "reset: peer reset"


def test_merged_stats_equal_stats_of_the_whole():
    whole, left, right = Stats(epoch=0.0), Stats(epoch=0.0), Stats(epoch=0.0)
    first, second = [float(n) for n in range(1, 300)], [float(n) for n in range(300, 700)]
    _fill(whole, first)
    _fill(whole, second, start_s=2.5)
    _fill(left, first)
    _fill(right, second, start_s=2.5)
    left.merge(right)
    assert left.ops == whole.ops and left.bytes == whole.bytes
    assert left.latency_ms() == whole.latency_ms()
    assert left.series.rows() == whole.series.rows()


def test_stats_survive_the_wire_between_processes():
    stats = Stats(epoch=50.0, open_model=True)
    _fill(stats, [1, 2, 3, 400])
    stats.add(Sample(latency_us=7, ok=False, error="reset"), now=51.0)
    stats.cpu_s = 0.25
    back = Stats.from_wire(stats.to_wire())
    assert back.latency_ms() == stats.latency_ms()
    assert back.errors == stats.errors and back.status == stats.status
    assert back.series.rows() == stats.series.rows()
    assert back.service is not None and back.cpu_s == 0.25


def test_series_has_one_row_per_second_with_idle_seconds_filled():
    stats = Stats(epoch=0.0)
    stats.add(_sample(10), now=0.5)
    stats.add(_sample(20), now=0.7)
    stats.add(_sample(30), now=3.2)
    rows = stats.series.rows()
    assert [row["second"] for row in rows] == [0, 1, 2, 3]
    assert [row["ops"] for row in rows] == [2, 0, 0, 1]
    assert rows[3]["p50_ms"] == pytest.approx(30, rel=0.01)


def test_a_sample_for_an_earlier_second_lands_in_that_second():
    stats = Stats(epoch=0.0)
    stats.add(_sample(10), now=0.5)
    stats.add(_sample(10), now=1.5)
    stats.add(_sample(10), now=0.9)
    assert [row["ops"] for row in stats.series.rows()] == [2, 1]


def test_latencies_beyond_an_hour_are_kept_at_the_bound():
    stats = Stats(epoch=0.0)
    stats.add(Sample(latency_us=10**13, ok=True, status=200), now=0.0)
    assert stats.ops == 1 and stats.latency_ms()["max"] >= 3_599_000


def test_clear_empties_a_histogram_as_a_new_one_is():
    from loadtool.metrics import clear, new_histogram

    used = new_histogram()
    for value in (3, 1500, 2_000_000, 3_000_000_000):
        used.record_value(value, 7)
    clear(used)
    fresh = new_histogram()
    assert used.get_total_count() == 0 and not any(used.counts)
    assert (used.get_min_value(), used.get_max_value()) == (fresh.get_min_value(), fresh.get_max_value())
    used.record_value(42)
    fresh.record_value(42)
    assert used.encode() == fresh.encode()


#: Values around every power of two a bucket's width changes at, and the bounds of a histogram.
EDGES = sorted({max(1, (1 << bits) + delta) for bits in range(0, 33) for delta in (-1, 0, 1)} | {3_600_000_000})


def test_the_bucketing_of_latency_and_phases_is_the_histograms_bucket():
    """Stats.add and Phases.add count a value under 2,048 µs inline and the others through
    Values.add, which buckets one under 131 ms by its slot in a C array (no call, no dict):
    each way must keep exactly the top 11 bits, as histograms.bucket does and a 3-digit
    HdrHistogram resolves, at every power of two a bucket's width changes at."""
    from loadtool.metrics.histograms import bucket, new_histogram
    from loadtool.metrics.parts import PHASES

    stats = Stats(epoch=0.0)
    for value in EDGES:
        stats.add(Sample(value, True, 200, phases=tuple(value / 1e6 for _ in PHASES)), now=1.0)
    expected = {}
    for value in EDGES:
        key = bucket(min(value, 3_600_000_000))
        expected[key] = expected.get(key, 0) + 1
    assert stats.timing.latency.counted() == expected
    unclamped = {}  # phases are clamped when recorded, not when counted
    for value in EDGES:
        unclamped[bucket(value)] = unclamped.get(bucket(value), 0) + 1
    assert all(held.counted() == unclamped for held in stats.phase_times.values)
    histogram = new_histogram()
    for value in EDGES:  # and the bucket is the histogram's own: recording either gives the same
        histogram.record_value(bucket(value))
    reference = new_histogram()
    for value in EDGES:
        reference.record_value(value)
    assert histogram.encode() == reference.encode()


def test_an_error_counts_its_kind_and_the_first_error_and_traceback_are_kept_once():
    from loadtool.metrics.parts import MAX_TRACEBACKS, Counts

    counts = Counts()
    counts.error("reset", None)
    counts.error("reset", "peer reset")
    assert counts.errors == {"reset": 2} and counts.first_error == "reset"  # the first, as it came
    other = Counts()
    other.error("read_timeout", "no answer in 30s")
    other.error("reset", None)
    assert other.first_error == "read_timeout: no answer in 30s"
    # A traceback: kept by its kind, once; the first error is its last line, which names the kind.
    trace = "Traceback (most recent call last):\n  File \"op.py\", line 3\nValueError: bad 3"
    typed = Counts()
    typed.error("ValueError", trace)
    typed.error("ValueError", trace.replace("bad 3", "bad 13"))
    assert typed.tracebacks == {"ValueError": trace} and typed.first_error == "ValueError: bad 3"
    assert typed.errors == {"ValueError": 2}
    # A traceback whose last line does not name its kind: the kind is put before it.
    odd = Counts()
    odd.error("KeyError", "Traceback (most recent call last):\n'token'")
    assert odd.first_error == "KeyError: 'token'" and "KeyError" in odd.tracebacks
    many = Counts()
    for index in range(MAX_TRACEBACKS + 5):
        many.error(f"E{index}", f"Traceback\nE{index}: x")
    assert len(many.tracebacks) == MAX_TRACEBACKS and "E0" in many.tracebacks and many.first_error == "E0: x"


def test_checks_count_each_check_in_order_and_merge_by_position():
    from loadtool.metrics.parts import Checks

    mine, theirs = Checks(), Checks()
    mine.add((True, False))
    mine.add((True, True))
    theirs.add((False, True, True))  # a third check mine never saw
    theirs.add((True, False, False))
    assert mine.counts == [[2, 0], [1, 1]] and theirs.counts == [[1, 1], [1, 1], [1, 1]]
    mine.merge(theirs)
    assert mine.counts == [[3, 1], [2, 2], [1, 1]] and theirs.counts == [[1, 1], [1, 1], [1, 1]]


def test_service_time_lag_and_the_span_of_sends_are_counted_and_merged():
    """Open model: an operation due at 9.0 s, sent 50 ms late, answered at 10.0 s (latency
    1000 ms, service 950 ms); another due at 9.5 s, sent on time, answered at 9.8 s."""
    from loadtool.metrics.histograms import bucket, clamp_us
    from loadtool.metrics.parts import Latency

    latency = Latency(open_model=True)
    assert latency.add_service(1_000_000, 950_000, now=10.0) == bucket(clamp_us(950_000))
    latency.add_service(300_000, None, now=9.8)  # no service time: its latency
    assert latency.service.counted() == {bucket(clamp_us(950_000)): 1, bucket(clamp_us(300_000)): 1}
    assert latency.behind_us == 50_000
    assert latency.sends == [pytest.approx(9.0), pytest.approx(9.5)]  # first due, last sent
    other = Latency(open_model=True)
    other.add_service(200_000, 100_000, now=12.0)  # due 11.8, sent 11.9: 100 ms behind
    latency.merge(other)
    assert latency.behind_us == 100_000 and latency.sends == [pytest.approx(9.0), pytest.approx(11.9)]
    closed = Latency()
    closed.merge(other)
    assert closed.service is not None and closed.sends == [pytest.approx(11.8), pytest.approx(11.9)]


def test_each_percentile_key_names_the_percentile_it_reads():
    from loadtool.metrics.histograms import PERCENTILES, new_histogram

    histogram = new_histogram()
    for value in range(1, 1001):
        histogram.record_value(value)
    read = {key: histogram.get_value_at_percentile(p) for key, p in PERCENTILES.items()}
    assert read == {"p50": 500, "p75": 750, "p90": 900, "p95": 950, "p99": 990, "p999": 999}


def test_a_histograms_buckets_copied_out_are_hdrhs_own_and_give_its_mean():
    from loadtool.metrics.histograms import mean_of, new_histogram, recorded

    histogram = new_histogram()
    assert recorded(histogram) == [] and mean_of(histogram) == 0.0
    for value, count in ((1, 3), (1000, 2), (123_456, 1), (3_600_000_000, 4)):
        histogram.record_value(value, count)
    buckets = recorded(histogram)
    assert [count for _, count in buckets] == [3, 2, 1, 4]  # the top bucket too
    assert [value for value, _ in buckets] == [histogram._hdr_median_equiv_value(v) for v in (1, 1000, 123_456,
                                                                                             3_600_000_000)]
    assert mean_of(histogram) == pytest.approx(histogram.get_mean_value(), rel=1e-12)


def test_a_cleared_histogram_is_as_hdrhs_own_reset_leaves_it():
    from loadtool.metrics import clear, new_histogram

    used, fresh = new_histogram(), new_histogram()
    for histogram in (used, fresh):
        histogram.record_value(500)
        histogram.set_start_time_stamp(1_000)
        histogram.set_end_time_stamp(2_000)
    clear(used)
    fresh.reset()
    fields = ("total_count", "min_value", "max_value", "start_time_stamp_msec", "end_time_stamp_msec")
    assert [getattr(used, name) for name in fields] == [getattr(fresh, name) for name in fields]


def test_a_phase_that_took_no_time_is_counted_and_recorded_at_the_histograms_floor():
    """Under 2,048 µs a value is counted by its index (Values.small), 0 µs too; it is recorded
    as 1 µs, the histogram's least value, as the dict of larger values is clamped."""
    from loadtool.metrics.histograms import LOWEST_US

    stats = Stats(epoch=0.0)
    stats.add(Sample(5, True, 200, phases=(None, None, None, 0.0, 0.0000004, 0.002047)), now=1.0)
    send, wait, receive = stats.phase_times.values[3:]
    assert send.counted() == wait.counted() == {0: 1} and receive.counted() == {2047: 1}
    assert send.histogram.get_min_value() == LOWEST_US and send.total == 1 and send.counted() == {}
    assert receive.histogram.get_max_value() == 2047


def test_counted_values_are_clamped_when_recorded_totalled_merged_reset_and_sent():
    from loadtool.metrics.histograms import HIGHEST_US, LOWEST_US, Values, clamp_us

    values = Values()
    values.pending = {0: 2, HIGHEST_US * 10: 1}  # the hot paths write pending unclamped
    values.count(700)
    assert values.total == 4
    histogram = values.histogram
    assert values.counted() == {} and histogram.get_total_count() == 4
    assert histogram.get_min_value() == LOWEST_US and histogram.get_max_value() >= HIGHEST_US * 0.999
    other = Values()
    other.count(300)
    other.settle()
    other.count(900)
    values.merge(other)
    assert values.total == 6 and values.histogram.get_value_at_percentile(1) == LOWEST_US
    assert (clamp_us(0), clamp_us(-5), clamp_us(HIGHEST_US * 2), clamp_us(7.9)) == (LOWEST_US, LOWEST_US, HIGHEST_US, 7)
    assert Values.from_wire(values.to_wire().encode("ascii")).total == 6  # as bytes, as it comes off a pipe
    copy = Values.from_wire(values.to_wire())
    assert copy.total == 6 and all(copy.histogram.get_value_at_percentile(p) == values.histogram.get_value_at_percentile(p)
                                   for p in (10, 50, 70, 90, 100))
    kept = values.histogram
    values.count(5)
    values.reset()
    assert values.total == 0 and values.counted() == {} and values.histogram is kept
    empty = Values()
    values.merge(empty)
    assert values.total == 0


def _wire(stats: Stats) -> dict:
    import json

    return json.loads(json.dumps(stats.to_wire()))


def test_every_part_of_the_stats_crosses_the_wire_whole_open_or_closed():
    """What a process or a machine sends its parent: every part as it was — counts and
    error details, statuses, latency and service time, lag and the span of sends, each
    phase (a reused connection has no dns or connect), checks — through JSON, and a closed
    run's parts without service time stay without."""
    from loadtool.metrics.parts import PHASES

    opened = Stats(epoch=50.0, open_model=True)
    full = tuple(0.001 * (index + 1) for index in range(len(PHASES)))
    reused = (None, None) + full[2:]
    samples = [Sample(12_000, True, 200, service_us=9_000, phases=full, checks=(True, False), bytes=100),
               Sample(30_000, True, 200, service_us=30_000, phases=reused, checks=(True, True), bytes=50),
               Sample(5_000, False, 503, service_us=4_000, checks=(False, False)),
               Sample(7_000, False, None, error="reset", detail="Traceback ...\nConnectionResetError: peer")]
    for offset, sample in enumerate(samples):
        opened.add(sample, now=50.2 + offset * 0.5)
    back = Stats.from_wire(_wire(opened))
    assert _wire(back) == _wire(opened)
    assert back.timing.behind_us == opened.timing.behind_us and back.timing.sends == opened.timing.sends
    assert back.timing.service is not None and back.per_second.service is not None
    assert [back.phase_times.histogram(i) is None for i in range(len(PHASES))] == [
        opened.phase_times.histogram(i) is None for i in range(len(PHASES))]
    assert back.check_counts.counts == opened.check_counts.counts == [[2, 1], [1, 2]]
    assert back.counts.first_error == opened.counts.first_error == "reset: ConnectionResetError: peer"  # its last line
    closed = Stats(epoch=50.0)
    closed.add(Sample(12_000, True, 200), now=50.2)
    again = Stats.from_wire(_wire(closed))
    assert again.timing.service is None and again.per_second.service is None and _wire(again) == _wire(closed)
    merged = Stats(epoch=50.0)  # a closed Stats takes an open one's service time in
    merged.merge(back)
    assert merged.per_second.service is not None and merged.timing.service is not None


def test_each_part_counts_on_its_own_and_its_wire_is_a_snapshot_with_statuses_as_numbers():
    """The parts one by one, where the whole Stats hides them: a status refused twice is
    counted twice and merges by adding; statuses come back from JSON as numbers (a merge
    with local counts adds to 200, never beside a "200"); the wire is a copy, which later
    counting leaves alone; a part made with no model is closed (no service time, no lag,
    no sends); one operation's span of sends is its own moment; a new connection over plain
    http has dns and connect without tls; each phase's histogram holds what was added."""
    import json

    from loadtool.metrics.histograms import recorded
    from loadtool.metrics.parts import PHASES, Counts, Latency, Phases, PerSecond

    counts = Counts()
    counts.refused(404)
    counts.refused(404)
    counts.status[200] = 3
    wire = counts.to_wire()
    counts.refused(404)
    assert wire["failed_status"] == {404: 2}
    back = Counts.from_wire(json.loads(json.dumps(wire)))
    back.merge(counts)
    assert (back.status, back.failed_status) == ({200: 6}, {404: 5})

    fresh = Latency()
    assert fresh.service is None and PerSecond().service is None
    assert fresh.to_wire()["behind_us"] == 0 and fresh.to_wire()["sends"] is None
    opened = Latency(open_model=True)
    opened.add_service(1_000_000, None, now=10.0)  # due and sent at 9.0 s
    assert opened.to_wire()["sends"] == [9.0, 9.0]
    opened.add_service(1_000_000, 500_000, now=10.0)  # sent at 9.5 s, due at 9.0 s: 0.5 s behind
    assert (opened.sends, opened.behind_us) == ([9.0, 9.5], 500_000)
    opened.add_service(1_000_000, 500_000, now=10.0)
    assert [count for _, count in recorded(opened.service.histogram)] == [2, 1]  # 0.5 s twice, 1 s once

    phases = Phases()
    plain = (0.001, 0.002, None, 0.003, 0.004, 0.005)  # a new connection, no TLS
    phases.add(plain)
    phases.add(plain)
    assert [None if phases.histogram(i) is None else phases.histogram(i).get_total_count()
            for i in range(len(PHASES))] == [2, 2, None, 2, 2, 2]
    assert phases.histogram(0).get_max_value() == phases.histogram(0).get_min_value() == pytest.approx(1000, rel=0.001)

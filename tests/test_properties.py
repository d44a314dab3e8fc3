"""Rules with a law, held for every input hypothesis can think of: bucketing and
percentiles (the histograms every report reads), URL canonicalization (the crawl's seen
set), units (every number a user types or reads) and --ok-status ranges."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadtool.crawl.urls import canonical, normalize
from loadtool.engines.policy import Policy
from loadtool.job.parse import format_status_ranges, parse_status_ranges
from loadtool.metrics.histograms import HIGHEST_US, LOWEST_US, Values, bucket, new_histogram
from loadtool.units import format_bytes, format_duration, parse_count, parse_duration, parse_rate, parse_size

quick = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
values_us = st.integers(min_value=LOWEST_US, max_value=HIGHEST_US)
#: As values_us, but as often under 262 ms, where Values counts in C by slot (under 131 ms).
latencies_us = st.one_of(st.integers(min_value=LOWEST_US, max_value=1 << 18), values_us)


# --- bucketing and percentiles ---------------------------------------------------------------

@quick
@given(values_us)
def test_a_value_lands_in_a_bucket_that_holds_it_within_the_stated_precision(value):
    """3 significant digits: a bucket's floor is within 1/1024 of every value it holds."""
    floor = bucket(value)
    assert floor <= value and (value - floor) / value < 1 / 1024
    assert bucket(floor) == floor  # a floor is its own bucket


@quick
@given(st.lists(latencies_us, min_size=1, max_size=200))
def test_counting_bucketed_values_gives_the_identical_histogram(values):
    """The hot path counts bucket(v) and records them later: the same histogram, bucket for
    bucket, as recording every value as it came (a coarser bucket would merge two)."""
    direct, counted, slotted = new_histogram(), new_histogram(), Values()
    for value in values:
        direct.record_value(value)
    for value in values:
        counted.record_value(bucket(value))
        slotted.add(value)  # bucketed by its slot under 131 ms, by bucket() above
    assert list(direct.counts) == list(counted.counts) == list(slotted.histogram.counts)
    assert direct.get_total_count() == counted.get_total_count() == slotted.total == len(values)


@quick
@given(st.lists(latencies_us, min_size=1, max_size=300), st.randoms(use_true_random=False))
def test_percentiles_rise_with_p_and_merging_parts_in_any_order_changes_nothing(values, rng):
    whole = Values()
    for value in values:
        whole.count(value)
    cut = sorted(rng.sample(range(len(values) + 1), k=min(3, len(values) + 1)))
    parts = [values[start:end] for start, end in zip([0, *cut], [*cut, len(values)])]
    rng.shuffle(parts)
    merged = Values()
    for part in parts:
        piece = Values()
        for value in part:
            piece.count(value)
        if rng.random() < 0.5:  # a part recorded already, as a worker's arrives; or still counted
            piece.settle()
        merged.merge(piece)
    read, other = whole.histogram, merged.histogram
    ps = [0.0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100]
    found = [read.get_value_at_percentile(p) for p in ps]
    assert found == sorted(found)
    assert found == [other.get_value_at_percentile(p) for p in ps]
    assert read.get_min_value() <= min(values) and read.get_max_value() >= max(values)


# --- URL canonicalization ---------------------------------------------------------------------

hosts = st.sampled_from(["example.org", "EXAMPLE.org", "shop.example.com", "127.0.0.1"])
segments = st.lists(st.sampled_from(["a", "b", "~x", "%7Ex", "%7ex", "café", "a b", ".", ".."]), max_size=4)
queries = st.lists(st.tuples(st.sampled_from(["q", "page", "id"]), st.sampled_from(["1", "x y", "%41", "é"])),
                   max_size=3)


@st.composite
def urls(draw):
    scheme = draw(st.sampled_from(["http", "https", "HTTP"]))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = "/" + "/".join(draw(segments))
    query = "&".join(f"{key}={value}" for key, value in draw(queries))
    fragment = draw(st.sampled_from(["", "#top", "#"]))
    return f"{scheme}://{draw(hosts)}{port}{path}{'?' + query if query else ''}{fragment}"


@quick
@given(urls(), st.booleans())
def test_canonical_is_idempotent(url, sort_query):
    normal = normalize(url, url)
    if normal is None:
        return
    key = canonical(normal, sort_query)
    assert canonical(key, sort_query) == key
    assert normalize(key, key) is not None


@quick
@given(urls())
def test_urls_a_browser_treats_as_one_have_one_key(url):
    """The scheme's and host's case, the default port, the fragment, %7E against ~, and an
    escape's case do not make another page."""
    normal = normalize(url, url)
    if normal is None:
        return
    scheme, rest = normal.split("://", 1)
    host, _, path = rest.partition("/")
    default = {"http": ":80", "https": ":443"}[scheme]
    variants = [f"{scheme.upper()}://{host.upper()}/{path}", f"{scheme}://{host}{default}/{path}" if ":" not in host
                else normal, normal + "#elsewhere", normal.replace("~", "%7E"), normal.replace("%7E", "%7e")]
    key = canonical(normal)
    for variant in variants:
        assert canonical(normalize(variant, variant)) == key, variant


# --- units ------------------------------------------------------------------------------------

@quick
@given(st.floats(min_value=1e-6, max_value=1e6, allow_nan=False))
def test_a_duration_read_back_is_the_one_shown(seconds):
    shown = format_duration(seconds)
    read = parse_duration(shown)
    assert format_duration(read) == shown
    # Within what the shown digits say: 3 significant digits, whole seconds past a minute,
    # whole minutes past an hour.
    slack = 30.5 if seconds >= 3600 else 0.5 if seconds >= 60 else seconds * 0.005 + 5e-7
    assert abs(read - seconds) <= slack


@quick
@given(st.integers(min_value=0, max_value=10**12))
def test_a_count_reads_as_typed_with_separators_or_a_suffix(count):
    assert parse_count(str(count)) == count
    assert parse_count(f"{count:,}".replace(",", "")) == count
    if count % 1000 == 0:
        assert parse_count(f"{count // 1000}k") == count


@quick
@given(st.integers(min_value=0, max_value=2**40))
def test_a_size_read_back_is_the_one_shown(size):
    shown = format_bytes(size)
    read = parse_size(shown)
    unit = 1024 ** ("B", "KiB", "MiB", "GiB").index(shown.lstrip("0123456789."))
    # One decimal of the unit shown (half of 0.1 either way), and a byte of the reading's rounding.
    assert format_bytes(read) == shown and abs(read - size) <= 0.05 * unit + 1


@quick
@given(st.integers(min_value=1, max_value=100_000), st.sampled_from([("s", 1), ("m", 60), ("h", 3600)]))
def test_a_rate_reads_per_second(count, unit):
    name, seconds = unit
    assert parse_rate(f"{count}/{name}").per_s == pytest.approx(count / seconds)


# --- --ok-status ------------------------------------------------------------------------------

@st.composite
def status_ranges(draw):
    ranges = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        low = draw(st.integers(min_value=100, max_value=599))
        ranges.append((low, draw(st.integers(min_value=low, max_value=599))))
    return tuple(ranges)


@quick
@given(status_ranges(), st.integers(min_value=0, max_value=599))
def test_ok_status_ranges_read_back_and_a_status_is_ok_exactly_when_in_one(ranges, status):
    text = format_status_ranges(ranges)
    assert parse_status_ranges(text) == ranges
    policy = Policy(1.0, ok_status=ranges)
    sample = policy.answered(_attempt(), status, 0, 0.5)
    assert sample.ok == any(low <= status <= high for low, high in ranges)


def _attempt():
    from loadtool.engines.policy import Attempt
    from loadtool.strategies.work import Op

    return Attempt(Op(0, "http://example.org/"), 0.0, 1, 0.0, False)


# --- counting ------------------------------------------------------------------------------------

_ANSWERS = st.tuples(st.sampled_from([200, 200, 204, 404, 503, 1000]), st.sampled_from(["HTTP/1.1", "HTTP/2", None]),
                     st.sampled_from([True, False, None]))


@quick
@given(st.lists(st.tuples(_ANSWERS, st.sampled_from(["add", "add", "read", "merge", "reset"])), max_size=60))
def test_statuses_protocols_and_connections_count_each_answer_once(steps):
    """Stats.add counts a run of one status (or protocol, or reused connections) in C and folds
    it in when the field is read: whatever reads, merges and resets come between, every
    answer is counted once — as a Counter of the answers since the last reset has it."""
    from collections import Counter

    from loadtool.metrics.stats import Stats

    policy, stats, expected = Policy(1.0), Stats(epoch=0.0), [Counter(), Counter(), Counter()]
    for (status, protocol, connected), step in steps:
        if step == "reset":
            stats.reset()
            expected = [Counter(), Counter(), Counter()]
            continue
        if step == "merge":  # another worker's Stats with one answer, handed over
            other = Stats(epoch=0.0)
            other.add(policy.answered(_attempt(), status, 0, 0.5, protocol, connected), now=1.0)
            stats.merge(other)
        else:
            stats.add(policy.answered(_attempt(), status, 0, 0.5, protocol, connected), now=1.0)
        expected[0][status] += 1
        expected[1][protocol] += protocol is not None
        expected[2]["reused" if connected is False else "new"] += connected is not None
        if step == "read":
            assert stats.counts.status == dict(+expected[0])
    assert stats.counts.status == dict(+expected[0])
    assert stats.counts.protocols == dict(+expected[1])
    assert stats.connections["reused"] == expected[2]["reused"] and stats.connections["new"] == expected[2]["new"]
    assert Stats.from_wire(stats.to_wire()).counts.status == dict(+expected[0])


# --- answer heads ------------------------------------------------------------------------------

_LINES = st.sampled_from([b"Content-Encoding: gzip", b"content-encoding:br", b"CONTENT-ENCODING:  deflate ",
                          b"Accept-Encoding: gzip", b"X-Ncoding: no", b"Server: nginx", b"Content-Length: 12",
                          b"ncodin", b"NCODING", b"encoding"])


@quick
@given(st.lists(_LINES, max_size=6), st.binary(max_size=40), st.lists(_LINES, max_size=2), st.integers(-60, 3))
def test_an_answers_encoding_is_read_from_its_head_only(lines, noise, body_lines, shift):
    """The fast engine reads Content-Encoding from the head up to ``end`` (compiled, through
    scan.find's C search): what a regular expression over those bytes alone finds, never a
    header-like line in the body after them, wherever ``end`` falls."""
    from loadtool.engines.fast import _ENCODING, _encoding

    head = b"HTTP/1.1 200 OK\r\n" + b"\r\n".join([*lines, noise]) + b"\r\n\r\n"
    answer = head + b"\r\n".join(body_lines)
    end = max(0, len(head) + shift)
    found = _ENCODING.search(answer[:end])
    assert _encoding(answer, end) == (None if found is None else found.group(1).decode("latin-1"))

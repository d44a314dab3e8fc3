import pytest

from loadtool.units import Rate, format_duration, parse_count, parse_duration, parse_rate, parse_size


@pytest.mark.parametrize("text, seconds", [
    ("30s", 30.0), ("250ms", 0.25), ("1m30s", 90.0), ("2h", 7200.0), ("1.5", 1.5), ("100us", 1e-4),
])
def test_durations_parse_to_seconds(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "10x", "-1s", "s", "1s2", "nan", "inf"])
def test_bad_durations_are_rejected_with_a_hint(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize("text, count", [("1010", 1010), ("10k", 10_000), ("2.5M", 2_500_000),
                                         ("1e6", 1_000_000), ("10_000", 10_000)])
def test_counts_accept_suffixes(text, count):
    assert parse_count(text) == count


@pytest.mark.parametrize("text", ["ten", "1.5", "10q", ""])
def test_bad_counts_are_rejected(text):
    with pytest.raises(ValueError):
        parse_count(text)


@pytest.mark.parametrize("text, size", [("512", 512), ("4KiB", 4096), ("1MiB", 1 << 20), ("2kb", 2000)])
def test_sizes_parse_to_bytes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text, rate", [
    ("100/s", Rate(100.0)), ("6000/m", Rate(100.0)), ("50", Rate(50.0)),
    ("100/s:ramp=30s", Rate(100.0, 30.0)),
])
def test_rates_parse_per_second(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["0/s", "fast", "10/d", "10/s:ramp", "10/s:burst=3"])
def test_bad_rates_are_rejected(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def test_durations_format_in_the_unit_that_reads_best():
    assert format_duration(0.0005) == "500µs"
    assert format_duration(0.0123) == "12.3ms"
    assert format_duration(4.21) == "4.21s"
    assert format_duration(185) == "3m05s"


def test_the_profile_names_the_cli_offers_are_the_profiles_that_exist():
    from loadtool.names import PROFILE_NAMES
    from loadtool.server.profiles import PROFILES

    assert tuple(PROFILES) == PROFILE_NAMES


def test_sizes_in_decimal_and_binary_units_step_up_where_the_reading_reaches_the_step():
    from loadtool.units import format_bytes

    decimal = [(0, "0B"), (999, "999B"), (1000, "1.0kB"), (1500, "1.5kB"), (2_500_000, "2.5MB"), (3e9, "3.0GB"),
               (5e12, "5000.0GB")]
    assert [format_bytes(count, si=True) for count, _ in decimal] == [shown for _, shown in decimal]
    binary = [(1023, "1023B"), (1024, "1.0KiB"), (5 * 2**40, "5120.0GiB")]
    assert [format_bytes(count) for count, _ in binary] == [shown for _, shown in binary]


def test_durations_take_the_next_unit_exactly_at_its_bound():
    from loadtool.units import format_duration

    readings = [(None, "-"), (0.0009994999, "999µs"), (0.001, "1ms"), (0.0995, "99.5ms"), (0.9994, "999ms"),
                (1.0, "1s"), (59.94, "59.9s"), (60, "1m00s"), (3599.4, "59m59s"), (3600, "1h00m")]
    assert [format_duration(seconds) for seconds, _ in readings] == [shown for _, shown in readings]


def test_counts_rates_and_durations_read_their_edges_and_name_what_is_wrong():
    from loadtool.errors import UsageError
    from loadtool.units import parse_count, parse_duration, parse_rate, parse_size

    assert parse_count("1,010") == 1010 and parse_duration("0s") == 0.0
    for parse, text, says in [(parse_count, "abc", "not a count: 'abc' (try 1010, 10k, 2.5M)"),
                              (parse_count, "1.5", "not a whole count: '1.5'"),
                              (parse_rate, "0/s", "not a rate: '0/s' (it must be more than zero)"),
                              (parse_rate, "5/s:foo=1", "not a rate option: 'foo=1' (the only one is ramp=DURATION)"),
                              (parse_rate, "5/s:ramp=1s=2s", "not a duration: '1s=2s'"),
                              (parse_rate, "fast", "not a rate: 'fast' (try 100/s, 6000/m, 100/s:ramp=30s)"),
                              (parse_size, "big", "not a size: 'big' (try 512, 4KiB, 1MiB, 2MB)"),
                              (parse_size, "5XB", "not a size: '5XB'")]:
        with pytest.raises(UsageError) as raised:
            parse(text)
        assert str(raised.value).startswith(says)

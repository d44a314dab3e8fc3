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

"""Results other tools read: the HdrHistogram interval log (--hdr-log)."""

from __future__ import annotations

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader


def interval_counts(path) -> list[int]:
    """The counts of each interval, as HdrHistogram's own log reader reads them."""
    reader = HistogramLogReader(str(path), HdrHistogram(1, 60_000_000, 3))
    counts = []
    while (histogram := reader.get_next_interval_histogram()) is not None:
        counts.append(histogram.get_total_count())
    return counts


def test_the_hdr_log_is_read_back_by_hdrh_and_holds_every_operation(loadtool_cli, server, tmp_path):
    log = tmp_path / "run.hlog"
    out = loadtool_cli("fetch", "/delay/5", "--server", server.base_url, "-d", "2500ms", "-c", "10",
                       "--hdr-log", str(log), "--format", "json")
    assert out.exit_code == 0, out.stderr
    counts = interval_counts(log)
    assert len(counts) >= 3  # one interval a second
    assert sum(counts) == out.json()["ops"]
    assert "#[StartTime: " in log.read_text()


def test_compare_writes_one_hdr_log_per_strategy(loadtool_cli, server, tmp_path):
    out = loadtool_cli("compare", "/delay/5", "--server", server.base_url, "-n", "12", "--strategies",
                       "threads,async", "--hdr-log", str(tmp_path / "cmp.hlog"), "--format", "json")
    assert out.exit_code == 0, out.stderr
    by_strategy = {result["strategy"]: result["ops"] for result in out.json()}
    for strategy, ops in by_strategy.items():
        assert sum(interval_counts(tmp_path / f"cmp.{strategy}.hlog")) == ops


def test_an_unwritable_hdr_log_is_a_usage_error_before_the_run(loadtool_cli, tmp_path):
    out = loadtool_cli("fetch", "-n", "1", "--hdr-log", str(tmp_path / "missing" / "run.hlog"))
    assert out.exit_code == 2 and "--hdr-log" in out.stderr and out.stdout == ""

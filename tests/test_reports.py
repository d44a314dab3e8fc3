"""Reports that never mislead: each summary line true in the cases where it used to say
something false, piped output a program can read, a Result pleasant in a notebook, and
the habits of hey and oha users met with a hint."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace

import pytest

import loadtool
from loadtool.metrics import Sample, Stats
from loadtool.strategies.sizing import find_knee

BOX_DRAWING = re.compile("[\u2500-\u257f]")


def urls_file(tmp_path, server, *paths):
    path = tmp_path / "urls.txt"
    path.write_text("".join(f"{server.base_url}{p}\n" for p in paths))
    return str(path)


# --- one definition of failure ----------------------------------------------------------

def test_a_refused_status_is_failed_in_the_report_the_json_and_the_thresholds(loadtool_cli, server, tmp_path):
    """The issue's example: half the answers are 404. The report, the JSON and --fail-if
    all count them as failed, and none of them calls them errors."""
    targets = urls_file(tmp_path, server, "/health", "/status/404")
    out = loadtool_cli("fetch", "-f", targets, "-n", "10", "--fail-if", "failed>10%")
    assert out.exit_code == 1, out.stderr
    assert re.search(r"^failed\s+5 \(50\.0%\)\s+by status: 404 ×5$", out.stdout, re.M), out.stdout
    assert "failed>10%: failed was 50.00%" in out.stderr
    # No answer was an error: errors>10% holds no more than the report's line says.
    out = loadtool_cli("fetch", "-f", targets, "-n", "10", "--fail-if", "errors>10%", "--format", "json")
    data = out.json()
    assert out.exit_code == 0, out.stderr
    assert data["failed"] == 5 and data["failed_status"] == {"404": 5} and data["errors"] == {}
    assert data["ok"] + data["failed"] == data["ops"]


def test_errors_and_refused_statuses_are_shown_apart(loadtool_cli, server):
    out = loadtool_cli("fetch", f"{server.base_url}/status/503", "-n", "4", "--format", "json")
    assert out.json()["failed_status"] == {"503": 4}
    refused = loadtool_cli("fetch", "http://127.0.0.1:9/", "-n", "3")
    assert re.search(r"^failed\s+3 \(100\.0%\)\s+errors: connect_refused ×3$", refused.stdout, re.M), refused.stdout


def test_the_series_counts_failed_and_errors_as_the_report_does():
    stats = Stats(epoch=1000.0)
    for sample in (Sample(1000, True, 200), Sample(1000, False, 404), Sample(1000, False, error="reset")):
        stats.add(sample, now=1000.5)
    row = Stats.from_wire(stats.to_wire()).series.rows()[0]  # as a worker process hands it over
    assert (row["ops"], row["failed"], row["errors"]) == (3, 2, 1)
    assert (stats.failed, stats.errored, stats.failed_status) == (2, 1, {404: 1})


# --- every summary line true -------------------------------------------------------------

@pytest.mark.parametrize("count, title", [("1", "1 request · 1 connection"), ("2", "2 requests · 2 connections")])
def test_a_tiny_run_says_what_it_ran(loadtool_cli, server, count, title):
    out = loadtool_cli("fetch", "/delay/1", "--server", server.base_url, "-n", count)
    assert title in out.stdout.splitlines()[0]
    assert "ideal 0" not in out.stdout and "(0.0 MB/s)" not in out.stdout


def test_a_run_too_short_for_a_steady_state_is_not_called_client_bound():
    result = loadtool.run(urls="/delay/1", count=5)
    busy = replace(result, cpu_s=result.wall_s, cores=1)
    assert busy.cpu_busy >= 0.9 and not busy.client_bound and "bottleneck" not in str(busy)
    # The same share of CPU over a long run is the client bounding the figures.
    assert replace(busy, wall_s=2.0, cpu_s=2.0).client_bound


def _sent(stats: Stats, due_s: float, sent_s: float, end_s: float) -> None:
    stats.add(Sample(latency_us=int((end_s - due_s) * 1e6), ok=True, status=200,
                     service_us=int((end_s - sent_s) * 1e6)), now=stats.epoch + end_s)


def test_the_rate_sent_leaves_out_the_drain():
    """100 operations due 10 ms apart, the last answered 5 s later: they were sent at
    100/s, though 100 operations over the 6 s the run lasted is 17/s."""
    stats = Stats(epoch=1000.0, open_model=True)
    for index in range(100):
        due = index / 100
        _sent(stats, due, due, due + (5.0 if index == 99 else 0.01))
    assert stats.sent_ops_s == pytest.approx(100, rel=0.01)
    late = Stats(epoch=1000.0, open_model=True)
    for index in range(100):  # sent ever later: the last 1 s after it was due
        due = index / 100
        _sent(late, due, due + index / 99, due + index / 99 + 0.01)
    assert late.sent_ops_s == pytest.approx(50, rel=0.02)
    assert Stats().sent_ops_s is None


def test_an_open_model_report_gives_the_rate_it_sent(loadtool_cli, server):
    out = loadtool_cli("fetch", "/delay/200", "--server", server.base_url, "-d", "1s", "-r", "40/s",
                       "--format", "json")
    data = out.json()
    # Every answer takes 200 ms, so the run lasts about 1.2 s: ops / wall would say 33/s.
    assert data["sent_ops_s"] == pytest.approx(40, rel=0.15)


def test_a_sweep_that_finds_no_knee_marks_none(loadtool_cli, server):
    # 4x the concurrency on a 50 ms endpoint: 4x the throughput, so only a stall of 300 ms
    # on a loaded machine could make it look flat (at 1 and 2 over 20 ms, 85 ms did, once).
    sweep = ("sweep", "/delay/50", "--server", server.base_url, "-c", "1,4", "-n", "8", "--p99-max", "10s",
             "--min-gain", "1%")
    out = loadtool_cli(*sweep)
    assert "no knee: throughput still rising at 4" in out.stdout and "◀ knee" not in out.stdout
    csv = loadtool_cli(*sweep, "--format", "csv").stdout
    assert not [line for line in csv.splitlines()[1:] if line.endswith(",yes")]


def test_close_levels_are_judged_a_doubling_apart():
    """Levels 1..64 a step apart: noise between 47 and 48, stretched to a doubling, once read
    as +230,000,000%. Each level is judged against the one at half its concurrency."""
    noisy = [(c, min(c, 16) * 100 * (1.05 if c % 2 else 0.95), 10.0) for c in range(1, 65)]
    knee = find_knee(noisy, min_gain=0.10, p99_max_ms=1000)
    assert knee.found and 8 <= knee.concurrency <= 16


def test_baseline_deltas_are_printed_and_an_unlike_baseline_is_named(loadtool_cli, server, tmp_path):
    baseline = tmp_path / "base.json"
    loadtool_cli("fetch", "/page/{i}", "--server", server.base_url, "-n", "20", "-o", str(baseline),
                 "--format", "json", "-q")
    same = loadtool_cli("fetch", "/page/{i}", "--server", server.base_url, "-n", "20", "--baseline", str(baseline))
    assert same.exit_code == 0 and "against the baseline" in same.stderr and "p99" in same.stderr
    assert "another job" not in same.stderr
    other = loadtool_cli("fetch", "/delay/20", "--server", server.base_url, "-n", "20", "--baseline", str(baseline))
    assert "warning: the baseline measured another job" in other.stderr and "/page/{i}" in other.stderr


# --- output a program can read ---------------------------------------------------------------

def test_piped_compare_has_plain_columns_without_trailing_spaces():
    """``loadtool compare … | cat``: a real pipe, a real process."""
    out = subprocess.run([sys.executable, "-m", "loadtool", "compare", "-n", "6", "/delay/5",
                          "--strategies", "sequential,threads,async"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert not BOX_DRAWING.search(out.stdout)
    assert not [line for line in lines if line != line.rstrip()]
    header = next(line for line in lines if line.startswith("strategy"))
    rows = [line for line in lines if line.split(" ", 1)[0] in ("sequential", "threads", "async")]
    assert len(rows) == 3
    # Aligned: every row's last column ends where the header's does.
    assert {len(row) for row in rows} == {len(header)}


def test_piped_sweep_and_plan_have_no_box_lines(loadtool_cli, server):
    sweep = loadtool_cli("sweep", "/delay/5", "--server", server.base_url, "-c", "1,2", "-n", "4")
    assert sweep.exit_code == 0 and not BOX_DRAWING.search(sweep.stdout)
    assert sweep.stdout.splitlines()[0].startswith("loadtool sweep")  # the title on its own line


# --- the library ---------------------------------------------------------------------------------

def test_a_result_reads_well_in_a_repl_and_a_notebook():
    result = loadtool.run(urls="/delay/5", count=20)  # a string is one URL
    assert result.ops == 20 and result.ok == 20
    text = repr(result)
    assert "\n" not in text and len(text) < 200 and "20/20 ok" in text
    assert str(result).startswith("loadtool fetch · async") and "latency" in str(result)
    html = result._repr_html_()
    assert html.startswith("<table>") and "<th" in html and "p99" in html
    assert json.loads(result.to_json()) == json.loads(json.dumps(result.to_dict()))
    # Every answer waited 5 ms: percentiles from there, rising, up to the slowest.
    assert 5 <= result.percentile(50) <= result.percentile(99.9) <= result.latency_ms["max"]


def test_run_has_a_signature_and_refuses_a_positional_url():
    import inspect

    for function in (loadtool.run, loadtool.arun):
        parameters = inspect.signature(function).parameters
        assert {"urls", "count", "concurrency", "strategy", "rate"} <= set(parameters)
        assert parameters["count"].kind is inspect.Parameter.KEYWORD_ONLY
    with pytest.raises(TypeError, match=r"by keyword: loadtool.run\(urls='http://127.0.0.1:9/'\)"):
        loadtool.run("http://127.0.0.1:9/")


def test_worker_processes_and_their_helpers_are_reaped_before_exit(tmp_path):
    """The fork server and resource tracker of processes/hybrid are waited for at exit, so
    nothing of the run outlives it as a zombie."""
    psutil = pytest.importorskip("psutil")
    script = ("import multiprocessing.forkserver as f, multiprocessing.resource_tracker as r, loadtool\n"
              "loadtool.run(urls='/delay/1', count=4, strategy='processes', processes=2)\n"
              "print(f._forkserver._forkserver_pid, r._resource_tracker._pid)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for pid in map(int, out.stdout.split()):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).ppid() != 1


# --- habits of other tools -------------------------------------------------------------------------

@pytest.mark.parametrize("args, hint", [
    (["-q", "10"], "-r 10/s"),
    (["-d", '{"a":1}'], "--body '{\"a\":1}'"),
    (["-z", "10s"], "--duration"),
    (["-T", "application/json"], "Content-Type"),
    (["-m", "POST", "-d", "body"], "--body 'body'"),
    (["--http2"], "--http 2"),
    (["--disable-keepalive"], "--no-keepalive"),
])
def test_hey_and_oha_habits_get_a_hint_on_the_first_line(loadtool_cli, args, hint):
    out = loadtool_cli("fetch", *args, "-n", "2")
    assert out.exit_code == 2
    lines = out.stderr.splitlines()
    assert len(lines) == 2 and hint in lines[0] and "as typed" in lines[1], lines


def test_help_is_grouped_and_fits_each_command(loadtool_cli):
    fetch = loadtool_cli("fetch", "--help").stdout
    for heading in ("Strategy:", "How much:", "Requests:", "HTTP client, TLS and proxies:", "Report, thresholds"):
        assert f"\n{heading}" in fetch
    read = loadtool_cli("read", "--help").stdout
    assert "Reading files:" in read and "--engine" not in read and "--header" not in read
    assert "1010 on the fixture server" not in read and "Files to read" in read
    compare = loadtool_cli("compare", "--help").stdout
    assert "Requests (not with --read):" in compare and "Reading files (with --read):" in compare
    assert re.search(r"--strategy processes\s+and\s+hybrid", fetch)  # -p applies to both


def test_the_series_estimates_operations_in_flight_by_littles_law():
    stats = Stats(epoch=1000.0)
    for _ in range(100):  # 100 operations of 50 ms ended in second 3: 5 in flight on average
        stats.add(Sample(50_000, True, 200), now=1003.5)
    assert stats.series.concurrency(3) == pytest.approx(5, rel=0.01)
    assert stats.series.concurrency(4) == 0.0


# --- 80 columns ---------------------------------------------------------------------------------

def test_compare_sweep_and_a_run_fit_80_columns_and_cut_no_value(server):
    """rich would cut cells to fit (``thre…``); loadtool's tables choose a narrower layout,
    then leave out optional columns (naming them), and a run's summary wraps between items."""
    from loadtool.plan.experiments import compare, sweep
    from loadtool.job import Job
    from loadtool.report.text import sweep_table, table
    from loadtool.report.text import COLUMNS
    from test_plan import rendered_at

    job = Job.build(urls=["/delay/1"], server=server.base_url, count=20, concurrency=4)
    compared = compare(job, ("sequential", "threads", "async"))
    swept = sweep(job, (1, 2, 4))
    for renderable, results in ((table(compared), compared), (sweep_table(swept.results, swept.knee), swept.results),
                                (table(compared[-1:]), compared[-1:])):
        lines = rendered_at(80, renderable)
        assert max(map(len, lines)) <= 80 and not any("…" in line for line in lines), "\n".join(lines)
        shown = "\n".join(lines)
        for result in results:
            assert f"{result.throughput_ops_s:,.0f}" in shown
    single = rendered_at(80, table(compared[-1:]))
    latency = [line for line in single if line.startswith("latency") or line.startswith(" " * 8)]
    items = [item for line in latency for item in line.split("   ") if item.strip()]
    assert any(item.strip().startswith("p99.9 ") for item in items)  # the name and its value on one line
    header = next(line for line in rendered_at(80, table(compared)) if line.startswith("strategy"))
    assert len(header.split()) < len(COLUMNS)  # some left out at 80 columns ...
    assert "speed-up" in header  # ... never the lesson of compare


@pytest.mark.parametrize("count, flag, drawn", [(1000, None, False), (1001, None, True), (10, "--histogram", True),
                                                (1001, "--no-histogram", False)])
def test_the_latency_bars_are_drawn_for_runs_over_1000_operations_unless_told(loadtool_cli, server, count, flag,
                                                                              drawn):
    out = loadtool_cli("fetch", "/health", "--server", server.base_url, "-n", str(count), "-e", "fast",
                       *([flag] if flag else []))
    assert out.exit_code == 0 and ("latency histogram" in out.stdout) == drawn


def test_statuses_read_in_the_order_of_their_codes():
    """Ordered by count, a crawl's '404 ×99  301 ×94' and the next run's '301 ×96  404 ×90'
    read as different reports."""
    from loadtool.report.text import statuses

    assert statuses({404: 99, 200: 1807, 301: 94}) == "200 ×1,807  301 ×94  404 ×99"
    assert statuses({}) == "none"


@pytest.mark.parametrize("options", [
    dict(urls=["/page/{i}"], count=1200),  # over HISTOGRAM_OVER: the histogram is shown
    dict(urls=["/status/503", "/page/1"], count=40, strategy="threads", retries=1),
    dict(urls=["/page/{i}"], count=12, checks=["status == 200", 'body ~ "zzz"']),
    dict(urls=["/fault/reset", "/fault/garbage", "/page/3"], count=9, engine="fast"),
], ids=["histogram", "refused-retried", "checks", "errors"])
def test_the_plain_report_without_rich_is_the_plain_text_rich_draws(server, options):
    """Piped, the usual report is written without rich (text.plain_report): the same bytes as
    rich's plain text of the same result, the histogram shown, hidden or by count."""
    from loadtool.report.text import plain_report, plain_text, table

    result = loadtool.run(server=server.base_url, concurrency=4, **options)
    for histogram in (None, True, False):
        assert plain_report([result], histogram) == plain_text(table([result], histogram))
    assert plain_report([result, result]) is None  # several: a table, drawn by rich


def test_a_piped_fetch_imports_no_rich(server):
    probe = ("import sys\nfrom loadtool.cli import cli\n"
             f"cli.main(['fetch', '{server.url('/page/1')}', '-n', '3', '--no-progress'], standalone_mode=False)\n"
             "print(sorted(name for name in sys.modules if name.split('.')[0] == 'rich'))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert "loadtool fetch" in run.stdout and run.stdout.strip().splitlines()[-1] == "[]"

"""Results other tools read: the HdrHistogram interval log (--hdr-log), raw records (--raw)."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader


def interval_counts(path, tag: str = "latency") -> list[int]:
    """The counts of each interval tagged ``tag``, as HdrHistogram's own log reader reads them."""
    reader = HistogramLogReader(str(path), HdrHistogram(1, 60_000_000, 3))
    counts = []
    while (histogram := reader.get_next_interval_histogram()) is not None:
        if histogram.get_tag() == tag:
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
    assert interval_counts(log, "service") == []  # closed model: latency is the service time


def test_the_open_model_logs_service_time_beside_latency(loadtool_cli, server, tmp_path):
    log = tmp_path / "open.hlog"
    out = loadtool_cli("fetch", "/delay/5", "--server", server.base_url, "-d", "2s", "-r", "50/s",
                       "--hdr-log", str(log), "--format", "json")
    ops = out.json()["ops"]
    assert sum(interval_counts(log, "latency")) == ops == sum(interval_counts(log, "service"))


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


# --- raw records ----------------------------------------------------------------------------

def read_csv(path) -> list[dict]:
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("strategy", ["sequential", "threads", "processes", "async", "hybrid"])
def test_raw_has_one_record_per_operation_from_every_strategy(loadtool_cli, server, tmp_path, strategy):
    raw = tmp_path / "raw.csv"
    out = loadtool_cli("fetch", "/delay/1", "--server", server.base_url, "-n", "40", "-c", "4", "-s", strategy,
                       "--raw", str(raw), "--format", "json")
    assert out.exit_code == 0, out.stderr
    rows = read_csv(raw)
    assert sorted(int(row["index"]) for row in rows) == list(range(40)) == list(range(out.json()["ops"]))
    assert {row["status"] for row in rows} == {"200"}
    # Phases ride along where the engine measured them: every answer waited for its first byte.
    assert all(float(row["wait_ms"]) > 0 for row in rows)


def test_compare_and_sweep_write_one_raw_file_with_the_run_named(loadtool_cli, server, tmp_path):
    raw = tmp_path / "compare.jsonl"
    out = loadtool_cli("compare", "/delay/1", "--server", server.base_url, "-n", "10", "--strategies",
                       "threads,async", "--raw", str(raw), "--format", "json")
    assert out.exit_code == 0, out.stderr
    records = [json.loads(line) for line in raw.read_text().splitlines()]
    assert Counter(record["run"] for record in records) == {"threads": 10, "async": 10}
    raw = tmp_path / "sweep.csv"
    loadtool_cli("sweep", "/delay/1", "--server", server.base_url, "-c", "1,2", "-n", "6", "--raw", str(raw))
    assert Counter(row["run"] for row in read_csv(raw)) == {"c1": 6, "c2": 6}


# --- live Prometheus metrics ---------------------------------------------------------------------

def scrape(url: str) -> dict[str, float]:
    """The samples of a scrape, parsed by prometheus_client's own parser, by name and labels."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    return {key(sample.name, **sample.labels): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def key(name: str, **labels: str) -> str:
    return f"{name}{sorted(labels.items())}"


def test_prometheus_serves_the_run_live_and_its_final_counts_after(server, tmp_path):
    import signal
    import subprocess
    import sys

    result = tmp_path / "result.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "loadtool", "fetch", "/delay/20", "--server", server.base_url, "-d", "3s", "-c", "5",
         "--prometheus", "127.0.0.1:0", "--linger", "60s", "-o", str(result), "--format", "json", "-q"],
        stderr=subprocess.PIPE, text=True)
    try:
        first = process.stderr.readline()  # printed once the metrics server listens, before the run
        assert first.startswith("loadtool: metrics at http://127.0.0.1:"), first
        url = first.split(" at ", 1)[1].strip()
        run = {"concurrency": "5", "strategy": "async"}
        # Mid-run: the server is up before the run starts; scrape until the run has counted
        # something (bounded: a 3 s run).
        for _ in range(200):
            live = scrape(url)
            if live.get(key("loadtool_operations_total", **run)):
                break
        assert live[key("loadtool_running", **run)] == 1.0
        assert live[key("loadtool_in_flight_limit", **run)] == 5.0
        assert live[key("loadtool_latency_seconds_count", **run)] == live[key("loadtool_operations_total", **run)]
        assert process.stderr.readline().startswith("loadtool: metrics stay at")  # the run is over
        final = scrape(url)
        ops = json.loads(result.read_text())["ops"]
        assert final[key("loadtool_operations_total", **run)] == ops > live[key("loadtool_operations_total", **run)]
        assert final[key("loadtool_running", **run)] == 0.0 == final[key("loadtool_in_flight", **run)]
        assert final[key("loadtool_responses_total", status="200", **run)] == ops
        assert final[key("loadtool_latency_seconds_bucket", le="+Inf", **run)] == ops
        process.send_signal(signal.SIGTERM)  # ends --linger early, and the command exits cleanly
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()


def test_linger_without_prometheus_is_a_usage_error(loadtool_cli):
    out = loadtool_cli("fetch", "-n", "1", "--linger", "5s")
    assert out.exit_code == 2 and "--prometheus" in out.stderr


# --- the HTML report ----------------------------------------------------------------------------

def chromium() -> str:
    """Chromium's path, for the render test: an extra that the structural test below stands in
    for everywhere (apt-get install chromium to run it)."""
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("no Chromium on this machine (apt-get install chromium): the page is not rendered here; "
                "test_the_html_report_is_self_contained_and_charts_the_runs_figures checked its content")


def figures_of(page: str) -> list[tuple[list, dict]]:
    """The (traces, layout) of every chart a page draws, read from its Plotly.newPlot calls."""
    decoder, figures = json.JSONDecoder(), []
    for call in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', page):
        traces, end = decoder.raw_decode(page, call.end())
        layout, _ = decoder.raw_decode(page, page.index("{", end))
        figures.append((traces, layout))
    return figures


def test_the_html_report_is_self_contained_and_charts_the_runs_figures(loadtool_cli, server, tmp_path):
    """What the page draws, checked without a browser: plotly's script inline (it opens with no
    network), every chart's data parses, and the figures are the run's own."""
    pytest.importorskip("plotly")
    page = tmp_path / "report.html"
    out = loadtool_cli("fetch", "/page/{i}", "--server", server.base_url, "-n", "200", "--html", str(page),
                       "--format", "json")
    assert out.exit_code == 0, out.stderr
    text, result = page.read_text(), out.json()
    assert "<script src=" not in text and text.count("Plotly.newPlot") >= 2 and "plotly.js v" in text
    figures = figures_of(text)
    assert len(figures) == text.count("Plotly.newPlot") and all(traces for traces, _ in figures)
    curve = figures[0][0][0]  # latency by percentile: its last point is the run's max
    assert max(curve["y"]) == pytest.approx(result["latency_ms"]["max"], rel=0.01)
    statuses = next(traces for traces, _ in figures if traces[0].get("type") == "bar")
    assert dict(zip(statuses[0]["x"], statuses[0]["y"])) == {f"status {code}": n for code, n in result["status"].items()}
    p99 = re.search(r'class="p99"[^>]*data-ms="([0-9.]+)"', text)
    assert p99 and float(p99.group(1)) == result["latency_ms"]["p99"]


def render(path) -> tuple[str, str]:
    """The DOM of ``path`` after headless Chromium ran its scripts, and Chromium's stderr."""
    import subprocess

    run = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                          "--virtual-time-budget=10000", "--dump-dom", path.as_uri()],
                         capture_output=True, text=True, timeout=120)
    return run.stdout, run.stderr


def errors_of(dom: str) -> str:
    """The script errors the page marked on its body (empty when none)."""
    found = re.search(r'<body[^>]*data-errors="([^"]*)"', dom)
    return found.group(1) if found else ""


def test_the_html_report_renders_in_chromium_without_errors_and_shows_the_jsons_p99(loadtool_cli, server, tmp_path):
    pytest.importorskip("plotly")
    page = tmp_path / "report.html"
    out = loadtool_cli("fetch", "/page/{i}", "--server", server.base_url, "-n", "200", "--html", str(page),
                       "--format", "json")
    assert out.exit_code == 0, out.stderr
    text = page.read_text()
    assert "<script src=" not in text  # self-contained: plotly's JavaScript is in the page
    dom, log = render(page)
    assert dom.count('class="main-svg"') >= 3  # plotly drew the charts
    assert not errors_of(dom) and "Uncaught" not in log
    p99 = re.search(r'class="p99"[^>]*data-ms="([0-9.]+)"', dom)
    assert p99 and float(p99.group(1)) == out.json()["latency_ms"]["p99"]
    # The check itself works: a page with a broken script is caught.
    broken = tmp_path / "broken.html"
    broken.write_text(text.replace("</body>", "<script>noSuchFunction()</script></body>"))
    assert "noSuchFunction" in errors_of(render(broken)[0])


def test_compare_and_sweep_html_reports_show_every_run(loadtool_cli, server, tmp_path):
    pytest.importorskip("plotly")
    page = tmp_path / "compare.html"
    loadtool_cli("compare", "/delay/5", "--server", server.base_url, "-n", "10", "--strategies", "threads,async",
                 "--html", str(page))
    text = page.read_text()
    assert 'data-strategy="threads"' in text and 'data-strategy="async"' in text and "too short" in text
    page = tmp_path / "sweep.html"
    loadtool_cli("sweep", "/delay/5", "--server", server.base_url, "-c", "1,2", "-n", "6", "--html", str(page))
    assert "Throughput and p99 against concurrency" in page.read_text()

"""Where the time went: per-phase timing in every engine, p75/p95 and any percentile, histogram bars."""

from __future__ import annotations

import re

import pytest

import loadtool

ENGINES = [("threads", None), ("async", "aiohttp"), ("async", "fast"), ("async", "curl")]
IDS = ["requests", "aiohttp", "fast", "curl"]


@pytest.mark.parametrize("strategy, engine", ENGINES, ids=IDS)
def test_the_wait_phase_is_the_servers_delay_and_connect_only_new_connections(server, strategy, engine):
    options = {"engine": engine} if engine else {}
    result = loadtool.run(urls=["/delay/100"], server=server.base_url, count=20, concurrency=4, strategy=strategy,
                          **options)
    phases = result.stats.phases_ms()
    assert phases["wait"]["p50"] == pytest.approx(100, rel=0.10)
    assert phases["wait"]["count"] == phases["read"]["count"] == 20
    assert phases["connect"]["count"] == 4  # one per connection opened, none for the 16 reuses
    assert "tls" not in phases  # plain http: absent, never zero
    assert set(phases) <= {"dns", "connect", "tls", "send", "wait", "read"}


def test_no_phases_turns_them_off(server):
    result = loadtool.run(urls=["/health"], server=server.base_url, count=5, engine="fast", no_phases=True)
    assert result.stats.phases_ms() == {} and result.to_dict()["phases_ms"] == {}


def test_phases_travel_from_worker_processes(server):
    result = loadtool.run(urls=["/delay/5"], server=server.base_url, count=40, concurrency=4, strategy="hybrid",
                          processes=2, engine="fast")
    assert result.stats.phases_ms()["wait"]["count"] == 40


def test_the_text_report_has_a_phases_line(loadtool_cli, server):
    out = loadtool_cli("fetch", "/delay/20", "--server", server.base_url, "-n", "8", "-c", "2", "-e", "fast")
    line = next(line for line in out.stdout.splitlines() if line.startswith("phases"))
    assert "connect" in line and "(2)" in line
    # The server waits 20 ms before answering: the wait phase holds it (19.9 ms is seen, as the
    # server's clock starts a little after the request is sent).
    wait_ms = float(re.search(r"wait ([\d.]+)ms", line).group(1))
    assert 18 <= wait_ms < 1000, line


def test_any_percentile_comes_from_the_histogram(server):
    result = loadtool.run(urls=["/page/{i}"], server=server.base_url, count=200, concurrency=20)
    latency = result.latency_ms
    assert result.percentile(50) == latency["p50"] and result.percentile(95) == latency["p95"]
    assert latency["p50"] <= latency["p75"] <= latency["p90"] <= latency["p95"] <= latency["p99"]
    assert latency["p999"] <= result.percentile(99.99) <= latency["max"]
    with pytest.raises(ValueError):
        result.percentile(101)


def test_p75_and_p95_work_in_thresholds(loadtool_cli, server):
    out = loadtool_cli("fetch", "/delay/10", "--server", server.base_url, "-n", "10", "--fail-if", "p95<1ms",
                       "--fail-if", "p75>5s")
    assert out.exit_code == 0
    out = loadtool_cli("fetch", "/delay/10", "--server", server.base_url, "-n", "10", "--fail-if", "p95>1ms")
    assert out.exit_code == 1 and "p95>1ms" in out.stderr


def test_histogram_bars_show_for_long_runs_and_on_request(loadtool_cli, server):
    short = loadtool_cli("fetch", "/health", "--server", server.base_url, "-n", "20")
    assert "latency histogram" not in short.stdout
    asked = loadtool_cli("fetch", "/page/{i}", "--server", server.base_url, "-n", "50", "--histogram")
    bars = asked.stdout.split("latency histogram", 1)[1].strip().splitlines()[1:]
    assert len(bars) == 10 and sum(int(bar.split("[")[1].split("]")[0]) for bar in bars) == 50
    long = loadtool_cli("fetch", "/health", "--server", server.base_url, "-n", "1500", "-c", "50", "--no-histogram")
    assert "latency histogram" not in long.stdout

"""Habits from hey, oha, vegeta and k6, typed as shown: each does what was meant, or exits 2
with what to type instead on the first line — never a run that quietly measures something
else (the fixture site instead of piped URLs, a table in a file called ``json``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

import loadtool


def _loadtool(*args: str, stdin: str) -> subprocess.CompletedProcess:
    """loadtool as a shell runs it, with ``stdin`` piped in (a real pipe, as ``echo … |`` makes)."""
    return subprocess.run([sys.executable, "-m", "loadtool", *args], input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_urls_piped_in_are_fetched_not_the_fixture_site(server):
    out = _loadtool("fetch", "-n", "6", "--format", "json", stdin=f"{server.base_url}/status/201\n")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == {"201": 6} and "from standard input" in out.stderr


def test_requests_piped_in_as_vegeta_writes_them_are_read_as_requests(server):
    piped = f"GET {server.base_url}/status/202\n\nDELETE {server.base_url}/echo\n"
    out = _loadtool("fetch", "-n", "4", "--format", "json", stdin=piped)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == {"200": 2, "202": 2}


def test_a_dash_reads_standard_input(loadtool_cli, server):
    out = loadtool_cli("fetch", "-", "-n", "3", "--format", "json", input=f"{server.base_url}/status/203\n")
    assert out.exit_code == 0, out.stderr
    assert out.json()["status"] == {"203": 3}


@pytest.mark.parametrize("args, first_line", [
    (["-f", "-"], "--targets -"),  # requests given as a URL list
    (["-o", "json"], "--format json"),
    (["-o", "csv"], "--format csv"),
])
def test_a_habit_that_would_run_the_wrong_job_is_refused_with_the_fix_first(loadtool_cli, server, tmp_path,
                                                                              monkeypatch, args, first_line):
    monkeypatch.chdir(tmp_path)
    out = loadtool_cli("fetch", *args, "-n", "2", input=f"GET {server.base_url}/health\n")
    assert out.exit_code == 2 and first_line in out.stderr.splitlines()[0], out.stderr
    assert not (tmp_path / "json").exists() and not (tmp_path / "csv").exists()


@pytest.mark.parametrize("relative", [True, False])
def test_a_file_given_as_a_url_points_to_f(loadtool_cli, tmp_path, monkeypatch, relative):
    listing = tmp_path / "urls.txt"
    listing.write_text("http://127.0.0.1:1/\n")
    monkeypatch.chdir(tmp_path)
    out = loadtool_cli("fetch", "urls.txt" if relative else str(listing))
    assert out.exit_code == 2 and "-f " in out.stderr.splitlines()[0] and "a file" in out.stderr


def test_the_format_follows_the_output_files_extension(loadtool_cli, server, tmp_path):
    out = loadtool_cli("fetch", f"{server.base_url}/health", "-n", "2", "-o", str(tmp_path / "run.json"))
    assert out.exit_code == 0 and out.stdout.startswith("loadtool fetch")  # stdout keeps the table
    assert json.loads((tmp_path / "run.json").read_text())["ops"] == 2
    loadtool_cli("fetch", f"{server.base_url}/health", "-n", "2", "-o", str(tmp_path / "run.csv"))
    assert (tmp_path / "run.csv").read_text().startswith("strategy,")


def test_http_2_alone_picks_the_engine_that_speaks_it(loadtool_cli, server):
    # The fixture speaks HTTP/1.1 only, so the answers fail as protocol errors — from curl,
    # where before the run was refused with "--http 2 needs --engine curl".
    out = loadtool_cli("fetch", f"{server.base_url}/health", "--http", "2", "-n", "2", "--format", "json")
    assert out.json()["job"]["engine"] == "curl" and "needs --engine" not in out.stderr


def test_one_of_a_thing_is_not_several(loadtool_cli, server, tmp_path):
    read = loadtool_cli("read", "-n", "1")
    assert "· 1 file ·" in read.stdout and "1 file listed" in read.stdout
    assert not re.search(r"\b1 (files|pages|URLs|requests)\b", read.stdout)
    crawl = loadtool_cli("crawl", "--server", server.base_url, "-n", "1")
    assert "· 1 page ·" in crawl.stdout and not re.search(r"\b1 pages\b", crawl.stdout)


@pytest.mark.parametrize("args, first_line", [
    (["-t2", "-c10", "-d2s"], "for wrk's -t (threads) use --processes (-p) 2"),
    (["-t", "2"], "-t is --timeout here, a time such as -t 2s"),
    (["--grace", "3"], "--grace '3' has no unit: write 3s or 3ms"),
    (["-d", "0s"], "--duration must be a duration above 0"),
])
def test_a_time_is_read_with_its_unit_and_wrks_threads_get_a_hint(loadtool_cli, server, args, first_line):
    out = loadtool_cli("fetch", f"{server.base_url}/health", *args)
    assert out.exit_code == 2 and first_line in out.stderr.splitlines()[0], out.stderr


def test_a_k6_style_threshold_says_which_way_fail_if_reads(loadtool_cli, server):
    out = loadtool_cli("fetch", f"{server.base_url}/health", "-n", "20", "-q", "--fail-if", "p95<20s",
                       "--fail-if", "p95>1h")
    lines = [line for line in out.stderr.splitlines() if "threshold failed" in line]
    assert out.exit_code == 1 and len(lines) == 1, out.stderr
    assert "k6's thresholds say when to pass: for k6's 'p95<20s' write --fail-if 'p95>=20s'" in lines[0]


def test_the_fixture_servers_root_lists_its_endpoints(loadtool_cli, server):
    out = loadtool_cli("fetch", f"{server.base_url}/", "-n", "2", "--format", "json")
    assert out.exit_code == 0 and out.json()["status"] == {"200": 2}
    import urllib.request

    with urllib.request.urlopen(f"{server.base_url}/", timeout=10) as answer:
        listed = json.loads(answer.read())["loadtool fixture server"]
    assert "/delay/{ms}" in listed and "/page/{i}" in listed


def test_a_run_too_short_to_judge_gives_no_advice_and_counts_read_with_separators(server):
    from dataclasses import replace

    from loadtool.report.text import summary_lines

    result = loadtool.run(urls=[f"{server.base_url}/health"], count=1500, concurrency=50)
    assert "200 ×1,500" in dict(summary_lines(result))["status"]

    def advice(wall_s: float) -> str:
        busy = replace(result, wall_s=wall_s, cpu_s=0.95 * wall_s)  # the client busy nearly all of it
        return dict(summary_lines(busy))["client CPU"]
    assert "try" not in advice(0.019) and "try" in advice(2.0)


def test_small_bodies_come_as_they_are_as_from_real_servers(loadtool_cli, server):
    small = loadtool_cli("fetch", f"{server.base_url}/status/418", "-n", "2", "--ok-status", "418", "--format",
                         "json").json()
    page = loadtool_cli("fetch", f"{server.base_url}/page/1", "-n", "2", "--format", "json").json()
    assert small["compressed"] == 0 and page["compressed"] == 2


def test_http_2_from_a_server_that_speaks_only_1_1_is_the_wrong_protocol(loadtool_cli, server):
    out = loadtool_cli("fetch", f"{server.base_url}/health", "--http", "2", "-n", "2", "--format", "json")
    assert out.json()["errors"] == {"wrong_protocol": 2}

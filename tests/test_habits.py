"""Habits from hey, oha, vegeta and k6, typed as shown: each does what was meant, or exits 2
with what to type instead on the first line — never a run that quietly measures something
else (the fixture site instead of piped URLs, a table in a file called ``json``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest


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


def test_plan_o_writes_the_file_and_shows_the_table(loadtool_cli, tmp_path):
    out = loadtool_cli("plan", "--pages", "1000", "--pilot", "2s", "--profile", "api", "--no-progress",
                       "-o", str(tmp_path / "plan.json"))
    assert out.exit_code == 0, out.stderr
    assert json.loads((tmp_path / "plan.json").read_text())["schema"] == "loadtool.plan/1"
    assert out.stdout.startswith("loadtool plan") and "{" not in out.stdout.splitlines()[0]


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

"""Same fault, same answer: every misbehaving server gets the same answer from every engine.

One run per strategy and engine does every misbehaviour of the conformance server
(``conformance.py``) twice, with --raw records telling what each operation got. Every
run must count every operation, give each misbehaviour its expected status or error
kind, end every operation by its deadline, and print no traceback.
"""

from __future__ import annotations

import collections
import json

import pytest

import loadtool
from loadtool.options import DEFAULTS
from loadtool.units import parse_duration
from conformance import EXPECTED, MAX_DECODED, TIMEOUT_S, WHAT, ConformanceServer
from loadtool.report.raw import RawWriter
from loadtool.engines import curl
from loadtool.runner import measure

COMBOS = [("sequential", None), ("threads", None), ("processes", None), ("async", "aiohttp"), ("async", "fast"),
          ("async", "curl"), ("hybrid", "aiohttp"), ("hybrid", "fast"), ("hybrid", "curl")]
CONNECT_TIMEOUT_S = 0.5
#: How far past its deadline an operation may end, as a share of it: the fast engine sweeps
#: every 50 ms, and a loaded machine adds its own delays; one that kept no deadline would end
#: with the server's trickle, at six times it.
LATE_BY = 0.75
REPEATS = 2


@pytest.fixture(scope="module")
def conformance():
    with ConformanceServer() as server:
        yield server


def run_with_records(tmp_path, **options) -> tuple[loadtool.Result, list[dict]]:
    """Run a job with --raw records; returns its Result and the records."""
    path = tmp_path / "records.jsonl"
    writer = RawWriter(str(path))
    try:
        result = measure(loadtool.Job.build(**options), raw=writer.put, handle_signals=False)
    finally:
        writer.close()
    return result, [json.loads(line) for line in path.read_text().splitlines()]


def _behaviour(record: dict) -> str:
    return record["target"].split("/b/", 1)[1]


def _answer(record: dict) -> tuple[str, object]:
    return ("error", record["error"]) if record["error"] else ("status", record["status"])


@pytest.mark.parametrize("strategy, engine", COMBOS, ids=[f"{s}-{e or 'requests'}" for s, e in COMBOS])
def test_every_misbehaviour_gets_the_same_answer(conformance, tmp_path, capfd, strategy, engine):
    _every_misbehaviour(conformance, tmp_path, capfd, strategy, engine)


@pytest.mark.skipif(curl.Hooks is None, reason="the curl engine's C callbacks are not built here")
def test_the_curl_engine_answers_the_same_through_pycurls_python_callbacks(conformance, tmp_path, capfd,
                                                                           monkeypatch):
    """The curl engine reads heads and bodies through C callbacks (engines/curlhooks.pyx) where
    they are built, and through pycurl's Python ones where not: the same answer either way."""
    monkeypatch.setattr(curl, "Hooks", None)
    _every_misbehaviour(conformance, tmp_path, capfd, "async", "curl")


def _every_misbehaviour(conformance, tmp_path, capfd, strategy: str, engine: str | None) -> None:
    names = sorted(EXPECTED)
    # Sequential does its timeouts one after another: once each is enough there.
    repeats = 1 if strategy == "sequential" else REPEATS
    count = len(names) * repeats
    options = dict(urls=[conformance.url(name) for name in names], count=count, concurrency=8, strategy=strategy,
                   timeout=TIMEOUT_S, connect_timeout=CONNECT_TIMEOUT_S, max_decoded=MAX_DECODED)
    if engine:
        options["engine"] = engine
    if strategy in ("processes", "hybrid"):
        options["processes"] = 8 if strategy == "processes" else 2
    result, records = run_with_records(tmp_path, **options)

    assert result.ops == count and len(records) == count
    got = collections.defaultdict(collections.Counter)
    for record in records:
        got[_behaviour(record)][_answer(record)] += 1
    wrong = {name: dict(got[name]) for name in names if got[name] != {EXPECTED[name]: repeats}}
    assert wrong == {}, "\n".join(f"{name}: expected {EXPECTED[name]}, got {answers}"
                                  for name, answers in wrong.items())
    late = [(_behaviour(r), r["latency_ms"]) for r in records if r["latency_ms"] > TIMEOUT_S * (1 + LATE_BY) * 1000]
    assert late == []
    assert result.stats.attempts == result.ops  # replays of stale connections are not retries
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("concurrency, count", [(1, 40), (32, 320)], ids=["one", "32"])
@pytest.mark.parametrize("strategy, engine", COMBOS[:1] + COMBOS[3:6], ids=["requests", "aiohttp", "fast", "curl"])
def test_a_stale_kept_alive_connection_is_replayed_not_failed(conformance, tmp_path, strategy, engine, concurrency,
                                                              count):
    """The server closes each connection right after answering, as if its keep-alive timer ran
    out: a request sent on it meanwhile meets a dead connection, and is sent once more — on a
    new connection, as many in flight leave others in the pool as dead (aiohttp's own second
    try, and libcurl's reuse, took one of them: 21 and 14 of 800 failed at 32 in flight)."""
    options = dict(urls=[conformance.url("keepalive-then-close"), conformance.url("reset-between")], count=count,
                   concurrency=concurrency, strategy=strategy, timeout=TIMEOUT_S)
    if engine:
        options["engine"] = engine
    result, _ = run_with_records(tmp_path, **options)
    assert result.ok == count and dict(result.stats.errors) == {} and result.stats.attempts == count


@pytest.mark.parametrize("strategy, engine", COMBOS, ids=[f"{s}-{e or 'requests'}" for s, e in COMBOS])
def test_no_keepalive_opens_a_connection_for_every_request(conformance, tmp_path, strategy, engine):
    """--no-keepalive: every request on a connection of its own, counted by the server — which
    keeps each open, so the client must close it itself — and by the report."""
    name = "keepalive-ignoring-close"
    before = conformance.connections[name]
    options = dict(urls=[conformance.url(name)], count=24, concurrency=3, strategy=strategy, timeout=TIMEOUT_S,
                   no_keepalive=True)
    if engine:
        options["engine"] = engine
    if strategy in ("processes", "hybrid"):
        options["processes"] = 2
    result, _ = run_with_records(tmp_path, **options)
    assert result.ok == 24 and conformance.connections[name] - before == 24
    assert result.stats.connections["new"] == 24 and result.stats.connections["reused"] == 0


def test_a_stale_connection_is_not_replayed_for_a_post(conformance, tmp_path):
    # POST is not idempotent: sending it twice could do the thing twice.
    result, _ = run_with_records(tmp_path, urls=[conformance.url("reset-between")], count=20, concurrency=1,
                                 strategy="sequential", method="POST", body="x", timeout=TIMEOUT_S)
    assert result.stats.errors["reset"] > 0 and result.ok + result.stats.errors["reset"] == 20


def test_every_kind_the_suite_expects_is_a_known_kind():
    from loadtool.errors import KINDS

    kinds = {value for what, value in EXPECTED.values() if what == "error"}
    assert kinds <= set(KINDS)
    assert set(WHAT) == set(EXPECTED)


def test_the_readme_table_of_error_kinds_matches_the_suite():
    """The README's table names, for each error kind, the misbehaviours that cause it."""
    import pathlib
    import re

    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- error-kinds -->", 2)[1]
    rows = {match.group(1): match.group(2) for match in re.finditer(r"^\| `(\w+)` \| (.*) \|$", table, re.M)}
    for name, (what, value) in EXPECTED.items():
        if what == "error":
            assert value in rows and WHAT[name] in rows[value], (name, value)


@pytest.mark.parametrize("strategy", ["sequential", "threads", "processes"])
def test_a_server_trickling_headers_cannot_outlast_the_timeout(loadtool_cli, conformance, strategy):
    # One header line every 0.2 s for 30 s: requests' own timeout (per recv) never fires.
    out = loadtool_cli("fetch", conformance.url("headers-trickle"), "-n", "1", "-s", strategy, "--timeout", "2s",
                       "--format", "json")
    result = out.json()
    assert result["errors"] == {"read_timeout": 1}
    # Ended by the 2 s deadline, not by the server, whose trickle goes on for 30 s: the bound is
    # a third of that, generous for a loaded machine, and still tells the two apart.
    assert 2000 <= result["latency_ms"]["max"] < 10_000


#: Each engine once: the deadline is the engine's to keep (the strategies around it share them).
EACH_ENGINE = [("threads", None), ("async", "aiohttp"), ("async", "fast"), ("async", "curl")]


@pytest.mark.parametrize("strategy, engine", EACH_ENGINE, ids=[f"{s}-{e or 'requests'}" for s, e in EACH_ENGINE])
def test_the_deadline_counts_from_the_first_send_retries_included(conformance, strategy, engine):
    """Each attempt is answered 500 after 0.6 of --timeout: the retry starts at about 0.65 and
    the deadline, from the first send, cuts it at 1.0 — a read_timeout. Counted from the
    retry's own start, the retry would end with its 500 at 1.25."""
    options = dict(urls=[conformance.url("slow-500")], count=4, concurrency=4, strategy=strategy, retries=3,
                   timeout=TIMEOUT_S, processes=2 if strategy in ("processes", "hybrid") else None)
    if engine:
        options["engine"] = engine
    result = loadtool.run(**options)
    assert dict(result.stats.errors) == {"read_timeout": 4} and result.stats.attempts == 8
    assert result.latency_ms["max"] < TIMEOUT_S * (1 + LATE_BY) * 1000


@pytest.mark.parametrize("strategy, engine", COMBOS, ids=[f"{s}-{e or 'requests'}" for s, e in COMBOS])
def test_the_duration_is_a_deadline_for_bodies_that_never_end(conformance, strategy, engine):
    """-d ends the whole run: operations still in flight get --grace, then are dropped and
    counted, where a body that never ends would otherwise hold the run until --timeout (30 s)."""
    pool = strategy in ("processes", "hybrid")
    # A pool of processes starts within the duration too: 2 s leaves it time on a busy machine
    # (at 0.5 s, hybrid started no operation before the deadline, one suite run in three).
    options = dict(urls=[conformance.url("endless-body")], duration=2.0 if pool else 0.5, grace=0.3, timeout=30,
                   concurrency=2, strategy=strategy, processes=2 if pool else None)
    if engine:
        options["engine"] = engine
    result = loadtool.run(**options)
    assert result.ops == 0 and result.stats.counts.abandoned == result.concurrency and result.interrupted is None
    assert result.wall_s < options["timeout"] / 4  # ended by the deadline and the grace, not by --timeout


def test_the_command_line_exits_at_the_deadline_though_threads_are_still_blocked(conformance):
    """A thread blocked in a request cannot be stopped; the process exits without waiting for it."""
    import subprocess
    import sys
    import time

    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "loadtool", "fetch", conformance.url("endless-body"), "-s", "threads",
                          "-c", "2", "-d", "0.5s", "--grace", "0.3s", "--format", "json"],
                         capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert run.returncode == 3 and "2 were still in flight" in run.stderr
    # Ended by the deadline and the grace, not by the blocked threads' --timeout (30 s).
    assert json.loads(run.stdout)["abandoned"] == 2 and elapsed < parse_duration(DEFAULTS["timeout"]) / 4, elapsed

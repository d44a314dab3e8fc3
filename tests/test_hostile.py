"""Hostile input: servers that lure credentials away, files that never end, waits that are
asked to last for ever, and outputs that point somewhere else. Each case ends in one clear
answer — a counted error, a usage error (exit 2), a bounded wait — in every engine."""

from __future__ import annotations

import json

import pytest

import loadtool
from conformance import OTHER, ConformanceServer

ENGINES = [("sequential", None), ("async", "aiohttp"), ("async", "fast"), ("async", "curl")]
IDS = ["requests", "aiohttp", "fast", "curl"]
SECRETS = ("Authorization: Bearer S3CRET", "Cookie: sess=C00KIE")


@pytest.fixture(scope="module")
def conformance():
    with ConformanceServer() as server:
        yield server


def _run(conformance, name: str, strategy: str, engine: str | None, **options) -> loadtool.Result:
    options = {"urls": [conformance.url(name)], "count": 4, "concurrency": 2, "strategy": strategy, "timeout": 2,
               **options}
    if engine:
        options["engine"] = engine
    return loadtool.run(**options)


def _landed(conformance, since: int) -> list[tuple[str, str]]:
    """(address, lower-cased head) of each request that landed since ``since``."""
    return [(address, head.decode("latin-1").lower()) for address, head in conformance.landed[since:]]


@pytest.mark.parametrize("strategy, engine", ENGINES, ids=IDS)
def test_no_engine_sends_credentials_to_another_origin(conformance, strategy, engine):
    before = len(conformance.landed)
    result = _run(conformance, "to-other", strategy, engine, headers=list(SECRETS))
    landed = _landed(conformance, before)
    assert result.ok == 4 and [address for address, _ in landed] == ["127.0.0.2"] * 4
    assert not [head for _, head in landed if "s3cret" in head or "c00kie" in head]
    assert result.stats.counts.elsewhere == 4 and result.to_dict()["redirected_elsewhere"] == 4


@pytest.mark.parametrize("strategy, engine", ENGINES, ids=IDS)
def test_credentials_follow_a_redirect_on_the_same_origin(conformance, strategy, engine):
    before = len(conformance.landed)
    result = _run(conformance, "to-self", strategy, engine, headers=list(SECRETS))
    landed = _landed(conformance, before)
    assert result.ok == 4 and [address for address, _ in landed] == ["127.0.0.1"] * 4
    assert all("bearer s3cret" in head and "sess=c00kie" in head for _, head in landed)
    assert result.stats.counts.elsewhere == 0


@pytest.mark.parametrize("strategy, engine", ENGINES, ids=IDS)
def test_every_engine_names_itself_and_the_jobs_headers_replace_its_own(conformance, strategy, engine):
    before = len(conformance.landed)
    assert _run(conformance, "landed", strategy, engine, count=1).ok == 1
    assert _run(conformance, "landed", strategy, engine, count=1,
                headers=["User-Agent: mine/1", "Accept-Encoding: identity"]).ok == 1
    (_, own), (_, theirs) = _landed(conformance, before)
    assert f"\r\nuser-agent: loadtool/{loadtool.__version__}\r\n" in own and "\r\naccept-encoding: gzip" in own
    assert "\r\nuser-agent: mine/1\r\n" in theirs and "loadtool" not in theirs
    assert "\r\naccept-encoding: identity\r\n" in theirs and theirs.count("accept-encoding") == 1


@pytest.mark.parametrize("strategy, engine", ENGINES, ids=IDS)
def test_max_redirects_zero_follows_none_and_counts_the_3xx(conformance, strategy, engine):
    before = len(conformance.landed)
    result = _run(conformance, "to-other", strategy, engine, max_redirects=0)
    assert _landed(conformance, before) == []
    assert result.ok == 4 and dict(result.stats.status) == {302: 4}


@pytest.mark.parametrize("strategy, engine", ENGINES, ids=IDS)
def test_max_redirects_bounds_a_chain(conformance, strategy, engine):
    result = _run(conformance, "redirect-10", strategy, engine, max_redirects=3)
    assert dict(result.stats.errors) == {"too_many_redirects": 4}


def test_the_report_counts_the_operations_redirected_elsewhere(conformance, loadtool_cli):
    out = loadtool_cli("fetch", conformance.url("to-other"), "-n", "3", "-c", "1", "-H", SECRETS[0])
    assert out.exit_code == 0, out.stderr
    assert "3 redirected to another origin" in out.stdout
    out = loadtool_cli("fetch", conformance.url("to-other"), "-n", "3", "--format", "json")
    assert json.loads(out.stdout)["redirected_elsewhere"] == 3
    assert OTHER["origin"].startswith("http://127.0.0.2:")


@pytest.mark.parametrize("strategy, engine", ENGINES, ids=IDS)
def test_bytes_after_a_whole_answer_leave_the_answer_and_end_the_connection(conformance, strategy, engine):
    before = conformance.connections["long-body"]
    result = _run(conformance, "long-body", strategy, engine, concurrency=1)
    assert result.ok == 4 and result.stats.bytes == 4 * 5  # "hello", not what followed it
    if engine is not None:  # a connection each: none reused
        assert conformance.connections["long-body"] - before == 4
    # http.client reads each answer through a buffer of its own, dropped with the answer: what
    # followed it is never read as the next answer, on the connection it keeps (ok above).


# --- inputs that never end ------------------------------------------------------------------

@pytest.mark.parametrize("args, stdin", [
    (["fetch", "--targets", "/dev/zero", "-n", "1"], None),
    (["fetch", "-f", "/dev/zero", "-n", "1"], None),
    (["read", "--from-list", "/dev/zero", "-n", "1"], None),
    (["plan", "-f", "/dev/zero", "--pages", "1000"], None),
    (["fetch", "-", "-n", "1"], "/dev/zero"),
], ids=["targets", "urls-file", "from-list", "plan", "stdin"])
def test_a_stream_with_no_line_end_is_one_line_and_exit_2_in_flat_memory(args, stdin):
    import sys

    from loadtool.system import run_measuring_peak

    with open(stdin or "/dev/null", "rb") as source:
        code, _, err, peak_kib = run_measuring_peak([sys.executable, "-m", "loadtool", *args], 60, stdin=source)
    assert code == 2 and "over 64 KiB with no line end" in err and "Traceback" not in err, err
    assert peak_kib < 100 * 1024, peak_kib


# --- a targets file from elsewhere ------------------------------------------------------------

@pytest.mark.parametrize("body", ["@/etc/hostname", "@../outside.txt", "@link.txt"])
def test_a_targets_files_bodies_stay_under_its_directory(loadtool_cli, conformance, tmp_path, body):
    (tmp_path / "outside.txt").write_text("secret")
    inside = tmp_path / "job"
    inside.mkdir()
    (inside / "link.txt").symlink_to(tmp_path / "outside.txt")  # a link out counts as out
    targets = inside / "targets.http"
    targets.write_text(f"POST {conformance.url('landed')}\n{body}\n")
    out = loadtool_cli("fetch", "--targets", str(targets), "-n", "1")
    assert out.exit_code == 2 and "is outside" in out.stderr and "--body-dir" in out.stderr, out.stderr
    allowed = loadtool_cli("fetch", "--targets", str(targets), "-n", "1", "--body-dir", "/", "-q")
    assert allowed.exit_code == 0, allowed.stderr


def test_a_body_file_over_max_body_names_its_size_and_the_limit(loadtool_cli, conformance, tmp_path):
    (tmp_path / "big.bin").write_bytes(b"x" * 2048)
    targets = tmp_path / "targets.http"
    targets.write_text(f"POST {conformance.url('landed')}\n@big.bin\n")
    out = loadtool_cli("fetch", "--targets", str(targets), "-n", "1", "--max-body", "1KiB")
    assert out.exit_code == 2 and "is 2,048 bytes, over --max-body (1,024 bytes)" in out.stderr, out.stderr


# --- outputs that point elsewhere ---------------------------------------------------------------

@pytest.mark.parametrize("option", ["-o", "--raw", "--html"])
def test_an_output_that_is_a_symbolic_link_is_refused_before_the_run(loadtool_cli, tmp_path, option):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "out.json"
    link.symlink_to(victim)
    out = loadtool_cli("fetch", "/health", "-n", "2", option, str(link))
    assert out.exit_code == 2 and "is a symbolic link" in out.stderr and out.stdout == ""
    assert victim.read_text() == "keep me"


def test_an_output_that_cannot_be_created_is_refused_before_the_run(loadtool_cli):
    # /proc takes no new files, even from root: the path is tried, not guessed from permissions.
    out = loadtool_cli("fetch", "/health", "-n", "2", "-o", "/proc/out.json")
    assert out.exit_code == 2 and "--output /proc/out.json: cannot write it" in out.stderr and out.stdout == ""


def test_a_crawl_whose_every_host_is_held_back_did_none_of_its_work(loadtool_cli, server):
    out = loadtool_cli("crawl", "/hostile/1/page/0", "--server", server.base_url, "-n", "5", "-q")
    assert out.exit_code == 3 and "every host was held back" in out.stderr


@pytest.mark.parametrize("engine", ["requests", "aiohttp", "fast", "curl"])
def test_running_out_of_file_descriptors_is_said_first_and_counted_as_one_kind(server, engine):
    import resource
    import subprocess
    import sys

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    strategy = ["-s", "threads"] if engine == "requests" else ["-e", engine]
    run = subprocess.run([sys.executable, "-m", "loadtool", "fetch", f"{server.base_url}/delay/100", *strategy,
                          "-c", "150", "-n", "450", "--format", "json"], capture_output=True, text=True, timeout=120,
                         preexec_fn=low_limit)
    assert "the open-files limit is 64" in run.stderr, run.stderr
    errors = json.loads(run.stdout)["errors"]
    assert set(errors) == {"open_files"} and errors["open_files"] > 0, errors


@pytest.mark.parametrize("strategy, engine", ENGINES, ids=IDS)
def test_an_answer_in_an_encoding_not_decoded_here_is_counted_as_such(conformance, strategy, engine):
    result = _run(conformance, "encoding-unknown", strategy, engine)
    assert result.ok == 4 and result.stats.counts.undecoded == 4 and result.stats.counts.compressed == 0
    assert result.stats.bytes == result.stats.counts.decoded_bytes == 4 * len(b"<p>weird</p>")
    assert "4 came in an encoding not asked for or unknown" in str(result)

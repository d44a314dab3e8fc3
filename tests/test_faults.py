"""Faults, timeouts, the open model and signals: loadtool keeps measuring and loses nothing."""

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from loadtool.server.faults import flaky_fails

STRATEGIES = ["sequential", "threads", "processes", "async"]

FAULTS = {
    "/fault/reset": {"reset": 4},
    "/fault/truncate": {"truncated": 4},
    "/fault/bad-chunked": {"protocol": 4},
    "/fault/garbage": {"protocol": 4},
    "/fault/slow-headers?interval_ms=2000": {"read_timeout": 4},
    "/fault/hang": {"read_timeout": 4},
}


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("path", FAULTS)
def test_each_fault_is_counted_as_its_error_kind(loadtool_cli, server, strategy, path):
    out = loadtool_cli("fetch", path, "--server", server.base_url, "-s", strategy, "-n", "4", "-c", "2",
                       "--timeout", "400ms", "--format", "json")
    result = out.json()
    assert result["errors"] == FAULTS[path]
    assert result["ops"] == 4 and out.exit_code == 3


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_flaky_fails_exactly_the_seeded_share(loadtool_cli, server, strategy):
    result = loadtool_cli("fetch", "/fault/flaky?p=0.3&i={i}", "--server", server.base_url, "-s", strategy,
                          "-n", "40", "-c", "4", "--format", "json").json()
    fates = [flaky_fails(0, index, 0.3) for index in range(40)]
    assert result["status"].get("500", 0) == fates.count("500")
    assert result["errors"].get("reset", 0) == fates.count("reset")
    assert result["ok"] == fates.count(None)


def test_retries_are_counted_apart_from_operations(loadtool_cli):
    without = loadtool_cli("fetch", "/fault/flaky?p=0.5", "-s", "sequential", "-n", "60", "--format", "json").json()
    retried = loadtool_cli("fetch", "/fault/flaky?p=0.5", "-s", "sequential", "-n", "60", "--retries", "5",
                           "--format", "json").json()
    assert without["attempts"] == without["ops"] == 60
    assert retried["ops"] == 60 and retried["attempts"] > 60
    assert retried["ok"] > without["ok"]


@pytest.fixture
def full_backlog():
    """A port whose accept queue is full: the kernel drops SYNs, so connecting times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(listener.getsockname())
        except BlockingIOError:
            pass
        fillers.append(filler)
    yield listener.getsockname()[1]
    for sock in (*fillers, listener):
        sock.close()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_an_unanswered_connect_is_a_connect_timeout(loadtool_cli, full_backlog, strategy):
    result = loadtool_cli("fetch", f"http://127.0.0.1:{full_backlog}/", "-s", strategy, "-n", "2", "-c", "2",
                          "--connect-timeout", "300ms", "--timeout", "2s", "--format", "json").json()
    assert result["errors"] == {"connect_timeout": 2}


def _url_file(tmp_path, server, lines):
    path = tmp_path / "urls.txt"
    path.write_text("\n".join(server.url(line) for line in lines) + "\n")
    return str(path)


def test_the_open_model_counts_the_stall_the_closed_model_hides(loadtool_cli, tmp_path):
    from loadtool.server.run import FixtureServer

    with FixtureServer() as fresh:  # its own server: the stall must not slow other tests
        lines = ["/health"] * 300
        lines[30] = "/fault/stall?ms=500"
        urls = _url_file(tmp_path, fresh, lines)
        result = loadtool_cli("fetch", "-f", urls, "--rate", "100/s", "-c", "2", "--format", "json").json()
    assert result["ok"] == 300
    corrected, service = result["latency_ms"]["p99"], result["service_ms"]["p99"]
    assert corrected >= 5 * service, (corrected, service)
    assert result["behind_s"] > 0.2


def test_the_rate_spaces_operations_out(loadtool_cli, server):
    result = loadtool_cli("fetch", "/health", "--server", server.base_url, "-n", "21", "--rate", "40/s",
                          "--format", "json").json()
    assert result["ok"] == 21 and result["wall_s"] >= 20 / 40
    assert result["job"]["rate"] == "40/s"


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_duration_bounds_a_run_with_any_strategy(loadtool_cli, server, strategy):
    result = loadtool_cli("fetch", "/delay/20", "--server", server.base_url, "-s", strategy, "-c", "4",
                          "--duration", "1s", "--format", "json").json()
    assert result["job"]["count"] is None and result["job"]["duration_s"] == 1.0
    assert result["ops"] > 4 and result["ok"] == result["ops"]
    assert result["wall_s"] >= 1.0


def test_a_runs_wall_time_is_counted_from_the_moment_its_deadline_is():
    """--duration's deadline is the sink's epoch plus the duration: the wall time is read
    from that same moment, not from a later one (the start of the memory watch's thread,
    late by 10 ms on a busy machine, made a -d 1s run 0.990 s)."""
    import time

    from loadtool.runner import _Clock

    epoch = time.time() - 2.0
    clock = _Clock(epoch)
    assert 2.0 <= time.perf_counter() - clock.wall_start < 3.0
    assert clock.started_at.startswith(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(epoch)))
    clock.memory.stop()


def _children(pid):
    return [child.pid for child in psutil.Process(pid).children(recursive=True)]


def _alive(pids):
    return [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]


def _connected(pid, port: int | None = None) -> bool:
    """Whether the run has TCP connections open from any process of its tree (to ``port``,
    when given: a cluster's own connections come before any request): work has started."""
    try:
        processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        return any(conn.status == psutil.CONN_ESTABLISHED and conn.raddr and port in (None, conn.raddr.port)
                   for proc in processes for conn in proc.net_connections(kind="tcp"))
    except psutil.NoSuchProcess:
        return False


def _interrupt(args, signum, margin_s=0.3, group=False, port=None):
    """Start loadtool, wait until its requests are flowing (to ``port``, when given), let it run
    ``margin_s`` more, signal it (``group``: its whole process group, as ``timeout`` and
    systemd do)."""
    process = subprocess.Popen([sys.executable, "-m", "loadtool", *args, "--format", "json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not _connected(process.pid, port):
            assert time.monotonic() < deadline and process.poll() is None, "the run never started"
            time.sleep(0.05)
        time.sleep(margin_s)  # places the signal mid-run; nothing below depends on how far it got
        children = _children(process.pid)
        if group:
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
        out, err = process.communicate(timeout=60)
        return process.returncode, out, err, children
    finally:
        if process.poll() is None:  # a failed test must not leave a run going (its own session)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("strategy", [*STRATEGIES, "hybrid"])
def test_a_signal_mid_run_prints_the_partial_report_and_leaves_no_process(strategy, signum, code):
    returncode, out, err, children = _interrupt(["fetch", "/delay/100", "-n", "100000", "-c", "4", "-s", strategy],
                                                signum)
    assert returncode == code, err
    result = json.loads(out)
    assert result["interrupted"] == signal.Signals(signum).name
    assert 0 < result["ops"] < 100000 and result["ok"] == result["ops"]
    assert children and not _wait_gone(children)


@pytest.mark.parametrize("strategy", ["hybrid", "async"])
def test_ctrl_c_writes_the_partial_report_to_the_output_file_too(strategy, tmp_path):
    """Ctrl-C mid-run: the file -o names holds the same partial report as stdout (hybrid's
    processes hand back what they measured before the parent writes it)."""
    path = tmp_path / "partial.json"
    returncode, out, err, children = _interrupt(["fetch", "/delay/100", "-n", "100000", "-c", "4", "-s", strategy,
                                                 "-p", "2", "-o", str(path)], signal.SIGINT)
    assert returncode == 130, err
    written = json.loads(path.read_text())
    assert written["interrupted"] == "SIGINT" and written["strategy"] == strategy
    assert 0 < written["ops"] < 100000 and written["ok"] == written["ops"]
    assert "wall time" in out.decode()  # with -o, stdout shows the table
    assert children and not _wait_gone(children)


@pytest.mark.parametrize("strategy", ["processes", "async"])
def test_a_crawl_stopped_mid_run_keeps_what_it_fetched_and_leaves_no_process(strategy):
    returncode, out, err, children = _interrupt(["crawl", "-n", "100000", "-s", strategy], signal.SIGINT,
                                                margin_s=0.5)
    assert returncode == 130, err
    result = json.loads(out)
    assert result["interrupted"] == "SIGINT" and 0 < result["ops"] < 100000
    assert result["details"]["crawl"]["links_found"] > result["ops"]
    assert not _wait_gone(children)


@pytest.mark.parametrize("args", [["fetch", "/delay/100", "-n", "100000", "-c", "4", "-s", "processes"],
                                  ["fetch", "/delay/100", "-n", "100000", "-c", "4", "-s", "cluster",
                                   "--local-cluster", "2"],
                                  ["crawl", "-n", "100000", "-s", "processes"]])
def test_a_sigterm_to_the_whole_process_group_still_stops_gracefully(server, args):
    """The workers' fork server (and a local cluster's workers) ignore SIGTERM, so the workers
    live to hear the run's own stop and report what they did."""
    returncode, out, err, children = _interrupt([*args, "--server", server.base_url], signal.SIGTERM, margin_s=0.5,
                                                group=True, port=int(server.base_url.rsplit(":", 1)[1]))
    assert returncode == 143, err
    result = json.loads(out)
    assert result["interrupted"] == "SIGTERM" and result["ops"] > 0
    assert not _wait_gone(children)


def test_duration_ends_a_partitioned_crawl_with_the_report_of_what_it_did(loadtool_cli):
    timed = loadtool_cli("crawl", "-n", "100000", "-s", "processes", "-d", "1s", "--format", "json").json()
    assert timed["interrupted"] is None and timed["ops"] > 0 and timed["details"]["crawl"]["frontier_left"] > 0


def _wait_gone(pids, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)  # waiting for the kernel to reap, bounded
    return _alive(pids)


@pytest.mark.parametrize("strategy", ["processes", "async", "threads"])
def test_after_the_grace_period_hung_operations_are_dropped_and_the_rest_kept(strategy):
    returncode, out, err, children = _interrupt(
        ["fetch", "/delay/10", "/fault/hang", "-n", "100000", "-c", "2", "-s", strategy, "--grace", "500ms",
         "--timeout", "120s"], signal.SIGINT, margin_s=0.5)
    assert returncode == 130, err
    result = json.loads(out)
    assert result["ops"] >= 1 and result["errors"] == {}
    assert not _wait_gone(children)


def _random_text(rng, length):
    raw = bytes(rng.randrange(256) for _ in range(length)) + b"\xff"  # never valid UTF-8 throughout
    return raw.decode("utf-8", "surrogateescape")


FUZZED_OPTIONS = ["--count", "--concurrency", "--rate", "--timeout", "--duration", "--header", "--ok-status",
                  "--method", "--server", "--retries", "--grace", "--seed", "--processes", "--fail-if",
                  "--connect-timeout"]


def test_random_bytes_as_option_values_are_one_line_and_exit_2(loadtool_cli):
    rng = random.Random(20261125)
    for _ in range(60):
        option = rng.choice(FUZZED_OPTIONS)
        value = _random_text(rng, rng.randrange(1, 40)).replace("\x00", "")
        out = loadtool_cli("fetch", option, value)
        assert out.exit_code == 2, (option, value, out.stdout[:200])
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_random_bytes_as_url_files_and_urls_are_one_line_and_exit_2(loadtool_cli, tmp_path):
    rng = random.Random(7)
    for case in range(20):
        path = tmp_path / f"urls-{case}.txt"
        path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000))) + b"\xff")
        out = loadtool_cli("fetch", "-f", str(path))
        assert out.exit_code == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
        out = loadtool_cli("fetch", _random_text(rng, 30).replace("\x00", ""))
        assert out.exit_code == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr


@pytest.mark.alone
@pytest.mark.parametrize("strategy", ["processes", "hybrid"])
def test_starting_worker_processes_does_not_count_as_lateness(server, strategy):
    # A fresh process, as a user runs it (in this session the fork server is already warm).
    # The wall time includes starting the pool; the schedule must start once it is up, so
    # lateness stays a small part of that start-up (it was all of it, before).
    run = subprocess.run([sys.executable, "-m", "loadtool", "fetch", "/health", "--server", server.base_url,
                          "-s", strategy, "-p", "2", "-n", "21", "--rate", "40/s", "--format", "json"],
                         capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(run.stdout)
    startup_s = result["wall_s"] - 20 / 40
    assert result["ok"] == 21 and startup_s > 0
    assert result["behind_s"] < startup_s / 2, (result["behind_s"], startup_s)


def _start(args, tmp_path):
    return subprocess.Popen([sys.executable, "-m", "loadtool", *args, "--raw", str(tmp_path / "ops.csv"),
                             "-o", str(tmp_path / "run.json"), "--format", "json", "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _workers(pid: int) -> list[psutil.Process]:
    """The run's worker processes: children of multiprocessing's fork server."""
    server = [child for child in psutil.Process(pid).children() if "forkserver" in " ".join(child.cmdline())]
    return [worker for each in server for worker in each.children()]


LOST = [["fetch", "/delay/20", "-n", "100000", "-c", "4", "-s", "processes", "-p", "2"],
        ["fetch", "/delay/20", "-n", "100000", "-c", "4", "-s", "hybrid", "-p", "2"],
        ["crawl", "-n", "100000", "-s", "processes", "-p", "2"],
        ["crawl", "-n", "100000", "-s", "hybrid", "-p", "2"]]


@pytest.mark.parametrize("args", LOST, ids=["processes", "hybrid", "crawl-processes", "crawl-hybrid"])
def test_a_killed_worker_does_not_take_the_report_with_it(server, tmp_path, args):
    """SIGKILL one worker mid-run (as the kernel's OOM killer would): the run ends with what
    the others measured, names the lost worker, writes -o and --raw whole, and exits 4."""
    process = _start([*args, "--server", server.base_url], tmp_path)
    try:
        deadline = time.monotonic() + 30
        while len(_workers(process.pid)) < 2 or not _connected(process.pid):
            assert time.monotonic() < deadline and process.poll() is None, "the run never started"
            time.sleep(0.05)
        time.sleep(0.5)  # places the kill mid-run
        victim = _workers(process.pid)[0]
        victim.kill()
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 4 and f"pid {victim.pid}" in err.decode() and "Traceback" not in err.decode()
    assert "leaked" not in err.decode(), err.decode()  # multiprocessing's resource tracker, after the kill
    result = json.loads((tmp_path / "run.json").read_text())
    assert result["interrupted"] == "worker lost" and result["ops"] > 0  # what the others measured stands
    assert [lost["pid"] for lost in result["details"]["lost_workers"]] == [victim.pid]
    assert result["details"]["lost_workers"][0]["ended_by"] in ("SIGKILL", "ended abruptly")
    lines = (tmp_path / "ops.csv").read_text().splitlines()
    assert len(lines) == result["ops"] + 1 and len({line.count(",") for line in lines}) == 1  # whole records


@pytest.mark.parametrize("args", LOST, ids=["processes", "hybrid", "crawl-processes", "crawl-hybrid"])
def test_killing_loadtool_leaves_none_of_its_processes(server, tmp_path, args):
    """SIGKILL loadtool itself: its workers, their fork server and the resource tracker end
    within 2 s (workers watch loadtool itself, not only their parent, the fork server)."""
    process = _start([*args, "--server", server.base_url], tmp_path)
    try:
        deadline = time.monotonic() + 30
        while len(_workers(process.pid)) < 2 or not _connected(process.pid):
            assert time.monotonic() < deadline and process.poll() is None, "the run never started"
            time.sleep(0.05)
        children = _children(process.pid)
        process.kill()
        process.wait()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert not _wait_gone(children, timeout_s=2.0)

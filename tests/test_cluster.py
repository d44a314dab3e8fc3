"""--strategy cluster on a dask LocalCluster of 2 workers, against the fixture server."""

import os
import signal
import sys
import threading
import time

import pytest

import loadtool
from loadtool.options import DEFAULTS
from loadtool.units import parse_duration

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 worker processes, shared by the tests that only read from it."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=50) as local, distributed.Client(local) as client:
        yield local, client


def _comparable(result):
    return (result.ops, result.ok, result.stats.bytes, dict(result.stats.status), dict(result.stats.errors))


def test_a_cluster_does_the_same_job_as_one_event_loop(server, cluster):
    local, _ = cluster
    job = {"urls": ["/page/{i}", "/bytes/100", "/status/404"], "server": server.base_url, "count": 240,
           "concurrency": 8}
    single = loadtool.run(strategy="async", **job)
    spread = loadtool.run(strategy="cluster", scheduler=local.scheduler_address, **job)
    assert _comparable(spread) == _comparable(single)
    facts = spread.details["cluster"]
    assert facts["workers"] == 2 and facts["slices"] == 8
    assert sum(facts["ops_by_worker"].values()) == 240 and len(facts["ops_by_worker"]) == 2
    assert facts["lost_workers"] == [] and facts["lost_slices"] == []


def test_the_rate_is_split_across_the_workers(server, cluster):
    local, _ = cluster
    result = loadtool.run(strategy="cluster", scheduler=local.scheduler_address, urls=["/health"],
                          server=server.base_url, count=41, rate="40/s", concurrency=4)
    facts = result.details["cluster"]
    assert result.ok == 41 and result.wall_s >= 40 / 40
    assert sorted(facts["ops_by_worker"].values()) == [20, 21]  # one slice a worker: every other operation
    assert result.sent_ops_s == pytest.approx(40, rel=0.25)  # the rate asked for is the rate sent


def test_a_duration_stops_every_worker(server, cluster):
    local, _ = cluster
    result = loadtool.run(strategy="cluster", scheduler=local.scheduler_address, urls=["/delay/20"],
                          server=server.base_url, duration="1s", concurrency=4)
    assert result.ops > 10 and result.ok == result.ops
    assert len(result.details["cluster"]["ops_by_worker"]) == 2
    assert result.wall_s < parse_duration(DEFAULTS["timeout"]) / 3  # the deadline ended it, not the operations' --timeout


def test_a_killed_worker_is_reported_and_its_slices_rerun(server):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=50) as local, distributed.Client(local) as client:
        outcome = {}
        runner = threading.Thread(target=lambda: outcome.update(result=loadtool.run(
            strategy="cluster", scheduler=local.scheduler_address, urls=["/delay/100"], server=server.base_url,
            count=320, concurrency=8)))
        runner.start()
        deadline = time.monotonic() + 30
        while not all(client.processing().values()):  # until both workers run a slice
            assert time.monotonic() < deadline, "the slices never started"
            time.sleep(0.05)
        victim, pid = next(iter(client.run(os.getpid).items()))
        os.kill(pid, signal.SIGKILL)
        runner.join(120)
    result = outcome["result"]
    facts = result.details["cluster"]
    assert victim in facts["lost_workers"]
    assert facts["rerun_slices"] and facts["lost_slices"] == []
    assert result.ops == result.ok == 320  # rerun, never silently missing
    from loadtool.report import render_text

    assert "lost mid-run" in render_text([result], "table")


def test_the_report_names_the_workers_and_keeps_the_clusters_start_apart(loadtool_cli, server):
    import time

    started = time.monotonic()
    out = loadtool_cli("fetch", "/health", "--server", server.base_url, "-s", "cluster", "--local-cluster", "2",
                       "-n", "40", "--format", "json")
    elapsed = time.monotonic() - started
    assert out.exit_code == 0, out.stderr
    result = out.json()
    assert result["details"]["cluster"]["ops_by_worker"]
    # Starting LocalCluster(2) takes most of the command; the wall time is the job's alone.
    startup, stop = result["details"]["startup_s"], result["details"]["stop_s"]
    assert startup > 0 and result["wall_s"] + startup + stop <= elapsed


@pytest.mark.parametrize("args, says", [
    (["-s", "cluster"], "--scheduler tcp://HOST:8786 or --local-cluster N"),
    (["-s", "cluster", "--local-cluster", "2", "--scheduler", "tcp://h:1"], "one of them"),
    (["-s", "cluster", "--scheduler", "h:8786"], "must look like tcp://"),
    (["--local-cluster", "2"], "go with --strategy cluster"),
])
def test_cluster_mistakes_are_usage_errors(loadtool_cli, args, says):
    out = loadtool_cli("fetch", *args)
    assert out.exit_code == 2 and says in out.stderr


def test_without_dask_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ValueError, match=r"pip install 'loadtool\[cluster\]'"):
        loadtool.Job.build(strategy="cluster", local_cluster=2)


def test_an_unreachable_scheduler_is_one_line_and_exit_3(loadtool_cli):
    out = loadtool_cli("fetch", "/health", "-s", "cluster", "--scheduler", "tcp://127.0.0.1:1", "-n", "1",
                       "--connect-timeout", "1s")
    assert out.exit_code == 3 and "cannot reach the dask scheduler" in out.stderr

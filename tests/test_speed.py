"""Ratios measured side by side in one test, with wide margins; never absolute times."""

import loadtool


def test_async_is_at_least_5x_faster_than_sequential_on_a_delay_endpoint(server):
    options = {"urls": ["/delay/50"], "server": server.base_url, "count": 50, "concurrency": 50}
    sequential = loadtool.run(strategy="sequential", **options)
    concurrent = loadtool.run(strategy="async", **options)
    assert sequential.ok == concurrent.ok == 50
    assert sequential.wall_s / concurrent.wall_s >= 5


def test_threads_overlap_waits_too(server):
    options = {"urls": ["/delay/50"], "server": server.base_url, "count": 40, "concurrency": 20}
    sequential = loadtool.run(strategy="sequential", **options)
    threaded = loadtool.run(strategy="threads", **options)
    assert sequential.wall_s / threaded.wall_s >= 3


# --- regression guards: each engine against its own library as a bare loop ------------------

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from raw_server import RawServer  # noqa: E402

BARE = Path(__file__).resolve().parent.parent / "scripts" / "bare_loops.py"
#: Each engine's req/s as a share of its bare loop's, against a server faster than both
#: (tests/raw_server.py): measured here 0.55-0.58 (fast), 0.78-0.87 (aiohttp), 0.52-0.53 (curl)
#: on a quiet machine; on a busier one the same code gave fast 0.33-0.51 in one hour. The
#: floors sit about a third below the quiet figures, so a change that halves an engine's
#: speed fails, and the best of three rounds (of a second each side) counts.
FLOORS = {"fast": 0.36, "aiohttp": 0.55, "curl": 0.35}


def _bare(engine: str, url: str) -> float:
    out = subprocess.run([sys.executable, str(BARE), engine, url, "-d", "1"], capture_output=True, text=True,
                         timeout=60, check=True)
    return json.loads(out.stdout)["rps"]


def _loadtool(engine: str, url: str, tmp_path) -> float:
    path = tmp_path / f"{engine}.json"
    subprocess.run([sys.executable, "-m", "loadtool", "fetch", url, "-e", engine, "-d", "1s", "-q", "-o", str(path)],
                   timeout=60, check=True)
    result = json.loads(path.read_text())
    assert result["ok"] == result["ops"] > 0
    return result["throughput_ops_s"]


@pytest.mark.alone
@pytest.mark.parametrize("engine", sorted(FLOORS))
def test_each_engine_keeps_its_share_of_its_bare_loop(engine, tmp_path):
    ratios = []
    with RawServer() as server:
        # Up to three rounds, each side by side; the best ratio counts (a shared machine has
        # bad seconds), and a first round above the floor is enough.
        while len(ratios) < 3 and max(ratios, default=0) < FLOORS[engine]:
            ratios.append(_loadtool(engine, server.url, tmp_path) / _bare(engine, server.url))
    assert max(ratios) >= FLOORS[engine], ratios


@pytest.mark.alone
def test_start_up_is_within_3x_of_one_requests_get(server):
    """``loadtool fetch URL -n 1`` as a whole process against ``import requests; requests.get``
    (best of 3 each): start-up is not the job. Measured 1.98x by scripts/bench_startup.py
    (2.36x before the system's CAs were loaded only for https), 1.93x here inside the
    suite; importing one more heavy library (rich eagerly, say) on this path would pass 3x."""
    import time

    import os

    url = server.url("/health")
    # As installed: compiled modules (the first run writes them where a machine forbids nothing).
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}

    def best(command: list[str]) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, timeout=60, env=env)
            times.append(time.perf_counter() - started)
        return min(times)

    ours = best([sys.executable, "-m", "loadtool", "fetch", url, "-n", "1", "-q"])
    theirs = best([sys.executable, "-c", f"import requests; requests.get({url!r})"])
    assert ours / theirs <= 3.0, (ours, theirs)

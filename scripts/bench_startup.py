#!/usr/bin/env python3
"""Start-up that is not the job: whole processes timed side by side, in interleaved rounds.

- ``loadtool --help`` against ``python -c "import click"`` (what --help cannot do without);
- ``loadtool fetch URL -n 1 -q`` against ``python -c "import requests; requests.get(URL)"``
  (one request with the simplest Python client), the same with its report printed to a
  pipe (as in CI), and ``-q`` against one GET with aiohttp in a plain script (the default
  engine's own start-up: importing aiohttp builds two TLS contexts);
- ``loadtool serve`` until it answers, against a bare aiohttp app until it answers.

URL is a fixture server started here (or --url). Each command runs --rounds times, A and
B in turn, and the figure is the median wall time; the ratio is taken round by round.
Writes bench-results/startup.json.

    python scripts/bench_startup.py [--rounds 9] [--url URL]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write  # noqa: E402

from loadtool.server.run import FixtureServer  # noqa: E402

#: One GET with aiohttp, as a plain script does it: what the default engine's library costs to start.
BARE_AIOHTTP_GET = """
import asyncio, sys, aiohttp
async def main():
    async with aiohttp.ClientSession() as session, session.get(sys.argv[1]) as response:
        await response.read()
asyncio.run(main())
"""

BARE_SERVER = """
import sys
from aiohttp import web
app = web.Application()
app.router.add_get("/health", lambda request: web.Response(text="ok"))
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def until_serving(command: list[str]) -> float:
    """Seconds from starting a server command (with {port}) to its first answer to /health."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen([part.format(port=port) for part in command], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    return time.perf_counter() - started
            except OSError:
                if process.poll() is not None or time.perf_counter() - started > 60:
                    raise SystemExit(f"{command[2:]} did not start")
                time.sleep(0.005)
    finally:
        process.terminate()
        process.wait(timeout=30)


def pair(name: str, ours, theirs, rounds: int) -> dict:
    """``ours()`` and ``theirs()`` in turn, ``rounds`` times: medians and the median ratio."""
    a, b = [], []
    for _ in range(rounds + 1):  # the first round warms the page cache and is not counted
        a.append(ours())
        b.append(theirs())
    a, b = a[1:], b[1:]
    ratio = statistics.median(x / y for x, y in zip(a, b))
    print(f"{name:50} {statistics.median(a) * 1000:7.0f} ms  vs {statistics.median(b) * 1000:7.0f} ms  "
          f"ratio {ratio:.2f}x")
    return {"ours_s": statistics.median(a), "theirs_s": statistics.median(b), "ratio": ratio,
            "ours_runs_s": a, "theirs_runs_s": b}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--url", help="the URL of the one-request run (default: the fixture server's /health)")
    args = parser.parse_args()
    python, loadtool = sys.executable, [sys.executable, "-m", "loadtool"]
    with FixtureServer() as server:
        url = args.url or server.url("/health")
        results = {
            "help": pair("loadtool --help / import click", lambda: timed([*loadtool, "--help"]),
                         lambda: timed([python, "-c", "import click"]), args.rounds),
            "fetch_one": pair("loadtool fetch URL -n 1 / requests.get", lambda: timed([*loadtool, "fetch", url, "-n",
                                                                                     "1", "-q"]),
                              lambda: timed([python, "-c", f"import requests; requests.get({url!r})"]), args.rounds),
            # As the issue writes it: the report printed (to a pipe, as in CI), not -q.
            "fetch_one_report": pair("loadtool fetch URL -n 1, its report / requests.get",
                                     lambda: timed([*loadtool, "fetch", url, "-n", "1"]),
                                     lambda: timed([python, "-c", f"import requests; requests.get({url!r})"]),
                                     args.rounds),
            "fetch_one_vs_aiohttp": pair("loadtool fetch URL -n 1 / aiohttp get",
                                         lambda: timed([*loadtool, "fetch", url, "-n", "1", "-q"]),
                                         lambda: timed([python, "-c", BARE_AIOHTTP_GET, url]), args.rounds),
            "serve": pair("loadtool serve / bare aiohttp app", lambda: until_serving([*loadtool, "serve", "--port",
                                                                                   "{port}"]),
                          lambda: until_serving([python, "-c", BARE_SERVER, "{port}"]), args.rounds),
        }
    write("startup", results)


if __name__ == "__main__":
    main()

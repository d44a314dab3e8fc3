#!/usr/bin/env python3
"""Where the aiohttp engine's time goes: the same loop of C workers, one layer added at a time.

Each layer runs in a fresh process for --duration seconds against URL, the layers in turn,
--rounds times; the figures are medians of each layer's CPU per request and of its speed as
a share of the bare loop's, that share taken round by round (a shared machine drifts):

- ``bare``: aiohttp's own ``session.get`` + ``read()`` (scripts/bare_loops.py's loop), on the
  engine's session (its options cost nothing measurable: 66-68 µs a request either way);
- ``engine``: loadtool's ``AiohttpEngine.attempt`` on its session, nothing else;
- ``policy``: + the Policy (``begin``, ``settle`` into a Sample), as every strategy does;
- ``stats``: + ``Stats.add`` of each Sample, as the sink does;
- ``sink``: + the Sink around it (``Sink.record``: its lock, for threads);
- ``worker``: the async strategy's own worker loop (operations from ``Work``, which hands out
  none past the duration, into the Sink), as a run is;
- ``loadtool``: ``loadtool fetch -e aiohttp`` as a user runs it (its own process, threads
  watching the clock and memory, the report).

So the engine's own cost and the accounting's can be told apart (issue 28: the accounting
is most of what stands between loadtool and its bare loop).

    python scripts/bench_layers.py URL [--rounds 5] [--duration 3] [-c 50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from _common import loadtool_json, write

LAYERS = ("bare", "engine", "policy", "stats", "sink", "worker")

LOOP = """
import asyncio, json, sys, time

from loadtool import engines
from loadtool.engines.policy import Policy
from loadtool.job import Job
from loadtool.strategies.control import RunControl
from loadtool.metrics import Stats
from loadtool.metrics.sink import Sink
from loadtool.strategies.workers import async_worker
from loadtool.system import event_loop_factory
from loadtool.strategies.work import Op, Work

url, layer, connections, duration_s = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
job = Job.build(urls=[url], engine="aiohttp", concurrency=connections, duration=f"{duration_s}s")
engine, policy, stats, sink = engines.load("aiohttp", job), Policy.for_job(job), Stats(), Sink()
limits = policy.first_limits

async def main():
    if layer == "worker":
        work = Work(job, RunControl(), sink.epoch, shared=False)  # it hands out nothing past the duration
        async with engine.session(connections) as session:
            await asyncio.gather(*(async_worker(work, engine, session, policy, sink.record) for _ in range(connections)))
        return sink.recorded
    loop = asyncio.get_running_loop()
    end = loop.time() + duration_s
    async with engine.session(connections) as session:
        async def worker():
            done, op = 0, Op(0, url, None)
            while loop.time() < end:
                if layer == "bare":
                    async with session.get(url) as response:
                        await response.read()
                elif layer == "engine":
                    await engine.attempt(session, url, limits)
                else:
                    attempt = policy.begin(op, time.perf_counter())
                    sample = policy.settle(attempt, await engine.attempt(session, url, limits), time.perf_counter())
                    if layer == "stats":
                        stats.add(sample)
                    elif layer == "sink":
                        sink.record(sample)
                done += 1
            return done
        return sum(await asyncio.gather(*(worker() for _ in range(connections))))

cpu, wall = time.process_time(), time.perf_counter()  # the run alone: imports and set-up are before
with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
    done = runner.run(main())
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
print(json.dumps({"rps": done / wall, "cpu_us": cpu / done * 1e6}))
"""


def layer(url: str, name: str, connections: int, duration_s: float) -> dict:
    if name == "loadtool":
        result = loadtool_json(url, "-e", "aiohttp", "-c", str(connections), "-d", f"{duration_s}s")
        return {"rps": result["throughput_ops_s"], "cpu_us": result["client"]["cpu_s"] / result["ops"] * 1e6}
    run = subprocess.run([sys.executable, "-c", LOOP, url, name, str(connections), str(duration_s)],
                         capture_output=True, text=True, timeout=duration_s + 60, check=True)
    return json.loads(run.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds a layer runs, each round")
    parser.add_argument("-c", "--connections", type=int, default=50)
    args = parser.parse_args()
    names = (*LAYERS, "loadtool")
    runs = {name: [] for name in names}
    for _ in range(args.rounds):
        for name in names:
            runs[name].append(layer(args.url, name, args.connections, args.duration))
    out = {}
    for name in names:
        cpu = statistics.median(run["cpu_us"] for run in runs[name])
        rps = statistics.median(run["rps"] for run in runs[name])
        share = statistics.median(bare["cpu_us"] / run["cpu_us"] for bare, run in zip(runs["bare"], runs[name]))
        out[name] = {"cpu_us": round(cpu, 1), "rps": round(rps), "bare_share": round(share, 3), "runs": runs[name]}
        print(f"{name:9} {rps:9,.0f} req/s {cpu:7.1f} µs CPU/request  {share:5.2f}x the bare loop's speed")
    write("layers", {"url": args.url, "connections": args.connections, "duration_s": args.duration, "layers": out})


if __name__ == "__main__":
    main()

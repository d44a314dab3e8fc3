#!/usr/bin/env python3
"""The cluster strategy's overhead: one job on a dask LocalCluster(2) against hybrid with 2 processes.

Both spread the same job over two processes with an event loop each; the difference is
what dask costs (starting a cluster, shipping slices and Stats). Runs each way in turns
(median of --rounds), against one fixture server, and writes JSON.

    python scripts/bench_cluster.py [--count 4000] [--concurrency 100] [--path /delay/50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics

from _common import write

import loadtool
from loadtool.server.run import FixtureServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--path", default="/delay/50")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ways = {"async": {"strategy": "async"}, "hybrid P=2": {"strategy": "hybrid", "processes": 2},
            "cluster LocalCluster(2)": {"strategy": "cluster", "local_cluster": 2}}
    walls: dict[str, list[float]] = {name: [] for name in ways}
    with FixtureServer() as server:
        job = {"urls": [args.path], "server": server.base_url, "count": args.count, "concurrency": args.concurrency}
        for _ in range(args.rounds):
            for name, way in ways.items():
                result = loadtool.run(**job, **way)
                assert result.ok == args.count, result.stats.first_error
                walls[name].append(result.wall_s)
                print(f"{name:<24} {result.wall_s:7.3f}s  (ideal {result.ideal_s:.3f}s)")
    medians = {name: statistics.median(values) for name, values in walls.items()}
    ratio = medians["cluster LocalCluster(2)"] / medians["hybrid P=2"]
    overhead = medians["cluster LocalCluster(2)"] - medians["hybrid P=2"]
    print(f"\nmedian of {args.rounds}: " + ", ".join(f"{name} {wall:.3f}s" for name, wall in medians.items()))
    print(f"cluster / hybrid: {ratio:.2f}x ({overhead:+.3f}s for dask: cluster start, slices, Stats shipping)")
    write("cluster", {"args": vars(args), "walls_s": walls, "median_s": medians, "cluster_vs_hybrid": ratio,
                      "overhead_s": overhead})


if __name__ == "__main__":
    main()

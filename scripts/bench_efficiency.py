#!/usr/bin/env python3
"""Async efficiency: 10010 fetches of /delay/100 at concurrency 1000 against the ideal 1.1 s.

The ideal is what a client with no overhead would take: ceil(10010 / 1000) waves of
100 ms. Runs several times and reports each ratio of measured to ideal (bound 1.25).

    python scripts/bench_efficiency.py [--runs 3] [--count 10010] [--concurrency 1000] [--delay-ms 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys

from _common import loadtool_json, write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=10010)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--delay-ms", type=int, default=100)
    parser.add_argument("--strategy", default="async")
    args = parser.parse_args()
    runs = []
    for _ in range(args.runs):
        result = loadtool_json(f"/delay/{args.delay_ms}", "-n", str(args.count), "-c", str(args.concurrency),
                               "-s", args.strategy)
        ratio = result["wall_s"] / result["ideal_s"]
        runs.append({"wall_s": result["wall_s"], "ideal_s": result["ideal_s"], "ratio": ratio,
                     "ok": result["ok"], "p99_ms": result["latency_ms"]["p99"]})
        print(f"{args.strategy}: {result['ok']}/{args.count} ok in {result['wall_s']:.3f}s, "
              f"ideal {result['ideal_s']:.3f}s: {ratio:.3f}x ideal (p99 {result['latency_ms']['p99']:.0f} ms)")
    median = statistics.median(run["ratio"] for run in runs)
    print(f"median {median:.3f}x ideal (bound 1.25)")
    write(f"efficiency-{args.strategy}", {"args": vars(args), "runs": runs, "median_ratio": median,
                                          "bound": 1.25, "pass": median <= 1.25})
    sys.exit(0 if median <= 1.25 else 1)


if __name__ == "__main__":
    main()

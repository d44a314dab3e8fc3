#!/usr/bin/env python3
"""The four strategies reading the same trees: 10^5 small files and 100 large ones.

Each tree is read by every strategy twice: warm (files in the page cache) and cold
(evicted first with --evict-cache, so reads reach the device). Prints wall time,
files/s, MB/s and each strategy's speed-up over sequential, side by side in one run,
and writes JSON.

    python scripts/bench_read.py [--small 100000] [--small-size 4KiB] [--large 100] [--large-size 16MiB]
                                 [--concurrency 32] [--dir DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import write

import loadtool
from loadtool.targets.tree import make_tree, parse_sizes

STRATEGIES = ("sequential", "threads", "processes", "async")


def bench_tree(root: Path, label: str, concurrency: int) -> list[dict]:
    rows = []
    for cache in ("warm", "cold"):
        sequential_wall = None
        for strategy in STRATEGIES:
            result = loadtool.run(kind="read", paths=[str(root)], strategy=strategy, concurrency=concurrency,
                                  block_size="1MiB", evict_cache=cache == "cold")
            sequential_wall = sequential_wall or result.wall_s
            row = {"tree": label, "cache": cache, "strategy": strategy, "files": result.ok,
                   "wall_s": round(result.wall_s, 4), "files_s": round(result.throughput_ops_s, 1),
                   "mb_s": round(result.bytes_per_s / 1e6, 1), "p99_ms": result.latency_ms["p99"],
                   "speedup": round(sequential_wall / result.wall_s, 2), "page_cache": result.page_cache}
            rows.append(row)
            print(f"{label:>6} {cache:>4} {strategy:>10}: {row['wall_s']:8.3f}s {row['files_s']:>10,.0f} files/s "
                  f"{row['mb_s']:>8,.1f} MB/s  p99 {row['p99_ms']:8.3f} ms  {row['speedup']:5.2f}x sequential  "
                  f"(cached before: {0 if result.page_cache is None else result.page_cache:.0%})")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--small-size", default="4KiB")
    parser.add_argument("--large", type=int, default=100)
    parser.add_argument("--large-size", default="16MiB")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--dir", help="where to make the trees (default: a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="loadtool-bench-read-", dir=args.dir) as base:
        rows = []
        for label, count, size in (("small", args.small, args.small_size), ("large", args.large, args.large_size)):
            root = Path(base) / label
            make_tree(root, count, parse_sizes(size, None), seed=1)
            print(f"made {count:,} files of {size} in {root}")
            rows += bench_tree(root, label, args.concurrency)
    write("read", {"args": vars(args), "rows": rows})


if __name__ == "__main__":
    main()

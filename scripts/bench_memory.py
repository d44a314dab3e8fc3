#!/usr/bin/env python3
"""Memory flat in count: peak RSS of the async strategy at 200000 fetches vs at 2000.

Each count runs in a fresh process against one fixture server, fetching /bytes/16 at
concurrency 50; the ratio of peak RSS must stay within 1.25.

    python scripts/bench_memory.py [--small 2000] [--large 200000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from _common import write

from loadtool.server.run import FixtureServer

PEAK_RSS = """
import json, resource, sys, loadtool
result = loadtool.run(urls=["/bytes/16"], server=sys.argv[1], count=int(sys.argv[2]),
                      concurrency=50, strategy=sys.argv[3])
print(json.dumps({"ok": result.ok, "wall_s": result.wall_s,
                  "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def peak(server_url: str, count: int, strategy: str) -> dict:
    run = subprocess.run([sys.executable, "-c", PEAK_RSS, server_url, str(count), strategy],
                         capture_output=True, text=True, timeout=1800, check=True)
    return json.loads(run.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--strategy", default="async")
    args = parser.parse_args()
    with FixtureServer() as server:
        small = peak(server.base_url, args.small, args.strategy)
        large = peak(server.base_url, args.large, args.strategy)
    ratio = large["rss_kb"] / small["rss_kb"]
    print(f"{args.strategy}: peak RSS {small['rss_kb']} KB at {args.small} ops, "
          f"{large['rss_kb']} KB at {args.large} ops: ratio {ratio:.3f} (bound 1.25)")
    write(f"memory-{args.strategy}", {"small": {"count": args.small, **small},
                                      "large": {"count": args.large, **large}, "ratio": ratio,
                                      "bound": 1.25, "pass": ratio <= 1.25})
    sys.exit(0 if ratio <= 1.25 else 1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Memory flat in count: peak RSS of a run at 200000 fetches vs at 2000 (or any two counts).

Each count runs in a fresh process, fetching /bytes/16 of one fixture server (or --url, a
loopback URL such as nginx's, for counts in the millions) at concurrency 50, with the
strategy and engine asked for; its peak is measured from outside it (the kernel's count as
it is reaped, by a launcher that stays small: system.run_measuring_peak), and the ratio of
peak RSS must stay within 1.25.

    python scripts/bench_memory.py [--small 2000] [--large 200000] [--strategy async] [--engine curl] [--url URL]
"""

from __future__ import annotations

import argparse
import json
import sys

from _common import write

from loadtool.server.run import FixtureServer
from loadtool.system import run_measuring_peak

RUN = """
import json, sys, loadtool
target = {"urls": [sys.argv[1]]} if sys.argv[1].startswith("http") and "/" in sys.argv[1][8:] else \\
    {"urls": ["/bytes/16"], "server": sys.argv[1]}
engine = {"engine": sys.argv[4]} if sys.argv[4] != "-" else {}
result = loadtool.run(**target, count=int(sys.argv[2]), concurrency=50, strategy=sys.argv[3], **engine)
print(json.dumps({"ok": result.ok, "wall_s": result.wall_s}))
"""


def peak(target: str, count: int, strategy: str, engine: str | None) -> dict:
    code, out, err, peak_kib = run_measuring_peak([sys.executable, "-c", RUN, target, str(count), strategy,
                                                   engine or "-"], timeout_s=1800)
    if code:
        raise SystemExit(f"the run of {count} failed: {err.strip()}")
    return {**json.loads(out), "rss_kb": peak_kib}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--strategy", default="async")
    parser.add_argument("--engine", help="the engine (default: the strategy's)")
    parser.add_argument("--url", help="fetch this loopback URL instead of the fixture server's /bytes/16")
    args = parser.parse_args()
    if args.url:
        small = peak(args.url, args.small, args.strategy, args.engine)
        large = peak(args.url, args.large, args.strategy, args.engine)
    else:
        with FixtureServer() as server:
            small = peak(server.base_url, args.small, args.strategy, args.engine)
            large = peak(server.base_url, args.large, args.strategy, args.engine)
    ratio = large["rss_kb"] / small["rss_kb"]
    name = args.strategy + (f"-{args.engine}" if args.engine else "")
    print(f"{name}: peak RSS {small['rss_kb']} KB at {args.small} ops, "
          f"{large['rss_kb']} KB at {args.large} ops: ratio {ratio:.3f} (bound 1.25)")
    write(f"memory-{name}", {"small": {"count": args.small, **small},
                                      "large": {"count": args.large, **large}, "ratio": ratio,
                                      "bound": 1.25, "pass": ratio <= 1.25})
    sys.exit(0 if ratio <= 1.25 else 1)


if __name__ == "__main__":
    main()

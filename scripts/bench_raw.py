#!/usr/bin/env python3
"""--raw holds memory flat: peak RSS of a run that writes every record vs the same run
without --raw, each in a fresh process, at 10^5 requests (or --count) to one loopback
target (the fixture server's /health, or --url such as nginx's). The ratio must stay
within 1.25, and the file must hold count + 1 lines.

    python scripts/bench_raw.py [--count 100000] [--engine fast] [--url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from _common import write

from loadtool.server.run import FixtureServer

PEAK_RSS = """
import json, resource, sys
import loadtool
from loadtool.report.raw import RawWriter
from loadtool.runner import measure, ready
url, count, engine, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
job = loadtool.Job.build(urls=[url], count=count, concurrency=50, engine=engine)
writer = RawWriter(path) if path != "-" else None
with ready(job) as bound:
    result = measure(bound, raw=None if writer is None else writer.put, handle_signals=False)
if writer is not None:
    writer.close()
print(json.dumps({"ops": result.ops, "wall_s": result.wall_s,
                  "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def peak(url: str, count: int, engine: str, path: str) -> dict:
    run = subprocess.run([sys.executable, "-c", PEAK_RSS, url, str(count), engine, path],
                         capture_output=True, text=True, timeout=1800, check=True)
    return json.loads(run.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--engine", default="fast")
    parser.add_argument("--url", help="a loopback URL (default: the fixture server's /health)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, FixtureServer() as server:
        url = args.url or server.url("/health")
        path = os.path.join(directory, "raw.csv")
        without = peak(url, args.count, args.engine, "-")
        with_raw = peak(url, args.count, args.engine, path)
        with open(path, encoding="utf-8") as handle:
            lines = sum(1 for _ in handle)
    ratio = with_raw["rss_kb"] / without["rss_kb"]
    ok = ratio <= 1.25 and lines == with_raw["ops"] + 1
    print(f"{args.count:,} requests ({args.engine}): peak RSS {without['rss_kb']} KB without --raw, "
          f"{with_raw['rss_kb']} KB with it: ratio {ratio:.3f} (bound 1.25); {lines:,} lines for "
          f"{with_raw['ops']:,} operations")
    write(f"raw-{args.engine}", {"count": args.count, "without": without, "with": with_raw, "lines": lines,
                                 "ratio": ratio, "bound": 1.25, "pass": ok})
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

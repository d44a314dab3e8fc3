#!/usr/bin/env python3
"""--raw holds memory flat: peak RSS of a run that writes every record, at two counts (10^4
and 10^5 requests by default), against the same runs without --raw, each in a fresh process
measured from outside it (system.run_measuring_peak), to one loopback target (the fixture
server's /health, or --url such as nginx's). Flat in count: the larger count's peak with
--raw within 1.25x of the smaller's; and the file holds count + 1 lines.

    python scripts/bench_raw.py [--small 10000] [--large 100000] [--engine fast] [--url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

from _common import write

from loadtool.server.run import FixtureServer
from loadtool.system import run_measuring_peak

RUN = """
import json, sys
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
print(json.dumps({"ops": result.ops, "wall_s": result.wall_s}))
"""


def peak(url: str, count: int, engine: str, path: str) -> dict:
    code, out, err, peak_kib = run_measuring_peak([sys.executable, "-c", RUN, url, str(count), engine, path],
                                                  timeout_s=1800)
    if code:
        raise SystemExit(f"the run of {count} failed: {err.strip()}")
    lines = None
    if path != "-":
        with open(path, encoding="utf-8") as handle:
            lines = sum(1 for _ in handle)
    return {**json.loads(out), "rss_kb": peak_kib, "lines": lines}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--engine", default="fast")
    parser.add_argument("--url", help="a loopback URL (default: the fixture server's /health)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, FixtureServer() as server:
        url = args.url or server.url("/health")
        path = os.path.join(directory, "raw.csv")
        runs = {count: {"without": peak(url, count, args.engine, "-"), "with": peak(url, count, args.engine, path)}
                for count in (args.small, args.large)}
    small, large = runs[args.small], runs[args.large]
    in_count = large["with"]["rss_kb"] / small["with"]["rss_kb"]
    complete = all(run["with"]["lines"] == run["with"]["ops"] + 1 for run in runs.values())
    for count, run in runs.items():
        print(f"{count:>9,} requests ({args.engine}): peak RSS {run['without']['rss_kb']:,} KiB without --raw, "
              f"{run['with']['rss_kb']:,} KiB with it ({run['with']['rss_kb'] / run['without']['rss_kb']:.3f}x); "
              f"{run['with']['lines']:,} lines")
    print(f"with --raw, {args.large:,} against {args.small:,} requests: {in_count:.3f}x (bound 1.25)")
    ok = in_count <= 1.25 and complete
    write(f"raw-{args.engine}", {"runs": runs, "ratio_in_count": in_count, "bound": 1.25, "complete": complete,
                                 "pass": ok})
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

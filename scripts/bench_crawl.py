#!/usr/bin/env python3
"""loadtool crawl against Scrapy on the same crawl: the fixture web (web profile) from
/web/0/page/0, gzip-encoded as real servers answer (both ask for it and decode it; each
side's count of gzip-encoded answers is printed), every link followed, concurrency 50, politeness off (no robots.txt, no
per-host limits, no delays), both stopped at the same page count. Prints pages/s and
CPU per page side by side, from one run, and writes JSON.

Scrapy runs from its own virtual environment (it is not a loadtool dependency):

    python -m venv /tmp/scrapy-venv && /tmp/scrapy-venv/bin/pip install scrapy
    python scripts/bench_crawl.py [--pages 5000] [--scrapy-python /tmp/scrapy-venv/bin/python]

Also: ``--memory`` measures loadtool crawl's peak RSS at two page counts (memory must
stay bounded as the frontier and the seen set grow).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from _common import write

from loadtool.server.run import FixtureServer
from loadtool.system import run_measuring_peak

SPIDER = r"""
import json, sys, time
import scrapy
from scrapy.crawler import CrawlerProcess

base, pages, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

class Follow(scrapy.Spider):
    name = "follow"
    start_urls = [base + "/web/0/page/0"]

    def parse(self, response):
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href)

stats = {}
process = CrawlerProcess({
    "CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
    "CONCURRENT_REQUESTS_PER_IP": 0, "DOWNLOAD_DELAY": 0, "ROBOTSTXT_OBEY": False,
    "AUTOTHROTTLE_ENABLED": False, "COOKIES_ENABLED": False, "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "ERROR", "CLOSESPIDER_PAGECOUNT": pages, "RETRY_ENABLED": False,
    "HTTPERROR_ALLOW_ALL": True,
})
crawler = process.create_crawler(Follow)
process.crawl(crawler)
process.start()
got = crawler.stats.get_stats()
print(json.dumps({"pages": got.get("response_received_count", 0), "wall_s": got.get("elapsed_time_seconds"),
                  "compressed": got.get("httpcompression/response_count", 0)}))
"""


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str]) -> tuple[dict, float, int]:
    """Run ``command``; its JSON output, the CPU seconds it used, and its peak RSS (KiB)."""
    before = child_cpu()
    run = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    if run.returncode not in (0, 1):
        raise SystemExit(f"{command[0]} failed ({run.returncode}): {run.stderr.strip()[-2000:]}")
    text = run.stdout.strip()
    data = json.loads(text if text.startswith("{\n") else text.splitlines()[-1])  # loadtool's JSON, or a last line
    return data, child_cpu() - before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def loadtool_crawl(base: str, pages: int, concurrency: int, *extra: str) -> dict:
    data, cpu_s, _ = timed([sys.executable, "-m", "loadtool", "crawl", "--server", base, "-n", str(pages),
                            "-c", str(concurrency), "--ignore-robots", "--format", "json", "--no-progress", *extra])
    return {"pages": data["ops"], "wall_s": data["wall_s"], "cpu_s": cpu_s,
            "pages_per_s": data["ops"] / data["wall_s"], "cpu_ms_per_page": cpu_s / data["ops"] * 1000,
            "parse_cpu_ms": data["details"]["crawl"]["parse_cpu_ms"], "compressed": data.get("compressed", 0)}


def scrapy_crawl(python: str, base: str, pages: int, concurrency: int) -> dict:
    data, cpu_s, _ = timed([python, "-c", SPIDER, base, str(pages), str(concurrency)])
    return {"pages": data["pages"], "wall_s": data["wall_s"], "cpu_s": cpu_s,
            "pages_per_s": data["pages"] / data["wall_s"], "cpu_ms_per_page": cpu_s / data["pages"] * 1000,
            "compressed": data["compressed"]}


PEAK = """
import json, sys
from loadtool.crawl import Crawl, CrawlOptions
import loadtool
from loadtool.runner import measure
job = loadtool.Job.build(urls=["/web/0/page/0?hosts=64&pages=1000000"], server=sys.argv[1], count=int(sys.argv[2]),
                         concurrency=100)
crawl = Crawl(CrawlOptions(max_pages=int(sys.argv[2]), robots=False).by(sys.argv[3], 2))
result = measure(job, strategy=crawl, handle_signals=False)
crawl = result.details["crawl"]
print(json.dumps({"pages": result.ops, "links": crawl["links_found"], "frontier_peak": crawl["frontier_peak"]}))
"""


def memory(base: str, small: int, large: int, strategy: str) -> dict:
    """Peak RSS at two page counts, each crawl measured from outside (the largest of the crawl's
    processes, partitions included: system.run_measuring_peak)."""
    runs = {}
    for pages in (small, large):
        code, out, err, peak = run_measuring_peak([sys.executable, "-c", PEAK, base, str(pages), strategy],
                                                  timeout_s=3600)
        if code:
            raise SystemExit(f"the crawl of {pages} pages failed: {err.strip()}")
        runs[pages] = {**json.loads(out), "rss_kb": peak}
    ratio = runs[large]["rss_kb"] / runs[small]["rss_kb"]
    print(f"memory ({strategy}): {runs[small]['links']:,} links discovered: peak RSS {runs[small]['rss_kb']:,} KiB; "
          f"{runs[large]['links']:,} links: {runs[large]['rss_kb']:,} KiB — ratio {ratio:.2f} (bound 1.5)")
    return {"strategy": strategy, "runs": runs, "ratio": ratio, "bound": 1.5, "pass": ratio <= 1.5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--scrapy-python", default="/tmp/scrapy-venv/bin/python")
    parser.add_argument("--memory", action="store_true",
                        help="also measure peak RSS at 2,000 and 190,000 pages (10^4 and 10^6 links found)")
    parser.add_argument("--memory-strategy", choices=("async", "processes"), default="async",
                        help="the crawl strategy --memory measures (processes: the larger of the parent's and "
                             "the partitions' peak)")
    args = parser.parse_args()
    with FixtureServer(profile="web") as server:
        started = time.perf_counter()
        ours = loadtool_crawl(server.base_url, args.pages, args.concurrency)
        theirs = scrapy_crawl(args.scrapy_python, server.base_url, args.pages, args.concurrency)
        speed = ours["pages_per_s"] / theirs["pages_per_s"]
        cpu = ours["cpu_ms_per_page"] / theirs["cpu_ms_per_page"]
        for name, run in (("loadtool crawl", ours), ("scrapy", theirs)):
            print(f"{name:15} {run['pages']:>6,} pages in {run['wall_s']:6.2f}s  {run['pages_per_s']:7,.0f} pages/s  "
                  f"{run['cpu_ms_per_page']:5.2f} ms CPU/page  {run['compressed']:>6,} gzip-encoded")
        print(f"loadtool/scrapy: {speed:.2f}x pages/s (bar >= 3), {cpu:.2f}x CPU per page (bar <= 0.2); "
              f"{time.perf_counter() - started:.0f}s in all")
        data = {"pages": args.pages, "concurrency": args.concurrency, "loadtool": ours, "scrapy": theirs,
                "speed_ratio": speed, "cpu_ratio": cpu, "pass": speed >= 3 and cpu <= 0.2}
        if args.memory:
            data["memory"] = memory(server.base_url, 2_000, 190_000, args.memory_strategy)
    write("crawl", data)


if __name__ == "__main__":
    main()

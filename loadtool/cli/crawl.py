"""loadtool crawl: follow links from seeds, as a real scraping job runs, and measure it."""

from __future__ import annotations

import click

from ..names import CRAWL_STRATEGIES
from ..options import FIXTURE_COUNT, default
from ..system import cpu_count
from .flags import group, grouped_command, options_for


@grouped_command("crawl")
@click.argument("seeds", nargs=-1, metavar="[URL|/PATH]...")
@group(
    "Crawl",
    click.option("--max-pages", "-n", "count", metavar="N", default=str(FIXTURE_COUNT), show_default=True,
                 help="Pages to fetch at most (10k, 1M work); the crawl ends sooner when it runs out of links."),
    click.option("--max-depth", metavar="D", help="Follow links at most D clicks from a seed (seeds are depth 0)."),
    click.option("--same-host", is_flag=True, help="Stay on the seeds' hosts."),
    click.option("--allow-domain", "allow_domains", multiple=True, metavar="DOMAIN",
                 help="Follow links only to DOMAIN and its subdomains (repeatable)."),
    click.option("--ignore-robots", is_flag=True, help="Do not fetch or obey robots.txt (it is obeyed by default)."),
    click.option("--follow-nofollow", is_flag=True,
                 help="Also follow links marked rel=\"nofollow\" and those of pages whose <meta name=\"robots\"> or "
                      "X-Robots-Tag says nofollow. By default they are not followed, as a polite crawler would "
                      "not (Scrapy follows them), and the report counts them."),
    click.option("--sort-query", is_flag=True,
                 help="Count URLs whose query differs only in the order of its parameters (?a=1&b=2, ?b=2&a=1) "
                      "as one page. Off by default: a site may read them in order."),
    click.option("--sitemaps", is_flag=True,
                 help="Also queue the pages listed in the sitemaps each host's robots.txt names (Sitemap: lines; "
                      "sitemap indexes and .gz followed, at most 50 files a host), one click from the host."),
    click.option("--parse", metavar="MODULE:FUNCTION",
                 help="Call FUNCTION(url, status, headers, body) on every HTML page (sync or async; MODULE may be "
                      "a .py file) and measure the CPU it takes: what sizes real scraping jobs."),
    click.option("--adaptive-rate", is_flag=True,
                 help="A host that answers 429 (or 503 with Retry-After) always waits as long as it says; then, "
                      "by default, it gets one page per Retry-After (never too fast again). With this, its rate "
                      "is halved at each 429 and grows 2% a page answered, settling near its limit."),
)
@group(
    "Strategy",
    click.option("--strategy", "-s", type=click.Choice(CRAWL_STRATEGIES), metavar="NAME", default=default("strategy"),
                 show_default=True,
                 help="threads: fetch with requests in C threads (the frontier and parsing on one loop). async: "
                      "fetch and parse on one asyncio event loop. hybrid: fetch on the loop, parse (links and "
                      "--parse) in P worker processes. processes: P processes, each crawling the hosts it owns "
                      "(a hash of the host) on its own loop, links to other hosts sent to their owner. cluster: "
                      "the same partitions as tasks on a dask cluster's workers."),
)
@options_for("crawl")
def command(seeds, max_depth, same_host, allow_domains, ignore_robots, follow_nofollow, sort_query, sitemaps, parse,
            processes, adaptive_rate, **options) -> int:
    """Crawl from SEEDS, following links: a frontier with a queue per host, robots.txt
    obeyed, duplicates dropped, every page parsed; report pages/s, links, the frontier,
    hosts, fetch latency and parse CPU.

    SEEDS are URLs or fixture paths. With none: the fixture web, /web/0/page/0, whose
    /web/{h}/ hosts link to each other along a seeded graph, with robots.txt, redirects,
    404s and images.
    """
    from dataclasses import replace

    from ..crawl import Crawl, CrawlOptions
    from ..job import Job
    from ..job.parse import MAX_COUNT, whole_number
    from .deliver import Delivery, run_and_report

    delivery = Delivery.from_options(options)
    if sitemaps and ignore_robots:
        raise click.UsageError("--sitemaps reads the Sitemap: lines of robots.txt, which --ignore-robots skips")
    if processes is not None and options["strategy"] not in ("hybrid", "processes"):
        raise click.UsageError("--processes goes with --strategy hybrid or processes "
                               f"({options['strategy']} runs in one process)")
    whole_number("max-pages", options["count"], 1, MAX_COUNT)  # named as the crawl names it
    job = Job.build(kind="fetch", urls=seeds or ("/web/0/page/0",), **options)
    processes = whole_number("processes", processes, 1, 256) if processes else cpu_count()
    crawl = Crawl(CrawlOptions(max_pages=job.count or 0, robots=not ignore_robots, sitemaps=sitemaps, parse=parse,
                               same_host=same_host, follow_nofollow=follow_nofollow, sort_query=sort_query,
                               adaptive_rate=adaptive_rate,
                               allow_domains=tuple(domain.lower().strip(".") for domain in allow_domains),
                               max_depth=None if max_depth is None else whole_number("max-depth", max_depth, 0))
                  .by(options["strategy"], processes))
    return run_and_report(replace(job, engine=crawl.engines["fetch"][0]), delivery, strategy=crawl)

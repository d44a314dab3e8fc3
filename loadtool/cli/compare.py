"""loadtool compare: one job with every strategy in turn, side by side (or --crawl, crawls)."""

from __future__ import annotations

import click

from ..names import ALL_STRATEGIES, CRAWL_COMPARED, CRAWL_STRATEGIES, STRATEGIES
from .flags import group, grouped_command, options_for


@grouped_command("compare")
@click.argument("targets", nargs=-1, metavar="[URL|/PATH|FILE]...")
@group(
    "Strategies",
    click.option("--read", "read_files", is_flag=True,
                 help="Read files instead of fetching: the arguments are paths (none: a temporary tree)."),
    click.option("--crawl", is_flag=True,
                 help=f"Crawl from the targets (none: the fixture web) with {', '.join(CRAWL_COMPARED)} (cluster "
                      "when named), instead of fetching them: pages/s, links and parse CPU side by side (see "
                      "loadtool crawl)."),
    click.option("--parse", metavar="MODULE:FUNCTION",
                 help="With --crawl: call FUNCTION(url, status, headers, body) on every page and measure its CPU, "
                      "to see which strategy wins when parsing is what costs."),
    click.option("--strategies", metavar="LIST", default=",".join(STRATEGIES), show_default=True,
                 help="Strategies to run, comma-separated, in this order of preference."))
@options_for("compare")
def command(targets, read_files, crawl, parse, strategies, body, headers, verify, **options) -> int:
    """Run one job with every strategy in turn and print them side by side.

    Wall time, ops/s, p50/p99, errors, speed-up against sequential, efficiency against
    the ideal and client CPU. With no target: 100 fetches of the fixture server's
    /delay/50, so sequential takes about 5 s and the others show what overlap buys.
    """
    from ..plan.experiments import COMPARE_COUNT, compare
    from ..job.parse import strategy_list
    from ..runner import prepared
    from ..targets.operation import is_operation
    from .deliver import Delivery, run_then_deliver
    from .flags import experiment_job

    if parse and not crawl:
        raise click.UsageError("--parse goes with --crawl: the pages of a fetch are not parsed")
    if crawl:
        if read_files:
            raise click.UsageError("--crawl and --read: a crawl fetches pages")
        given = strategies != ",".join(STRATEGIES)
        crawlers = strategy_list(strategies, CRAWL_STRATEGIES) if given else CRAWL_COMPARED
        delivery = Delivery.from_options(options, runs=True)
        return compare_crawls(targets, crawlers, parse, delivery, body, headers, options)
    chosen = strategy_list(strategies, ALL_STRATEGIES)
    if targets and all(is_operation(target) for target in targets):  # FILE.py:NAME: the user's own
        delivery = Delivery.from_options(options, runs=True)
        jobs = operation_jobs(targets, chosen, options)
        raw = None if delivery.raw is None else delivery.raw.for_run
        return run_then_deliver(delivery, lambda: prepared(jobs[0], lambda: compare(
            jobs[0], chosen, delivery.progress_factory(leave=True), raw, also=jobs[1:])))
    # Built for one of the chosen strategies that runs --engine (cluster first, so its
    # options are checked); each strategy then runs it with the engine it has.
    options["strategy"], options["engine"] = compare_strategy(chosen, options["engine"])
    delivery = Delivery.from_options(options, runs=True)
    if not targets and not read_files and options["count"] is None and options["duration"] is None:
        options["count"] = str(COMPARE_COUNT)
    job = experiment_job(targets, read_files, body, headers, verify, options)
    raw = None if delivery.raw is None else delivery.raw.for_run
    progress = delivery.progress_factory(leave=True)
    return run_then_deliver(delivery, lambda: prepared(job, lambda: compare(job, chosen, progress, raw)))


def operation_jobs(targets: tuple[str, ...], chosen: tuple[str, ...], options: dict) -> list:
    """compare FILE.py:NAME…: a job for each operation (a def and an async def of the same work,
    say), each run by the chosen strategies that run it."""
    from ..errors import UsageError
    from ..job import Job
    from ..strategies import running
    from .flags import FETCH_ONLY_OPTIONS, READ_ONLY_OPTIONS, drop

    fixture, server = options.pop("fixture", False), options.pop("server", None)
    drop(options, (FETCH_ONLY_OPTIONS | READ_ONLY_OPTIONS) - {"server", "fixture"})
    options.pop("engine", None)
    options.pop("strategy", None)
    jobs = [Job.build(kind="run", operation=target, fixture=fixture, server=server, **options) for target in targets]
    if not any(running(job.engine, names=chosen) for job in jobs):
        raise UsageError(f"none of --strategies {','.join(chosen)} runs {', '.join(targets)}")
    return jobs


def compare_strategy(chosen: tuple[str, ...], engine: str | None) -> tuple[str, str | None]:
    """The strategy and engine a compare job is built for: the first chosen strategy that runs
    ``engine`` — or cluster when chosen, so its options are checked. Each strategy then runs
    the job with ``engine`` if it has it, else with its own default."""
    from .. import strategies
    from ..errors import UsageError

    runs = [name for name in chosen if engine is None or engine in strategies.get(name).engines["fetch"]]
    if not runs:
        raise UsageError(f"none of --strategies {','.join(chosen)} runs --engine {engine}; "
                         f"the pairs are {strategies.pairs()}")
    if "cluster" in chosen:
        return "cluster", engine if "cluster" in runs else None
    return runs[0], engine


def compare_crawls(seeds: tuple[str, ...], strategies: tuple[str, ...], parse: str | None, delivery,
                   body: str | None, headers: tuple[str, ...], options: dict) -> int:
    """compare --crawl: the same crawl with each strategy in turn, on one fixture server."""
    from dataclasses import replace

    from ..crawl import Crawl, CrawlOptions
    from ..job import Job
    from ..job.parse import body_from
    from ..runner import measure, prepared, ready
    from ..system import cpu_count
    from .deliver import run_then_deliver
    from .flags import READ_ONLY_OPTIONS, drop

    drop(options, READ_ONLY_OPTIONS | {"engine", "strategy"})
    # Built as a cluster job when cluster is one of them, so that --local-cluster/--scheduler are taken.
    job = Job.build(kind="fetch", urls=seeds or ("/web/0/page/0",),
                    strategy="cluster" if "cluster" in strategies else "async",
                    headers=headers, body=body_from(body, options["max_body"]), **options)
    raw = None if delivery.raw is None else delivery.raw.for_run
    Crawl(CrawlOptions(max_pages=0, parse=parse))  # a bad --parse is a usage error before any run

    def run() -> list:
        results = []
        with ready(job) as bound:
            for strategy in strategies:
                crawl = Crawl(CrawlOptions(max_pages=bound.count or 0, parse=parse).by(strategy,
                                                                                    bound.processes or cpu_count()))
                results.append(measure(replace(bound, strategy=strategy, engine=crawl.engines["fetch"][0]),
                                       delivery.progress_factory("crawl"),
                                       strategy=crawl, raw=None if raw is None else raw(strategy)))
                if results[-1].interrupted:
                    break
        return results

    return run_then_deliver(delivery, lambda: prepared(job, run))

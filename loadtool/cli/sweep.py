"""loadtool sweep: throughput and latency at each concurrency level, and the knee."""

from __future__ import annotations

from functools import partial

import click

from .flags import group, grouped_command, options_for


@grouped_command("sweep")
@click.argument("targets", nargs=-1, metavar="[URL|/PATH|FILE]...")
@group(
    "Levels",
    click.option("--read", "read_files", is_flag=True,
                 help="Read files instead of fetching: the arguments are paths (none: a temporary tree)."),
    click.option("--concurrency", "-c", "levels", metavar="LIST", default="1,2,4,...,1024", show_default=True,
                 help="Concurrency levels: a list, where '...' continues the pattern of the two before it "
                      "(1,2,4,...,64 doubles; 10,20,...,100 adds 10)."),
    click.option("--min-gain", metavar="PCT", default="10%", show_default=True,
                 help="The knee is where doubling concurrency buys less throughput than this."),
    click.option("--p99-max", metavar="TIME",
                 help="…or where p99 passes this. Default: where latency passes twice the lowest level's, "
                      "read at the highest percentile every level has enough operations for (p99 from "
                      "1,000 a level, p90 from 100, the median below 40)."))
@options_for("sweep")
def command(targets, read_files, levels, min_gain, p99_max, body, headers, verify, **options) -> int:
    """Measure throughput and latency at each concurrency level; name the knee.

    With no --count, each level does 10 rounds of its concurrency (at least 20
    operations). With no target: the fixture server's /delay/50.
    """
    from ..plan.experiments import sweep
    from ..job.parse import seconds
    from ..units import parse_levels, parse_share
    from ..runner import prepared
    from .deliver import Delivery, run_then_deliver
    from .flags import experiment_job

    delivery = Delivery.from_options(options, runs=True)
    count_given = options["count"] is not None
    level_list = parse_levels(levels)
    gain = parse_share("--min-gain", min_gain)
    p99_max_ms = None if p99_max is None else seconds("p99-max", p99_max) * 1000
    options["concurrency"] = str(max(level_list))
    job = experiment_job(targets, read_files, body, headers, verify, options)
    raw = None if delivery.raw is None else delivery.raw.for_run
    progress_for = partial(delivery.progress_factory, leave=True)
    return run_then_deliver(delivery, lambda: prepared(job, lambda: sweep(
        job, level_list, count_given, gain, p99_max_ms, raw=raw, progress_for=progress_for)))

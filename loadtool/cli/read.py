"""loadtool read: read files with one strategy; report latency, files/s, MB/s and errors."""

from __future__ import annotations

import click

from .flags import (amount_options, cluster_options, concurrency_option, group, grouped_command, histogram_option,
                      limit_options, output_options, processes_option, raw_option, read_options, strategy_option)


@grouped_command("read")
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@group("Strategy", strategy_option, concurrency_option("read"), processes_option)
@amount_options("read")
@read_options()
@limit_options
@cluster_options
@output_options(raw_option, histogram_option)
def command(paths, verify, **options) -> int:
    """Read files with one strategy; report latency, files/s, MB/s and errors.

    PATHs are files or directories (a directory made by `loadtool files make` is read
    through its manifest). With no PATH, loadtool writes a temporary tree of --count
    files of --file-size, reads it, and removes it.
    """
    from ..job import Job
    from .deliver import Delivery, run_and_report

    delivery = Delivery.from_options(options)
    job = Job.build(kind="read", paths=paths, verify=verify is not None, **options)
    return run_and_report(job, delivery)

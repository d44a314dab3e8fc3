"""loadtool read: read files with one strategy; report latency, files/s, MB/s and errors."""

from __future__ import annotations

import click

from .flags import grouped_command, options_for


@grouped_command("read")
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@options_for("read")
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

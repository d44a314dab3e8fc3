"""loadtool run: your own operation, a Python function or class, run as a load."""

from __future__ import annotations

import click

from .flags import group, grouped_command, option, options_for


@grouped_command("run")
@click.argument("operation", metavar="FILE.py:NAME")
@group("Strategy", option("strategy", "run", default=None, show_default=False, help=(
    "How operations overlap: a def one at a time (sequential), in a thread pool (threads, the default) or in a "
    "process pool (processes); an async def on one event loop (async, the default), on a loop in each of P "
    "processes (hybrid), or on the workers of a dask cluster (cluster).")))
@options_for("run")
def command(operation, **options) -> int:
    """Run your own operation: NAME in FILE.py, called once per operation as NAME(i).

    NAME is a function, or a class with one instance per worker (a thread, a process,
    an event loop), called as obj(i) and entered as a context manager when it is one:
    that is where a session or a login lives. A def runs in sequential, threads (the
    default) or processes; an async def in async (the default), hybrid or cluster.
    Inside it, `with loadtool.step("login"):` times a part of the operation, and
    `loadtool.check(condition, "name")` counts a condition's pass rate; an exception
    is a failed operation, counted by its type, its first traceback shown once.
    """
    from ..job import Job
    from .deliver import Delivery, run_and_report

    delivery = Delivery.from_options(options)
    job = Job.build(kind="run", operation=operation, **options)
    return run_and_report(job, delivery)

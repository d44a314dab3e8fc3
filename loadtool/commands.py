"""What the commands do once their options are parsed: run, report, choose the exit code.

Exit codes: 0 ok; 1 a --fail-if threshold failed; 2 usage error; 3 the run could not do
its work (fixture server did not start, every operation failed); 130 Ctrl-C and 143
SIGTERM, after printing the partial report.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from .errors import UsageError
from .job import Job
from .result import Result

EXIT_OK, EXIT_THRESHOLD, EXIT_USAGE, EXIT_FAILED, EXIT_SIGINT, EXIT_SIGTERM = 0, 1, 2, 3, 130, 143


def build_job(**options: Any) -> Job:
    """A Job from parsed options; a bad one is a click usage error (one line, exit 2)."""
    try:
        return Job.build(**options)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None


def _progress_factory(enabled: bool, quiet: bool):
    if not enabled or quiet or not sys.stderr.isatty():
        return None
    from .progress import live_progress

    return live_progress


def emit(results: Sequence[Result], fmt: str, output: str | None, quiet: bool, as_list: bool = False) -> None:
    """Print the report on stdout and/or write it to ``output``."""
    from .report import render_text, table

    if output:
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(render_text(results, fmt, as_list))
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    if quiet:
        return
    if fmt == "table" or output:
        from rich.console import Console

        # Piped output has no width of its own; 80 columns would wrap the latency line.
        Console(width=None if sys.stdout.isatty() else 120).print(table(results))
    else:
        click.echo(render_text(results, fmt, as_list), nl=False)


def exit_code(results: Sequence[Result]) -> int:
    """The exit code a set of results earns, with a line on stderr saying why when not 0."""
    for result in results:
        if result.interrupted:
            return EXIT_SIGTERM if result.interrupted == "SIGTERM" else EXIT_SIGINT
    for result in results:
        if result.ops and not result.ok:
            click.echo(f"loadtool: every operation failed ({result.strategy}); first error: "
                       f"{result.stats.first_error or 'none recorded'}", err=True)
            return EXIT_FAILED
    return EXIT_OK


def run_and_report(job: Job, fmt: str, output: str | None, quiet: bool, progress: bool) -> int:
    from .runner import measure, ready

    try:
        with ready(job) as bound:
            result = measure(bound, progress=_progress_factory(progress, quiet))
    except RuntimeError as exc:
        click.echo(f"loadtool: {exc}", err=True)
        return EXIT_FAILED
    emit([result], fmt, output, quiet)
    return exit_code([result])


def serve_foreground(host: str, port: int, seed: int, profile: str, exit_with_parent: bool) -> int:
    from .server.run import serve
    from .system import is_loopback

    if not is_loopback(host):
        click.echo(f"loadtool serve: warning: listening on {host}, not loopback: anyone who can reach "
                   f"this machine can load it", err=True)

    def announce(line: str) -> None:
        click.echo(line if exit_with_parent else f"{line}; Ctrl-C stops it")
        sys.stdout.flush()

    try:
        serve(host, port, seed, profile, announce=announce, exit_with_parent=exit_with_parent)
    except OSError as exc:
        click.echo(f"loadtool serve: error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        return EXIT_FAILED
    return EXIT_OK


def make_files(directory: str, count: str, size: str, sizes: str | None, seed: str) -> int:
    import time

    from .files import make_tree, parse_sizes
    from .job import _whole
    from .units import format_bytes, format_duration

    try:
        spec = parse_sizes(size, sizes)
        total_files, seed_value = _whole("count", count, 1), _whole("seed", seed, 0)
        started = time.perf_counter()
        manifest = make_tree(directory, total_files, spec, seed_value)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        click.echo(f"loadtool files make: error: {exc.strerror or exc}: {exc.filename or directory}", err=True)
        return EXIT_FAILED
    written = sum(spec.size(seed_value, index) for index in range(total_files))
    click.echo(f"wrote {total_files:,} files, {format_bytes(written)}, under {directory} in "
               f"{format_duration(time.perf_counter() - started)}; manifest {manifest}")
    return EXIT_OK

"""How results reach the user: the report on stdout or in a file, the extra files, the exit code.

Every command that runs something hands its Results here (``run_then_deliver``): the
report is printed and written in the format asked for, with --series, --plot, --html,
--hdr-log and --junit beside it, and the exit code its results earn (``runner.stops``) is
said. Exit codes (names.py): 0 ok; 1 a --fail-if threshold failed; 2 usage error; 3 the
run could not do its work (fixture server did not start, every operation failed); 4 a
worker process died under the run (the report holds what the others measured); 130
Ctrl-C and 143 SIGTERM, after printing the partial report.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import click

from ..job import Job
from ..names import FORMATS, EXIT_FAILED
from ..runner.result import Result


@dataclass(frozen=True)
class Delivery:
    """How results reach the user: report format and destination, extras, thresholds."""

    fmt: str = "table"
    output: str | None = None
    quiet: bool = False
    progress: bool = True
    #: --live: the live view instead of the progress line (on a terminal that can redraw).
    live: bool = False
    thresholds: tuple = ()
    #: The files asked for beside the report, by option (report.FILES): {"html": "run.html"}.
    files: dict[str, str] = field(default_factory=dict)
    #: Stored results that relative thresholds (``p99>+10%``) compare with.
    baseline: list | None = None
    #: Where each operation's record goes (--raw), opened before the run.
    raw: Any = None
    #: The latency histogram in the text report: True, False, or None (runs over 1,000 operations).
    histogram: bool | None = None
    #: --prometheus: the metrics server (a report.prometheus.Exporter), started before the run.
    exporter: Any = None
    #: --linger: how long the metrics stay served after the last run, in seconds.
    linger_s: float = 0.0

    @classmethod
    def from_options(cls, options: dict[str, Any], runs: bool = False) -> Delivery:
        """Take the output options out of ``options``, checking them before any run starts:
        a path that cannot be written (or given twice) is a usage error now, not after the
        whole run. ``runs``: the command makes several runs (compare, sweep), told apart in --raw."""
        from ..options import FILES
        from ..report import report_module
        from ..report.thresholds import load_baseline, parse_thresholds

        baseline_path = options.pop("baseline")
        files = {name: path for name in FILES if (path := options.pop(name, None)) is not None}
        output = options.pop("output")
        delivery = cls(fmt=report_format(options.pop("fmt"), output), output=output, quiet=options.pop("quiet"),
                       progress=not options.pop("no_progress"), live=options.pop("live"),
                       thresholds=parse_thresholds(options.pop("fail_if"), baseline_path), files=files,
                       baseline=load_baseline(baseline_path) if baseline_path else None,
                       histogram=options.pop("histogram", None))
        raw = options.pop("raw", None)
        check_paths({"output": delivery.output, "raw": raw, **files})
        for name, (module, _, requirement) in FILES.items():
            if name in files and requirement:
                getattr(report_module(module), requirement)()
        if raw is not None:
            from ..report.raw import RawWriter

            delivery = replace(delivery, raw=RawWriter(raw, runs))
        return delivery.serving(options.pop("prometheus", None), options.pop("linger", None))

    def serving(self, address: str | None, linger: str | None) -> Delivery:
        """This delivery with --prometheus serving at ``address`` (started now), for --linger."""
        if linger is not None and address is None:
            raise click.UsageError("--linger keeps --prometheus metrics served: give --prometheus ADDR too")
        if address is None:
            return self
        from ..job.parse import seconds
        from ..report.prometheus import Exporter

        linger_s = seconds("linger", linger, positive=False) if linger is not None else 0.0
        delivery = replace(self, exporter=Exporter(address), linger_s=linger_s)
        click.echo(f"loadtool: metrics at {delivery.exporter.url}", err=True)
        if delivery.exporter.public:
            click.echo("loadtool: warning: the metrics listen beyond loopback: anyone who can reach this "
                       "machine can read them", err=True)
        return delivery

    def progress_factory(self, what: str | None = None, leave: bool = False):
        """What watches each run: the live progress line (on a terminal) and the
        --prometheus exporter, as one context-manager factory of (job, layout, sink); or None
        (``what`` and ``leave``: as ``live_view`` takes them)."""
        watchers = []
        if self.live:  # asked for by name: shown on stderr whatever -q does to stdout
            from ..report.live import can_redraw, live_view

            if can_redraw():
                watchers.append(partial(live_view, what=what, leave=leave))
        if not watchers and self.progress and (not self.quiet or self.live) and sys.stderr.isatty():
            from ..report.progress import live_progress

            watchers.append(live_progress)
        if self.exporter is not None:
            watchers.append(self.exporter.watch)
        if len(watchers) < 2:
            return watchers[0] if watchers else None

        @contextmanager
        def both(job, layout, sink):
            with watchers[0](job, layout, sink), watchers[1](job, layout, sink):
                yield
        return both


#: Words that name a format, not a file: ``-o json`` (oha's and k6's habit) means --format json.
_FORMAT_WORDS = frozenset({"table", "json", "csv", "text", "txt", "html", "jsonl", "yaml"})


def report_format(fmt: str | None, output: str | None, allowed: tuple[str, ...] = tuple(FORMATS)) -> str:
    """The report's format: --format as given, else the extension of -o FILE (``r.json`` is
    JSON), else the table. A format word given to -o is a usage error naming --format: it
    would otherwise write the table into a file called ``json``."""
    from ..errors import UsageError

    if output is not None and output.lower() in _FORMAT_WORDS and not os.path.exists(output):
        word = output.lower()
        instead = f"--format {word}" if word in allowed else f"--format {'|'.join(allowed)}"
        raise UsageError(f"-o {output} names the file to write, not a format: use {instead} "
                         f"(and -o FILE.{'json' if word not in allowed else word} to write it to a file)")
    if fmt is not None:
        return fmt
    extension = os.path.splitext(output or "")[1].lower().lstrip(".")
    return extension if extension in allowed else allowed[0]


def check_paths(paths: dict[str, str | None]) -> None:
    """UsageError unless every path given can be written, and no two options name one file
    (one would silently overwrite the other)."""
    from ..errors import UsageError

    given = {option: path for option, path in paths.items() if path is not None}
    seen: dict[str, str] = {}
    for option, path in given.items():
        flag = "--" + option.replace("_", "-")
        check_writable(flag, path)
        same = seen.setdefault(os.path.realpath(path), flag)
        if same != flag:
            raise UsageError(f"{same} and {flag} both name {path}: give each its own file")


def check_writable(option: str, path: str) -> None:
    """UsageError unless ``path`` can be written — tried, not guessed: opened for appending
    (and removed again if that made it) — and is no symbolic link, which would have another
    file overwritten."""
    from ..errors import UsageError

    directory = os.path.dirname(os.path.abspath(path))
    if os.path.islink(path):
        raise UsageError(f"{option} {path}: is a symbolic link (to {os.readlink(path)}): name the file itself")
    if os.path.isdir(path):
        raise UsageError(f"{option} {path}: is a directory")
    if not os.path.isdir(directory):
        raise UsageError(f"{option} {path}: no such directory {directory}")
    existed = os.path.exists(path)
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot write it: {exc.strerror or exc}") from None
    if not existed:
        os.unlink(path)


class WriteFailed(click.ClickException):
    """A report file could not be written after the run (it was checked before)."""

    exit_code = EXIT_FAILED

    def show(self, file=None) -> None:
        click.echo(f"loadtool: error: {self.format_message()}", err=True)


def write(path: str, content: str | bytes) -> None:
    try:
        # O_NOFOLLOW: a symbolic link put there since the check is refused, not followed.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o666)
        with open(fd, "wb") if isinstance(content, bytes) else open(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
    except OSError as exc:
        raise WriteFailed(f"cannot write {path}: {exc.strerror or exc}") from None


def print_renderable(renderable) -> None:
    """A report on stdout: rich on a terminal, plain text (no colour, no trailing spaces) when piped."""
    if sys.stdout.isatty():
        from rich.console import Console

        Console().print(renderable)
        return
    from ..report.text import plain_text

    click.echo(plain_text(renderable), nl=False)


def emit(results: Sequence[Result], delivery: Delivery, knee=None) -> None:
    """Print the report on stdout and/or write it to --output; write --series and --plot.
    If --output cannot be written after all, the report goes to stdout, so it is not lost."""
    from .. import report

    def text() -> str:
        return report.render_text(results, delivery.fmt, as_list=len(results) > 1, histogram=delivery.histogram,
                                  knee=knee)

    def renderable():
        from ..report.text import renderable

        return renderable(results, knee, delivery.histogram)

    # Each made only when it is shown or written: -q with no -o renders nothing (nor imports rich).
    if delivery.output:
        content = text()
        try:
            write(delivery.output, content)
        except WriteFailed:
            click.echo(content, nl=False)
            raise
    if not delivery.quiet:
        if delivery.fmt == "table" or delivery.output:
            if sys.stdout.isatty():
                print_renderable(renderable())
            else:  # print_renderable's plain text, by text_report: the usual report without rich
                from ..report.text import text_report

                click.echo(text_report(results, knee, delivery.histogram), nl=False)
        else:
            click.echo(text(), nl=False)
    if results and delivery.files:
        _write_files(results, delivery, knee)


def _write_files(results: Sequence[Result], delivery: Delivery, knee) -> None:
    """The files asked for beside the report (report.FILES), each made by its report module."""
    from ..options import FILES
    from ..report import report_module
    from ..report.thresholds import check

    verdicts = check(delivery.thresholds, results, delivery.baseline)
    for name, path in delivery.files.items():
        module, function, _ = FILES[name]
        made = getattr(report_module(module), function)(results, path, knee, verdicts)
        for each, content in made.items():
            write(each, content)


def exit_code(results: Sequence[Result], thresholds: tuple = (), baseline: list | None = None) -> int:
    """The exit code a set of results earns (runner.stops), with a line on stderr for each reason."""
    from ..runner.stops import verdict

    code, lines = verdict(results, thresholds, baseline)
    for line in lines:
        click.echo(f"loadtool: {line}", err=True)
    return code


def deliver(results: Sequence[Result], delivery: Delivery, knee=None) -> int:
    emit(results, delivery, knee)
    code = exit_code(results, delivery.thresholds, delivery.baseline)
    if delivery.exporter is not None:
        _linger(delivery)
    return code


def _linger(delivery: Delivery) -> None:
    """Keep the final metrics scrapeable for --linger (Ctrl-C or SIGTERM ends it early)."""
    import signal

    done = threading.Event()
    if delivery.linger_s > 0:
        # The handler first: a SIGTERM sent on reading the line below ends the linger, not loadtool.
        previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
        click.echo(f"loadtool: metrics stay at {delivery.exporter.url} for {delivery.linger_s:g}s (--linger)",
                   err=True)
        sys.stdout.flush()
        try:
            done.wait(delivery.linger_s)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
    delivery.exporter.close()


def could_not_start(exc: RuntimeError) -> int:
    click.echo(f"loadtool: {exc}", err=True)
    return EXIT_FAILED


def run_then_deliver(delivery: Delivery, call: Callable[[], Any]) -> int:
    """Run ``call`` — it returns a Result, a list of them, or a sweep — then report and give
    the exit code. A signal while runs are still prepared reports an empty run; a run that
    could not start is exit 3; --raw is closed whatever happens."""
    from ..runner.stops import left_behind

    try:
        outcome = call()
    except RuntimeError as exc:
        return could_not_start(exc)
    finally:
        if delivery.raw is not None:
            delivery.raw.close()
    results, knee = ([outcome], None) if isinstance(outcome, Result) else (
        (outcome.results, outcome.knee) if hasattr(outcome, "knee") else (outcome, None))
    left_behind(results)
    return deliver(results, delivery, knee)


def warn_open_files(job: Job) -> None:
    """Say before the run when the open-files limit cannot hold its concurrency (the hard
    limit is below what it needs): its operations would fail as open_files."""
    from ..system import open_files_short

    short = open_files_short(job.concurrency)
    if short is not None:
        limit, needed = short
        click.echo(f"loadtool: warning: the open-files limit is {limit:,} (ulimit -n, hard), below the {needed:,} "
                   f"that -c {job.concurrency:,} needs: operations past it fail as open_files; raise it, or "
                   f"lower -c", err=True)


def run_and_report(job: Job, delivery: Delivery, strategy=None) -> int:
    """Run ``job`` (with its own strategy, or ``strategy``: a crawl) and deliver its Result."""
    from ..runner import measure_job

    warn_open_files(job)
    progress = delivery.progress_factory("crawl" if strategy else None)
    raw = None if delivery.raw is None else delivery.raw.put
    return run_then_deliver(delivery, lambda: measure_job(job, progress, strategy, raw))

"""What the commands do once their options are parsed: run, report, choose the exit code.

Exit codes (names.py): 0 ok; 1 a --fail-if threshold failed; 2 usage error; 3 the run
could not do its work (fixture server did not start, every operation failed); 130 Ctrl-C
and 143 SIGTERM, after printing the partial report.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import click

from .job import Job
from .result import Result

from .names import EXIT_FAILED, EXIT_OK, EXIT_SIGINT, EXIT_SIGTERM, EXIT_THRESHOLD


def usage(call: Callable, *args: Any, **kwargs: Any) -> Any:
    """``call(...)``, with its ValueError (a UsageError, or a parser's message written for
    users) turned into click's usage error: one line, exit 2."""
    try:
        return call(*args, **kwargs)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def compare_strategy(chosen: tuple[str, ...], engine: str | None) -> tuple[str, str | None]:
    """The strategy and engine a compare job is built for: the first chosen strategy that runs
    ``engine`` — or cluster when chosen, so its options are checked. Each strategy then runs
    the job with ``engine`` if it has it, else with its own default."""
    from . import strategies
    from .errors import UsageError

    runs = [name for name in chosen if engine is None or engine in strategies.get(name).engines["fetch"]]
    if not runs:
        raise UsageError(f"none of --strategies {','.join(chosen)} runs --engine {engine}; "
                         f"the pairs are {strategies.pairs()}")
    if "cluster" in chosen:
        return "cluster", engine if "cluster" in runs else None
    return runs[0], engine


def build_job(**options: Any) -> Job:
    """A Job from parsed options; a bad one is a click usage error (one line, exit 2)."""
    return usage(Job.build, **options)


@dataclass(frozen=True)
class Delivery:
    """How results reach the user: report format and destination, extras, thresholds."""

    fmt: str = "table"
    output: str | None = None
    quiet: bool = False
    progress: bool = True
    thresholds: tuple = ()
    plot: str | None = None
    series: str | None = None
    junit: str | None = None
    hdr_log: str | None = None
    html: str | None = None
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
        a path that cannot be written is a usage error now, not after the whole run.
        ``runs``: the command makes several runs (compare, sweep), told apart in --raw."""
        from .thresholds import load_baseline, parse_thresholds

        baseline_path = options.pop("baseline")
        delivery = cls(fmt=options.pop("fmt"), output=options.pop("output"), quiet=options.pop("quiet"),
                       progress=not options.pop("no_progress"),
                       thresholds=usage(parse_thresholds, options.pop("fail_if"), baseline_path),
                       plot=options.pop("plot"), series=options.pop("series"), junit=options.pop("junit"),
                       hdr_log=options.pop("hdr_log"), html=options.pop("html"),
                       baseline=usage(load_baseline, baseline_path) if baseline_path else None,
                       histogram=options.pop("histogram", None))
        for option, path in (("--output", delivery.output), ("--series", delivery.series),
                             ("--junit", delivery.junit), ("--plot", delivery.plot), ("--raw", options.get("raw")),
                             ("--hdr-log", delivery.hdr_log), ("--html", delivery.html)):
            if path is not None:
                usage(check_writable, option, path)
        if options.get("raw") is not None:
            from .report.raw import RawWriter

            delivery = replace(delivery, raw=usage(RawWriter, options.pop("raw"), runs))
        options.pop("raw", None)
        if delivery.plot:
            from .report.plot import require_matplotlib

            usage(require_matplotlib)
        if delivery.html:
            from .report.html import require_plotly

            usage(require_plotly)
        linger, address = options.pop("linger", None), options.pop("prometheus", None)
        if linger is not None and address is None:
            raise click.UsageError("--linger keeps --prometheus metrics served: give --prometheus ADDR too")
        if address is not None:
            from .report.prometheus import Exporter
            from .units import parse_duration

            linger_s = usage(parse_duration, linger) if linger is not None else 0.0
            delivery = replace(delivery, exporter=usage(Exporter, address), linger_s=linger_s)
            click.echo(f"loadtool: metrics at {delivery.exporter.url}", err=True)
            if delivery.exporter.public:
                click.echo("loadtool: warning: the metrics listen beyond loopback: anyone who can reach this "
                           "machine can read them", err=True)
        return delivery

    def progress_factory(self):
        """What watches each run: the live progress line (on a terminal) and the
        --prometheus exporter, as one context-manager factory of (job, sink); or None."""
        watchers = []
        if self.progress and not self.quiet and sys.stderr.isatty():
            from .progress import live_progress

            watchers.append(live_progress)
        if self.exporter is not None:
            watchers.append(self.exporter.watch)
        if len(watchers) < 2:
            return watchers[0] if watchers else None

        @contextmanager
        def both(job, sink):
            with watchers[0](job, sink), watchers[1](job, sink):
                yield
        return both


def check_writable(option: str, path: str) -> None:
    """UsageError unless ``path`` can be written (its directory exists and is writable)."""
    from .errors import UsageError

    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"{option} {path}: is a directory")
    if not os.path.isdir(directory):
        raise UsageError(f"{option} {path}: no such directory {directory}")
    if not os.access(directory, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UsageError(f"{option} {path}: not writable")


class WriteFailed(click.ClickException):
    """A report file could not be written after the run (it was checked before)."""

    exit_code = EXIT_FAILED


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise WriteFailed(f"cannot write {path}: {exc.strerror or exc}") from None


def _print(renderable) -> None:
    """A report on stdout: rich on a terminal, plain text (no colour, no trailing spaces) when piped."""
    if sys.stdout.isatty():
        from rich.console import Console

        Console().print(renderable)
        return
    from .report import plain_text

    click.echo(plain_text(renderable), nl=False)


def emit(results: Sequence[Result], delivery: Delivery, knee=None) -> None:
    """Print the report on stdout and/or write it to --output; write --series and --plot.
    If --output cannot be written after all, the report goes to stdout, so it is not lost."""
    from . import report

    if knee is not None:
        text, renderable = report.sweep_text(results, knee, delivery.fmt), report.sweep_table(results, knee)
    else:
        text = report.render_text(results, delivery.fmt, as_list=len(results) > 1, histogram=delivery.histogram)
        renderable = report.table(results, delivery.histogram)
    if delivery.output:
        try:
            _write(delivery.output, text)
        except WriteFailed:
            click.echo(text, nl=False)
            raise
    if not delivery.quiet:
        if delivery.fmt == "table" or delivery.output:
            _print(renderable)
        else:
            click.echo(text, nl=False)
    if delivery.series:
        _write(delivery.series, report.series_csv(results))
    if delivery.html and results:
        from .report.html import html_report

        _write(delivery.html, html_report(results, knee))
    if delivery.hdr_log and results:
        from .report.hdrlog import log_paths, write_hdr_log

        for result, path in zip(results, log_paths(results, delivery.hdr_log)):
            text = io.StringIO()
            write_hdr_log(result, text)
            _write(path, text.getvalue())
    if delivery.plot and results:
        _plot(results, delivery.plot, knee)
    if delivery.junit and results:
        from .report.junit import to_junit
        from .thresholds import check

        plain = report.sweep_text(results, knee, "table") if knee is not None else report.render_text(results, "table")
        _write(delivery.junit, to_junit(results, check(delivery.thresholds, results, delivery.baseline), plain))


def _plot(results: Sequence[Result], path: str, knee) -> None:
    from .report import plot, text

    try:
        if knee is not None:
            plot.plot_sweep(results, knee, path, text.sweep_title(results))
        else:
            plot.plot_results(results, path, text.title(results[0], compare=len(results) > 1))
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None


def exit_code(results: Sequence[Result], thresholds: tuple = (), baseline: list | None = None) -> int:
    """The exit code a set of results earns, with a line on stderr for each reason."""
    from .thresholds import baseline_notes, failures

    for line in baseline_notes(results, baseline):
        click.echo(f"loadtool: {line}", err=True)
    for result in results:
        if result.interrupted:
            return EXIT_SIGTERM if result.interrupted == "SIGTERM" else EXIT_SIGINT
    failed_thresholds = failures(thresholds, results, baseline)
    for line in failed_thresholds:
        click.echo(f"loadtool: threshold failed: {line}", err=True)
    for result in results:
        if result.ops and not result.ok:
            click.echo(f"loadtool: every operation failed ({result.strategy}); {_why_failed(result)}", err=True)
            return EXIT_FAILED
    return EXIT_THRESHOLD if failed_thresholds else EXIT_OK


def _why_failed(result: Result) -> str:
    if result.stats.first_error:
        return f"first error: {result.stats.first_error}"
    statuses = ", ".join(f"{code} ×{count}" for code, count in result.stats.status.most_common(3))
    return f"statuses: {statuses} (--ok-status decides which count as success)"


def deliver(results: Sequence[Result], delivery: Delivery, knee=None) -> int:
    emit(results, delivery, knee)
    code = exit_code(results, delivery.thresholds, delivery.baseline)
    if delivery.exporter is not None:
        _linger(delivery)
    return code


def _linger(delivery: Delivery) -> None:
    """Keep the final metrics scrapeable for --linger (Ctrl-C or SIGTERM ends it early)."""
    import signal
    import threading

    done = threading.Event()
    if delivery.linger_s > 0:
        click.echo(f"loadtool: metrics stay at {delivery.exporter.url} for {delivery.linger_s:g}s (--linger)",
                   err=True)
        sys.stdout.flush()
        previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
        try:
            done.wait(delivery.linger_s)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
    delivery.exporter.close()


def _could_not_start(exc: RuntimeError) -> int:
    click.echo(f"loadtool: {exc}", err=True)
    return EXIT_FAILED


def _until_interrupted(job: Job, call: Callable[[], Any]) -> tuple[Any, Result | None]:
    """``call()``'s value; or, when a signal comes while runs are still being prepared, the
    not-run Result of ``job`` (so the report, empty, and the exit code, 130 or 143, still come)."""
    from .runner import Interrupted, interruptible, not_run

    try:
        with interruptible():
            return call(), None
    except Interrupted as stop:
        return None, not_run(job, stop.reason)


def _run_then_deliver(job: Job, delivery: Delivery, call: Callable[[], Any]) -> int:
    """Run ``call`` — it returns a Result, a list of them, or a sweep — then report and give
    the exit code. A signal while runs are still prepared reports an empty run; a run that
    could not start is exit 3; --raw is closed whatever happens."""
    try:
        outcome, stopped = _until_interrupted(job, call)
    except RuntimeError as exc:
        return _could_not_start(exc)
    finally:
        if delivery.raw is not None:
            delivery.raw.close()
    if isinstance(outcome, Result):
        return deliver([outcome], delivery)
    if hasattr(outcome, "knee"):
        return deliver(outcome.results, delivery, outcome.knee)
    return deliver(outcome or [stopped], delivery)


def run_and_report(job: Job, delivery: Delivery) -> int:
    from .runner import measure, ready

    def run() -> Result:
        with ready(job) as bound:
            return measure(bound, progress=delivery.progress_factory(),
                           raw=None if delivery.raw is None else delivery.raw.put)

    return _run_then_deliver(job, delivery, run)


def compare_and_report(job: Job, strategies: tuple[str, ...], delivery: Delivery) -> int:
    from .experiments import compare

    raw = None if delivery.raw is None else delivery.raw.for_run
    return _run_then_deliver(job, delivery, lambda: compare(job, strategies, delivery.progress_factory(), raw))


def sweep_and_report(job: Job, levels: tuple[int, ...], count_given: bool, min_gain: float,
                     p99_max_ms: float | None, delivery: Delivery) -> int:
    from .experiments import sweep

    raw = None if delivery.raw is None else delivery.raw.for_run
    return _run_then_deliver(job, delivery, lambda: sweep(job, levels, count_given, min_gain, p99_max_ms,
                                                          progress=delivery.progress_factory(), raw=raw))


def crawl_and_report(seeds: tuple[str, ...], delivery: Delivery, *, max_depth: str | None, same_host: bool,
                     allow_domains: tuple[str, ...], robots: bool, sitemaps: bool, parse: str | None,
                     processes: str | None, options: dict[str, Any]) -> int:
    from .crawl import Crawl, CrawlOptions
    from .options import whole_number
    from .runner import measure, ready
    from .system import cpu_count

    job = build_job(kind="fetch", urls=seeds or ("/web/0/page/0",), **options)
    # A crawl fetches with aiohttp on event loops, or with requests in threads, whatever the strategy.
    job = replace(job, engine="requests" if options["strategy"] == "threads" else "aiohttp")
    processes = usage(whole_number, "processes", processes, 1, 256) if processes else cpu_count()
    crawl = usage(Crawl, CrawlOptions(max_pages=job.count or 0, robots=robots, sitemaps=sitemaps, parse=parse,
                                      same_host=same_host,
                                      allow_domains=tuple(domain.lower().strip(".") for domain in allow_domains),
                                      max_depth=None if max_depth is None else
                                      usage(whole_number, "max-depth", max_depth, 0)).by(options["strategy"], processes))

    def run() -> Result:
        with ready(job) as bound:
            return measure(bound, progress=delivery.progress_factory(), strategy=crawl,
                           raw=None if delivery.raw is None else delivery.raw.put)

    return _run_then_deliver(job, delivery, run)


def compare_crawls(seeds: tuple[str, ...], strategies: tuple[str, ...], parse: str | None, delivery: Delivery,
                   body: str | None, headers: tuple[str, ...], options: dict[str, Any]) -> int:
    """compare --crawl: the same crawl with each strategy in turn, on one fixture server."""
    from .crawl import Crawl, CrawlOptions
    from .options import body_from
    from .runner import measure, ready
    from .system import cpu_count

    for name in ("from_list", "recursive", "block_size", "evict_cache", "file_size", "engine", "strategy"):
        options.pop(name, None)
    # Built as a cluster job when cluster is one of them, so that --local-cluster/--scheduler are taken.
    job = build_job(kind="fetch", urls=seeds or ("/web/0/page/0",), engine="aiohttp",
                    strategy="cluster" if "cluster" in strategies else "async",
                    headers=headers, body=usage(body_from, body, options["max_body"]), **options)
    raw = None if delivery.raw is None else delivery.raw.for_run
    usage(Crawl, CrawlOptions(max_pages=0, parse=parse))  # a bad --parse is a usage error before any run

    def run() -> list[Result]:
        results = []
        with ready(job) as bound:
            for strategy in strategies:
                crawl = Crawl(CrawlOptions(max_pages=bound.count or 0, parse=parse).by(strategy,
                                                                                    bound.processes or cpu_count()))
                results.append(measure(bound.with_strategy(strategy), delivery.progress_factory(),
                                       strategy=crawl, raw=None if raw is None else raw(strategy)))
                if results[-1].interrupted:
                    break
        return results

    return _run_then_deliver(job, delivery, run)


def serve_foreground(host: str, port: int, seed: int, profile: str, exit_with_parent: bool,
                     files_root: str | None = None, workers: int = 1, **secure: Any) -> int:
    from .server.run import serve
    from .system import is_loopback

    if not is_loopback(host):
        click.echo(f"loadtool serve: warning: listening on {host}, not loopback: anyone who can reach "
                   f"this machine can load it", err=True)

    def announce(line: str) -> None:
        click.echo(line if exit_with_parent else f"{line}; Ctrl-C stops it")
        sys.stdout.flush()

    try:
        serve(host, port, seed, profile, announce=announce, exit_with_parent=exit_with_parent,
              files_root=files_root, workers=workers, **secure)
    except RuntimeError as exc:
        click.echo(f"loadtool serve: error: {exc}", err=True)
        return EXIT_FAILED
    except OSError as exc:
        click.echo(f"loadtool serve: error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        return EXIT_FAILED
    return EXIT_OK


def make_files(directory: str, count: str, size: str, sizes: str | None, seed: str) -> int:
    import time

    from .files import make_tree, parse_sizes
    from .options import whole_number
    from .units import format_bytes, format_duration

    spec = usage(parse_sizes, size, sizes)
    total_files, seed_value = usage(whole_number, "count", count, 1), usage(whole_number, "seed", seed, 0)
    started = time.perf_counter()
    try:
        made = usage(make_tree, directory, total_files, spec, seed_value)
    except OSError as exc:
        click.echo(f"loadtool files make: error: {exc.strerror or exc}: {exc.filename or directory}", err=True)
        return EXIT_FAILED
    click.echo(f"wrote {made.files:,} files, {format_bytes(made.bytes)}, under {directory} in "
               f"{format_duration(time.perf_counter() - started)}; manifest {made.manifest}")
    return EXIT_OK


def _plan_targets(urls, urls_file, hosts: int | None) -> dict[str, Any]:
    if urls or urls_file:
        return {"urls": urls, "urls_file": urls_file}
    # The fixture site, spread over the hosts the job will meet (up to 1000 distinct ones).
    shown = min(hosts or 1, 1000)
    paths = tuple(f"/site/{host}/page/{{i}}" for host in range(shown)) if hosts else ("/page/{i}",)
    return {"urls": paths}


def make_plan(urls, urls_file, pages, deadline, hosts, per_host, host_rate, pilot_time, cores, profile,
              fmt: str, output: str | None, progress: bool, quiet: bool = False, crawl: bool = False,
              parse: str | None = None) -> int:
    from .report import plan as plan_report
    from .options import whole_number
    from .plan import options, pilot, pilot_crawl, to_dict
    from .sizing import Goal
    from .system import cpu_count
    from .units import format_duration, parse_duration

    if pages is None:
        raise click.UsageError("--pages is needed: how many pages will the real job fetch?")
    host_count = usage(whole_number, "hosts", hosts, 1) if hosts else None
    if parse and not crawl:
        raise click.UsageError("--parse goes with --crawl: the pages of a fixed list are not parsed")
    targets = ({"urls": urls or ("/web/0/page/0",), "urls_file": urls_file} if crawl
               else _plan_targets(urls, urls_file, host_count))
    job = build_job(kind="fetch", profile=profile, per_host=per_host, host_rate=host_rate, **targets)
    goal = Goal(pages=usage(whole_number, "pages", pages, 1), hosts=host_count,
                deadline_s=usage(parse_duration, deadline) if deadline else None,
                per_host=job.fetch.per_host, host_rate=job.fetch.host_rate,
                cores=usage(whole_number, "cores", cores, 1, 4096) if cores else cpu_count())
    pilot_s = usage(parse_duration, pilot_time)
    if not 1 <= pilot_s <= 3600:
        raise click.UsageError(f"--pilot must be between 1s and 1h, not {pilot_time}")
    factory = Delivery(progress=progress).progress_factory()
    try:
        if crawl:
            from .crawl import Crawl, CrawlOptions

            crawl_options = CrawlOptions(max_pages=0, parse=parse)
            usage(Crawl, crawl_options)  # a bad --parse is a usage error now
            measured = usage(pilot_crawl, job, pilot_s, crawl_options, factory)
        else:
            measured = usage(pilot, job, pilot_s, factory)
    except RuntimeError as exc:
        return _could_not_start(exc)
    plan = to_dict(measured, goal, options(measured, goal))
    target = job.describe()["targets"]
    where = f"the fixture site (profile {target['profile']})" if target["kind"] == "fixture" else target.get(
        "first", target.get("path", ""))
    title = (f"loadtool plan · {goal.pages:,} pages" + (" (a crawl)" if crawl else "")
             + (f" · deadline {format_duration(goal.deadline_s)}" if goal.deadline_s else "")
             + f" · pilot {format_duration(pilot_s)} against {where}")
    if output:
        from .report import plain_text

        _write(output, plan_report.plan_json(plan) if fmt == "json" else plain_text(plan_report.plan_table(plan, title)))
    if not quiet and fmt == "json":
        click.echo(plan_report.plan_json(plan), nl=False)
    elif not quiet:
        _print(plan_report.plan_table(plan, title))
    return EXIT_OK


def check_plan(result_path: str, plan_path: str | None, quiet: bool = False) -> int:
    """Compare stored runs with a plan: a line each; exit 1 when any fell outside its range."""
    import json

    from .report import plan as plan_report
    from .plan import check, measured_from

    if not plan_path:
        raise click.UsageError("--check needs --plan PLAN.json (made with loadtool plan --format json)")
    documents = []
    for path, what in ((plan_path, "--plan"), (result_path, "--check")):
        try:
            with open(path, encoding="utf-8") as handle:
                documents.append(json.load(handle))
        except (OSError, ValueError) as exc:
            raise click.UsageError(f"{what}: cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    measured = usage(measured_from, documents[0])
    results = documents[1] if isinstance(documents[1], list) else [documents[1]]
    outside = 0
    for result in results:
        checked = usage(check, measured, result)
        outside += not checked.within_range
        if not quiet:
            click.echo(plan_report.check_text(checked), nl=False)
    return EXIT_THRESHOLD if outside else EXIT_OK

"""Run a Job: start what it needs, run its strategy, time it, and return a Result.

``run`` is the library's front door (``loadtool.run``); ``arun`` its async twin for
code that already runs an event loop (Jupyter, async tests), where ``asyncio.run``
cannot be called. Signals become a stop: the strategy stops starting operations,
in-flight ones get the grace period, and the Result holds everything measured so far.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from .. import engines, strategies
from ..strategies.control import RunControl
from ..errors import UsageError
from ..job import Job
from ..options import TABLE, TARGET_KEYWORDS
from .result import Result
from ..metrics.sink import Sink
from ..strategies.sizing import ideal_s
from ..strategies.work import clock_base
from ..system import MemoryWatch, open_files_needed, raise_open_files_limit
from .stops import Interrupted, interruptible, stop_on_signals

#: Makes a context manager that shows progress of a run, from its job, layout and sink.
ProgressFactory = Callable[[Job, strategies.Layout, Sink], Any]


@contextmanager
def ready(job: Job) -> Iterator[Job]:
    """The job with what it needs: the fixture server running, or its temporary file tree
    made; both are stopped or removed afterwards."""
    if job.needs_fixture:
        from ..server.run import FixtureServer  # the server's modules (aiohttp.web) only when it runs

        with FixtureServer(seed=job.seed, profile=getattr(job.targets, "profile", "web")) as server:
            yield job.bind(server.base_url)
    elif job.needs_tree:
        from ..targets.tree import temporary_tree

        with temporary_tree(job.targets) as manifest:
            yield job.with_targets(manifest)
    else:
        yield job


def prepared(job: Job, call: Callable[[], Any]) -> Any:
    """``call()`` — runs of ``job`` —; or, when a signal comes while they are still being
    prepared (a server starting, a tree written), ``[the not-run Result of job]``: the
    report, empty, and the exit code (130 or 143) still come."""
    try:
        with interruptible():
            return call()
    except Interrupted as stop:
        return [not_run(job, stop.reason)]


def measure_job(job: Job, progress: ProgressFactory | None = None, strategy: strategies.Strategy | None = None,
                raw: Callable[[list[tuple]], None] | None = None) -> Result | list[Result]:
    """One job, as a command runs it: made ready, measured, and reported even when a signal
    comes before it starts."""
    def call() -> Result:
        with ready(job) as bound:
            return measure(bound, progress, strategy=strategy, raw=raw)
    return prepared(job, call)


def before_run(job: Job) -> float | None:
    """Reads: evict the files from the page cache if asked; return the share still cached."""
    if job.kind != "read":
        return None
    from ..targets.pagecache import cached_share, evict

    if job.read.evict_cache:
        evict(job)
    return cached_share(job)


class _Clock:
    """Wall time, CPU time and memory of a run, from its start: the sink's ``epoch``, from
    which its --duration's deadline is counted too. (Read after the memory watch's thread
    had started, on a busy machine, the start came 10 ms late: -d 1s measured 0.990 s.)"""

    def __init__(self, epoch: float) -> None:
        self.wall_start = clock_base(epoch)
        self.cpu_start = time.process_time()
        self.started_at = datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds")
        self.memory = MemoryWatch()

    def result(self, job: Job, layout: strategies.Layout, control: RunControl, sink: Sink,
               page_cache: float | None = None) -> Result:
        # A cluster's start-up (its workers starting and warming) is reported apart, not as the job's.
        wall_s = (time.perf_counter() - self.wall_start - sink.details.get("startup_s", 0.0)
                  - sink.details.get("stop_s", 0.0))
        stats = sink.close()
        cpu_s = time.process_time() - self.cpu_start + stats.cpu_s
        rss_start, rss_peak = self.memory.stop()
        return Result(
            job=job, strategy=job.strategy, concurrency=layout.in_flight, started_at=self.started_at,
            wall_s=wall_s, stats=stats, cpu_s=cpu_s,
            # Cut short: the ideal of what was done, not of the whole count.
            ideal_s=ideal_s(replace(job, count=stats.ops) if control.interruption else job, layout.in_flight),
            cores=layout.cores, interrupted=control.interruption, page_cache=page_cache,
            rss_start_bytes=rss_start, rss_peak_bytes=rss_peak, details=dict(sink.details), layout=layout,
        )


def _prepare(job: Job, strategy: strategies.Strategy | None = None) -> tuple[strategies.Strategy, float | None]:
    """What comes before the clock starts: imports, open files, the page cache."""
    raise_open_files_limit(open_files_needed(job.concurrency))
    strategy = strategy or strategies.get(job.strategy)
    engines.engine_class(job.engine)  # imported now, so the import is not timed
    return strategy, before_run(job)


class _Run:
    """One run under way, as ``measure`` and ``ameasure`` both start, watch and end it."""

    def __init__(self, job: Job, strategy: strategies.Strategy, raw: Callable[[list[tuple]], None] | None) -> None:
        self.job = job = replace(job, records=raw is not None)
        self.strategy, self.page_cache = _prepare(job, strategy)
        self.control, self.sink = RunControl(job.grace_s), Sink(job.rate is not None, write=raw)
        self.clock = _Clock(self.sink.epoch)
        self.layout = self.strategy.layout(job)

    @contextmanager
    def watched(self, progress: ProgressFactory | None, handle_signals: bool) -> Iterator[None]:
        """While the strategy runs: signals become a stop, progress is shown, --duration is
        a deadline; a second Ctrl-C ends the run with what was measured."""
        with ExitStack() as stack:
            if handle_signals:
                stack.enter_context(stop_on_signals(self.control))
            if progress is not None:
                stack.enter_context(progress(self.job, self.layout, self.sink))
            if self.job.duration_s:
                stack.callback(_deadline(self.job, self.control, self.sink))
            try:
                yield
            except KeyboardInterrupt:
                self.control.stop("SIGINT")

    def result(self) -> Result:
        return self.clock.result(self.job, self.layout, self.control, self.sink, self.page_cache)


def measure(job: Job, progress: ProgressFactory | None = None, handle_signals: bool = True,
            raw: Callable[[list[tuple]], None] | None = None, strategy: strategies.Strategy | None = None) -> Result:
    """Run a ready job (fixture server bound) with its strategy (or ``strategy``, such as a
    crawl) and return its Result. With ``raw``, every operation's record is handed to it
    as the run goes."""
    run = _Run(job, strategy, raw)
    with run.watched(progress, handle_signals):
        run.layout = run.strategy.run(run.job, run.layout, run.control, run.sink) or run.layout
    return run.result()


def _deadline(job: Job, control: RunControl, sink: Sink) -> Callable[[], None]:
    """--duration as a deadline of the whole run: at its end, operations still in flight get
    --grace, then are dropped (and counted). The run's clock may restart once its workers
    are up (processes, a cluster): the deadline moves with it."""
    return control.end_at(lambda: sink.epoch + job.duration_s)


def not_run(job: Job, reason: str) -> Result:
    """The Result of a job stopped before it started: nothing measured, and why."""
    control, sink = RunControl(job.grace_s), Sink(job.rate is not None)
    control.stop(reason)
    return _Clock(sink.epoch).result(job, strategies.get(job.strategy).layout(job), control, sink)


async def ameasure(job: Job, progress: ProgressFactory | None = None,
                   raw: Callable[[list[tuple]], None] | None = None) -> Result:
    """``measure`` on the running event loop: the async strategy runs in it directly (the
    others in a thread); signals stay the caller's."""
    if job.strategy != "async":
        return await asyncio.to_thread(measure, job, progress, False, raw)
    from ..strategies.asyncio import run_async

    run = await asyncio.to_thread(_Run, job, None, raw)  # imports and the page cache: off the loop
    with run.watched(progress, handle_signals=False):
        await run_async(run.job, run.layout, run.control, run.sink)
    return run.result()


def _job(job: Job | None, options: dict[str, Any]) -> Job:
    if isinstance(job, (str, list, tuple)):
        raise TypeError(f"loadtool.run() takes its targets by keyword: loadtool.run(urls={job!r}) "
                        f"(or paths=... with kind='read'); a positional argument must be a Job")
    options = {name: value for name, value in options.items() if value is not None}
    if job is not None and options:
        raise TypeError(f"give a Job or options, not both (options given: {', '.join(sorted(options))})")
    if job is not None:
        return job
    try:
        return Job.build(**options)
    except UsageError as exc:  # said in the command line's words: the library names its keywords
        raise UsageError(_keywords_named(str(exc))) from None


def _keywords_named(message: str) -> str:
    """A usage error's message with each option's flag (``--count``) as its keyword (``count``)."""
    flags = {flag: option.name for option in TABLE for flag in option.flags if flag.startswith("--")}
    return re.sub(r"--[a-z][a-z0-9-]*", lambda found: flags.get(found.group(0), found.group(0)), message)


def run(job: Job | None = None, **options: Any) -> Result:
    """Run a job and return its Result. Every option is the command line's, by the same
    name (``connect_timeout`` for ``--connect-timeout``); None leaves its default.

    What to do:
        urls: a URL or /path (a string is one URL), or several; /paths go to the fixture
            server, started for the run. None: the fixture site's /page/{i}.
        paths: with ``kind="read"``, files or directories to read (None: a temporary tree).
        urls_file, targets_file (``targets_format`` "http" or "json"), from_list: targets
            from a file.
        count: operations (``"10k"`` works); duration: seconds or ``"30s"``; rate: the
            open model's operations a second (``"100/s"``).
    How:
        strategy: sequential, threads, processes, async (default), hybrid or cluster;
        engine: aiohttp, fast or curl; concurrency: operations in flight; processes: P.
        timeout, connect_timeout, grace: seconds or durations; retries: a count.
        method, headers (a dict or "Name: value" strings), body, ok_status ("200-399"),
        checks (expressions or callables every answer must pass), check_body;
        no_compression (ask for answers as they are), max_decoded (the most an answer may
        decode to).
        http ("1.1", "2", "3"), streams, insecure, cacert, cert, key, tls_min, proxy,
        no_proxy_env, cookies, no_phases, per_host, host_rate, retry_after, no_keepalive:
        as on the command line.
    While it runs:
        raw: a FILE.csv or FILE.jsonl path: one record per operation, as --raw writes them.
        progress: True shows the progress line on stderr (on a terminal), as the command line does.

    Starts the fixture server when the job targets it. Cannot be called while an
    event loop is running in this thread: use ``await loadtool.arun(...)`` there.
    """
    _keywords(options)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("loadtool.run() cannot run inside a running event loop "
                           "(Jupyter, async code); use `await loadtool.arun(...)` instead")
    progress, raw = _watching(options)
    with ready(_job(job, options)) as bound, raw:
        return measure(bound, progress, raw=raw.write)


async def arun(job: Job | None = None, **options: Any) -> Result:
    """The async twin of ``run``, for Jupyter and async code: ``await loadtool.arun(...)``.
    It takes the same options as ``run``."""
    _keywords(options)
    progress, raw = _watching(options)
    preparing = ready(_job(job, options))
    # Starting a server or writing a tree blocks: done in a thread, off the caller's loop.
    bound = await asyncio.to_thread(preparing.__enter__)
    try:
        with raw:
            return await ameasure(bound, progress, raw.write)
    finally:
        await asyncio.to_thread(preparing.__exit__, None, None, None)


class _Records:
    """The library's ``raw=PATH``: a RawWriter for the run, closed after it (or nothing)."""

    def __init__(self, path: str | None) -> None:
        from ..report.raw import RawWriter

        self.writer = None if path is None else RawWriter(path, False)
        self.write = None if self.writer is None else self.writer.put

    def __enter__(self) -> _Records:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.writer is not None:
            self.writer.close()


def _watching(options: dict[str, Any]) -> tuple[ProgressFactory | None, _Records]:
    """Take the library's ``progress`` and ``raw`` out of ``options``."""
    progress = None
    if options.pop("progress", None):
        import sys

        from ..report.progress import live_progress

        progress = live_progress if sys.stderr.isatty() else None
    return progress, _Records(options.pop("raw", None))


#: How each kind of option is given from Python, by its unit (options.TABLE's metavar).
_TYPES = {"TIME": "float | str", "N": "int | str", "C": "int | str", "P": "int | str", "SIZE": "int | str",
          "R": "float | str", "S": "int"}
_TYPES_OF = {"urls": "str | Sequence[str]", "paths": "str | Sequence[str]", "headers": "dict[str, str] | Sequence[str]",
             "checks": "Sequence[Any]", "body": "bytes | str", "extra": "dict[str, Any]", "verify": "bool"}


def _signature(returns: str) -> inspect.Signature:
    """run's keywords: every job option of the table (options.TABLE), by its name, and the
    targets (urls, paths) and kind; None leaves an option at its default."""
    def annotation(option) -> str:
        kind = _TYPES_OF.get(option.name) or ("bool" if option.switch else _TYPES.get(option.metavar, "str"))
        return f"{kind} | None"

    keyword = inspect.Parameter.KEYWORD_ONLY
    first = [inspect.Parameter("job", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation="Job | None")]
    named = [inspect.Parameter(name, keyword, default=None, annotation=f"{_TYPES_OF.get(name, 'str')} | None")
             for name in TARGET_KEYWORDS if name != "targets"]
    named += [inspect.Parameter(option.name, keyword, default=None, annotation=annotation(option))
              for option in TABLE if option.job]
    named += [inspect.Parameter("raw", keyword, default=None, annotation="str | None"),
              inspect.Parameter("progress", keyword, default=False, annotation="bool")]
    return inspect.Signature(first + named, return_annotation=returns)


def _keywords(options: dict[str, Any]) -> None:
    """TypeError for a keyword run does not take, as Python says it for a written signature."""
    unknown = set(options) - set(run.__signature__.parameters)
    if unknown:
        raise TypeError(f"run() got an unexpected keyword argument {sorted(unknown)[0]!r}")


run.__signature__ = _signature("Result")
# arun takes run's options: the same signature for help() and completion.
arun.__signature__ = _signature("Result")

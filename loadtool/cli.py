"""The command line: parse options into a Job, hand it to the runner, print the report.

No logic lives here. Heavy libraries (aiohttp, requests, rich) are imported only by
the commands that use them, so ``loadtool --help`` answers at once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import click

from . import __version__
from .errors import UsageError
from .names import (ALL_STRATEGIES, CRAWL_COMPARED, CRAWL_STRATEGIES, DEFAULT_CONCURRENCY, ENGINES, EXIT_SIGINT,
                    EXIT_SIGTERM, EXIT_USAGE, PROFILE_NAMES, STRATEGIES)
from .system import cpu_count

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _options(*decorators: Callable) -> Callable:
    def apply(func: Callable) -> Callable:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func
    return apply


def group(title: str, *decorators: Callable) -> Callable:
    """Options shown under the heading ``title`` in --help (GroupedCommand draws them).

    cloup does this too, and did here for a while; but importing it (it reads click's
    version from the installed distributions at import) took `loadtool --help` from 29 ms
    to 61 ms of imports, and this is click's own help formatter, one section per group."""
    def apply(func: Callable) -> Callable:
        before = len(getattr(func, "__click_params__", ()))
        func = _options(*decorators)(func)
        for param in func.__click_params__[before:]:
            if not hasattr(param, "help_group"):
                param.help_group = title
        return func
    return apply


class GroupedCommand(click.Command):
    """A command whose --help lists its options by group, in the order they are declared."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx) if isinstance(param, click.Option) else None
            if record is not None:
                sections.setdefault(getattr(param, "help_group", "Other options"), []).append(record)
        if list(sections) == ["Other options"]:  # a command with no groups: click's own heading
            sections = {"Options": sections["Other options"]}
        for title, records in sections.items():
            with formatter.section(title):
                formatter.write_dl(records)


# Options come in groups, and each command takes the groups that apply to it: --help
# then lists them under headings instead of one flat list.
# Where an option reads differently for fetching and for reading files, its help is
# written per kind: "fetch", "read", or "both" (compare and sweep, with --read).
FETCH_ONLY, READ_ONLY = " (not with --read)", " (with --read)"

strategy_option = click.option(
    "--strategy", "-s", type=click.Choice(ALL_STRATEGIES), default="async", show_default=True,
    help="How operations overlap: one at a time (sequential), in a thread pool (threads), "
         "in a process pool (processes), on one asyncio event loop (async), on an event loop in each "
         "of P processes (hybrid), or on the workers of a dask cluster (cluster).")

_IN_FLIGHT = {
    "fetch": "Requests in flight at once: threads for threads, connections for async and hybrid "
             "(shared among the P processes); for processes, C caps the P processes (-p), each doing one at a time.",
    "read": "Files being read at once: threads for threads, open files on the event loop for async "
            "and hybrid; for processes, C caps the P processes (-p), each reading one file at a time.",
}
_IN_FLIGHT["both"] = "Operations in flight at once. " + _IN_FLIGHT["fetch"].split(": ", 1)[1]

_COUNT = {
    "fetch": "Requests to make; 10k and 1M work. Default: 1010 on the fixture server, one pass over a "
             "URL list, 200 for a single URL. Targets are reused in turn when N is larger.",
    "read": "Files to read; 10k and 1M work. Default: every file given, once; with no PATH, 1010 files "
            "in a temporary tree. Files are read again in turn when N is larger.",
    "both": "Operations to do; 10k and 1M work. Default: 100 of the fixture server's /delay/50, one "
            "pass over a URL list or the files given, 200 for a single URL.",
}


def concurrency_option(kind: str) -> Callable:
    return click.option("--concurrency", "-c", metavar="C", default=str(DEFAULT_CONCURRENCY), show_default=True,
                        help=_IN_FLIGHT[kind])


processes_option = click.option(
    "--processes", "-p", metavar="P",
    help=f"Worker processes for --strategy processes and hybrid (hybrid splits C among them). "
         f"Default: one per CPU, {cpu_count()} here, at most C.")


def amount_options(kind: str) -> Callable:
    return group(
        "How much",
        click.option("--count", "-n", metavar="N", help=_COUNT[kind]),
        click.option("--duration", "-d", metavar="TIME",
                     help="Run for this long instead (500ms, 30s, 2m); with --count, whichever ends first."),
        click.option("--rate", "-r", metavar="R",
                     help="Open model: start R operations a second whatever the answers (100/s, 6000/m, "
                          "100/s:ramp=30s). Latency then counts from when each operation was due."),
    )


limit_options = group(
    "Limits, retries and seed",
    click.option("--timeout", "-t", metavar="TIME", default="30s", show_default=True,
                 help="Time limit of one operation, retries included."),
    click.option("--connect-timeout", metavar="TIME", default="10s", show_default=True,
                 help="Time limit to open one TCP connection."),
    click.option("--retries", metavar="N", default="0", show_default=True,
                 help="Retry an operation that failed to connect, timed out, was reset or got a 5xx answer, "
                      "up to N times, with exponential backoff (50ms, 100ms, … up to 2s) and full jitter."),
    click.option("--grace", metavar="TIME", default="5s", show_default=True,
                 help="After Ctrl-C or SIGTERM, how long operations in flight may finish before they are dropped."),
    click.option("--seed", metavar="S", default="0", show_default=True,
                 help="Seed of generated data: the fixture server's pages, or a generated file tree. "
                      "The same seed gives the same latencies, sizes and bytes."),
)

cluster_options = group(
    "Cluster (--strategy cluster)",
    click.option("--scheduler", metavar="URL",
                 help="For --strategy cluster: the dask scheduler, e.g. tcp://10.0.0.5:8786."),
    click.option("--local-cluster", metavar="N",
                 help="For --strategy cluster: start a dask LocalCluster of N worker processes here."),
)


def fixture_options(suffix: str = "") -> Callable:
    return group(
        "Fixture server" + suffix,
        click.option("--profile", type=click.Choice(PROFILE_NAMES), default="web", show_default=True,
                     help="Latency and size profile of the fixture server's /page/{i}."),
        click.option("--server", metavar="URL",
                     help="Send /paths to the fixture server already running at URL (see `loadtool serve`) "
                          "instead of starting one."),
    )


def read_options(suffix: str = "") -> Callable:
    return group(
        "Reading files" + suffix,
        click.option("--from-list", metavar="FILE",
                     help="Read the files listed in FILE, one path a line ('-' reads stdin)."),
        click.option("--recursive", "-R", is_flag=True, help="Read files in subdirectories of a directory too."),
        click.option("--block-size", "-b", metavar="SIZE", default="64KiB", show_default=True,
                     help="Bytes per read call (4KiB, 1MiB); 0 reads each file in one call."),
        click.option("--verify", type=click.Choice(("sha256",)),
                     help="Check every file's SHA-256 against the manifest of a `loadtool files make` tree; "
                          "a mismatch counts as verify_failed."),
        click.option("--evict-cache", is_flag=True,
                     help="Drop the files from the page cache before the run, so reads come from the device."),
        click.option("--file-size", metavar="SIZE", default="4KiB", show_default=True,
                     help="With no PATH: the size of each file of the temporary tree."),
    )


def http_options(suffix: str = "") -> Callable:
    return _options(
        group(
            "Requests" + suffix,
            click.option("--urls-file", "-f", metavar="FILE",
                         help="Read URLs from FILE, one a line ('-' reads stdin); blank lines and # comments are skipped."),
            click.option("--targets", "targets_file", metavar="FILE",
                         help="Read whole requests from FILE ('-' reads stdin), as vegeta does: each with its own method, "
                              "headers and body. -H headers are added to each; --body applies where a request has none. "
                              "See --targets-format."),
            click.option("--targets-format", type=click.Choice(("http", "json")), default="http", show_default=True,
                         help="http: 'METHOD URL', header lines, optional '@BODYFILE' (relative to FILE), a blank line "
                              "between requests. json: one {\"method\", \"url\", \"header\": {name: [values]}, "
                              "\"body\": base64} a line."),
            click.option("--method", "-m", default="GET", show_default=True, help="HTTP method of every request."),
            click.option("--header", "-H", "headers", multiple=True, metavar="'NAME: VALUE'",
                         help="Add a request header; repeat for more."),
            click.option("--body", metavar="TEXT|@FILE", help="Request body, or @FILE to send a regular file's bytes."),
            click.option("--max-body", metavar="SIZE", default="16MiB", show_default=True,
                         help="The largest --body @FILE read (the body is held in memory and sent with every request)."),
        ),
        group(
            "Answers" + suffix,
            click.option("--ok-status", metavar="RANGES", default="200-399", show_default=True,
                         help="HTTP statuses that count as success, e.g. 200-299,304. Others count by status."),
            click.option("--check", "checks", multiple=True, metavar="EXPR",
                         help="Every answer must pass EXPR, or it counts as the error check_failed (repeatable): "
                              "'status == 200', 'status in 200-299', 'body contains \"Welcome\"', 'body ~ \"id=\\d+\"', "
                              "'header Content-Type ~ json', 'header ETag exists', 'json .items[0].id exists', "
                              "'json .count == 3', 'size >= 1KiB', 'time < 200ms'. The report gives each one's pass rate."),
            click.option("--check-body", metavar="SIZE", default="64KiB", show_default=True,
                         help="How much of each body checks read at most (memory stays bounded whatever the answers' size)."),
        ),
        group(
            "HTTP client, TLS and proxies" + suffix,
            click.option("--engine", "-e", type=click.Choice(ENGINES),
                         help="HTTP client. async, hybrid and cluster: aiohttp (the default); fast (HTTP/1.1 keep-alive "
                              "on asyncio protocols and httptools: several times less CPU per request); or curl (libcurl: "
                              "HTTP/2, HTTP/3, TLS, proxies). sequential, threads and processes fetch with requests."),
            click.option("--http", "http", type=click.Choice(("1.1", "2", "3")), default="1.1", show_default=True,
                         help="HTTP version (2 and 3 need --engine curl): 2 negotiates h2 over TLS (ALPN) and uses "
                              "prior knowledge (h2c) over plain http; 3 is QUIC. Not getting it is the error "
                              "wrong_protocol, never a silent downgrade."),
            click.option("--streams", metavar="N", default="1", show_default=True,
                         help="With --http 2 or 3: requests in flight on each connection; connections = C / N."),
            click.option("--insecure", "-k", is_flag=True, help="Do not verify servers' TLS certificates."),
            click.option("--cacert", metavar="FILE", help="Trust the CA certificates in FILE (PEM) for https."),
            click.option("--cert", metavar="FILE", help="A client certificate (PEM) for servers that ask for one."),
            click.option("--key", metavar="FILE", help="The private key of --cert, when it is not in the same file."),
            click.option("--tls-min", type=click.Choice(("1.2", "1.3")), help="The least TLS version to accept."),
            click.option("--proxy", "-x", metavar="URL",
                         help="Send requests through this proxy: http://, https:// or socks5://HOST:PORT. Without it, "
                              "HTTP_PROXY, HTTPS_PROXY and ALL_PROXY do; NO_PROXY lists hosts reached directly."),
            click.option("--no-proxy-env", is_flag=True, help="Ignore HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY."),
            click.option("--cookies", is_flag=True,
                         help="Keep cookies, a jar per worker (off by default: every request stands alone)."),
            click.option("--no-phases", is_flag=True,
                         help="Do not time each request's phases (dns, connect, tls, send, wait, read): a little less "
                              "CPU per request."),
        ),
        group(
            "Politeness" + suffix,
            click.option("--per-host", metavar="N",
                         help="Politeness: at most N operations in flight per host (on the fixture site, "
                              "/site/{h}/ counts as host h)."),
            click.option("--host-rate", metavar="R",
                         help="Politeness: at most R operations started per host, e.g. 5/s or 120/m."),
        ),
    )


def output_options(*more: Callable) -> Callable:
    return group(
        "Report, thresholds and files",
        click.option("--format", "fmt", type=click.Choice(("table", "json", "csv")), default="table",
                     show_default=True, help="Report format on stdout (or in --output)."),
        click.option("--output", "-o", metavar="FILE",
                     help="Write the report in --format to FILE; stdout then shows the table (unless --quiet)."),
        click.option("--quiet", "-q", is_flag=True, help="Print no report on stdout; the exit code still tells."),
        click.option("--no-progress", is_flag=True,
                     help="No live progress line (it is shown only on a terminal, on stderr, anyway)."),
        click.option("--fail-if", multiple=True, metavar="EXPR",
                     help="Exit 1 if EXPR holds, e.g. 'p99>200ms', 'failed>1%', 'rps<500' (repeatable). "
                          "Metrics: p50 p75 p90 p95 p99 p99.9 max mean (ms unless a unit is given); failed "
                          "(operations not ok: an error or a status --ok-status refuses) and errors (only "
                          "those that ended in an error), each as a % or a count; rps (ops/s); wall (s); "
                          "efficiency."),
        click.option("--plot", metavar="FILE.png",
                     help="Draw the latency percentile curve and throughput over time to a PNG "
                          "(needs: pip install 'loadtool[plot]')."),
        click.option("--series", metavar="FILE.csv",
                     help="Write the per-second series (ops, failed, errors, bytes, p50, p99) as CSV."),
        click.option("--hdr-log", metavar="FILE.hlog",
                     help="Write the latency as an HdrHistogram interval log (one histogram a second, values in "
                          "µs) that HdrHistogram's log readers and plotters read. With several runs (compare, "
                          "sweep): FILE.STRATEGY.hlog or FILE.cLEVEL.hlog, one each."),
        click.option("--html", metavar="FILE.html",
                     help="Write one self-contained, interactive HTML report (no network needed to open it): "
                          "the summary, percentile curve, latency and throughput over time, statuses and "
                          "errors (needs: pip install 'loadtool[html]')."),
        click.option("--prometheus", metavar="ADDR",
                     help="Serve live metrics in Prometheus' text format at http://ADDR/metrics while the run "
                          "goes on: operations, failed, errors by kind, answers by status, bytes (counters), "
                          "latency (histogram, seconds), in flight (Little's law), its limit and open-model "
                          "lateness (gauges). "
                          "ADDR is PORT (on 127.0.0.1), HOST:PORT, or 0 for a free port."),
        click.option("--linger", metavar="TIME",
                     help="With --prometheus: keep the final metrics served this long after the run "
                          "(e.g. 30s, for one more scrape); Ctrl-C or SIGTERM ends it early."),
        click.option("--baseline", metavar="FILE.json",
                     help="A stored JSON result that relative thresholds compare with: --fail-if 'p99>+10%' "
                          "fails when p99 is more than 10% above the baseline's."),
        click.option("--junit", metavar="FILE.xml",
                     help="Write JUnit XML: one test case per --fail-if threshold (per strategy), for CI systems."),
        *more,
    )


class Loadtool(click.Group):
    """The command group, with every usage error as one line on stderr and exit code 2."""

    command_class = GroupedCommand

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "loadtool"
            click.echo(f"{where}: error: {exc.format_message()} (see '{where} --help')", err=True)
            _hint(args, exc.format_message())
            code = EXIT_USAGE
        except UsageError as exc:
            click.echo(f"loadtool: error: {exc}", err=True)
            _hint(args, str(exc))
            code = EXIT_USAGE
        except click.ClickException as exc:
            exc.show()
            code = exc.exit_code
        except (click.Abort, KeyboardInterrupt):
            click.echo("loadtool: interrupted", err=True)
            code = EXIT_SIGINT
        if not standalone_mode:
            return code
        if code in (EXIT_SIGINT, EXIT_SIGTERM):
            _exit_now(code)
        sys.exit(code or 0)


def _hint(args, message: str) -> None:
    """A second line for a usage error that a habit from hey, oha, wrk2 or k6 explains."""
    from .hints import habit_hint

    hint = habit_hint(sys.argv[1:] if args is None else args, message)
    if hint:
        click.echo(f"hint: {hint}", err=True)


def _exit_now(code: int) -> None:
    """Exit at once after an interrupted run: its report is out, and threads still blocked
    in a request (past the grace period) would otherwise hold the exit until --timeout."""
    from .targets import remove_spools

    remove_spools()
    if "loadtool.strategies.processes" in sys.modules:
        sys.modules["loadtool.strategies.processes"].stop_helpers()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@click.group(cls=Loadtool, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="loadtool")
def cli() -> None:
    """Measure blocking I/O at scale: fetch URLs or read files sequentially, with threads,
    with processes or with asyncio, and report latency percentiles, throughput and errors.

    With no URL, `loadtool fetch` starts its own fixture server on 127.0.0.1, so

        loadtool fetch --strategy async --count 1010

    works on any machine, with no network.
    """


histogram_option = click.option(
    "--histogram/--no-histogram", default=None,
    help="Draw the latency distribution as bars under the report (default: for runs over 1,000 operations).")

raw_option = click.option(
    "--raw", metavar="FILE.csv|FILE.jsonl",
    help="Write one record per operation as it happens (index, target, start, due, latency, service time, "
         "status, error, bytes, attempts; times in ms from the run's start), as CSV or JSON lines. compare "
         "and sweep write one file with a first column, run, naming the strategy or level (c16).")


@cli.command(context_settings=CONTEXT)
@click.argument("urls", nargs=-1, metavar="[URL|/PATH]...")
@group("Strategy", strategy_option, concurrency_option("fetch"), processes_option)
@amount_options("fetch")
@http_options()
@fixture_options()
@limit_options
@cluster_options
@output_options(raw_option, histogram_option)
def fetch(urls, body, max_body, headers, **options) -> int:
    """Fetch URLs with one strategy; report latency, throughput, statuses and errors.

    URLs are http(s) URLs, or paths such as /delay/100 on the bundled fixture server,
    which is then started on a free loopback port. With no URL: /page/{i}, a seeded
    scraping-like site. {i} in a URL or path becomes the operation's index.
    """
    from .commands import Delivery, build_job, run_and_report, usage
    from .options import body_from

    delivery = Delivery.from_options(options)
    job = build_job(kind="fetch", urls=urls, headers=headers, body=usage(body_from, body, max_body), max_body=max_body,
                    **options)
    return run_and_report(job, delivery)


@cli.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@group("Strategy", strategy_option, concurrency_option("read"), processes_option)
@amount_options("read")
@read_options()
@limit_options
@cluster_options
@output_options(raw_option, histogram_option)
def read(paths, verify, **options) -> int:
    """Read files with one strategy; report latency, files/s, MB/s and errors.

    PATHs are files or directories (a directory made by `loadtool files make` is read
    through its manifest). With no PATH, loadtool writes a temporary tree of --count
    files of --file-size, reads it, and removes it.
    """
    from .commands import Delivery, build_job, run_and_report

    delivery = Delivery.from_options(options)
    job = build_job(kind="read", paths=paths, verify=verify is not None, **options)
    return run_and_report(job, delivery)


def _experiment_job(targets, read_files, body, headers, verify, options):
    """The Job of compare/sweep: fetch TARGETS (default /delay/50), or with --read, read them."""
    from .commands import build_job, usage
    from .experiments import COMPARE_PATH
    from .options import body_from

    if read_files:
        for name in ("engine", "max_body", "checks", "check_body", "targets_file", "targets_format"):
            options.pop(name)
        return build_job(kind="read", paths=targets, verify=verify is not None, **options)
    for name in ("from_list", "recursive", "block_size", "evict_cache", "file_size"):
        options.pop(name)
    default = () if options.get("targets_file") else (COMPARE_PATH,)
    return build_job(kind="fetch", urls=targets or default, headers=headers,
                     body=usage(body_from, body, options["max_body"]), **options)


@cli.command(context_settings=CONTEXT)
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
                 help="Strategies to run, comma-separated, in this order of preference."),
    concurrency_option("both"), processes_option)
@amount_options("both")
@http_options(FETCH_ONLY)
@fixture_options(FETCH_ONLY)
@read_options(READ_ONLY)
@limit_options
@cluster_options
@output_options(raw_option)
def compare(targets, read_files, crawl, parse, strategies, body, headers, verify, **options) -> int:
    """Run one job with every strategy in turn and print them side by side.

    Wall time, ops/s, p50/p99, errors, speed-up against sequential, efficiency against
    the ideal and client CPU. With no target: 100 fetches of the fixture server's
    /delay/50, so sequential takes about 5 s and the others show what overlap buys.
    """
    from .commands import Delivery, compare_and_report, compare_crawls, compare_strategy, usage
    from .experiments import COMPARE_COUNT

    chosen = tuple(name.strip() for name in strategies.split(",") if name.strip())
    if parse and not crawl:
        raise click.UsageError("--parse goes with --crawl: the pages of a fetch are not parsed")
    if crawl:
        if read_files:
            raise click.UsageError("--crawl and --read: a crawl fetches pages")
        given = strategies != ",".join(STRATEGIES)
        crawlers = tuple(name for name in (chosen if given else CRAWL_COMPARED) if name in CRAWL_STRATEGIES)
        if not crawlers or (given and len(crawlers) != len(chosen)):
            raise click.UsageError(f"--crawl runs the strategies {', '.join(CRAWL_STRATEGIES)} "
                                   f"(by default --strategies {','.join(CRAWL_COMPARED)})")
        delivery = Delivery.from_options(options, runs=True)
        return compare_crawls(targets, crawlers, parse, delivery, body, headers, options)
    unknown = [name for name in chosen if name not in ALL_STRATEGIES]
    if unknown or not chosen:
        raise click.UsageError(f"--strategies: no strategy {', '.join(unknown) or '(none given)'}; "
                               f"there are {', '.join(ALL_STRATEGIES)}")
    # Built for one of the chosen strategies that runs --engine (cluster first, so its
    # options are checked); each strategy then runs it with the engine it has.
    options["strategy"], options["engine"] = usage(compare_strategy, chosen, options["engine"])
    delivery = Delivery.from_options(options, runs=True)
    if not targets and not read_files and options["count"] is None and options["duration"] is None:
        options["count"] = str(COMPARE_COUNT)
    job = usage(_experiment_job, targets, read_files, body, headers, verify, options)
    return compare_and_report(job, chosen, delivery)


@cli.command(context_settings=CONTEXT)
@click.argument("targets", nargs=-1, metavar="[URL|/PATH|FILE]...")
@group(
    "Strategy and levels",
    click.option("--read", "read_files", is_flag=True,
                 help="Read files instead of fetching: the arguments are paths (none: a temporary tree)."),
    strategy_option,
    click.option("--concurrency", "-c", "levels", metavar="LIST", default="1,2,4,...,1024", show_default=True,
                 help="Concurrency levels: a list, where '...' continues the pattern of the two before it "
                      "(1,2,4,...,64 doubles; 10,20,...,100 adds 10)."),
    click.option("--min-gain", metavar="PCT", default="10%", show_default=True,
                 help="The knee is where doubling concurrency buys less throughput than this."),
    click.option("--p99-max", metavar="TIME",
                 help="…or where p99 passes this (default: twice the p99 of the lowest level)."),
    processes_option)
@amount_options("both")
@http_options(FETCH_ONLY)
@fixture_options(FETCH_ONLY)
@read_options(READ_ONLY)
@limit_options
@cluster_options
@output_options(raw_option)
def sweep(targets, read_files, levels, min_gain, p99_max, body, headers, verify, **options) -> int:
    """Measure throughput and latency at each concurrency level; name the knee.

    With no --count, each level does 10 rounds of its concurrency (at least 20
    operations). With no target: the fixture server's /delay/50.
    """
    from .commands import Delivery, sweep_and_report, usage
    from .units import parse_duration, parse_levels, parse_share

    delivery = Delivery.from_options(options, runs=True)
    count_given = options["count"] is not None
    level_list = usage(parse_levels, levels)
    gain = usage(parse_share, "--min-gain", min_gain)
    p99_max_ms = None if p99_max is None else usage(parse_duration, p99_max) * 1000
    options["concurrency"] = str(max(level_list))
    job = usage(_experiment_job, targets, read_files, body, headers, verify, options)
    return sweep_and_report(job, level_list, count_given, gain, p99_max_ms, delivery)


@cli.command(context_settings=CONTEXT)
@click.argument("seeds", nargs=-1, metavar="[URL|/PATH]...")
@group(
    "Crawl",
    click.option("--max-pages", "-n", "count", metavar="N", default="1010", show_default=True,
                 help="Pages to fetch at most (10k, 1M work); the crawl ends sooner when it runs out of links."),
    click.option("--max-depth", metavar="D", help="Follow links at most D clicks from a seed (seeds are depth 0)."),
    click.option("--same-host", is_flag=True, help="Stay on the seeds' hosts."),
    click.option("--allow-domain", "allow_domains", multiple=True, metavar="DOMAIN",
                 help="Follow links only to DOMAIN and its subdomains (repeatable)."),
    click.option("--ignore-robots", is_flag=True, help="Do not fetch or obey robots.txt (it is obeyed by default)."),
    click.option("--sitemaps", is_flag=True,
                 help="Also queue the pages listed in the sitemaps each host's robots.txt names (Sitemap: lines; "
                      "sitemap indexes and .gz followed, at most 50 files a host), one click from the host."),
    click.option("--parse", metavar="MODULE:FUNCTION",
                 help="Call FUNCTION(url, status, headers, body) on every HTML page (sync or async; MODULE may be "
                      "a .py file) and measure the CPU it takes: what sizes real scraping jobs."),
)
@group(
    "Strategy",
    click.option("--strategy", "-s", type=click.Choice(CRAWL_STRATEGIES), metavar="NAME", default="async",
                 show_default=True,
                 help="threads: fetch with requests in C threads (the frontier and parsing on one loop). async: "
                      "fetch and parse on one asyncio event loop. hybrid: fetch on the loop, parse (links and "
                      "--parse) in P worker processes. processes: P processes, each crawling the hosts it owns "
                      "(a hash of the host) on its own loop, links to other hosts sent to their owner. cluster: "
                      "the same partitions as tasks on a dask cluster's workers."),
    click.option("--concurrency", "-c", metavar="C", default=str(DEFAULT_CONCURRENCY), show_default=True,
                 help="Pages in flight at once, over all processes (connections; threads for threads)."),
    click.option("--processes", "-p", metavar="P",
                 help=f"With --strategy hybrid: processes that parse; processes: processes that crawl. Default: one "
                      f"per CPU, {cpu_count()} here."),
    click.option("--duration", "-d", metavar="TIME", help="Stop after this long (30s, 2m), pages or not."),
)
@group(
    "Politeness",
    click.option("--per-host", metavar="N", help="At most N pages in flight per host (on the fixture web, "
                                                 "/web/{h}/ counts as host h)."),
    click.option("--host-rate", metavar="R", help="At most R pages started per host, e.g. 5/s; robots.txt's "
                                                  "Crawl-delay, when longer, wins."),
)
@group(
    "Requests",
    click.option("--header", "-H", "headers", multiple=True, metavar="'NAME: VALUE'",
                 help="Add a request header; repeat for more."),
    click.option("--ok-status", metavar="RANGES", default="200-399", show_default=True,
                 help="HTTP statuses that count as success (redirects count: they are links)."),
    click.option("--insecure", "-k", is_flag=True, help="Do not verify servers' TLS certificates."),
    click.option("--cacert", metavar="FILE", help="Trust the CA certificates in FILE (PEM) for https."),
    click.option("--proxy", "-x", metavar="URL", help="Send requests through this http(s) proxy."),
)
@cluster_options
@fixture_options()
@limit_options
@output_options(raw_option, histogram_option)
def crawl(seeds, max_depth, same_host, allow_domains, ignore_robots, sitemaps, parse, processes, **options) -> int:
    """Crawl from SEEDS, following links: a frontier with a queue per host, robots.txt
    obeyed, duplicates dropped, every page parsed; report pages/s, links, the frontier,
    hosts, fetch latency and parse CPU.

    SEEDS are URLs or fixture paths. With none: the fixture web, /web/0/page/0, whose
    /web/{h}/ hosts link to each other along a seeded graph, with robots.txt, redirects,
    404s and images.
    """
    from .commands import Delivery, crawl_and_report

    delivery = Delivery.from_options(options)
    if sitemaps and ignore_robots:
        raise click.UsageError("--sitemaps reads the Sitemap: lines of robots.txt, which --ignore-robots skips")
    if processes is not None and options["strategy"] not in ("hybrid", "processes"):
        raise click.UsageError("--processes goes with --strategy hybrid or processes "
                               f"({options['strategy']} runs in one process)")
    return crawl_and_report(seeds, delivery, max_depth=max_depth, same_host=same_host, allow_domains=allow_domains,
                            robots=not ignore_robots, sitemaps=sitemaps, parse=parse, processes=processes,
                            options=options)


@cli.group(context_settings=CONTEXT)
def files() -> None:
    """Make deterministic file trees for `loadtool read`."""


@files.command("make", context_settings=CONTEXT)
@click.argument("directory", metavar="DIR")
@click.option("--count", "-n", metavar="N", default="1010", show_default=True, help="Files to write (10k, 1M work).")
@click.option("--size", metavar="SIZE", default="4KiB", show_default=True, help="Size of every file (512, 4KiB, 1MiB).")
@click.option("--sizes", metavar="DIST",
              help="Seeded sizes instead of one: lognormal:median=4KiB[,sigma=1].")
@click.option("--seed", metavar="S", default="0", show_default=True,
              help="Seed of sizes and bytes: the same arguments give byte-identical trees.")
def files_make(directory, count, size, sizes, seed) -> int:
    """Write a tree of files under DIR, with a manifest of sizes and SHA-256s.

    Files spread over two levels of subdirectories, at most 256 per directory. DIR
    must be new, empty, or a tree made before (which is then rewritten).
    """
    from .commands import make_files

    return make_files(directory, count, size, sizes, seed)


@cli.command(context_settings=CONTEXT)
@click.argument("urls", nargs=-1, metavar="[URL|/PATH]...")
@click.option("--urls-file", "-f", metavar="FILE", help="Pilot against the URLs in FILE ('-' reads stdin).")
@click.option("--pages", metavar="N", help="Pages the real job will fetch (10M, 250k).")
@click.option("--deadline", metavar="TIME", help="When the job must be done (2h, 30m); sizes the machines.")
@click.option("--hosts", metavar="N", help="Distinct hosts the pages spread over (for politeness).")
@click.option("--per-host", metavar="N", help="Politeness: at most N requests in flight per host.")
@click.option("--per-host-rate", "--host-rate", "host_rate", metavar="R",
              help="Politeness: at most R requests started per host, e.g. 5/s.")
@click.option("--pilot", metavar="TIME", default="20s", show_default=True,
              help="How long the pilot measures, in all.")
@click.option("--cores", metavar="N", help=f"Cores per machine of the real job (default: this one's, {cpu_count()}).")
@click.option("--profile", type=click.Choice(PROFILE_NAMES), default="web", show_default=True,
              help="With no URL: the fixture site's latency and size profile.")
@click.option("--check", "check_path", metavar="RESULT.json",
              help="Instead of planning: compare a finished run (loadtool fetch --format json) with --plan.")
@click.option("--plan", "plan_path", metavar="PLAN.json", help="A plan made with --format json, for --check.")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@click.option("--output", "-o", metavar="FILE", help="Write the plan in --format to FILE too.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on stdout; --output and the exit code still tell.")
@click.option("--no-progress", is_flag=True, help="No live progress line during the pilot.")
@click.option("--crawl", is_flag=True,
              help="The job is a crawl: the pilot crawls from the URLs (none: the fixture web), async then hybrid, "
                   "and plans with the CPU a page costs to fetch, find links in and --parse.")
@click.option("--parse", metavar="MODULE:FUNCTION",
              help="With --crawl: your parser, run on every page of the pilot, so its CPU is in the plan.")
def plan(urls, urls_file, pages, deadline, hosts, per_host, host_rate, pilot, cores, profile, check_path,
         plan_path, fmt, output, quiet, no_progress, crawl, parse) -> int:
    """Size a real scraping job from a short pilot run.

    The pilot measures the targets' latency and what each strategy and engine costs
    the client per page; the plan gives, for each, the concurrency needed, the expected
    throughput (Little's law, bounded by CPU and politeness), the total time with a
    p10–p90 range, memory, and machines needed to meet --deadline. With no URL the
    pilot runs against the fixture site (/site/{h}/page/{i} over --hosts hosts).

    With --check, compares a finished run with the plan instead, and exits 1 when the
    run's wall time fell outside the plan's range.
    """
    from .commands import check_plan, make_plan

    if check_path:
        return check_plan(check_path, plan_path, quiet)
    return make_plan(urls, urls_file, pages, deadline, hosts, per_host, host_rate, pilot, cores, profile,
                     fmt, output, not no_progress, quiet, crawl, parse)


@cli.command(context_settings=CONTEXT)
def schema() -> int:
    """Print the JSON schema of results (loadtool.result/1).

    Within loadtool.result/1, fields are only ever added: none is renamed, removed or
    given another meaning. A change that would break a reader gets loadtool.result/2.
    """
    from importlib import resources

    click.echo(resources.files("loadtool").joinpath("schema.json").read_text(encoding="utf-8"), nl=False)
    return 0


@cli.command(context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback exposes the server to the network.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port, announced on stdout).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Seed of /page/{i}.")
@click.option("--profile", type=click.Choice(PROFILE_NAMES), default="web", show_default=True,
              help="Latency and size profile of /page/{i}.")
@click.option("--files", "files_root", metavar="DIR", type=click.Path(exists=True, file_okay=False),
              help="Serve the files under DIR at /files/PATH (nothing outside DIR is reachable).")
@click.option("--workers", "-w", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes sharing the port (SO_REUSEPORT), so the server is not the bottleneck.")
@click.option("--tls", is_flag=True,
              help="Serve https with a certificate from a throwaway CA (made with trustme); the CA file's path "
                   "is printed, for clients' --cacert.")
@click.option("--client-cert", is_flag=True,
              help="With --tls: require a client certificate (one from the same CA is made, its path printed).")
@click.option("--http", "http", type=click.Choice(("1.1", "2", "3")), default="1.1", show_default=True,
              help="HTTP version of the core endpoints: 2 is h2 over TLS or h2c without, 3 is QUIC (TLS on UDP, "
                   "the same port); both need hypercorn (pip install 'loadtool[http2]'). Faults stay HTTP/1.1.")
@click.option("--exit-with-parent", is_flag=True, hidden=True)
def serve(host, port, seed, profile, files_root, workers, tls, client_cert, http, exit_with_parent) -> int:
    """Run the fixture server in the foreground until Ctrl-C.

    Endpoints: /health, /bytes/{n}, /delay/{ms}, /status/{code}, /echo, /stream/{n},
    /drip?duration=S&numbytes=N, /redirect/{n}, /page/{i}, /site/{h}/page/{i},
    /files/PATH (with --files), and faults: /fault/reset, /fault/truncate, /fault/hang,
    /fault/slow-headers, /fault/bad-chunked, /fault/garbage, /fault/flaky?p=0.2&i=N,
    /fault/stall?ms=300.
    """
    from .commands import serve_foreground

    if client_cert and not tls:
        raise click.UsageError("--client-cert goes with --tls")
    return serve_foreground(host, port, seed, profile, exit_with_parent, files_root, workers,
                            tls=tls, client_cert=client_cert, http=http)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="loadtool")

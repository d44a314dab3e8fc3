"""The option groups commands share, declared once; each command takes the groups that apply.

Options come in groups, and --help lists them under headings (``GroupedCommand``)
instead of one flat list. Where an option reads differently for fetching and for
reading files, its help is written per kind: "fetch", "read", or "both" (compare and
sweep, with --read). ``names_of`` gives the options a group declares, so a command
that drops one kind's options (compare --read) asks the group rather than a copied list.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from ..names import ALL_STRATEGIES, DEFAULT_CONCURRENCY, ENGINES, PROFILE_NAMES
from ..system import cpu_count

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


def grouped_command(name: str) -> Callable:
    """Declare the command ``name``, its options listed by group in --help."""
    return click.command(name, cls=GroupedCommand, context_settings=CONTEXT)


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
                     help="Run for this long instead (500ms, 30s, 2m); with --count, whichever ends first. "
                          "A deadline for the whole run: operations still in flight then get --grace, "
                          "then are dropped and counted as abandoned."),
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
                 help="After Ctrl-C, SIGTERM or the end of --duration, how long operations in flight may finish "
                      "before they are dropped (and counted as abandoned)."),
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
            click.option("--no-compression", is_flag=True,
                         help="Ask for answers as they are (Accept-Encoding: identity). By default every engine asks for "
                              "gzip and deflate (br and zstd where their decoders are installed), as browsers do, and "
                              "decodes what comes: bytes on the wire and decoded are both reported."),
            click.option("--no-keepalive", is_flag=True,
                         help="A new connection for every request (and over https a new TLS handshake), in every "
                              "engine, with 'Connection: close' sent: load-tests the handshakes, as hey's and oha's "
                              "--disable-keepalive do. The report counts connections opened and handshakes."),
            click.option("--max-decoded", metavar="SIZE", default="256MiB", show_default=True,
                         help="The most an answer may decode to; past it the answer is the error too_large (a "
                              "compression bomb costs no memory: bodies are decoded as they stream)."),
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
            click.option("--retry-after", is_flag=True,
                         help="Honour rate limits: after a 429 (or a 503) with a Retry-After, its host is asked "
                              "nothing more until then (other hosts go on). The answer itself counts as it came. "
                              "Without this, 429s are only counted."),
        ),
    )


def output_options(*more: Callable) -> Callable:
    return group(
        "Report, thresholds and files",
        click.option("--format", "fmt", type=click.Choice(("table", "json", "csv")),
                     help="Report format on stdout (or in --output). Default: from -o FILE's extension "
                          "(.json, .csv), else table."),
        click.option("--output", "-o", metavar="FILE",
                     help="Write the report in --format to FILE (FILE.json is JSON, FILE.csv CSV); stdout "
                          "then shows the table (unless --quiet)."),
        click.option("--quiet", "-q", is_flag=True, help="Print no report on stdout; the exit code still tells."),
        click.option("--no-progress", is_flag=True,
                     help="No live progress line (it is shown only on a terminal, on stderr, anyway)."),
        click.option("--live", is_flag=True,
                     help="A live view on stderr while the run goes, redrawn 4 times a second: progress and ETA, "
                          "ops/s now and over the last minute, latency of the last 5 s and of the whole run, "
                          "statuses, errors, in flight (and, with --rate, how far sends lag). Fits 80x24; the report "
                          "replaces it at the end; on a terminal that cannot redraw (TERM=dumb), the progress line."),
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


histogram_option = click.option(
    "--histogram/--no-histogram", default=None,
    help="Draw the latency distribution as bars under the report (default: for runs over 1,000 operations).")

raw_option = click.option(
    "--raw", metavar="FILE.csv|FILE.jsonl",
    help="Write one record per operation as it happens (index, target, start, due, latency, service time, "
         "status, error, bytes, attempts; times in ms from the run's start), as CSV or JSON lines. compare "
         "and sweep write one file with a first column, run, naming the strategy or level (c16).")



def names_of(options: Callable) -> frozenset[str]:
    """The parameter names the options ``options`` declare (a group, or a single option)."""
    def probe() -> None:
        """A function to hang the options on, never called."""
    return frozenset(param.name for param in options(probe).__click_params__)


def drop(options: dict, names: frozenset[str]) -> None:
    """Take the options ``names`` out of ``options`` (those of the other kind of job)."""
    for name in names:
        options.pop(name, None)


#: The options only fetching has, and those only reading files has: compare and sweep take
#: both groups and drop the ones their job does not use.
FETCH_ONLY_OPTIONS = names_of(http_options()) | names_of(fixture_options())
READ_ONLY_OPTIONS = names_of(read_options())


def stdin_targets(urls: tuple[str, ...], options: dict) -> tuple[str, ...]:
    """The URLs to fetch, reading standard input where it holds them: ``-`` as the URL, or
    nothing named at all (no URL, -f or --targets) while something is piped in. A list of
    URLs is read as -f -, requests written as vegeta writes them (``GET http://…``) as
    --targets -; stderr says so, so a piped list never goes unnoticed."""
    from ..targets import looks_like_requests, spool_stdin, stdin_piped

    named = urls or options.get("urls_file") or options.get("targets_file")
    if urls != ("-",) and (named or not stdin_piped()):
        return urls
    requests = looks_like_requests(spool_stdin())
    options["targets_file" if requests else "urls_file"] = "-"
    click.echo(f"loadtool: {'requests' if requests else 'URLs'} from standard input", err=True)
    return ()


def experiment_job(targets, read_files: bool, body, headers, verify, options: dict):
    """The Job of compare and sweep: fetch TARGETS (default /delay/50), or with --read, read
    them; the other kind's options are dropped."""
    from ..plan.experiments import COMPARE_PATH
    from ..job import Job
    from ..job.parse import body_from

    if read_files:
        drop(options, FETCH_ONLY_OPTIONS)
        return Job.build(kind="read", paths=targets, verify=verify is not None, **options)
    drop(options, READ_ONLY_OPTIONS)
    targets = stdin_targets(tuple(targets), options)
    default = () if options.get("targets_file") or options.get("urls_file") else (COMPARE_PATH,)
    return Job.build(kind="fetch", urls=targets or default, headers=headers,
                     body=body_from(body, options["max_body"]), **options)

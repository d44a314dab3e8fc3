"""Every option of a run, declared once: what users type, its default, unit and help, and
the commands that take it — one table, as Scrapy's ``default_settings`` and k6's
``lib/options.go`` keep theirs.

The command line's declarations (``cli.flags``), the parser (``job.parse``) and the Job's
own defaults (``job``) all read this table, so a default is written here and nowhere
else; ``loadtool.run`` takes the job's options by the same names (``connect_timeout`` for
``--connect-timeout``). It imports only the registries and units, so ``loadtool --help``
reads it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from .names import ALL_STRATEGIES, DEFAULT_CONCURRENCY, ENGINES, FORMATS, HTTP_VERSIONS, PROFILE_NAMES, engine_help
from .system import cpu_count

#: The commands that run a job, and the help variant each reads: fetch and read speak of
#: requests and files, compare and sweep of both, crawl of pages.
VARIANT = MappingProxyType({"fetch": "fetch", "read": "read", "compare": "both", "sweep": "both", "crawl": "crawl",
                            "run": "run"})
RUNS = frozenset(VARIANT)
FETCHING = frozenset({"fetch", "compare", "sweep"})
READING = frozenset({"read", "compare", "sweep"})
#: The seed's number: "if you need to wait for 1010 file reads or network transactions".
FIXTURE_COUNT = 1010


@dataclass(frozen=True)
class Option:
    """One option: its keyword, how it is typed, its default and what --help says of it."""

    #: The keyword of ``Job.build`` and ``loadtool.run``, and click's parameter name.
    name: str
    #: How it is typed: ``("--timeout", "-t")``.
    flags: tuple[str, ...]
    #: The --help heading it is listed under.
    group: str
    #: What --help says: one text, or one per help variant (VARIANT; "fetch" when one is missing).
    help: str | dict[str, str]
    #: As a user types it (``"30s"``); None: no default, or one that depends on the job.
    default: str | None = None
    #: Its unit, as --help shows it: TIME, SIZE, N, R, URL, FILE.
    metavar: str | None = None
    #: A switch, on when given.
    switch: bool = False
    #: Given again for each value.
    repeat: bool = False
    choices: tuple[str, ...] | None = None
    commands: frozenset[str] = RUNS
    #: Whether the Job takes it (Job.build, loadtool.run); False: how results are delivered.
    job: bool = True
    #: Output files: (the report module that writes it, its function, what must be installed).
    writes: tuple[str, str, str | None] | None = None

    def help_for(self, command: str) -> str:
        if isinstance(self.help, str):
            return self.help
        return self.help.get(VARIANT.get(command, "fetch")) or self.help["fetch"]

    @property
    def only(self) -> str | None:
        """The one kind of job it applies to, where compare and sweep take both: "fetch", "read", or None."""
        if "compare" not in self.commands and "sweep" not in self.commands:
            return None
        return "fetch" if "read" not in self.commands else "read" if "fetch" not in self.commands else None


_ = Option
STRATEGY, HOW_MUCH, REQUESTS, ANSWERS = "Strategy", "How much", "Requests", "Answers"
CLIENT, POLITENESS, FIXTURE = "HTTP client, TLS and proxies", "Politeness", "Fixture server"
READ, LIMITS, CLUSTER, REPORT = "Reading files", "Limits, retries and seed", "Cluster (--strategy cluster)", \
    "Report, thresholds and files"
EXCEPT_CRAWL = RUNS - {"crawl"}

TABLE: tuple[Option, ...] = (
    _("strategy", ("--strategy", "-s"), STRATEGY, default="async", choices=ALL_STRATEGIES,
      commands=frozenset({"fetch", "read", "sweep"}),
      help="How operations overlap: one at a time (sequential), in a thread pool (threads), in a process pool "
           "(processes), on one asyncio event loop (async), on an event loop in each of P processes (hybrid), or on "
           "the workers of a dask cluster (cluster)."),
    _("concurrency", ("--concurrency", "-c"), STRATEGY, default=str(DEFAULT_CONCURRENCY), metavar="C",
      commands=RUNS - {"sweep"}, help={
          "fetch": "Requests in flight at once: threads for threads, connections for async and hybrid (shared among "
                   "the P processes); for processes, C caps the P processes (-p), each doing one at a time.",
          "read": "Files being read at once: threads for threads, open files on the event loop for async and hybrid; "
                  "for processes, C caps the P processes (-p), each reading one file at a time.",
          "both": "Operations in flight at once: threads for threads, connections for async and hybrid (shared among "
                  "the P processes); for processes, C caps the P processes (-p), each doing one at a time.",
          "crawl": "Pages in flight at once, over all processes (connections; threads for threads).",
          "run": "Operations in flight at once: threads for threads, coroutines on one event loop for async (shared "
                 "among the P processes of hybrid); for processes, C caps the P processes (-p), each doing one at a "
                 "time."}),
    _("processes", ("--processes", "-p"), STRATEGY, metavar="P", help={
        "fetch": "Worker processes for --strategy processes and hybrid (hybrid splits C among them). Default: one "
                 f"per CPU, {cpu_count()} here, at most C.",
        "crawl": "With --strategy hybrid: processes that parse; processes: processes that crawl. Default: one per "
                 f"CPU, {cpu_count()} here."}),
    _("count", ("--count", "-n"), HOW_MUCH, metavar="N", commands=EXCEPT_CRAWL, help={
        "fetch": f"Requests to make; 10k and 1M work. Default: {FIXTURE_COUNT} on the fixture server, one pass over a "
                 "URL list, 200 for a single URL. Targets are reused in turn when N is larger.",
        "read": f"Files to read; 10k and 1M work. Default: every file given, once; with no PATH, {FIXTURE_COUNT} "
                "files in a temporary tree. Files are read again in turn when N is larger.",
        "both": "Operations to do; 10k and 1M work. compare: 100 of the fixture server's /delay/50 by default; "
                "sweep: 10 rounds of each level. One pass over a URL list or the files given.",
        "run": "Operations to do: calls of NAME(i), i from 0; 10k and 1M work. Default: 100."}),
    _("duration", ("--duration", "-d"), HOW_MUCH, metavar="TIME", help={
        "fetch": "Run for this long instead (500ms, 30s, 2m); with --count, whichever ends first. A deadline for "
                 "the whole run: operations still in flight then get --grace, then are dropped and counted as "
                 "abandoned.",
        "crawl": "Stop after this long (30s, 2m), pages or not: pages in flight get --grace, then are dropped and "
                 "counted as abandoned."}),
    _("rate", ("--rate", "-r"), HOW_MUCH, metavar="R", commands=EXCEPT_CRAWL,
      help="Open model: start R operations a second whatever the answers (100/s, 6000/m, 100/s:ramp=30s). Latency "
           "then counts from when each operation was due."),

    _("urls_file", ("--urls-file", "-f"), REQUESTS, metavar="FILE", commands=FETCHING,
      help="Read URLs from FILE, one a line ('-' reads stdin); blank lines and # comments are skipped."),
    _("targets_file", ("--targets",), REQUESTS, metavar="FILE", commands=FETCHING,
      help="Read whole requests from FILE ('-' reads stdin), as vegeta does: each with its own method, headers and "
           "body. -H headers are added to each; --body applies where a request has none. See --targets-format."),
    _("targets_format", ("--targets-format",), REQUESTS, default="http", choices=("http", "json"), commands=FETCHING,
      help="http: 'METHOD URL', header lines, optional '@BODYFILE' (relative to FILE), a blank line between "
           "requests. json: one {\"method\", \"url\", \"header\": {name: [values]}, \"body\": base64} a line."),
    _("body_dir", ("--body-dir",), REQUESTS, metavar="DIR", commands=FETCHING,
      help="Where a targets file's @FILE bodies may be read from. Default: the targets file's own directory, so "
           "a targets file from elsewhere cannot send @/etc/passwd or @../../secret; '/' allows any."),
    _("method", ("--method", "-m"), REQUESTS, default="GET", commands=FETCHING, help="HTTP method of every request."),
    _("headers", ("--header", "-H"), REQUESTS, metavar="'NAME: VALUE'", repeat=True, commands=FETCHING | {"crawl"},
      help="Add a request header; repeat for more."),
    _("body", ("--body",), REQUESTS, metavar="TEXT|@FILE", commands=FETCHING,
      help="Request body, or @FILE to send a regular file's bytes."),
    _("max_body", ("--max-body",), REQUESTS, default="16MiB", metavar="SIZE", commands=FETCHING,
      help="The largest --body @FILE read (the body is held in memory and sent with every request)."),

    _("ok_status", ("--ok-status",), ANSWERS, default="200-399", metavar="RANGES", commands=FETCHING | {"crawl"}, help={
        "fetch": "HTTP statuses that count as success, e.g. 200-299,304. Others count by status.",
        "crawl": "HTTP statuses that count as success (redirects count: they are links)."}),
    _("checks", ("--check",), ANSWERS, metavar="EXPR", repeat=True, commands=FETCHING,
      help="Every answer must pass EXPR, or it counts as the error check_failed (repeatable): 'status == 200', "
           "'status in 200-299', 'body contains \"Welcome\"', 'body ~ \"id=\\d+\"', 'header Content-Type ~ json', "
           "'header ETag exists', 'json .items[0].id exists', 'json .count == 3', 'size >= 1KiB', 'time < 200ms'. "
           "The report gives each one's pass rate."),
    _("check_body", ("--check-body",), ANSWERS, default="64KiB", metavar="SIZE", commands=FETCHING,
      help="How much of each body checks read at most (memory stays bounded whatever the answers' size)."),
    _("no_compression", ("--no-compression",), ANSWERS, switch=True, commands=FETCHING,
      help="Ask for answers as they are (Accept-Encoding: identity). By default every engine asks for gzip and "
           "deflate (br and zstd where their decoders are installed), as browsers do, and decodes what comes: bytes "
           "on the wire and decoded are both reported."),
    _("no_keepalive", ("--no-keepalive",), ANSWERS, switch=True, commands=FETCHING,
      help="A new connection for every request (and over https a new TLS handshake), in every engine, with "
           "'Connection: close' sent: load-tests the handshakes, as hey's and oha's --disable-keepalive do. The "
           "report counts connections opened and handshakes."),
    _("max_redirects", ("--max-redirects",), ANSWERS, default="10", metavar="N", commands=FETCHING,
      help="Follow at most N redirects (0: none, the 3xx answer counts as it came); one more is the error "
           "too_many_redirects. Credentials (Authorization, Cookie) never go to another origin, and the report "
           "counts the operations redirected to one."),
    _("max_decoded", ("--max-decoded",), ANSWERS, default="256MiB", metavar="SIZE", commands=FETCHING,
      help="The most an answer may decode to; past it the answer is the error too_large (a compression bomb costs "
           "no memory: bodies are decoded as they stream)."),

    _("engine", ("--engine", "-e"), CLIENT, choices=ENGINES, commands=FETCHING, help=engine_help()),
    _("http", ("--http",), CLIENT, default="1.1", choices=HTTP_VERSIONS, commands=FETCHING,
      help="HTTP version (2 and 3 need an engine that speaks them: curl): 2 negotiates h2 over TLS (ALPN) and uses "
           "prior knowledge (h2c) over plain http; 3 is QUIC. Not getting it is the error wrong_protocol, never a "
           "silent downgrade."),
    _("streams", ("--streams",), CLIENT, default="1", metavar="N", commands=FETCHING,
      help="With --http 2 or 3: requests in flight on each connection; connections = C / N."),
    _("insecure", ("--insecure", "-k"), CLIENT, switch=True, commands=FETCHING | {"crawl"},
      help="Do not verify servers' TLS certificates."),
    _("cacert", ("--cacert",), CLIENT, metavar="FILE", commands=FETCHING | {"crawl"},
      help="Trust the CA certificates in FILE (PEM) for https."),
    _("cert", ("--cert",), CLIENT, metavar="FILE", commands=FETCHING,
      help="A client certificate (PEM) for servers that ask for one."),
    _("key", ("--key",), CLIENT, metavar="FILE", commands=FETCHING,
      help="The private key of --cert, when it is not in the same file."),
    _("tls_min", ("--tls-min",), CLIENT, choices=("1.2", "1.3"), commands=FETCHING,
      help="The least TLS version to accept."),
    _("proxy", ("--proxy", "-x"), CLIENT, metavar="URL", commands=FETCHING | {"crawl"},
      help="Send requests through this proxy: http://, https:// or socks5://HOST:PORT. Without it, HTTP_PROXY, "
           "HTTPS_PROXY and ALL_PROXY do; NO_PROXY lists hosts reached directly."),
    _("no_proxy_env", ("--no-proxy-env",), CLIENT, switch=True, commands=FETCHING,
      help="Ignore HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY."),
    _("cookies", ("--cookies",), CLIENT, switch=True, commands=FETCHING,
      help="Keep cookies, a jar per worker (off by default: every request stands alone)."),
    _("no_phases", ("--no-phases",), CLIENT, switch=True, commands=FETCHING,
      help="Do not time each request's phases (dns, connect, tls, send, wait, read): a little less CPU per request."),

    _("per_host", ("--per-host",), POLITENESS, metavar="N", commands=FETCHING | {"crawl"}, help={
        "fetch": "Politeness: at most N operations in flight per host (on the fixture site, /site/{h}/ counts as "
                 "host h).",
        "crawl": "At most N pages in flight per host (on the fixture web, /web/{h}/ counts as host h)."}),
    _("host_rate", ("--host-rate",), POLITENESS, metavar="R", commands=FETCHING | {"crawl"}, help={
        "fetch": "Politeness: at most R operations started per host, e.g. 5/s or 120/m.",
        "crawl": "At most R pages started per host, e.g. 5/s; robots.txt's Crawl-delay, when longer, wins."}),
    _("retry_after", ("--retry-after",), POLITENESS, switch=True, commands=FETCHING,
      help="Honour rate limits: after a 429 (or a 503) with a Retry-After, its host is asked nothing more until then "
           "(other hosts go on), for at most 10 minutes and never past the run's end; the report says what hosts "
           "asked. The answer itself counts as it came. Without this, 429s are only counted."),

    _("profile", ("--profile",), FIXTURE, default="web", choices=PROFILE_NAMES, commands=FETCHING | {"crawl"},
      help="Latency and size profile of the fixture server's /page/{i}."),
    _("server", ("--server",), FIXTURE, metavar="URL", commands=FETCHING | {"crawl", "run"},
      help={"fetch": "Send /paths to the fixture server already running at URL (see `loadtool serve`) instead of "
                     "starting one.",
            "run": "Tell the operation of the server at URL: LOADTOOL_SERVER in its environment."}),
    _("fixture", ("--fixture",), FIXTURE, switch=True, commands=frozenset({"run", "compare", "sweep"}),
      help="Start the bundled fixture server (its /api/ too) on a free loopback port for the run, and tell the "
           "operation of it: LOADTOOL_SERVER in its environment."),

    _("from_list", ("--from-list",), READ, metavar="FILE", commands=READING,
      help="Read the files listed in FILE, one path a line ('-' reads stdin)."),
    _("recursive", ("--recursive", "-R"), READ, switch=True, commands=READING,
      help="Read files in subdirectories of a directory too."),
    _("block_size", ("--block-size", "-b"), READ, default="64KiB", metavar="SIZE", commands=READING,
      help="Bytes per read call (4KiB, 1MiB); 0 reads each file in one call."),
    _("verify", ("--verify",), READ, choices=("sha256",), commands=READING,
      help="Check every file's SHA-256 against the manifest of a `loadtool files make` tree; a mismatch counts as "
           "verify_failed."),
    _("evict_cache", ("--evict-cache",), READ, switch=True, commands=READING,
      help="Drop the files from the page cache before the run, so reads come from the device."),
    _("file_size", ("--file-size",), READ, default="4KiB", metavar="SIZE", commands=READING,
      help="With no PATH: the size of each file of the temporary tree."),

    _("timeout", ("--timeout", "-t"), LIMITS, default="30s", metavar="TIME",
      help={"fetch": "Time limit of one operation, from its first send, retries included.",
            "run": "Time limit of one operation: an async def is cancelled at it; a def cannot be interrupted, and "
                   "counts as the error timeout when it returns late."}),
    _("connect_timeout", ("--connect-timeout",), LIMITS, default="10s", metavar="TIME", commands=RUNS - {"run"},
      help="Time limit to open one TCP connection."),
    _("retries", ("--retries",), LIMITS, default="0", metavar="N",
      help="Retry an operation that failed to connect, timed out, was reset or got a 5xx answer, up to N times, with "
           "exponential backoff (50ms, 100ms, … up to 2s) and full jitter."),
    _("grace", ("--grace",), LIMITS, default="5s", metavar="TIME",
      help="After Ctrl-C, SIGTERM or the end of --duration, how long operations in flight may finish before they "
           "are dropped (and counted as abandoned)."),
    _("seed", ("--seed",), LIMITS, default="0", metavar="S",
      help="Seed of generated data: the fixture server's pages, or a generated file tree. The same seed gives the "
           "same latencies, sizes and bytes."),

    _("scheduler", ("--scheduler",), CLUSTER, metavar="URL",
      help="For --strategy cluster: the dask scheduler, e.g. tcp://10.0.0.5:8786."),
    _("local_cluster", ("--local-cluster",), CLUSTER, metavar="N",
      help="For --strategy cluster: start a dask LocalCluster of N worker processes here."),

    _("fmt", ("--format",), REPORT, choices=tuple(FORMATS), job=False,
      help="Report format on stdout (or in --output). Default: from -o FILE's extension (.json, .csv), else table."),
    _("output", ("--output", "-o"), REPORT, metavar="FILE", job=False,
      help="Write the report in --format to FILE (FILE.json is JSON, FILE.csv CSV); stdout then shows the table "
           "(unless --quiet)."),
    _("quiet", ("--quiet", "-q"), REPORT, switch=True, job=False,
      help="Print no report on stdout; the exit code still tells."),
    _("no_progress", ("--no-progress",), REPORT, switch=True, job=False,
      help="No live progress line (it is shown only on a terminal, on stderr, anyway)."),
    _("live", ("--live",), REPORT, switch=True, job=False,
      help="A live view on stderr while the run goes, redrawn 4 times a second: progress and ETA, ops/s now and over "
           "the last minute, latency of the last 5 s and of the whole run, statuses, errors, in flight (and, with "
           "--rate, how far sends lag). Fits 80x24; the report replaces it at the end; on a terminal that cannot "
           "redraw (TERM=dumb), the progress line."),
    _("fail_if", ("--fail-if",), REPORT, metavar="EXPR", repeat=True, job=False,
      help="Exit 1 if EXPR holds, e.g. 'p99>200ms', 'failed>1%', 'rps<500' (repeatable). Metrics: p50 p75 p90 p95 "
           "p99 p99.9 max mean (ms unless a unit is given); failed (operations not ok: an error or a status "
           "--ok-status refuses) and errors (only those that ended in an error), each as a % or a count; rps "
           "(ops/s); wall (s); efficiency."),
    _("plot", ("--plot",), REPORT, metavar="FILE.png", job=False, writes=("plot", "plot_file", "require_matplotlib"),
      help="Draw the latency percentile curve and throughput over time to a PNG (needs: pip install "
           "'loadtool[plot]')."),
    _("series", ("--series",), REPORT, metavar="FILE.csv", job=False, writes=("data", "series_file", None),
      help="Write the per-second series (ops, failed, errors, bytes, p50, p99) as CSV."),
    _("hdr_log", ("--hdr-log",), REPORT, metavar="FILE.hlog", job=False, writes=("hdrlog", "log_files", None),
      help="Write the latency as an HdrHistogram interval log (one histogram a second, values in µs) that "
           "HdrHistogram's log readers and plotters read. With several runs (compare, sweep): FILE.STRATEGY.hlog or "
           "FILE.cLEVEL.hlog, one each."),
    _("html", ("--html",), REPORT, metavar="FILE.html", job=False, writes=("html", "html_file", "require_plotly"),
      help="Write one self-contained, interactive HTML report (no network needed to open it): the summary, "
           "percentile curve, latency and throughput over time, statuses and errors (needs: pip install "
           "'loadtool[html]')."),
    _("prometheus", ("--prometheus",), REPORT, metavar="ADDR", job=False,
      help="Serve live metrics in Prometheus' text format at http://ADDR/metrics while the run goes on: operations, "
           "failed, errors by kind, answers by status, bytes (counters), latency (histogram, seconds), in flight "
           "(Little's law), its limit and open-model lateness (gauges). ADDR is PORT (on 127.0.0.1), HOST:PORT, or "
           "0 for a free port."),
    _("linger", ("--linger",), REPORT, metavar="TIME", job=False,
      help="With --prometheus: keep the final metrics served this long after the run (e.g. 30s, for one more "
           "scrape); Ctrl-C or SIGTERM ends it early."),
    _("baseline", ("--baseline",), REPORT, metavar="FILE.json", job=False,
      help="A stored JSON result that relative thresholds compare with: --fail-if 'p99>+10%' fails when p99 is more "
           "than 10% above the baseline's."),
    _("junit", ("--junit",), REPORT, metavar="FILE.xml", job=False, writes=("junit", "junit_file", None),
      help="Write JUnit XML: one test case per --fail-if threshold (per strategy), for CI systems."),
    _("raw", ("--raw",), REPORT, metavar="FILE.csv|FILE.jsonl", job=False,
      help="Write one record per operation as it happens (index, target, start, due, latency, service time, status, "
           "error, bytes, attempts; times in ms from the run's start), as CSV or JSON lines. compare and sweep write "
           "one file with a first column, run, naming the strategy or level (c16)."),
    _("histogram", ("--histogram/--no-histogram",), REPORT, switch=True, job=False,
      commands=frozenset({"fetch", "read", "crawl", "run"}),
      help="Draw the latency distribution as bars under the report (default: for runs over 1,000 operations)."),
)
del _

OPTIONS = MappingProxyType({option.name: option for option in TABLE})
#: The defaults as typed, of the options that have one: what the parser starts from.
DEFAULTS = MappingProxyType({option.name: option.default for option in TABLE if option.default is not None})
#: What Job.build (and loadtool.run) take besides the table's job options: the targets as
#: arguments (urls, paths) or ready-made, the kind of job, and data kept with the result.
TARGET_KEYWORDS = ("urls", "paths", "operation", "kind", "targets", "extra")
JOB_KEYWORDS = frozenset({option.name for option in TABLE if option.job} | set(TARGET_KEYWORDS))
#: The output files a run can leave beside its report, by option: (report module, function, requirement).
FILES = MappingProxyType({option.name: option.writes for option in TABLE if option.writes})


def default(name: str) -> str:
    """The default of option ``name``, as a user would type it."""
    return DEFAULTS[name]


def taken_by(command: str) -> tuple[Option, ...]:
    """The options ``command`` takes, in the table's order."""
    return tuple(option for option in TABLE if command in option.commands)


def only(kind: str) -> frozenset[str]:
    """The options that only a ``kind`` job (fetch or read) has, of those compare and sweep take."""
    return frozenset(option.name for option in TABLE if option.only == kind)

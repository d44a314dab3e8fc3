"""The registries: strategies, engines and report formats by the names users type, and the
exit codes.

Kept apart, with no imports, so ``loadtool --help`` imports this and click and nothing
else of weight. A new strategy is its module in ``strategies/`` and one line in
STRATEGY_MODULES; a new engine its module in ``engines/`` and one line in ENGINE_CLASSES;
a new report format its function in ``report/`` and one line in FORMATS: every list of
names, every --help text and every check of what an engine speaks is derived from these.
"""

from typing import NamedTuple



class StrategyEntry(NamedTuple):
    """What the registry knows of a strategy: its module in loadtool.strategies (imported when
    used), and how its workers wait: "blocking" (they run the sync engines) or on an event
    "loop" (the others: WAITS)."""

    module: str
    waits: str


#: Every strategy, by name, in the order --help and compare show them. cluster needs dask:
#: pip install 'loadtool[cluster]'.
STRATEGY_MODULES = {
    "sequential": StrategyEntry("sequential", "blocking"),
    "threads": StrategyEntry("threads", "blocking"),
    "processes": StrategyEntry("processes", "blocking"),
    "async": StrategyEntry("asyncio", "loop"),
    "hybrid": StrategyEntry("hybrid", "loop"),
    "cluster": StrategyEntry("cluster", "loop"),
}
ALL_STRATEGIES = tuple(STRATEGY_MODULES)
#: The strategies `compare` runs by default: every one that needs nothing but this machine.
STRATEGIES = tuple(name for name in ALL_STRATEGIES if name != "cluster")

#: How a strategy drives an engine, by the engine's style: ``sync`` blocks in its attempt
#: (run by threads and processes: they wait "blocking"); ``async`` is a coroutine, ``multi``
#: a pool that runs many attempts itself, ``loop`` callbacks with no coroutine per request
#: (all three run on an event "loop": async, hybrid and cluster).
WAITS = {"sync": "blocking", "async": "loop", "multi": "loop", "loop": "loop"}
HTTP_VERSIONS = ("1.1", "2", "3")


class EngineEntry(NamedTuple):
    """What the registry knows of an engine, before its module is imported."""

    #: Its module in loadtool.engines, and its class there.
    module: str
    cls: str
    #: What it does: "fetch" or "read".
    does: str
    #: How a strategy drives it (WAITS).
    style: str
    #: What --engine's help says of it.
    about: str
    #: The HTTP versions it speaks.
    speaks: tuple[str, ...] = ("1.1",)
    #: The least client CPU per request of its kind and way of waiting: what a plan sizes
    #: the event-loop ways with, where it can fetch the job.
    lean: bool = False
    #: Client CPU per request as measured here (nginx, 1 KiB answers, -c 50: requests
    #: sequentially; in 50 threads it is 650), in µs: what the report's advice compares.
    cpu_us: float | None = None

    @property
    def waits(self) -> str:
        return WAITS[self.style]


#: Every engine, by name. The first of a kind and a way of waiting is that way's default.
ENGINE_CLASSES = {
    "requests": EngineEntry("requests", "RequestsEngine", "fetch", "sync",
                            "sequential, threads and processes fetch with requests", cpu_us=422),
    "aiohttp": EngineEntry("aiohttp", "AiohttpEngine", "fetch", "async", "aiohttp (the default)", cpu_us=116),
    "fast": EngineEntry("fast", "FastEngine", "fetch", "loop",
                        "fast (HTTP/1.1 keep-alive on asyncio protocols and httptools: several times less CPU per "
                        "request)", lean=True, cpu_us=19),
    "curl": EngineEntry("curl", "CurlEngine", "fetch", "multi", "curl (libcurl: HTTP/2, HTTP/3, TLS, proxies)",
                        speaks=HTTP_VERSIONS),
    "file": EngineEntry("files", "FileEngine", "read", "sync", "blocking reads"),
    "aiofiles": EngineEntry("files", "AiofilesEngine", "read", "async", "aiofiles on the event loop"),
    "function": EngineEntry("operation", "FunctionEngine", "run", "sync", "your def, called in a worker's thread"),
    "coroutine": EngineEntry("operation", "CoroutineEngine", "run", "async", "your async def, awaited on a loop"),
}
#: What a job does: fetch URLs, read files, or run the user's own operation.
KINDS = ("fetch", "read", "run")
#: The HTTP clients --engine chooses among, event-loop ones first.
ENGINES = tuple(sorted((name for name, entry in ENGINE_CLASSES.items() if entry.does == "fetch"),
                       key=lambda name: ENGINE_CLASSES[name].waits == "blocking"))

#: Report formats (--format), by name: the module of loadtool.report and its function that
#: writes one, ``(results, knee=None, histogram=None, as_list=False) -> text``. The first is
#: the default. A plan's formats: its module's function ``(plan, title) -> text``.
FORMATS = {"table": ("text", "text_report"), "json": ("data", "json_report"), "csv": ("data", "csv_report")}
PLAN_FORMATS = {"table": ("plan", "plan_text"), "json": ("plan", "plan_json")}

#: The strategies of a crawl, and those `compare --crawl` runs by default (cluster needs dask).
CRAWL_STRATEGIES = ("threads", "async", "processes", "hybrid", "cluster")
CRAWL_COMPARED = CRAWL_STRATEGIES[:-1]
PROFILE_NAMES = ("web", "api", "slow-tail", "uniform")
DEFAULT_CONCURRENCY = 50
#: Exit codes: ok; a --fail-if threshold failed; bad usage; the run could not do its work; a
#: worker process died under the run (its report written with what the others measured);
#: interrupted by SIGINT, by SIGTERM.
EXIT_OK, EXIT_THRESHOLD, EXIT_USAGE, EXIT_FAILED, EXIT_WORKER_LOST, EXIT_SIGINT, EXIT_SIGTERM = 0, 1, 2, 3, 4, 130, 143


def engines_for(kind: str, waits: str) -> tuple[str, ...]:
    """The engines that do ``kind`` and wait as ``waits``: what a strategy that waits so runs."""
    return tuple(name for name, entry in ENGINE_CLASSES.items() if (entry.does, entry.waits) == (kind, waits))


def lean_engine(waits: str = "loop") -> str:
    """The fetch engine of least CPU per request among those that wait as ``waits``."""
    fetchers = engines_for("fetch", waits)
    return next((name for name in fetchers if ENGINE_CLASSES[name].lean), fetchers[0])


def speaking(version: str) -> tuple[str, ...]:
    """The fetch engines that speak HTTP ``version``."""
    return tuple(name for name in ENGINES if version in ENGINE_CLASSES[name].speaks)


def strategies_running(engines: tuple[str, ...]) -> tuple[str, ...]:
    """The strategies that run any of ``engines`` (they wait as the engine does)."""
    waits = {ENGINE_CLASSES[name].waits for name in engines}
    return tuple(name for name, entry in STRATEGY_MODULES.items() if entry.waits in waits)


def engine_help() -> str:
    """--engine's help, from what each engine is."""
    loop = [ENGINE_CLASSES[name].about for name in engines_for("fetch", "loop")]
    blocking = "; ".join(ENGINE_CLASSES[name].about for name in engines_for("fetch", "blocking"))
    return f"HTTP client. async, hybrid and cluster: {', '.join(loop[:-1])}; or {loop[-1]}. {blocking[:1].upper()}{blocking[1:]}."

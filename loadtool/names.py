"""The registries of strategies and engines, and the names and defaults the command line shows.

Kept apart, with no imports, so ``loadtool --help`` imports this and click and nothing
else of weight. A new strategy is its module in ``strategies/`` and one line in
STRATEGY_MODULES; a new engine is its module in ``engines/`` and one line in
ENGINE_CLASSES: every list of names below is derived from these two.
"""

#: Every strategy, by name: its module in loadtool.strategies (imported when used), in the
#: order --help and compare show them. cluster needs dask: pip install 'loadtool[cluster]'.
STRATEGY_MODULES = {
    "sequential": "sequential",
    "threads": "threads",
    "processes": "processes",
    "async": "asyncio",
    "hybrid": "hybrid",
    "cluster": "cluster",
}
ALL_STRATEGIES = tuple(STRATEGY_MODULES)
#: The strategies `compare` runs by default: every one that needs nothing but this machine.
STRATEGIES = tuple(name for name in ALL_STRATEGIES if name != "cluster")

#: Every engine, by name: (its module in loadtool.engines, its class, what it does — fetch
#: or read —, how it waits — "blocking", run by threads and processes, or on an event "loop",
#: run by async, hybrid and cluster). The first of a kind and a way of waiting is the default.
ENGINE_CLASSES = {
    "requests": ("requests", "RequestsEngine", "fetch", "blocking"),
    "aiohttp": ("aiohttp", "AiohttpEngine", "fetch", "loop"),
    "fast": ("fast", "FastEngine", "fetch", "loop"),
    "curl": ("curl", "CurlEngine", "fetch", "loop"),
    "file": ("files", "FileEngine", "read", "blocking"),
    "aiofiles": ("files", "AiofilesEngine", "read", "loop"),
}
#: The HTTP clients --engine chooses among, event-loop ones first.
ENGINES = tuple(sorted((name for name, entry in ENGINE_CLASSES.items() if entry[2] == "fetch"),
                       key=lambda name: ENGINE_CLASSES[name][3] == "blocking"))

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
    return tuple(name for name, entry in ENGINE_CLASSES.items() if entry[2:] == (kind, waits))

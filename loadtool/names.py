"""The names and defaults the command line shows before any work is done.

Kept apart so ``loadtool --help`` imports this and click, and nothing else of weight.
"""

#: The strategies `compare` runs by default: every one that needs nothing but this machine.
STRATEGIES = ("sequential", "threads", "processes", "async", "hybrid")
#: Every strategy, cluster included (it needs dask: pip install 'loadtool[cluster]').
ALL_STRATEGIES = (*STRATEGIES, "cluster")
#: The strategies of a crawl, and those `compare --crawl` runs by default (cluster needs dask).
CRAWL_STRATEGIES = ("threads", "async", "processes", "hybrid", "cluster")
CRAWL_COMPARED = CRAWL_STRATEGIES[:-1]
ENGINES = ("aiohttp", "fast", "curl", "requests")
PROFILE_NAMES = ("web", "api", "slow-tail", "uniform")
DEFAULT_CONCURRENCY = 50
#: Exit codes: ok; a --fail-if threshold failed; bad usage; the run could not do its work;
#: interrupted by SIGINT, by SIGTERM.
EXIT_OK, EXIT_THRESHOLD, EXIT_USAGE, EXIT_FAILED, EXIT_SIGINT, EXIT_SIGTERM = 0, 1, 2, 3, 130, 143
#: Strategies that run requests (sync, one thread or process per operation): no engine to choose.
SYNC_STRATEGIES = ("sequential", "threads", "processes")

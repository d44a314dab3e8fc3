"""The names and defaults the command line shows before any work is done.

Kept apart so ``loadtool --help`` imports this and click, and nothing else of weight.
"""

#: The strategies `compare` runs by default: every one that needs nothing but this machine.
STRATEGIES = ("sequential", "threads", "processes", "async", "hybrid")
#: Every strategy, cluster included (it needs dask: pip install 'loadtool[cluster]').
ALL_STRATEGIES = (*STRATEGIES, "cluster")
ENGINES = ("aiohttp", "fast")
PROFILE_NAMES = ("web", "api", "slow-tail", "uniform")
DEFAULT_CONCURRENCY = 50

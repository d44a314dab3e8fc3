"""The names and defaults the command line shows before any work is done.

Kept apart so ``loadtool --help`` imports this and click, and nothing else of weight.
"""

STRATEGIES = ("sequential", "threads", "processes", "async", "hybrid")
ENGINES = ("aiohttp", "fast")
PROFILE_NAMES = ("web", "api", "slow-tail", "uniform")
DEFAULT_CONCURRENCY = 50

"""The strategies: how operations overlap, and nothing else.

Each module has one public function, ``run(job, recorder)``: it pulls operations from
``Work``, does each with the job's I/O (``ops.io_for``), and puts every Sample in the
recorder. They are imported only when used, so ``loadtool --help`` stays quick.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

_MODULES = {
    "sequential": "sequential",
    "threads": "threads",
    "processes": "processes",
    "async": "asyncio",
    "hybrid": "hybrid",
    "cluster": "cluster",
}


def get(name: str) -> Callable:
    """The ``run`` function of strategy ``name``."""
    return importlib.import_module(f"{__name__}.{_MODULES[name]}").run

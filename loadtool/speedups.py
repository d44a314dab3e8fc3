"""The compiled core: the per-request path, built with Cython from the same ``.py`` files.

The modules in COMPILED run once or more per request (the accounting, the policy, the fast
engine and the loop that drives it, the curl engine and its multi driver, the aiohttp
engine's guard; the clocks they read are metrics/clock.pxd's C calls); ONLY_COMPILED's
have no Python twin but another way to the same end (libcurl's callbacks in C).
``pip install .`` compiles each with Cython in pure-Python
mode: the ``.py`` stays the source and the reference, and a ``.pxd`` beside it declares the
types that make it fast (the accounting's classes as C structs, their counters as C integers).
Where there is no C compiler, the build goes on without them (setup.py), as aiohttp's and
yarl's do, and the same modules run as Python.

``LOADTOOL_NO_EXTENSIONS=1`` runs the pure-Python modules even where the compiled ones are
installed (as ``AIOHTTP_NO_EXTENSIONS`` does); ``loadtool --version`` and the report's first
line say so, so a change of speed is never silent. Nothing here imports the modules it
describes: asking costs a few file lookups, not an import. (This module is imported with the
package, so it imports nothing itself that ``import loadtool`` would wait for: importlib.abc
and pathlib cost 25 ms.)
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES

#: The modules built with Cython, by their names under ``loadtool``.
COMPILED = (
    "metrics.histograms", "metrics.series", "metrics.parts", "metrics.stats", "metrics.sink",
    "engines.policy", "engines.callbacks", "engines.fast", "engines.curl", "engines.guard",
    "strategies.loop", "strategies.work", "strategies.multi",
)
#: Compiled-only modules, built from a ``.pyx``: their pure-Python twin is another way to the
#: same end (curlhooks: libcurl's callbacks in C; without it, pycurl calls Python ones).
ONLY_COMPILED = ("engines.curlhooks",)
#: Every module of the compiled core.
CORE = COMPILED + ONLY_COMPILED
ENVIRONMENT = "LOADTOOL_NO_EXTENSIONS"
_HOME = os.path.dirname(os.path.abspath(__file__))


def disabled() -> bool:
    """Whether LOADTOOL_NO_EXTENSIONS asks for the pure-Python modules."""
    return os.environ.get(ENVIRONMENT, "") not in ("", "0")


def built() -> tuple[str, ...]:
    """The modules of the CORE that have a compiled build installed."""
    def has_build(name: str) -> bool:
        stem = os.path.join(_HOME, *name.split("."))
        return any(os.path.exists(stem + suffix) for suffix in EXTENSION_SUFFIXES)

    return tuple(name for name in CORE if has_build(name))


def compiled() -> bool:
    """Whether this process runs the compiled core (every module of it)."""
    return not disabled() and len(built()) == len(CORE)


def describe() -> str:
    """What runs the per-request path, in words: for --version and the report."""
    if disabled():
        return f"pure Python: {ENVIRONMENT}=1"
    done = built()
    if len(done) == len(CORE):
        return "compiled core"
    if not done:
        return "pure Python: the compiled core was not built (no C compiler at install?)"
    return f"pure Python in part: {', '.join(sorted(set(CORE) - set(done)))} not built"


class _PurePython:
    """Finds loadtool's modules as their ``.py`` source, never a compiled build beside it
    (Python's own finder prefers the extension module). A meta path finder by its method."""

    def find_spec(self, name, path, target=None):
        if path is None or not name.startswith("loadtool."):
            return None
        from importlib.util import spec_from_file_location
        leaf = name.rpartition(".")[2]
        for folder in path:
            source = os.path.join(folder, leaf + ".py")
            if os.path.isfile(source):
                return spec_from_file_location(name, source)
        return None


def use_pure_python() -> None:
    """Import loadtool's modules from their source from now on (idempotent)."""
    if not any(isinstance(finder, _PurePython) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PurePython())

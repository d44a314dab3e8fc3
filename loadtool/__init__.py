"""loadtool: measure blocking I/O at scale, four ways, side by side.

The library mirrors the command line::

    import loadtool
    result = loadtool.run(strategy="async", count=1010)        # fixture server started for you
    print(result.latency_ms["p99"], result.throughput_ops_s)

    result = await loadtool.arun(urls=["https://example.org/"], count=100)  # in async code / Jupyter
"""

__version__ = "0.1.0"

from . import speedups as _speedups  # noqa: E402

if _speedups.disabled():  # LOADTOOL_NO_EXTENSIONS=1: the pure-Python modules, never the compiled ones
    _speedups.use_pure_python()

__all__ = ["run", "arun", "step", "check", "Job", "Result", "FixtureServer", "fixture_server", "__version__"]

_EXPORTS = {
    "run": ("runner", "run"),
    "arun": ("runner", "arun"),
    "Job": ("job", "Job"),
    "Result": ("runner.result", "Result"),
    "FixtureServer": ("server.run", "FixtureServer"),
    "fixture_server": ("server.run", "fixture_server"),
    "step": ("engines.operation", "step"),
    "check": ("engines.operation", "check"),
}


def __getattr__(name: str):
    # Imported on first use, so `import loadtool` (and `loadtool --help`) stays light.
    if name not in _EXPORTS:
        raise AttributeError(f"module 'loadtool' has no attribute {name!r}")
    import importlib

    module, attribute = _EXPORTS[name]
    return getattr(importlib.import_module(f"{__name__}.{module}"), attribute)

"""loadtool's pytest plugin, registered through the ``pytest11`` entry point.

Installed with loadtool, active in every pytest session, with nothing to import:

    def test_search_stays_fast(loadtool_server, loadtool_run):
        result = loadtool_run(urls=[loadtool_server.url("/delay/20")], count=500, concurrency=50)
        result.assert_ok(p99="100ms", failed_rate=0.01)

``loadtool_server`` is the fixture server in a subprocess, one for the session.
``loadtool_run(...)`` runs a job (the options of ``loadtool.Job.build``) and returns its
Result; ``await loadtool_run.arun(...)`` does the same inside async tests.
``--loadtool-scale=0.1`` shrinks every count and duration in the suite, for quick runs.
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("loadtool")
    group.addoption("--loadtool-scale", type=float, default=1.0, metavar="FACTOR",
                    help="multiply every loadtool count and duration by FACTOR (e.g. 0.1 for a quick run)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "loadtool: a test that puts load on a service with loadtool")


class LoadRunner:
    """``loadtool.run`` / ``loadtool.arun`` with the suite's --loadtool-scale applied."""

    def __init__(self, scale: float) -> None:
        if scale <= 0:
            raise pytest.UsageError(f"--loadtool-scale must be above 0, not {scale:g}")
        self.scale = scale

    def scaled(self, options: dict[str, Any]) -> dict[str, Any]:
        from loadtool.units import parse_count, parse_duration

        scaled = dict(options)
        if scaled.get("count") is not None:
            count = scaled["count"]
            count = parse_count(count) if isinstance(count, str) else count
            scaled["count"] = max(1, round(count * self.scale))
        if scaled.get("duration") is not None:
            duration = scaled["duration"]
            duration = parse_duration(duration) if isinstance(duration, str) else duration
            scaled["duration"] = max(0.001, duration * self.scale)
        return scaled

    def __call__(self, **options: Any):
        import loadtool

        return loadtool.run(**self.scaled(options))

    async def arun(self, **options: Any):
        import loadtool

        return await loadtool.arun(**self.scaled(options))


@pytest.fixture(scope="session")
def loadtool_server():
    """The fixture server (``loadtool serve``) on a free loopback port, for the session."""
    from loadtool.server.run import FixtureServer

    with FixtureServer() as server:
        yield server


@pytest.fixture
def loadtool_run(request: pytest.FixtureRequest) -> LoadRunner:
    """Run a load: ``loadtool_run(urls=[...], count=1000, concurrency=50)`` returns a Result."""
    return LoadRunner(request.config.getoption("loadtool_scale"))

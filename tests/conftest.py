"""Shared fixtures: one fixture server for the session, and the CLI run as a user runs it.

The suite runs in three processes on two cores (pytest-xdist, ``-n 3`` in setup.cfg: most
tests wait on a server, a subprocess or a signal, so a third overlaps those waits; 309 s
against 365 s with two), a test file each at a time. A test whose verdict rests on the
machine's time or CPU — a ratio of speeds, gaps between arrivals, a plan's prediction — is
marked ``alone``: it takes the gate exclusively, so the other processes wait, and it is
measured on a machine no test of ours shares.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import tempfile

import pytest
from click.testing import CliRunner

from loadtool.cli import cli

#: The loadtool a test starts as a subprocess (``python -m loadtool``) is the installed one, as
#: a user's is: Python would otherwise put the working directory first on sys.path, and from
#: the repository's root import the source tree, whose core is not compiled after
#: ``pip install .``. (Both paths are tested on purpose in test_speedups.py.)
os.environ.setdefault("PYTHONSAFEPATH", "1")

#: One gate for the whole run (its processes share xdist's run id), a file locked per test,
#: and a turnstile before it: a test that must run alone holds the turnstile while it waits,
#: so the other process starts no new test meanwhile. Without it, that process took the gate
#: again between its tests (flock has no queue) and a test marked alone waited 5-12 s.
GATE = os.path.join(tempfile.gettempdir(), f"loadtool-tests-{os.environ.get('PYTEST_XDIST_TESTRUNUID', os.getpid())}")
TURNSTILE = GATE + ".turnstile"
#: The gate's file while this process holds it alone from one test to the next: tests marked
#: alone one after another (a file's, or a parametrized test's) keep it, instead of handing it
#: back and waiting again for the other processes' tests to end (a wait of up to 15 s each).
_held: list = []
_NEXT_ALONE = pytest.StashKey[bool]()


def _alone(item) -> bool:
    return item is not None and item.get_closest_marker("alone") is not None


def _take(alone: bool):
    with open(TURNSTILE, "a") as turnstile:
        handle = open(GATE, "a")
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            fcntl.flock(turnstile, fcntl.LOCK_UN)  # never held while a test runs
    return handle


def _give_back(handle) -> None:
    fcntl.flock(handle, fcntl.LOCK_UN)
    handle.close()


@contextlib.contextmanager
def gate(alone: bool = False):
    """Hold the gate: shared by every test, exclusively by one that must run alone (at once,
    where this process holds it alone already)."""
    if _held:
        yield
        return
    handle = _take(alone)
    try:
        yield
    finally:
        _give_back(handle)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    item.stash[_NEXT_ALONE] = _alone(nextitem)


@pytest.fixture(autouse=True)
def _gate(request):
    if not _alone(request.node):
        if _held:  # the test before expected an alone one next, which was skipped: hand the gate back
            _give_back(_held.pop())
        with gate():
            yield
        return
    if not _held:
        _held.append(_take(alone=True))
    try:
        yield
    finally:
        if not request.node.stash.get(_NEXT_ALONE, False):
            _give_back(_held.pop())


def pytest_configure(config):
    config.addinivalue_line("markers", "alone: measures time or CPU, so it runs with no other test of ours at once")


@pytest.fixture(scope="session")
def server(loadtool_server):
    """The fixture server in a subprocess on a free loopback port, for the whole session
    (the one loadtool's pytest plugin provides)."""
    return loadtool_server


class Invocation:
    def __init__(self, result) -> None:
        self.exit_code = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.exception = result.exception

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def loadtool_cli():
    """Run ``loadtool ARGS…`` in-process and return its exit code, stdout and stderr."""
    def invoke(*args: str, input: str | bytes | None = None) -> Invocation:
        # LOADTOOL_DEBUG: an internal error (a bug) prints its traceback, and fails the test here.
        result = CliRunner().invoke(cli, list(args), input=input, prog_name="loadtool", env={"LOADTOOL_DEBUG": "1"})
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        if "loadtool: internal error:" in result.stderr:
            raise AssertionError(result.stderr)
        return Invocation(result)
    return invoke


@pytest.fixture
def python():
    return sys.executable

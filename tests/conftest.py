"""Shared fixtures: one fixture server for the session, and the CLI run as a user runs it."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from loadtool.cli import cli


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

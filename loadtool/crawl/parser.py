"""The user's parser (``--parse module:function``), and parsing a page: its links, then the parser.

The parser is called with (url, status, headers, body) for every HTML page, sync or
async; the CPU it takes is measured (thread CPU time around the call). In a hybrid crawl
it runs in worker processes, each loading it once.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import time
from typing import Callable

from ..errors import UsageError
from .urls import Links, links_of


def load_parser(spec: str) -> Callable:
    """``module:function`` (a module on sys.path, or a .py file path before the colon)."""
    module_name, sep, name = spec.rpartition(":")
    if not sep or not module_name or not name:
        raise UsageError(f"--parse {spec!r}: give MODULE:FUNCTION, e.g. myparsers:parse_product")
    try:
        if module_name.endswith(".py"):
            location = importlib.util.spec_from_file_location("loadtool_user_parser", module_name)
            module = importlib.util.module_from_spec(location)
            location.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except (ImportError, OSError, SyntaxError) as exc:
        raise UsageError(f"--parse {spec!r}: cannot import {module_name}: {exc}") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise UsageError(f"--parse {spec!r}: {module_name} has no function {name}")
    return function


def parse_page(parser: Callable | None, url: str, status: int, headers: dict, body: bytes,
               follow_nofollow: bool = False) -> tuple[Links, int, bool]:
    """A page's links and the user's parser on it: (Links, CPU µs, whether the parser failed).
    Async parsers are awaited by the caller; here (in a process) one is run to completion."""
    started = time.thread_time()
    links, failed = links_of(body, url, headers, follow_nofollow), False
    if parser is not None:
        try:
            value = parser(url, status, headers, body)
            if inspect.isawaitable(value):
                asyncio.run(_awaited(value))
        except Exception:  # noqa: BLE001 - a user's parser failing is counted, not fatal
            failed = True
    return links, max(1, int((time.thread_time() - started) * 1e6)), failed


async def _awaited(value) -> None:
    await value


#: In a hybrid crawl's worker process: the user's parser, loaded once.
_PARSER: Callable | None = None


def start_parser(spec: str | None, owner: int | None = None) -> None:
    """In a parsing process: load the user's parser; with ``owner``, become one of that
    loadtool's workers (it decides what signals mean, and the process ends with it)."""
    global _PARSER
    if owner is not None:
        from ..system import become_worker

        become_worker(owner)
    _PARSER = load_parser(spec) if spec else None


def parse_in_process(url: str, status: int, headers: dict, body: bytes,
                     follow_nofollow: bool) -> tuple[Links, int, bool]:
    return parse_page(_PARSER, url, status, headers, body, follow_nofollow)

"""Hints for habits brought from other load testers: when a command line fails, name
the loadtool option that does what the user most likely meant.

hey and oha spell the rate ``-q``, the body ``-d`` and the duration ``-z``; here ``-q``
is --quiet and ``-d`` --duration, so their habits fail in ways that say little (a URL
"10", a duration '{"a":1}'). Each rule looks at the arguments as typed, not at how click
read them, and fires only when that reading explains the error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_NUMBER = re.compile(r"\d+(\.\d+)?")
#: Options of other tools that loadtool spells differently: (option, the tools, what to use here).
_FOREIGN = {
    "-z": ("hey and oha", "--duration (-d), e.g. -d 10s"),
    "-T": ("hey", "-H 'Content-Type: application/json'"),
    "-D": ("hey", "--body @FILE"),
    "-A": ("hey", "-H 'Accept: ...'"),
    "-a": ("hey", "-H 'Authorization: Basic ...'"),
    "--latency-correction": ("oha", "--rate: in the open model latency already counts from when each "
                             "request was due"),
    "--vus": ("k6", "--concurrency (-c)"),
    "--rps": ("k6", "--rate (-r), e.g. -r 100/s"),
    "-R": ("wrk2", "--rate (-r), e.g. -r 100/s"),
    "--http2": ("hey, oha and curl", "--http 2 (it picks the curl engine)"),
    "--http3": ("oha and curl", "--http 3 (it picks the curl engine)"),
    "--disable-keepalive": ("hey and oha", "--no-keepalive"),
    "--no-reuse": ("vegeta", "--no-keepalive"),
}


def habit_hint(args: Sequence[str], message: str) -> str | None:
    """A hint for the usage error ``message`` that ``args`` (the command line) caused."""
    args = list(args)
    for index, arg in enumerate(args):
        following = args[index + 1] if index + 1 < len(args) else ""
        if arg == "-q" and _NUMBER.fullmatch(following) and following in message:
            return (f"-q is --quiet here; for hey's and oha's -q (requests a second) use --rate, "
                    f"e.g. -r {following}/s")
        if arg == "-d" and "not a duration" in message and following in message:
            return f"-d is --duration here; for a request body (hey's and oha's -d) use --body {following!r}"
        wrk_threads = re.fullmatch(r"-t(\d+)", arg) or (arg == "-t" and _NUMBER.fullmatch(following) and following)
        if wrk_threads and "has no unit" in message:
            threads = wrk_threads.group(1) if isinstance(wrk_threads, re.Match) else following
            return (f"-t is --timeout here, a time such as -t {threads}s; for wrk's -t (threads) use "
                    f"--processes (-p) {threads}, or -s threads -c N")
        name = arg.split("=", 1)[0]
        if name in _FOREIGN and name in message:
            tools, instead = _FOREIGN[name]
            return f"{name} comes from {tools}; here use {instead}"
    return None

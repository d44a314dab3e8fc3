"""What users type, checked once: user options in, plain validated values out.

``parse`` takes what a user types (strings such as ``"30s"``, ``"100/s"`` or
``"Accept: text/html"``, or plain numbers from the API) and returns the values of a
Job and its parts, or raises ``UsageError`` with one line saying what is wrong.
``Job.build`` assembles them; everything downstream can trust a Job.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..errors import UsageError
from dataclasses import replace

from ..names import HTTP_VERSIONS, KINDS, PROFILE_NAMES
from ..options import DEFAULTS, FIXTURE_COUNT, JOB_KEYWORDS, default
from ..targets import (FixturePaths, GeneratedTree, NotAFile, file_targets, has_control_characters, open_regular,
                      url_problem, url_targets)
from ..units import Rate, parse_count, parse_duration, parse_rate, parse_size

#: A single URL gets hey's default number of requests.
SINGLE_URL_COUNT = 200
#: The user's own operation is called this many times unless --count or --duration says.
OPERATION_COUNT = 100
MAX_COUNT = 10**15
MAX_RATE_PER_S = 10_000_000
#: Most servers refuse more than 8 KiB of headers in all.
MAX_HEADER_BYTES = 8 * 1024
MAX_CONCURRENCY = 100_000
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_BARE_NUMBER = re.compile(r"\d+(\.\d*)?|\.\d+")


def choice(name: str, value: str, allowed) -> str:
    if value not in allowed:
        raise UsageError(f"--{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def whole_number(name: str, value: Any, low: int, high: int | None = None) -> int:
    try:
        number = parse_count(value) if isinstance(value, str) else int(value)
        if number != value and not isinstance(value, str):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise UsageError(f"--{name} must be a whole number, not {value!r}") from None
    if number < low or (high is not None and number > high):
        bound = f"at least {low}" if high is None else f"between {low} and {high}"
        raise UsageError(f"--{name} must be {bound}, not {number}")
    return number


def seconds(name: str, value: Any, positive: bool = True) -> float:
    """A duration option: a time with its unit as typed (``30s``, ``500ms``), or a number of
    seconds from Python. A typed number with no unit is refused: is ``-t 2`` two seconds, or
    wrk's two threads?"""
    if isinstance(value, str) and _BARE_NUMBER.fullmatch(value.strip()) and float(value) != 0:
        raise UsageError(f"--{name} {value!r} has no unit: write {value.strip()}s or {value.strip()}ms")
    try:
        value_s = parse_duration(value) if isinstance(value, str) else float(value)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--{name}: {exc}") from None
    if value_s != value_s or value_s < 0 or (positive and value_s == 0) or value_s > 366 * 86400:
        raise UsageError(f"--{name} must be a duration {'above' if positive else 'of at least'} 0 "
                         f"and at most a year, not {value!r}")
    return value_s


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not _TOKEN.fullmatch(name.strip()):
        raise UsageError(f"--header must look like 'Name: value', not {text!r}")
    if has_control_characters(value.replace("\t", " ")):
        raise UsageError(f"--header {name.strip()!r} has a line break or other control character in its value")
    try:
        value.encode("latin-1")
    except UnicodeError:
        raise UsageError(f"--header {name.strip()!r}: header values must be ASCII or Latin-1 text") from None
    if len(text.encode("utf-8", "surrogateescape")) > MAX_HEADER_BYTES:
        raise UsageError(f"--header {name.strip()!r} is over {MAX_HEADER_BYTES // 1024} KiB; servers refuse such headers")
    return name.strip(), value.strip()


def parse_status_ranges(text: str) -> tuple[tuple[int, int], ...]:
    """``"200-299,304"`` as ((200, 299), (304, 304))."""
    ranges = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        try:
            pair = (int(low), int(high or low))
        except ValueError:
            raise UsageError(f"--ok-status must look like 200-299,304, not {text!r}") from None
        if not 100 <= pair[0] <= pair[1] <= 599:
            raise UsageError(f"--ok-status ranges must lie within 100-599, not {part.strip()!r}")
        ranges.append(pair)
    return tuple(ranges)


def format_status_ranges(ranges: tuple[tuple[int, int], ...]) -> str:
    return ",".join(f"{low}" if low == high else f"{low}-{high}" for low, high in ranges)


def rate(value: Any, name: str = "rate") -> Rate | None:
    try:
        parsed = parse_rate(value) if isinstance(value, str) else value
        parsed = Rate(float(parsed)) if isinstance(parsed, (int, float)) else parsed
    except ValueError as exc:
        raise UsageError(f"--{name}: {exc}") from None
    if parsed is not None and parsed.per_s > MAX_RATE_PER_S:
        raise UsageError(f"--{name} is at most {MAX_RATE_PER_S:,}/s, not {parsed}")
    return parsed


def body_from(text: str | None, max_body: str = default("max_body")) -> bytes | None:
    """A request body from the command line: TEXT, or @FILE read whole — a regular file only
    (a FIFO would block), and at most ``max_body`` bytes (never an unbounded read)."""
    if text is None or not text.startswith("@"):
        return None if text is None else text.encode()
    try:
        limit = parse_size(max_body)
    except ValueError as exc:
        raise UsageError(f"--max-body: {exc}") from None
    path = text[1:]
    try:
        with open(open_regular(path), "rb") as handle:
            data = handle.read(limit + 1)
    except NotAFile:
        raise UsageError(f"--body: {path} is not a regular file (a FIFO, socket or device)") from None
    except OSError as exc:
        raise UsageError(f"--body: cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise UsageError(f"--body: {path} is over {max_body} (--max-body SIZE raises the limit)")
    return data


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(value, dict):
        value = [f"{name}: {text}" for name, text in value.items()]
    return tuple(parse_header(item) for item in value or ())


def size_option(name: str, value: Any, low: int, low_text: str, high: int = 1 << 30) -> int:
    """A size option (``"64KiB"``, or a number of bytes) between ``low`` and ``high`` (1 GiB)."""
    try:
        number = parse_size(value) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise UsageError(f"--{name} must be a size such as 64KiB, not {value!r}") from None
    if not low <= number <= high:
        from ..units import format_bytes

        raise UsageError(f"--{name} must be between {low_text} and {format_bytes(high)}, not {value!r}")
    return number


def _count(options: dict[str, Any], targets: Any, duration_s: float | None) -> int | None:
    """The number of operations: as given, else a default that suits the targets."""
    if options.get("count") is not None:
        return whole_number("count", options["count"], 1, MAX_COUNT)
    if duration_s is not None:
        return None
    if options.get("kind") == "run" or "operation" in options:
        return OPERATION_COUNT
    if isinstance(targets, FixturePaths):
        return FIXTURE_COUNT
    if isinstance(targets, GeneratedTree):
        return targets.count
    distinct = targets.distinct()
    if options.get("kind") == "read":
        return distinct or FIXTURE_COUNT
    return SINGLE_URL_COUNT if distinct in (None, 1) else distinct


def _targets(options: dict[str, Any], seed: int, profile: str) -> Any:
    if options.get("targets") is not None:
        return options["targets"]
    if options.get("kind") == "read":
        paths, from_list = options.get("paths", ()), options.get("from_list")
        paths = (paths,) if isinstance(paths, str) else tuple(paths)
        if not paths and not from_list:
            count = whole_number("count", options.get("count", FIXTURE_COUNT), 1)
            size = options["file_size"]
            from ..targets.tree import parse_sizes

            parse_sizes(size, None)  # a bad size is a usage error now, not after the run starts
            return GeneratedTree(count, size, seed)
        return file_targets(paths, from_list, bool(options.get("recursive")))
    urls = options.get("urls", ())
    if options.get("targets_file") is not None:
        if urls or options.get("urls_file"):
            raise UsageError("give URLs, --urls-file or --targets, one of them")
        from ..targets.request_file import TargetsFile

        max_body = size_option("max-body", options["max_body"], 0, "0")
        body_dir = options.get("body_dir")
        if body_dir is not None and not os.path.isdir(body_dir):
            raise UsageError(f"--body-dir: no such directory: {body_dir}")
        return TargetsFile.open(options["targets_file"], str(options["targets_format"]), max_body, body_dir)
    targets = url_targets((urls,) if isinstance(urls, str) else tuple(urls), options.get("urls_file"), seed, profile)
    if "server" in options:
        if not isinstance(targets, FixturePaths):
            raise UsageError("--server applies to fixture paths (/…), not to full URLs")
        problem = url_problem(options["server"])
        if problem:
            raise UsageError(f"--server {options['server']!r}: {problem}")
        targets = targets.bind(options["server"])
    return targets


def _operation(options: dict[str, Any]):
    """The user's own operation (``FILE.py:NAME``, or the library's function or class), with
    the server it is told of (--server, or --fixture's own)."""
    from ..targets.operation import Operation

    if options.get("operation") is None:
        raise UsageError("a run needs an operation: FILE.py:NAME, or loadtool.run(operation=...)")
    server = options.get("server")
    if server is not None:
        problem = url_problem(server)
        if problem:
            raise UsageError(f"--server {server!r}: {problem}")
    return replace(Operation.of(options["operation"]), server=server, fixture=bool(options.get("fixture")))


def _cluster(strategy: str, options: dict[str, Any]) -> dict[str, Any] | None:
    scheduler, local = options.get("scheduler"), options.get("local_cluster")
    if strategy != "cluster":
        if scheduler or local:
            raise UsageError("--scheduler and --local-cluster go with --strategy cluster")
        return None
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UsageError("--strategy cluster needs dask: pip install 'loadtool[cluster]'") from None
    if bool(scheduler) == bool(local):
        raise UsageError("--strategy cluster needs --scheduler tcp://HOST:8786 or --local-cluster N (one of them)")
    if scheduler and not str(scheduler).startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        raise UsageError(f"--scheduler must look like tcp://HOST:8786, not {scheduler!r}")
    return {"scheduler": scheduler, "local": whole_number("local-cluster", local, 1, 256) if local else None}


def _fetch(options: dict[str, Any]) -> dict[str, Any]:
    method = str(options["method"]).upper()
    if not _TOKEN.fullmatch(method):
        raise UsageError(f"--method must be an HTTP method such as GET or POST, not {method!r}")
    body = options.get("body")
    ok_status = options["ok_status"]
    headers = _headers(options.get("headers"))
    if options.get("no_keepalive") and not any(name.lower() == "connection" for name, _ in headers):
        headers += (("Connection", "close"),)  # the server is told, too (RFC 9112 §9.6)
    return {
        "method": method,
        "headers": headers,
        "body": body.encode() if isinstance(body, str) else body,
        "ok_status": parse_status_ranges(ok_status) if isinstance(ok_status, str) else tuple(ok_status),
        "connect_timeout_s": seconds("connect-timeout", options["connect_timeout"]),
        "per_host": whole_number("per-host", options["per_host"], 1, MAX_CONCURRENCY) if "per_host" in options else None,
        "host_rate": rate(options["host_rate"], "host-rate").per_s if "host_rate" in options else None,
        "retry_after": bool(options.get("retry_after")),
        "http": choice("http", str(options["http"]), HTTP_VERSIONS),
        "tls": _tls(options),
        "proxy": _proxy(options.get("proxy")),
        "proxy_env": not options.get("no_proxy_env"),
        "cookies": bool(options.get("cookies")),
        "phases": not options.get("no_phases"),
        "streams": whole_number("streams", options["streams"], 1, 1000),
        "checks": _checks(options.get("checks")),
        "check_body": size_option("check-body", options["check_body"], 1, "1 byte"),
        "compression": not options.get("no_compression"),
        "keepalive": not options.get("no_keepalive"),
        "max_decoded": size_option("max-decoded", options["max_decoded"], 1024, "1KiB", high=1 << 40),
        "max_redirects": whole_number("max-redirects", options["max_redirects"], 0, 100),
    }


def _checks(value: Any) -> tuple:
    """The checks as given (texts, or the library's callables), each parsed once now so a bad
    one is a usage error; the policy parses them again wherever the job runs (a parsed
    check holds closures, which do not travel to other processes)."""
    from ..engines.checks import parse_check

    checks = (value,) if isinstance(value, str) or callable(value) else tuple(value or ())
    for check in checks:
        parse_check(check)
    return checks


def _proxy(url: str | None) -> str | None:
    if url is None:
        return None
    from ..engines.proxy import SCHEMES

    problem = url_problem(url.replace("socks5h://", "http://").replace("socks5://", "http://"))
    scheme = url.partition("://")[0].lower()
    if problem or scheme not in SCHEMES:
        raise UsageError(f"--proxy must be an http://, https:// or socks5:// URL, not {url!r}")
    return url


def _tls(options: dict[str, Any]) -> dict[str, Any]:
    """The TLS options, checked by making a client context with them now: a certificate that
    cannot be read is one line before the run, not an error per operation."""
    tls = {"insecure": bool(options.get("insecure")), "cacert": options.get("cacert"), "cert": options.get("cert"),
           "key": options.get("key"),
           "min_version": choice("tls-min", str(options["tls_min"]), ("1.2", "1.3")) if "tls_min" in options else None}
    if tls["key"] and not tls["cert"]:
        raise UsageError("--key goes with --cert (the client certificate it belongs to)")
    for name in ("cacert", "cert", "key"):
        path = tls[name]
        if path is not None and not os.path.isfile(path):
            raise UsageError(f"--{name}: no such file: {path}")
    if tls["cacert"] or tls["cert"]:
        from types import SimpleNamespace

        from ..engines.tls import context

        try:
            context(SimpleNamespace(**tls))
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            which = "--cert/--key" if tls["cert"] else "--cacert"
            raise UsageError(f"{which}: cannot use it: {getattr(exc, 'reason', None) or exc}") from None
    return tls


def _read(options: dict[str, Any], targets: Any) -> dict[str, Any]:
    verify = bool(options.get("verify"))
    if verify and not isinstance(targets, GeneratedTree) and getattr(targets, "kind", "") != "manifest":
        raise UsageError("--verify needs a tree made by `loadtool files make` (its manifest holds the checksums)")
    return {"block_size": size_option("block-size", options["block_size"], 0, "0 (whole file)"),
            "verify": verify, "evict_cache": bool(options.get("evict_cache"))}


def parse(options: dict[str, Any]) -> dict[str, Any]:
    """The validated values of a Job from user options: the Job's own fields, with its parts
    under ``fetch``, ``read`` and ``cluster`` (None where the part does not apply)."""
    unknown = set(options) - JOB_KEYWORDS
    if unknown:
        raise TypeError(f"unknown job option(s): {', '.join(sorted(unknown))}")
    strategy_given = options.get("strategy") is not None
    # Each default as the table has it, typed as a user would type it: parsed as the rest.
    options = {**DEFAULTS, **{key: value for key, value in options.items() if value is not None}}
    kind = choice("kind", options.get("kind", "run" if "operation" in options else "fetch"), KINDS)
    seed = whole_number("seed", options["seed"], 0, 2**63 - 1)
    profile = choice("profile", options["profile"], PROFILE_NAMES)  # names.py: no import of the profiles
    targets = _operation(options) if kind == "run" else _targets(options, seed, profile)
    strategy = options["strategy"]
    if kind == "run" and not strategy_given:  # a def runs in threads, an async def on a loop
        strategy = "async" if targets.is_async else "threads"
    duration_s = seconds("duration", options["duration"]) if "duration" in options else None
    return {
        "targets": targets,
        "strategy": strategy,
        "engine": (("coroutine" if targets.is_async else "function") if kind == "run" else options.get("engine")),
        "count": _count(options, targets, duration_s),
        "duration_s": duration_s,
        "concurrency": whole_number("concurrency", options["concurrency"], 1, MAX_CONCURRENCY),
        "processes": whole_number("processes", options["processes"], 1, 1024) if "processes" in options else None,
        "rate": rate(options.get("rate")),
        "timeout_s": seconds("timeout", options["timeout"]),
        "retries": whole_number("retries", options["retries"], 0, 100),
        "grace_s": seconds("grace", options["grace"], positive=False),
        "seed": seed,
        "fetch": _fetch(options) if kind == "fetch" else None,
        "read": _read(options, targets) if kind == "read" else None,
        "cluster": _cluster(strategy, options),
        "extra": dict(options.get("extra", {})),
    }


def strategy_list(text: str, known: tuple[str, ...], option: str = "--strategies") -> tuple[str, ...]:
    """The strategies of a comma-separated list, in its order; UsageError for an unknown one."""
    chosen = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in chosen if name not in known]
    if unknown or not chosen:
        raise UsageError(f"{option}: no strategy {', '.join(unknown) or '(none given)'}; there are {', '.join(known)}")
    return chosen

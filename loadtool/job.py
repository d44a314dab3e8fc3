"""Job: what a run does. Built and validated once, at the edge, from user options.

``Job.build`` takes what a user types (strings such as ``"30s"``, ``"100/s"`` or
``"Accept: text/html"``, or plain numbers from the API) and either returns a Job or
raises ``UsageError`` with one line saying what is wrong. Everything downstream can
trust a Job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any

from .errors import UsageError
from .names import ALL_STRATEGIES, DEFAULT_CONCURRENCY, ENGINES
from .profiles import PROFILES
from .system import cpu_count
from .targets import (FixturePaths, GeneratedTree, file_targets, has_control_characters, url_problem,
                      url_targets)
from .units import Rate, parse_count, parse_duration, parse_rate, parse_size

#: The seed's number: "if you need to wait for 1010 file reads or network transactions".
FIXTURE_COUNT = 1010
#: A single URL gets hey's default number of requests.
SINGLE_URL_COUNT = 200
#: 64 KiB per read: large enough for sequential speed, small enough that C workers'
#: buffers stay modest (1000 threads × 64 KiB = 64 MiB).
DEFAULT_BLOCK = 64 * 1024
MAX_COUNT = 10**15
MAX_RATE_PER_S = 10_000_000
#: Most servers refuse more than 8 KiB of headers in all.
MAX_HEADER_BYTES = 8 * 1024
MAX_CONCURRENCY = 100_000
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


@dataclass(frozen=True)
class Job:
    """One job: the operations to do and the limits to do them within.

    ``count`` operations (or as many as fit in ``duration_s``), at most ``concurrency``
    at once, optionally sent on an open-model schedule of ``rate``; each operation has
    ``timeout_s`` in all and is retried up to ``retries`` times.
    """

    targets: Any
    kind: str = "fetch"
    strategy: str = "async"
    engine: str = "aiohttp"
    count: int | None = FIXTURE_COUNT
    duration_s: float | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    processes: int | None = None
    rate: Rate | None = None
    timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    retries: int = 0
    grace_s: float = 5.0
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    ok_status: tuple[tuple[int, int], ...] = ((200, 399),)
    seed: int = 0
    #: Reads: bytes per read call (0 reads each file in one call).
    block_size: int = DEFAULT_BLOCK
    #: Reads: check each file's SHA-256 against its manifest.
    verify: bool = False
    #: Reads: drop the files from the page cache before the run.
    evict_cache: bool = False
    #: (offset, step): do only operations offset, offset+step, … (one process's share of
    #: a hybrid or cluster run). None: every operation.
    slice: tuple[int, int] | None = None
    #: Politeness: at most this many operations in flight per host (None: no limit).
    per_host: int | None = None
    #: Politeness: at most this many operations started per second per host (None: no limit).
    host_rate: float | None = None
    #: (index, of): do only operations whose host belongs to process ``index`` of ``of``,
    #: so per-host limits hold across processes. None: every host.
    host_share: tuple[int, int] | None = None
    #: Cluster: the dask scheduler to use (tcp://host:8786), or workers of a local cluster.
    scheduler: str | None = None
    local_cluster: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def build(cls, **options: Any) -> Job:
        """A Job from user options (CLI spellings or API values); UsageError if any is bad."""
        return _build(cls, options)

    def bind(self, base_url: str) -> Job:
        """This job with its fixture paths pointed at a running fixture server."""
        return replace(self, targets=self.targets.bind(base_url))

    def with_strategy(self, strategy: str) -> Job:
        return replace(self, strategy=_choice("strategy", strategy, ALL_STRATEGIES))

    @property
    def needs_fixture(self) -> bool:
        return isinstance(self.targets, FixturePaths) and self.targets.base_url is None

    @property
    def needs_tree(self) -> bool:
        return isinstance(self.targets, GeneratedTree)

    def with_targets(self, targets: Any) -> Job:
        return replace(self, targets=targets)

    @property
    def process_count(self) -> int:
        """Worker processes of the processes and hybrid strategies: --processes, else one per CPU."""
        return self.processes or min(cpu_count(), self.concurrency)

    @property
    def overlap(self) -> int:
        """How many operations this job's strategy keeps in flight at once."""
        if self.strategy == "sequential":
            return 1
        if self.strategy == "processes":
            return self.process_count
        return self.concurrency

    @property
    def polite(self) -> bool:
        return self.per_host is not None or self.host_rate is not None

    def share(self, index: int, of: int) -> Job:
        """Process ``index`` of ``of``'s part of this job, at ``1/of`` of the concurrency, on the
        async strategy: every ``of``-th operation from ``index`` — or, with per-host limits,
        the operations of the hosts this process owns, so the limits hold."""
        concurrency = max(self.concurrency // of + (index < self.concurrency % of), 1)
        if self.polite:
            return replace(self, strategy="async", concurrency=concurrency, host_share=(index, of))
        return replace(self, strategy="async", concurrency=concurrency, slice=(index, of))

    @property
    def cores(self) -> int:
        """Cores the strategy can keep busy: one for one thread of Python, more where the
        GIL is released (processes; threads and aiofiles' threads in file syscalls)."""
        if self.strategy == "hybrid":
            return max(1, min(self.process_count, cpu_count()))
        if self.strategy == "cluster":
            return self.local_cluster or 1  # a remote cluster's cores are its own: not this machine's
        if self.strategy in ("processes", "threads") or self.kind == "read":
            return max(1, min(self.overlap, cpu_count()))
        return 1

    def is_ok(self, status: int) -> bool:
        return 0 <= status < 600 and self._ok_table[status]

    @cached_property
    def _ok_table(self) -> bytes:
        """Whether each status 0..599 counts as success: one index per response."""
        return bytes(any(low <= code <= high for low, high in self.ok_status) for code in range(600))

    def describe(self) -> dict[str, Any]:
        """Every option, as plain JSON-able data."""
        out = {item.name: getattr(self, item.name) for item in fields(self)}
        out["targets"] = self.targets.describe()
        out["rate"] = str(self.rate) if self.rate else None
        out["headers"] = [f"{name}: {value}" for name, value in self.headers]
        out["body"] = None if self.body is None else f"{len(self.body)} bytes"
        out["ok_status"] = format_status_ranges(self.ok_status)
        out.update(out.pop("extra"))
        return out


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
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


def _seconds(name: str, value: Any, positive: bool = True) -> float:
    try:
        seconds = parse_duration(value) if isinstance(value, str) else float(value)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--{name}: {exc}") from None
    if seconds != seconds or seconds < 0 or (positive and seconds == 0) or seconds > 366 * 86400:
        raise UsageError(f"--{name} must be a duration {'above' if positive else 'of at least'} 0 "
                         f"and at most a year, not {value!r}")
    return seconds


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


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(value, dict):
        value = [f"{name}: {text}" for name, text in value.items()]
    return tuple(parse_header(item) for item in value or ())


def _count(options: dict[str, Any], targets: Any, duration_s: float | None) -> int | None:
    """The number of operations: as given, else a default that suits the targets."""
    if options.get("count") is not None:
        return whole_number("count", options["count"], 1, MAX_COUNT)
    if duration_s is not None:
        return None
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
        paths, from_list = tuple(options.get("paths", ())), options.get("from_list")
        if not paths and not from_list:
            count = whole_number("count", options.get("count", FIXTURE_COUNT), 1)
            size = options.get("file_size", "4KiB")
            from .files import parse_sizes

            parse_sizes(size, None)  # a bad size is a usage error now, not after the run starts
            return GeneratedTree(count, size, seed)
        return file_targets(paths, from_list, bool(options.get("recursive")))
    targets = url_targets(tuple(options.get("urls", ())), options.get("urls_file"), seed, profile)
    if "server" in options:
        if not isinstance(targets, FixturePaths):
            raise UsageError("--server applies to fixture paths (/…), not to full URLs")
        problem = url_problem(options["server"])
        if problem:
            raise UsageError(f"--server {options['server']!r}: {problem}")
        targets = targets.bind(options["server"])
    return targets


def _cluster_options(strategy: str, options: dict[str, Any]) -> dict[str, Any]:
    scheduler, local = options.get("scheduler"), options.get("local_cluster")
    if strategy != "cluster":
        if scheduler or local:
            raise UsageError("--scheduler and --local-cluster go with --strategy cluster")
        return {}
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UsageError("--strategy cluster needs dask: pip install 'loadtool[cluster]'") from None
    if bool(scheduler) == bool(local):
        raise UsageError("--strategy cluster needs --scheduler tcp://HOST:8786 or --local-cluster N (one of them)")
    if scheduler and not str(scheduler).startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        raise UsageError(f"--scheduler must look like tcp://HOST:8786, not {scheduler!r}")
    return {"scheduler": scheduler, "local_cluster": whole_number("local-cluster", local, 1, 256) if local else None}


def _check_fast_engine(options: dict[str, Any], targets: Any, polite: bool) -> None:
    if options.get("kind") == "read":
        raise UsageError("--engine chooses how async fetches; it does not apply to read")
    if polite:
        raise UsageError("--engine fast does not apply --per-host or --host-rate yet; use --engine aiohttp")
    urls = getattr(targets, "items", ())
    if any(url.startswith("https:") for url in urls):
        raise UsageError("--engine fast speaks plain http only (no TLS yet); use --engine aiohttp for https")


def _rate(value: Any, name: str = "rate") -> Rate | None:
    try:
        rate = parse_rate(value) if isinstance(value, str) else value
        rate = Rate(float(rate)) if isinstance(rate, (int, float)) else rate
    except ValueError as exc:
        raise UsageError(f"--{name}: {exc}") from None
    if rate is not None and rate.per_s > MAX_RATE_PER_S:
        raise UsageError(f"--{name} is at most {MAX_RATE_PER_S:,}/s, not {rate}")
    return rate


def _block_size(value: Any) -> int:
    try:
        size = parse_size(value) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise UsageError(f"--block-size must be a size such as 64KiB, not {value!r}") from None
    if not 0 <= size <= 1 << 30:
        raise UsageError(f"--block-size must be between 0 (whole file) and 1GiB, not {value!r}")
    return size


def _build(cls: type[Job], options: dict[str, Any]) -> Job:
    options = {key: value for key, value in options.items() if value is not None}
    unknown = set(options) - _KNOWN
    if unknown:
        raise TypeError(f"unknown job option(s): {', '.join(sorted(unknown))}")
    seed = whole_number("seed", options.get("seed", 0), 0, 2**63 - 1)
    profile = _choice("profile", options.get("profile", "web"), tuple(PROFILES))
    targets = _targets(options, seed, profile)
    strategy = _choice("strategy", options.get("strategy", "async"), ALL_STRATEGIES)
    cluster = _cluster_options(strategy, options)
    engine = _choice("engine", options.get("engine", "aiohttp"), ENGINES)
    per_host = whole_number("per-host", options["per_host"], 1, MAX_CONCURRENCY) if "per_host" in options else None
    host_rate = _rate(options["host_rate"], "host-rate").per_s if "host_rate" in options else None
    if engine == "fast":
        _check_fast_engine(options, targets, per_host is not None or host_rate is not None)
    verify = bool(options.get("verify"))
    if verify and not isinstance(targets, GeneratedTree) and getattr(targets, "kind", "") != "manifest":
        raise UsageError("--verify needs a tree made by `loadtool files make` (its manifest holds the checksums)")
    duration_s = _seconds("duration", options["duration"]) if "duration" in options else None
    rate = _rate(options.get("rate"))
    method = str(options.get("method", "GET")).upper()
    if not _TOKEN.fullmatch(method):
        raise UsageError(f"--method must be an HTTP method such as GET or POST, not {method!r}")
    body = options.get("body")
    ok_status = options.get("ok_status", "200-399")
    return cls(
        targets=targets,
        kind=_choice("kind", options.get("kind", "fetch"), ("fetch", "read")),
        strategy=strategy,
        engine=engine,
        count=_count(options, targets, duration_s),
        duration_s=duration_s,
        concurrency=whole_number("concurrency", options.get("concurrency", DEFAULT_CONCURRENCY), 1, MAX_CONCURRENCY),
        processes=whole_number("processes", options["processes"], 1, 1024) if "processes" in options else None,
        rate=rate,
        timeout_s=_seconds("timeout", options.get("timeout", 30.0)),
        connect_timeout_s=_seconds("connect-timeout", options.get("connect_timeout", 10.0)),
        retries=whole_number("retries", options.get("retries", 0), 0, 100),
        grace_s=_seconds("grace", options.get("grace", 5.0), positive=False),
        method=method,
        headers=_headers(options.get("headers")),
        body=body.encode() if isinstance(body, str) else body,
        ok_status=parse_status_ranges(ok_status) if isinstance(ok_status, str) else tuple(ok_status),
        seed=seed,
        block_size=_block_size(options.get("block_size", DEFAULT_BLOCK)),
        per_host=per_host,
        host_rate=host_rate,
        **cluster,
        verify=verify,
        evict_cache=bool(options.get("evict_cache")),
        extra=dict(options.get("extra", {})),
    )


_KNOWN = {
    "targets", "urls", "urls_file", "profile", "kind", "strategy", "engine", "count", "duration",
    "concurrency", "processes", "rate", "timeout", "connect_timeout", "retries", "grace", "method",
    "headers", "body", "ok_status", "seed", "server", "extra",
    "paths", "from_list", "recursive", "file_size", "block_size", "verify", "evict_cache",
    "per_host", "host_rate", "scheduler", "local_cluster",
}

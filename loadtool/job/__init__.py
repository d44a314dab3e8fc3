"""Job: what a run does. Built and validated once, at the edge, from user options.

A Job holds what every run has (targets, how many operations, how many at once, the
limits of each) and one part for its kind: ``Fetch`` (HTTP) or ``Read`` (files); a
cluster run has a ``Cluster`` part too. ``Job.build`` parses user options (``options``)
and asks the strategy which engine runs the job, so a strategy/engine pair that does not
exist is a usage error before anything starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from .. import engines, strategies
from ..engines.checks import name_of
from ..errors import UsageError
from ..names import STRATEGY_MODULES, engines_for, speaking
from ..options import FIXTURE_COUNT, default
from ..targets import FixturePaths, GeneratedTree
from ..units import Rate, parse_duration, parse_size
from .parse import format_status_ranges, parse, parse_status_ranges
from ..strategies.work import Share


@dataclass(frozen=True)
class Tls:
    """How https is spoken: which certificates are trusted, the client's own, the least version."""

    #: -k: do not verify the server's certificate (nor its host name).
    insecure: bool = False
    #: Trust the CAs in this PEM file (instead of the system's).
    cacert: str | None = None
    #: A client certificate (PEM) and its key, for servers that ask for one.
    cert: str | None = None
    key: str | None = None
    #: The least TLS version allowed: "1.2" or "1.3" (None: the library's default).
    min_version: str | None = None


@dataclass(frozen=True)
class Fetch:
    """What each HTTP request is, what counts as success, and per-host politeness."""

    method: str = default("method")
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    #: Statuses that count as success, as (low, high) ranges.
    ok_status: tuple[tuple[int, int], ...] = parse_status_ranges(default("ok_status"))
    connect_timeout_s: float = parse_duration(default("connect_timeout"))
    #: Politeness: at most this many operations in flight per host (None: no limit).
    per_host: int | None = None
    #: Politeness: at most this many operations started per second per host (None: no limit).
    host_rate: float | None = None
    #: Honour 429 and 503 answers' Retry-After: their host waits as long as it asks.
    retry_after: bool = False
    #: The HTTP version to speak: "1.1", "2" or "3" (2 and 3 need --engine curl).
    http: str = default("http")
    #: HTTP/2 and HTTP/3: requests in flight on one connection at once.
    streams: int = int(default("streams"))
    tls: Tls = field(default_factory=Tls)
    #: --proxy: every request through this proxy (None: only where the environment says).
    proxy: str | None = None
    #: Honour HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY (--no-proxy-env: no).
    proxy_env: bool = True
    #: Keep cookies, a jar per worker (--cookies); off: every request stands alone.
    cookies: bool = False
    #: Time each operation's phases (dns, connect, tls, send, wait, read) where the engine can.
    phases: bool = True
    #: What every answer must pass (engines.checks): expressions, or the library's callables.
    checks: tuple = ()
    #: How many bytes of each body the checks read, at most.
    check_body: int = parse_size(default("check_body"))
    #: Ask for compressed answers (gzip, deflate; br, zstd where installed) and decode them.
    compression: bool = True
    #: Keep connections open between requests; False (--no-keepalive): a new connection, and
    #: over https a new TLS handshake, for every request, in every engine.
    keepalive: bool = True
    #: The most bytes an answer may decode to (more: the error too_large, a compression bomb).
    max_decoded: int = parse_size(default("max_decoded"))
    #: Redirects followed, at most (0: none; the 3xx answer counts as it came); one more is too_many_redirects.
    max_redirects: int = int(default("max_redirects"))

    def proxies(self):
        """Which proxy each URL goes through (engines.proxy.Proxies)."""
        from ..engines.proxy import Proxies

        return Proxies(self.proxy, self.proxy_env)

    @property
    def polite(self) -> bool:
        return self.per_host is not None or self.host_rate is not None or self.retry_after


@dataclass(frozen=True)
class Read:
    """How each file is read."""

    #: Bytes per read call (0 reads each file in one call).
    block_size: int = parse_size(default("block_size"))
    #: Check each file's SHA-256 against its manifest.
    verify: bool = False
    #: Drop the files from the page cache before the run.
    evict_cache: bool = False


@dataclass(frozen=True)
class Cluster:
    """Where a cluster run runs: a dask scheduler, or a local cluster of ``local`` workers."""

    scheduler: str | None = None
    local: int | None = None


@dataclass(frozen=True)
class Job:
    """One job: the operations to do and the limits to do them within.

    ``count`` operations (or as many as fit in ``duration_s``), at most ``concurrency``
    at once, optionally sent on an open-model schedule of ``rate``; each operation has
    ``timeout_s`` from its first send and is retried up to ``retries`` times.
    """

    targets: Any
    strategy: str = default("strategy")
    #: The engine that does each operation (names.ENGINES; file, aiofiles): the strategy's default.
    engine: str = engines_for("fetch", STRATEGY_MODULES[default("strategy")].waits)[0]
    count: int | None = FIXTURE_COUNT
    duration_s: float | None = None
    concurrency: int = int(default("concurrency"))
    #: Worker processes of processes and hybrid (None: the strategy decides).
    processes: int | None = None
    rate: Rate | None = None
    timeout_s: float = parse_duration(default("timeout"))
    retries: int = int(default("retries"))
    grace_s: float = parse_duration(default("grace"))
    seed: int = int(default("seed"))
    fetch: Fetch | None = field(default_factory=Fetch)
    read: Read | None = None
    cluster: Cluster | None = None
    #: One process's part of the job (hybrid, cluster, per-host processes); None: all of it.
    share: Share | None = None
    #: Keep a record of every operation (--raw), wherever it runs.
    records: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def build(cls, **options: Any) -> Job:
        """A Job from user options (CLI spellings or API values); UsageError if any is bad."""
        values = parse(options)
        engine = values.pop("engine")
        parts = {name: values.pop(name) for name in ("fetch", "read", "cluster")}
        if parts["fetch"] is not None:
            parts["fetch"]["tls"] = Tls(**parts["fetch"]["tls"])
        job = cls(**values, fetch=None if parts["fetch"] is None else Fetch(**parts["fetch"]),
                  read=None if parts["read"] is None else Read(**parts["read"]),
                  cluster=None if parts["cluster"] is None else Cluster(**parts["cluster"]))
        if engine is None and job.fetch is not None:
            # --http 2 or 3 alone: the strategy's engine that speaks it, not a refusal.
            runs = strategies.get(job.strategy).engines["fetch"]
            engine = next((name for name in runs if name in speaking(job.fetch.http)), None)
        return job.with_strategy(job.strategy, engine)

    @property
    def kind(self) -> str:
        """fetch (HTTP), read (files), or run (the user's own operation)."""
        return "read" if self.read is not None else "fetch" if self.fetch is not None else "run"

    def with_strategy(self, name: str, engine: str | None = None) -> Job:
        """This job run by strategy ``name`` with ``engine`` (None: the strategy's default);
        UsageError when the strategy does not run that engine or the engine cannot do the job."""
        strategy = strategies.get(name)
        job = replace(self, strategy=name, engine=strategy.engine_for(self.kind, engine))
        refusal = strategy.refuses(job) or engines.refusal(job)
        if refusal:
            raise UsageError(refusal)
        return job

    def adopted_by(self, name: str) -> Job:
        """This job under strategy ``name``, keeping its engine where that strategy runs it
        (compare: ``--engine fast`` applies to the strategies that have it)."""
        strategy = strategies.get(name)
        keep = self.engine if self.engine in strategy.engines[self.kind] else None
        return self.with_strategy(name, keep)

    def bind(self, base_url: str) -> Job:
        """This job with its fixture paths pointed at a running fixture server."""
        return replace(self, targets=self.targets.bind(base_url))

    def with_targets(self, targets: Any) -> Job:
        return replace(self, targets=targets)

    @property
    def needs_fixture(self) -> bool:
        return (isinstance(self.targets, FixturePaths) and self.targets.base_url is None) or \
            bool(getattr(self.targets, "fixture", False))

    @property
    def needs_tree(self) -> bool:
        return isinstance(self.targets, GeneratedTree)

    @property
    def polite(self) -> bool:
        return self.fetch is not None and self.fetch.polite

    def describe(self) -> dict[str, Any]:
        """Every option, as plain JSON-able data (the ``job`` of ``loadtool.result/1``): the
        Job's own fields and its parts' (absent parts at their defaults), each by its name
        unless ``_SHOWN`` renames or formats it."""
        out: dict[str, Any] = {"targets": self.targets.describe(), "kind": self.kind}
        for part in (self, self.fetch or Fetch(), (self.fetch or Fetch()).tls, self.read or Read(),
                     self.cluster or Cluster()):
            for item in fields(part):
                if item.name not in _HIDDEN:
                    name, shown = _SHOWN.get(item.name, (item.name, None))
                    value = getattr(part, item.name)
                    out[name] = value if shown is None or value is None else shown(value)
        share = self.share
        out.update(slice=None if share is None or share.by_host else [share.index, share.of],
                   host_share=None if share is None or not share.by_host else [share.index, share.of])
        out.update(self.extra)
        return out


#: What the JSON job leaves out: what ``describe`` shows otherwise, or what is not an option.
_HIDDEN = {"targets", "fetch", "read", "cluster", "share", "extra", "records", "tls", "key"}
#: Fields the JSON job names or shows otherwise: field -> (its name there, how a value is shown).
_SHOWN = {
    "rate": ("rate", str),
    "headers": ("headers", lambda headers: [f"{name}: {value}" for name, value in headers]),
    "body": ("body", lambda body: f"{len(body)} bytes"),
    "ok_status": ("ok_status", format_status_ranges),
    "checks": ("checks", lambda checks: [name_of(check) for check in checks]),
    "min_version": ("tls_min", None),
    "local": ("local_cluster", None),
}

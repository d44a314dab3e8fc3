"""Strategies: how a job's operations overlap, and nothing else.

Each strategy is one object (``STRATEGY`` in its module) that knows four things: how
the job's concurrency becomes processes, threads and connections (``layout``, computed
once by the runner and passed down), which engines it runs (``engines``), how it scales
on one machine (``scale``, for loadtool plan), and how to run the job
(``run(job, layout, control, sink)``). Everything that asks "how many workers" asks the
strategy; a process's share of a job is ``Layout.part``, one formula for every strategy
that spreads over processes. The modules are imported only when used, so ``loadtool
--help`` stays quick.
"""

from __future__ import annotations

import importlib
import pickle
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from ..errors import UsageError
from ..names import KINDS, STRATEGY_MODULES, engines_for
from ..units import plural



def wanted(job) -> int:
    """Operations the job can have in flight: --concurrency, or its count when that is smaller."""
    return job.concurrency if job.count is None else max(1, min(job.concurrency, job.count))


def multiplexed(job) -> bool:
    """Whether the job speaks HTTP/2 or HTTP/3 (connections opened as needed, up to a limit)."""
    return job.fetch is not None and job.fetch.http != "1.1"


def streams(job) -> int:
    """Requests in flight on one connection: --streams with HTTP/2 and HTTP/3, else one."""
    return job.fetch.streams if multiplexed(job) else 1


def split(total: int, parts: int, index: int) -> int:
    """Part ``index`` of ``total`` split over ``parts`` as evenly as can be (never below 1)."""
    return max(total // parts + (index < total % parts), 1)


@dataclass(frozen=True)
class Scale:
    """How a strategy scales on one machine, for sizing a job (loadtool plan)."""

    #: The most workers one machine is planned with: beyond these, threads thrash, process
    #: memory runs out, and sockets and ephemeral ports become the limit.
    max_workers: int
    #: Whether it keeps every core busy (processes), or one (the GIL, one event loop).
    all_cores: bool = False
    #: Whether its memory grows with its processes (one per core), not with its workers.
    memory_per_process: bool = False


@dataclass(frozen=True)
class Layout:
    """What a strategy makes of a job's concurrency: the effective numbers of a run."""

    #: Operations in flight at once, in all.
    in_flight: int
    #: Processes doing the work (1: this process; for cluster, dask workers).
    processes: int = 1
    #: Threads doing I/O in each process.
    threads: int = 1
    #: Connections (event-loop workers) in each process, at most; 0 when there is no event loop.
    connections: int = 0
    #: HTTP/2 and HTTP/3: requests in flight on each connection.
    streams: int = 1
    #: HTTP/2 and HTTP/3: libcurl opens connections as it needs them (it reuses one whose
    #: handshake is done before opening another), so ``connections`` is at most.
    multiplexed: bool = False
    #: Cores the strategy can keep busy, for the client's CPU share.
    cores: int = 1
    #: Why the numbers are not simply --concurrency, when they are not.
    why: str = ""
    #: What each of a loop's ``connections`` is: a connection, or (an operation of the user's
    #: own) a coroutine.
    unit: str = "connection"

    def __str__(self) -> str:
        if self.connections:
            each = ("up to " if self.multiplexed else "") + plural(self.connections, self.unit)
            if self.streams > 1:
                each += f" × {plural(self.streams, 'stream')}"
            if self.threads > 1:  # aiofiles: coroutines whose file calls run in a thread pool
                each = f"{plural(self.connections, 'coroutine')} on {plural(self.threads, 'thread')}"
            shape = each if self.processes == 1 else f"{self.processes:,} processes × {each}"
        elif self.processes > 1:
            shape = f"{self.processes:,} processes × {self.threads:,} at a time"
        elif self.threads > 1:
            shape = f"{self.threads:,} threads"
        else:
            shape = "1 at a time"
        return f"{shape} ({self.why})" if self.why else shape

    def part(self, job, index: int, of: int | None = None):
        """Process ``index``'s part of ``job``: its share of the operations (every ``of``-th
        from ``index``, ``of`` being the processes unless there are more slices than
        processes; with per-host limits, the hosts it owns), at its share of the
        operations in flight."""
        from .work import Share

        return replace(job, concurrency=split(self.in_flight, self.processes, index % self.processes),
                       share=Share(index, of or self.processes, by_host=job.polite))

    def describe(self) -> dict[str, Any]:
        return {"in_flight": self.in_flight, "processes": self.processes, "threads_per_process": self.threads,
                "connections_per_process": self.connections, "streams_per_connection": self.streams,
                "cores": self.cores, "why": self.why or None}


class Strategy:
    """The base of every strategy; each module's ``STRATEGY`` is one instance."""

    name: ClassVar[str]
    #: Whether the job travels to other processes (pickled), where it runs.
    crosses_processes: ClassVar[bool] = False
    #: How it scales on one machine (loadtool plan).
    scale: ClassVar[Scale]

    @property
    def waits(self) -> str:
        """How its workers wait: "blocking" (they run requests and file reads) or on an event
        "loop" (aiohttp, fast, curl, aiofiles), as the registry says (names.STRATEGY_MODULES)."""
        return STRATEGY_MODULES[self.name].waits

    @property
    def engines(self) -> dict[str, tuple[str, ...]]:
        """The engines it runs, for each kind of job (the first is the default): those that
        wait as it does (names.ENGINE_CLASSES)."""
        return {kind: engines_for(kind, self.waits) for kind in KINDS}

    def layout(self, job) -> Layout:
        raise NotImplementedError

    def at_concurrency(self, job, level: int):
        """The job with ``level`` operations in flight under this strategy (for sweep)."""
        return replace(job, concurrency=level)

    def engine_for(self, kind: str, asked: str | None) -> str:
        """The engine to run ``kind`` with: ``asked`` when this strategy runs it, else a usage
        error naming the pairs that exist; the default when nothing was asked."""
        engines = self.engines[kind]
        if asked is None:
            return engines[0]
        if asked in engines:
            return asked
        if kind == "read":
            raise UsageError("--engine chooses how async fetches; it does not apply to read")
        if kind == "run":
            runs = ", ".join(name for name, entry in STRATEGY_MODULES.items()
                             if entry.waits == ("loop" if asked == "coroutine" else "blocking"))
            what = "an async def" if asked == "coroutine" else "a plain def"
            raise UsageError(f"the operation is {what}: it runs with --strategy {runs}, not {self.name}")
        raise UsageError(f"--strategy {self.name} does not run --engine {asked}; the pairs are {pairs()}")

    def run(self, job, layout: Layout, control, sink) -> Layout | None:
        """Run ``job`` as ``layout`` says (the runner computed it once); return the layout
        used only where it could be known only by running (a remote cluster's workers)."""
        raise NotImplementedError

    def refuses(self, job) -> str | None:
        """Why this strategy cannot run ``job`` (a usage error), or None: a check given as a
        Python function must be importable to reach other processes."""
        if not self.crosses_processes or job.fetch is None:
            return None
        for check in job.fetch.checks:
            if not isinstance(check, str):
                try:
                    pickle.dumps(check)
                except Exception:  # noqa: BLE001 - lambdas, closures, functions defined in __main__ of a notebook
                    return (f"--strategy {self.name} runs the job in other processes, and the check "
                            f"{getattr(check, '__name__', check)!r} cannot go there: give a function defined at "
                            f"the top level of a module")
        return None


def get(name: str) -> Strategy:
    """The strategy called ``name``."""
    if name not in STRATEGY_MODULES:
        raise UsageError(f"--strategy must be one of {', '.join(STRATEGY_MODULES)}, not {name!r}")
    return importlib.import_module(f"{__name__}.{STRATEGY_MODULES[name].module}").STRATEGY


def running(engine: str, kind: str = "run", names: tuple[str, ...] = tuple(STRATEGY_MODULES)) -> tuple[str, ...]:
    """Which of the strategies ``names`` run ``engine`` for a job of ``kind`` (an operation of
    the user's own: a def's strategies or an async def's), in the order given."""
    return tuple(name for name in names if engine in get(name).engines[kind])


def pairs() -> str:
    """Every strategy with the engines it fetches with, for messages."""
    by_engines: dict[tuple[str, ...], list[str]] = {}
    for name in STRATEGY_MODULES:
        by_engines.setdefault(get(name).engines["fetch"], []).append(name)
    return "; ".join(f"{', '.join(names)} with {' or '.join(engines)}" for engines, names in by_engines.items())

"""A crawl with its frontier partitioned by host: the processes and cluster strategies, the
parent's side.

Each of P partitions (a worker process, or a task on a dask worker) owns the hosts whose
name hashes to it, and crawls them on an event loop of its own: their queues, their
robots.txt, their politeness, and the duplicates among their URLs. A link to another
host goes to that host's owner, which alone decides whether it is new, so every URL is
still fetched at most once and each host's limits are kept in one place. Parsing — links
and --parse — runs in P processes at once: the seed's lesson that CPU-bound work wants
processes, for crawls.

The partitions talk to the hub here over TCP (``wire``); a partition's side is ``mesh``.
Page numbers are leased in ranges that shrink as --max-pages nears, so the crawl never
fetches more than --max-pages and the numbering (--raw) has no duplicates.

The end: the crawl is over when every partition has said it is idle after taking every
message the hub sent it. Messages between a partition and the hub keep their order (one
TCP stream each way), so when the hub reads a partition's ``idle``, every link that
partition sent before is already forwarded; and an idle partition sends nothing until a
message wakes it, which the hub would have sent and counted. So "every partition idle,
each having taken all it was sent" means nothing is in flight anywhere.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import secrets
import signal
import socket
from collections import defaultdict, deque
from concurrent.futures.process import BrokenProcessPool

from ..strategies import Layout, wanted
from ..system import become_worker, cpu_count
from .wire import BATCH, HELLO, TOKEN_BYTES, owner, receive, send

#: After the grace period, how long the partitions get to hand back what they measured.
WIND_DOWN_S = 2.0


def partitioned_layout(options, job, partitions: int | None = None) -> Layout:
    """P partitions of C/P pages in flight each: P processes (--processes, else one per CPU),
    or the dask cluster's workers (known once connected: ``partitions``)."""
    local = job.cluster.local if job.cluster is not None else None
    cluster = options.strategy == "cluster"
    parts = partitions or (local if cluster else options.processes) or 1
    per = max(wanted(job) // parts, 1)
    where = "dask workers" if cluster else "processes"
    return Layout(in_flight=per * parts, processes=parts, connections=per,
                  cores=(local or 1) if cluster else max(1, min(parts, cpu_count())),
                  why=f"the frontier partitioned by host over {parts} {where}, {per} pages in flight each")


class Hub:
    """Routes links to their host's owner, leases page numbers, and sees the crawl end."""

    def __init__(self, partitions: int, seeds: list[str], count: int | None, sink, token: bytes = b"") -> None:
        self.partitions, self.seeds, self.count, self.sink = partitions, seeds, count, sink
        self.token = token
        self.writers: list[asyncio.StreamWriter | None] = [None] * partitions
        #: Which process runs which partition.
        self.pids: dict[int, str] = {}
        self.sent = [0] * partitions
        self.idle = [False] * partitions
        self.started = False
        self.finished = asyncio.Event()
        self._returned: deque[tuple[int, int]] = deque()
        self._next = 0

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            token, index, pid = HELLO.unpack(await reader.readexactly(HELLO.size))
            if not hmac.compare_digest(token, self.token) or not 0 <= index < self.partitions or self.writers[index]:
                writer.close()  # not one of ours
                return
            self.writers[index] = writer
            self.pids[pid] = f"partition {index + 1} of {self.partitions}: the hosts that hash to it"
            if all(self.writers):
                self._start()
            while True:
                self._handle(index, await receive(reader))
        except (asyncio.IncompleteReadError, ConnectionError):
            return  # the partition is gone; its task's outcome says why

    def _start(self) -> None:
        by_owner = defaultdict(list)
        for url in self.seeds:
            by_owner[owner(url, self.partitions)].append((url, 0))
        for index, batch in by_owner.items():
            self._to(index, ("links", batch, True))
        self.started = True
        self._check()

    def _to(self, index: int, message: tuple) -> None:
        if self.writers[index].is_closing():
            # That partition is gone (a killed process): its loss ends the run, and what it would
            # have been sent goes with it. (uvloop raises on a write to a closed transport, and the
            # partition whose links these were would have printed a traceback.)
            return
        self.sent[index] += 1
        self.idle[index] = False
        send(self.writers[index], message)

    def _handle(self, index: int, message: tuple) -> None:
        kind = message[0]
        if kind == "links":
            self._to(message[1], ("links", message[2], False))
        elif kind == "lease":
            self._to(index, ("lease", self._grant()))
        elif kind == "idle":
            _, taken, returned = message
            if returned is not None:
                self._returned.append(returned)
            self.idle[index] = taken == self.sent[index]
            self._check()
        elif kind == "counts":
            self.sink.merge_wire(message[1])

    def _check(self) -> None:
        if self.started and all(self.idle):
            self.finished.set()

    def _grant(self) -> tuple[int, int] | None:
        """Page numbers for a partition: given back ones first, then new ones, in ranges
        that shrink as the end nears so that no partition sits on many."""
        if self._returned:
            return self._returned.popleft()
        if self.count is None:
            size = BATCH
        else:
            left = self.count - self._next
            if left <= 0:
                return None
            size = max(1, min(BATCH, left // (4 * self.partitions)))
        self._next += size
        return self._next - size, self._next

    def end(self, stopped: bool) -> None:
        for writer in self.writers:
            if writer is not None and not writer.is_closing():
                send(writer, ("end", stopped))


async def coordinate(crawl, job, layout: Layout, control, sink) -> Layout:
    """Run ``crawl`` in partitions (processes, or tasks on a dask cluster) and merge what
    they measured into ``sink``; ``details["crawl"]`` is their tallies merged."""
    from contextlib import ExitStack
    from dataclasses import replace

    from .mesh import run_partition
    from .tally import Tally

    loop = asyncio.get_running_loop()
    with ExitStack() as stack:
        where = _Cluster(job, stack) if crawl.name == "cluster" else _Processes(layout.processes, stack)
        if where.partitions != layout.processes:  # a remote cluster's workers, known once connected
            layout = partitioned_layout(crawl.options, job, where.partitions)
        parts = layout.processes
        token = secrets.token_bytes(TOKEN_BYTES)
        hub = Hub(parts, crawl.seeds(job), job.count, sink, token)
        server = await asyncio.start_server(hub.connection, where.host, 0)
        stack.callback(server.close)
        address = server.sockets[0].getsockname()[:2]
        # Each partition crawls on its own loop, until the hub ends it: no count or duration of its own.
        part = replace(job, concurrency=layout.connections, count=None, duration_s=None)
        options = replace(crawl.options, strategy="async", processes=0)
        sink.restart_clock()  # the partitions' processes are up: the crawl starts now
        futures = [where.submit(run_partition, options, part, index, parts, (*address, token), sink.epoch)
                   for index in range(parts)]
        tally, stopped = Tally(), asyncio.Event()
        stack.callback(control.on_stop(lambda: loop.call_soon_threadsafe(stopped.set)))
        waits = {asyncio.ensure_future(hub.finished.wait()), asyncio.ensure_future(stopped.wait())}
        finished = False
        try:
            await asyncio.wait({*waits, *futures}, return_when=asyncio.FIRST_COMPLETED)
            _raise_failure(futures)  # a partition that ended before the crawl did failed: say why
            hub.end(control.stopped)
            # Each partition keeps the grace period itself; the parent waits for it, then a wind-down.
            finished = await control.await_done(asyncio.wait(futures), extra_s=WIND_DOWN_S)
            _raise_failure(futures)
        except BrokenProcessPool:  # a partition's process died: what the partitions shipped stands
            where.workers.lose(control, sink, hub.pids, ["the partitions' last quarter second of counts"])
            hub.end(True)
        finally:
            for each in waits:
                each.cancel()
            if not finished:
                where.abandon()
        for future in futures:  # abandoned partitions (killed after the grace period) are not waited for
            if future.done() and not future.cancelled() and future.exception() is None:
                outcome = future.result()
                sink.merge_wire(outcome["counted"])
                tally.merge(outcome["tally"])
        sink.details["crawl"] = tally.details()
        return layout


def _raise_failure(futures: list[asyncio.Future]) -> None:
    """A partition's own failure (a bug, never a page's) is the run's."""
    for future in futures:
        if future.done() and not future.cancelled() and future.exception() is not None:
            raise future.exception()


class _Processes:
    """Partitions in a pool of worker processes on this machine."""

    host = "127.0.0.1"

    def __init__(self, partitions: int, stack) -> None:
        from concurrent.futures import ProcessPoolExecutor, wait

        from ..strategies.pool import Workers, context

        self.partitions = partitions
        self.pool = ProcessPoolExecutor(partitions, mp_context=context(), initializer=_start_process,
                                        initargs=(os.getpid(),))
        stack.callback(self.pool.shutdown, wait=True, cancel_futures=True)
        wait([self.pool.submit(_ready) for _ in range(partitions)])
        self.workers = Workers(self.pool)

    def submit(self, function, *args) -> asyncio.Future:
        return asyncio.wrap_future(self.pool.submit(function, *args))

    def abandon(self) -> None:
        self.workers.signal(signal.SIGKILL)


def _start_process(owner: int) -> None:
    become_worker(owner)  # the parent decides what a signal means, and tells the hub
    import aiohttp  # noqa: F401 - imported now, before the clock starts


def _ready() -> bool:
    return True


class _Cluster:
    """Partitions as tasks on a dask cluster, one per worker; they reach the hub at the
    address this machine has towards the scheduler."""

    def __init__(self, job, stack) -> None:
        from ..strategies.cluster import connect, warm

        self.client = connect(job, stack)
        self.partitions = len(self.client.scheduler_info()["workers"])
        if not self.partitions:
            raise RuntimeError("the dask cluster has no workers")
        self.client.run(warm, job.engine)
        self.host = "127.0.0.1" if job.cluster.local else _address_towards(self.client.scheduler.address)
        self._futures = []

    def submit(self, function, *args) -> asyncio.Future:
        future = self.client.submit(function, *args, thread_cpu=True, pure=False)
        self._futures.append(future)
        return asyncio.ensure_future(asyncio.get_running_loop().run_in_executor(None, future.result))

    def abandon(self) -> None:
        for future in self._futures:
            future.cancel()


def _address_towards(scheduler: str) -> str:
    """This machine's address on the route to the scheduler (no packet is sent)."""
    from urllib.parse import urlsplit

    parts = urlsplit(scheduler)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((parts.hostname, parts.port or 8786))
        return probe.getsockname()[0]

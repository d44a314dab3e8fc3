"""A partitioned crawl, a partition's side: crawl the hosts it owns on its own event loop,
send links to other hosts to the hub, take page numbers from the hub's leases, and say
when it is idle (the parent's side and how the crawl ends: ``hub``; the wire: ``wire``).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import defaultdict
from typing import Any

from ..system import peak_rss_bytes
from .wire import BATCH, FLUSH_S, HELLO, SHIP_S, owner, receive, send


def run_partition(options, job, index: int, partitions: int, hub: tuple, epoch: float,
                  thread_cpu: bool = False) -> dict[str, Any]:
    """In a worker process or on a dask worker: crawl partition ``index``'s hosts until the
    hub (host, port, token) says the crawl is over; return its Stats and Tally, encoded."""
    from ..strategies.control import RunControl
    from ..metrics.sink import Sink
    from ..system import event_loop_factory
    from . import Crawl

    clock = time.thread_time if thread_cpu else time.process_time
    control, sink = RunControl(job.grace_s), Sink(False, epoch, records=job.records)
    crawl = Crawl(options)
    started = clock()
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        tally = runner.run(_partition(crawl, job, control, sink, Mesh(index, partitions, hub, control)))
    return {"counted": sink.close_wire(clock() - started, peak_rss_bytes()), "tally": tally.to_wire()}


async def _partition(crawl, job, control, sink, mesh: Mesh):
    await mesh.connect()
    try:
        return await crawl.on_loop(job, control, sink, mesh)
    finally:
        mesh.close()


class Lease:
    """Page numbers leased from the hub: ``take`` waits for a lease when this one is used up,
    and returns None once the hub has none left (--max-pages reached)."""

    def __init__(self, mesh: Mesh) -> None:
        self.mesh = mesh
        self.range: tuple[int, int] | None = None
        self.exhausted = False
        self._asked = False
        self._granted = asyncio.Event()
        #: Page numbers taken from leases: pages started (those not counted were abandoned).
        self.issued = 0

    async def take(self) -> int | None:
        while True:
            if self.range is not None and self.range[0] < self.range[1]:
                index = self.range[0]
                self.range = (index + 1, self.range[1])
                self.issued += 1
                return index
            if self.exhausted:
                return None
            if not self._asked:
                self._asked = True
                self._granted.clear()
                self.mesh.write(("lease",))
            await self._granted.wait()

    def grant(self, lease: tuple[int, int] | None) -> None:
        self._asked = False
        self.range = lease
        self.exhausted = lease is None
        self._granted.set()

    def give_back(self) -> tuple[int, int] | None:
        lease, self.range = self.range, None
        return lease if lease is not None and lease[0] < lease[1] else None


class Mesh:
    """A partition's link to the hub: what it owns, where other hosts' links go, and when
    it is idle."""

    def __init__(self, index: int, partitions: int, hub: tuple, control) -> None:
        self.index, self.partitions, self.hub, self.control = index, partitions, hub, control
        self.lease = Lease(self)
        self.taken = 0  # messages taken from the hub
        self._reported: int | None = None
        self._out: dict[int, list] = defaultdict(list)
        self._writer: asyncio.StreamWriter | None = None
        self._worker = None

    async def connect(self) -> None:
        host, port, token = self.hub
        self._reader, self._writer = await asyncio.open_connection(host, port)
        self._writer.write(HELLO.pack(token, self.index, os.getpid()))

    def write(self, message: tuple) -> None:
        if self._writer is not None and not self._writer.is_closing():
            send(self._writer, message)

    def route(self, url: str, depth: int) -> bool:
        """Send ``url`` to its host's owner when that is another partition (True); False when
        it is this partition's own."""
        dest = owner(url, self.partitions)
        if dest == self.index:
            return False
        batch = self._out[dest]
        batch.append((url, depth))
        if len(batch) >= BATCH:
            self.write(("links", dest, batch))
            del self._out[dest]
        return True

    def flush(self) -> None:
        for dest, batch in self._out.items():
            self.write(("links", dest, batch))
        self._out.clear()

    def settle(self) -> None:
        """Tell the hub when this partition has nothing in flight and nothing it can start
        (no URL queued, or no page numbers left), once per change."""
        frontier = self._worker.frontier
        if frontier.in_flight or (frontier.queued and not self.lease.exhausted):
            return
        self.flush()
        returned = self.lease.give_back() if not frontier.queued else None
        if self._reported == self.taken and returned is None:
            return
        self._reported = self.taken
        self.write(("idle", self.taken, returned))

    async def serve(self, worker, sink) -> None:
        """Take the hub's messages until it ends the crawl; meanwhile send counts and links."""
        self._worker = worker
        shipping = asyncio.ensure_future(self._ship(sink))
        try:
            self.settle()
            while True:
                try:
                    message = await receive(self._reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    message = ("end", True)  # the parent is gone: stop
                kind = message[0]
                if kind == "end":
                    if message[1]:
                        self.control.stop("parent")
                    worker.frontier.end()
                    return
                self.taken += 1
                if kind == "links":
                    _, batch, seeds = message
                    for url, depth in batch:
                        worker.queue(url, depth, seed=seeds)
                elif kind == "lease":
                    self.lease.grant(message[1])
                self.settle()
        finally:
            shipping.cancel()

    async def _ship(self, sink) -> None:
        shipped = time.monotonic()
        while True:
            await asyncio.sleep(FLUSH_S)
            self.flush()
            if time.monotonic() - shipped >= SHIP_S:
                shipped = time.monotonic()
                wire = sink.take_wire()
                if wire is not None:
                    self.write(("counts", wire))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()

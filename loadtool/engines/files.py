"""File engines: read one file whole or in blocks — sync (a reused buffer) and aiofiles twins.

Each reads, counts (and, with --verify, hashes) a file's bytes and reports an Outcome;
both share everything but the I/O calls. asyncio has no asynchronous file I/O of its
own: aiofiles runs each call in a thread pool, so the async engine gets a pool of C
threads here, not the loop's default of min(32, CPUs + 4), which would silently cap
its concurrency.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager

from ..targets import FileTarget, file_path, open_regular
from .policy import Limits, Outcome

WHOLE_FILE = 0


class _Reading:
    """What the twins share: the target's path, the hash to check, and the verdict."""

    __slots__ = ("path", "expected", "digest", "size")

    def __init__(self, target, verify: bool) -> None:
        self.path = file_path(target)
        self.expected = target.sha256 if verify and isinstance(target, FileTarget) else None
        self.digest = hashlib.sha256() if self.expected else None
        self.size = 0

    def add(self, chunk) -> None:
        self.size += len(chunk)
        if self.digest is not None:
            self.digest.update(chunk)

    def outcome(self) -> Outcome:
        if self.expected is not None and self.digest.hexdigest() != self.expected:
            return Outcome(nbytes=self.size, error="verify_failed", detail=f"{self.path}: SHA-256 differs from the manifest")
        return Outcome(nbytes=self.size)


class FileEngine:
    """Blocking reads into a buffer each worker reuses (sequential, threads, processes)."""


    def __init__(self, job) -> None:
        self.read = job.read

    @contextmanager
    def session(self) -> Iterator[bytearray | None]:
        """A worker's read buffer, reused for every file it reads."""
        yield None if self.read.block_size == WHOLE_FILE else bytearray(self.read.block_size)

    def attempt(self, buffer: bytearray | None, target, limits: Limits) -> Outcome:
        reading = _Reading(target, self.read.verify)
        try:
            with open(open_regular(reading.path), "rb") as handle:
                if buffer is None:
                    reading.add(handle.read())
                    return reading.outcome()
                view = memoryview(buffer)
                while count := handle.readinto(buffer):
                    reading.add(view[:count])
                    if count < len(buffer):  # a buffered read comes up short only at the end
                        break
        except OSError as exc:
            return Outcome(nbytes=reading.size, error=exc)
        return reading.outcome()


class AiofilesEngine:
    """The async twin of FileEngine, with aiofiles on a pool of C threads."""


    def __init__(self, job) -> None:
        self.read = job.read

    @asynccontextmanager
    async def session(self, limit: int) -> AsyncIterator[ThreadPoolExecutor]:
        executor = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="loadtool-aiofiles")
        try:
            yield executor
        finally:
            executor.shutdown(wait=False, cancel_futures=True)

    async def attempt(self, executor: ThreadPoolExecutor, target, limits: Limits) -> Outcome:
        import aiofiles

        reading = _Reading(target, self.read.verify)
        block = self.read.block_size or -1
        try:
            fd = await asyncio.get_running_loop().run_in_executor(executor, open_regular, reading.path)
            async with aiofiles.open(fd, "rb", executor=executor) as handle:
                while chunk := await handle.read(block):
                    reading.add(chunk)
                    if block < 0 or len(chunk) < block:
                        break
        except OSError as exc:
            return Outcome(nbytes=reading.size, error=exc)
        return reading.outcome()

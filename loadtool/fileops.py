"""Reading files: sync (a reused buffer) and async (aiofiles) twins, each returning a Sample.

Kept apart from ``ops`` (HTTP) because files bring ideas of their own: verification
against a manifest, and the page cache, which can make a "disk" benchmark measure
memory. asyncio has no asynchronous file I/O of its own; aiofiles runs each call in a
thread pool, so the async strategy gets a pool of C threads here, not the loop's
default of min(32, CPUs + 4), which would silently cap its concurrency.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager

import aiofiles

from .metrics import Sample
from .ops import Attempts
from .targets import FileTarget
from .work import Op

WHOLE_FILE = 0


def file_path(target) -> str:
    """The path of a read target (a plain path, or a manifest entry)."""
    return target.path if isinstance(target, FileTarget) else target


def _path_and_hash(job, target) -> tuple[str, str | None]:
    expected = target.sha256 if job.verify and isinstance(target, FileTarget) else None
    return file_path(target), expected


def _finish(attempts: Attempts, path: str, size: int, digest, expected: str | None) -> Sample:
    if expected is not None and digest.hexdigest() != expected:
        return attempts.sample(nbytes=size, error="verify_failed", detail=f"{path}: SHA-256 differs from the manifest")
    return attempts.sample(nbytes=size)


def read_sync(buffer: bytearray | None, job, op: Op) -> Sample:
    """Read one file whole or in blocks into a reused buffer; count (and hash) its bytes."""
    attempts = Attempts(job, op)
    path, expected = _path_and_hash(job, op.target)
    digest = hashlib.sha256() if expected else None
    size = 0
    try:
        with open(path, "rb") as handle:
            if buffer is None:
                data = handle.read()
                size = len(data)
                if digest:
                    digest.update(data)
            else:
                view = memoryview(buffer)
                while count := handle.readinto(buffer):
                    size += count
                    if digest:
                        digest.update(view[:count])
                    if count < len(buffer):  # a buffered read comes up short only at the end
                        break
    except OSError as exc:
        return attempts.failed(exc)
    return _finish(attempts, path, size, digest, expected)


async def read_async(executor: ThreadPoolExecutor, job, op: Op) -> Sample:
    """The async twin of ``read_sync``, with aiofiles on ``executor``."""
    attempts = Attempts(job, op)
    path, expected = _path_and_hash(job, op.target)
    digest = hashlib.sha256() if expected else None
    size, block = 0, job.block_size or -1
    try:
        async with aiofiles.open(path, "rb", executor=executor) as handle:
            while chunk := await handle.read(block):
                size += len(chunk)
                if digest:
                    digest.update(chunk)
                if block < 0 or len(chunk) < block:
                    break
    except OSError as exc:
        return attempts.failed(exc)
    return _finish(attempts, path, size, digest, expected)


class ReadIO:
    """The read operation as strategies use it (the twin of ``ops.FetchIO``)."""

    def __init__(self, job) -> None:
        self.job = job

    @contextmanager
    def session(self) -> Iterator[bytearray | None]:
        """A worker's read buffer, reused for every file it reads."""
        yield None if self.job.block_size == WHOLE_FILE else bytearray(self.job.block_size)

    def do(self, buffer: bytearray | None, op: Op) -> Sample:
        return read_sync(buffer, self.job, op)

    @asynccontextmanager
    async def asession(self, limit: int) -> AsyncIterator[ThreadPoolExecutor]:
        executor = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="loadtool-aiofiles")
        try:
            yield executor
        finally:
            executor.shutdown(wait=False, cancel_futures=True)

    async def ado(self, executor: ThreadPoolExecutor, op: Op) -> Sample:
        return await read_async(executor, self.job, op)


# --- the page cache ----------------------------------------------------------------

def _libc():
    import ctypes
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long)
    libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
    libc.mincore.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p)
    return libc


def resident_pages(path: str, libc) -> tuple[int, int]:
    """(pages in the page cache, pages in all) of one file, by mmap + mincore."""
    import mmap

    page = mmap.PAGESIZE
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            return 0, 0
        address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, handle.fileno(), 0)
        if address in (None, 2**64 - 1, -1):
            raise OSError("mmap failed")
        try:
            pages = (size + page - 1) // page
            vector = bytes(pages)
            if libc.mincore(address, size, vector) != 0:
                raise OSError("mincore failed")
            return sum(byte & 1 for byte in vector), pages
        finally:
            libc.munmap(address, size)


def _sample_paths(job, how_many: int) -> Iterator[str]:
    count = job.count or job.targets.distinct() or how_many
    step = max(count // how_many, 1)
    for index in range(0, min(count, step * how_many), step):
        _, target = next(job.targets.iter_from(index, index + 1))
        yield file_path(target)


def cached_share(job, sample: int = 64) -> float | None:
    """The share of a sample of the job's files already in the page cache (None: unknown)."""
    try:
        libc = _libc()
    except (OSError, AttributeError, TypeError):
        return None
    resident = total = 0
    for path in _sample_paths(job, sample):
        try:
            cached, pages = resident_pages(path, libc)
        except (OSError, ValueError):
            continue
        resident, total = resident + cached, total + pages
    return resident / total if total else None


def evict(job) -> int:
    """Drop the job's files from the page cache (flushing them first); return files evicted."""
    evicted = 0
    distinct = job.targets.distinct() or job.count
    for _, target in job.targets.iter_from(0, min(distinct, job.count or distinct)):
        path = file_path(target)
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fdatasync(fd)  # dirty pages cannot be dropped
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            evicted += 1
        except OSError:
            pass
        finally:
            os.close(fd)
    return evicted

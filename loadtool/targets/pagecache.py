"""The page cache: how much of a read job's files is cached, and dropping them from it.

Reading cached files measures memory, not the device: the report says how much of a
sample of the files was cached before the run, and ``--evict-cache`` drops them first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from . import file_path, open_regular


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
    with open(open_regular(path), "rb") as handle:
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
            fd = open_regular(path)
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

"""An operation that is not HTTP: read a file and hash it, the same four ways.

Operation i reads file i (of FILES, 1 MiB each, made once in the temporary directory) and
takes its SHA-256. Read from the page cache, that is CPU work, not a wait — the other half
of the tutorial's lesson: processes use every core; threads do too here, because hashlib
and file reads release the GIL for large buffers; an async def gains nothing by itself
(it blocks its loop), and hands the work to a thread of its own instead (asyncio.to_thread):

    loadtool compare examples/not_http.py:digest examples/not_http.py:adigest -n 400 -c 4
"""

import asyncio
import hashlib
import os
import tempfile

import loadtool

FILES, SIZE = 64, 1 << 20
ROOT = os.path.join(tempfile.gettempdir(), "loadtool-example-files")


def _path(i: int) -> str:
    """File i mod FILES, made on first use (a deterministic megabyte)."""
    path = os.path.join(ROOT, f"{i % FILES:03d}.bin")
    if not os.path.exists(path):
        os.makedirs(ROOT, exist_ok=True)
        block = hashlib.shake_256(str(i % FILES).encode()).digest(SIZE)
        with open(path + ".new", "wb") as out:
            out.write(block)
        os.replace(path + ".new", path)
    return path


def _digest(i: int) -> str:
    with open(_path(i), "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def digest(i):
    """File i's SHA-256, in the worker's thread or process."""
    with loadtool.step("read and hash"):
        loadtool.check(len(_digest(i)) == 64, "a whole digest")


async def adigest(i):
    """The same from an event loop, in a thread of its own (the loop is free meanwhile)."""
    async with loadtool.step("read and hash"):
        loadtool.check(len(await asyncio.to_thread(_digest, i)) == 64, "a whole digest")

"""The wire between a partitioned crawl's hub (in the parent) and its partitions.

Length-prefixed pickles over TCP, after a hello that is not a pickle — a random token the
parent gave its partitions, and the partition's number and process id — so that nothing
from anyone else is ever unpickled (multiprocessing authenticates its connections for the
same reason).

- partition → hub: ``links`` (a batch for another partition), ``lease`` (page numbers,
  please), ``idle`` (nothing in flight or queued, with how many hub messages it has
  taken, and page numbers it gives back), ``counts`` (encoded Stats every quarter
  second: live progress).
- hub → partition: ``links`` (seeds, or links from other partitions), ``lease`` (a range
  of page numbers, or None: --max-pages reached), ``end``.
"""

from __future__ import annotations

import asyncio
import hashlib
import pickle
import struct

from ..strategies.politeness import host_of

#: Links to another partition are sent in batches of this many, or every FLUSH_S.
BATCH, FLUSH_S = 256, 0.02
#: How often a partition sends its counts (progress) to the hub.
SHIP_S = 0.25
_FRAME = struct.Struct("!I")
#: The hello: the run's token, then the partition's number and its process id (should the
#: process die, the report names the partition it was).
TOKEN_BYTES = 16
HELLO = struct.Struct(f"!{TOKEN_BYTES}sII")


def owner(url: str, partitions: int) -> int:
    """The partition that crawls ``url``'s host: the same in every process (not ``hash``,
    which Python salts per process)."""
    digest = hashlib.blake2b(host_of(url).encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % partitions


def send(writer: asyncio.StreamWriter, message: tuple) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    writer.write(_FRAME.pack(len(data)) + data)


async def receive(reader: asyncio.StreamReader) -> tuple:
    (size,) = _FRAME.unpack(await reader.readexactly(_FRAME.size))
    return pickle.loads(await reader.readexactly(size))

"""The URLs a crawl has met: exact up to a limit, then in Bloom filters of bounded memory.

Every URL is remembered as a 64-bit hash — exactly, in a set, up to EXACT_SEEN URLs; past
that, in Bloom filters (rbloom) of BLOOM_CAPACITY URLs at a false-positive rate of
BLOOM_ERROR, whose memory is allocated once each. A false positive drops a URL never
seen, never fetches one twice.
"""

from __future__ import annotations

import hashlib

#: URLs remembered exactly; past this, in Bloom filters of BLOOM_CAPACITY URLs each (7 MiB
#: at BLOOM_ERROR), a new one whenever the last is full, so the false-positive rate holds.
EXACT_SEEN = 20_000
BLOOM_CAPACITY, BLOOM_ERROR = 2_000_000, 1e-6


class Seen:
    """The URLs met so far: exact up to ``exact``, then in Bloom filters of ``capacity``."""

    def __init__(self, exact: int = EXACT_SEEN, capacity: int = BLOOM_CAPACITY) -> None:
        self._exact: set[int] | None = set()
        self._blooms: list = []
        self._limit, self._capacity = exact, capacity
        self._in_last = 0

    @staticmethod
    def _key(url: str) -> int:
        return int.from_bytes(hashlib.blake2b(url.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")

    def add(self, url: str) -> bool:
        """Remember ``url``; False when it was (or, past ``exact``, may have been) met before."""
        key = self._key(url)
        if self._exact is not None:
            if key in self._exact:
                return False
            self._exact.add(key)
            if len(self._exact) > self._limit:
                self._new_bloom().update(self._exact)
                self._in_last, self._exact = len(self._exact), None
            return True
        if any(key in bloom for bloom in self._blooms):
            return False
        if self._in_last >= self._capacity:
            self._new_bloom()
            self._in_last = 0
        self._blooms[-1].add(key)
        self._in_last += 1
        return True

    def _new_bloom(self):
        from rbloom import Bloom

        self._blooms.append(Bloom(self._capacity, BLOOM_ERROR))
        return self._blooms[-1]

    @property
    def exact(self) -> bool:
        return self._exact is not None

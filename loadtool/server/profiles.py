"""Seeded latency and size profiles of the fixture site's pages.

Page *i* under seed *s* always has the same latency and size: both come from a hash of
``(s, i)``, not from a random generator's state, so the server can answer any page in
any order and the client can compute, without asking, how long an ideal run would take.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from functools import cache


@cache
def _normal():
    from statistics import NormalDist  # imported on first use: statistics is slow to import

    return NormalDist()


@dataclass(frozen=True)
class LogNormal:
    """A lognormal distribution given by its median and the sigma of its log."""

    median: float
    sigma: float

    def at(self, u: float) -> float:
        return self.median * math.exp(self.sigma * _normal().inv_cdf(u))


@dataclass(frozen=True)
class Pareto:
    """A Pareto tail: values from ``scale`` up, heavier as ``alpha`` falls."""

    scale: float
    alpha: float

    def at(self, u: float) -> float:
        return self.scale / (1.0 - u) ** (1.0 / self.alpha)


@dataclass(frozen=True)
class Fixed:
    value: float

    def at(self, u: float) -> float:
        return self.value


@dataclass(frozen=True)
class Profile:
    """Latency (ms) and size (bytes) of pages; a ``tail_share`` of pages draw from ``tail_ms``."""

    name: str
    latency_ms: LogNormal | Fixed
    size_bytes: LogNormal | Fixed
    tail_ms: Pareto | None = None
    tail_share: float = 0.0
    max_latency_ms: float = 5000.0
    max_size_bytes: int = 2 * 1024 * 1024


PROFILES = {
    profile.name: profile
    for profile in (  # in the order of names.PROFILE_NAMES
        Profile("web", LogNormal(40.0, 0.6), LogNormal(24 * 1024, 0.9)),
        Profile("api", LogNormal(12.0, 0.35), LogNormal(1536, 0.5), max_latency_ms=1000.0),
        Profile("slow-tail", LogNormal(30.0, 0.4), LogNormal(16 * 1024, 0.7),
                tail_ms=Pareto(250.0, 1.3), tail_share=0.03),
        Profile("uniform", Fixed(50.0), Fixed(8 * 1024)),
    )
}


def uniforms(seed: int, index: int) -> tuple[float, float, float]:
    """Three uniforms in (0, 1), a pure function of (seed, index)."""
    digest = hashlib.blake2b(f"{seed}:{index}".encode(), digest_size=24).digest()
    return tuple((int.from_bytes(digest[k:k + 8], "little") >> 11) * 2.0**-53 + 2.0**-54
                 for k in (0, 8, 16))


@dataclass(frozen=True)
class PageSpec:
    latency_s: float
    size_bytes: int


def page(seed: int, index: int, profile: str = "web") -> PageSpec:
    """The latency and size of page ``index`` of the fixture site."""
    spec = PROFILES[profile]
    u_latency, u_size, u_tail = uniforms(seed, index)
    if spec.tail_ms is not None and u_tail < spec.tail_share:
        latency_ms = spec.tail_ms.at(u_latency)
    else:
        latency_ms = spec.latency_ms.at(u_latency)
    size = spec.size_bytes.at(u_size)
    return PageSpec(min(latency_ms, spec.max_latency_ms) / 1000.0,
                    int(min(max(size, 256), spec.max_size_bytes)))


_ZERO_LATENCY = re.compile(r"/(health|bytes/\d+|status/\d+|stream/\d+|redirect/\d+)")
_DELAY = re.compile(r"/delay/(\d+)")
_PAGE = re.compile(r"(?:/site/\d+)?/page/(\d+)")


def known_latency_s(path: str, seed: int, profile: str) -> float | None:
    """The latency the fixture server adds to ``path``, or None when it is not known."""
    path = path.split("?", 1)[0]
    if _ZERO_LATENCY.fullmatch(path):
        return 0.0
    if match := _DELAY.fullmatch(path):
        return int(match.group(1)) / 1000.0
    if match := _PAGE.fullmatch(path):
        return page(seed, int(match.group(1)), profile).latency_s
    return None


def _prose(size: int) -> bytes:
    """``size`` bytes of seeded prose: words drawn from a vocabulary of 300, in paragraphs. It
    compresses about as real pages do (level-1 gzip: 2.9x), where one sentence repeated
    compressed 70x and made every answer's bytes on the wire a fiction."""
    import random

    draw = random.Random(20261127)
    vocabulary = ["".join(draw.choice("etaoinshrdlucmfwypvbgkjqxz") for _ in range(draw.choice((2, 3, 4, 5, 6, 7, 8, 9))))
                  for _ in range(300)]
    words: list[str] = []
    length = 0
    while length < size:
        sentence = " ".join(draw.choice(vocabulary) for _ in range(draw.randint(6, 18))).capitalize() + ". "
        words.append(sentence + ("</p>\n<p>" if draw.random() < 0.15 else ""))
        length += len(words[-1])
    return "".join(words).encode()[:size]


@cache
def prose() -> bytes:
    """Filler for the fixture's pages, cut to each page's size (256 KiB, repeated beyond):
    made when the server first needs it, not by every client that imports the profiles."""
    return _prose(256 * 1024)

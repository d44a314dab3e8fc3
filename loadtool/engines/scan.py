"""Searching the bytes of an answer's head: ``find(data, needle, end)`` is
``data.find(needle, 0, end)``, the first place ``needle`` starts within ``data[:end]``, or -1.

The engines search each answer's head a few times (where it ends, whether it names a
Content-Encoding). As a method call, each search parses its arguments as a tuple first:
the three of the fast engine's request cost 4.2k instructions, a quarter of what its bare
loop spends on a whole request (callgrind). A compiled module that cimports this one in
its .pxd (``from loadtool.engines cimport scan``, beside ``from . import scan`` in its
.py) calls ``scan.find`` as C: scan.pxd declares it as libc's memmem (a memchr loop where
there is none) over the same bytes, with the same answer. Run as Python, and for every
caller that is not compiled, it is bytes.find.
"""

from __future__ import annotations

__all__ = ["find"]


def find(data: bytes, needle: bytes, end: int) -> int:
    """The first index of ``needle`` in ``data[:end]`` (``end`` at least 0), or -1."""
    return data.find(needle, 0, end)

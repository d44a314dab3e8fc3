"""Deterministic file trees for ``loadtool read``, and their manifests.

File *i* of a tree made with seed *s* always has the same path, size and bytes, so two
trees made with the same arguments are byte-identical. Files are spread over two
levels of directories, at most 256 files to a directory (a directory of thousands of
entries measures the file system's lookup, not reads). The manifest lists every file
with its size and SHA-256, one a line, so it doubles as the read's target list and as
the checksums for ``--verify``.
"""

from __future__ import annotations

import hashlib
import tempfile
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..server.profiles import Fixed, LogNormal, uniforms
from . import MANIFEST_NAME as MANIFEST
from ..units import parse_size

HEADER = "# loadtool files manifest v1"
BLOCK = 1 << 20
MAX_FILE = 1 << 30


@dataclass(frozen=True)
class SizeSpec:
    """File sizes: a fixed size, or a seeded lognormal around a median."""

    dist: Fixed | LogNormal
    text: str

    def size(self, seed: int, index: int) -> int:
        return int(min(max(self.dist.at(uniforms(seed, index)[1]), 0), MAX_FILE))


_LOGNORMAL = re.compile(r"lognormal:median=([^,]+)(?:,sigma=([\d.]+))?")


def parse_sizes(size: str | None, sizes: str | None) -> SizeSpec:
    """``--size 4KiB`` or ``--sizes lognormal:median=4KiB[,sigma=1]`` as a SizeSpec."""
    try:
        if sizes:
            match = _LOGNORMAL.fullmatch(sizes.strip())
            if not match:
                raise ValueError(f"not a size distribution: {sizes!r} (try lognormal:median=4KiB,sigma=1)")
            return SizeSpec(LogNormal(parse_size(match.group(1)), float(match.group(2) or 1.0)), sizes)
        fixed = parse_size(size or "4KiB")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if fixed > MAX_FILE:
        raise UsageError(f"--size is at most 1GiB per file, not {size}")
    return SizeSpec(Fixed(fixed), size or "4KiB")


def relative_path(index: int) -> str:
    """Where file ``index`` lives: at most 256 files and 256 subdirectories per directory."""
    return f"{index >> 16:02x}/{(index >> 8) & 0xFF:02x}/{index:08x}.bin"


class Content:
    """The bytes of every file of a seed: one block cut at a per-file offset."""

    def __init__(self, seed: int) -> None:
        self.block = hashlib.shake_256(f"loadtool files {seed}".encode()).digest(BLOCK)
        self.doubled = memoryview(self.block + self.block)

    def chunks(self, index: int, size: int):
        offset = (index * 7919) % BLOCK
        while size > 0:
            piece = min(size, BLOCK)
            yield self.doubled[offset:offset + piece]
            size -= piece


def _check_target_dir(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} exists and is not a directory")
    if root.is_dir() and any(root.iterdir()) and not (root / MANIFEST).exists():
        raise UsageError(f"{root} is not empty and holds no loadtool manifest; give an empty or new directory")


@dataclass(frozen=True)
class MadeTree:
    manifest: Path
    files: int
    bytes: int


def make_tree(root: str | os.PathLike, count: int, sizes: SizeSpec, seed: int = 0,
              progress=None) -> MadeTree:
    """Write ``count`` files under ``root`` and their manifest."""
    root = Path(root)
    _check_target_dir(root)
    root.mkdir(parents=True, exist_ok=True)
    content = Content(seed)
    made_dirs: set[str] = set()
    total = 0
    manifest = root / MANIFEST
    with open(manifest.with_suffix(".partial"), "w", encoding="utf-8") as out:
        out.write(f"{HEADER} seed={seed} count={count} sizes={sizes.text}\n")
        for index in range(count):
            relative = relative_path(index)
            folder = relative.rsplit("/", 1)[0]
            if folder not in made_dirs:
                (root / folder).mkdir(parents=True, exist_ok=True)
                made_dirs = {folder}  # files come in directory order: one set entry suffices
            size = sizes.size(seed, index)
            total += size
            digest = hashlib.sha256()
            with open(root / relative, "wb") as handle:
                for chunk in content.chunks(index, size):
                    handle.write(chunk)
                    digest.update(chunk)
            out.write(f"{relative}\t{size}\t{digest.hexdigest()}\n")
            if progress is not None:
                progress(index + 1)
    os.replace(manifest.with_suffix(".partial"), manifest)
    return MadeTree(manifest, count, total)


@contextmanager
def temporary_tree(tree) -> Iterator[Any]:
    """A GeneratedTree made in a temporary directory; yields its manifest as targets."""
    from . import LinesFile

    with tempfile.TemporaryDirectory(prefix="loadtool-tree-") as root:
        made = make_tree(root, tree.count, parse_sizes(tree.size, None), tree.seed)
        yield LinesFile.index(str(made.manifest), "manifest", name="a temporary tree", root=root)

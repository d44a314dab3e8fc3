"""Where operations go: lazy, picklable target sources addressed by operation index.

Operation *k* of a run always goes to the same target, whichever strategy runs it, so
processes can be handed index ranges instead of lists. Sources cycle when a run has
more operations than targets, and ``{i}`` in a URL or path becomes the operation
index. No source holds a list of its targets: a URL file is read through a sparse
offset index (one offset every ``CHECKPOINT_EVERY`` lines), so a file of 10^8 URLs
costs a few hundred kilobytes.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import count as count_from, cycle
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from ..errors import UsageError
from ..system import at_exit
from ..units import plural

CHECKPOINT_EVERY = 1024
_TEMPLATE = "{i}"
MANIFEST_NAME = ".loadtool-manifest.tsv"


@dataclass(frozen=True, slots=True)
class FileTarget:
    """A file from a manifest: its path and the SHA-256 its content must have."""

    path: str
    sha256: str


def file_path(target) -> str:
    """The path of a read target (a plain path, or a manifest entry)."""
    return target.path if isinstance(target, FileTarget) else target


class NotAFile(OSError):
    """A path that names a FIFO, a socket or a device: reading it could block for good."""


def open_regular(path: str) -> int:
    """A read-only descriptor of ``path``, only if it is a regular file (raises NotAFile
    otherwise, or the OSError of opening it). Opened without blocking, so a FIFO with
    no writer cannot hang the run, and checked before a byte is read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        if not stat.S_ISREG(mode):
            raise NotAFile(f"{path}: not a regular file (a FIFO, socket or device)")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


@dataclass(frozen=True, slots=True)
class InvalidTarget:
    """A target from a list that cannot be used; its operation counts as ``invalid_url``."""

    text: str
    reason: str

    @property
    def detail(self) -> str:
        return f"{self.text!r}: {self.reason}"


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACE = re.compile(r"\s")


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be fetched, or None when it is a usable http(s) URL."""
    try:
        url.encode("utf-8")
    except UnicodeError:
        return "not UTF-8 text"
    if has_control_characters(url):
        return "contains control characters"
    try:
        parts = urlsplit(url.replace(_TEMPLATE, "0"))
        port = parts.port
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"unsupported scheme {parts.scheme!r}" if parts.scheme else "no scheme (http:// or https://)"
    if not parts.hostname:
        return "no host"
    if port == 0:
        return "port 0"
    if _SPACE.search(url):
        return "contains whitespace"
    return None


def expand(template: str, index: int) -> str:
    """``template`` with ``{i}`` made the operation's index."""
    return template.replace(_TEMPLATE, str(index)) if _TEMPLATE in template else template


class Request(NamedTuple):
    """A target that is a whole request (from a targets file): its method, URL, headers and
    body, sent as they are — the job's --header lines are added, and its --body stands in
    only where the request has none. Other targets are URLs (str)."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None


def url_of(target) -> str:
    """The URL of a fetch target: the target itself, or a Request's."""
    return target if type(target) is str else getattr(target, "url", "")


@dataclass(frozen=True)
class ItemList:
    """A short list of URLs or paths given on the command line or through the API."""

    items: tuple[str, ...]
    kind: str = "urls"

    def distinct(self) -> int | None:
        return None if any(_TEMPLATE in item for item in self.items) else len(self.items)

    def iter_from(self, start: int, stop: int | None) -> Iterator[tuple[int, str]]:
        items, n = self.items, len(self.items)
        indices = count_from(start) if stop is None else range(start, stop)
        if self.distinct() is not None:  # no {i} to fill in: the items in turn, paired in C
            return zip(indices, cycle(items[start % n:] + items[:start % n]))
        return ((index, expand(items[index % n], index)) for index in indices)

    def latency_s(self, index: int) -> float | None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": len(self.items), "first": self.items[0]}

    def label(self) -> str:
        more = len(self.items) - 1
        return self.items[0] + (f" and {more:,} more" if more else "")


@dataclass(frozen=True)
class FixturePaths:
    """Paths on the bundled fixture server; ``base_url`` is set once the server runs."""

    paths: tuple[str, ...] = ("/page/{i}",)
    base_url: str | None = None
    seed: int = 0
    profile: str = "web"

    def bind(self, base_url: str) -> FixturePaths:
        return replace(self, base_url=base_url.rstrip("/"))

    def distinct(self) -> int | None:
        return None if any(_TEMPLATE in path for path in self.paths) else len(self.paths)

    def iter_from(self, start: int, stop: int | None) -> Iterator[tuple[int, str]]:
        if self.base_url is None:
            raise RuntimeError("fixture targets used before the fixture server started")
        urls = ItemList(tuple(self.base_url + path for path in self.paths))
        return urls.iter_from(start, stop)

    def latency_s(self, index: int) -> float | None:
        """The latency the fixture server is known to add to operation ``index``."""
        from ..server.profiles import known_latency_s

        path = expand(self.paths[index % len(self.paths)], index)
        return known_latency_s(path, self.seed, self.profile)

    def describe(self) -> dict[str, Any]:
        return {"kind": "fixture", "paths": list(self.paths), "base_url": self.base_url,
                "seed": self.seed, "profile": self.profile}

    def label(self) -> str:
        shown = ", ".join(self.paths[:3]) + (f" and {len(self.paths) - 3:,} more" if len(self.paths) > 3 else "")
        where = f"fixture server {self.base_url}" if self.base_url else "the fixture site:"
        return f"{where} {shown} (profile {self.profile}, seed {self.seed})"


@dataclass(frozen=True)
class LinesFile:
    """A file of targets, one a line; blank lines and ``#`` comments are skipped.

    ``offsets[j]`` is the byte offset of content line ``j * CHECKPOINT_EVERY``, so any
    line is one seek and at most ``CHECKPOINT_EVERY`` line reads away.
    """

    path: str
    lines: int
    offsets: array = field(repr=False)
    kind: str = "urls"
    #: What users call the file: its path as given, or <stdin>.
    name: str = ""
    #: For a manifest: the directory its relative paths start from.
    root: str = ""

    @classmethod
    def index(cls, path: str, kind: str = "urls", name: str = "", root: str = "") -> LinesFile:
        """Index a list file; for URLs, UsageError if it holds no valid URL at all."""
        offsets, lines = array("q"), 0
        first_problem, valid_seen = None, kind != "urls"
        with open(path, "rb") as handle:
            offset = 0
            for raw in bounded_lines(handle, name or path):
                text = _content(raw)
                if text is not None:
                    if lines % CHECKPOINT_EVERY == 0:
                        offsets.append(offset)
                    lines += 1
                    if not valid_seen:  # checked only until the first good line: cheap for big files
                        problem = url_problem(text)
                        valid_seen = problem is None
                        first_problem = first_problem or (text[:40], problem)
                offset += len(raw)
        if lines and not valid_seen:
            raise UsageError(f"no valid URL in {name or path} (first line {first_problem[0]!r}: {first_problem[1]})")
        return cls(path, lines, offsets, kind, name or path, root)

    def distinct(self) -> int | None:
        return self.lines

    def _from(self, line: int) -> Iterator[str]:
        with open(self.path, "rb") as handle:
            handle.seek(self.offsets[line // CHECKPOINT_EVERY])
            skip = line % CHECKPOINT_EVERY
            for raw in handle:
                text = _content(raw)
                if text is None:
                    continue
                if skip:
                    skip -= 1
                    continue
                yield text

    def iter_from(self, start: int, stop: int | None) -> Iterator[tuple[int, str | InvalidTarget]]:
        index = start
        while stop is None or index < stop:
            for text in self._from(index % self.lines):
                yield index, self._checked(text, index)
                index += 1
                if index == stop:
                    return

    def _checked(self, text: str, index: int) -> str | FileTarget | InvalidTarget:
        if self.kind == "manifest":
            relative, _, rest = text.partition("\t")
            return FileTarget(os.path.join(self.root, relative), rest.rpartition("\t")[2])
        if self.kind != "urls":
            return text
        target = expand(text, index)
        problem = url_problem(target)
        return InvalidTarget(target, problem) if problem else target

    def latency_s(self, index: int) -> float | None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"kind": f"{self.kind}_file", "path": self.name, "count": self.lines}

    def label(self) -> str:
        if self.kind == "manifest":
            return f"{plural(self.lines, 'file')} listed in {self.name}"
        return f"{plural(self.lines, 'URL' if self.kind == 'urls' else 'file')} from {self.name}"


@dataclass(frozen=True)
class GeneratedTree:
    """A temporary tree of ``count`` files, made before the run and removed after it."""

    count: int
    size: str = "4KiB"
    seed: int = 0

    def describe(self) -> dict[str, Any]:
        return {"kind": "generated_tree", "count": self.count, "size": self.size, "seed": self.seed}

    def label(self) -> str:
        return f"a temporary tree of {plural(self.count, 'file')} of {self.size}"


def _content(raw: bytes) -> str | None:
    """The target on one raw line, or None for a blank line or a comment."""
    text = raw.strip()
    if not text or text.startswith(b"#"):
        return None
    # surrogateescape keeps non-UTF-8 file names usable; for URLs they fail url_problem.
    return os.fsdecode(text) if os.name != "nt" else text.decode("utf-8", "replace")


#: The longest line a list or request file may hold. No URL, path or header line comes near
#: it; a stream with no line end (a device such as /dev/zero, a binary file) stops here at
#: once, not when memory is gone.
MAX_LINE_BYTES = 64 * 1024


class LineTooLong(UsageError):
    """A line of a list or request file over MAX_LINE_BYTES."""


def bounded_lines(handle, name: str) -> Iterator[bytes]:
    """The lines of ``handle`` (a binary file), none over MAX_LINE_BYTES: LineTooLong names
    ``name`` and the line."""
    readline, number = handle.readline, 0
    while raw := readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise LineTooLong(f"{name + ': ' if name else ''}line {number:,} is over {MAX_LINE_BYTES // 1024} KiB "
                              f"with no line end (a device or a binary file?)")
        yield raw


def _copy_lines(source, out, name: str) -> None:
    """Copy ``source`` to ``out`` as it comes, with no line over MAX_LINE_BYTES."""
    pending = 0  # bytes since the last line end
    while chunk := source.read1(1 << 16):
        out.write(chunk)
        end = chunk.rfind(b"\n")
        pending = len(chunk) - 1 - end if end >= 0 else pending + len(chunk)
        if pending > MAX_LINE_BYTES:
            raise LineTooLong(f"{name}: a line over {MAX_LINE_BYTES // 1024} KiB with no line end "
                              f"(a device or a binary stream?)")


_SPOOLS: list[str] = []


def _spool(fill, prefix: str) -> str:
    """A temporary file (removed at exit) written by ``fill(binary_handle)``."""
    import tempfile

    handle = tempfile.NamedTemporaryFile(prefix=prefix, suffix=".txt", delete=False)
    if not _SPOOLS:
        at_exit(remove_spools)
    _SPOOLS.append(handle.name)
    with handle:
        fill(handle)
    return handle.name


def remove_spools() -> None:
    """Remove the temporary list files made so far (also done at exit)."""
    while _SPOOLS:
        try:
            os.unlink(_SPOOLS.pop())
        except OSError:
            pass


#: The standard input spooled, and the file it went to: it can be read only once.
_STDIN: list[tuple[Any, str]] = []


def spool_stdin() -> str:
    """Copy standard input to a temporary file so it can be indexed (once: a second call
    gives the same file while sys.stdin is the same stream)."""
    if not _STDIN or _STDIN[0][0] is not sys.stdin:
        path = _spool(lambda out: _copy_lines(sys.stdin.buffer, out, "standard input"), "loadtool-stdin-")
        _STDIN[:] = [(sys.stdin, path)]
    return _STDIN[0][1]


def stdin_piped(wait_s: float = 0.25) -> bool:
    """Whether standard input is a pipe or file with something in it (``echo URL |
    loadtool fetch``, ``< urls.txt``), as opposed to a terminal or /dev/null. A pipe
    with nothing written to it within ``wait_s`` counts as nothing piped; one closed
    empty is spooled and found empty."""
    import select

    try:
        fd = sys.stdin.fileno()
        if os.isatty(fd):
            return False
        info = os.fstat(fd)
    except (AttributeError, ValueError, OSError):
        return False
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return info.st_size > 0
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return False
    ready, _, _ = select.select([fd], [], [], wait_s)
    return bool(ready) and os.path.getsize(spool_stdin()) > 0


_REQUEST_LINE = re.compile(r"[A-Z]+[ \t]+\S+://")


def looks_like_requests(path: str) -> bool:
    """Whether a list's first line is a request line (``GET http://…``: vegeta's targets
    format) rather than a URL."""
    with open(path, "rb") as handle:
        for raw in bounded_lines(handle, path):
            line = raw.decode("utf-8", "replace").strip()
            if line and not line.startswith("#"):
                return _REQUEST_LINE.match(line) is not None
            if handle.tell() > 1 << 20:
                break
    return False


def walk_files(root: str, recursive: bool) -> Iterator[str]:
    """Regular files under ``root``, found with os.scandir one directory at a time.

    Never lists a directory into memory: a directory of 10^6 entries costs one entry
    at a time (and a stack of open directories as deep as the tree when recursive).
    """
    with os.scandir(root) as entries:
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if recursive:
                        yield from walk_files(entry.path, recursive)
                elif entry.name != MANIFEST_NAME:
                    yield entry.path
            except OSError:
                yield entry.path  # unreadable: its read counts the error


def _a_file(name: str, what: str) -> UsageError:
    """The error for a file given where a URL goes: the options that read one."""
    return UsageError(f"{name} is {what}: to fetch the URLs listed in it use -f {name} "
                      f"(or --targets {name} for requests written as 'GET http://…')")


def url_targets(urls: tuple[str, ...], urls_file: str | None, seed: int, profile: str):
    """The target source for ``fetch``: URLs, fixture paths, or a URL file (``-`` = stdin)."""
    if urls and urls_file:
        raise UsageError("give URLs as arguments or with --urls-file, not both")
    if urls_file:
        return _listed(urls_file, "urls", "URL file", "URLs")
    if not urls:
        return FixturePaths(seed=seed, profile=profile)
    paths = tuple(url for url in urls if url.startswith("/"))
    for path in paths:
        if os.path.isfile(path):
            raise _a_file(path, "a file on this machine, not a fixture path")
    if paths:
        if len(paths) != len(urls):
            raise UsageError("mix of fixture paths (/…) and URLs: give one or the other")
        return FixturePaths(paths, seed=seed, profile=profile)
    for url in urls:
        problem = url_problem(url)
        if problem and os.path.isfile(url):
            raise _a_file(url, "a file, not a URL")
        if problem:
            raise UsageError(f"bad URL {url!r}: {problem}")
    return ItemList(tuple(urls))


def _listed(name: str, kind: str, what: str, items: str) -> LinesFile:
    """A list file (``-`` = stdin) of URLs or paths, indexed; UsageError if unusable or empty."""
    label = "<stdin>" if name == "-" else name
    path = spool_stdin() if name == "-" else name
    try:
        if kind == "urls" and looks_like_requests(path):
            raise UsageError(f"{label} holds requests ('GET http://…'), not URLs: use --targets {name}")
        source = LinesFile.index(path, kind, label)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {label}: {exc.strerror or exc}") from None
    if source.lines == 0:
        raise UsageError(f"no {items} in {label} (blank lines and # comments are skipped)")
    return source


def file_targets(paths: tuple[str, ...], from_list: str | None, recursive: bool):
    """The target source for ``read``: files, directories (walked), a manifest or a list file."""
    if paths and from_list:
        raise UsageError("give paths as arguments or with --from-list, not both")
    if from_list:
        return _listed(from_list, "files", "list file", "paths")
    for path in paths:
        if not os.path.lexists(path):
            raise UsageError(f"no such file or directory: {path}")
    if len(paths) == 1 and os.path.isfile(os.path.join(paths[0], MANIFEST_NAME)):
        manifest = os.path.join(paths[0], MANIFEST_NAME)
        return LinesFile.index(manifest, "manifest", name=manifest, root=paths[0])
    if not any(os.path.isdir(path) for path in paths):
        return ItemList(tuple(paths), kind="files")

    def fill(out) -> None:
        for path in paths:
            found = walk_files(path, recursive) if os.path.isdir(path) else iter((path,))
            for name in found:
                out.write(os.fsencode(name) + b"\n")

    listing = LinesFile.index(_spool(fill, "loadtool-walk-"), "files", name=", ".join(paths))
    if listing.lines == 0:
        hint = "" if recursive else " (add --recursive to read subdirectories)"
        raise UsageError(f"no files in {', '.join(paths)}{hint}")
    return listing

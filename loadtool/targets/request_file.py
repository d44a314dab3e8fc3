"""Request files (``--targets FILE``): each request with its own method, headers and body.

Two formats, as vegeta reads them:

``http`` (the default) — a request line, then its header lines, then optionally
``@FILE`` for its body (a path relative to the targets file); a blank line, or the
next request line, ends a request; ``#`` starts a comment::

    GET http://127.0.0.1:8080/items?page=1
    X-Account: 42

    POST http://127.0.0.1:8080/items
    Content-Type: application/json
    @new-item.json

``json`` — one JSON object a line: ``{"method": "POST", "url": "...", "header":
{"Name": ["value"]}, "body": "<base64>"}`` (only ``url`` is required).

The file is checked from end to end once, before the run, so a malformed request is one
usage error naming its line; then it is read lazily, like a URL list: a sparse index of
offsets (one every ``CHECKPOINT_EVERY`` requests) lets any process start at any request,
and only the request in hand is held. Bodies named with ``@FILE`` are read when used,
the most recent few kept.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from . import (CHECKPOINT_EVERY, InvalidTarget, LineTooLong, Request, bounded_lines, expand, has_control_characters,
               spool_stdin, url_problem)

FORMATS = ("http", "json")
_METHOD = re.compile(r"[A-Z][A-Z_-]*")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
#: Bodies named with @FILE kept in memory at once, per process (the most recently read).
BODY_CACHE = 32


class BadTarget(ValueError):
    """A malformed request in a targets file, at ``line`` (counting from 1)."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line


def _header(text: str, line: int) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not _HEADER_NAME.fullmatch(name.strip()) or has_control_characters(value.replace("\t", " ")):
        raise BadTarget(line, f"not a header line (Name: value): {text[:60]!r}")
    try:
        value.encode("latin-1")
    except UnicodeError:
        raise BadTarget(line, f"header {name.strip()!r}: values must be ASCII or Latin-1 text") from None
    return name.strip(), value.strip()


def _request_line(text: str, line: int) -> tuple[str, str]:
    method, _, url = text.partition(" ")
    url = url.strip()
    if not _METHOD.fullmatch(method) or not url:
        raise BadTarget(line, f"expected a request line such as 'GET http://host/path', not {text[:60]!r}")
    problem = url_problem(url)
    if problem:
        raise BadTarget(line, f"bad URL {url[:60]!r}: {problem}")
    return method, url


def _split_header(text: str, line: int) -> tuple[str, str]:
    """A header line already checked (when the file was indexed): split only."""
    name, _, value = text.partition(":")
    return name.strip(), value.strip()


def _split_request_line(text: str, line: int) -> tuple[str, str]:
    method, _, url = text.partition(" ")
    return method, url.strip()


def _starts_request(text: str) -> bool:
    """Whether a line inside a request begins the next one: a method, a space, a URL — and
    not a header line (whose name could never hold the space)."""
    method, space, rest = text.partition(" ")
    return bool(space) and _METHOD.fullmatch(method) is not None and "://" in rest


@dataclass
class _Reading:
    """One request being read from an http-format file."""

    offset: int
    line: int
    method: str
    url: str
    headers: list = field(default_factory=list)
    body: str | None = None
    body_line: int = 0

    def request(self) -> tuple[int, int, tuple, int]:
        return self.offset, self.line, (self.method, self.url, tuple(self.headers), self.body), self.body_line


def _http(handle, offset: int, line: int, strict: bool = True) -> Iterator[tuple[int, int, tuple, int]]:
    """(offset, line, (method, url, headers, body file), line of the body file) of each
    request from ``offset`` on; ``strict`` checks every line (not needed once indexed)."""
    header, request_line = (_header, _request_line) if strict else (_split_header, _split_request_line)
    reading: _Reading | None = None
    for raw in bounded_lines(handle, "") if strict else handle:
        line += 1
        text = raw.decode("utf-8", "surrogateescape").strip()
        here, offset = offset, offset + len(raw)
        if not text:
            if reading is not None:
                yield reading.request()
                reading = None
            continue
        if text.startswith("#"):
            continue
        if reading is not None and reading.body is None and not _starts_request(text):
            if text.startswith("@"):
                reading.body, reading.body_line = text[1:].strip(), line
                if not reading.body:
                    raise BadTarget(line, "@ must name a body file, e.g. @item.json")
            else:
                reading.headers.append(header(text, line))
            continue
        if reading is not None:
            yield reading.request()
        reading = _Reading(here, line, *request_line(text, line))
    if reading is not None:
        yield reading.request()


def _json(handle, offset: int, line: int, strict: bool = True) -> Iterator[tuple[int, int, tuple, int]]:
    """(offset, line, (method, url, headers, body bytes), line) of each request from ``offset`` on."""
    for raw in bounded_lines(handle, "") if strict else handle:
        line += 1
        here, offset = offset, offset + len(raw)
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise BadTarget(line, f"not JSON ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            raise BadTarget(line, 'expected an object with at least "url": {"method", "url", "header", "body"}')
        method, url = (_request_line if strict else _split_request_line)(f"{data.get('method') or 'GET'} {data['url']}",
                                                                         line)
        headers = []
        for name, values in (data.get("header") or {}).items():
            for value in values if isinstance(values, list) else [values]:
                headers.append(_header(f"{name}: {value}", line) if strict else (name, str(value)))
        body = None
        if data.get("body") is not None:
            try:
                body = base64.b64decode(data["body"], validate=True)
            except (binascii.Error, TypeError):
                raise BadTarget(line, '"body" must be base64, as vegeta writes it') from None
        yield here, line, (method, url, tuple(headers), body), line


_READERS = {"http": _http, "json": _json}


@dataclass(frozen=True)
class TargetsFile:
    """A request file, indexed: ``offsets[j]`` and ``lines[j]`` are where request
    ``j * CHECKPOINT_EVERY`` starts (its byte offset, and the line before it)."""

    path: str
    format: str
    count: int
    offsets: array = field(repr=False)
    lines: array = field(repr=False)
    #: What users call the file: its path as given, or <stdin>.
    name: str = ""
    #: Where @FILE bodies' paths start: the directory of the targets file.
    root: str = ""
    #: The largest @FILE body allowed (--max-body).
    max_body: int = 16 << 20
    #: The only directory @FILE bodies may be read from: ``root`` unless --body-dir says.
    allowed: str = ""

    @classmethod
    def open(cls, name: str, fmt: str = "http", max_body: int = 16 << 20, body_dir: str | None = None) -> TargetsFile:
        """Check and index ``name`` (``-``: standard input); UsageError naming the line of
        the first malformed request, or a body file that cannot be sent."""
        if fmt not in FORMATS:
            raise UsageError(f"--targets-format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        label = "<stdin>" if name == "-" else name
        path = spool_stdin() if name == "-" else name
        root = os.getcwd() if name == "-" else os.path.dirname(os.path.abspath(path))
        offsets, lines, count, bodies = array("q"), array("q"), 0, set()
        try:
            with open(path, "rb") as handle:
                for offset, line, (_, _, _, body), body_line in _READERS[fmt](handle, 0, 0):
                    if count % CHECKPOINT_EVERY == 0:
                        offsets.append(offset)
                        lines.append(line - 1)
                    count += 1
                    if isinstance(body, str) and body not in bodies:
                        _body_problem(root, body_dir or root, body, max_body, body_line)
                        bodies.add(body)
        except OSError as exc:
            raise UsageError(f"--targets: cannot read {label}: {exc.strerror or exc}") from None
        except BadTarget as exc:
            raise UsageError(f"--targets {label}, {exc}") from None
        except LineTooLong as exc:
            raise UsageError(f"--targets {label}: {exc}") from None
        if count == 0:
            raise UsageError(f"--targets: no requests in {label}")
        return cls(path, fmt, count, offsets, lines, label, root, max_body, body_dir or root)

    def distinct(self) -> int | None:
        return self.count

    def iter_from(self, start: int, stop: int | None) -> Iterator[tuple[int, Request]]:
        index, bodies = start, _Bodies(self.root, self.max_body, self.allowed)
        while stop is None or index < stop:
            for method, url, headers, body in self._from(index % self.count):
                try:
                    yield index, Request(method, expand(url, index), headers, bodies.get(body))
                except (OSError, ValueError) as exc:  # the body file went away (or elsewhere) after the check
                    yield index, InvalidTarget(url, f"body file {body}: {getattr(exc, 'strerror', None) or exc}")
                index += 1
                if index == stop:
                    return

    def _from(self, number: int) -> Iterator[tuple]:
        checkpoint, skip = divmod(number, CHECKPOINT_EVERY)
        with open(self.path, "rb") as handle:
            handle.seek(self.offsets[checkpoint])
            reader = _READERS[self.format]
            for _, _, request, _ in reader(handle, self.offsets[checkpoint], self.lines[checkpoint], strict=False):
                if skip:
                    skip -= 1
                    continue
                yield request

    def latency_s(self, index: int) -> float | None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"kind": "targets_file", "path": self.name, "format": self.format, "count": self.count}

    def label(self) -> str:
        return f"{self.count:,} request{'s' if self.count != 1 else ''} from {self.name} ({self.format} format)"


def body_path(base: str, allowed: str, body: str) -> str:
    """Where an @FILE body is (relative to ``base``, the targets file's directory), when it
    lies under ``allowed``: a targets file is often someone else's, and ``@/etc/shadow`` or
    ``@../../x`` (or a link out) must not be sent."""
    path, allowed = os.path.realpath(os.path.join(base, body)), os.path.realpath(allowed)
    if os.path.commonpath([path, allowed]) != allowed:
        raise ValueError(f"body file {body} is outside {allowed} (--body-dir DIR allows another directory)")
    return path


def _body_problem(base: str, allowed: str, body: str, max_body: int, line: int) -> None:
    try:
        path = body_path(base, allowed, body)
        size = os.stat(path).st_size
        readable = os.access(path, os.R_OK)
    except ValueError as exc:
        raise BadTarget(line, str(exc)) from None
    except OSError as exc:
        raise BadTarget(line, f"body file {body}: {exc.strerror or exc}") from None
    if not os.path.isfile(path):
        raise BadTarget(line, f"body file {body} is not a regular file")
    if not readable:
        raise BadTarget(line, f"body file {body}: permission denied")
    if size > max_body:
        raise BadTarget(line, f"body file {body} is {size:,} bytes, over --max-body ({max_body:,} bytes)")


class _Bodies:
    """@FILE bodies, read when first used; the most recent BODY_CACHE kept."""

    def __init__(self, root: str, max_body: int = 16 << 20, allowed: str | None = None) -> None:
        self.root, self.max_body, self.allowed = root, max_body, allowed or root
        self._kept: dict[str, bytes] = {}

    def get(self, body: str | bytes | None) -> bytes | None:
        if not isinstance(body, str):
            return body
        data = self._kept.pop(body, None)
        if data is None:
            with open(body_path(self.root, self.allowed, body), "rb") as handle:
                data = handle.read(self.max_body + 1)
            if len(data) > self.max_body:
                raise OSError(f"grown past --max-body ({self.max_body:,} bytes)")
            if len(self._kept) >= BODY_CACHE:
                del self._kept[next(iter(self._kept))]
        self._kept[body] = data
        return data

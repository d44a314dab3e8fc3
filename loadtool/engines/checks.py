"""Checks: whether each answer was right, not just fast (k6's checks, locust's catch_response).

``--check EXPR`` is parsed once into a Check; the policy evaluates every check on every
answer, and an answer that fails one counts as the kind ``check_failed`` (its status is
still counted). The expressions:

    status == 200            status != 500           status in 200-299,304
    body contains "Welcome"  body ~ "id=\\d+"         (a regular expression, searched)
    header Content-Type ~ json                        header ETag exists
    json .items[0].id exists json .count == 3        (a path into the JSON body)
    size >= 1KiB             time < 200ms             (==, !=, <, <=, >, >=)

Checks on bodies read at most the first ``--check-body`` bytes of each (64 KiB unless
told), so a check cannot make memory grow with the size of an answer; ``size`` is the
whole body's. The library also takes Python callables: ``check(answer) -> bool``.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..errors import UsageError
from ..units import parse_duration, parse_size

_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
            ">=": operator.ge}
_OP = r"(==|!=|<=|>=|<|>)"


class Answer(NamedTuple):
    """What checks see of one answer: its status, headers (lower-cased names), the first
    bytes of its body, the whole body's size, and how long the operation took."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    size: int
    time_s: float = 0.0

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Check:
    """One check: its text (how reports name it), what it needs of an answer, and its test."""

    text: str
    test: Callable[[Answer], bool] = field(compare=False)
    needs_body: bool = False
    needs_headers: bool = False

    def passes(self, answer: Answer) -> bool:
        try:
            return bool(self.test(answer))
        except Exception:  # noqa: BLE001 - a body that is not JSON, a path that is not there: failed
            return False


def _quoted(text: str, what: str) -> str:
    match = re.fullmatch(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'|(\S+)', text.strip())
    if not match:
        raise ValueError(f"{what} must be one word or a quoted string, not {text.strip()!r}")
    quoted = match.group(1) if match.group(1) is not None else match.group(2)
    return quoted.replace('\\"', '"').replace("\\'", "'") if quoted is not None else match.group(3)


def _regex(text: str) -> re.Pattern:
    try:
        return re.compile(_quoted(text, "a pattern"))
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None


def _status_ranges(text: str) -> list[tuple[int, int]]:
    ranges = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        ranges.append((int(low), int(high or low)))
    return ranges


def _json_path(path: str) -> list[str | int]:
    """``.items[0].id`` as ["items", 0, "id"]."""
    steps: list[str | int] = []
    for match in re.finditer(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|(\S)", path):
        if match.group(3):
            raise ValueError(f"not a JSON path (like .items[0].id): {path!r}")
        steps.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
    if not steps:
        raise ValueError(f"not a JSON path (like .items[0].id): {path!r}")
    return steps


def _follow(value: Any, steps: list[str | int]) -> Any:
    for step in steps:
        value = value[step]
    return value


def _exists(value: Any, steps: list[str | int]) -> bool:
    _follow(value, steps)  # raises (and the check fails) where the path is not there
    return True


def _literal(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _quoted(text, "a value")


def _parse(text: str) -> Check:
    words = text.split(None, 1)
    subject, rest = (words[0].lower(), words[1] if len(words) > 1 else "") if words else ("", "")
    if subject == "status":
        if match := re.fullmatch(r"in\s+([\d\s,-]+)", rest.strip()):
            ranges = _status_ranges(match.group(1))
            return Check(text, lambda a: any(low <= a.status <= high for low, high in ranges))
        if match := re.fullmatch(_OP + r"\s*(\d+)", rest.strip()):
            compare, code = _COMPARE[match.group(1)], int(match.group(2))
            return Check(text, lambda a: compare(a.status, code))
    elif subject == "body":
        if match := re.fullmatch(r"contains\s+(.+)", rest.strip(), re.S):
            needle = _quoted(match.group(1), "what the body contains").encode()
            return Check(text, lambda a: needle in a.body, needs_body=True)
        if match := re.fullmatch(r"~\s*(.+)", rest.strip(), re.S):
            pattern = re.compile(_regex(match.group(1)).pattern.encode())
            return Check(text, lambda a: pattern.search(a.body) is not None, needs_body=True)
    elif subject == "header":
        if match := re.fullmatch(r"(\S+)\s+exists", rest.strip()):
            name = match.group(1)
            return Check(text, lambda a: a.header(name) is not None, needs_headers=True)
        if match := re.fullmatch(r"(\S+)\s*~\s*(.+)", rest.strip()):
            name, pattern = match.group(1), _regex(match.group(2))
            return Check(text, lambda a: pattern.search(a.header(name) or "") is not None, needs_headers=True)
    elif subject == "json":
        if match := re.fullmatch(r"(\S+)\s+exists", rest.strip()):
            steps = _json_path(match.group(1))
            return Check(text, lambda a: _exists(a.json(), steps), needs_body=True)
        if match := re.fullmatch(r"(\S+)\s*" + _OP + r"\s*(.+)", rest.strip()):
            steps, compare, value = _json_path(match.group(1)), _COMPARE[match.group(2)], _literal(match.group(3))
            return Check(text, lambda a: compare(_follow(a.json(), steps), value), needs_body=True)
    elif subject == "size":
        if match := re.fullmatch(_OP + r"\s*(\S+)", rest.strip()):
            compare, size = _COMPARE[match.group(1)], parse_size(match.group(2))
            return Check(text, lambda a: compare(a.size, size))
    elif subject == "time":
        if match := re.fullmatch(_OP + r"\s*(\S+)", rest.strip()):
            compare, limit_s = _COMPARE[match.group(1)], parse_duration(match.group(2))
            return Check(text, lambda a: compare(a.time_s, limit_s))
    raise ValueError("try status == 200, status in 200-299, body contains \"word\", body ~ \"regex\", "
                     "header Content-Type ~ json, json .items[0].id exists, size >= 1KiB, time < 200ms")


def parse_check(check: str | Callable[[Answer], bool]) -> Check:
    """A Check from an expression, or from a Python callable (the library's); UsageError if bad."""
    if callable(check):
        name = getattr(check, "__name__", "check")
        return Check(name, check, needs_body=True, needs_headers=True)
    try:
        return _parse(str(check).strip())
    except ValueError as exc:
        raise UsageError(f"--check {check!r}: {exc}") from None


def name_of(check: str | Callable) -> str:
    """How reports name a check: its expression, or a callable's name."""
    return check.strip() if isinstance(check, str) else getattr(check, "__name__", "check")


def checks_share(checks: dict[str, dict[str, int]]) -> float | None:
    """The share of check evaluations that passed, from ``Result.checks`` (or its JSON)."""
    passed = sum(counts["passed"] for counts in checks.values())
    evaluated = passed + sum(counts["failed"] for counts in checks.values())
    return passed / evaluated if evaluated else None


def parse_checks(checks) -> tuple[Check, ...]:
    return tuple(parse_check(check) for check in checks)


def wanted(fetch) -> int | None:
    """What an engine must keep of each answer for the job's checks: None (nothing, no
    checks), else how many bytes of its body (0: the headers only)."""
    if fetch is None or not fetch.checks:
        return 0 if fetch is not None and fetch.retry_after else None  # Retry-After is a header
    return fetch.check_body if any(check.needs_body for check in parse_checks(fetch.checks)) else 0


class Kept:
    """The first ``limit`` bytes of a body, as body checks read them (callable with each
    chunk, so it can be libcurl's WRITEFUNCTION)."""

    __slots__ = ("limit", "data")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()

    def __call__(self, chunk: bytes) -> None:
        room = self.limit - len(self.data)
        if room > 0:
            self.data += chunk[:room]

    def take(self) -> bytes:
        data = bytes(self.data)
        self.data.clear()
        return data


def answer(headers, kept: Kept | None) -> tuple:
    """An Outcome's ``answer`` from a response's header items and what was kept of its body."""
    return tuple((name.lower(), value) for name, value in headers), b"" if kept is None else kept.take()


def headers_of(lines) -> tuple[tuple[str, str], ...]:
    """The headers of the last answer among raw head lines (bytes, without its body; the
    redirects and interim answers before it start with their own status line), names
    lower-cased."""
    headers: list[tuple[str, str]] = []
    for line in lines:
        if line.startswith(b"HTTP/"):
            headers = []
            continue
        text = line.decode("latin-1").strip()
        if not text:
            continue
        name, _, value = text.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return tuple(headers)

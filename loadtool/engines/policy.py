"""The operation policy: every rule of one operation, in one place, for every engine.

An engine makes one attempt and reports what it saw (an ``Outcome``); it decides
nothing. The policy decides, as pure functions of the attempt, the outcome and the
time ``now``: the deadline (``--timeout`` counts from the operation's first send, in
every engine; the connect timeout bounds each connect on its own), whether to retry
and after what pause (exponential backoff with full jitter, within the deadline), the
error kind, and the Sample the run counts. No clock is read here, so the rules are
tested with made-up times; the jitter is a hash of the operation and attempt, so the
same run retries the same way.

Modelled on urllib3's ``Retry``: one immutable value per attempt (``Attempt``), and
``settle`` returns either the operation's Sample or the next Attempt and its pause.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..errors import classify, kind_or_type, message
from ..metrics import Sample, tuples
from .checks import Answer, parse_checks

#: Error kinds worth another attempt: the next try may well succeed.
RETRIABLE = frozenset({"connect_refused", "connect_timeout", "read_timeout", "reset", "truncated", "protocol", "dns"})
#: Methods a client may send twice without changing what the server does (RFC 9110 9.2.2).
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 2.0
_MASK = (1 << 64) - 1


class Outcome(NamedTuple):
    """What one attempt saw: an answer (``status``, ``nbytes``) or a failure (``error``: an
    exception to classify, or an error kind already named, with its ``detail``). ``stale``:
    it failed on a kept-alive connection before any byte of an answer came back. Where the
    engine can tell: the ``protocol`` it spoke ("HTTP/2"), whether the attempt opened a
    new connection (``connected``) rather than reusing one, and the seconds it spent in
    each of metrics.PHASES (``phases``, None where it cannot see one)."""

    status: int | None = None
    nbytes: int = 0
    error: BaseException | str | None = None
    detail: str | None = None
    stale: bool = False
    protocol: str | None = None
    connected: bool | None = None
    phases: tuple | None = None
    #: For checks: (headers with lower-cased names, the first bytes of the body), when asked for.
    answer: tuple | None = None
    #: The body's size decoded, when it came encoded (gzip...); None: as it came (``nbytes``).
    decoded: int | None = None
    #: Whether redirects took the request to another origin (scheme, host and port) than the
    #: one asked, where it was answered (its credentials were not sent there).
    elsewhere: bool = False


class Attempt(NamedTuple):
    """One attempt of one operation: the operation, when it was first sent (``first_s``),
    which attempt this is (1, 2, …), when this attempt started (``start_s``), and whether
    it replays a request that met a stale connection. Times are ``time.perf_counter()``
    readings."""

    op: Any
    first_s: float
    number: int
    start_s: float
    replayed: bool = False


class Limits(NamedTuple):
    """What an engine may spend on one attempt: seconds to connect, seconds in all."""

    connect_s: float
    total_s: float


class Retry(NamedTuple):
    """Try again: wait ``pause_s``, then make ``attempt``."""

    pause_s: float
    attempt: Attempt


def _mix(value: int) -> int:
    """splitmix64's finaliser: a well-spread 64-bit hash of a 64-bit integer."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def backoff_s(number: int, index: int, seed: int) -> float:
    """The pause before retry ``number`` (1, 2, …) of operation ``index``: full jitter,
    uniform in [0, min(cap, base·2^(number-1))), drawn from a hash so it is repeatable."""
    draw = _mix(_mix(seed * 1_000_003 + index) ^ number) / 2**64
    return draw * min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (number - 1))


class Policy:
    """The rules of one job's operations (built once per run; immutable)."""

    __slots__ = ("timeout_s", "connect_timeout_s", "retries", "seed", "idempotent", "first_limits", "checks", "_ok",
                 "_reads", "kind_of")

    def __init__(self, timeout_s: float, connect_timeout_s: float | None = None, retries: int = 0,
                 ok_status: tuple[tuple[int, int], ...] = ((200, 399),), reads: bool = False,
                 seed: int = 0, method: str = "GET", checks: tuple = (), own: bool = False) -> None:
        #: The checks every answer must pass (engines.checks): failing one is check_failed.
        self.checks = checks
        #: The kind an exception counts as: loadtool's; for an operation of the user's own
        #: (``own``), the exception's type where no kind of loadtool's fits.
        self.kind_of = kind_or_type if own else classify
        self.timeout_s = timeout_s
        self.idempotent = method in IDEMPOTENT
        self.connect_timeout_s = timeout_s if connect_timeout_s is None else connect_timeout_s
        self.retries = retries
        self.seed = seed
        #: The limits of a first attempt, sent the moment it begins: the same for every operation.
        self.first_limits = Limits(min(self.connect_timeout_s, timeout_s), timeout_s)
        self._reads = reads
        # Whether each status 0..599 counts as success: one index per answer.
        self._ok = bytes(any(low <= code <= high for low, high in ok_status) for code in range(600))

    @classmethod
    def for_job(cls, job) -> Policy:
        fetch = job.fetch
        return cls(job.timeout_s, fetch.connect_timeout_s if fetch else None, job.retries,
                   fetch.ok_status if fetch else ((200, 399),), reads=fetch is None, seed=job.seed,
                   method=fetch.method if fetch else "GET", checks=parse_checks(fetch.checks) if fetch else (),
                   own=job.kind == "run")

    def is_ok(self, status: int | None) -> bool:
        return status is not None and 0 <= status < 600 and bool(self._ok[status])

    # -- deadlines ---------------------------------------------------------------------

    def begin(self, op, now: float) -> Attempt:
        """The first attempt of ``op``, sent at ``now``."""
        return tuples.make(Attempt, (op, now, 1, now, False))

    def deadline_s(self, attempt: Attempt) -> float:
        """When the operation must be over: ``--timeout`` after its first send."""
        return attempt.first_s + self.timeout_s

    def limits(self, attempt: Attempt, now: float) -> Limits:
        """What the attempt may spend from ``now``: never past the deadline."""
        left = max(attempt.first_s + self.timeout_s - now, 0.001)
        return tuples.make(Limits, (min(self.connect_timeout_s, left), left))

    def expired(self, attempt: Attempt, now: float, connecting: bool) -> Outcome | None:
        """For engines that sweep their operations (and watchdogs): the failure an attempt
        has run into by ``now`` — a connect that took too long, or the deadline — or None."""
        if connecting and now - attempt.start_s > self.connect_timeout_s:
            return Outcome(error="connect_timeout", detail=f"no connection within {self.connect_timeout_s:g}s")
        if now - attempt.first_s > self.timeout_s:
            return Outcome(error="read_timeout", detail=f"no full answer within {self.timeout_s:g}s")
        return None

    # -- the decision ------------------------------------------------------------------

    def settle(self, attempt: Attempt, outcome: Outcome, now: float) -> Sample | Retry:
        """After an attempt: the operation's Sample if that was its last attempt, else a Retry.

        An error is retried when its kind is in RETRIABLE, a 5xx answer always; either only
        while ``--retries`` allows and the pause ends before the deadline. Before that, a
        request that met a stale kept-alive connection (the server had closed it) is sent
        once more at once, on a new connection, if its method is idempotent — as browsers
        and curl do; that replay is not a retry.
        """
        status, nbytes, error, detail, stale, protocol, connected, phases, answer, decoded, elsewhere = outcome
        if error is None:
            return self.answered(attempt, status, nbytes, now, protocol, connected, phases, answer, decoded,
                                 elsewhere)
        if isinstance(error, str):
            kind = error
        else:
            kind, detail = self.kind_of(error), detail or message(error)
        if stale and kind == "reset" and not attempt.replayed and self._idempotent(attempt.op.target):
            return Retry(0.0, attempt._replace(start_s=now, replayed=True))
        retry = self._retry(attempt, now) if kind in RETRIABLE else None
        return retry or self.sample(attempt, now, status, nbytes, kind, detail, protocol, connected, phases, decoded,
                                    elsewhere)

    def _idempotent(self, target) -> bool:
        """Whether the target's request may be sent twice: a URL's by the job's method, a
        Request's (the only other target an engine sends) by its own."""
        return self.idempotent if type(target) is str else target.method in IDEMPOTENT

    def answered(self, attempt: Attempt, status: int | None, nbytes: int, now: float, protocol: str | None = None,
                 connected: bool | None = None, phases: tuple | None = None,
                 answer: tuple | None = None, decoded: int | None = None, elsewhere: bool = False) -> Sample | Retry:
        """``settle`` for an attempt that got an answer (the common case, kept short)."""
        if status is not None and status >= 500 and attempt.number <= self.retries:
            retry = self._retry(attempt, now)
            if retry is not None:
                return retry
        if self.checks:
            return self._checked(attempt, status, nbytes, now, protocol, connected, phases, answer, decoded,
                                 elsewhere)
        return self.sample(attempt, now, status, nbytes, None, None, protocol, connected, phases, decoded, elsewhere)

    def _checked(self, attempt: Attempt, status: int, nbytes: int, now: float, protocol, connected, phases,
                 answer: tuple | None, decoded: int | None, elsewhere: bool) -> Sample:
        """The Sample of an answer that had to pass checks: check_failed when one did not."""
        headers, body = answer if answer is not None else ((), b"")
        seen = Answer(status, headers, body, nbytes if decoded is None or decoded < 0 else decoded,
                      now - attempt.first_s)
        passed = tuple(check.passes(seen) for check in self.checks)
        failed = next((check.text for check, ok in zip(self.checks, passed) if not ok), None)
        sample = self.sample(attempt, now, status, nbytes, None if failed is None else "check_failed",
                             None if failed is None else f"check {failed!r} failed", protocol, connected, phases,
                             decoded, elsewhere)
        return sample._replace(checks=passed)

    def _retry(self, attempt: Attempt, now: float) -> Retry | None:
        if attempt.number > self.retries:
            return None
        pause = backoff_s(attempt.number, attempt.op.index, self.seed)
        if now + pause >= attempt.first_s + self.timeout_s:
            return None
        return Retry(pause, Attempt(attempt.op, attempt.first_s, attempt.number + 1, now + pause, attempt.replayed))

    def sample(self, attempt: Attempt, now: float, status: int | None = None, nbytes: int = 0,
               kind: str | None = None, detail: str | None = None, protocol: str | None = None,
               connected: bool | None = None, phases: tuple | None = None, decoded: int | None = None,
               elsewhere: bool = False) -> Sample:
        """The Sample of an operation that ended at ``now``. Latency runs from when it was due
        (open model) or first sent; service time from the first send."""
        due, first = attempt.op.due, attempt.first_s
        ok = kind is None and (self._reads or status is not None and 0 <= status < 600 and self._ok[status] == 1)
        # Microseconds, rounded to the nearest (int() alone would truncate 0.1 s to 99999 µs).
        op = attempt.op
        if due is None:
            return tuples.make(Sample, (int((now - first) * 1e6 + 0.5), ok, status, kind, nbytes, None, attempt.number,
                                        detail, op, first, protocol, connected, phases, None, decoded, elsewhere))
        return tuples.make(Sample, (int((now - (due if due < first else first)) * 1e6 + 0.5), ok, status, kind, nbytes,
                                    int((now - first) * 1e6 + 0.5), attempt.number, detail, op, first, protocol,
                                    connected, phases, None, decoded, elsewhere))

    def invalid(self, op, detail: str, now: float) -> Sample:
        """The Sample of an operation whose target cannot be used at all."""
        return self.sample(self.begin(op, now), now, kind="invalid_url", detail=detail)

"""The same outcomes through the Policy into Stats, for the compiled core and its source alike.

``python tests/differential.py SEED`` prints, as JSON, everything the accounting keeps of a
fixed, varied stream of attempts (answers, refusals, errors with and without tracebacks,
retries, phases with and without a connection, checks, steps, encodings, redirects), counted
in three Stats of one run — closed model, open model, and one merged from two halves, one of
them reset and refilled — then sent over the wire and back. test_speedups runs it under
LOADTOOL_NO_EXTENSIONS=1 and without, and compares the two exactly.
"""

from __future__ import annotations

import json
import random
import sys
from types import SimpleNamespace

from loadtool import speedups
from loadtool.engines.checks import parse_checks
from loadtool.engines.policy import Outcome, Policy, Retry
from loadtool.metrics.stats import Stats
from loadtool.metrics.steps import StepTimes

EPOCH = 1_700_000_000.0
KINDS = ("connect_error", "reset", "read_timeout", "dns_error", "http_error")


def outcomes(seed: int, count: int):
    """``count`` (op, Outcome, duration in s, when it ended, wall clock) of a seeded stream."""
    draw = random.Random(seed)
    for index in range(count):
        due = None if draw.random() < 0.5 else 100.0 + index * 1e-3 - draw.random() * 0.01
        op = SimpleNamespace(index=index, target=draw.choice(("http://a.test/x", "https://b.test/y")), due=due)
        connected = draw.choice((True, False, None))
        phases = None if draw.random() < 0.2 else tuple(
            None if (connected is False and slot < 3) or draw.random() < 0.1
            else draw.choice((draw.expovariate(1e4), draw.expovariate(20)))  # ~100 µs, and past 2 ms
            for slot in range(6))
        if draw.random() < 0.1:  # an operation of the user's own: its steps and a check
            phases = StepTimes((("login", draw.expovariate(100), None),
                                ("page", draw.expovariate(100), draw.choice((None, "reset"))),
                                ("has body", None, draw.random() < 0.8)))
        roll = draw.random()
        if roll < 0.12:
            error = draw.choice(KINDS)
            detail = draw.choice((None, "refused", f"Traceback (most recent call last):\n  x\n{error}: boom"))
            outcome = Outcome(error=error, detail=detail, stale=draw.random() < 0.3, connected=connected)
        else:
            status = draw.choice((200, 200, 200, 204, 301, 404, 429, 500, 503))
            decoded = draw.choice((None, None, draw.randrange(0, 9000), -1))
            outcome = Outcome(status, draw.randrange(0, 70_000), protocol=draw.choice(("HTTP/1.1", "HTTP/2", None)),
                              connected=connected, phases=phases, decoded=decoded, elsewhere=draw.random() < 0.05,
                              answer=((("content-type", "text/html"),), b"<html>ok</html>"))
        # Latencies from 0 to past the histograms' hour, most of them short.
        took = draw.choice((draw.expovariate(300), draw.expovariate(3), 0.0, 4000.0))
        yield op, outcome, took, EPOCH + index * 0.013


def run(seed: int, count: int = 3000) -> dict:
    closed, opened = Stats(epoch=EPOCH), Stats(epoch=EPOCH, open_model=True)
    halves = (Stats(epoch=EPOCH), Stats(epoch=EPOCH))
    policies = (Policy(30.0, retries=2, seed=seed),
                Policy(30.0, ok_status=((200, 299), (404, 404)), checks=parse_checks(("status == 200",))))
    for op, outcome, took, wall in outcomes(seed, count):
        policy = policies[op.index % 2]
        attempt = policy.begin(op, 100.0 + op.index * 1e-3)
        verdict = policy.settle(attempt, outcome, attempt.first_s + took)
        while isinstance(verdict, Retry):  # the next attempt sees the same outcome, a little later
            verdict = policy.settle(verdict.attempt, outcome, verdict.attempt.start_s + took)
        (opened if op.due is not None else closed).add(verdict, wall)
        halves[op.index % 2].add(verdict, wall)
        if op.index == count // 2:
            halves[1].reset()
    merged = Stats(epoch=EPOCH)
    for half in halves:
        merged.merge(half)
    return {"core": speedups.describe(),
            **{name: {"wire": stats.to_wire(), "counts": stats.counts.describe(), "latency_ms": stats.latency_ms(),
                      "phases_ms": stats.phases_ms(), "steps": stats.step_times.describe(),
                      "rows": stats.series.rows(), "checks": stats.checks,
                      "back": Stats.from_wire(json.loads(json.dumps(stats.to_wire()))).to_wire()}
               for name, stats in (("closed", closed), ("open", opened), ("merged", merged))}}


if __name__ == "__main__":
    json.dump(run(int(sys.argv[1])), sys.stdout, sort_keys=True)

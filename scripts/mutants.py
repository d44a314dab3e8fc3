#!/usr/bin/env python3
"""Tests that can fail: each mutant breaks loadtool the way a regression would, in a scratch
copy of the tree, and runs the tests that promise to catch it. A mutant the tests let pass
is a test that cannot fail.

    python scripts/mutants.py [--only NAME] [--keep]

For each mutant: copy loadtool/ and tests/ (with setup.cfg) to a temporary directory, replace
one piece of code (the original must be found, so a mutant cannot silently go stale), and run
pytest on the named tests there, with the copy first on PYTHONPATH (the processes the tests
start import it too). Caught = pytest failed. Writes bench-results/mutants.json; exits 1 when
any mutant survived.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    original: str
    mutated: str
    #: The tests that must fail (pytest node ids or files, relative to the tree).
    tests: tuple[str, ...]
    #: Put at the top of the file, for what the mutation needs (a module-level list).
    preamble: str = ""


MUTANTS = (
    Mutant("keep every Sample (a leak)", "loadtool/metrics/stats.py",
           "        (latency_us, ok, status, error, nbytes, service_us, attempts, detail, op, first_s, protocol,",
           "        _KEPT.append(sample)\n"
           "        (latency_us, ok, status, error, nbytes, service_us, attempts, detail, op, first_s, protocol,",
           ("tests/test_memory.py::test_peak_memory_is_flat_in_count",),
           preamble="_KEPT = []\n"),
    Mutant("the watchdog keeps every ended attempt until its deadline", "loadtool/engines/watchdog.py",
           "if self._ended > 64 and 2 * self._ended > len(self._due):", "if False:",
           ("tests/test_memory.py::test_peak_memory_is_flat_in_count[threads]",)),
    Mutant("ignore robots.txt's Crawl-delay", "loadtool/crawl/crawler.py",
           "self.frontier.slow_down(name, delay_s)", "pass",
           ("tests/test_crawl.py::test_robots_crawl_delay_spaces_a_hosts_pages_as_the_server_sees_them",)),
    Mutant("ignore --per-host and --host-rate in a crawl", "loadtool/crawl/__init__.py",
           "frontier = Frontier(fetch.per_host, fetch.host_rate)", "frontier = Frontier(None, None)",
           ("tests/test_crawl.py::test_per_host_limits_are_kept_as_the_server_sees_them",)),
    Mutant("requests drops the body", "loadtool/engines/requests.py",
           "session.request(method, url, data=body,", "session.request(method, url, data=None,",
           ("tests/test_fetch.py::test_method_headers_and_body_reach_the_server",)),
    Mutant("aiohttp drops the body", "loadtool/engines/aiohttp.py",
           '"data": body,', '"data": None,',
           ("tests/test_fetch.py::test_method_headers_and_body_reach_the_server",)),
    Mutant("the fast engine drops the body", "loadtool/engines/fast.py",
           '.encode("latin-1") + body', '.encode("latin-1")',
           ("tests/test_fetch.py::test_method_headers_and_body_reach_the_server",)),
    Mutant("curl drops the body", "loadtool/engines/curl.py",
           'handle.setopt(pycurl.POSTFIELDS, body or b"")', 'handle.setopt(pycurl.POSTFIELDS, b"")',
           ("tests/test_fetch.py::test_method_headers_and_body_reach_the_server",)),
    Mutant("a crawl ignores <base href>", "loadtool/crawl/urls.py",
           'if base is None and (href := element.get("href")):', 'if False:',
           ("tests/test_real_web.py::test_links_are_followed_where_a_browser_goes_and_each_resource_once",)),
    Mutant("the seen set keys URLs as written", "loadtool/crawl/crawler.py",
           "if not self.seen.add(canonical(url, options.sort_query)):", "if not self.seen.add(url):",
           ("tests/test_real_web.py::test_links_are_followed_where_a_browser_goes_and_each_resource_once",)),
    Mutant("rel=nofollow followed", "loadtool/crawl/urls.py",
           'if "nofollow" in rel and not follow_nofollow:', "if False:",
           ("tests/test_real_web.py::test_every_element_a_browser_navigates_by_and_nofollow_obeyed",)),
    Mutant("a crawl ignores 429", "loadtool/crawl/crawler.py",
           "if outcome.status in (429, 503) and self._limited(", "if False and self._limited(",
           ("tests/test_capacity.py::test_a_crawl_asks_no_host_faster_than_its_limit_after_its_first_429",)),
    Mutant("the plan ignores the site's capacity", "loadtool/plan/__init__.py",
           "site = measured.site_per_s_for(goal.hosts)", "site = math.inf",
           ("tests/test_capacity.py::test_the_pilot_finds_the_sites_capacity_and_caps_every_way_there",)),
    # The six changes to promised rules that passed the whole suite in round 3's review.
    Mutant("--timeout counted from each retry's own start", "loadtool/engines/policy.py",
           "left = max(attempt.first_s + self.timeout_s - now, 0.001)",
           "left = max(attempt.start_s + self.timeout_s - now, 0.001)",
           ("tests/test_conformance.py::test_the_deadline_counts_from_the_first_send_retries_included",)),
    Mutant("a crawl ignores the Retry-After value (a 429 waits 5 s)", "loadtool/crawl/crawler.py",
           "wait_s = asked_wait_s(outcome.answer[0])", "wait_s = None",
           ("tests/test_retry_after.py::test_the_crawl_waits_as_long_as_each_host_asked",)),
    Mutant("a 503 with Retry-After is not a limit in a crawl", "loadtool/crawl/crawler.py",
           "if outcome.status in (429, 503) and self._limited(", "if outcome.status in (429,) and self._limited(",
           ("tests/test_retry_after.py::test_the_crawl_waits_as_long_as_each_host_asked",)),
    Mutant("latency buckets twice as coarse", "loadtool/metrics/histograms.py",
           "shift = value_us.bit_length() - 11", "shift = value_us.bit_length() - 10",
           ("tests/test_properties.py",)),
    Mutant("--fail-if's < read as <=", "loadtool/report/thresholds.py",
           '"<": operator.lt', '"<": operator.le',
           ("tests/test_thresholds.py::test_every_operator_at_its_boundary",)),
    Mutant("--no-compression ignored", "loadtool/engines/encoding.py",
           'return ", ".join(decoders()) if compression else "identity"', 'return ", ".join(decoders())',
           ("tests/test_engines.py::test_every_engine_asks_for_gzip_unless_told_and_then_for_identity",)),
)


def scratch_copy(into: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for part in ("loadtool", "tests", "scripts"):
        shutil.copytree(ROOT / part, into / part, ignore=ignore)
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, into / name)


def mutate(tree: Path, mutant: Mutant) -> None:
    path = tree / mutant.path
    text = path.read_text()
    if text.count(mutant.original) != 1:
        raise SystemExit(f"mutant {mutant.name!r}: its original is found {text.count(mutant.original)} times in "
                         f"{mutant.path}, not once: the mutant is stale")
    text = text.replace(mutant.original, mutant.mutated)
    if mutant.preamble:
        head, sep, rest = text.partition("\nimport ")
        text = head + "\n" + mutant.preamble + sep + rest
    path.write_text(text)


def run(mutant: Mutant, keep: bool) -> dict:
    directory = Path(tempfile.mkdtemp(prefix="loadtool-mutant-"))
    try:
        scratch_copy(directory)
        mutate(directory, mutant)
        started = time.monotonic()
        env = {**os.environ, "PYTHONPATH": str(directory)}
        tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-n", "0", "-p", "no:cacheprovider",
                                *mutant.tests],
                               cwd=directory, env=env, capture_output=True, text=True, timeout=900)
        summary = (tests.stdout.strip().splitlines() or [""])[-1]
        return {"mutant": mutant.name, "file": mutant.path, "tests": list(mutant.tests),
                "caught": tests.returncode == 1, "pytest_exit": tests.returncode, "summary": summary,
                "seconds": round(time.monotonic() - started, 1)}
    finally:
        if keep:
            print(f"  kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run the mutants whose name contains this")
    parser.add_argument("--keep", action="store_true", help="keep each scratch tree, to look at")
    args = parser.parse_args()
    chosen = [mutant for mutant in MUTANTS if not args.only or args.only in mutant.name]
    outcomes = []
    for mutant in chosen:
        outcome = run(mutant, args.keep)
        outcomes.append(outcome)
        verdict = "caught" if outcome["caught"] else f"SURVIVED (pytest exit {outcome['pytest_exit']})"
        print(f"{verdict:>8}  {mutant.name}  ({outcome['summary']}, {outcome['seconds']}s)")
    survivors = [outcome["mutant"] for outcome in outcomes if not outcome["caught"]]
    write("mutants", {"mutants": outcomes, "survivors": survivors})
    sys.exit(1 if survivors else 0)


if __name__ == "__main__":
    main()

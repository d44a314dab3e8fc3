"""The real web, as crawls and fetches meet it: the fixture's hostile web (RFC 9309's robots.txt
cases, sitemap loops and bombs, a URL trap, a MIME type in capitals), compression bombs,
and the frontier's memory against URLs that grow."""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.request
import uuid
from collections import Counter
from typing import NamedTuple
from urllib.parse import unquote

import pytest

from loadtool.crawl import Frontier, robots
from loadtool.crawl.crawler import MAX_URL_LENGTH
from loadtool.server.hostile import TRAP_STEP
from loadtool.system import run_measuring_peak

STRATEGIES = ["async", "threads", "hybrid", "processes"]


def hits(server, run: str, queries: bool = False) -> Counter:
    """What the server answered for a run, by path (percent-escapes decoded, so one resource
    written two ways counts twice under one key), with the run's own query dropped."""
    with urllib.request.urlopen(f"{server.base_url}/web/hits?match=run={run}", timeout=10) as answer:
        counted = Counter()
        for path_qs, n in json.loads(answer.read()).items():
            path, _, query = path_qs.partition("?")
            query = "&".join(part for part in query.split("&") if not part.startswith(("count=", "run=")))
            counted[unquote(path) + (f"?{query}" if queries and query else "")] += n
        return counted


#: What a browser reaches from host 9's page: its <base href>, one URL written three ways, a refresh.
BROWSER_9 = {"/hostile/9/robots.txt", "/hostile/9/page/0", "/hostile/9/b/x", "/hostile/9/c/~user",
             "/hostile/9/d/refreshed"}
#: From host 10's page: <link rel=next|alternate>, <area>, <iframe>, <frame>s, a page whose robots
#: directives are for another crawler; not the stylesheet, icon and image, nor what nofollow hides.
BROWSER_10 = {f"/hostile/10/{path}" for path in (
    "robots.txt", "page/0", "page/1", "de", "area", "framed", "frames", "left", "right", "robots-meta",
    "robots-header", "robots-other", "shown", "order")}
NOFOLLOWED_10 = {"/hostile/10/nofollowed", "/hostile/10/hidden-by-meta", "/hostile/10/hidden-by-header"}


def expected(base_url: str, query: str) -> set[str]:
    """What a crawl of the hostile web from /hostile/0/page/0 with --sitemaps must fetch: every
    host's robots.txt (4's redirect to the real one too); no page of hosts 1-3 (robots.txt 5xx
    or unreachable: complete disallow); 4's pages but its private one; 5's linked page, though
    its pages say TEXT/HTML; 6's sitemaps once each and the pages they list; 7's bomb and the two
    pages it lists before its gigabyte of whitespace; 8's trap levels while their URLs fit; 9's and
    10's links as a browser follows them."""
    paths = {f"/hostile/{h}/robots.txt" for h in range(9)} | {"/hostile/4/robots-real.txt"} | BROWSER_9 | BROWSER_10
    paths |= {"/hostile/0/page/0", "/hostile/4/page/0", "/hostile/4/page/1", "/hostile/5/page/0", "/hostile/5/page/1"}
    paths |= {"/hostile/6/sitemap-index.xml", "/hostile/6/sitemap.xml.gz", "/hostile/7/bomb.xml.gz"}
    paths |= {f"/hostile/{h}/page/{i}" for h in (6, 7) for i in range(3)} | {"/hostile/8/page/0"}
    level = 1
    while len(f"{base_url}/hostile/8/trap/{'x' * TRAP_STEP * level}{query}") <= MAX_URL_LENGTH:
        paths.add(f"/hostile/8/trap/{'x' * TRAP_STEP * level}")
        level += 1
    return paths


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_crawl_of_the_hostile_web_fetches_what_a_careful_crawler_would(loadtool_cli, server, strategy):
    run = uuid.uuid4().hex
    query = f"?count=1&run={run}"
    out = loadtool_cli("crawl", f"/hostile/0/page/0{query}", "--server", server.base_url, "-s", strategy,
                       "--sitemaps", "--timeout", "1s", "--format", "json")
    assert out.exit_code == 0, out.stderr
    counted, crawl = hits(server, run), out.json()["details"]["crawl"]
    assert {path: n for path, n in counted.items() if n != 1 and path != "/hostile/10/order"} == {}  # each once
    assert counted["/hostile/10/order"] == 2  # its query in two orders: two pages unless --sort-query
    assert set(counted) == expected(server.base_url, query)
    assert crawl["hosts_held_back"] == {"robots.txt answered 500": 1, "robots.txt answered 503": 1,
                                        "robots.txt unreachable (read_timeout)": 1}
    assert crawl["robots_held_back"] == 3 and crawl["robots_blocked"] == 1 and crawl["sitemaps_repeated"] == 2
    assert crawl["too_long"] == 1 and out.json()["compressed"] > 0


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_robots_txt_that_begins_with_a_byte_order_mark_is_obeyed(loadtool_cli, server, strategy):
    run = uuid.uuid4().hex
    out = loadtool_cli("crawl", f"/hostile/12/page/0?count=1&run={run}", "--server", server.base_url, "-s", strategy,
                       "-q")
    assert out.exit_code == 0, out.stderr
    assert set(hits(server, run)) == {"/hostile/12/robots.txt", "/hostile/12/page/0", "/hostile/12/page/1"}


#: What a run may take past its --duration and --grace: the interpreter's start and the
#: report, on a loaded machine.
SLACK_S = 10.0


@pytest.mark.parametrize("args, says", [
    (["crawl", "/hostile/11/page/0"], "robots.txt of 1 host asked for a Crawl-delay over 1m00s, taken as 1m00s"),
    (["crawl", "/hostile/13/page/0"], "answered 429 (or 503 with Retry-After) 1 times"),
    (["fetch", "/hostile/13/page/0", "--retry-after", "-c", "1"], "the longest for 277777h47m, taken as 10m00s"),
], ids=["crawl-delay", "crawl-retry-after", "fetch-retry-after"])
def test_a_wait_asked_for_a_billion_seconds_ends_with_the_run_and_is_said(server, args, says):
    """robots.txt's Crawl-delay and a 429's Retry-After of 10^9 s: capped, said in the report,
    and never past the run's --duration and --grace."""
    import subprocess
    import time

    duration_s, grace_s = 2, 1
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "loadtool", *args, "--server", server.base_url, "-n", "20",
                          "-d", f"{duration_s}s", "--grace", f"{grace_s}s"], capture_output=True, text=True,
                         timeout=duration_s + grace_s + 60)
    assert time.monotonic() - started < duration_s + grace_s + SLACK_S
    assert says in " ".join(run.stdout.split()), run.stdout


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_links_are_followed_where_a_browser_goes_and_each_resource_once(loadtool_cli, server, strategy):
    """Host 9's page: <base href="/hostile/9/b/"> makes x /hostile/9/b/x; HTTP://HOST/…/%7euser and
    /…/%7Euser are one URL, /hostile/9/c/~user, fetched once; the meta refresh is followed."""
    run = uuid.uuid4().hex
    out = loadtool_cli("crawl", f"/hostile/9/page/0?count=1&run={run}", "--server", server.base_url, "-s", strategy,
                       "--format", "json")
    assert out.exit_code == 0, out.stderr
    assert hits(server, run) == dict.fromkeys(BROWSER_9, 1)
    assert out.json()["details"]["crawl"]["duplicates"] == 1


def test_every_element_a_browser_navigates_by_and_nofollow_obeyed(loadtool_cli, server):
    run = uuid.uuid4().hex
    out = loadtool_cli("crawl", f"/hostile/10/page/0?count=1&run={run}", "--server", server.base_url, "--format", "json")
    assert out.exit_code == 0, out.stderr
    counted = hits(server, run, queries=True)
    order = {"/hostile/10/order?a=1&b=2", "/hostile/10/order?b=2&a=1"}
    assert counted == dict.fromkeys(BROWSER_10 - {"/hostile/10/order"} | order, 1)
    assert out.json()["details"]["crawl"]["nofollow"] == 3


def test_follow_nofollow_and_sort_query_do_as_they_say(loadtool_cli, server):
    run = uuid.uuid4().hex
    out = loadtool_cli("crawl", f"/hostile/10/page/0?count=1&run={run}", "--server", server.base_url,
                       "--follow-nofollow", "--sort-query", "--format", "json")
    assert out.exit_code == 0, out.stderr
    assert hits(server, run) == dict.fromkeys(BROWSER_10 | NOFOLLOWED_10, 1)  # one order of the query, fetched once
    assert out.json()["details"]["crawl"]["nofollow"] == 0


def test_the_report_says_which_hosts_were_held_back_and_why(loadtool_cli, server):
    out = loadtool_cli("crawl", "/hostile/0/page/0", "--server", server.base_url, "--timeout", "1s")
    assert "held back" in out.stdout and "robots.txt answered 503" in out.stdout


def test_a_sitemap_bomb_costs_no_memory(server):
    """1 MB of gzip that inflates to 1 GB: the crawl reads the protocol's 50 MB of it at most,
    as it streams, and its two real pages are queued."""
    code, out, err, peak_kib = run_measuring_peak(
        [sys.executable, "-m", "loadtool", "crawl", "/hostile/7/page/0", "--server", server.base_url, "--sitemaps",
         "--same-host", "--format", "json", "--no-progress"], timeout_s=120)
    assert code == 0, err
    assert json.loads(out)["ops"] == 3 and peak_kib < 150 * 1024, peak_kib


@pytest.mark.parametrize("args", [("-e", "aiohttp"), ("-e", "fast"), ("-e", "curl"), ("-s", "threads")],
                         ids=["aiohttp", "fast", "curl", "requests"])
def test_a_gzip_bomb_is_too_large_and_costs_no_memory(server, args):
    """10 MB on the wire that decode to 10 GB: decoded as it streams, stopped at --max-decoded
    (256 MiB), counted as too_large; the client's memory does not follow the bomb."""
    code, out, err, peak_kib = run_measuring_peak(
        [sys.executable, "-m", "loadtool", "fetch", f"{server.base_url}/fault/gzip-bomb", "-n", "2", "-c", "2", *args,
         "--format", "json", "--no-progress"], timeout_s=120)
    assert code == 3 and json.loads(out)["errors"] == {"too_large": 2}, err
    assert peak_kib < 150 * 1024, peak_kib


class _Answer(NamedTuple):
    status: int | None = None
    answer: tuple | None = None
    error: str | None = None


def _rules(*answers: _Answer):
    """What read_rules makes of a host whose robots.txt answers these, in turn (redirects)."""
    asked = []

    async def fetch_one(url):
        asked.append(url)
        return answers[len(asked) - 1]

    rules = asyncio.run(robots.read_rules(fetch_one, "http://h.example/a/page?session=abc", now=lambda: 100.0))
    return rules, asked


def _found(location: str) -> _Answer:
    return _Answer(301, ((("location", location),), b""))


def test_robots_txt_as_rfc_9309_reads_it():
    allow, asked = _rules(_Answer(404, ((), b"")))
    assert allow is False and robots.allows(allow, "http://h.example/x") and asked == ["http://h.example/robots.txt"]
    for status in (500, 503):
        held, _ = _rules(_Answer(status, ((), b"")))
        assert held == robots.HeldBack(f"robots.txt answered {status}", 100.0 + robots.RETRY_S)
        assert not robots.allows(held, "http://h.example/x")
    held, _ = _rules(_Answer(error="read_timeout"))
    assert held.reason == "robots.txt unreachable (read_timeout)"
    hops = [_found(f"/robots-{n}.txt") for n in range(5)] + [_Answer(200, ((), b"User-agent: *\nDisallow: /x\n"))]
    rules, asked = _rules(*hops)
    assert asked[-1] == "http://h.example/robots-4.txt" and not robots.allows(rules, "http://h.example/x/1")
    too_many, _ = _rules(*[_found(f"/robots-{n}.txt") for n in range(6)])
    assert too_many is False  # more than five redirects: unavailable, crawl freely
    padded = b"User-agent: *\n" + b"# padding\n" * (robots.MAX_BYTES // 10) + b"Disallow: /late\n"
    rules, _ = _rules(_Answer(200, ((), padded)))
    assert robots.allows(rules, "http://h.example/late")  # past 500 KiB: not read


FRONTIER = """
import asyncio, sys
from loadtool.crawl import Frontier
async def main(length):
    frontier = Frontier(None, None)
    for n in range(20_000):
        frontier.put(f"http://h{n % 50}.example/page?q={n}&pad={'x' * length}", 2)
    assert await frontier.take()
    frontier.close()
asyncio.run(main(int(sys.argv[1])))
"""


def test_the_frontier_holds_long_urls_in_the_memory_of_short_ones():
    """Bounded in bytes, not URLs: 20,000 URLs of 10 KB (a trap whose query grows) take about
    the memory of 20,000 short ones; counted in URLs, 10,000 of them stayed in memory (100 MB)."""
    peaks = []
    for length in (10, 10_000):
        code, _, err, peak = run_measuring_peak([sys.executable, "-c", FRONTIER, str(length)], timeout_s=120)
        assert code == 0, err
        peaks.append(peak)
    assert peaks[1] <= peaks[0] + 20 * 1024, peaks


def test_a_frontier_spills_and_refills_in_order_by_bytes():
    async def drain():
        frontier = Frontier(None, None, in_memory=2_000)
        for n in range(40):
            frontier.put(f"http://h.example/{n:02d}-" + "x" * 50, 0)
        order = []
        while (taken := await frontier.take()) is not None:
            order.append(taken[0].split("/")[-1][:2])
            frontier.done(taken[2])
        frontier.close()
        return order

    assert asyncio.run(drain()) == [f"{n:02d}" for n in range(40)]

"""loadtool crawl: the fixture web's graph, robots.txt obeyed, each URL fetched at most once,
the set a crawl reaches known in advance, a user's parser measured, memory bounded."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import pickle
import sys
import subprocess
import urllib.request
import uuid
from importlib.resources import files

import jsonschema
import pytest

from loadtool.options import DEFAULTS
from loadtool.units import parse_duration

from loadtool.crawl import Frontier, Links, Seen, canonical, links_of, normalize, robots_url
from loadtool.server.web import links
from loadtool.system import run_measuring_peak

#: What a page that never ends would hold a run for, without a deadline.
DEFAULT_TIMEOUT_S = parse_duration(DEFAULTS["timeout"])


def reachable(hosts: int, pages: int, seed: int = 0) -> tuple[set[str], set[int]]:
    """Every path a full crawl from /web/0/page/0 must fetch, and the hosts it meets,
    worked out from the graph itself: pages, 404s, images and redirects — the redirect's
    target page too — but never a page under /private/, which robots.txt disallows."""
    fetched, todo, met = set(), [(0, 0)], set()
    while todo:
        h, i = todo.pop()
        page = f"/web/{h}/page/{i}"
        if page in fetched:
            continue
        fetched.add(page)
        met.add(h)
        for link in links(seed, hosts, pages, h, i):
            if "/private/" in link.path:
                continue
            if "/page/" in link.path:
                todo.append(tuple(int(part) for part in link.path.split("/")[2::2]))
                continue
            fetched.add(link.path)
            if "/moved/" in link.path:
                todo.append((h, int(link.path.rsplit("/", 1)[1])))
    return fetched, met


def hits(server, run: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{server.base_url}/web/hits?match=run={run}", timeout=10) as answer:
        return {path.split("?", 1)[0]: n for path, n in json.loads(answer.read()).items()}


# Host 3 has a Crawl-delay of 50 ms: 30 of its pages take 1.5 s at least.
@pytest.mark.parametrize("strategy, hosts, pages", [("async", 4, 30), ("hybrid", 3, 40), ("threads", 3, 30),
                                                   ("processes", 5, 30)])
def test_a_full_crawl_reaches_the_known_set_obeys_robots_and_fetches_each_url_once(loadtool_cli, server, strategy,
                                                                                  hosts, pages):
    run = uuid.uuid4().hex  # this test's own requests, on the shared server
    query = f"hosts={hosts}&pages={pages}&count=1&run={run}"
    out = loadtool_cli("crawl", f"/web/0/page/0?{query}", "--server", server.base_url, "-n", "100000",
                       "-s", strategy, "--format", "json")
    assert out.exit_code == 0, out.stderr
    counted = hits(server, run)
    expected, met = reachable(hosts, pages)
    assert {path: n for path, n in counted.items() if n != 1} == {}  # at most once each
    assert not [path for path in counted if "/private/" in path]  # robots.txt obeyed
    assert {path for path in counted if not path.endswith("robots.txt")} == expected
    assert {path for path in counted if path.endswith("robots.txt")} == {f"/web/{h}/robots.txt" for h in met}
    data = out.json()
    jsonschema.validate(data, json.loads(files("loadtool").joinpath("schema.json").read_text()))  # fields only added
    assert data["ops"] == len(expected) and data["details"]["crawl"]["frontier_left"] == 0
    assert data["details"]["crawl"]["robots_blocked"] > 0 and data["details"]["crawl"]["duplicates"] > 0


def test_ignore_robots_fetches_what_robots_disallows(loadtool_cli, server):
    run = uuid.uuid4().hex
    loadtool_cli("crawl", f"/web/0/page/0?hosts=2&pages=30&count=1&run={run}", "--server", server.base_url,
                 "-n", "100000", "--ignore-robots", "-q")
    counted = hits(server, run)
    assert any("/private/" in path for path in counted) and not any("robots.txt" in path for path in counted)


def test_limits_hold(loadtool_cli, server):
    out = loadtool_cli("crawl", "--server", server.base_url, "-n", "60", "--same-host", "--format", "json")
    data = out.json()
    assert data["ops"] == 60
    assert list(data["details"]["crawl"]["top_hosts"]) == [f"{server.base_url.split('://')[1]}/web/0"]
    shallow = loadtool_cli("crawl", "/web/0/page/0?hosts=4&pages=40", "--server", server.base_url, "-n", "1000",
                           "--max-depth", "0", "--format", "json").json()
    assert shallow["ops"] == 1 and shallow["details"]["crawl"]["too_deep"] >= 2


def test_a_users_parser_runs_on_every_page_and_its_cpu_is_measured(loadtool_cli, server, tmp_path):
    parser = tmp_path / "myparser.py"
    parser.write_text("import time\n"
                      "def parse(url, status, headers, body):\n"
                      "    end = time.thread_time() + 0.003\n"
                      "    while time.thread_time() < end:\n"
                      "        pass\n")
    args = ("crawl", "/web/0/page/0?hosts=4&pages=40", "--server", server.base_url, "-n", "30", "--format", "json")
    bare = loadtool_cli(*args).json()["details"]["crawl"]["parse_cpu_ms"]
    parsed = loadtool_cli(*args, "--parse", f"{parser}:parse").json()["details"]["crawl"]["parse_cpu_ms"]
    assert parsed["p50"] >= 3 * bare["p50"]
    # In hybrid, the parser runs in the worker processes, and its CPU is measured there.
    hybrid = loadtool_cli(*args, "-s", "hybrid", "-p", "1", "--parse", f"{parser}:parse").json()
    assert hybrid["strategy"] == "hybrid" and hybrid["details"]["crawl"]["parse_cpu_ms"]["p50"] >= 3 * bare["p50"]
    spread = loadtool_cli(*args, "-s", "processes", "--parse", f"{parser}:parse").json()
    assert spread["strategy"] == "processes" and spread["details"]["crawl"]["parse_cpu_ms"]["p50"] >= 3 * bare["p50"]
    out = loadtool_cli(*args[:-2], "--parse", f"{parser}:nothing")
    assert out.exit_code == 2 and "has no function nothing" in out.stderr


@pytest.mark.parametrize("base, href, url", [
    ("http://Example.ORG:80/a/b", "c?x=1#frag", "http://example.org/a/c?x=1"),
    ("https://example.org/a/", "../b", "https://example.org/b"),
    ("https://example.org:8443/", "//other.example.org", "https://other.example.org/"),
    ("http://example.org/", "mailto:a@example.org", None),
    ("http://example.org/", "javascript:void(0)", None),
    ("http://example.org/", "http://[::1]:8080/x", "http://[::1]:8080/x"),
    ("http://example.org/", "http://bad:port/", None),
    ("http://example.org/", "http://BÜCHER.example/x", "http://xn--bcher-kva.example/x"),  # IDN: punycode
])
def test_urls_are_normalized(base, href, url):
    assert normalize(base, href) == url


@pytest.mark.parametrize("forms", [
    ("http://h.example/c/~user", "http://h.example/c/%7euser", "http://h.example/c/%7Euser"),  # unreserved
    ("http://h.example/a%2Fb", "http://h.example/a%2fb"),  # escapes in one case, reserved ones kept
    ("http://h.example/a?q=%C3%A9", "http://h.example/a?q=%c3%a9", "http://h.example/a?q=é"),  # UTF-8
    ("http://h.example/a", "http://h.example/a?", "http://h.example/b/../a", "http://h.example/./a"),
])
def test_one_resource_has_one_canonical_url(forms):
    assert len({canonical(url) for url in forms}) == 1, [canonical(url) for url in forms]


def test_the_query_order_counts_unless_asked():
    assert canonical("http://h.example/a?b=2&a=1") != canonical("http://h.example/a?a=1&b=2")
    assert canonical("http://h.example/a?b=2&a=1", sort_query=True) == canonical("http://h.example/a?a=1&b=2", True)
    assert canonical("http://h.example/a?a=1%2Fb") != canonical("http://h.example/a?a=1/b")  # reserved: may differ


def test_links_are_read_as_a_browser_reads_them():
    page = (b'<html><head><base href="/b/"><meta http-equiv="refresh" content="5;URL=\'/later\'">'
            b'<link rel="stylesheet" href="s.css"><link rel="next" href="2"><link rel="alternate stylesheet" href="t.css">'
            b'</head><body><a href="x">x</a><a rel="nofollow" href="n">n</a><map><area href="m"></map>'
            b'<iframe src="f"></iframe><img src="i.png"><script src="j.js"></script></body></html>')
    links = links_of(page, "http://h.example/a/page")
    assert links == Links("http://h.example/b/", ["2", "x", "m", "f"], "/later", 1)
    assert links_of(page, "http://h.example/a/page", follow_nofollow=True).hrefs == ["2", "x", "n", "m", "f"]
    for headers in ({"x-robots-tag": "noindex, nofollow"}, {"x-robots-tag": "none"}, {"x-robots-tag": "loadtool: nofollow"}):
        assert links_of(page, "http://h.example/", headers).hrefs == [], headers
    assert links_of(page, "http://h.example/", {"x-robots-tag": "otherbot: nofollow"}).hrefs
    assert links_of(b'<meta name="ROBOTS" content="NoFollow"><a href="x">', "http://h.example/").nofollow == 1


def test_robots_txt_is_read_as_rfc_9309_says_in_process():
    """read_rules over a made-up fetch, on a made-up clock: a 2xx's rules from its first
    500 KiB (a byte order mark hides no rule), redirects followed five times and no more,
    a 4xx as no rules, a 5xx or no answer as the host held back a minute, Crawl-delay as asked."""
    import asyncio

    from loadtool.crawl.robots import MAX_BYTES, HeldBack, allows, crawl_delay_s, read_rules
    from loadtool.engines.policy import Outcome

    def site(*answers):
        asked = []

        async def fetch_one(url):
            asked.append(url)
            return answers[min(len(asked), len(answers)) - 1]
        return fetch_one, asked

    def read(*answers):
        fetch_one, asked = site(*answers)
        return asyncio.run(read_rules(fetch_one, "http://h.example/a/b?q=1", now=lambda: 1000.0)), asked

    def ok(text: bytes, status=200):
        return Outcome(status=status, answer=((), text))

    rules, asked = read(ok(b"\xef\xbb\xbfUser-agent: *\nDisallow: /private/\nCrawl-delay: 2.5\n"))
    assert asked == ["http://h.example/robots.txt"]
    assert [allows(rules, f"http://h.example{path}") for path in ("/private/x", "/public")] == [False, True]
    assert crawl_delay_s(rules) == 2.5
    late = read(ok(b"User-agent: *\n#" + b"x" * (MAX_BYTES - 30) + b"\nDisallow: /a\nDisallow: /b" + b"\n" * 40))[0]
    assert [allows(late, f"http://h.example/{path}") for path in ("a", "b")] == [False, True]  # /b past 500 KiB
    moved = Outcome(status=301, answer=((("location", "/elsewhere/robots.txt"),), b""))
    rules, asked = read(moved, ok(b"User-agent: *\nDisallow: /\n"))
    assert asked == ["http://h.example/robots.txt", "http://h.example/elsewhere/robots.txt"]
    assert not allows(rules, "http://h.example/x") and crawl_delay_s(rules) == 0.0
    five = read(*[moved] * 5, ok(b"User-agent: *\nDisallow: /\n"))[0]
    assert not allows(five, "http://h.example/x")  # the fifth redirect is followed
    six, asked = read(*[moved] * 6, ok(b"User-agent: *\nDisallow: /\n"))
    assert (six, len(asked)) == (False, 6)  # the sixth is not: unavailable, crawled freely
    assert read(Outcome(status=302, answer=((), b"")))[0] is False  # a redirect to nowhere
    for status in (400, 404, 403, 499):
        assert read(ok(b"User-agent: *\nDisallow: /\n", status))[0] is False
    bad_request = Outcome(status=400, answer=((("location", "/elsewhere/robots.txt"),), b""))
    assert read(bad_request, ok(b"User-agent: *\nDisallow: /\n"))[1] == ["http://h.example/robots.txt"]  # a 4xx
    choices = Outcome(status=300, answer=((("location", "/elsewhere/robots.txt"),), b""))
    assert len(read(choices, ok(b"User-agent: *\nDisallow: /\n"))[1]) == 2  # 300 is a redirect too
    broken = read(ok(b"User-agent: *\n# caf\xe9 \xff\nDisallow: /private/\n"))[0]  # not UTF-8: replaced
    assert not allows(broken, "http://h.example/private/x")
    held = read(ok(b"", 503))[0]
    assert held == HeldBack("robots.txt answered 503", 1060.0) and not allows(held, "http://h.example/x")
    assert read(ok(b"", 500))[0].reason == "robots.txt answered 500"
    assert read(Outcome(error="reset"))[0] == HeldBack("robots.txt unreachable (reset)", 1060.0)
    refused = read(Outcome(error=ConnectionRefusedError(111, "Connection refused")))[0]
    assert refused.reason == "robots.txt unreachable (connect_refused)" and crawl_delay_s(refused) == 0.0
    assert allows(False, "http://h.example/x") and crawl_delay_s(False) == 0.0


def test_robots_txt_is_the_hosts_own():
    assert robots_url("http://example.org/a/b?q=secret&session=abc") == "http://example.org/robots.txt"  # RFC 9309
    assert robots_url("https://example.org:8443/x") == "https://example.org:8443/robots.txt"
    assert robots_url("http://127.0.0.1:8080/web/3/page/7?hosts=4") == "http://127.0.0.1:8080/web/3/robots.txt?hosts=4"
    assert links_of(b"<html><a href='/x'>x</a><a>none</a><a href='y'>y</a></html>", "http://h/").hrefs == ["/x", "y"]
    assert links_of(b"", "http://h/").hrefs == []


def test_seen_switches_to_bloom_filters_and_still_drops_duplicates():
    seen = Seen(exact=100, capacity=500)
    urls = [f"http://h/{n}" for n in range(2000)]
    assert all(seen.add(url) for url in urls)
    assert not seen.exact and not any(seen.add(url) for url in urls)


MEMORY = """
import asyncio, sys
from loadtool.crawl import Frontier, Seen
async def main(count):
    seen, frontier = Seen(exact=1000, capacity=200_000), Frontier(None, None, in_memory=95_000)
    for n in range(count):
        url = f"http://127.0.0.1:8080/web/{n % 16}/page/{n * 7919 % 10**7}?hosts=16&pages=10000000"
        if seen.add(url):
            frontier.put(url, 2)
    taken = [await frontier.take() for _ in range(10)]
    assert all(taken) and frontier.queued == count - 10
    frontier.close()
asyncio.run(main(int(sys.argv[1])))
"""


def peak_kib(script: str, count: int) -> int:
    """The peak memory of ``script`` run on ``count``, measured from outside it."""
    code, _, err, peak = run_measuring_peak([sys.executable, "-c", script, str(count)], timeout_s=120)
    assert code == 0, err
    return peak


def test_the_frontier_and_the_seen_set_hold_memory_flat():
    """10^5 URLs discovered take the memory of 10^3: the frontier keeps 95 KB (500 URLs) in memory and the
    rest on disk; the seen set is a Bloom filter past 1,000."""
    peaks = [peak_kib(MEMORY, count) for count in (1_000, 100_000)]
    assert peaks[1] <= 1.5 * peaks[0], peaks


HOSTS_MEMORY = """
import asyncio, sys
from protego import Protego
from loadtool.crawl import Frontier
async def main(hosts):
    frontier = Frontier(None, None, hosts=1000)
    for n in range(hosts):
        frontier.put(f"http://h{n}.example/page", 1)
        url, depth, name = await frontier.take()
        frontier.host(name).robots = Protego.parse("User-agent: *\\nDisallow: /private/\\n")
        frontier.done(name)
asyncio.run(main(int(sys.argv[1])))
"""


def test_memory_stays_flat_over_many_hosts():
    """120,000 hosts met, each with its robots.txt parsed, take the memory of 30,000: the
    frontier remembers 1,000 here and forgets the idle rest. (The first 30,000 or so grow the
    allocator's heap to a plateau — 28 MB at 2,000 hosts, 38.5 MB from 30,000 on, measured
    from outside — with no object kept; remembering every host would take 2.5 KB each.)"""
    peaks = [peak_kib(HOSTS_MEMORY, count) for count in (30_000, 120_000)]
    assert peaks[1] <= 1.15 * peaks[0], peaks


def test_the_frontier_hands_out_hosts_fairly_and_spills_to_disk():
    import asyncio

    async def drain():
        frontier = Frontier(per_host=1, host_rate=None, in_memory=1_350)
        for n in range(30):
            frontier.put(f"http://127.0.0.1/web/{n % 3}/page/{n}", 0)
        order = []
        while (taken := await frontier.take()) is not None:
            order.append(taken[2])
            frontier.done(taken[2])
        frontier.close()
        return order

    order = asyncio.run(drain())
    assert len(order) == 30 and {order.count(host) for host in set(order)} == {10}
    assert len(set(order[:3])) == 3  # one page of each host before a second of any


def test_compare_crawl_runs_the_strategies_side_by_side(loadtool_cli, server):
    out = loadtool_cli("compare", "--crawl", "/web/0/page/0?hosts=4&pages=40", "--server", server.base_url,
                       "-n", "40", "--format", "json")
    assert out.exit_code == 0, out.stderr
    runs = out.json()
    assert [run["strategy"] for run in runs] == ["threads", "async", "processes", "hybrid"]
    assert all(run["ops"] == 40 and "crawl" in run["details"] for run in runs)
    table = loadtool_cli("compare", "--crawl", "/web/0/page/0?hosts=4&pages=40", "--server", server.base_url,
                         "-n", "20", "--strategies", "async,processes").stdout
    assert table.startswith("loadtool compare · crawl · 20 pages each")
    wrong = loadtool_cli("compare", "--crawl", "--strategies", "async,sequential")
    assert wrong.exit_code == 2 and "threads, async, processes, hybrid, cluster" in wrong.stderr


def test_plan_crawl_sizes_the_job_with_the_cpu_a_page_costs(loadtool_cli, server):
    out = loadtool_cli("plan", "--crawl", f"{server.base_url}/web/0/page/0", "--pages", "1M", "--pilot", "2s",
                       "--format", "json")
    assert out.exit_code == 0, out.stderr
    plan = out.json()
    assert {option["strategy"] for option in plan["options"]} == {"async", "processes", "hybrid"}
    assert plan["measured"]["crawl"]["links_per_page"] > 1
    assert any("links a page" in line for line in plan["assumptions"])
    assert loadtool_cli("plan", "--pages", "10", "--parse", "x:y").exit_code == 2  # --parse needs --crawl


def test_a_hosts_interval_spaces_its_pages_and_other_hosts_go_on_meanwhile():
    """robots.txt's Crawl-delay (or --host-rate) as the frontier keeps it, on a made-up clock."""
    frontier = Frontier(per_host=None, host_rate=None)
    slow, fast = "http://127.0.0.1/web/3/page/", "http://127.0.0.1/web/0/page/"
    for n in range(3):
        frontier.put(f"{slow}{n}", 0)
        frontier.put(f"{fast}{n}", 0)
    frontier.slow_down("127.0.0.1/web/3", 0.05)
    first = frontier.poll(100.0)
    assert first[0] == f"{slow}0"
    frontier.done(first[2])
    # At 100.01 the slow host must wait; the other host is served.
    assert [frontier.poll(100.01)[0] for _ in range(3)] == [f"{fast}{n}" for n in range(3)]
    assert frontier.poll(100.04) is None
    assert frontier.poll(100.05)[0] == f"{slow}1"
    frontier.close()


class _Pipe:
    """A hub's writer to one partition: what it was sent, decoded."""

    def __init__(self) -> None:
        self.messages = []

    def write(self, data: bytes) -> None:
        self.messages.append(pickle.loads(data[4:]))

    def is_closing(self) -> bool:
        return False


def _hub(partitions: int, seeds: list[str], count: int | None = None):
    from loadtool.crawl.hub import Hub

    hub, pipes = Hub(partitions, seeds, count, sink=None), [_Pipe() for _ in range(partitions)]
    hub.writers = pipes
    hub._start()
    return hub, pipes


def test_the_hub_ends_a_partitioned_crawl_only_when_nothing_is_in_flight_anywhere():
    from loadtool.crawl.wire import owner

    seed = "http://127.0.0.1/web/0/page/0"
    first = owner(seed, 2)
    other = 1 - first
    hub, pipes = _hub(2, [seed])
    assert pipes[first].messages == [("links", [(seed, 0)], True)] and pipes[other].messages == []
    hub._handle(other, ("idle", 0, None))  # nothing sent to it: idle
    hub._handle(first, ("idle", 0, None))  # said before it took the seeds: not idle
    assert not hub.finished.is_set()
    hub._handle(first, ("links", other, [("http://h/x", 1)]))  # a link for the other partition ...
    hub._handle(first, ("idle", 1, None))  # ... sent before the first one went idle
    assert pipes[other].messages[-1] == ("links", [("http://h/x", 1)], False)
    assert not hub.finished.is_set()  # the other has not taken it yet
    hub._handle(other, ("idle", 1, None))
    assert hub.finished.is_set()


def test_links_for_a_lost_partition_are_dropped_not_a_traceback():
    """A partition's process killed mid-crawl: links other partitions found for its hosts
    can no longer reach it. uvloop raises on a write to a closed transport, and that error
    ended the sender's connection with a traceback on stderr (seen once in the killed-worker
    test); the hub drops them, and the loss ends the run as it should."""

    class Closed(_Pipe):
        def write(self, data: bytes) -> None:
            raise RuntimeError("unable to perform operation on <TCPTransport closed=True>; the handler is closed")

        def is_closing(self) -> bool:
            return True

    hub, pipes = _hub(2, [])
    hub.writers[1] = Closed()
    hub._handle(0, ("links", 1, [("http://h/x", 1)]))  # no exception
    hub._handle(0, ("links", 0, [("http://g/y", 1)]))
    assert pipes[0].messages[-1] == ("links", [("http://g/y", 1)], False)  # the living partition still gets its own


def test_page_numbers_are_leased_in_shrinking_ranges_never_past_max_pages():
    hub, pipes = _hub(2, [], count=100)
    leased = []
    while (lease := hub._grant()) is not None:
        leased.append(lease)
    sizes = [stop - start for start, stop in leased]
    assert sum(sizes) == 100 and leased[0][0] == 0 and all(a[1] == b[0] for a, b in zip(leased, leased[1:]))
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 1
    hub._handle(0, ("idle", 0, (40, 42)))  # given back by an idle partition: leased again
    assert hub._grant() == (40, 42) and hub._grant() is None
    assert not hub.finished.is_set()
    hub._handle(1, ("idle", 0, None))  # no seeds: both idle as soon as they say so
    assert hub.finished.is_set()


def test_a_partitioned_crawl_numbers_its_pages_once_each_and_stops_at_max_pages(loadtool_cli, server, tmp_path):
    raw = tmp_path / "raw.csv"
    out = loadtool_cli("crawl", "--server", server.base_url, "-s", "processes", "-p", "2", "-n", "300",
                       "--raw", str(raw), "--format", "json")
    assert out.exit_code == 0, out.stderr
    data = out.json()
    indices = sorted(int(row["index"]) for row in csv.DictReader(raw.open()))
    assert data["ops"] == 300 and indices == list(range(300))
    assert data["layout"]["processes"] == 2 and data["details"]["crawl"]["hosts"] >= 2


def test_a_crawl_on_a_dask_cluster_reaches_the_known_set(loadtool_cli, server):
    pytest.importorskip("distributed")
    run = uuid.uuid4().hex
    out = loadtool_cli("crawl", f"/web/0/page/0?hosts=3&pages=30&count=1&run={run}", "--server", server.base_url,
                       "-n", "100000", "-s", "cluster", "--local-cluster", "2", "--format", "json")
    assert out.exit_code == 0, out.stderr
    counted = hits(server, run)
    expected, _ = reachable(3, 30)
    assert {path: n for path, n in counted.items() if n != 1} == {}
    assert {path for path in counted if not path.endswith("robots.txt")} == expected
    assert out.json()["strategy"] == "cluster" and out.json()["ops"] == len(expected)


def test_sitemaps_named_in_robots_txt_are_read_and_their_pages_queued(loadtool_cli, server):
    run = uuid.uuid4().hex
    args = ("crawl", f"/web/0/page/0?hosts=4&pages=30&count=1&run={run}", "--server", server.base_url, "-n", "1000",
            "--same-host", "--max-depth", "1", "--format", "json")
    data = loadtool_cli(*args, "--sitemaps").json()
    counted = hits(server, run)
    # Every page of host 0 is one click from its robots.txt, through its sitemap, and fetched once.
    assert {path for path in counted if "/page/" in path} == {f"/web/0/page/{j}" for j in range(30)}
    assert counted["/web/0/sitemap.xml"] == 1 and set(counted.values()) == {1}
    assert data["details"]["crawl"]["sitemap_urls"] == 30 and data["ops"] == 30
    assert loadtool_cli(*args, "--sitemaps", "--ignore-robots").exit_code == 2


def test_sitemap_indexes_and_gzipped_sitemaps_are_read():
    import gzip

    from loadtool.crawl import sitemap_locations

    urlset = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
              b"<url><loc> http://h/a?x=1&amp;y=2 </loc></url><url><loc>http://h/b</loc></url></urlset>")
    assert sitemap_locations(urlset) == (False, ["http://h/a?x=1&y=2", "http://h/b"])
    assert sitemap_locations(gzip.compress(urlset)) == (False, ["http://h/a?x=1&y=2", "http://h/b"])
    index = (b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             b"<sitemap><loc>http://h/s1.xml</loc></sitemap></sitemapindex>")
    assert sitemap_locations(index) == (True, ["http://h/s1.xml"])
    assert sitemap_locations(b"not xml at all") == (False, [])
    assert sitemap_locations(b"\x1f\x8bbroken") == (False, [])


def test_links_of_a_page_as_its_robots_directives_and_its_elements_say():
    from loadtool.crawl.urls import Links, links_of

    def links(html: str, **options) -> Links:
        return links_of(html.encode(), "http://h/", **options)

    assert links("<a href=/a>a</a>", headers={}) == Links("http://h/", ["/a"])  # no X-Robots-Tag
    assert links("<meta http-equiv=refresh content=5><a href=/a>a</a>").refresh is None  # a delay, no URL
    two = links("<a rel=nofollow href=/a>a</a><a rel=nofollow href=/b>b</a><a href=/c>c</a>")
    assert two == Links("http://h/", ["/c"], None, 2)
    # The page's own nofollow: no links, all counted, its base and refresh kept.
    held = links("<meta http-equiv=refresh content='0; url=/next'><meta name=robots content=nofollow><a href=/a>a</a>")
    assert held == Links("http://h/", [], "/next", 1)
    based = links("<base href=http://b/><meta name=loadtool content=nofollow><a href=/a>a</a>")
    assert based == Links("http://b/", [], None, 1)
    assert links("<meta name=robots content='nofollow,noindex'><a href=/a>a</a>").hrefs == []
    assert links("<meta name=description content=none><a href=/a>a</a>").hrefs == ["/a"]  # not a robots directive
    dated = "unavailable_after: 25 Jun 2010 15:00:00 PST, nofollow"  # a directive's own colons
    assert links("<a href=/a>a</a>", headers={"x-robots-tag": dated}).hrefs == []
    assert links("<frameset><frame src=/f></frameset>").hrefs == ["/f"]
    assert links_of(b"", "http://h/") == Links("http://h/", [])  # nothing to parse


def test_canonical_query_escapes_are_one_case_and_unreserved_ones_undone():
    from loadtool.crawl.urls import canonical, normalize

    assert canonical("http://h/p?a=%7e%2f%41") == "http://h/p?a=~%2FA"
    assert canonical("http://h/p?a=1?b=%41") == "http://h/p?a=1?b=A"  # a second "?" is the query's
    assert [normalize(base, href) for base, href in [("", "http:///x"), ("http://h/", "https://:80/x")]] == [None, None]


def _urlset(*locations: str, between: bytes = b"") -> bytes:
    urls = b"".join(b"<url><loc>%s</loc></url>" % loc.encode() for loc in locations)
    return b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + urls + between + b"</urlset>"


def test_a_sitemap_stops_at_the_protocols_50000_urls():
    from loadtool.crawl import sitemap_locations

    listed = [f"http://h/{i}" for i in range(50_003)]
    index, locations = sitemap_locations(_urlset(*listed))
    assert not index and locations == listed[:50_000]
    sitemaps = b"".join(b"<sitemap><loc>http://h/%d.xml</loc></sitemap>" % i for i in range(50_001))
    index, locations = sitemap_locations(b"<sitemapindex>" + sitemaps + b"</sitemapindex>")
    assert index and len(locations) == 50_000


@pytest.mark.parametrize("packed", ["plain", "gzip"])
def test_a_sitemap_is_read_to_its_50_mb_and_no_further(packed):
    """50 MB uncompressed, as the protocol caps a file: a <loc> that ends inside them is read,
    one past them is not, gzipped or not (a bomb inflates only as far)."""
    import gzip

    from loadtool.crawl import sitemap_locations

    head = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://h/first</loc></url><!--'
    fill = 50 * 1000 * 1000 - len(head) - len(b"--><url><loc>http://h/last</loc>")  # </loc> ends at 50 MB
    for room, seen in ((fill, ["http://h/first", "http://h/last"]), (fill + 1, ["http://h/first"])):
        body = head + b" " * room + b"--><url><loc>http://h/last</loc></url></urlset>"
        assert sitemap_locations(gzip.compress(body, 1) if packed == "gzip" else body) == (False, seen)


def test_a_gzipped_sitemap_inflates_a_step_at_a_time_and_reads_every_member():
    import gzip

    from loadtool.crawl import sitemap_locations
    from loadtool.crawl.sitemaps import STEP, _pieces

    pieces = list(_pieces(gzip.compress(b" " * (3 * STEP + 5))))
    assert [len(piece) for piece in pieces] == [STEP, STEP, STEP, 5]
    members = gzip.compress(b'<urlset><url><loc>http://h/a</loc></url>') + gzip.compress(b"<url><loc>http://h/b</loc></url></urlset>")
    assert sitemap_locations(members) == (False, ["http://h/a", "http://h/b"])
    broken = gzip.compress(b'<urlset><url><loc>http://h/a</loc></url>') + b"\x1f\x8b\x08\x00garbage-not-deflate"
    assert sitemap_locations(broken) == (False, ["http://h/a"])


def test_a_gzipped_sitemap_stops_at_50_mb_exactly_across_its_members():
    """The 50 MB are counted across gzip members and steps alike: a member that ends a byte
    short of them leaves one byte of the next to read, and then nothing more."""
    import gzip

    from loadtool.crawl.sitemaps import MAX_BYTES, _pieces

    members = gzip.compress(b" " * (MAX_BYTES - 1), 1) + gzip.compress(b"0123456789")
    total, last = 0, b""
    for piece in _pieces(members):
        total, last = total + len(piece), piece or last
    assert (total, last[-1:]) == (MAX_BYTES, b"0")


#: Parses a sitemap of 30,000 <url>s (3 MB) of dates and no <loc>, plain then gzipped, in a
#: process of its own (a heap another test grew would hide the growth), and prints the peak
#: resident memory each added, in MB.
_SITEMAP_MEMORY = """
import gzip, resource
import lxml.etree  # its import is not the parse
from loadtool.crawl import sitemap_locations
url = b"<url><lastmod>2024-01-01</lastmod><changefreq>daily</changefreq><priority>0.5</priority></url>"
body = b"<urlset>" + url * 30_000 + b"<url><loc>http://h/last</loc></url></urlset>"
packed = gzip.compress(body, 1)
for each in (body, packed):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert sitemap_locations(each) == (False, ["http://h/last"])
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""


def test_a_sitemap_is_read_in_flat_memory_plain_or_gzipped():
    """A plain file is fed a step at a time, as a gzipped one is, and elements are dropped
    once read: fed whole, the parser held its whole tree and events (25 MB more for these
    3 MB, 500 MB for 30 MB of <url>s)."""
    out = subprocess.run([sys.executable, "-c", _SITEMAP_MEMORY], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert all(float(grown) < 12 for grown in out.stdout.split()), out.stdout


def test_a_sitemap_keeps_no_element_it_has_read(monkeypatch):
    """What the parser's tree holds once a sitemap is read, plain and gzipped, a <urlset>
    and a <sitemapindex>: the last entry only, emptied — every one before it dropped."""
    import gzip

    import lxml.etree

    from loadtool.crawl import sitemap_locations

    made = []

    class Watched(lxml.etree.XMLPullParser):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(lxml.etree, "XMLPullParser", Watched)
    url = b"<url><lastmod>2024-01-01</lastmod><priority>0.5</priority></url>\n"
    urlset = b"<urlset>\n" + url * 2000 + b"<url><loc>http://h/a</loc></url></urlset>"
    index = b"<sitemapindex>\n" + b"<sitemap><loc>http://h/s.xml</loc></sitemap>\n" * 2000 + b"</sitemapindex>"
    # The last entry begins in one step and ends in the next: what came after its start is dropped too.
    spanning = b"<urlset>\n" + url * 2000 + b"<url><loc>http://h/a</loc>" + b"<lastmod>2024</lastmod>" * 20_000 + b"</url></urlset>"
    for raw, body in ((urlset, urlset), (urlset, gzip.compress(urlset)), (index, index), (spanning, spanning)):
        sitemap_locations(body)
        root = made[-1].close()
        assert len(root) == 1 and len(root[0]) == 0 and not root[0].text, (len(root), body[:20])
        last = max(raw.rfind(b"<url>"), raw.rfind(b"<sitemap>"))
        assert root[0].sourceline == raw[:last].count(b"\n") + 1, body[:20]  # the last entry it holds


def test_a_sitemap_is_an_index_by_its_first_element_and_empty_locations_are_skipped():
    from loadtool.crawl import sitemap_locations

    assert sitemap_locations(b"<urlset><sitemapindex/><url><loc>http://h/a</loc></url></urlset>") == (False, ["http://h/a"])
    assert sitemap_locations(b"<sitemapindex><sitemap><loc> </loc></sitemap><sitemap><loc/></sitemap>"
                             b"<sitemap><loc>http://h/s.xml</loc></sitemap></sitemapindex>") == (True, ["http://h/s.xml"])
    cut = sitemap_locations(b"<urlset><url><loc>http://h/a</loc></url><url><loc>http://h/b")
    assert cut[1][0] == "http://h/a"
    # A broken tag is stepped over (what follows it still read); entities are never resolved.
    assert sitemap_locations(b"<urlset><url><loc>http://h/a</loc></url><url><loc>http://h/b</oops></url>"
                             b"<url><loc>http://h/c</loc></url></urlset>") == (False, ["http://h/a", "http://h/b", "http://h/c"])
    assert sitemap_locations(b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY e "http://evil/">]><urlset>'
                             b"<url><loc>&e;</loc></url><url><loc>http://h/a</loc></url></urlset>") == (False, ["http://h/a"])


def test_a_location_split_between_two_steps_is_read_whole():
    import gzip

    from loadtool.crawl import sitemap_locations
    from loadtool.crawl.sitemaps import STEP

    head = b"<urlset><!--"
    head += b" " * (STEP - 5 - len(head) - len(b"--><url><loc>")) + b"--><url><loc>"
    body = head + b"http://h/split-between-steps</loc></url></urlset>"
    assert sitemap_locations(body) == sitemap_locations(gzip.compress(body)) == (False, ["http://h/split-between-steps"])


@pytest.mark.alone
def test_processes_crawl_faster_than_one_loop_when_parsing_is_cpu_bound(loadtool_cli, server, tmp_path):
    """The seed's lesson on a crawl: with 20 ms of CPU a page, one event loop is bound by
    its core; processes parse on every core. Measured 1.5-1.6x here on 2 cores, the fixture
    server sharing them and the processes' start counted; the bar (1.15x) leaves room for a
    busy machine and still fails when the partitions do not parse in parallel (1.0x)."""
    if os.cpu_count() < 2:
        pytest.skip("needs two cores")
    parser = tmp_path / "heavy.py"
    parser.write_text("import time\n"
                      "def parse(url, status, headers, body):\n"
                      "    end = time.thread_time() + 0.020\n"
                      "    while time.thread_time() < end:\n"
                      "        pass\n")
    out = loadtool_cli("compare", "--crawl", "--server", server.base_url, "-n", "200", "-p", "2",
                       "--strategies", "async,processes", "--parse", f"{parser}:parse", "--format", "json")
    assert out.exit_code == 0, out.stderr
    rate = {run["strategy"]: run["ops"] / run["wall_s"] for run in out.json()}
    assert rate["processes"] >= 1.15 * rate["async"], rate


def test_the_hub_unpickles_nothing_from_a_connection_without_the_runs_token():
    from loadtool.crawl.hub import Hub
    from loadtool.crawl.wire import HELLO, send

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled')",))

    async def attempt(token: bytes) -> tuple[bool, Hub]:
        hub = Hub(1, [], None, sink=None, token=b"t" * 16)
        server = await asyncio.start_server(hub.connection, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
        writer.write(HELLO.pack(token, 0, os.getpid()))
        send(writer, (Boom(),))
        await writer.drain()
        closed = await reader.read() == b""  # the hub hung up, having read nothing but the hello
        writer.close()
        server.close()
        return closed, hub

    closed, hub = asyncio.run(attempt(b"x" * 16))
    assert closed and hub.writers == [None]
    with pytest.raises(SystemExit, match="unpickled"):  # the control: with the token, it is read
        asyncio.run(attempt(b"t" * 16))


def politeness(server, run: str) -> dict[str, dict]:
    """Per host, what the server saw of one run: pages, the most at once, the shortest gap."""
    with urllib.request.urlopen(f"{server.base_url}/web/politeness?run={run}", timeout=10) as answer:
        return json.loads(answer.read())


@pytest.mark.alone
@pytest.mark.parametrize("strategy", ["async", "threads", "processes"])
def test_per_host_limits_are_kept_as_the_server_sees_them(loadtool_cli, server, strategy):
    """--per-host 1 and --host-rate 20/s: the server never answers two pages of one host at
    once, and never sees two of a host's pages arrive less than ~50 ms apart."""
    run = uuid.uuid4().hex
    out = loadtool_cli("crawl", f"/web/0/page/0?hosts=8&pages=40&count=1&run={run}", "--server", server.base_url,
                       "-n", "60", "-s", strategy, "--per-host", "1", "--host-rate", "20/s", "--ignore-robots",
                       "--format", "json")
    assert out.exit_code == 0, out.stderr
    seen = politeness(server, run)
    assert sum(host["pages"] for host in seen.values()) == out.json()["ops"] == 60
    assert max(host["most_in_flight"] for host in seen.values()) == 1, seen
    paced = [host for host in seen.values() if host["pages"] >= 4]
    # Started 50 ms apart, they arrive 50 ms apart on average. Any two can arrive closer by the
    # difference of their sends' delays — a page sent late by a stalled loop, answered at once,
    # and the next one, due by then, sent on time arrive 0.5 ms apart (seen under CI load) — so
    # the pace is held on the mean. Ignoring --host-rate brings it to a page's latency or less.
    assert len(paced) >= 3 and all(host["mean_gap_ms"] >= 45 for host in paced), seen


@pytest.mark.alone
@pytest.mark.parametrize("strategy", ["async", "threads", "processes"])
def test_robots_crawl_delay_spaces_a_hosts_pages_as_the_server_sees_them(loadtool_cli, server, strategy):
    """Host 3's robots.txt asks for a Crawl-delay of 50 ms (no limit given on the command line):
    its pages reach the server at least ~50 ms apart, though a dozen are queued at once."""
    run = uuid.uuid4().hex
    out = loadtool_cli("crawl", f"/web/3/page/0?hosts=4&pages=12&count=1&run={run}", "--server", server.base_url,
                       "-n", "12", "-s", strategy, "--same-host", "--format", "json")
    assert out.exit_code == 0, out.stderr
    host = politeness(server, run)["3"]
    # (the pace held on the mean gap, as in the per-host test above)
    assert host["pages"] >= 8 and host["mean_gap_ms"] >= 45, host


def test_the_frontier_forgets_idle_hosts_past_its_limit_but_never_a_busy_or_waiting_one():
    async def crawl_many_hosts():
        frontier = Frontier(per_host=None, host_rate=None, hosts=100)
        frontier.put("http://busy.example/a", 0)
        busy = frontier.poll(0.0)  # in flight throughout
        frontier.put("http://waiting.example/a", 0)
        frontier.host("waiting.example").robots = asyncio.Event()  # its robots.txt being fetched
        frontier.put("http://slow.example/a", 0)
        frontier.slow_down("slow.example", 3600)  # its Crawl-delay: not over once it has been fetched
        frontier.done((await frontier.take())[2])
        for n in range(1000):
            frontier.put(f"http://h{n}.example/", 0)
            taken = await frontier.take()
            frontier.done(taken[2])
        return frontier, busy

    frontier, busy = asyncio.run(crawl_many_hosts())
    assert len(frontier.hosts) <= 110 and frontier.met == 1003 and frontier.forgotten >= 890
    assert {busy[2], "waiting.example", "slow.example"} <= set(frontier.hosts)
    frontier.close()


def test_compare_crawl_takes_a_local_cluster(loadtool_cli, server):
    pytest.importorskip("distributed")
    out = loadtool_cli("compare", "--crawl", "/web/0/page/0?hosts=4&pages=40", "--server", server.base_url, "-n", "30",
                       "--strategies", "async,cluster", "--local-cluster", "2", "--format", "json")
    assert out.exit_code == 0, out.stderr
    runs = out.json()
    assert [run["strategy"] for run in runs] == ["async", "cluster"] and all(run["ops"] == 30 for run in runs)


@pytest.mark.parametrize("strategy", ["async", "threads", "processes"])
def test_the_duration_ends_a_crawl_whose_page_never_ends(loadtool_cli, server, strategy):
    """-d is the whole crawl's deadline: a page that hangs is dropped after --grace and
    counted as abandoned, not waited for until --timeout (30 s)."""
    out = loadtool_cli("crawl", "/fault/hang", "/web/0/page/0?hosts=4&pages=40", "--server", server.base_url,
                       "-s", strategy, "-d", "1s", "--grace", "0.3s", "--format", "json")
    data = out.json()
    assert out.exit_code == 0 and data["interrupted"] is None, out.stderr
    assert data["abandoned"] >= 1 and data["ops"] > 0  # the hanging page at least
    assert data["wall_s"] < DEFAULT_TIMEOUT_S / 4  # ended by -d and --grace, not by the page's --timeout

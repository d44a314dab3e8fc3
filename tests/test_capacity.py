"""Sizing that holds on real sites: a site that saturates (``serve --capacity``), one that
rate-limits (``serve --rate-limit``), and a polite crawl — planned, run, and checked.

The fixture server here is one the plan is not told about: the pilot must find its capacity
by itself. Times are never asserted, only how a run compares with the plan's prediction
made from a pilot on the same machine (ratios, with the margins the issue sets)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from loadtool.plan import check, measured_from
from loadtool.server.args import Behaviour
from loadtool.server.run import FixtureServer

#: The saturating site: the uniform profile (50 ms a page) with 16 answered at once: 320 a second.
CAPACITY = 16


@pytest.fixture(scope="module")
def saturating():
    with FixtureServer(profile="uniform", behaviour=Behaviour(compress=False, capacity=CAPACITY)) as server:
        yield server


@pytest.fixture(scope="module")
def capacity_plan(saturating, tmp_path_factory):
    from click.testing import CliRunner

    from loadtool.cli import cli

    from conftest import gate

    path = tmp_path_factory.mktemp("plan") / "plan.json"
    with gate(alone=True):  # the pilot measures the client's CPU: no other test at the same time
        out = CliRunner().invoke(cli, ["plan", saturating.url("/page/{i}"), "--pages", "2000", "--pilot", "8s",
                                       "--no-compression", "--no-progress", "--format", "json", "-o", str(path)])
    assert out.exit_code == 0, out.output
    return json.loads(path.read_text())


def _option(plan: dict, strategy: str, engine: str) -> dict:
    return next(o for o in plan["options"] if (o["strategy"], o["engine"]) == (strategy, engine))


def test_the_pilot_finds_the_sites_capacity_and_caps_every_way_there(capacity_plan):
    capacity = capacity_plan["measured"]["capacity"]
    ideal = CAPACITY / 0.05
    assert capacity["per_s"] == pytest.approx(ideal, rel=0.25)
    assert capacity["in_flight"] == pytest.approx(CAPACITY, rel=0.3)
    assert "more connections only queue" in capacity["reason"]
    for option in capacity_plan["options"]:
        assert option["throughput_per_s"] <= capacity["per_s"] * 1.001
    assert _option(capacity_plan, "async", "fast")["bound"] == "site"
    for engine in ("fast", "aiohttp"):  # a little past what the site serves at once, never far
        assert CAPACITY <= _option(capacity_plan, "async", engine)["concurrency"] <= 2 * CAPACITY
    assert any("Site capacity" in line for line in capacity_plan["assumptions"])


@pytest.mark.parametrize("strategy, engine", [("async", "fast"), ("async", "aiohttp"), ("threads", "requests")])
def test_a_run_at_the_plans_concurrency_lands_in_its_range(capacity_plan, saturating, loadtool_cli, strategy, engine):
    option = _option(capacity_plan, strategy, engine)
    out = loadtool_cli("fetch", saturating.url("/page/{i}"), "-s", strategy, "-e", engine, "-n", "2000",
                       "-c", str(option["concurrency"]), "--no-compression", "--format", "json")
    checked = check(measured_from(capacity_plan), out.json())
    assert checked.within_range and abs(checked.error) <= 0.15, (checked.predicted_s, checked.measured_s)


def _limits(server) -> dict:
    with urllib.request.urlopen(server.url("/web/limits"), timeout=10) as answer:
        return json.loads(answer.read())


@pytest.mark.parametrize("strategy", ["async", "processes"])
def test_a_crawl_asks_no_host_faster_than_its_limit_after_its_first_429(loadtool_cli, strategy):
    """Each host of the fixture web takes 5 pages a second; after its first 429 (and those of
    the pages already in flight then), the crawl waits as asked and paces the host, so the
    host never has to say it again; the report names the hosts and how long they waited."""
    with FixtureServer(behaviour=Behaviour(rate_limit=5)) as server:
        out = loadtool_cli("crawl", "--server", server.base_url, "-s", strategy, "-n", "150", "--format", "json")
        told = _limits(server)
    assert out.exit_code in (0, 1), out.stderr
    assert told, "the crawl never met the limit: the test tests nothing"
    late = {host: [s for s in seen["later_429_s"] if s > 0.5] for host, seen in told.items()}
    assert late == dict.fromkeys(told, [])
    crawl = out.json()["details"]["crawl"]
    assert set(crawl["hosts_limited"]) == {f"127.0.0.1:{server.base_url.rsplit(':', 1)[1]}/{host}" for host in told}
    # Retry-After: 1 — less where a Crawl-delay already held the host back — then a page a second.
    assert all(seen["waited_s"] > 0.5 and seen["gap_s"] >= 1 for seen in crawl["hosts_limited"].values())


def test_retry_after_makes_a_fetch_wait_as_the_site_asks(loadtool_cli):
    with FixtureServer(behaviour=Behaviour(rate_limit=40)) as server:
        blind = loadtool_cli("fetch", server.url("/page/{i}"), "-n", "200", "-c", "10", "--format", "json").json()
        polite = loadtool_cli("fetch", server.url("/page/{i}"), "-n", "200", "-c", "10", "--retry-after",
                              "--format", "json").json()
    assert blind["status"].get("429", 0) >= 100
    assert polite["status"].get("429", 0) <= blind["status"]["429"] / 4


@pytest.mark.alone
def test_a_polite_crawl_lands_within_15_percent_of_its_plan(loadtool_cli, tmp_path):
    with FixtureServer() as server:
        plan_path = tmp_path / "plan.json"
        planned = loadtool_cli("plan", "--crawl", server.url("/web/0/page/0"), "--per-host", "2", "--pages", "3000",
                               "--pilot", "4s", "--no-progress", "--format", "json", "-o", str(plan_path), "-q")
        assert planned.exit_code == 0, planned.stderr
        run = loadtool_cli("crawl", server.url("/web/0/page/0"), "-n", "3000", "--per-host", "2", "--format", "json")
    plan = json.loads(plan_path.read_text())
    assert plan["measured"]["crawl"]["politeness_used"] < 1
    checked = check(measured_from(plan), run.json())
    assert abs(checked.error) <= 0.15, (checked.predicted_s, checked.measured_s)


def test_over_https_the_plan_counts_a_handshake_per_host(loadtool_cli):
    """The pilot measures a TLS handshake (a leg with a new connection a request) and the plan
    adds each page's share of one: a crawl of 1,000 hosts over 2,000 pages pays half a
    handshake a page, a job on one host next to nothing."""
    from loadtool.plan import options
    from loadtool.strategies.sizing import Goal

    with FixtureServer(tls=True) as server:
        out = loadtool_cli("plan", server.url("/page/{i}"), "--cacert", server.cacert, "--pages", "2000",
                           "--hosts", "1000", "--pilot", "3s", "--no-progress", "--format", "json")
    assert out.exit_code == 0, out.stderr
    plan = out.json()
    tls = plan["measured"]["tls"]
    assert tls["cpu_s"] > 0 and tls["time_s"] > 0 and tls["connections"] > 0
    assert any(line.startswith("TLS:") and "1,000 over 2,000 pages: 0.5 a page" in line for line in plan["assumptions"])
    measured = measured_from(plan)
    one_host = options(measured, Goal(pages=2000, hosts=1, cores=2))
    many_hosts = options(measured, Goal(pages=2000, hosts=1000, cores=2))
    for few, many in zip(one_host, many_hosts):
        added = many.way.cpu_per_op_s - few.way.cpu_per_op_s
        assert added == pytest.approx(tls["cpu_s"] * (0.5 - 1 / 2000))

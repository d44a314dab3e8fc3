"""`loadtool fetch` with every strategy against the fixture server, as a user runs it."""

import json
from importlib import resources

import jsonschema
import pytest

from loadtool.server.profiles import page

STRATEGIES = ["sequential", "threads", "processes", "async"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_fetches_every_page_once(loadtool_cli, server, strategy):
    out = loadtool_cli("fetch", "/page/{i}", "--server", server.base_url, "--strategy", strategy,
                       "--count", "40", "--concurrency", "8", "--format", "json")
    assert out.exit_code == 0, out.stderr
    result = out.json()
    assert result["strategy"] == strategy
    assert result["ops"] == result["ok"] == 40
    assert result["status"] == {"200": 40}
    assert result["bytes_decoded"] == sum(page(0, index, "web").size_bytes for index in range(40))
    assert result["compressed"] == 40 and result["bytes"] < result["bytes_decoded"]  # gzipped, as asked
    assert result["errors"] == {}


def test_strategies_agree_on_what_they_measured(loadtool_cli, server):
    totals = set()
    for strategy in STRATEGIES:
        result = loadtool_cli("fetch", "/stream/3", "/bytes/100", "/status/404", "--server", server.base_url,
                              "-s", strategy, "-n", "30", "-c", "5", "--format", "json").json()
        totals.add((result["ops"], result["ok"], result["bytes"], json.dumps(result["status"])))
    assert len(totals) == 1
    ops, ok, _, status = totals.pop()
    assert (ops, ok, json.loads(status)) == (30, 20, {"200": 20, "404": 10})


def test_json_output_follows_the_published_schema(loadtool_cli, server):
    schema = json.loads(resources.files("loadtool").joinpath("schema.json").read_text())
    for strategy in STRATEGIES:
        result = loadtool_cli("fetch", "/delay/5", "--server", server.base_url, "-s", strategy,
                              "-n", "12", "-c", "4", "--format", "json").json()
        jsonschema.validate(result, schema)


def test_fixture_paths_report_the_ideal_time_and_efficiency(loadtool_cli, server):
    """The ideal is the fixture's own latency in waves of the concurrency: 20 × 50 ms take
    two waves at 10 in flight, twenty at 1; no real run beats it."""
    result = loadtool_cli("fetch", "/delay/50", "--server", server.base_url, "-n", "20", "-c", "10",
                          "--format", "json").json()
    assert result["ideal_s"] == pytest.approx(0.1)
    assert result["wall_s"] >= result["ideal_s"] and 0 < result["efficiency"] <= 1.0
    one = loadtool_cli("fetch", "/delay/50", "--server", server.base_url, "-n", "20", "-s", "sequential",
                       "--format", "json").json()
    assert one["ideal_s"] == pytest.approx(1.0) and one["wall_s"] >= 1.0


def test_with_no_url_it_starts_the_fixture_server_itself(loadtool_cli):
    out = loadtool_cli("fetch", "--count", "30", "--format", "json")
    assert out.exit_code == 0, out.stderr
    result = out.json()
    assert result["ok"] == 30
    assert result["job"]["targets"]["kind"] == "fixture"
    assert result["job"]["targets"]["base_url"].startswith("http://127.0.0.1:")


def test_the_table_report_names_the_numbers(loadtool_cli, server):
    out = loadtool_cli("fetch", "/delay/10", "--server", server.base_url, "-n", "20")
    assert out.exit_code == 0
    for label in ("wall time", "throughput", "p50", "p99", "p99.9", "max", "status", "failed", "200 ×20"):
        assert label in out.stdout


def test_urls_cycle_when_the_count_exceeds_the_list(loadtool_cli, server, tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text(f"# two URLs\n{server.url('/bytes/10')}\n\n{server.url('/bytes/20')}\n")
    result = loadtool_cli("fetch", "-f", str(urls), "-n", "7", "--format", "json").json()
    assert result["ops"] == 7 and result["bytes"] == 4 * 10 + 3 * 20


def test_urls_come_from_stdin(loadtool_cli, server):
    out = loadtool_cli("fetch", "-f", "-", "--format", "json", input=f"{server.url('/bytes/5')}\n" * 3)
    assert out.json()["ops"] == 3 and out.json()["bytes"] == 15


def test_a_url_list_is_fetched_once_by_default(loadtool_cli, server):
    urls = [server.url(f"/bytes/{n}") for n in (1, 2, 3)]
    assert loadtool_cli("fetch", *urls, "--format", "json").json()["ops"] == 3


def test_invalid_urls_in_a_list_are_counted_not_fatal(loadtool_cli, server, tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{server.url('/health')}\nnot-a-url\nftp://x/\n")
    out = loadtool_cli("fetch", "-f", str(urls), "--format", "json")
    assert out.exit_code == 0
    assert out.json()["errors"] == {"invalid_url": 2}


@pytest.mark.parametrize("strategy, engine", [("sequential", "requests"), ("threads", "requests"),
                                             ("processes", "requests"), ("async", "aiohttp"), ("async", "fast"),
                                             ("async", "curl"), ("hybrid", "fast")])
def test_method_headers_and_body_reach_the_server(loadtool_cli, server, tmp_path, strategy, engine):
    """-m, -H and --body @FILE as the server's /echo saw them, every strategy and engine: an
    answer that shows another method, a missing header or another body fails a check."""
    body = tmp_path / "body.json"
    body.write_text('{"x": 1}')
    out = loadtool_cli("fetch", "/echo", "--server", server.base_url, "-s", strategy, "-e", engine, "-m", "POST",
                       "-H", "X-Test: 1", "--body", f"@{body}", "-n", "3", "-c", "1", "--timeout", "5s", "--format", "json",
                       "--check", 'json .method == "POST"', "--check", 'json .headers.X-Test == "1"',
                       "--check", 'json .body == "{\\"x\\": 1}"', "--check", "json .body_bytes == 8")
    assert out.json()["checks"] == {name: {"passed": 3, "failed": 0} for name in out.json()["checks"]}
    assert len(out.json()["checks"]) == 4 and out.json()["ok"] == 3 and out.exit_code == 0


def test_output_file_gets_the_format_and_stdout_the_table(loadtool_cli, server, tmp_path):
    target = tmp_path / "result.json"
    out = loadtool_cli("fetch", "/health", "--server", server.base_url, "-n", "5", "--format", "json",
                       "-o", str(target))
    assert json.loads(target.read_text())["ops"] == 5
    assert "wall time" in out.stdout


def test_csv_has_a_header_and_a_row(loadtool_cli, server):
    lines = loadtool_cli("fetch", "/health", "--server", server.base_url, "-n", "5", "--format", "csv").stdout.splitlines()
    # concurrency is what ran: 5 operations cannot have 50 in flight.
    assert lines[0].startswith("strategy,concurrency,ops,ok") and lines[1].startswith("async,5,5,5")


@pytest.mark.parametrize("strategy, engine", [("threads", "requests"), ("async", "aiohttp"), ("async", "fast"),
                                             ("async", "curl")])
@pytest.mark.parametrize("body", [None, b"abc"], ids=["GET", "POST-with-a-body"])
def test_no_engine_invents_a_content_type(server, strategy, engine, body):
    """A request carries the Content-Type it was given and no other: aiohttp and libcurl would
    each invent one for a body (application/octet-stream, form-urlencoded). The aiohttp engine
    names the header to skip only when a body goes out (naming it takes aiohttp off its fast
    path for headers), so both ways are tried."""
    import loadtool

    def no_type(answer) -> bool:
        return "content-type" not in {name.lower() for name in json.loads(answer.body)["headers"]}

    result = loadtool.run(urls=[server.url("/echo")], count=2, strategy=strategy, engine=engine,
                          method="GET" if body is None else "POST", body=body, checks=[no_type])
    assert result.ok == 2, result.stats.first_error

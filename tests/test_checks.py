"""Checks: whether each answer was right, the same in every engine and strategy."""

from __future__ import annotations

import json

import pytest

import loadtool
from loadtool.engines.checks import Answer, Kept, headers_of, parse_check
from loadtool.errors import UsageError
from loadtool.metrics import Sample, Stats

PAGE = Answer(200, (("content-type", "application/json"), ("etag", '"v1"')),
              b'{"items": [{"id": 7}], "count": 3, "id=42": true}', 2048, 0.150)


@pytest.mark.parametrize("expression, passes", [
    ("status == 200", True), ("status != 200", False), ("status in 200-299,304", True), ("status in 300-399", False),
    ("status >= 500", False),
    ('body contains "items"', True), ("body contains zzz", False), ("body contains 'count\": 3'", True),
    (r'body ~ "id=\d+"', True), (r'body ~ "^\d"', False),
    ("header Content-Type ~ json", True), ("header content-type ~ '^text/'", False),
    ("header ETag exists", True), ("header Location exists", False),
    ("json .items[0].id exists", True), ("json .items[1].id exists", False), ("json .count == 3", True),
    ("json .count > 3", False), ('json .items[0] == {"id": 7}', True),
    ("size >= 2KiB", True), ("size < 1KiB", False), ("time < 200ms", True), ("time < 100ms", False),
])
def test_each_kind_of_expression(expression, passes):
    assert parse_check(expression).passes(PAGE) is passes


def test_a_body_that_is_not_json_fails_a_json_check_rather_than_crash():
    assert parse_check("json .count exists").passes(PAGE._replace(body=b"<html>")) is False


@pytest.mark.parametrize("expression", ["stat == 200", "body", "json items exists", 'body ~ "("', "size >= lots",
                                        "header", "time < soon"])
def test_a_bad_expression_is_a_usage_error(expression):
    with pytest.raises(UsageError, match="--check"):
        parse_check(expression)


def test_a_bad_expression_on_the_command_line_is_one_line_and_exit_2(loadtool_cli):
    out = loadtool_cli("fetch", "http://127.0.0.1:9/", "--check", "body has words")
    assert out.exit_code == 2
    assert out.stderr.count("\n") == 1 and "--check 'body has words'" in out.stderr and "Traceback" not in out.stderr


def test_what_is_kept_of_a_body_is_bounded():
    kept = Kept(10)
    for chunk in (b"0123456", b"789abcdef", b"more"):
        kept(chunk)
    assert kept.take() == b"0123456789" and kept.take() == b""


def test_the_headers_are_the_last_answers_after_redirects_and_interim_answers():
    lines = [b"HTTP/1.1 100 Continue\r\n", b"\r\n", b"HTTP/1.1 302 Found\r\n", b"Location: /x\r\n", b"\r\n",
             b"HTTP/1.1 200 OK\r\n", b"Content-Type: text/plain\r\n", b"X-Odd:  spaced \r\n", b"\r\n"]
    assert headers_of(lines) == (("content-type", "text/plain"), ("x-odd", "spaced"))


def test_check_counts_merge_and_travel_between_processes():
    one, two = Stats(), Stats()
    one.add(Sample(latency_us=5, ok=True, status=200, checks=(True, False)))
    two.add(Sample(latency_us=5, ok=True, status=200, checks=(True, True)))
    two.add(Sample(latency_us=5, ok=False, error="reset"))  # no answer: no check ran
    one.merge(Stats.from_wire(two.to_wire()))
    assert one.checks == [[2, 0], [1, 1]]


STRATEGIES = [("sequential", None), ("threads", None), ("processes", None), ("async", "aiohttp"),
              ("async", "fast"), ("async", "curl"), ("hybrid", "fast")]


@pytest.mark.parametrize("strategy, engine", STRATEGIES, ids=[f"{s}-{e or 'requests'}" for s, e in STRATEGIES])
def test_every_engine_and_strategy_gives_checks_the_same_answer(server, strategy, engine):
    checks = ["status == 200", 'body contains "<html"', "header Content-Type ~ html", "size > 100",
              "header Location exists", 'body ~ "zzz"']
    options = {"engine": engine} if engine else {}
    result = loadtool.run(urls=["/page/{i}"], server=server.base_url, count=24, concurrency=4, strategy=strategy,
                          checks=checks, **options)
    assert result.checks == {
        "status == 200": {"passed": 24, "failed": 0}, 'body contains "<html"': {"passed": 24, "failed": 0},
        "header Content-Type ~ html": {"passed": 24, "failed": 0}, "size > 100": {"passed": 24, "failed": 0},
        "header Location exists": {"passed": 0, "failed": 24}, 'body ~ "zzz"': {"passed": 0, "failed": 24},
    }
    assert dict(result.stats.errors) == {"check_failed": 24} and dict(result.stats.status) == {200: 24}


@pytest.mark.parametrize("engine", ["aiohttp", "fast", "curl"])
def test_checks_read_the_final_answer_of_a_redirect(server, engine):
    result = loadtool.run(urls=["/redirect/2"], server=server.base_url, count=4, engine=engine,
                          checks=["header Location exists", 'body contains "redirects done"'])
    assert result.checks == {"header Location exists": {"passed": 0, "failed": 4},
                             'body contains "redirects done"': {"passed": 4, "failed": 0}}


@pytest.mark.parametrize("strategy, engine", [("threads", None), ("async", "aiohttp"), ("async", "fast"),
                                              ("async", "curl")], ids=["requests", "aiohttp", "fast", "curl"])
def test_body_checks_read_only_the_check_body_prefix_while_size_sees_the_whole(server, strategy, engine):
    options = {"engine": engine} if engine else {}
    result = loadtool.run(urls=["/bytes/100000"], server=server.base_url, count=3, strategy=strategy, check_body=16,
                          **options,
                          checks=["size == 100000", r'body ~ "^[\s\S]{16}\Z"'])
    assert result.checks == {"size == 100000": {"passed": 3, "failed": 0},
                             r'body ~ "^[\s\S]{16}\Z"': {"passed": 3, "failed": 0}}


def test_a_check_that_fails_everywhere_fails_every_operation_and_exits_3(loadtool_cli, server):
    out = loadtool_cli("fetch", "/page/{i}", "--server", server.base_url, "-n", "30", "--check", 'body contains "zzz"',
                       "--format", "json")
    data = json.loads(out.stdout)
    assert out.exit_code == 3
    assert data["errors"] == {"check_failed": 30} and data["ok"] == 0
    assert data["checks"] == {'body contains "zzz"': {"passed": 0, "failed": 30}}
    assert data["job"]["checks"] == ['body contains "zzz"']


def test_the_text_report_gives_each_checks_pass_rate_and_the_body_prefix(loadtool_cli, server):
    out = loadtool_cli("fetch", "/status/200", "--server", server.base_url, "-n", "4", "--check", "status == 200",
                       "--check", 'body contains "status"')
    lines = out.stdout.splitlines()
    start = next(number for number, line in enumerate(lines) if line.startswith("checks"))
    assert lines[start].split() == ["checks", "100.0%", "status", "==", "200"]
    assert lines[start + 1].split() == ["100.0%", "body", "contains", '"status"']
    assert "bodies read to their first 64" in lines[start + 2]


def test_fail_if_checks_is_the_share_of_checks_passed(loadtool_cli, server):
    args = ("fetch", "/page/{i}", "--server", server.base_url, "-n", "10", "--check", "status == 200",
            "--check", "body contains zzz")
    failing = loadtool_cli(*args, "--fail-if", "checks<99.9%")
    assert failing.exit_code in (1, 3) and "checks was 50.00%" in failing.stderr
    assert loadtool_cli(*args, "--fail-if", "checks<50%").exit_code == 3  # every op failed a check, still
    passing = loadtool_cli("fetch", "/page/{i}", "--server", server.base_url, "-n", "10", "--check", "status == 200",
                           "--fail-if", "checks<99.9%")
    assert passing.exit_code == 0


def test_the_library_takes_python_callables(server):
    def has_html(answer: Answer) -> bool:
        return answer.header("content-type").startswith("text/html") and b"<html" in answer.body

    result = loadtool.run(urls=["/page/{i}"], server=server.base_url, count=5, checks=[has_html])
    assert result.checks == {"has_html": {"passed": 5, "failed": 0}} and result.checks_passed == 1.0


def test_a_callable_that_cannot_reach_other_processes_is_refused_before_the_run(server):
    with pytest.raises(UsageError, match="top level of a module"):
        loadtool.run(urls=["/page/{i}"], server=server.base_url, count=5, strategy="processes",
                     checks=[lambda answer: True])

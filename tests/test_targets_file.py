"""Request files (--targets): vegeta's http and JSON formats, the same requests from every engine."""

from __future__ import annotations

import base64
import json
import math

import pytest

import loadtool
from loadtool.errors import UsageError
from loadtool.targets import CHECKPOINT_EVERY, Request
from loadtool.targets.request_file import BODY_CACHE, TargetsFile, _Bodies


def _vegeta_file(tmp_path, base_url: str):
    (tmp_path / "item.json").write_bytes(b'{"name": "new"}')
    path = tmp_path / "targets.http"
    path.write_text(f"""# GET with headers of its own, a POST with a body file, a HEAD, a 404
GET {base_url}/echo?page={{i}}
X-Account: 42
X-Account: 43

POST {base_url}/echo
Content-Type: application/json
@item.json

HEAD {base_url}/bytes/100
GET {base_url}/status/404
""")
    return str(path)


#: What every engine must have sent, as the server's /echo saw it.
CHECKS = ["status in 200-299,404", 'body ~ "\\"X-Account\\": \\"42, 43\\""', 'body ~ "\\"method\\": \\"POST\\""',
          'body ~ "\\"body_bytes\\": 15"', 'body ~ "Content-Type\\": \\"application/json"']
STRATEGIES = [("sequential", None), ("threads", None), ("processes", None), ("async", "aiohttp"),
              ("async", "fast"), ("async", "curl"), ("hybrid", "fast")]


@pytest.mark.parametrize("strategy, engine", STRATEGIES, ids=[f"{s}-{e or 'requests'}" for s, e in STRATEGIES])
def test_a_vegeta_file_runs_the_same_in_every_strategy(server, tmp_path, strategy, engine):
    options = {"engine": engine} if engine else {}
    result = loadtool.run(targets_file=_vegeta_file(tmp_path, server.base_url), count=40, concurrency=4,
                          strategy=strategy, ok_status="200-299,404", checks=CHECKS, **options)
    assert dict(result.stats.status) == {200: 30, 404: 10}
    assert result.checks == {
        CHECKS[0]: {"passed": 40, "failed": 0},
        CHECKS[1]: {"passed": 10, "failed": 30},  # the GET's own headers, a name given twice
        CHECKS[2]: {"passed": 10, "failed": 30},  # the POST ...
        CHECKS[3]: {"passed": 10, "failed": 30},  # ... with its body file ...
        CHECKS[4]: {"passed": 10, "failed": 30},  # ... and its Content-Type
    }


def test_the_json_format_and_the_jobs_own_headers_and_body(server, tmp_path):
    lines = [{"method": "PUT", "url": f"{server.base_url}/echo", "header": {"X-Own": ["yes"]},
              "body": base64.b64encode(b"hello").decode()},
             {"url": f"{server.base_url}/echo?n={{i}}"}]
    path = tmp_path / "targets.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    seen = []

    def keep(answer) -> bool:
        seen.append(json.loads(answer.body))
        return True

    result = loadtool.run(targets_file=str(path), targets_format="json", count=4, concurrency=1, engine="fast",
                          headers=["X-Job: j"], body="default", checks=[keep])
    assert result.ok == 4
    put, get = seen[0], seen[1]
    assert (put["method"], put["body"], put["headers"]["X-Own"], put["headers"]["X-Job"]) == ("PUT", "hello", "yes", "j")
    # The job's --body stands in where a request has none; {i} is the operation's index.
    assert (get["method"], get["path"], get["body"]) == ("GET", "/echo?n=1", "default")


@pytest.mark.parametrize("text, fmt, problem", [
    ("GET http://127.0.0.1:9/\nX-Ok: 1\nnot a header\n", "http", "line 3: not a header line"),
    ("GET http://127.0.0.1:9/\n\nFETCH\n", "http", "line 3: expected a request line"),
    ("# c\nPOST http://127.0.0.1:9/\n@missing.json\n", "http", "line 3: body file"),
    ("GET ftp://127.0.0.1:9/\n", "http", "line 1: bad URL"),
    ('{"url": "http://127.0.0.1:9/"}\n{"url": 5}\n', "json", "line 2: expected an object"),
    ('{"url": "http://127.0.0.1:9/"\n', "json", "line 1: not JSON"),
    ('{"url": "http://127.0.0.1:9/", "body": "!!"}\n', "json", "line 1: \"body\" must be base64"),
    ("\n# only comments\n", "http", "no requests"),
])
def test_a_malformed_request_is_a_usage_error_naming_its_line(tmp_path, text, fmt, problem):
    path = tmp_path / "targets"
    path.write_text(text)
    with pytest.raises(UsageError, match=problem):
        TargetsFile.open(str(path), fmt)


def test_on_the_command_line_a_bad_file_is_one_line_and_exit_2(loadtool_cli, tmp_path):
    path = tmp_path / "targets.http"
    path.write_text("GET http://127.0.0.1:9/\nbroken header\n")
    out = loadtool_cli("fetch", "--targets", str(path))
    assert out.exit_code == 2 and out.stderr.count("\n") == 1 and "line 2" in out.stderr
    assert loadtool_cli("fetch", "http://127.0.0.1:9/", "--targets", str(path)).exit_code == 2
    assert "no such file" in loadtool_cli("fetch", "--targets", str(tmp_path / "nope")).stderr.lower()


def test_targets_are_read_lazily_and_addressed_by_index(tmp_path):
    count = 3 * CHECKPOINT_EVERY + 5
    path = tmp_path / "many.http"
    path.write_text("".join(f"GET http://127.0.0.1:9/{n}\nX-N: {n}\n\n" for n in range(count)))
    targets = TargetsFile.open(str(path))
    assert targets.count == count and len(targets.offsets) == math.ceil(count / CHECKPOINT_EVERY)
    # Operation k is request k % count, wherever a process starts reading.
    picked = list(targets.iter_from(2 * CHECKPOINT_EVERY + 1, 2 * CHECKPOINT_EVERY + 3))
    assert picked == [(2 * CHECKPOINT_EVERY + n, Request("GET", f"http://127.0.0.1:9/{2 * CHECKPOINT_EVERY + n}",
                                                         (("X-N", str(2 * CHECKPOINT_EVERY + n)),)))
                      for n in (1, 2)]
    wrapped = next(targets.iter_from(count + 7, None))
    assert wrapped[1].url == "http://127.0.0.1:9/7"


def test_standard_input_works(loadtool_cli, server):
    out = loadtool_cli("fetch", "--targets", "-", "-n", "3", "--format", "json",
                       input=f"GET {server.base_url}/status/201\n")
    data = json.loads(out.stdout)
    assert data["status"] == {"201": 3} and data["job"]["targets"]["kind"] == "targets_file"


def test_body_files_are_kept_a_few_at_a_time(tmp_path):
    for n in range(BODY_CACHE + 5):
        (tmp_path / f"b{n}").write_bytes(str(n).encode())
    bodies = _Bodies(str(tmp_path))
    assert [bodies.get(f"b{n}") for n in range(BODY_CACHE + 5)] == [str(n).encode() for n in range(BODY_CACHE + 5)]
    assert len(bodies._kept) == BODY_CACHE

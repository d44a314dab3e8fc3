"""CI features from the command line: the schema, JUnit XML, baselines."""

import json
import xml.etree.ElementTree as ElementTree
from importlib import resources

import jsonschema
import pytest


def test_schema_prints_the_shipped_schema(loadtool_cli):
    out = loadtool_cli("schema")
    shipped = json.loads(resources.files("loadtool").joinpath("schema.json").read_text())
    assert json.loads(out.stdout) == shipped
    jsonschema.Draft202012Validator.check_schema(shipped)


def test_every_output_validates_against_the_schema(loadtool_cli, server, tmp_path):
    schema = json.loads(loadtool_cli("schema").stdout)
    compared = loadtool_cli("compare", "/health", "--server", server.base_url, "-n", "5", "--format", "json").json()
    swept = loadtool_cli("sweep", "/health", "--server", server.base_url, "-c", "1,2", "-n", "5",
                         "--format", "json").json()
    (tmp_path / "f.bin").write_bytes(b"x" * 10)
    read = loadtool_cli("read", str(tmp_path), "--format", "json").json()
    for result in (*compared, *swept["levels"], read):
        jsonschema.validate(result, schema)


def _baseline(loadtool_cli, server, tmp_path, *args):
    path = tmp_path / "baseline.json"
    loadtool_cli("fetch", "/delay/20", "--server", server.base_url, "-n", "50", "-c", "25", *args,
                 "--format", "json", "-o", str(path), "-q")
    return str(path)


def test_a_relative_threshold_compares_with_the_baseline(loadtool_cli, server, tmp_path):
    baseline = _baseline(loadtool_cli, server, tmp_path)
    slower = loadtool_cli("fetch", "/delay/20", "--server", server.base_url, "-n", "50", "-c", "5",
                          "--baseline", baseline, "--fail-if", "rps<-20%", "--fail-if", "p99>+300%", "-q")
    assert slower.exit_code == 1
    lines = [line for line in slower.stderr.splitlines() if "threshold failed" in line]
    assert len(lines) == 1 and "rps<-20%" in lines[0] and "of the baseline's" in lines[0]


def test_an_unchanged_run_passes_its_regression_gate(loadtool_cli, server, tmp_path):
    baseline = _baseline(loadtool_cli, server, tmp_path)
    same = loadtool_cli("fetch", "/delay/20", "--server", server.base_url, "-n", "50", "-c", "25",
                        "--baseline", baseline, "--fail-if", "p99>+400%", "--fail-if", "errors>+0%", "-q")
    assert same.exit_code == 0, same.stderr


@pytest.mark.parametrize("args, says", [
    (["--fail-if", "p99>+10%"], "--baseline"),
    (["--baseline", "/no/such.json"], "cannot read"),
])
def test_baseline_mistakes_are_usage_errors(loadtool_cli, args, says):
    out = loadtool_cli("fetch", *args)
    assert out.exit_code == 2 and says in out.stderr


def test_a_baseline_that_is_not_a_result_is_refused(loadtool_cli, tmp_path):
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    out = loadtool_cli("fetch", "--baseline", str(other))
    assert out.exit_code == 2 and "not a loadtool JSON result" in out.stderr


def test_junit_has_a_testcase_per_threshold_per_strategy(loadtool_cli, server, tmp_path):
    junit = tmp_path / "loadtool.xml"
    out = loadtool_cli("compare", "/delay/10", "--server", server.base_url, "-n", "10", "--strategies",
                       "sequential,async", "--fail-if", "p99>1ms", "--fail-if", "errors>1%", "--junit", str(junit))
    assert out.exit_code == 1
    suite = ElementTree.parse(junit).getroot()
    cases = suite.findall("testcase")
    assert suite.get("tests") == "4" and suite.get("failures") == "2"
    assert [(case.get("classname"), case.get("name")) for case in cases] == [
        ("loadtool.fetch.sequential", "p99>1ms"), ("loadtool.fetch.sequential", "errors>1%"),
        ("loadtool.fetch.async", "p99>1ms"), ("loadtool.fetch.async", "errors>1%")]
    failed = [case for case in cases if case.find("failure") is not None]
    assert all("p99 was" in case.find("failure").get("message") for case in failed)
    assert "wall" in suite.find("system-out").text


def test_junit_without_thresholds_says_whether_the_run_worked(loadtool_cli, tmp_path):
    junit = tmp_path / "loadtool.xml"
    loadtool_cli("fetch", "http://127.0.0.1:1/", "-n", "2", "--junit", str(junit), "-q")
    case = ElementTree.parse(junit).getroot().find("testcase")
    assert case.get("name") == "run did its work" and "every operation failed" in case.find("failure").get("message")

"""The pytest plugin, used the way a user uses it: pytester runs a fresh suite with no conftest."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    marker = text.index("<!-- readme-example: pytest -->")
    return re.search(r"```python\n(.*?)```", text[marker:], re.S).group(1)


def test_the_readme_example_runs_and_passes(pytester):
    pytester.makepyfile(test_service_load=_readme_example())
    outcome = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    outcome.assert_outcomes(passed=2)


def test_a_broken_limit_fails_with_a_readable_message(pytester):
    pytester.makepyfile("""
        def test_too_strict(loadtool_server, loadtool_run):
            result = loadtool_run(urls=[loadtool_server.url("/delay/30")], count=20, concurrency=10)
            result.assert_ok(p99="1ms")
    """)
    outcome = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    outcome.assert_outcomes(failed=1)
    output = outcome.stdout.str()
    assert re.search(r"loadtool: p99>1ms: p99 was \d+(\.\d+)?ms, limit 1ms", output)
    assert "wall time" in output and "latency" in output and "200 ×20" in output


def test_errors_fail_assert_ok_by_default(pytester):
    pytester.makepyfile("""
        def test_errors(loadtool_server, loadtool_run):
            result = loadtool_run(urls=[loadtool_server.url("/status/503")], count=5)
            result.assert_ok()
    """)
    outcome = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    outcome.assert_outcomes(failed=1)
    assert "failed>0%: failed was 100.00%" in outcome.stdout.str()


def test_scale_shrinks_every_load(pytester):
    pytester.makepyfile("""
        def test_scaled(loadtool_server, loadtool_run):
            result = loadtool_run(urls=[loadtool_server.url("/health")], count=200)
            assert result.ops == 20
            result = loadtool_run(urls=[loadtool_server.url("/health")], duration="2s", concurrency=2)
            assert result.job.duration_s == 0.2
    """)
    outcome = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--loadtool-scale=0.1")
    outcome.assert_outcomes(passed=1)


def test_the_plugin_shows_its_option_in_help(pytester):
    outcome = pytester.runpytest_subprocess("--help")
    assert "--loadtool-scale" in outcome.stdout.str()

"""The library API mirrors the CLI: loadtool.run, and loadtool.arun for async code."""

import pytest

import loadtool


def test_run_returns_a_result_with_the_numbers(server):
    result = loadtool.run(urls=["/delay/20"], server=server.base_url, count=30, concurrency=10)
    assert isinstance(result, loadtool.Result)
    assert result.ok == 30 and result.stats.status == {200: 30}
    assert result.latency_ms["p50"] >= 20
    # 30 waits of 20 ms, ten at a time: three rounds at least, and never more than 10/20ms.
    assert result.wall_s >= 3 * 0.020 and 0 < result.throughput_ops_s <= 10 / 0.020


def test_run_accepts_a_job():
    job = loadtool.Job.build(urls=["/bytes/8"], count=5, strategy="threads", concurrency=2)
    result = loadtool.run(job)
    assert result.strategy == "threads" and result.stats.bytes == 40


def test_bad_options_raise_a_usage_error_naming_the_keyword():
    with pytest.raises(ValueError, match="^count must be between 1 and"):
        loadtool.run(count=0)
    with pytest.raises(ValueError, match="^connect_timeout must be a duration above 0"):
        loadtool.run(connect_timeout=0)


async def test_run_inside_an_event_loop_names_arun():
    with pytest.raises(RuntimeError, match=r"await loadtool\.arun"):
        loadtool.run(count=1)


@pytest.mark.parametrize("strategy", ["async", "threads"])
async def test_arun_works_inside_a_running_loop(strategy):
    result = await loadtool.arun(urls=["/delay/10"], count=20, concurrency=10, strategy=strategy)
    assert result.ok == 20 and result.strategy == strategy


def test_the_fixture_server_is_a_context_manager():
    with loadtool.fixture_server(seed=1) as server:
        assert server.url("/health").startswith("http://127.0.0.1:")
        result = loadtool.run(urls=[server.url("/health")], count=3)
        pid = server.pid
    assert result.ok == 3
    assert server.pid is None and pid is not None


def test_help_imports_nothing_heavy():
    import subprocess
    import sys

    probe = ("import sys\nfrom loadtool.cli import cli\n"
             "for args in (['--help'], ['fetch', '--help'], ['compare', '--help']):\n"
             "    cli.main(args, standalone_mode=False)\n"
             "heavy = {'aiohttp', 'requests', 'rich', 'hdrh', 'asyncio', 'uvloop', 'matplotlib', 'ssl'}\n"
             "print(sorted(heavy & set(sys.modules)))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert run.stdout.strip().splitlines()[-1] == "[]"


def test_run_takes_every_option_a_job_knows_by_the_same_name():
    """loadtool.run's keywords and the options Job.build parses are one list, so a new option
    cannot reach one and not the other (Job.build also takes ready-made ``targets``)."""
    import inspect

    from loadtool.options import JOB_KEYWORDS
    from loadtool.runner import run

    # raw and progress say how the run is watched, as the command line's --raw and progress line.
    assert set(inspect.signature(run).parameters) - {"job", "raw", "progress"} == JOB_KEYWORDS - {"targets"}
